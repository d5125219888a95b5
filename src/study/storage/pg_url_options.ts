// The query options a PostgreSQL URL may carry: renorm-tune's own, and those its driver (node-postgres) reads. Any
// other is ignored by both, so a near miss of one of them (`pool_maks`, `max`) is an error naming the option meant,
// and anything else (a libpq option node-postgres does not read, say) is reported as ignored, not silently dropped.
import { ConfigError } from '../../errors.js';
import { closestMatch } from '../../config/fields.js';

/** renorm-tune's own options (PgOptions' URL spellings). */
export const OWN_URL_OPTIONS = ['pool_max', 'connect_timeout', 'lock_wait'] as const;

/** What node-postgres 8 reads from a connection string's query (pg-connection-string, then ConnectionParameters). */
const DRIVER_URL_OPTIONS = [
  'host', 'port', 'user', 'password', 'database', 'db', 'application_name', 'fallback_application_name', 'options',
  'client_encoding', 'encoding', 'binary', 'replication', 'statement_timeout', 'lock_timeout', 'query_timeout',
  'idle_in_transaction_session_timeout', 'ssl', 'sslmode', 'sslcert', 'sslkey', 'sslrootcert', 'sslnegotiation',
  'uselibpqcompat',
];

/**
 * libpq's connection parameters (PostgreSQL 17's list): real options that node-postgres may not read, so one of them
 * is reported as ignored, never taken for a misspelling of a near name (`sslcrl` is not `sslcert`).
 */
const LIBPQ_OPTIONS = [
  'host', 'hostaddr', 'port', 'dbname', 'user', 'password', 'passfile', 'require_auth', 'channel_binding', 'connect_timeout',
  'client_encoding', 'options', 'application_name', 'fallback_application_name', 'keepalives', 'keepalives_idle',
  'keepalives_interval', 'keepalives_count', 'tcp_user_timeout', 'replication', 'gssencmode', 'sslmode', 'requiressl',
  'sslnegotiation', 'sslcompression', 'sslcert', 'sslkey', 'sslpassword', 'sslcertmode', 'sslrootcert', 'sslcrl', 'sslcrldir',
  'sslsni', 'requirepeer', 'ssl_min_protocol_version', 'ssl_max_protocol_version', 'krbsrvname', 'gsslib', 'gssdelegation',
  'service', 'target_session_attrs', 'load_balance_hosts',
];

/** Names reached for instead of an option, too far from it in spelling for "did you mean" to find. */
const MEANT: Record<string, string> = {
  max: 'pool_max', pool_size: 'pool_max', poolsize: 'pool_max', pool: 'pool_max', max_connections: 'pool_max',
  connection_timeout: 'connect_timeout', connecttimeout: 'connect_timeout', lock_wait_seconds: 'lock_wait',
};

/**
 * The query options of `u` that nothing reads, to be reported as ignored. A near miss of an option that is read
 * throws a ConfigError naming `field`, the option and the one meant.
 */
export function ignoredUrlOptions(u: URL, field: string): string[] {
  const known: readonly string[] = [...OWN_URL_OPTIONS, ...DRIVER_URL_OPTIONS];
  const ignored: string[] = [];
  for (const name of new Set(u.searchParams.keys())) {
    if (known.includes(name)) continue;
    const near = LIBPQ_OPTIONS.includes(name) ? undefined : MEANT[name.toLowerCase()] ?? closestMatch(name, known);
    if (near !== undefined) {
      throw new ConfigError(`${field} ?${name}`, 'is not an option renorm-tune or its PostgreSQL driver reads', `did you mean ?${near}?`);
    }
    ignored.push(name);
  }
  return ignored;
}
