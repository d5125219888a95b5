// A raw HTTP/1.1 client over a TCP socket: sends exactly the bytes given (bad Host, bad escapes, CL+TE, huge headers) and reads one response, with a timeout.
import { connect } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

export interface RawRequest {
  method: string;
  /** Sent as is on the request line: no normalisation of `..`, no re-encoding of `%`. */
  path: string;
  /** In order; `host` is added (as `127.0.0.1:<port>`) unless given, `connection: close` always. */
  headers?: Array<[string, string]>;
  body?: Buffer | string;
  /** Adds a matching Content-Length for a body (default true). */
  contentLength?: boolean;
  /** Ends our side after sending, so a server still waiting for a promised body sees it cut short (default false). */
  halfClose?: boolean;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** As sent, but decompressed when the server compressed it (a request that sent Accept-Encoding). */
  body: Buffer;
  /** Parsed when the body is JSON text, else undefined. */
  json: unknown;
  /** The request ended in a stream (text/event-stream): only the headers were read. */
  stream: boolean;
  ms: number;
}

export class RawTimeout extends Error {}

/** The request as bytes, for sending and for printing when a check fails. */
export function requestBytes(port: number, req: RawRequest): Buffer {
  const headers = [...(req.headers ?? [])];
  if (!headers.some(([k]) => k.toLowerCase() === 'host')) headers.unshift(['host', `127.0.0.1:${port}`]);
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
  if (body && req.contentLength !== false && !headers.some(([k]) => k.toLowerCase() === 'content-length')) headers.push(['content-length', String(body.length)]);
  headers.push(['connection', 'close']);
  const head = `${req.method} ${req.path} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

function decodeChunked(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** The body a client that sent Accept-Encoding reads; a body that does not decode is left as sent, for the test to show. */
function decompressed(body: Buffer, encoding: string | undefined): Buffer {
  const decode = { gzip: gunzipSync, deflate: inflateSync, br: brotliDecompressSync }[(encoding ?? '').toLowerCase()];
  try {
    return decode ? decode(body) : body;
  } catch {
    return body;
  }
}

/** Parses what the server sent; `complete` says whether the whole response is there (for early stop). */
function parse(raw: Buffer, method: string): { res: Omit<RawResponse, 'ms'>; complete: boolean } | null {
  // Interim answers (100 Continue) come before the real one.
  while (/^HTTP\/1\.[01] 1\d\d /.test(raw.subarray(0, 13).toString('latin1')) && raw.indexOf('\r\n\r\n') >= 0) raw = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = raw.subarray(end + 4);
  const stream = /text\/event-stream/.test(headers['content-type'] ?? '');
  let body = rest;
  let complete = stream || method === 'HEAD' || status === 204 || status === 304;
  if (!complete && headers['transfer-encoding'] === 'chunked') {
    complete = rest.includes('\r\n0\r\n\r\n') || rest.subarray(0, 5).toString() === '0\r\n\r\n';
    body = decodeChunked(rest);
  } else if (!complete && headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    complete = rest.length >= n;
    body = rest.subarray(0, n);
  }
  if (stream || method === 'HEAD') body = Buffer.alloc(0);
  if (complete && body.length > 0) body = decompressed(body, headers['content-encoding']);
  let json: unknown;
  try {
    json = body.length ? JSON.parse(body.toString('utf8')) : undefined;
  } catch {
    json = undefined;
  }
  return { res: { status, headers, body, json, stream }, complete };
}

/** Sends one request on a fresh connection; rejects with RawTimeout when no whole response comes within `timeoutMs`. */
export function rawRequest(port: number, req: RawRequest, timeoutMs = 5000): Promise<RawResponse> {
  const bytes = requestBytes(port, req);
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (err: Error | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const parsed = parse(Buffer.concat(chunks), req.method);
      if (parsed) resolve({ ...parsed.res, ms: Date.now() - t0 });
      else reject(err ?? new Error(`the connection closed without a response (got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200))})`));
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      socket.destroy();
      reject(new RawTimeout(`no complete response within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => (req.halfClose ? socket.end(bytes) : socket.write(bytes)));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const parsed = parse(Buffer.concat(chunks), req.method);
      if (parsed?.complete) finish(null);
    });
    // The server may close (or reset) as soon as it has answered, before it has read all we sent.
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(null));
  });
}
