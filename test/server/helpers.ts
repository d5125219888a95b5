// Test helpers for the server: a listening server on a free loopback port and a tiny JSON client.
import { createServer, type RunningServer, type ServerOptions } from '../../src/server/index.js';
import type { StudyApi } from '../../src/study/api_types.js';

export async function start(opts: ServerOptions): Promise<RunningServer> {
  return createServer({ host: '127.0.0.1', port: 0, dashboard: false, log: () => {}, ...opts });
}

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

/**
 * `body` may be an object (sent as JSON) or a raw string (sent as is, with `type` as Content-Type). A POST (any
 * method but GET/HEAD) declares `type` even without a body, as the API requires; `type` null sends no Content-Type.
 */
export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, type: string | null = 'application/json'): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  if (type !== null && (body !== undefined || !['GET', 'HEAD'].includes(method))) (init.headers as Record<string, string>)['content-type'] = type;
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the test will say so
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Everything a client can read (every study and all its trials), for "a rejected request changed nothing" checks. */
export async function snapshot(api: StudyApi): Promise<string> {
  const studies = await api.listStudies();
  return JSON.stringify(await Promise.all(studies.map((s) => api.getStudyView(s.id))));
}

/**
 * An external study that asks only for search trials (no baselines, no race, no final runs), so a test can count
 * trials exactly; the evidence flow has its own tests (test/server/evidence_flow.test.ts).
 */
export const studyConfig = (name = 'api-study', extra: Record<string, unknown> = {}) => ({
  name, scenario: { dataset: 'mnist', steps: 1000 }, budget: { trials: 10 }, executor: 'external', baselines: false,
  finalValidation: { seeds: 0, race: { candidates: 1 } }, ...extra,
});
