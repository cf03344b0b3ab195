// The instance control protocol: what an instance program says on stdout and the commands it
// reads on stdin, as tagged unions. One line each:
//   stdout: "@@TAG {json}" (beside the chart's own snoop lines); TAG and its data: InstanceEmits
//   stdin:  one JSON command a line: InstanceCommand
// The scenario runner (ops/scenario/runner.ts) parses the one and writes the other; the
// programs in this folder (common.ts and the charts) do the reverse. A program of your own
// (runInstance) may emit tags of its own: they arrive as unknown data.
import type { KeyUsage, NetworkStats } from '../../runtime/index.ts';

/** A network whose keys an instance can rotate. */
export type KeyNetwork = 'mesh' | 'trace' | 'spy';

/** What the scale members report at the end (scale.ts "@@SCALE"). */
export interface MemberReport {
  index: number;
  sent: number;
  ring: number;
  ringSeqs: Array<[number, number]>;
  /** Seqs no broker confirmed (or not yet, at report time): missing ones are not confirmed losses. */
  unconfirmed?: Array<[number, number]>;
  received: number;
  got: Record<string, Array<[number, number]>>;
  latencies: number[];
  rssMb: number;
}

/** Each tag an instance emits, and its data. */
export interface InstanceEmits {
  /** The chart started: its name and the brokers it knows. */
  READY: { name: string; hosts: string[]; metricsPort?: number };
  /** At stop: the chart's network figures. */
  STATS: NetworkStats;
  /** A warning of the library (onWarning). */
  WARN: { message: string };
  /** The answer to a "keys" command: key fingerprints with their decryption counts, or what failed. */
  KEYS: { network: KeyNetwork; before?: KeyUsage[]; after?: KeyUsage[]; error?: string };
  /** chaos: an event sent (incarnation i, sequence s); scale: the totals once it stopped sending. */
  SENT: { i: number; s: number } | { sent: number; ring: number };
  /** chaos: a confirmed transmit (n events confirmed so far). */
  CONF: { i: number; s: number; n: number };
  /** chaos: a transmit with u of n events unconfirmed. */
  NCONF: { i: number; s: number; n: number; u: number };
  /** chaos: an event received from sender f (incarnation i, sequence s). */
  RCV: { f: string; i: number; s: number };
  /** chaos: it stopped sending after sequence s. */
  QUIET: { i: number; s: number };
  /** scale: every second, what it sent and received. */
  PROGRESS: { sent: number; received: number };
  /** scale: an event sent after the mark reached it (failed over). */
  RECOVERED: { at: number };
  /** scale: the final report. */
  SCALE: MemberReport;
  /** ring: a hop of the token. */
  HOP: { hop: number; from: string; at: number };
  /** peer: an event the chart got. */
  GOT: { signal: string; payload: unknown };
  /** archer: a state entered. */
  ENTER: { state: string; at: number; arrows: number; cause: string };
  /** archer: the other archers it knows. */
  OTHERS: { names: string[] };
}

export type InstanceTag = keyof InstanceEmits;

/** One parsed control line: a known tag with its data, or a tag of a program of your own. */
export type ControlLine = { [T in InstanceTag]: { tag: T; data: InstanceEmits[T] } }[InstanceTag] | { tag: string; data: unknown };

/** Whether a control line is of `tag` (its data then has the protocol's type, trusted as the program wrote it). */
export function isTag<T extends InstanceTag>(line: ControlLine, tag: T): line is { tag: T; data: InstanceEmits[T] } {
  return line.tag === tag;
}

/** The commands an instance takes on stdin. */
export type InstanceCommand =
  /** Start the scenario's work (send, fire, circle the token). */
  | { cmd: 'go' }
  /** chaos: stop sending. */
  | { cmd: 'quiet' }
  /** Stop: STATS, the spy file, a clean stop, exit 0. */
  | { cmd: 'stop' }
  /** Stop and leave: as stop, and the chart's queues are deleted (docs/stop-and-leave.md). */
  | { cmd: 'leave' }
  /** An event to the chart itself. */
  | { cmd: 'post'; signal: string; payload?: unknown }
  /** An event to the mesh. */
  | { cmd: 'transmit'; signal: string; payload?: unknown }
  /** A line on the snoop trace network. */
  | { cmd: 'scribble'; text: string }
  /** Replace a network's key list (without keys: only report their use); answered by KEYS. */
  | { cmd: 'keys'; network?: KeyNetwork; keys?: string[] }
  /** scale: events sent after `at` count as failed over. */
  | { cmd: 'mark'; payload: { at: number } }
  /** scale: send the final report (SCALE). */
  | { cmd: 'report' };

/** The control line prefix on stdout. */
export const CONTROL = '@@';

/** The line an instance writes for a tag and its data. */
export function controlLine(tag: string, data: unknown): string {
  return `${CONTROL}${tag} ${JSON.stringify(data)}\n`;
}

/** Parses a stdout line: a control line, or undefined (a snoop line, or a control line cut by a kill). */
export function parseControl(line: string): ControlLine | undefined {
  if (!line.startsWith(CONTROL)) return undefined;
  const sp = line.indexOf(' ');
  const tag = line.slice(CONTROL.length, sp < 0 ? undefined : sp);
  if (sp < 0) return { tag, data: {} };
  try {
    return { tag, data: JSON.parse(line.slice(sp + 1)) as unknown };
  } catch {
    return undefined;
  }
}

/** Parses a stdin line: a command, or an error message. */
export function parseCommand(line: string): InstanceCommand | { error: string } {
  let c: unknown;
  try {
    c = JSON.parse(line);
  } catch {
    return { error: `not a command: ${line}` };
  }
  if (typeof c !== 'object' || c === null) return { error: `not a command: ${line}` };
  const { cmd, signal } = c as { cmd?: unknown; signal?: unknown };
  if (typeof cmd !== 'string') return { error: `not a command (no "cmd"): ${line}` };
  if ((cmd === 'post' || cmd === 'transmit') && typeof signal !== 'string') return { error: `${cmd} needs a "signal": ${line}` };
  return c as InstanceCommand;
}
