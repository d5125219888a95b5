// Finding 2: every client mistake is a 4xx with a JSON error body: bad escapes, corrupt compressed bodies, deep JSON, unknown errors carrying a 4xx, and Node's own 400/431.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import { toErrorResponse, type RunningServer } from '../../src/server/index.js';
import { call, start, studyConfig } from './helpers.js';
import { rawRequest, type RawResponse } from './raw_http.js';

function assertJsonError(r: RawResponse, status: number, code: string | RegExp, what: string): void {
  const text = r.body.toString('utf8').slice(0, 300);
  assert.equal(r.status, status, `${what}: ${text}`);
  assert.match(r.headers['content-type'] ?? '', /application\/json/, `${what}: ${text}`);
  const err = (r.json as { error?: { code?: string; message?: string } } | undefined)?.error;
  assert.ok(err && typeof err.message === 'string', `${what}: not a JSON error body: ${text}`);
  if (typeof code === 'string') assert.equal(err.code, code, what);
  else assert.match(err.code ?? '', code, what);
}

describe('client mistakes are 4xx JSON errors', () => {
  let srv: RunningServer;
  let port: number;
  let id: string;
  let studies: string;

  before(async () => {
    srv = await start({ api: createStudyService(new MemoryStorage()), dashboard: true });
    port = srv.port;
    id = (await call(srv.url, 'POST', '/api/studies', studyConfig('errors', { optimizer: { type: 'random' } }))).body.id;
    studies = JSON.stringify((await call(srv.url, 'GET', `/api/studies/${id}`)).body);
  });
  after(async () => {
    assert.equal(JSON.stringify((await call(srv.url, 'GET', `/api/studies/${id}`)).body), studies, 'no refused request changed the study');
    await srv.close();
  });

  it('answers 400 INVALID_URL to malformed percent-encoding in API and dashboard paths', async () => {
    for (const path of ['/api/studies/%ZZ', '/api/studies/%', `/api/studies/${id}/trials/%E0%A4%A/tell`, '/js/%ZZ.js']) {
      const method = path.endsWith('/tell') ? 'POST' : 'GET';
      const r = await rawRequest(port, { method, path, headers: [['content-type', 'application/json']], body: method === 'POST' ? '{"value": 1}' : undefined });
      assertJsonError(r, 400, 'INVALID_URL', path);
      assert.match((r.json as { error: { message: string } }).error.message, /percent/);
    }
  });

  it('answers 400 INVALID_JSON saying where the body goes wrong, and that NaN and Infinity are not JSON', async () => {
    for (const [body, want] of [['{"value": NaN, "token": 1}', /line 1, column 11: NaN is not a JSON number .*"failed"/], ['{\n "value": -Infinity}', /line 2, column 11: -Infinity is not a JSON number/],
      ['{"value": 0.5', /line 1, column 14: the body ends too early/], ['{"value": 0.5}}', /line 1, column 15, near "}"/], ['null', /must be a JSON object, got null/]] as const) {
      const r = await rawRequest(port, { method: 'POST', path: `/api/studies/${id}/trials/0/tell`, headers: [['content-type', 'application/json']], body });
      assertJsonError(r, 400, 'INVALID_JSON', body);
      assert.match((r.json as { error: { message: string } }).error.message, want, body);
    }
  });

  it('answers 400 INVALID_JSON to a key given twice, even gzipped, rather than keeping the last one silently', async () => {
    for (const [body, gz] of [['{"value": 0.9, "value": 0.1}', false], ['{"value": 0.9, "\\u0076alue": 0.1}', true]] as const) {
      const r = await rawRequest(port, {
        method: 'POST', path: `/api/studies/${id}/trials/0/tell`, body: gz ? gzipSync(body) : body,
        headers: [['content-type', 'application/json'], ...(gz ? [['content-encoding', 'gzip'] as [string, string]] : [])],
      });
      assertJsonError(r, 400, 'INVALID_JSON', body);
      assert.match((r.json as { error: { message: string } }).error.message, /has the key "value" twice \(fix: send each key once\)/, body);
    }
    const nested = '{"name": "n", "scenario": {"steps": 10, "steps": 20}}';
    const r = await rawRequest(port, { method: 'POST', path: '/api/studies', headers: [['content-type', 'application/json']], body: nested });
    assertJsonError(r, 400, 'INVALID_JSON', nested);
    assert.match((r.json as { error: { message: string } }).error.message, /"steps" twice in scenario/);
  });

  it('answers 413 PAYLOAD_TOO_LARGE naming the size and the limit', async () => {
    const body = JSON.stringify({ value: 0.5, pad: 'x'.repeat(300_000) });
    const r = await rawRequest(port, { method: 'POST', path: `/api/studies/${id}/trials/0/tell`, headers: [['content-type', 'application/json']], body });
    assertJsonError(r, 413, 'PAYLOAD_TOO_LARGE', 'a 300 kB tell');
    assert.match((r.json as { error: { message: string } }).error.message, new RegExp(`is ${body.length} bytes, over the limit of 262144 bytes \\(fix: send less`));
  });

  for (const [encoding, body] of [['gzip', Buffer.from('not gzip at all')], ['deflate', Buffer.from('nor deflate')], ['br', Buffer.from([0xff, 0xff, 0xff, 0x00, 0x01])],
    ['gzip', gzipSync('{"count": 1}').subarray(0, 12)]] as Array<[string, Buffer]>) {
    it(`answers 400 INVALID_ENCODING to a corrupt ${encoding} body (${body.length} bytes)`, async () => {
      const r = await rawRequest(port, { method: 'POST', path: `/api/studies/${id}/ask`, headers: [['content-type', 'application/json'], ['content-encoding', encoding]], body });
      assertJsonError(r, 400, 'INVALID_ENCODING', encoding);
      assert.match((r.json as { error: { message: string } }).error.message, new RegExp(encoding));
    });
  }

  it('answers a client that ended its side after sending (half-close), even when the answer waits on zlib', async () => {
    const chunked = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n0\r\n\r\n')]);
    for (let k = 0; k < 3; k++) {
      const r = await rawRequest(port, {
        method: 'POST', path: `/api/studies/${id}/ask`, body: chunked(Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0xc3, 0x28])), contentLength: false, halfClose: true,
        headers: [['content-type', 'application/json'], ['content-encoding', 'gzip'], ['transfer-encoding', 'chunked']],
      });
      assertJsonError(r, 400, 'INVALID_ENCODING', `half-closed corrupt gzip #${k}`);
    }
  });

  it('still reads well-formed gzip and br bodies (checked with an invalid count, so nothing is stored)', async () => {
    for (const [encoding, body] of [['gzip', gzipSync('{"count": 0}')], ['br', brotliCompressSync('{"count": 0}')]] as const) {
      const r = await rawRequest(port, { method: 'POST', path: `/api/studies/${id}/ask`, headers: [['content-type', 'application/json'], ['content-encoding', encoding]], body });
      assertJsonError(r, 400, 'INVALID_ASK', encoding);
      assert.equal((r.json as { error: { field: string } }).error.field, 'count');
    }
  });

  it('answers 400 to JSON nested thousands deep wherever it is, including values the message would describe', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    for (const [path, text] of [[`/api/studies/${id}/ask`, `{"count": ${deep}}`], ['/api/studies', `{"name": ${deep}}`], [`/api/studies/${id}/trials/1/tell`, deep]]) {
      const r = await rawRequest(port, { method: 'POST', path: path!, headers: [['content-type', 'application/json']], body: text });
      assertJsonError(r, 400, 'INVALID_CONFIG', path!);
    }
  });

  it('answers Node\'s own parser errors with JSON: 431 for huge headers, 400 for Content-Length with Transfer-Encoding or a bad method', async () => {
    const big = await rawRequest(port, { method: 'GET', path: '/api/studies', headers: [['x-filler', 'a'.repeat(20_000)]] });
    assertJsonError(big, 431, 'HEADERS_TOO_LARGE', '431');
    const both = await rawRequest(port, { method: 'POST', path: `/api/studies/${id}/ask`, headers: [['content-type', 'application/json'], ['content-length', '3'], ['transfer-encoding', 'chunked']], body: '0\r\n\r\n', contentLength: false });
    assertJsonError(both, 400, 'BAD_REQUEST', 'CL+TE');
    const method = await rawRequest(port, { method: 'FROB', path: '/api/studies' });
    assertJsonError(method, 400, 'BAD_REQUEST', 'unknown method');
  });
});

