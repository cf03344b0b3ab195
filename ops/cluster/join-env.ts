// `mirosnet cluster env`: the environment a program needs to join the running testbed, as
// shell lines to source (`eval "$(mirosnet cluster env)"`). Secrets never appear in it: the
// broker password is written to a 0600 file beside cluster.json and the lines read it when
// sourced; keys are named by their file paths.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterFile } from '../../runtime/lan/index.ts';
import { clientTlsFiles } from '../tls/client-settings.ts';

export const PASSWORD_FILE = 'rabbit-password';

/** A value quoted for the shell: single quotes, any inside escaped. */
export const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

/** The password file of the testbed in `dir`, (re)written 0600 when missing or stale; its path. */
export function ensurePasswordFile(dir: string, password: string): string {
  const file = join(dir, PASSWORD_FILE);
  if (!existsSync(file) || readFileSync(file, 'utf8') !== password) {
    writeFileSync(file, password, { mode: 0o600 });
    chmodSync(file, 0o600); // writeFileSync keeps the mode of a file that was there
  }
  return file;
}

/** One variable a joining program needs: its name, value and, for the shell form, a note. */
export interface JoinVar {
  name: string;
  value: string;
  note?: string;
}

/**
 * Hosts, topology, user, the password file, the port and, with TLS, the CA (and with mutual
 * TLS node 1's client certificate and key) by path.
 */
export function joinVars(file: ClusterFile, clusterFile: string, passwordFile: string): JoinVar[] {
  const first = file.nodes[0];
  const vars: JoinVar[] = [
    { name: 'MIROS_CLUSTER_FILE', value: clusterFile, note: 'the clusterFile option: the hosts, and the topology' },
    { name: 'MIROS_HOSTS', value: file.nodes.map((n) => n.host).join(','), note: 'the hosts option, comma-separated' },
    { name: 'MIROS_TOPOLOGY', value: file.topology },
    { name: 'RABBIT_USER', value: file.credentials.user },
    { name: 'RABBIT_PASSWORD_FILE', value: passwordFile, note: 'the password (0600); mirosnet snoop and watch read it' },
  ];
  if (first) vars.push({ name: 'RABBIT_PORT', value: String(first.amqpPort) });
  const tls = first ? clientTlsFiles(file, first.host) : undefined;
  if (tls) {
    vars.push({ name: 'RABBIT_TLS', value: 'on' }, { name: 'RABBIT_TLS_CA', value: tls.ca });
    if (tls.cert && tls.key) vars.push({ name: 'RABBIT_TLS_CERT', value: tls.cert, note: `the client certificate of ${first!.host}` }, { name: 'RABBIT_TLS_KEY', value: tls.key });
  }
  return vars;
}

/** The shell form: `export NAME='value'` lines, then RABBIT_PASSWORD read from its file when sourced. */
export function formatJoinEnv(file: ClusterFile, clusterFile: string, vars: JoinVar[]): string {
  const passwordFile = vars.find((v) => v.name === 'RABBIT_PASSWORD_FILE')!.value;
  const lines = [`# the ${file.backend} testbed of ${clusterFile} (${file.topology}, ${file.nodes.length} node${file.nodes.length === 1 ? '' : 's'}): eval "$(mirosnet cluster env)"`];
  for (const v of vars) lines.push(`export ${v.name}=${shellQuote(v.value)}${v.note ? `  # ${v.note}` : ''}`);
  // read when sourced: the secret is in the shell's environment, never in this text
  lines.push(`export RABBIT_PASSWORD="$(cat ${shellQuote(passwordFile)})"`);
  lines.push(`# MESH_ENCRYPTION_KEY is the charts' own: mirosnet keygen > mesh.key && export MESH_ENCRYPTION_KEY="$(cat mesh.key)"`);
  return lines.join('\n') + '\n';
}
