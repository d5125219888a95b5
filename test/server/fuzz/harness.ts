// Drives a real server with the seeded hostile requests and checks, after each one: no 5xx, a JSON error body, no hang, and (seen only through GETs) nothing stored changed on a refusal.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type RunningServer } from '../../../src/server/index.js';
import type { StudyApi } from '../../../src/study/api_types.js';
import { createStudyService } from '../../../src/study/service/defaults.js';
import { MemoryStorage, SqliteStorage } from '../../../src/study/storage/index.js';
import { PgStorage } from '../../../src/study/storage/postgres.js';
import type { Storage } from '../../../src/study/types.js';
import { createTestDatabase } from '../../fixtures/pg.js';

export const FUZZ_STORAGES = ['memory', 'sqlite', 'postgres'] as const;
export type FuzzStorage = (typeof FUZZ_STORAGES)[number];
import { rawRequest, requestBytes, RawTimeout, type RawResponse } from '../raw_http.js';
import { fuzzRequest, type FuzzRequest } from './generator.js';

export interface FuzzOptions {
  seed: number;
  /** Stop after this many requests... */
  requests: number;
  /** ...or after this long, whichever comes first (default: no time limit). */
  maxMs?: number;
  /** A request without a whole answer within this long is a hang. Default 5 s. */
  timeoutMs?: number;
  /** postgres: a fresh database on the test server (`test/fixtures/pg.ts`), dropped afterwards. */
  storage?: FuzzStorage;
  /** Wraps the service (the self-test breaks it on purpose to prove the checks can fail). */
  wrapApi?: (api: StudyApi) => StudyApi;
  /** Progress lines for the long run. */
  progress?: (line: string) => void;
}

export interface FuzzReport {
  seed: number;
  requests: number;
  ms: number;
  /** How many answers had each status. */
  statuses: Record<number, number>;
  /** Requests that were accepted and changed stored state. */
  accepted: number;
}

export class FuzzFailure extends Error {}

/**
 * Keys whose values may change without any request (time stamps refreshed by a heartbeat, say). None does today;
 * they are listed here rather than loosening the comparison.
 */
const VOLATILE_KEYS = new Set<string>(['heartbeatAt', 'leaseExpiresAt']);

function stable(value: unknown): string {
  return JSON.stringify(value, (k, v) => (VOLATILE_KEYS.has(k) ? undefined : v));
}

/** Everything stored, as the API shows it: the list and each study's full view, which must all be readable JSON. */
async function snapshot(port: number, timeoutMs: number): Promise<{ text: string; ids: string[] }> {
  const get = async (path: string): Promise<unknown> => {
    const r = await rawRequest(port, { method: 'GET', path }, timeoutMs);
    if (r.status !== 200 || r.json === undefined) {
      throw new FuzzFailure(`GET ${path} answered ${r.status} ${r.body.toString('utf8').slice(0, 300)}: something stored can no longer be read`);
    }
    return r.json;
  };
  const list = (await get('/api/studies')) as { studies: Array<{ id: string; name: string }> };
  const ids = list.studies.map((s) => s.id);
  const views = [];
  for (const id of ids) views.push(await get(`/api/studies/${encodeURIComponent(id)}`));
  return { text: stable({ list, views }), ids };
}

function substitute(req: FuzzRequest, port: number, refs: Record<string, string>): FuzzRequest {
  const sub = (s: string) => s.replace(/\{(S0|S1|SN|PORT)\}/g, (_m, k: string) => (k === 'PORT' ? String(port) : refs[k]!));
  return { ...req, path: sub(req.path), headers: req.headers.map(([k, v]) => [k, sub(v)]) };
}

const MAX_SHOWN = 1500;

function describeRequest(port: number, req: FuzzRequest): string {
  const bytes = requestBytes(port, req).toString('latin1');
  return `${req.mutations.join('; ')}\n${JSON.stringify(bytes.length > MAX_SHOWN ? `${bytes.slice(0, MAX_SHOWN)}... (${bytes.length} bytes)` : bytes)}`;
}

