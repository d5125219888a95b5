// DNS-rebinding guard: without a token only loopback Host names (and the --allowed-hosts names) are served.
import type { RequestHandler } from 'express';
import { ConfigError } from '../errors.js';
import { HttpError } from './http_errors.js';

/**
 * A page on another site can rebind its own name to 127.0.0.1; the browser then sends `Host: that-name`, and the
 * same-origin policy no longer protects a token-less server. No such page can make the browser send `Host:
 * localhost`, so the name is what tells a rebound request from a real one.
 */
export const LOOPBACK_NAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

// Labels of letters, digits, '-' and '_' (container names such as `my_service` have one).
const NAME = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

/** The name part of a Host header (`[::1]:8080` -> `[::1]`), lower-cased; undefined when it is not host[:port]. */
export function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const h = header.trim().toLowerCase();
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(h);
  if (!m) return undefined;
  const name = m[1]!;
  return NAME.test(name) || IPV6.test(name) ? name : undefined;
}

/** `--allowed-hosts a.lan,b.lan`: exact names (no port, no scheme, no wildcard), lower-cased. */
export function parseAllowedHosts(raw: string | readonly string[]): string[] {
  const items = (typeof raw === 'string' ? raw.split(',') : raw).map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  for (const item of items) {
    if (item.length > 253 || !(NAME.test(item) || IPV6.test(item))) {
      throw new ConfigError('allowedHosts', `${JSON.stringify(item.slice(0, 60))} is not a host name`,
        'pass --allowed-hosts as comma-separated names without port or scheme, e.g. --allowed-hosts studies.lan,box.local');
    }
  }
  return items;
}

/** Refuses requests whose Host name is not loopback, the listening address, or one of `allowed`. */
export function hostCheck(allowed: readonly string[]): RequestHandler {
  const names = new Set([...LOOPBACK_NAMES, ...allowed]);
  return (req, _res, next) => {
    const name = hostName(req.get('host'));
    if (name !== undefined && names.has(name)) return next();
    // The listed names stay out of the message: a rebound page can read this answer.
    next(new HttpError(403, 'HOST_NOT_ALLOWED',
      `this server does not answer to Host ${JSON.stringify((req.get('host') ?? '').slice(0, 100))}, only to ${LOOPBACK_NAMES.join(', ')} ` +
      'and the names it was started with (a guard against DNS rebinding); start it with --allowed-hosts <name> to serve another name'));
  };
}
