// The hosts file, the reference's `.miros_rabbitmq_hosts.json`: {"hosts": ["192.168.1.75", "host.example"]}
// (IPs or DNS names; no ports, no URLs).
import { LanFileError } from './errors.ts';
import { isObject, readJsonFile } from './json-file.ts';

export const DEFAULT_HOSTS_FILE = '.miros_rabbitmq_hosts.json';

/**
 * The hosts listed in `file`. A missing file gives [] when `optional`, else LanFileError;
 * a file that is not `{"hosts": [strings]}` always gives LanFileError naming what is wrong.
 */
export function readHostsFile(file: string, opts: { optional?: boolean } = {}): string[] {
  const data = readJsonFile(file, 'hosts file');
  if (data === undefined) {
    if (opts.optional) return [];
    throw new LanFileError(file, 'hosts file not found');
  }
  if (!isObject(data)) throw new LanFileError(file, 'hosts file must be a JSON object like {"hosts": ["192.168.1.75"]}');
  const hosts = data.hosts;
  if (!Array.isArray(hosts)) throw new LanFileError(file, 'hosts file has no "hosts" array (expected {"hosts": ["192.168.1.75"]})');
  return hosts.map((h, i) => {
    if (typeof h !== 'string' || h.trim() === '') {
      throw new LanFileError(file, `hosts[${i}] must be a non-empty string (an IP address or host name), got ${JSON.stringify(h)}`);
    }
    if (/[/@:]/.test(h)) throw new LanFileError(file, `hosts[${i}] must be a bare address or host name, not ${JSON.stringify(h)}`);
    return h.trim();
  });
}
