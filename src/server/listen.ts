// Starts the HTTP(S) server: loopback by default, and it refuses to listen anywhere else without a bearer token.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { ConfigError } from '../errors.js';
import { expectInt } from '../config/fields.js';
import type { StudyApi } from '../study/api_types.js';
import { createApp, type AppOptions } from './app.js';
import { isLoopback } from './auth.js';
import { mountDashboard } from './dashboard.js';
import { parseAllowedHosts } from './host_check.js';
import { drainOnClose } from './drain.js';
import { answerNodeErrors } from './node_errors.js';
import { listenOn } from './listen_on.js';
import { loadTls, type TlsFiles, type TlsMaterial } from './tls.js';

export const TOKEN_ENV = 'RENORM_TUNE_TOKEN';
export const READ_TOKEN_ENV = 'RENORM_TUNE_READ_TOKEN';
/** `1` serves the dashboard's source maps (development only). */
export const SOURCE_MAPS_ENV = 'RENORM_TUNE_SOURCE_MAPS';
const MIN_TOKEN_LENGTH = 8;

export interface ServerOptions extends Omit<AppOptions, 'token' | 'readToken' | 'ui'> {
  api: StudyApi;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. Default 8080. */
  port?: number;
  /** Falls back to $RENORM_TUNE_TOKEN. */
  token?: string;
  /** A token that may only read (GET, HEAD); falls back to $RENORM_TUNE_READ_TOKEN. Needs `token`. */
  readToken?: string;
  /** Serve the dashboard at `/` (default true). */
  dashboard?: boolean;
  /** Serve the dashboard's `.js.map` files too (default false, or $RENORM_TUNE_SOURCE_MAPS=1): development only. */
  sourceMaps?: boolean;
  /** Environment to read the token from (tests pass their own). */
  env?: NodeJS.ProcessEnv;
  /** Serve HTTPS with this certificate and key (checked before anything listens). */
  tls?: TlsFiles;
  /** `tls`'s files as already read (`serve` reads them before it opens the database): served as they are, not read again. */
  tlsLoaded?: TlsMaterial;
}

export interface RunningServer {
  server: Server;
  app: Express;
  url: string;
  host: string;
  port: number;
  /**
   * With `tls`: the certificate served now, and `reload()`, which reads the files again and serves the new pair to
   * every later connection (a renewed certificate without a restart); a pair that does not check out throws the
   * ConfigError `loadTls` gives, and the old one stays.
   */
  tls?: { subject: string; validTo: Date; reload(): TlsMaterial };
  /**
   * Stops accepting, ends open event streams, lets the answers in flight finish for up to `graceMs` (DRAIN_MS)
   * before cutting them, and resolves when every connection is closed.
   */
  close(graceMs?: number): Promise<void>;
}

/** Checks host/port/tokens before anything listens; exported so the CLI can fail fast with the same message. */
export function resolveListenOptions(opts: Pick<ServerOptions, 'host' | 'port' | 'token' | 'readToken' | 'env' | 'allowedHosts'>): { host: string; port: number; token?: string; readToken?: string; allowedHosts?: string[] } {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 8080;
  expectInt(port, 'port', 0, 65535, 'e.g. --port 8080');
  const given = (flag: string | undefined, env: string) => {
    const raw = flag ?? (opts.env ?? process.env)[env];
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const token = given(opts.token, TOKEN_ENV);
  const readToken = given(opts.readToken, READ_TOKEN_ENV);
  for (const [field, t] of [['token', token], ['read-token', readToken]] as const) {
    if (t !== undefined && t.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(field, `must be at least ${MIN_TOKEN_LENGTH} characters`, 'use a random one, e.g. `openssl rand -hex 16`');
    }
  }
  if (readToken !== undefined && token === undefined) {
    throw new ConfigError('read-token', 'needs a --token as well: without one the server takes no token at all, and anyone may write',
      `pass --token <secret> (or set ${TOKEN_ENV}) for the trainers, and give the read token to viewers`);
  }
  if (readToken !== undefined && readToken === token) {
    throw new ConfigError('read-token', 'is the same as --token, so it could write', 'give viewers a secret of their own, e.g. `openssl rand -hex 16`');
  }
  if (!isLoopback(host) && token === undefined) {
    throw new ConfigError('token', `listening on ${host} exposes the API beyond this machine, so a bearer token is required`,
      `pass --token <secret> or set ${TOKEN_ENV}, or listen on 127.0.0.1`);
  }
  const allowedHosts = opts.allowedHosts === undefined ? undefined : parseAllowedHosts(opts.allowedHosts);
  return { host, port, ...(token === undefined ? {} : { token }), ...(readToken === undefined ? {} : { readToken }), ...(allowedHosts === undefined ? {} : { allowedHosts }) };
}

/** The name a client uses for an address we listen on, if it is one a browser could send as Host (not 0.0.0.0/::). */
function listenName(host: string): string | undefined {
  const h = host.toLowerCase();
  if (h === '0.0.0.0' || h === '::' || h === '[::]') return undefined;
  return h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
}

export async function createServer(opts: ServerOptions): Promise<RunningServer> {
  const { host, port, token, readToken, allowedHosts } = resolveListenOptions(opts);
  const sourceMaps = opts.sourceMaps ?? (opts.env ?? process.env)[SOURCE_MAPS_ENV] === '1';
  const ui = opts.dashboard === false ? undefined : (a: Express) => mountDashboard(a, { sourceMaps });
  // The Host guard is always on without a token; with one, only when names were listed (see AppOptions.allowedHosts).
  // The address given with --host (say 127.0.0.2) is a name its users will type, so the guard accepts it too.
  const own = listenName(host);
  const guard = token === undefined || allowedHosts !== undefined;
  const app = createApp(opts.api, {
    ...opts, ...(token === undefined ? {} : { token }), ...(readToken === undefined ? {} : { readToken }), ...(ui ? { ui } : {}),
    ...(guard ? { allowedHosts: [...(allowedHosts ?? []), ...(own === undefined ? [] : [own])] } : {}),
  });
  const material = opts.tls === undefined ? undefined : opts.tlsLoaded ?? loadTls(opts.tls);
  // requireHostHeader off: a request without Host reaches the Host guard and gets its JSON 403, not Node's bare 400.
  const http: Server = material === undefined
    ? createHttpServer({ requireHostHeader: false }, app)
    : createHttpsServer({ requireHostHeader: false, cert: material.cert, key: material.key }, app);
  // A client may end its side once its request is sent (shutdown(SHUT_WR), `nc -N`). Node's default then ends the
  // socket at once, losing any answer that is not already written: an answer that waits on the database or on zlib
  // (a corrupt gzip body) would never arrive. Half-open, the socket ends after the last answer instead.
  (http as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  answerNodeErrors(http);
  const drain = drainOnClose(http);
  const bound = await listenOn(http, host, port, { port: 'port', host: 'host', portFix: 'pick another --port, or stop the other server' });
  const server = http;
  const addr = server.address() as AddressInfo;
  let served = material;
  const files = opts.tls;
  const tls = served === undefined || files === undefined ? undefined : {
    get subject() { return served!.subject; },
    get validTo() { return served!.validTo; },
    reload: () => {
      const next = loadTls(files);
      (http as HttpsServer).setSecureContext({ cert: next.cert, key: next.key });
      served = next;
      return next;
    },
  };
  return {
    server,
    app,
    url: `${material === undefined ? 'http' : 'https'}://${bound}`,
    ...(tls === undefined ? {} : { tls }),
    host: addr.address,
    port: addr.port,
    close: (graceMs?: number) => drain.close(graceMs),
  };
}
