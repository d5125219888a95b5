// The 405 reads express 5's route layers; a router whose internals differ (an express the dependency range let in) is a 404 as before, never a 500.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import express, { type Router } from 'express';
import { allowedMethods, refuseWrongMethod } from '../../src/server/methods.js';

function refusal(router: Router, method: string, path: string): unknown {
  let passed: unknown = 'not called';
  const headers: Record<string, string> = {};
  const res = { set: (k: string, v: string) => (headers[k] = v) };
  refuseWrongMethod(router)({ method, path, baseUrl: '/api' } as never, res as never, (err?: unknown) => (passed = err));
  return passed;
}

test('the methods of a known path come from express 5\'s own route layers, and a wrong one is a 405 naming them', () => {
  const router = express.Router();
  router.get('/studies/:id', (_req, res) => res.end());
  router.delete('/studies/:id', (_req, res) => res.end());
  router.post('/studies/:id/ask', (_req, res) => res.end());
  assert.deepEqual(allowedMethods(router, '/studies/abc'), ['GET', 'HEAD', 'DELETE']);
  assert.deepEqual(allowedMethods(router, '/nowhere'), []);
  const err = refusal(router, 'PUT', '/studies/abc') as { status?: number; message?: string };
  assert.equal(err?.status, 405);
  assert.match(String(err?.message), /takes GET, DELETE only, not PUT/);
  assert.equal(refusal(router, 'GET', '/studies/abc'), undefined, 'a method it takes passes on');
});

test('a router whose layers are not express 5\'s: no 405 and no throw (the request passes on to the 404), whatever the path', () => {
  for (const stack of [[{ route: { path: '/studies/:id' } }], [{ match: () => true, route: { methods: { get: true } } }], null, 'x']) {
    const router = { stack } as unknown as Router;
    assert.deepEqual(allowedMethods(router, '/studies/abc'), [], JSON.stringify(stack));
    assert.equal(refusal(router, 'PUT', '/studies/abc'), undefined, `passed on: ${JSON.stringify(stack)}`);
  }
});
