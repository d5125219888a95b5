// How PgStorage reaches its server: connection settings from the URL and options, a password-free name for messages, and connect failures turned into errors that say what to fix.
import { accessSync, constants } from 'node:fs';
import type { ClientConfig, CustomTypesConfig } from 'pg';
import pg from 'pg';
import { ConfigError, DataError, RenormTuneError } from '../../errors.js';
import { ignoredUrlOptions } from './pg_url_options.js';

/** What `PgStorage.connect` accepts besides the URL (every field also has a URL query parameter or a default). */
export interface PgOptions {
  /** The flag that gave the URL, as errors name it (default --db; `copy` opens its target from --to). */
  field?: string;
  /** Where a lost notification connection or a repaired stored value is reported. Default stderr. */
  warn?: (message: string) => void;
  /** Refuse a database without the renorm-tune schema instead of creating it (read-only commands). */
  mustExist?: boolean;
  /**
   * false: never change the schema; refuse one that is missing or older than this build (a worker must run the
   * schema its coordinator migrated to, not move it under the coordinator's feet). Default true.
   */
  migrate?: boolean;
  /** Connections in this process's pool; URL `?pool_max=N`. Default 4: a process runs short transactions, one at a time per caller. */
  poolMax?: number;
  /** Give up on an unanswered connect after this long, ms; URL `?connect_timeout=S` (seconds, as libpq). Default 5000. */
  connectTimeoutMs?: number;
  /**
   * How long an ask waits for its study's lock while another process holds it, ms; URL `?lock_wait=S` (seconds).
   * Past it the ask goes ahead without the lock (see PgStorage.lockStudy). Default 30000.
   */
  lockWaitMs?: number;
}

export const DEFAULT_POOL_MAX = 4;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/**
 * Far shorter than a suspended holder's hold (a server stopped with Ctrl-Z mid-ask holds it until resumed), longer than
 * most asks take. A longer ask (count 64 on a 400-trial study took 45 s) only costs a waiter a possible recompute.
 */
export const DEFAULT_LOCK_WAIT_MS = 30_000;
/**
 * How soon the database gives up on a session whose client vanished without closing it (its host lost, a network
 * partition): after 30 s without traffic, a probe every 10 s, 3 unanswered. The session then ends, and with it any
 * lock it held (a study's advisory lock mid-ask, a row locked mid-write), where Linux's default keeps it two hours and
 * more while every other server's asks of that study wait. Sent as SET on each new pooled connection, not as startup
 * options, which poolers such as PgBouncer refuse; a Unix-socket session ignores them.
 */
export const SESSION_KEEPALIVE_SQL = 'SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3';

/** How long a query may wait for a free pooled connection before failing instead of hanging. */
export const ACQUIRE_TIMEOUT_MS = 30_000;
const APP_NAME = 'renorm-tune';

/** timestamptz as PostgreSQL writes it in UTC with DateStyle ISO: `2026-12-01 20:43:22.123456+00`. */
const UTC_TIMESTAMP = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;
const parseDate = pg.types.getTypeParser(1184) as (text: string) => Date;

/**
 * A timestamptz as the ISO string records carry (milliseconds, truncated as a Date would): rearranged in place
 * for the server's usual UTC output, through a Date otherwise (another time zone, a year past 9999). A listing
 * reads four per trial, and parsing each into a Date cost more than the rest of the row.
 */
export function isoTimestamp(text: string): string {
  const m = UTC_TIMESTAMP.exec(text);
  if (m) return `${m[1]}T${m[2]}.${(m[3] ?? '').slice(0, 3).padEnd(3, '0')}Z`;
  const d = parseDate(text);
  return d instanceof Date && Number.isFinite(d.getTime()) ? d.toISOString() : text;
}

/**
 * json/jsonb columns come back as text so that `readStoredJson` decides what a stored value may do (never the
 * driver's JSON.parse); int8 (ids, seeds, counts, steps) as numbers: renorm-tune only stores safe integers there;
 * timestamptz as ISO strings (`isoTimestamp`).
 */
