// TLS on the wire (opt-in): the settings (options and .env), the socket options amqplib hands
// to tls.connect, and which errors are certificate errors. A certificate error is permanent
// (retry.ts classifyError): no retry makes an untrusted broker trusted, so a link fails at once
// with a message that names the CA setting instead of retrying for startTimeoutMs.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { BrokerUnreachableError, ConfigError, maskUrlPassword } from './errors.ts';

/** The TLS part of NetOptions. Paths are PEM files, relative to the working directory. */
export interface TlsOptions {
  /**
   * Connect with amqps:// (port 5671 unless rabbitPort says otherwise), verifying the broker's
   * certificate. Env RABBIT_TLS (on/off, true/false, 1/0). Default: on when a CA, certificate
   * or key is set, else off.
   */
  rabbitTls?: boolean | 'on' | 'off';
  /** The CA that signed the brokers' certificates (env RABBIT_TLS_CA). Default: the system's trusted CAs. */
  rabbitTlsCa?: string;
  /** This client's certificate, for brokers that require one (mutual TLS; env RABBIT_TLS_CERT). */
  rabbitTlsCert?: string;
  /** The key of rabbitTlsCert (env RABBIT_TLS_KEY). */
  rabbitTlsKey?: string;
}

export const TLS_ENV_NAMES = {
  rabbitTls: 'RABBIT_TLS',
  rabbitTlsCa: 'RABBIT_TLS_CA',
  rabbitTlsCert: 'RABBIT_TLS_CERT',
  rabbitTlsKey: 'RABBIT_TLS_KEY',
} as const;

/** The AMQP-over-TLS port (IANA), the default port when TLS is on. */
export { AMQPS_PORT } from '../lan/ports.ts';

/** Resolved TLS settings: where the files came from (for messages) and their contents. */
export interface TlsConfig {
  /** Absolute paths, when set. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** What amqplib passes to tls.connect: the broker's certificate is always verified. */
  socket: TlsSocketOptions;
}

export type TlsSocketOptions = Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>;

/** One setting as config.ts found it (option, environment or .env), or undefined. */
export type SettingLookup = (option: keyof TlsOptions, variable: string) => { value: unknown; name: string; where: string } | undefined;

/**
 * The TLS settings, or undefined when TLS is off. Reads the PEM files now, so a missing or
 * malformed file is a ConfigError at construction rather than a failed handshake later.
 */
