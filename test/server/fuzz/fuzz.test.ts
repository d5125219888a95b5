// The hostile-input suite, bounded for CI: a few hundred seeded requests over every route against a real server (memory, SQLite and PostgreSQL), plus proof that its checks can fail.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError } from '../../../src/errors.js';
import type { StudyApi } from '../../../src/study/api_types.js';
import { fuzzRequest } from './generator.js';
import { FuzzFailure, runFuzz } from './harness.js';
import { pgSkip } from '../../fixtures/pg.js';

const pgDown = await pgSkip();

/** The API with one method's result passed through `after`, whether the method is sync or async. */
function tamper(api: StudyApi, method: keyof StudyApi, after: (args: unknown[], result: unknown) => unknown): StudyApi {
  return new Proxy(api, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof v !== 'function') return v;
      if (key !== method) return v.bind(target);
      return (...args: unknown[]) => {
        const out = v.apply(target, args);
        return out instanceof Promise ? out.then((r) => after(args, r)) : after(args, out);
      };
    },
  });
}

describe('hostile-input suite (CI size)', () => {
  for (const [seed, requests, storage] of [[1, 150, 'memory'], [2, 150, 'memory'], [3, 100, 'sqlite'], [4, 100, 'postgres']] as const) {
    it(`seed ${seed}: ${requests} requests against ${storage} storage: no 5xx, JSON errors, no hang, refusals change nothing`, { skip: storage === 'postgres' && pgDown }, async () => {
      const report = await runFuzz({ seed, requests, storage, timeoutMs: 10_000 });
      assert.equal(report.requests, requests);
      const refused = Object.entries(report.statuses).filter(([s]) => Number(s) >= 400).reduce((n, [, c]) => n + c, 0);
      // A fuzzer that only ever hits one check proves little: most requests are refused, some accepted.
      assert.ok(refused > requests / 3, `only ${refused} of ${requests} refused: ${JSON.stringify(report.statuses)}`);
      assert.ok(report.accepted > 0, `no request changed anything: ${JSON.stringify(report.statuses)}`);
      assert.ok(Object.keys(report.statuses).length >= 6, `too few kinds of answer: ${JSON.stringify(report.statuses)}`);
    });
  }

  it('is reproducible: a seed and an index always give the same request', () => {
    for (let i = 0; i < 50; i++) assert.deepEqual(fuzzRequest(7, i), fuzzRequest(7, i));
    assert.notDeepEqual(fuzzRequest(7, 0), fuzzRequest(8, 0));
  });

  it('fails, naming the seed and the request, when a route answers 500', async () => {
    const broken = (api: StudyApi) => tamper(api, 'tell', (args, r) => {
      if ((args[2] as { value?: number }).value! < 0.5) throw new TypeError('boom');
      return r;
    });
    await assert.rejects(runFuzz({ seed: 1, requests: 1000, wrapApi: broken }), (e: unknown) =>
      e instanceof FuzzFailure && /fuzz seed 1, request #\d+ \(replay: npm run fuzz -- --seed 1 --requests \d+\): status 500/.test(e.message) && /\/tell/.test(e.message));
  });

  it('fails when a refused request changed what is stored', async () => {
    const leaky = (api: StudyApi) => tamper(api, 'report', () => {
      throw new ConflictError('refused after storing');
    });
    await assert.rejects(runFuzz({ seed: 1, requests: 400, wrapApi: leaky }), (e: unknown) =>
      e instanceof FuzzFailure && /stored state changed on a refused request \(409\)/.test(e.message) && /\/report/.test(e.message));
  });
});