export const TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 114 || oid === 3802) return (text: string) => text;
    if (oid === 20) return (text: string) => Number(text);
    if (oid === 1184 && format !== 'binary') return isoTimestamp;
    return pg.types.getTypeParser(oid, format);
  }) as CustomTypesConfig['getTypeParser'],
};

/** The URL with its password (user-info or `?password=`) replaced by `***`: safe for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString().replace('password=%2A%2A%2A', 'password=***');
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@').replace(/([?&]password=)[^&]*/, '$1***');
  }
}

/** Every password the URL carries, so a message from the driver can be scrubbed of it too. */
function secrets(url: string): string[] {
  try {
    const u = new URL(url);
    return [u.password, decodeURIComponent(u.password), u.searchParams.get('password') ?? ''].filter((p) => p.length > 0);
  } catch {
    return [];
  }
}

export function scrub(message: string, url: string): string {
  let out = message;
  for (const p of secrets(url)) out = out.split(p).join('***');
  return out;
}

export interface ResolvedConfig {
  client: ClientConfig;
  /** Query options of the URL that nothing reads (to be reported once connected). */
  ignored: string[];
  poolMax: number;
  connectTimeoutMs: number;
  lockWaitMs: number;
}

/** The driver's config for `url`; a malformed URL or option is a ConfigError naming it (without its password). */
export function resolveConfig(url: string, opts: PgOptions, field = '--db'): ResolvedConfig {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(field, `not a valid URL: ${redactUrl(url)}`, 'use postgres://user[:password]@host[:port]/database');
  }
  if (u.pathname.length <= 1) {
    throw new ConfigError(field, `${redactUrl(url)} names no database`, 'add it to the URL: postgres://user@host:5432/database');
  }
  const ignored = ignoredUrlOptions(u, field);
  checkTlsFiles(u, field);
  const int = (name: string, value: string | null, min: number, max: number): number | undefined => {
    if (value === null) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${field} ?${name}`, `must be an integer in [${min}, ${max}], got '${value}'`);
    return n;
  };
  const poolMax = opts.poolMax ?? int('pool_max', u.searchParams.get('pool_max'), 1, 100) ?? DEFAULT_POOL_MAX;
  if (!Number.isInteger(poolMax) || poolMax < 1 || poolMax > 100) throw new ConfigError('poolMax', `must be an integer in [1, 100], got ${String(poolMax)}`);
  const urlTimeout = int('connect_timeout', u.searchParams.get('connect_timeout'), 1, 600);
  const connectTimeoutMs = opts.connectTimeoutMs ?? (urlTimeout === undefined ? DEFAULT_CONNECT_TIMEOUT_MS : urlTimeout * 1000);
  const urlLockWait = int('lock_wait', u.searchParams.get('lock_wait'), 1, 3600);
  const lockWaitMs = opts.lockWaitMs ?? (urlLockWait === undefined ? DEFAULT_LOCK_WAIT_MS : urlLockWait * 1000);
  if (!Number.isInteger(lockWaitMs) || lockWaitMs < 1) throw new ConfigError('lockWaitMs', `must be a positive integer (ms), got ${String(lockWaitMs)}`);
  // The driver ignores query parameters it does not know (pool_max), and reads connect_timeout from our ms value.
  return {
    client: { connectionString: url, types: TYPES, keepAlive: true, fallback_application_name: APP_NAME, connectionTimeoutMillis: connectTimeoutMs },
    ignored,
    poolMax,
    connectTimeoutMs,
    lockWaitMs,
  };
}

/** The URL's TLS files, which node-postgres reads as it parses the URL: one it cannot read would be a raw ENOENT. */
const TLS_FILES: Record<string, string> = {
  sslrootcert: 'the PEM certificate of the authority that signed the server\'s certificate',
  sslcert: 'this client\'s PEM certificate',
  sslkey: 'the PEM key of ?sslcert=',
};

function checkTlsFiles(u: URL, field: string): void {
  for (const [name, what] of Object.entries(TLS_FILES)) {
    const file = u.searchParams.get(name);
    if (file === null) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (err) {
      throw new ConfigError(`${field} ?${name}`, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, `give ${what}`);
    }
  }
}

/** Node's codes for a TLS certificate it could not verify (an unknown authority, expired, another host's). */
const UNVERIFIED_CERT = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME_INVALID/;

/** SQLSTATEs and socket codes that mean "this URL does not lead to a usable database", with what to do about each. */
function diagnose(err: { code?: string; message: string }, timeoutMs: number): { problem: string; fix: string } | null {
  switch (err.code) {
    case 'ECONNREFUSED':
      return { problem: 'connection refused (nothing listens there)', fix: 'start PostgreSQL, or correct the host and port in the URL' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { problem: 'unknown host', fix: 'correct the host name in the URL' };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
    case 'ECONNRESET':
      return { problem: `cannot reach the server (${err.code})`, fix: 'check the host, the port and the network' };
    case '3D000':
      return { problem: 'the database does not exist', fix: 'create it (createdb NAME, or CREATE DATABASE), or correct its name in the URL' };
    case '28000':
    case '28P01':
      return { problem: `the server refused the login (${err.message})`, fix: 'correct the user and password in the URL, or the server\'s pg_hba.conf' };
    case '42501':
      return { problem: `permission denied (${err.message})`, fix: 'connect as a user that may create the renorm_tune schema, or have its owner run renorm-tune once' };
    case '57P03':
      return { problem: 'the server is starting up or shutting down', fix: 'retry in a moment' };
    case '53300':
      return { problem: 'the server has no free connections (max_connections)', fix: 'lower ?pool_max on every process, or raise max_connections' };
    case '08P01':
      // PgBouncer says what PostgreSQL would under this one code.
      if (/database ".*" does not exist|no such database/i.test(err.message)) {
        return { problem: `the database does not exist (${err.message}, from PgBouncer)`, fix: 'create it (createdb NAME, or CREATE DATABASE), or correct its name in the URL, or list it under PgBouncer\'s [databases]' };
      }
      if (/authentication failed|no such user/i.test(err.message)) {
        return { problem: `the login was refused (${err.message}, from PgBouncer)`, fix: 'correct the user and password in the URL, or PgBouncer\'s auth_file' };
      }
  }
  if (/timeout/i.test(err.message)) {
    return { problem: `no answer within ${timeoutMs / 1000} s`, fix: 'check that the host and port lead to PostgreSQL, or raise ?connect_timeout=' };
  }
  if (/terminated unexpectedly/i.test(err.message)) {
    return { problem: 'the connection was closed before the server answered', fix: 'check that the host and port lead to PostgreSQL, and ?sslmode=' };
  }
  if (UNVERIFIED_CERT.test(err.code ?? '')) {
    return {
      problem: `the server's TLS certificate was not verified (${err.message})`,
      fix: 'give the authority that signed it with ?sslrootcert=/path/to/ca.pem (or NODE_EXTRA_CA_CERTS); for a certificate issued to another name, connect by a name it lists',
    };
  }
  if (/does not support SSL/i.test(err.message)) return { problem: err.message, fix: 'leave ?sslmode= out for this server, or turn ssl on in its postgresql.conf' };
  if (/SSL required/i.test(err.message)) return { problem: `${err.message} (the server takes only encrypted connections)`, fix: 'add ?sslmode=verify-full to the URL (and ?sslrootcert=ca.pem for a private authority)' };
  if (/SSL|certificate/i.test(err.message)) return { problem: err.message, fix: 'match ?sslmode= to what the server offers' };
  return null;
}

/**
 * The error to show for a failure while connecting: a ConfigError naming the URL (password redacted) and the fix
 * when the URL cannot lead to a database, else the failure itself, scrubbed of the password. Our own errors pass.
 */
export function connectError(err: unknown, url: string, timeoutMs: number, field = '--db'): Error {
  if (err instanceof RenormTuneError) return err;
  const e = err as { code?: string; message?: string };
  const message = scrub(String(e?.message ?? err), url);
  const d = diagnose({ code: e?.code, message }, timeoutMs);
  if (d) return new ConfigError(field, `cannot use ${redactUrl(url)}: ${d.problem}`, d.fix);
  return new DataError(redactUrl(url), `cannot open the database: ${message}`);
}
