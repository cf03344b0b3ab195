// Where the mesh's CPU time goes: reads a V8 .cpuprofile (node --cpu-prof) and sums the
// samples by category. A sample counts for the category of the nearest frame on its stack
// that belongs to one (the leaf's own first, then its callers), so time spent in node:crypto
// under fernet.ts is Fernet's and JSON.stringify under envelope.ts is JSON's.
//   npm run bench:profile            (profiles the persistent mesh run, then prints this)
//   tsx bench/profile-summary.ts FILE.cpuprofile [--json]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The categories of the list, in its order, then the rest. */
export const CATEGORIES = [
  'Fernet',
  'JSON (envelope encode/decode, checks)',
  "the chart's dispatch",
  'snoop lines',
  'dedup',
  'acks',
  'confirms',
  'the outbox',
  'networked layer (transmit, receive)',
  'amqplib (frames, channels)',
  'node (sockets, timers, other)',
  'garbage collector',
  'idle',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** The category a frame itself belongs to, or undefined (then its caller's decides). */
function own(frame: ProfileNode['callFrame']): Category | undefined {
  const { url, functionName: fn } = frame;
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(idle)') return 'idle';
  if (/runtime\/net\/fernet\.[jt]s|runtime\/net\/key-ring\.[jt]s/.test(url)) return 'Fernet';
  if (/runtime\/net\/envelope\.[jt]s/.test(url)) return 'JSON (envelope encode/decode, checks)';
  if (/runtime\/hsm\//.test(url)) return "the chart's dispatch";
  if (/runtime\/net\/snoop-/.test(url)) return 'snoop lines';
  if (/runtime\/net\/seen-window\.[jt]s/.test(url)) return 'dedup';
  if (/runtime\/net\/ack-tracker\.[jt]s/.test(url)) return 'acks';
  if (/runtime\/net\/transmission\.[jt]s/.test(url)) return 'confirms';
  if (/runtime\/net\/outbox\.[jt]s/.test(url)) return 'the outbox';
  if (/runtime\/net\//.test(url)) return 'networked layer (transmit, receive)';
  if (/node_modules\/amqplib\//.test(url)) {
    if (/confirm/i.test(fn)) return 'confirms';
    if (/^(ack|sendAck)$/i.test(fn)) return 'acks';
    return 'amqplib (frames, channels)';
  }
  return undefined;
}

export interface ProfileSummary {
  totalMs: number;
  byCategory: Record<Category, number>;
}

export function summarise(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const category = new Map<number, Category>();
  // parents before children: the root first, each node's category is its own or its parent's
  const walk = (id: number, inherited: Category) => {
    const node = byId.get(id)!;
    const c = own(node.callFrame) ?? inherited;
    category.set(id, c);
    for (const child of node.children ?? []) walk(child, c);
  };
  walk(profile.nodes[0].id, 'node (sockets, timers, other)');
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000; // the time until the next sample
    byCategory[category.get(profile.samples[i]) ?? 'node (sockets, timers, other)'] += ms;
    total += ms;
  }
  return { totalMs: total, byCategory };
}

export function formatSummary(s: ProfileSummary): string {
  const busy = s.totalMs - s.byCategory.idle;
  const lines = [`CPU profile: ${(s.totalMs / 1000).toFixed(2)} s sampled, ${(busy / 1000).toFixed(2)} s busy`];
  for (const c of CATEGORIES) {
    const ms = s.byCategory[c];
    const share = c === 'idle' ? '' : `${((100 * ms) / busy).toFixed(1).padStart(5)} % of busy`;
    lines.push(`  ${c.padEnd(40)} ${ms.toFixed(0).padStart(7)} ms  ${share}`);
  }
  return lines.join('\n');
}

/** The newest .cpuprofile in `dir`. */
export function newestProfile(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}: run npm run bench:profile`);
  return files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = process.argv.slice(2).find((a) => !a.startsWith('--'));
  const file = arg && arg.endsWith('.cpuprofile') ? arg : newestProfile(arg ?? 'bench/profiles');
  const summary = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  console.log(process.argv.includes('--json') ? JSON.stringify({ file, ...summary }, null, 2) : `${file}\n${formatSummary(summary)}`);
}
