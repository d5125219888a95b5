// Reads JSON request bodies: size-limited, a corrupt compressed body is the client's 400, and no body nests deep enough to overflow a later check.
import express, { type RequestHandler } from 'express';
import { ConfigError } from '../errors.js';
import { findTooDeep } from '../config/json_bounds.js';
import { duplicateKey, jsonErrorOffset, lineColumn } from '../config/json_text.js';
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

/**
 * Where a body that is not a JSON object goes wrong. NaN and Infinity get their own words: Python's json.dumps and
 * requests write them by default, for a run whose loss diverged.
 */
export function invalidJsonMessage(text: string): string {
  const offset = jsonErrorOffset(text);
  if (offset < 0) return `the request body must be a JSON object, got ${text.trim().slice(0, 40)} (fix: send a JSON object)`;
  const { line, column } = lineColumn(text, offset);
  const at = `the request body is not valid JSON at line ${line}, column ${column}`;
  const word = /^-?(?:NaN|Infinity)/.exec(text.slice(offset))?.[0];
  if (word) return `${at}: ${word} is not a JSON number (fix: send a finite number; tell a run that produced none as {"failed": "why"})`;
  return offset >= text.length ? `${at}: the body ends too early (fix: send a complete JSON object)` : `${at}, near ${JSON.stringify(text.slice(offset, offset + 20))} (fix: send a JSON object)`;
}

/** The raw text of a parsed body, kept for the one check JSON.parse cannot make (a key given twice). */
const RAW = Symbol('raw body');
type WithRaw = { [RAW]?: Buffer };

/** JSON.parse keeps the last of two equal keys: `{"value": 0.9, "value": 0.1}` would be told as 0.1 without a word. */
const refuseDuplicateKeys: RequestHandler = (req, _res, next) => {
  const raw = (req as unknown as WithRaw)[RAW];
  const twice = raw ? duplicateKey(raw.toString('utf8')) : null;
  if (!twice) return next();
  const where = twice.path ? ` in ${twice.path}` : '';
  next(new HttpError(400, 'INVALID_JSON', `the request body has the key "${twice.key}" twice${where} (fix: send each key once)`));
};

export function jsonBody(limit: string | number): RequestHandler[] {
  const parse = express.json({ limit, strict: true, verify: (req, _res, buf) => void ((req as unknown as WithRaw)[RAW] = buf) });
  const parseOrExplain: RequestHandler = (req, res, next) =>
    parse(req, res, (err?: unknown) => {
      const encoding = (req.get('content-encoding') ?? 'identity').toLowerCase();
      // body-parser tags what it recognises with `type`; an untagged error on a compressed body is zlib/brotli
      // failing on the client's bytes.
      if (err && (err as { type?: unknown }).type === undefined && encoding !== 'identity') {
        const why = err instanceof Error ? err.message : String(err);
        return next(new HttpError(400, 'INVALID_ENCODING', `the body is not valid ${encoding} data (${why}); compress it correctly or send it uncompressed`));
      }
      const e = err as { type?: unknown; body?: unknown; limit?: unknown; length?: unknown } | undefined;
      if (e?.type === 'entity.parse.failed' && typeof e.body === 'string') return next(new HttpError(400, 'INVALID_JSON', invalidJsonMessage(e.body)));
      if (e?.type === 'entity.too.large' && typeof e.limit === 'number') {
        const size = typeof e.length === 'number' ? `${e.length} bytes` : 'larger';
        return next(new HttpError(413, 'PAYLOAD_TOO_LARGE', `the request body is ${size}, over the limit of ${e.limit} bytes (fix: send less; stored JSON, a study config or a report's metrics, is bounded at 64 kB anyway)`));
      }
      next(err);
    });
  return [parseOrExplain, refuseDuplicateKeys, boundDepth];
}