describe('toErrorResponse', () => {
  it('honours a 4xx status or statusCode on an error it does not know', () => {
    const e405 = toErrorResponse(Object.assign(new Error('nope'), { status: 405 }));
    assert.equal(e405.status, 405);
    assert.equal(e405.body.error.code, 'METHOD_NOT_ALLOWED');
    assert.equal(e405.internal, false);
    const exposed = toErrorResponse(Object.assign(new Error('the client sent X'), { statusCode: 422, expose: true }));
    assert.equal(exposed.status, 422);
    assert.equal(exposed.body.error.message, 'the client sent X');
    const hidden = toErrorResponse(Object.assign(new Error('secret path /etc/x'), { status: 400 }));
    assert.doesNotMatch(hidden.body.error.message, /secret/, 'a message not marked expose stays in the log');
  });

  it('keeps 5xx, odd statuses and plain errors as 500 INTERNAL', () => {
    for (const err of [new Error('x'), Object.assign(new Error('x'), { status: 503 }), Object.assign(new Error('x'), { status: 'bad' }), Object.assign(new Error('x'), { status: 399 }), null, 'str']) {
      const r = toErrorResponse(err);
      assert.equal(r.status, 500, String(err));
      assert.equal(r.body.error.code, 'INTERNAL');
      assert.equal(r.internal, true);
    }
  });
});
