// Maps every failure to the JSON error body `{ error: { code, message, field? } }` with a status that says whose fault it was.
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
  'encoding.unsupported': [415, 'UNSUPPORTED_ENCODING', 'unsupported content encoding (send identity, gzip or deflate)'],
  'charset.unsupported': [415, 'UNSUPPORTED_CHARSET', 'unsupported charset (send UTF-8 JSON)'],
  'request.aborted': [400, 'REQUEST_ABORTED', 'the client aborted the request'],
  'request.size.invalid': [400, 'INVALID_BODY', 'the request body length does not match Content-Length'],
  'stream.encoding.set': [500, 'INTERNAL', 'internal error'],
};

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
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error (see the server log)' } }, internal: true };
}

/** Last middleware: never lets a stack trace reach the client, and never turns a client mistake into a 5xx. */
export function errorHandler(log: (msg: string) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const { status, body, internal } = toErrorResponse(err);
    if (internal) log(`${req.method} ${req.originalUrl} -> ${status}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
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
