// The program a simulation runs: a module path (exporting `program` or a default; "path#name"
// picks the export `name`), or the bundled relay (examples/relay) when none is named.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { validateProgram, type Program } from '../../runtime/sim/program.ts';

export async function loadProgram(module?: string): Promise<Program> {
  if (!module) return (await import('../../examples/relay/program.ts')).program;
  const hash = module.lastIndexOf('#');
  const path = hash > 0 ? module.slice(0, hash) : module;
  const name = hash > 0 ? module.slice(hash + 1) : undefined;
  const href = pathToFileURL(isAbsolute(path) ? path : resolve(path)).href;
  const mod = (await import(href)) as Record<string, unknown>;
  if (name !== undefined && !(name in mod)) throw new Error(`${path} has no export ${JSON.stringify(name)} (its exports: ${Object.keys(mod).join(', ')})`);
  return validateProgram(name !== undefined ? mod[name] : (mod.program ?? mod.default), module);
}
