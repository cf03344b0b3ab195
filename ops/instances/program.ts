// A chart of a program (runtime/sim/program.ts) as a real instance: the module named by
// params.module (a compiled .js/.mjs path or file: URL, exporting `program` or a default)
// gives the ChartDef called cfg.name; the chart runs under runInstance with the def's routing
// keys, its reports become control lines "@@TAG {data}", and the protocol's "post"/"transmit"
// commands are the program's workload. The same module runs in simulation (simulate()).
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chartOf, validateProgram } from '../../runtime/sim/program.ts';
import { controlLine } from './protocol.ts';
import { param, readConfig, runInstance } from './common.ts';

/** Tags the instance protocol itself emits (runInstance): a program's reports must not use them. */
const PROTOCOL_TAGS = new Set(['READY', 'STATS', 'WARN', 'KEYS']);

const cfg = readConfig();
const modulePath = param(cfg, 'module', '');
if (!modulePath) throw new Error(`${cfg.name}: params.module must name the program module (a compiled .js file)`);
const exported = param(cfg, 'export', 'program');
const mod = (await import(isAbsolute(modulePath) ? pathToFileURL(modulePath).href : modulePath)) as Record<string, unknown>;
const program = validateProgram(mod[exported] ?? mod.default, modulePath);
const def = chartOf(program, cfg.name);
const initial = def.initial({
  name: def.name,
  report: (tag, data = {}) => {
    if (PROTOCOL_TAGS.has(tag)) throw new Error(`${def.name}: report tag ${tag} is the instance protocol's own: pick another`);
    process.stdout.write(controlLine(tag, data));
  },
  // the handler's CPU time: the thread does nothing else meanwhile (timers, socket reads and acks wait)
  work: (ms) => void (ms > 0 && Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)),
});

await runInstance({ ...cfg, tx: def.txRoutingKey, rx: def.rxRoutingKey }, initial);
