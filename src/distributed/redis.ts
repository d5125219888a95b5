// The `--redis` option: parse and name the URL (password redacted), fail fast when the server is unreachable, and the connection settings every queue client shares.
import { Redis } from 'ioredis';
import { ConfigError } from '../errors.js';

/** Every key this package writes starts with it (BullMQ's queue keys included); tests and separate databases pick their own. */
export const DEFAULT_PREFIX = 'renorm-tune';
/** How long a first connection may take before the URL is reported unreachable. */
const CONNECT_TIMEOUT_MS = 3000;

export interface RedisRef {
  url: string;
  /** The URL with any password replaced by `***`: the name the server goes by in messages. */
  where: string;
  prefix: string;
}

/** `scheme://user:secret@host` -> `scheme://user:***@host`, and `?password=...` too (any URL: Redis, PostgreSQL). */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_m, scheme: string, auth: string) => {
      const colon = auth.indexOf(':');
      return `${scheme}${colon < 0 ? '***' : `${auth.slice(0, colon)}:***`}@`;
    })
    .replace(/([?&]password=)[^&#]*/i, '$1***');
}

/** Parses `--redis` and `--redis-prefix`; a missing URL, a wrong scheme or a malformed URL is named. */
export function parseRedisRef(url: string | undefined, prefixFlag: string | undefined): RedisRef {
  if (url === undefined || url.trim() === '') {
    throw new ConfigError('--redis', 'needs a redis:// URL', 'e.g. --redis redis://127.0.0.1:6379');
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss') {
    const got = scheme === undefined ? `'${redactUrl(url)}' (no scheme)` : `'${scheme}://'`;
    throw new ConfigError('--redis', `unsupported URL scheme ${got}`, 'give redis://host:6379 (or rediss:// for TLS)');
  }
  try {
    new URL(url);
  } catch {
    throw new ConfigError('--redis', `'${redactUrl(url)}' is not a valid URL`, 'e.g. redis://127.0.0.1:6379/0');
  }
  const prefix = prefixFlag ?? DEFAULT_PREFIX;
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(prefix)) {
    throw new ConfigError('--redis-prefix', `must be 1-100 letters, digits, '.', '_' or '-', got ${JSON.stringify(prefix)}`, `e.g. --redis-prefix ${DEFAULT_PREFIX}`);
  }
  return { url, where: redactUrl(url), prefix };
}

/** The longest wait between reconnect attempts while Redis is down. */
export const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * Milliseconds before reconnect attempt `times` (1, 2, ...): 0.5 s, 1 s, 1.5 s, then every 2 s. BullMQ's own default
 * grows as e^times up to 20 s, so after a Redis outage of half a minute a worker could sit idle for 20 s more.
 * Polling a local server every 2 s costs nothing.
 */
export function reconnectDelay(times: number): number {
  return Math.min(500 * Math.max(1, times), MAX_RECONNECT_DELAY_MS);
}

/**
 * Connection settings for BullMQ clients. `maxRetriesPerRequest: null` is what BullMQ requires of a worker's
 * blocking connection: a command waits out a Redis restart instead of failing the processor mid-job.
 */
export function bullConnection(ref: RedisRef): { url: string; maxRetriesPerRequest: null; connectTimeout: number; retryStrategy: (times: number) => number } {
  return { url: ref.url, maxRetriesPerRequest: null, connectTimeout: CONNECT_TIMEOUT_MS, retryStrategy: reconnectDelay };
}

/**
 * A plain client for our own keys (presence). Commands fail after a retry rather than queue forever, so a Redis
 * outage shows up as a logged error in a heartbeat, never as a hang.
 */
export function plainClient(ref: RedisRef): Redis {
  const client = new Redis(ref.url, { maxRetriesPerRequest: 1, connectTimeout: CONNECT_TIMEOUT_MS, lazyConnect: true });
  // Without a listener ioredis prints every reconnect attempt; callers see failures through their commands.
  client.on('error', () => undefined);
  return client;
}

/** Node's codes for a TLS certificate it could not verify (an unknown authority, expired, another host's). */
const UNVERIFIED_CERT = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME_INVALID/;

/** What to do about a first connection that failed with `err`. */
function redisFix(ref: RedisRef, err: NodeJS.ErrnoException): string {
  const tls = /^rediss:/i.test(ref.url);
  if (tls && UNVERIFIED_CERT.test(err.code ?? '')) {
    return 'make this process trust the authority that signed Redis\'s certificate: NODE_EXTRA_CA_CERTS=/path/to/ca.pem (PEM) in its ' +
      'environment (for a certificate issued to another name, connect by a name it lists)';
  }
  if (tls && err.code === 'ETIMEDOUT') {
    return 'a Redis that does not speak TLS never answers the handshake of a rediss:// URL: give redis:// for it; otherwise start Redis, or check the host and port';
  }
  if (!tls && err.code === 'ECONNRESET') {
    return 'a Redis that speaks only TLS resets plain connections: give a rediss:// URL; otherwise check the host, port and password in --redis';
  }
  return 'start Redis (redis-server), or check the host, port and password in --redis';
}

/**
 * Connects once, without retries, and pings: an unreachable server, a refused password or a wrong database
 * number is a ConfigError naming the URL (redacted) within a few seconds, before anything is written anywhere.
 */
export async function checkRedis(ref: RedisRef): Promise<void> {
  let cause: Error | undefined;
  const probe = new Redis(ref.url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  probe.on('error', (err: Error) => (cause ??= err));
  try {
    await probe.connect();
    await probe.ping();
    // A database the server lacks (/99 of 16) fails the connection's own SELECT quietly: the client stays on
    // database 0, and the jobs would land there, beside another deployment's with the same prefix.
    const db = probe.options.db ?? 0;
    if (db !== 0) {
      try {
        await probe.select(db);
      } catch (err) {
        const why = (err as Error).message.split('\n')[0];
        throw new ConfigError('--redis', `Redis at ${ref.where} has no database ${db} (${why})`,
          'give a database number the server has (0 to its `databases` setting less one: 0-15 by default), e.g. /0');
      }
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const failure = (cause ?? (err as Error)) as NodeJS.ErrnoException;
    const why = failure.message.split('\n')[0]!.replace(ref.url, ref.where);
    throw new ConfigError('--redis', `cannot reach Redis at ${ref.where} (${why})`, redisFix(ref, failure));
  } finally {
    probe.disconnect();
  }
}
