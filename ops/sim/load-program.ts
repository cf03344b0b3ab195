// The program a simulation runs: a module path (exporting `program` or a default), or the
// bundled relay (examples/relay) when none is named.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { validateProgram, type Program } from '../../runtime/sim/program.ts';

export async function loadProgram(module?: string): Promise<Program> {
  if (!module) return (await import('../../examples/relay/program.ts')).program;
  const href = pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
  const mod = (await import(href)) as Record<string, unknown>;
  return validateProgram(mod.program ?? mod.default, module);
}
