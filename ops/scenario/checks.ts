// Check functions: each takes what the run collected and returns a CheckResult.
import { ANSI } from '../../runtime/net/snoop-format.ts';
import { check, type CheckResult } from './summary.ts';

export interface Hop {
  hop: number;
  at: number;
  from: string;
  /** The instance that reported the arrival. */
  by: string;
}

/** Every hop 1..total arrived exactly once, at member hop mod N, in order. */
export function ringHops(hops: Hop[], members: string[], total: number): CheckResult {
  const problems: string[] = [];
  const seen = new Map<number, Hop[]>();
  for (const h of hops) seen.set(h.hop, [...(seen.get(h.hop) ?? []), h]);
  for (let hop = 1; hop <= total; hop++) {
    const got = seen.get(hop) ?? [];
    const want = members[hop % members.length];
    if (got.length === 0) problems.push(`hop ${hop} never arrived (expected at ${want})`);
    else if (got.length > 1) problems.push(`hop ${hop} arrived ${got.length} times`);
    else if (got[0].by !== want) problems.push(`hop ${hop} arrived at ${got[0].by}, expected ${want}`);
  }
  for (const h of hops) if (h.hop < 1 || h.hop > total) problems.push(`unexpected hop ${h.hop} at ${h.by}`);
  const byTime = [...hops].sort((a, b) => a.at - b.at || a.hop - b.hop);
  for (let i = 1; i < byTime.length; i++) {
    if (byTime[i].hop < byTime[i - 1].hop) problems.push(`hop ${byTime[i].hop} arrived after hop ${byTime[i - 1].hop}`);
  }
  return check(`ring: ${total} hops over ${members.length} members, each once, in order`, problems);
}

/** `s` as a literal part of a RegExp. */
export const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** RegExp source of the bracketed timestamp of trace and scribble lines. */
export const TIMESTAMP = String.raw`\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\]`;

/** A trace line of `name` doing `transition` (e.g. "e->TOGGLE() idle->busy"), optionally coloured. */
export function traceLine(name: string, transition: string, color?: string): RegExp {
  const who = color ? `${esc(color)}${esc(name)}${esc(ANSI.reset)}` : esc(name);
  return new RegExp(`^ \\[\\+t\\] \\[[^\\]]+\\] \\[${who}\\] ${esc(transition)}$`);
}

/**
 * Every instance's state changes are in every instance's output: blue in its own,
 * purple in the others'; and plain in distributed.log.
 */
export function traceEverywhere(outputs: Map<string, string[]>, distributed: string[], transitions: string[]): CheckResult {
  const problems: string[] = [];
  const names = [...outputs.keys()];
  for (const [viewer, lines] of outputs) {
    for (const name of names) {
      const color = name === viewer ? ANSI.blue : ANSI.purple;
      for (const t of transitions) {
        const re = traceLine(name, t, color);
        if (!lines.some((l) => re.test(l))) problems.push(`${viewer} lacks "${t}" of ${name} in ${name === viewer ? 'blue' : 'purple'}`);
      }
    }
  }
  for (const name of names) {
    for (const t of transitions) {
      const re = traceLine(name, t);
      if (!distributed.some((l) => re.test(l))) problems.push(`distributed.log lacks "${t}" of ${name}`);
    }
  }
  return check(`trace: ${transitions.length} state changes of each of ${names.length} instances in every output`, problems);
}

/** `grep -F '[+s]' distributed | grep NAME` equals the local spy log, line for line. */
export function spyInvariant(name: string, distributed: string[], localSpy: string[]): CheckResult {
  const grepped = distributed.filter((l) => l.includes('[+s]') && l.includes(name));
  const problems: string[] = [];
  if (localSpy.length === 0) problems.push(`the local spy log of ${name} is empty`);
  const n = Math.max(grepped.length, localSpy.length);
  for (let i = 0; i < n && problems.length < 5; i++) {
    if (grepped[i] !== localSpy[i]) problems.push(`line ${i + 1}: distributed.log has ${JSON.stringify(grepped[i])}, local spy log ${JSON.stringify(localSpy[i])}`);
  }
  if (grepped.length !== localSpy.length) problems.push(`${grepped.length} lines in distributed.log, ${localSpy.length} in the local spy log`);
  return check(`spy: grep -F '[+s]' distributed.log | grep ${name} reproduces its local spy log (${localSpy.length} lines)`, problems);
}
