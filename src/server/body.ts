// Reads JSON request bodies: size-limited, a corrupt compressed body is the client's 400, and no body nests deep enough to overflow a later check.
import express, { type RequestHandler } from 'express';
import { ConfigError } from '../errors.js';
import { findTooDeep } from '../config/json_bounds.js';
import { HttpError } from './http_errors.js';

/**
 * Deeper than any request this API understands (a study config is 3 levels, stored values are bounded at 32), and
 * far from where JSON.stringify, String() or a recursive validator would overflow the stack on the parsed value.
 */
export const MAX_BODY_DEPTH = 64;

/** JSON.parse reads thousands of levels without recursing; everything that touches the value afterwards may not. */
const boundDepth: RequestHandler = (req, _res, next) => {
  const at = findTooDeep(req.body, '', MAX_BODY_DEPTH);
  if (at !== null) {
    return next(new ConfigError('body', `nests more than ${MAX_BODY_DEPTH} levels of objects/arrays (at ${at || 'the top'})`, 'send a flatter JSON body'));
  }
  next();
};

export function jsonBody(limit: string | number): RequestHandler[] {
  const parse = express.json({ limit, strict: true });
  const parseOrExplain: RequestHandler = (req, res, next) =>
    parse(req, res, (err?: unknown) => {
      const encoding = (req.get('content-encoding') ?? 'identity').toLowerCase();
      // body-parser tags what it recognises with `type`; an untagged error on a compressed body is zlib/brotli
      // failing on the client's bytes.
      if (err && (err as { type?: unknown }).type === undefined && encoding !== 'identity') {
        const why = err instanceof Error ? err.message : String(err);
        return next(new HttpError(400, 'INVALID_ENCODING', `the body is not valid ${encoding} data (${why}); compress it correctly or send it uncompressed`));
      }
      next(err);
    });
  return [parseOrExplain, boundDepth];
}
