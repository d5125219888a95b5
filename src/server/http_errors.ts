// Maps every failure to the JSON error body `{ error: { code, message, field? } }` with a status that says whose fault it was.
import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ConfigError, RenormTuneError } from '../errors.js';

/** An HTTP-level problem with the request itself (auth, media type, size, route), before any field is looked at. */
export class HttpError extends RenormTuneError {
  constructor(status: number, code: string, message: string) {
    super(code, message, status);
  }
}

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** body-parser marks its errors with `type`; these are all the client's doing. */
const PARSER_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'INVALID_JSON', 'the request body is not valid JSON (send a JSON object)'],
  'entity.too.large': [413, 'PAYLOAD_TOO_LARGE', 'the request body is too large'],
  'encoding.unsupported': [415, 'UNSUPPORTED_ENCODING', 'unsupported content encoding (send identity, gzip, deflate or br)'],
  'charset.unsupported': [415, 'UNSUPPORTED_CHARSET', 'unsupported charset (send UTF-8 JSON)'],
  'request.aborted': [400, 'REQUEST_ABORTED', 'the client aborted the request'],
  'request.size.invalid': [400, 'INVALID_BODY', 'the request body length does not match Content-Length'],
  'stream.encoding.set': [500, 'INTERNAL', 'internal error'],
};

/** Codes for client errors raised by express, the router or static files rather than by us. */
const CLIENT_CODES: Record<number, string> = {
  400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED', 406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT', 409: 'CONFLICT', 411: 'LENGTH_REQUIRED', 412: 'PRECONDITION_FAILED', 413: 'PAYLOAD_TOO_LARGE', 414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE', 416: 'RANGE_NOT_SATISFIABLE', 417: 'EXPECTATION_FAILED', 422: 'UNPROCESSABLE_ENTITY', 429: 'TOO_MANY_REQUESTS',
  431: 'HEADERS_TOO_LARGE',
};

/** A 4xx carried by an error we did not raise (http-errors' `status`/`statusCode`), or undefined. */
function clientStatus(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const s = typeof status === 'number' ? status : statusCode;
  return typeof s === 'number' && Number.isInteger(s) && s >= 400 && s <= 499 ? s : undefined;
}

export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof RenormTuneError) {
    // A RenormTuneError with a 5xx status is still ours to explain (e.g. a storage version mismatch); only a
    // stray exception is hidden behind INTERNAL.
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err instanceof ConfigError) body.error.field = err.field;
    return { status: err.status, body, internal: err.status >= 500 };
  }
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && PARSER_ERRORS[type]) {
    const [status, code, message] = PARSER_ERRORS[type]!;
    return { status, body: { error: { code, message } }, internal: status >= 500 };
  }
  // Whoever raised a 4xx judged it the client's doing; answering 500 would blame the server and hide the reason.
  const status = clientStatus(err);
  if (status !== undefined) {
    if (err instanceof URIError) {
      return { status, body: { error: { code: 'INVALID_URL', message: 'the URL has a malformed percent-escape (write a literal % as %25)' } }, internal: false };
    }
    const { expose, message } = err as { expose?: unknown; message?: unknown };
    // http-errors marks messages safe to show with `expose`; anything else might carry paths or internals.
    const text = expose === true && typeof message === 'string' && message !== '' ? message : (STATUS_CODES[status] ?? 'client error');
    return { status, body: { error: { code: CLIENT_CODES[status] ?? `HTTP_${status}`, message: text } }, internal: false };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error (see the server log)' } }, internal: true };
}

/** Last middleware: never lets a stack trace reach the client, and never turns a client mistake into a 5xx. */
/** How often a server whose database is away says so: once, then at most once a minute while 503s go on. */
export const OUTAGE_LOG_MS = 60_000;

/**
 * Answers an error as `{error: {code, message, field?}}` and logs what the operator must see: a stray exception
 * (500) with its stack; a 503 (the database away: an outage that clients wait out, not a bug) as one line, at most
 * once a minute with how many more there were, since every trainer's every call meets it while it lasts.
 */
export function errorHandler(log: (msg: string) => void, now: () => number = Date.now): ErrorRequestHandler {
  const outage = { saidAt: -Infinity, unsaid: 0 };
  return (err, req, res, _next) => {
    const { status, body, internal } = toErrorResponse(err);
    if (status === 503 && err instanceof RenormTuneError) {
      if (now() - outage.saidAt >= OUTAGE_LOG_MS) {
        const more = outage.unsaid ? ` (and ${outage.unsaid} more 503 answer${outage.unsaid === 1 ? '' : 's'} since the last such line)` : '';
        log(`${req.method} ${req.originalUrl} -> 503 ${body.error.code}: ${body.error.message}${more}`);
        outage.saidAt = now();
        outage.unsaid = 0;
      } else {
        outage.unsaid++;
      }
    } else if (internal) {
      log(`${req.method} ${req.originalUrl} -> ${status}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    if (res.headersSent) {
      // An SSE stream or half-sent body: all we can do is end it.
      res.end();
      return;
    }
    res.status(status).json(body);
  };
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${req.baseUrl}${req.path}`));
};
