// HTTPS for `serve`: the certificate and key files, checked before anything listens (unreadable, not PEM, a key that
// does not belong to the certificate: each named by its flag, with the fix), and read again on demand so a renewed
// certificate is served without a restart.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../errors.js';

/** The PEM files named by `--tls-cert` (the certificate, then any intermediates) and `--tls-key`. */
export interface TlsFiles {
  cert: string;
  key: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** The leaf certificate's subject and end of validity, for the start line and warnings. */
  subject: string;
  validTo: Date;
}

/** Warn when the certificate has less than this left (Let's Encrypt renews at 30 days). */
export const EXPIRY_WARN_DAYS = 14;

function read(file: string, flag: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(flag, `cannot read ${file} (${code})`, `give the PEM file of ${what}`);
  }
}

/** Reads and checks both files; throws a ConfigError naming `--tls-cert` or `--tls-key` and what to give instead. */
export function loadTls(files: TlsFiles): TlsMaterial {
  const cert = read(files.cert, '--tls-cert', 'the server certificate (then any intermediates)');
  const key = read(files.key, '--tls-key', 'the certificate\'s private key');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new ConfigError('--tls-cert', `${files.cert} holds no PEM certificate (${(err as Error).message})`,
      'give the certificate file ("-----BEGIN CERTIFICATE-----"), not the key or a request');
  }
  try {
    createPrivateKey(key);
  } catch (err) {
    throw new ConfigError('--tls-key', `${files.key} holds no usable private key (${(err as Error).message})`,
      'give the unencrypted PEM key ("-----BEGIN PRIVATE KEY-----") the certificate was issued for');
  }
  if (!leaf.checkPrivateKey(createPrivateKey(key))) {
    throw new ConfigError('--tls-key', `${files.key} is not the private key of the certificate in ${files.cert} (${leaf.subject.replace(/\n/g, ', ')})`,
      'give the key the certificate was issued for');
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ConfigError('--tls-cert', `${files.cert} and ${files.key} do not make a TLS context (${(err as Error).message})`, 'give a PEM certificate and its key');
  }
  return { cert, key, subject: leaf.subject.replace(/\n/g, ', '), validTo: new Date(leaf.validTo) };
}

/** A warning when the certificate has expired or expires within EXPIRY_WARN_DAYS of `now`, else undefined. */
export function expiryWarning(material: Pick<TlsMaterial, 'validTo' | 'subject'>, now = new Date()): string | undefined {
  const days = (material.validTo.getTime() - now.getTime()) / 86_400_000;
  if (days < 0) return `the TLS certificate (${material.subject}) expired on ${material.validTo.toISOString()}: clients will refuse it (renew it, then send this process SIGHUP)`;
  if (days < EXPIRY_WARN_DAYS) return `the TLS certificate (${material.subject}) expires in ${days.toFixed(1)} days, on ${material.validTo.toISOString()} (renew it, then send this process SIGHUP)`;
  return undefined;
}

/** Both flags or neither: one alone is a ConfigError naming the other. */
export function tlsFlags(o: { tlsCert?: string; tlsKey?: string }): TlsFiles | undefined {
  if (o.tlsCert === undefined && o.tlsKey === undefined) return undefined;
  if (o.tlsKey === undefined) throw new ConfigError('--tls-key', 'is needed with --tls-cert', 'give both --tls-cert <cert.pem> and --tls-key <key.pem>, or neither for plain HTTP');
  if (o.tlsCert === undefined) throw new ConfigError('--tls-cert', 'is needed with --tls-key', 'give both --tls-cert <cert.pem> and --tls-key <key.pem>, or neither for plain HTTP');
  return { cert: o.tlsCert, key: o.tlsKey };
}