/** The checks every answer must pass; returns a reason, or null. */
function problem(req: FuzzRequest, res: RawResponse): string | null {
  if (!(res.status >= 100 && res.status < 500)) return `status ${res.status}`;
  const api = req.path.startsWith('/api');
  const noBody = req.method === 'HEAD' || res.status === 204 || res.status === 304;
  if (res.status >= 400) {
    if (!/^application\/json/.test(res.headers['content-type'] ?? '')) return `error without a JSON content type (${res.headers['content-type']})`;
    if (noBody) return null;
    const err = (res.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    if (!err || typeof err.code !== 'string' || typeof err.message !== 'string') return 'error body is not {error: {code, message}}';
    return null;
  }
  // A successful API answer is JSON, except the event stream and express's plain-text answer to OPTIONS.
  if (api && !noBody && !res.stream && req.method !== 'OPTIONS' && res.status !== 304 && res.json === undefined && res.status < 300) return 'a 2xx API answer that is not JSON';
  return null;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

async function post(port: number, path: string, body: unknown): Promise<RawResponse> {
  return rawRequest(port, { method: 'POST', path, headers: [['content-type', 'application/json']], body: JSON.stringify(body) });
}

/** Runs one seeded fuzz session against a fresh server; throws FuzzFailure naming the seed and the request. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const dir = opts.storage === 'sqlite' ? mkdtempSync(join(tmpdir(), 'renorm-fuzz-')) : undefined;
  const pgDb = opts.storage === 'postgres' ? await createTestDatabase('fuzz') : undefined;
  if (pgDb && 'unavailable' in pgDb) throw new Error(`fuzz --storage postgres: ${pgDb.unavailable}`);
  const storage: Storage = dir ? new SqliteStorage(join(dir, 'fuzz.db')) : pgDb ? await PgStorage.connect(pgDb.url) : new MemoryStorage();
  const service = createStudyService(storage);
  const api = opts.wrapApi ? opts.wrapApi(service) : service;
  const internal: string[] = [];
  let srv: RunningServer | undefined;
  const t0 = Date.now();
  const report: FuzzReport = { seed: opts.seed, requests: 0, ms: 0, statuses: {}, accepted: 0 };
  try {
    srv = await createServer({ api, host: '127.0.0.1', port: 0, dashboard: true, env: {}, log: (m) => internal.push(m) });
    const port = srv.port;
    // Two studies with live trials, so trial routes meet real trials in every state: S0 asks first and gets the
    // trial numbers 0-29 the generator mostly names, S1 (budget 3) is already exhausted.
    const refs: Record<string, string> = {};
    for (const [ref, trials, asked] of [['S0', 80, 30], ['S1', 3, 3]] as const) {
      const created = await post(port, '/api/studies', { name: `seeded-${ref}`, scenario: { dataset: 'mnist', steps: 1000 }, budget: { trials }, executor: 'external', optimizer: { type: 'random' } });
      refs[ref] = (created.json as { id: string }).id;
      await post(port, `/api/studies/${refs[ref]}/ask`, { count: asked });
    }
    refs.SN = refs.S1!;
    await post(port, `/api/studies/${refs.S0}/trials/1/report`, { step: 10, value: 0.5, metrics: { loss: 0.7 } });
    await post(port, `/api/studies/${refs.S0}/trials/2/tell`, { value: 0.6 });
    let before = await snapshot(port, timeoutMs);

    for (let i = 0; i < opts.requests; i++) {
      if (opts.maxMs !== undefined && Date.now() - t0 > opts.maxMs) break;
      const req = substitute(fuzzRequest(opts.seed, i), port, refs);
      const fail = (why: string, res?: RawResponse): never => {
        const answer = res ? `\nanswer: ${res.status} ${JSON.stringify(res.body.toString('utf8').slice(0, 400))}` : '';
        const log = internal.length ? `\nserver log: ${internal.slice(-3).join('\n').slice(0, 1500)}` : '';
        throw new FuzzFailure(`fuzz seed ${opts.seed}, request #${i} (replay: npm run fuzz -- --seed ${opts.seed} --requests ${i + 1}${opts.storage && opts.storage !== 'memory' ? ` --storage ${opts.storage}` : ''}): ${why}\nrequest: ${describeRequest(port, req)}${answer}${log}`);
      };
      let res: RawResponse;
      try {
        res = await rawRequest(port, req, timeoutMs);
      } catch (err) {
        fail(err instanceof RawTimeout ? `hang: ${err.message}` : `no answer: ${err instanceof Error ? err.message : String(err)}`);
      }
      res = res!;
      report.requests++;
      report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
      const bad = problem(req, res);
      if (bad) fail(bad, res);
      if (internal.length) fail('the server logged an internal error', res);
      let after: { text: string; ids: string[] };
      try {
        after = await snapshot(port, timeoutMs);
      } catch (err) {
        fail(err instanceof Error ? err.message : String(err), res);
      }
      after = after!;
      const refused = res.status >= 400;
      if ((refused || SAFE.has(req.method.toUpperCase())) && after.text !== before.text) {
        fail(`stored state changed on a ${refused ? 'refused' : 'read-only'} request (${res.status})`, res);
      }
      if (!refused && after.text !== before.text) {
        report.accepted++;
        const fresh = after.ids.find((id) => !before.ids.includes(id));
        if (fresh) refs.SN = fresh;
      }
      before = after;
      if (opts.progress && (i + 1) % 1000 === 0) opts.progress(`seed ${opts.seed}: ${i + 1} requests in ${((Date.now() - t0) / 1000).toFixed(1)} s, statuses ${JSON.stringify(report.statuses)}`);
    }
  } finally {
    await srv?.close();
    await storage.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (pgDb && !('unavailable' in pgDb)) await pgDb.drop();
  }
  report.ms = Date.now() - t0;
  return report;
}
