// Seeded generator of hostile HTTP requests over every route: wrong types, huge numbers, deep nesting, unicode, prototype keys, traversal, bad escapes, bad encodings, wrong types and methods.
import { deflateSync, gzipSync, brotliCompressSync } from 'node:zlib';
import { rng } from '../../fixtures/rng.js';

/**
 * A request with symbolic study ids: `{S0}`/`{S1}` are the studies the harness creates first, `{SN}` the newest one
 * (the harness substitutes them). The sequence depends only on the seed, never on responses, so a seed replays it.
 */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body?: Buffer;
  /** Send a Content-Length matching the body (false: the headers already say what the fuzzer wants). */
  contentLength: boolean;
  /** End our side after sending (a promised body cut short must not leave the server waiting). */
  halfClose: boolean;
  /** What was done to it, for the failure message. */
  mutations: string[];
}

type Rand = () => number;

class Pick {
  constructor(readonly rand: Rand) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
  one<T>(items: readonly T[]): T {
    return items[Math.floor(this.rand() * items.length)]!;
  }
}

// ---------------------------------------------------------------- values

const HOSTILE_STRINGS = [
  '', ' ', 'a', '💩', '\u202Eevil', '\u0000', 'zero\u200Bwidth', '\uFEFFbom', 'ﷺ', 'é'.normalize('NFD'), '<img src=x onerror=alert(1)>',
  '../../etc/passwd', '%ZZ', '${7*7}', '{{7*7}}', "'; DROP TABLE trials; --", '__proto__', 'constructor', 'x'.repeat(2001), 'NaN', 'Infinity',
];
/** As JSON text, for values JSON.stringify cannot produce (lone surrogates, numbers beyond float64, -0). */
const RAW_NUMBERS = ['0', '-0', '1', '-1', '1.5', '1e308', '-1e308', '1e999', '-1e999', '1e-400', '9007199254740993', '123456789012345678901234567890', '0.1e1', '64', '65', '2147483648'];
const RAW_STRINGS = ['"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '"\\ufeff"'];

function deep(p: Pick, levels: number): string {
  const open = p.chance(0.5) ? '[' : '{"a":';
  const close = open === '[' ? ']' : '}';
  return `${open.repeat(levels)}${open === '[' ? '' : '1'}${close.repeat(levels)}`;
}

/** JSON text of a random, often hostile, value. */
function valueText(p: Pick, depth = 0): string {
  const r = p.int(0, depth > 2 ? 6 : 11);
  switch (r) {
    case 0: return 'null';
    case 1: return p.chance(0.5) ? 'true' : 'false';
    case 2:
    case 3: return p.one(RAW_NUMBERS);
    case 4: return JSON.stringify(p.one(HOSTILE_STRINGS));
    case 5: return p.one(RAW_STRINGS);
    case 6: return String(p.rand());
    case 7: return `[${Array.from({ length: p.int(0, 3) }, () => valueText(p, depth + 1)).join(',')}]`;
    case 8: return objectText(p, depth + 1);
    case 9: return deep(p, p.one([5, 31, 32, 33, 64, 65, 200, 5000]));
    case 10: return JSON.stringify('x'.repeat(p.one([1000, 70_000, 300_000])));
    default: return protoObject(p);
  }
}

function objectText(p: Pick, depth: number): string {
  const keys = Array.from({ length: p.int(0, 3) }, () => p.one(['a', 'loss', 'count', '', '💩', '__proto__', 'constructor', 'prototype', 'toString', 'value']));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${valueText(p, depth)}`).join(',')}}`;
}

function protoObject(p: Pick): string {
  return p.one([
    '{"__proto__": {"polluted": true}}',
    '{"constructor": {"prototype": {"polluted": true}}}',
    '{"__proto__": null}',
    '{"toString": 1, "valueOf": 2, "hasOwnProperty": 3}',
    `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`).join(',')}}`,
  ]);
}

// ---------------------------------------------------------------- valid bodies, then broken ones

function validConfig(p: Pick): Record<string, unknown> {
  return {
    name: `fuzz-${p.int(0, 3)}`,
    scenario: { dataset: p.one(['mnist', 'fashion-mnist']), steps: p.one([100, 1000]) },
    budget: { trials: p.int(2, 12) },
    executor: 'external',
    optimizer: { type: p.chance(0.8) ? 'random' : 'bayesian' },
  };
}

function validBody(p: Pick, route: Route): Record<string, unknown> | undefined {
  switch (route.name) {
    case 'create': return validConfig(p);
    case 'ask': return p.chance(0.3) ? undefined : { count: p.int(1, 4) };
    case 'report': return { step: p.int(0, 500), value: p.rand(), ...(p.chance(0.5) ? { metrics: { loss: p.rand(), note: p.one(HOSTILE_STRINGS.slice(0, 8)) } } : {}) };
    case 'tell': return p.chance(0.8) ? { value: p.rand() } : { failed: p.one(['diverged', '💩 nan loss']) };
    case 'release':
    case 'heartbeat': return { token: p.int(1, 4) };
    case 'extend': return p.chance(0.7) ? { trials: p.int(1, 200) } : { timeMinutes: p.one([1, 60, 0.5]) };
    case 'rename': return { name: `fuzz-r${p.int(0, 3)}` };
    case 'enqueue': return { schedule: p.one([{ kind: 'paper' }, { kind: 'batchnorm' }, { kind: 'ramp', shape: 'cosine', warmup: 0.2 }, { kind: 'formula', rmax: '1 + 2 * t', dmax: '3 * t' }]), ...(p.chance(0.3) ? { renormMomentum: 0.95 } : {}) };
    case 'stop':
    case 'resume': return p.chance(0.5) ? undefined : {};
    default: return undefined;
  }
}

/** JSON text of the body with one field (or the whole) replaced by something hostile. */
function brokenBodyText(p: Pick, valid: Record<string, unknown> | undefined, mutations: string[]): string {
  const base = valid ?? {};
  const keys = Object.keys(base);
  const how = p.int(0, 9);
  if (how <= 3 && keys.length) {
    // One field gets a hostile value; the rest stay valid so the check under test is the one that fires.
    const key = p.one(keys);
    const text = valueText(p);
    mutations.push(`field ${key} = ${text.slice(0, 60)}`);
    const others = keys.filter((k) => k !== key).map((k) => `${JSON.stringify(k)}:${JSON.stringify(base[k])}`);
    return `{${[...others, `${JSON.stringify(key)}:${text}`].join(',')}}`;
  }
  if (how === 4) {
    const extra = p.one(['__proto__', 'constructor', 'prototype', 'budjet', '', '💩']);
    mutations.push(`extra key ${extra}`);
    return JSON.stringify(base).replace(/^\{/, `{${JSON.stringify(extra)}:${valueText(p)}${keys.length ? ',' : ''}`);
  }
  if (how === 5 && keys.length && typeof base.metrics !== 'undefined') {
    const text = p.one([deep(p, p.one([32, 33, 4100])), valueText(p), protoObject(p), JSON.stringify({ blob: 'x'.repeat(p.one([60_000, 70_000, 250_000])) })]);
    mutations.push(`metrics = ${text.slice(0, 60)}`);
    return JSON.stringify({ ...base, metrics: 0 }).replace('"metrics":0', `"metrics":${text}`);
  }
  if (how === 6) {
    const text = valueText(p);
    mutations.push(`whole body = ${text.slice(0, 60)}`);
    return text;
  }
  const junk = p.one(['', '{', '{"count": ', '{"a":1,}', "{'a': 1}", 'NaN', '{"a":1}{"b":2}', '\uFEFF{}', 'null', '[]', '"str"', '{"a":"\\x"}', '{"a":"\\u12"}']);
  mutations.push(`body text ${JSON.stringify(junk)}`);
  return junk;
}

// ---------------------------------------------------------------- routes and paths

interface Route {
  name: string;
  method: string;
  path: string;
}

const STUDY_REFS = ['{S0}', '{S0}', '{S0}', '{S1}', '{SN}'];

function routes(p: Pick): Route[] {
  const s = p.one(STUDY_REFS);
  const t = String(p.chance(0.85) ? p.int(0, 29) : p.one([30, 999999, -1, 1.5, 'abc', '1e3', '0x10', '01', '9'.repeat(30)]));
  return [
    { name: 'health', method: 'GET', path: '/api/health' },
    { name: 'ready', method: 'GET', path: '/api/ready' },
    { name: 'queue', method: 'GET', path: '/api/queue' },
    { name: 'metrics', method: 'GET', path: '/metrics' },
    { name: 'create', method: 'POST', path: '/api/studies' },
    { name: 'list', method: 'GET', path: '/api/studies' },
    { name: 'view', method: 'GET', path: `/api/studies/${s}` },
    { name: 'ask', method: 'POST', path: `/api/studies/${s}/ask` },
    { name: 'trial', method: 'GET', path: `/api/studies/${s}/trials/${t}` },
    { name: 'report', method: 'POST', path: `/api/studies/${s}/trials/${t}/report` },
    { name: 'tell', method: 'POST', path: `/api/studies/${s}/trials/${t}/tell` },
    { name: 'release', method: 'POST', path: `/api/studies/${s}/trials/${t}/release` },
    { name: 'heartbeat', method: 'POST', path: `/api/studies/${s}/trials/${t}/heartbeat` },
    { name: 'best', method: 'GET', path: `/api/studies/${s}/best-schedule` },
    { name: 'gp', method: 'GET', path: `/api/studies/${s}/gp` },
    { name: 'importance', method: 'GET', path: `/api/studies/${s}/importance` },
    { name: 'events', method: 'GET', path: `/api/studies/${s}/events` },
    { name: 'extend', method: 'POST', path: `/api/studies/${s}/extend` },
    { name: 'stop', method: 'POST', path: `/api/studies/${s}/stop` },
    { name: 'resume', method: 'POST', path: `/api/studies/${s}/resume` },
    { name: 'rename', method: 'POST', path: `/api/studies/${s}/rename` },
    { name: 'enqueue', method: 'POST', path: `/api/studies/${s}/enqueue` },
    // Only the newest study: deleting the seeded ones would leave most later requests a plain 404.
    { name: 'delete', method: 'DELETE', path: '/api/studies/{SN}' },
    { name: 'page', method: 'GET', path: p.one(['/', '/index.html', '/study.html?id={S0}', '/style.css', '/vendor/chart.umd.js', '/js/study.js', '/js/ui/api.js', '/js/study.js.map', '/js/study.d.ts', '/?token=abc']) },
  ];
}

const BAD_SEGMENTS = [
  '%ZZ', '%', '%E0%A4%A', '%C0%AF', '%00', '%F0%9F%92%A9', '%E2%80%AE', '..', '..%2f..%2fpackage.json', '%2e%2e%2f%2e%2e%2fpackage.json', '....//',
  '__proto__', 'constructor', 'hasOwnProperty', 'toString', 'x'.repeat(5000), '%252e%252e', 'a;b', 'a%2fb', '~root', '%u0041',
];

function mutatePath(p: Pick, path: string, mutations: string[]): string {
  const segs = path.split('?')[0]!.split('/');
  const how = p.int(0, 3);
  if (how === 0 && segs.length > 2) {
    const i = p.int(2, segs.length - 1);
    segs[i] = p.one(BAD_SEGMENTS);
    mutations.push(`path segment ${i} = ${segs[i]!.slice(0, 40)}`);
    return segs.join('/');
  }
  if (how === 1) {
    const q = p.one(['?__proto__[polluted]=1', '?constructor[prototype][x]=1', '?a=%ZZ', '?token=%ZZ', `?x=${'y'.repeat(3000)}`, '?count=5&count=6', '?%', '?=&=']);
    mutations.push(`query ${q.slice(0, 40)}`);
    return path + (path.includes('?') ? q.replace('?', '&') : q);
  }
  if (how === 2) {
    const junk = p.one(['/api/../package.json', '/js/../../package.json', '/api/studies/%2e%2e/%2e%2e', '//evil.example/api/studies', '/API/STUDIES', '/api/studies/', '/api//studies', '/api/nothing', '/.env', '/js/', '/js/%2e%2e/%2e%2e/package.json']);
    mutations.push(`path ${junk}`);
    return junk;
  }
  mutations.push('path trailing junk');
  return `${path}${p.one(['/', '/x', '%20', '.json', ';x', '#frag'])}`;
}

// ---------------------------------------------------------------- headers and encodings

const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/json; charset=latin1',
  'application/json; charset=utf-16', 'application/json; charset=bogus', 'APPLICATION/JSON', 'application/json;', '*/*', 'application/ld+json', ''];

function mutateHeaders(p: Pick, req: FuzzRequest, mutations: string[]): void {
  const how = p.int(0, 9);
  const set = (k: string, v: string) => {
    req.headers = req.headers.filter(([h]) => h.toLowerCase() !== k.toLowerCase());
    req.headers.push([k, v]);
  };
  switch (how) {
    case 0: {
      const t = p.one(CONTENT_TYPES);
      if (t === '') req.headers = req.headers.filter(([h]) => h !== 'content-type');
      else set('content-type', t);
      mutations.push(`content-type ${JSON.stringify(t)}`);
      return;
    }
    case 1:
      set('origin', p.one(['http://evil.example', 'null', 'http://127.0.0.1:1', 'http://localhost', 'file://', 'http://127.0.0.1:{PORT}']));
      mutations.push(`origin ${req.headers.at(-1)![1]}`);
      return;
    case 2:
      set('sec-fetch-site', p.one(['cross-site', 'same-site', 'same-origin', 'none', 'bogus']));
      mutations.push(`sec-fetch-site ${req.headers.at(-1)![1]}`);
      return;
    case 3:
      set('host', p.one(['evil.example', 'evil.example:{PORT}', 'localhost.', '127.0.0.1.nip.io', '[::1]:{PORT}', 'localhost:{PORT}', '', 'a b', '127.0.0.1:{PORT}:1', '[::1']));
      mutations.push(`host ${JSON.stringify(req.headers.at(-1)![1])}`);
      return;
    case 4:
      set(p.one(['authorization', 'cookie']), p.one(['Bearer ', 'Bearer x', 'Basic Zm9vOmJhcg==', 'renorm_tune_token=%ZZ', 'renorm_tune_token=x'.repeat(500), '💩']));
      mutations.push(`${req.headers.at(-1)![0]} junk`);
      return;
    case 5:
      set('x-filler', 'a'.repeat(p.one([1000, 20_000])));
      mutations.push(`x-filler ${req.headers.at(-1)![1].length} bytes`);
      return;
    case 6:
      set('expect', p.one(['100-continue', 'bogus']));
      mutations.push(`expect ${req.headers.at(-1)![1]}`);
      return;
    case 7:
      set('accept', p.one(['text/html', 'application/xml', '*/*;q=0', '💩']));
      set('accept-encoding', p.one(['gzip', 'br', 'identity;q=0', 'bogus']));
      mutations.push('accept headers');
      return;
    default:
      set('x-forwarded-for', p.one(['1.2.3.4', '💩', '']));
      set('x-http-method-override', 'DELETE');
      mutations.push('forwarding headers');
  }
}

/** Re-encodes (or corrupts) the body, or breaks its framing (CL+TE, short Content-Length, bad chunks). */
function mutateFraming(p: Pick, req: FuzzRequest, mutations: string[]): void {
  const body = req.body ?? Buffer.from('{}');
  const how = p.int(0, 8);
  const encode = (enc: string, data: Buffer) => {
    req.headers.push(['content-encoding', enc]);
    req.body = data;
  };
  switch (how) {
    case 0: encode('gzip', gzipSync(body)); mutations.push('gzip body'); return;
    case 1: encode('br', brotliCompressSync(body)); mutations.push('br body'); return;
    case 2: encode(p.one(['gzip', 'deflate', 'br']), p.chance(0.5) ? body : gzipSync(body).subarray(0, 8)); mutations.push(`corrupt ${req.headers.at(-1)![1]} body`); return;
    case 3: encode(p.one(['compress', 'zstd', 'gzip, gzip', 'identity', 'bogus', 'GZIP']), body); mutations.push(`content-encoding ${req.headers.at(-1)![1]}`); return;
    case 4:
      req.headers.push(['content-length', String(body.length)], ['transfer-encoding', 'chunked']);
      req.body = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
      req.contentLength = false;
      mutations.push('content-length with transfer-encoding');
      return;
    case 5:
      req.headers.push(['content-length', String(body.length + p.int(1, 100))]);
      req.contentLength = false;
      req.halfClose = true;
      mutations.push('body shorter than content-length');
      return;
    case 6:
      req.headers.push(['transfer-encoding', 'chunked']);
      req.body = Buffer.concat([Buffer.from(p.one(['zz\r\n', `${body.length.toString(16)}\r\n`])), body, Buffer.from(p.one(['\r\n0\r\n\r\n', '\r\n', '']))]);
      req.contentLength = false;
      req.halfClose = true;
      mutations.push('chunked framing');
      return;
    case 7:
      req.body = Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0xc3, 0x28]);
      mutations.push('invalid UTF-8 body');
      return;
    default:
      req.headers.push(['content-length', String(body.length)], ['content-length', String(body.length + 1)]);
      req.contentLength = false;
      mutations.push('two content-lengths');
  }
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'CONNECT', 'FROB', 'get', 'M-SEARCH'];

/** Request number `index` of the run seeded with `seed`: the same pair always gives the same request. */
export function fuzzRequest(seed: number, index: number): FuzzRequest {
  // One stream per request, so request i does not depend on how many draws requests 0..i-1 made.
  const p = new Pick(rng((seed * 0x9e3779b1 + index * 0x85ebca6b) >>> 0));
  const route = p.one(routes(p));
  const mutations: string[] = [`route ${route.name}`];
  const valid = validBody(p, route);
  const req: FuzzRequest = { method: route.method, path: route.path, headers: [], contentLength: true, halfClose: false, mutations };
  if (route.method === 'POST' || route.method === 'DELETE') req.headers.push(['content-type', 'application/json']);
  // A share of valid requests keeps the studies changing, so refusals are checked against live state.
  const hostile = p.chance(0.8);
  if (valid !== undefined) req.body = Buffer.from(hostile && p.chance(0.6) ? brokenBodyText(p, valid, mutations) : JSON.stringify(valid));
  if (hostile) {
    const n = p.int(1, 3);
    for (let i = 0; i < n; i++) {
      const what = p.int(0, 5);
      if (what === 0) {
        req.method = p.one(METHODS);
        mutations.push(`method ${req.method}`);
      } else if (what === 1) req.path = mutatePath(p, req.path, mutations);
      else if (what <= 3) mutateHeaders(p, req, mutations);
      else if (what === 4 && req.method !== 'GET') mutateFraming(p, req, mutations);
      else if (what === 5 && req.method === 'GET' && p.chance(0.5)) {
        req.body = Buffer.from(brokenBodyText(p, {}, mutations));
        req.headers.push(['content-type', p.one(['application/json', 'text/plain'])]);
      }
    }
  } else {
    mutations.push('valid');
  }
  return req;
}
