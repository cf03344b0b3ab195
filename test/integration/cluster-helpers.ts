// Shared by the cluster-*.test.ts files: isolated clusters that never touch the
// shared one in <repo>/.cluster (own dir, addresses, names, ports).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import type { ClusterOptions } from '../../ops/cluster/index.ts';

export function isolatedOptions(extra: ClusterOptions = {}): ClusterOptions {
  const lines: string[] = [];
  return {
    dir: mkdtempSync(join(tmpdir(), 'mirosnet-test-')),
    addressBase: '127.0.1.11',
    namePrefix: 't',
    distPortBase: 25780,
    epmdPort: 4371,
    log: (line) => lines.push(line),
    ...extra,
  };
}

/** Opens and closes an AMQP connection; resolves 'ok' or the error message. */
export async function amqpLogin(url: string): Promise<string> {
  try {
    const conn = await connect(url, { timeout: 5000 });
    await conn.close();
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  }
}

export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}
