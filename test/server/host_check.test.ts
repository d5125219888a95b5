// Finding 3, DNS rebinding: without a token only loopback Host names (and --allowed-hosts) are served; with a token any name reaches the token check.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { register as registerRun } from '../../src/cli/run.js';
import { register as registerServe, serve } from '../../src/cli/study.js';
import { ConfigError } from '../../src/errors.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import { parseAllowedHosts, resolveListenOptions, type RunningServer } from '../../src/server/index.js';
import { start, studyConfig } from './helpers.js';
import { rawRequest } from './raw_http.js';

const TOKEN = 'correct-horse-battery';

async function withServer(opts: Parameters<typeof start>[0] extends infer O ? Partial<O> : never, f: (srv: RunningServer) => Promise<void>): Promise<void> {
  const srv = await start({ api: createStudyService(new MemoryStorage()), dashboard: true, ...opts });
  try {
    await f(srv);
  } finally {
    await srv.close();
  }
}

const get = (srv: RunningServer, path: string, host: string, headers: Array<[string, string]> = []) => rawRequest(srv.port, { method: 'GET', path, headers: [['host', host], ...headers] });
const create = (srv: RunningServer, host: string, name: string, headers: Array<[string, string]> = []) =>
  rawRequest(srv.port, { method: 'POST', path: '/api/studies', headers: [['host', host], ['content-type', 'application/json'], ...headers], body: JSON.stringify(studyConfig(name)) });
const count = async (srv: RunningServer) => ((await get(srv, '/api/studies', '127.0.0.1', [['authorization', `Bearer ${TOKEN}`]])).json as { studies: unknown[] }).studies.length;

describe('Host check without a token', () => {
  it('serves loopback names, with or without the port', async () => {
    await withServer({}, async (srv) => {
      for (const host of [`127.0.0.1:${srv.port}`, `localhost:${srv.port}`, `LOCALHOST:${srv.port}`, `[::1]:${srv.port}`, 'localhost', '127.0.0.1']) {
        assert.equal((await get(srv, '/api/studies', host)).status, 200, host);
      }
      assert.equal((await create(srv, `localhost:${srv.port}`, 'from-localhost')).status, 201);
    });
  });

  it('answers 403 HOST_NOT_ALLOWED as JSON to any other name, on the API and the pages, and stores nothing', async () => {
    await withServer({}, async (srv) => {
      for (const host of ['evil.example', `evil.example:${srv.port}`, 'localhost.evil.example', `localhost.:${srv.port}`, '10.0.0.1', '127.0.0.1.nip.io', `127.0.0.1:${srv.port}@evil`, '']) {
        for (const path of ['/api/studies', '/api/health', '/', '/js/study.js']) {
          const r = await get(srv, path, host);
          assert.equal(r.status, 403, `${host} ${path}`);
          assert.match(r.headers['content-type'] ?? '', /application\/json/);
          assert.equal((r.json as { error: { code: string } }).error.code, 'HOST_NOT_ALLOWED', `${host} ${path}`);
        }
        const w = await create(srv, host, 'rebound');
        assert.equal(w.status, 403, host);
        assert.match((w.json as { error: { message: string } }).error.message, /--allowed-hosts/);
      }
      assert.equal(await count(srv), 0);
    });
  });

  it('also serves the names given as allowedHosts (--allowed-hosts)', async () => {
    await withServer({ allowedHosts: ['studies.lan', 'Box.Local'] }, async (srv) => {
      for (const host of ['studies.lan', `studies.lan:${srv.port}`, `box.local:${srv.port}`, `localhost:${srv.port}`]) assert.equal((await get(srv, '/api/studies', host)).status, 200, host);
      const refused = await get(srv, '/api/studies', 'evil.example');
      assert.equal(refused.status, 403);
      assert.doesNotMatch(refused.body.toString(), /studies\.lan|box\.local/, 'a rebound page can read the answer: it must not learn the names');
      assert.equal((await get(srv, '/api/studies', 'sub.studies.lan')).status, 403, 'names match exactly');
    });
  });
});

describe('Host check with a token', () => {
  it('lets any name reach the token check: the token, not the name, protects the API', async () => {
    await withServer({ token: TOKEN }, async (srv) => {
      assert.equal((await get(srv, '/api/studies', 'my-server.lan')).status, 401);
      assert.equal((await get(srv, '/api/studies', 'my-server.lan', [['authorization', `Bearer ${TOKEN}`]])).status, 200);
    });
  });

  it('still enforces allowedHosts when they are given', async () => {
    await withServer({ token: TOKEN, allowedHosts: ['my-server.lan'] }, async (srv) => {
      const auth: Array<[string, string]> = [['authorization', `Bearer ${TOKEN}`]];
      assert.equal((await get(srv, '/api/studies', 'my-server.lan', auth)).status, 200);
      assert.equal((await get(srv, '/api/studies', 'other.lan', auth)).status, 403);
    });
  });
});

describe('allowed hosts option', () => {
  it('parses a comma-separated list, lower-cased, and refuses what is not a host name', () => {
    assert.deepEqual(parseAllowedHosts('a.lan, B.lan,,[fd00::1]'), ['a.lan', 'b.lan', '[fd00::1]']);
    for (const bad of ['a.lan:8080', 'http://a.lan', '*.lan', 'a b', 'a/b', 'x'.repeat(300)]) {
      assert.throws(() => parseAllowedHosts(bad), (e: unknown) => e instanceof ConfigError && e.field === 'allowedHosts' && /--allowed-hosts/.test(e.fix ?? ''), bad);
    }
    assert.deepEqual(resolveListenOptions({ port: 0, env: {}, allowedHosts: ['Studies.Lan'] }), { host: '127.0.0.1', port: 0, allowedHosts: ['studies.lan'] });
    assert.throws(() => resolveListenOptions({ port: 0, env: {}, allowedHosts: ['bad host'] }), ConfigError);
  });
});

describe('--allowed-hosts on the command line', () => {
  it('serve and run --port take it, and serve applies it', async () => {
    const program = new Command();
    registerServe(program);
    registerRun(program);
    for (const name of ['serve', 'run']) {
      assert.ok(program.commands.find((c) => c.name() === name)!.options.some((o) => o.long === '--allowed-hosts'), name);
    }
    const dir = mkdtempSync(join(tmpdir(), 'renorm-hosts-'));
    try {
      const db = join(dir, 'h.db');
      await assert.rejects(serve({ db, host: '127.0.0.1', port: '0', allowedHosts: 'bad host', env: {} }), (e: unknown) => e instanceof ConfigError && e.field === 'allowedHosts');
      assert.equal(existsSync(db), false, 'refused before the database is created');
      const srv = await serve({ db, host: '127.0.0.1', port: '0', allowedHosts: 'studies.lan,box.local', env: {} });
      try {
        const port = Number(new URL(srv.url).port);
        assert.equal((await rawRequest(port, { method: 'GET', path: '/api/studies', headers: [['host', `box.local:${port}`]] })).status, 200);
        assert.equal((await rawRequest(port, { method: 'GET', path: '/api/studies', headers: [['host', 'evil.example']] })).status, 403);
      } finally {
        await srv.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
