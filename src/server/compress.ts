// Gzips (or deflates, or brotli-compresses) answers for clients that ask: a big study's view is ~1.7 MB of JSON, tens of kB compressed.
import compression from 'compression';
import type { Response } from 'express';

/** An SSE stream must never sit in a compressor's buffer: each event has to leave when it is written. */
const isEventStream = (res: Response): boolean => /^text\/event-stream\b/i.test(String(res.getHeader('Content-Type') ?? ''));

/**
 * The event stream is left alone here by name, not only by the `Cache-Control: no-transform` it also sends
 * (which compression honours too): a stream that arrived in bursts would look like a server that stalls.
 */
export const compress = compression({ filter: (req, res) => !isEventStream(res as Response) && compression.filter(req, res) });