export function resolveTlsConfig(lookup: SettingLookup, cwd: string): TlsConfig | undefined {
  const file = (option: 'rabbitTlsCa' | 'rabbitTlsCert' | 'rabbitTlsKey') => {
    const f = lookup(option, TLS_ENV_NAMES[option]);
    if (!f) return undefined;
    if (typeof f.value !== 'string') throw new ConfigError(TLS_ENV_NAMES[option], `${f.name} must be a path to a PEM file`, { option });
    const at = path.resolve(cwd, f.value);
    let pem: Buffer;
    try {
      pem = readFileSync(at);
    } catch (err) {
      throw new ConfigError(TLS_ENV_NAMES[option], `${f.name}: cannot read ${at} (from ${f.where}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { option });
    }
    try {
      if (option === 'rabbitTlsKey') createPrivateKey(pem);
      else new X509Certificate(pem);
    } catch {
      throw new ConfigError(TLS_ENV_NAMES[option], `${f.name}: ${at} (from ${f.where}) is not a PEM ${option === 'rabbitTlsKey' ? 'private key' : 'certificate'}`, { option });
    }
    return { at, pem, name: f.name };
  };
  const ca = file('rabbitTlsCa');
  const cert = file('rabbitTlsCert');
  const key = file('rabbitTlsKey');
  const enabled = lookup('rabbitTls', TLS_ENV_NAMES.rabbitTls);
  let on = Boolean(ca || cert || key);
  if (enabled) {
    const v = typeof enabled.value === 'string' ? enabled.value.trim().toLowerCase() : enabled.value;
    if (v === true || v === 'on' || v === 'true' || v === '1') on = true;
    else if (v === false || v === 'off' || v === 'false' || v === '0') on = false;
    else throw new ConfigError('RABBIT_TLS', `${enabled.name} must be on or off, got ${JSON.stringify(String(enabled.value))} (from ${enabled.where})`, { option: 'rabbitTls' });
  }
  if (!on) return undefined;
  if (Boolean(cert) !== Boolean(key)) {
    const [has, lacks] = cert ? [cert.name, 'RABBIT_TLS_KEY (rabbitTlsKey)'] : [key!.name, 'RABBIT_TLS_CERT (rabbitTlsCert)'];
    throw new ConfigError(cert ? 'RABBIT_TLS_KEY' : 'RABBIT_TLS_CERT', `${has} is set but ${lacks} is not: a client certificate needs both`, { option: cert ? 'rabbitTlsKey' : 'rabbitTlsCert' });
  }
  return {
    ...(ca ? { caFile: ca.at } : {}),
    ...(cert ? { certFile: cert.at, keyFile: key!.at } : {}),
    socket: { rejectUnauthorized: true, ...(ca ? { ca: ca.pem } : {}), ...(cert ? { cert: cert.pem, key: key!.pem } : {}) },
  };
}

/** OpenSSL's verification failures, as Node reports them in `err.code`: the broker's certificate is not trusted. */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** TLS alerts by which a broker refuses our client certificate (or its absence). */
const REFUSED_ALERT = /^ERR_SSL_(?:TLSV13|TLSV1|SSLV3)_ALERT_(?:CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|DECRYPT_ERROR)$/;

export type TlsProblem =
  /** We do not trust the broker's certificate. */
  | 'untrusted'
  /** The broker did not accept our client certificate, or wanted one. */
  | 'client-refused'
  /** The port does not speak TLS (amqps:// to a plain AMQP port). */
  | 'not-tls';

/** What kind of TLS failure `err` (or an error in its cause chain) is, or undefined for none. */
export function tlsProblem(err: unknown): TlsProblem | undefined {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (UNTRUSTED_CODES.has(code)) return 'untrusted';
    if (REFUSED_ALERT.test(code)) return 'client-refused';
    if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') return 'not-tls';
  }
  return undefined;
}

/** A TLS failure in a few words: OpenSSL's reason ('tlsv13 alert certificate required') rather than its whole error line. */
export function tlsReason(err: unknown): string {
  for (let e: unknown = err, i = 0; e && typeof e === 'object' && i < 10; e = (e as { cause?: unknown }).cause, i++) {
    const reason = (e as { reason?: unknown }).reason;
    if (typeof reason === 'string' && reason) return reason;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Settings to name in a message: which CA, certificate and key this client used. */
export type TlsSettings = Pick<TlsConfig, 'caFile' | 'certFile' | 'keyFile'> | undefined;

/**
 * One sentence on what to change after a TLS failure `problem` with broker `url`: names the CA
 * setting (RABBIT_TLS_CA / rabbitTlsCa) and the file in use.
 */
export function tlsAdvice(problem: TlsProblem, tls: TlsSettings): string {
  if (problem === 'untrusted') {
    return tls?.caFile
      ? `its certificate is not signed by the CA in ${tls.caFile} (RABBIT_TLS_CA / rabbitTlsCa), or does not name the address dialled: point RABBIT_TLS_CA at the CA that signed the broker's certificate (mirosnet tls init writes it as ca.pem)`
      : `its certificate is not signed by a CA this client trusts: set RABBIT_TLS_CA (or the rabbitTlsCa option) to the CA that signed it (mirosnet tls init writes it as ca.pem)`;
  }
  if (problem === 'client-refused') {
    return tls?.certFile
      ? `it refused our client certificate ${tls.certFile} (RABBIT_TLS_CERT / rabbitTlsCert): give one signed by the CA the broker trusts (its ssl_options cacertfile)`
      : `it requires a client certificate (mutual TLS): set RABBIT_TLS_CERT and RABBIT_TLS_KEY (rabbitTlsCert / rabbitTlsKey) to one signed by the CA the broker trusts`;
  }
  return `that port does not speak TLS: point RABBIT_PORT at the broker's TLS listener (5671), or turn TLS off (RABBIT_TLS=off)`;
}

/**
 * A broker we cannot talk TLS with. Never retried. Still a BrokerUnreachableError, so callers
 * that handle that keep working; `problem` says which failure it was.
 */
export class BrokerTlsError extends BrokerUnreachableError {
  readonly problem: TlsProblem;
  constructor(url: string, problem: TlsProblem, message: string, options?: ErrorOptions) {
    super(url, message, options);
    this.problem = problem;
  }
}

/** startAt's error for a TLS failure with broker `url`, or undefined if `err` is no TLS failure. */
export function brokerTlsError(chartName: string, url: string, err: unknown, tls: TlsSettings): BrokerTlsError | undefined {
  const problem = tlsProblem(err);
  if (!problem) return undefined;
  const masked = maskUrlPassword(url);
  return new BrokerTlsError(
    url,
    problem,
    `chart ${chartName}: TLS with broker ${masked} failed (${tlsReason(err)}): ${tlsAdvice(problem, tls)}. Not retried.`,
    { cause: err },
  );
}
