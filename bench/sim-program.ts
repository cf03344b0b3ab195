// The program of `npm run bench -- sim` (the figure): the relay with 67 PINGs 0.9 s
// apart, about 200 mesh events (PING, PONG, REPORT each) over 60 s of virtual time.
import { relayProgram } from '../examples/relay/program.ts';
import type { Program } from '../runtime/sim/program.ts';

export const program: Program = { ...relayProgram({ pings: 67, periodS: 0.9 }), name: 'relay-bench', timeoutMs: 120_000 };
export default program;
