// Socket-level failures of a client's connection to a server (Redis, PostgreSQL): the server is away or unreachable, as opposed to a command it refused.

/** Node's codes for a server that refused, dropped or cannot be reached, and a name that does not resolve (now). */
export const SOCKET_LOST_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
]);

/** The same codes where a client put them only in the message, as a pattern. */
export const SOCKET_LOST_IN_MESSAGE = new RegExp(`\\b(${[...SOCKET_LOST_CODES].join('|')})\\b`);
