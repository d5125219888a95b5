// The headers every response carries (API JSON, errors, pages, scripts, styles, even Node's raw parse-error answers).
import type { RequestHandler } from 'express';

/**
 * The pages load only same-origin scripts and data; the policy makes any injected markup inert even if a renderer
 * regressed to innerHTML, and blocks requests to other hosts. On JSON it costs nothing and keeps a response opened
 * as a document (or framed by another site) just as inert.
 */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CSP,
  // Stops a browser from running JSON or a study name as a script or page because it "looks like" one.
  'X-Content-Type-Options': 'nosniff',
  // Study ids in dashboard URLs stay on this server.
  'Referrer-Policy': 'no-referrer',
  // Another site's page cannot even load these bytes as an <img>/<script> (Spectre-style reads).
  'Cross-Origin-Resource-Policy': 'same-origin',
});

export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set(SECURITY_HEADERS);
  next();
};
