// What state.json and the dir say about a cluster: its stored settings and node names.
import { existsSync, readdirSync } from 'node:fs';
import type { StateFile } from './cluster-file.ts';
import { defaultDir } from './options.ts';
import type { ClusterFile, ResolvedOptions } from './types.ts';

export const SETTINGS = ['addressBase', 'namePrefix', 'distPortBase', 'epmdPort', 'nsPrefix'] as const;

/** ' --dir X' for hints, when X is not the default dir. */
export const dirArg = (dir: string) => (dir === defaultDir() ? '' : ` --dir ${dir}`);

export function stored(state: StateFile | undefined): Partial<ResolvedOptions> {
  return state ? { ...state.settings, backend: state.backend } : {};
}

export function settingsOf(o: ResolvedOptions): StateFile['settings'] {
  return { topology: o.topology, addressBase: o.addressBase, namePrefix: o.namePrefix, distPortBase: o.distPortBase, epmdPort: o.epmdPort, nsPrefix: o.nsPrefix, erlArgs: o.erlArgs, nodes: o.nodes, tls: o.tls, tlsMutual: o.tlsMutual, tlsDir: o.tlsDir, maxMessageSize: o.maxMessageSize };
}

export function indexOf(name: string, prefix: string): number | undefined {
  const m = new RegExp(`^${prefix}(\\d+)$`).exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Node names recorded in state.json or cluster.json, or with a directory in `dir`. */
export function knownNames(o: ResolvedOptions, state: StateFile | undefined, file: ClusterFile | undefined): string[] {
  const names = new Set<string>([...Object.keys(state?.nodes ?? {}), ...(file?.nodes.map((n) => n.name) ?? [])]);
  if (existsSync(o.dir)) {
    for (const entry of readdirSync(o.dir, { withFileTypes: true })) {
      if (entry.isDirectory() && indexOf(entry.name, o.namePrefix) !== undefined) names.add(entry.name);
    }
  }
  return [...names].filter((n) => indexOf(n, o.namePrefix) !== undefined).sort((a, b) => indexOf(a, o.namePrefix)! - indexOf(b, o.namePrefix)!);
}
