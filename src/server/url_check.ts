// Refuses a URL whose path has a malformed percent-escape, once and up front, so no route, static file or 404 message trips on it.
import type { RequestHandler } from 'express';
import { HttpError } from './http_errors.js';

export const requireDecodablePath: RequestHandler = (req, _res, next) => {
  try {
    decodeURIComponent(req.path);
  } catch {
    return next(new HttpError(400, 'INVALID_URL', `the URL path has a malformed percent-escape (${JSON.stringify(req.path.slice(0, 100))}); write a literal % as %25`));
  }
  next();
};
