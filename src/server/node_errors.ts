// Answers what Node's HTTP layer refuses before express sees a request (parse errors, CONNECT, odd Expect) with the same JSON error body and headers as every other error.
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorBody } from './http_errors.js';
import { SECURITY_HEADERS } from './security_headers.js';

/** Node's parser error codes mapped to what the client did wrong; anything else is a malformed request. */
const PARSE_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'the request headers are larger than this server accepts (16 kB in all); send fewer or shorter headers'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'PAYLOAD_TOO_LARGE', 'the chunk extensions are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'the request took too long to arrive'],
  HPE_UNEXPECTED_CONTENT_LENGTH: [400, 'BAD_REQUEST', 'the request has both Content-Length and Transfer-Encoding; send only one'],
  HPE_INVALID_METHOD: [400, 'BAD_REQUEST', 'unknown HTTP method'],
  HPE_INVALID_EOF_STATE: [400, 'BAD_REQUEST', 'the connection ended before the request (its body) was complete'],
};

/** A whole HTTP/1.1 response with a JSON error body, for writing straight to a socket. */
export function rawErrorResponse(status: number, code: string, message: string): string {
  const body = JSON.stringify({ error: { code, message } } satisfies ErrorBody);
  const headers = { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' };
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`;
}

/** Writes the answer and closes; the timer frees a socket whose peer never reads or closes its side. */
function answerAndClose(socket: Duplex, response: string): void {
  socket.end(response);
  setTimeout(() => socket.destroy(), 2000).unref();
}

function describe(err: NodeJS.ErrnoException): [number, string, string] {
  return PARSE_ERRORS[err.code ?? ''] ?? [400, 'BAD_REQUEST', `malformed HTTP request (${err.code ?? err.message})`];
}

export function answerNodeErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // As Node's own handler does: answer only if the socket can take it and no response has started on it
    // (a keep-alive connection may be mid-response); otherwise just close.
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, code, message] = describe(err);
    answerAndClose(socket, rawErrorResponse(status, code, message));
  });
  // Without a listener Node drops a CONNECT without a word; this server is no proxy.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    answerAndClose(socket, rawErrorResponse(405, 'METHOD_NOT_ALLOWED', 'CONNECT is not supported: this server is not a proxy'));
  });
  // Node's default answer to an Expect other than 100-continue is a bare 417.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const body = JSON.stringify({ error: { code: 'EXPECTATION_FAILED', message: `unsupported Expect: ${JSON.stringify(String(req.headers.expect).slice(0, 100))}; send none, or 100-continue` } });
    res.writeHead(417, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    res.end(body);
  });
}
