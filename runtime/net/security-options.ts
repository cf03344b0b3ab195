// The options of issue 22's defences (SECURITY.md), checked in one place.
import { ConfigError } from './errors.ts';

/** How far the clocks of two hosts may differ before a first contact looks like a replay (replay-guard.ts). */
export const DEFAULT_CLOCK_SKEW_MS = 60_000;

export interface SecurityOptions {
  /**
   * Deliver mesh and snoop messages whose envelope names no destination: senders of a version
   * that predates the authenticated destination (destination.ts). Default false: they are
   * dropped and counted ('unbound'). Turn it on only while such senders are being upgraded.
   */
  acceptUnbound?: boolean;
  /**
   * Clock-skew allowance in ms (default 60000). A message whose token is older than
   * messageTtl + clockSkewMs is dropped as a replay ('replay'; replay-guard.ts).
   */
  clockSkewMs?: number;
  /**
   * Where a host learnt from a mesh message may be (its broker is then linked to and our
   * credentials sent there): IPv4 addresses and CIDR ranges, and the word 'interfaces' for the
   * subnets of this host's own interfaces. Default ['interfaces']; [] learns no host at all
   * (host-allowlist.ts). Hosts from the options, hosts file, cluster file and discovery are not
   * subject to it: they were chosen.
   */
  learnHostsFrom?: string[];
  /**
   * ARP discovery logs in to every neighbour that listens on the AMQP port. Without TLS that
   * sends the broker password in cleartext to whoever answers; it is done only with this set
   * to true. With TLS on (the broker's certificate verified) it is not needed.
   */
  arpSendsPasswordInCleartext?: boolean;
}

export interface SecuritySettings {
  acceptUnbound: boolean;
  clockSkewMs: number;
  learnHostsFrom: string[];
  arpSendsPasswordInCleartext: boolean;
}

/** @throws ConfigError naming the option that is wrong */
export function resolveSecurity(options: SecurityOptions): SecuritySettings {
  const flag = (name: 'acceptUnbound' | 'arpSendsPasswordInCleartext'): boolean => {
    const v = options[name];
    if (v !== undefined && typeof v !== 'boolean') throw new ConfigError('', `${name} must be a boolean`, { option: name });
    return v ?? false;
  };
  const skew = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  if (!Number.isSafeInteger(skew) || skew < 0) {
    throw new ConfigError('', `clockSkewMs must be a non-negative integer (ms), got ${String(options.clockSkewMs)}`, { option: 'clockSkewMs' });
  }
  const learn = options.learnHostsFrom ?? ['interfaces'];
  if (!Array.isArray(learn) || learn.some((entry) => typeof entry !== 'string')) {
    throw new ConfigError('', 'learnHostsFrom must be an array of strings (IPv4 addresses, CIDR ranges, or "interfaces")', { option: 'learnHostsFrom' });
  }
  return { acceptUnbound: flag('acceptUnbound'), clockSkewMs: skew, learnHostsFrom: learn, arpSendsPasswordInCleartext: flag('arpSendsPasswordInCleartext') };
}
