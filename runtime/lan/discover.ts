// Host discovery, combining the sources in DESIGN's order of trust:
//   1. the explicit host list (option `hosts`),
//   2. the hosts file,
//   3. the local testbed's cluster file,
//   4. the ARP table, each candidate AMQP-probed with our credentials (only those that log in are kept),
//      memoised in the cache file: a fresh cache stands in for the scan, a scan rewrites the cache.
// Listed hosts (1–3) are trusted as given and not probed: a host that is down now is picked up
// when it comes back. Host names are kept as names (not resolved).
import { realEnvironment, type Environment } from '../env/environment.ts';
import { thisAddress as findThisAddress, localAddresses } from './address.ts';
import { arpCandidates, DEFAULT_ARP_PATH, readArpTable } from './arp.ts';
import { readCacheFile, writeCacheFile } from './cache-file.ts';
import { readClusterHosts } from './cluster-file.ts';
import { readHostsFile } from './hosts-file.ts';
import { isPrivateIPv4, unique } from './ip.ts';
import { probeAmqp, type ProbeOptions, type ProbeResult } from './probe.ts';

export interface DiscoverOptions {
  /** This host's address; default: found by `thisAddress()` from the listed hosts. */
  thisAddress?: string;
  hosts?: string[];
  hostsFile?: string;
  /** False (default): a missing hostsFile counts as an empty list. True: a missing file is an error. */
  hostsFileRequired?: boolean;
  clusterFile?: string;
  /** Scan the ARP table and probe its entries (default false). */
  arp?: boolean;
  arpPath?: string;
  /** Which ARP addresses are candidates (default: RFC 1918 private ranges). */
  arpAccept?: (ip: string) => boolean;
  /**
   * The ARP probe logs in to every neighbour listening on the AMQP port: without TLS (probe.tls,
   * the broker's certificate verified) that hands the password in cleartext to whoever answers,
   * so it is done only with this set. Otherwise the ARP source is skipped, with a warning.
   */
  arpSendsPasswordInCleartext?: boolean;
  /** Credentials, port and timeout for the AMQP probe (required when arp is on). */
  probe?: ProbeOptions;
  /** At most this many probes at once (default 16). */
  probeConcurrency?: number;
  /** Replaces probeAmqp (tests). */
  probeFn?: (host: string, opts: ProbeOptions) => Promise<ProbeResult>;
  /** The ARP scan's cache; only used when arp is on. */
  cacheFile?: string;
  cacheMaxAgeMinutes?: number;
  /** Scan even if the cache is fresh. */
  refresh?: boolean;
  now?: () => number;
  /** the clock, timers, randomness and transport (default: the real ones) */
  environment?: Environment;
}

export interface Discovery {
  thisAddress: string;
  /** Every broker host, this host's first. */
  addresses: string[];
  /** `addresses` without this host's. */
  otherAddresses: string[];
  /** What each source consulted contributed: hosts, hostsFile, clusterFile, cache, arp. */
  sources: Record<string, string[]>;
  /** ARP candidates that did not answer with our credentials, and why. */
  probeFailures: Record<string, string>;
  /** Non-fatal problems (unusable cache, cache not written). */
  warnings: string[];
}

async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/**
 * Finds the broker hosts. Throws (LanFileError) for a hosts or cluster file that exists but is
 * malformed, and for a required hosts file that is missing; a bad cache is only a warning.
 */
export async function discoverHosts(opts: DiscoverOptions = {}): Promise<Discovery> {
  const env = opts.environment ?? realEnvironment;
  const now = opts.now ?? env.now;
  const sources: Record<string, string[]> = {};
  const warnings: string[] = [];
  const probeFailures: Record<string, string> = {};

  if (opts.hosts) sources.hosts = unique(opts.hosts.map((h) => h.trim()).filter(Boolean));
  if (opts.hostsFile) sources.hostsFile = unique(readHostsFile(opts.hostsFile, { optional: !opts.hostsFileRequired }));
  if (opts.clusterFile) sources.clusterFile = unique(readClusterHosts(opts.clusterFile));
  const listed = unique([...(sources.hosts ?? []), ...(sources.hostsFile ?? []), ...(sources.clusterFile ?? [])]);

  const self = await findThisAddress({ explicit: opts.thisAddress, peers: listed });

  const verifiedTls = opts.probe?.tls !== undefined && opts.probe.tls.rejectUnauthorized !== false;
  if (opts.arp && !verifiedTls && !opts.arpSendsPasswordInCleartext) {
    warnings.push(
      'ARP discovery skipped: it logs in to every neighbour on the AMQP port, and without TLS that sends the broker password ' +
        'in cleartext to whoever answers. Turn TLS on (rabbitTls, the brokers\' certificates verified), or accept the risk ' +
        'with arpSendsPasswordInCleartext: true, or list the hosts (hosts, hostsFile)',
    );
  } else if (opts.arp) {
    const cacheFile = opts.cacheFile;
    const cached = cacheFile ? readCacheFile(cacheFile, { maxAgeMinutes: opts.cacheMaxAgeMinutes, now: now(), environment: env }) : undefined;
    if (cached?.status === 'invalid') warnings.push(`cache ignored: ${cached.problem}`);
    if (cached?.status === 'fresh' && !opts.refresh) {
      sources.cache = cached.addresses;
    } else {
      if (!opts.probe) throw new TypeError('discoverHosts: arp needs probe credentials ({ probe: { user, password } })');
      const mine = new Set([self, ...localAddresses()]);
      const known = new Set(listed);
      const accept = opts.arpAccept ?? isPrivateIPv4;
      const candidates = arpCandidates(readArpTable(opts.arpPath ?? DEFAULT_ARP_PATH), accept).filter(
        (ip) => !mine.has(ip) && !known.has(ip),
      );
      const probe = opts.probeFn ?? probeAmqp;
      const results = await mapBounded(candidates, opts.probeConcurrency ?? 16, async (ip) => {
        try {
          return await probe(ip, opts.environment ? { ...opts.probe!, environment: opts.environment } : opts.probe!);
        } catch (err) {
          return { ok: false, reason: (err as Error)?.message ?? String(err) };
        }
      });
      sources.arp = candidates.filter((ip, i) => {
        if (!results[i].ok) probeFailures[ip] = results[i].reason ?? 'probe failed';
        return results[i].ok;
      });
      if (cacheFile) {
        try {
          writeCacheFile(cacheFile, sources.arp, { maxAgeMinutes: opts.cacheMaxAgeMinutes, now: now(), environment: env });
        } catch (err) {
          warnings.push((err as Error).message);
        }
      }
    }
  }

  const found = unique([...listed, ...(sources.cache ?? []), ...(sources.arp ?? [])]);
  const addresses = unique([self, ...found]);
  return {
    thisAddress: self,
    addresses,
    otherAddresses: addresses.filter((a) => a !== self),
    sources,
    probeFailures,
    warnings,
  };
}
