// GET /api/queue: the study queue `serve --redis` watches, read from the real Redis (workers and a coordinator
// announced as the real ones announce themselves, a job enqueued as the coordinator enqueues it, a trial leased in
// the served database); `watched: false` from a server given no queue; 503, with the rest of the API answering, while Redis is away.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { RunningServer } from '../../src/server/index.js';
import { ServedQueue } from '../../src/server/queue_view.js';
import { parseRedisRef } from '../../src/distributed/redis.js';
import { Presence } from '../../src/distributed/presence.js';
import { TrialQueue } from '../../src/distributed/queue.js';
import type { QueueStatus } from '../../src/distributed/status.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { validateStudyConfig } from '../../src/study/config.js';
import { deletePrefix, REDIS_URL, redisSkip } from '../distributed/helpers.js';
import { call, start } from './helpers.js';
import { serve } from '../../src/cli/study.js';
import { ConfigError } from '../../src/errors.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const skip = await redisSkip();

describe('GET /api/queue', () => {
  it('says, without an error, that a server given no queue watches none, naming --redis', async () => {
    const srv = await start({ api: createStudyService(new MemoryStorage()) });
    try {
      const r = await call(srv.url, 'GET', '/api/queue');
      assert.equal(r.status, 200);
      assert.equal(r.body.watched, false);
      assert.match(r.body.message, /^this server watches no queue: start `(npx )?renorm-tune serve` with --redis <url>/);
    } finally {
      await srv.close();
    }
  });

  describe('over the real Redis', { skip }, () => {
    const prefix = `renorm-test-${randomBytes(4).toString('hex')}`;
    const ref = parseRedisRef(REDIS_URL, prefix);
    const storage = new MemoryStorage();
    const service = createStudyService(storage);
    const presence = new Presence(ref);
    const trials = new TrialQueue(ref);
    let served: ServedQueue;
    let srv: RunningServer;
    const leaving: Array<() => Promise<void>> = [];

    before(async () => {
      served = new ServedQueue(ref, storage);
      srv = await start({ api: service, queue: served });
    });
    after(async () => {
      for (const leave of leaving) await leave();
      await srv?.close();
      await served?.close();
      await presence.close();
      await trials.close();
      await deletePrefix(prefix).catch(() => 0);
    });

    it('shows the workers with their slots, what each trains on and holds, the coordinator\'s study, the jobs, and a trial no live worker holds', async () => {
      const empty = (await call(srv.url, 'GET', '/api/queue')).body as QueueStatus & { watched: boolean };
      assert.deepEqual([empty.workers, empty.coordinators, empty.slots, empty.jobs, empty.orphans], [[], [], 0, { waiting: 0, active: 0, delayed: 0 }, []]);
      assert.deepEqual([empty.watched, empty.redis, empty.prefix], [true, 'redis://127.0.0.1:6379', prefix]);

      const study = await service.createStudy(validateStudyConfig({ name: 'watched', scenario: { steps: 10 }, budget: { trials: 4 }, optimizer: { type: 'random' } }));
      // Its two baselines wait at creation; each is leased here as a worker's claim leases it.
      const [first, second] = await service.listTrials(study.id, { states: ['WAITING'] });
      assert.ok(await storage.claimTrial(study.id, first!.id, { owner: 'gpu-1:41:worker-aaaaaa', seconds: 600 }));
      assert.ok(await storage.claimTrial(study.id, second!.id, { owner: 'gone:7:worker-dead00', seconds: 600 }));
      leaving.push(await presence.announce('coordinator', { owner: 'head:3:coordinator-c', studyId: study.id, studyName: 'watched' }));
      leaving.push(await presence.announce('worker', { owner: 'gpu-1:41:worker-aaaaaa', slots: 2, backend: 'node-gpu', device: 'GPU', devices: ['0', '1'] }));
      leaving.push(await presence.announce('worker', { owner: 'cpu-2:9:worker-bbbbbb', slots: 1 }));
      await trials.enqueue(study.id, [second!]);

      const r = await call(srv.url, 'GET', '/api/queue');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const s = r.body as QueueStatus;
      assert.deepEqual(s.workers.map((w) => [w.owner, w.slots, w.backend ?? null, w.device ?? null, w.devices ?? null, w.otherBuild, w.training!.map((t) => t.number)]), [
        ['cpu-2:9:worker-bbbbbb', 1, null, null, null, false, []],
        ['gpu-1:41:worker-aaaaaa', 2, 'node-gpu', 'GPU', ['0', '1'], false, [first!.number]],
      ]);
      assert.equal(s.slots, 3);
      assert.deepEqual(s.coordinators.map((c) => [c.owner, c.studyId, c.studyName, c.inDatabase]), [['head:3:coordinator-c', study.id, 'watched', true]]);
      assert.deepEqual(s.orphans!.map((t) => [t.studyName, t.number, t.owner]), [['watched', second!.number, 'gone:7:worker-dead00']]);
      assert.deepEqual(s.jobs, { waiting: 1, active: 0, delayed: 0 });

      // The scrape carries the same, for the alerting rules (RenormTuneQueueNoWorkers, RenormTuneQueueDown).
      const scraped = await (await fetch(`${srv.url}/metrics`)).text();
      for (const line of ['renorm_tune_queue_up 1', 'renorm_tune_queue_jobs{state="waiting"} 1', 'renorm_tune_queue_jobs{state="active"} 0',
        'renorm_tune_queue_workers{build="this"} 2', 'renorm_tune_queue_workers{build="other"} 0', 'renorm_tune_queue_slots 3',
        'renorm_tune_queue_coordinators 1', 'renorm_tune_queue_trials_unheld 1']) assert.ok(scraped.split('\n').includes(line), `${line} not in the scrape:\n${scraped}`);

      // A worker that leaves removes its record: the next look no longer lists it, and its trial has no live holder.
      await leaving.splice(1, 1)[0]!();
      const later = (await call(srv.url, 'GET', '/api/queue')).body as QueueStatus;
      assert.deepEqual(later.workers.map((w) => w.owner), ['cpu-2:9:worker-bbbbbb']);
      assert.deepEqual(later.orphans!.map((t) => t.owner).sort(), ['gone:7:worker-dead00', 'gpu-1:41:worker-aaaaaa']);
    });
  });

  it('answers 503 QUEUE_UNAVAILABLE naming the Redis, its password hidden, while the studies are served as before', async () => {
    // Nothing listens on port 9 here: refused at once.
    const refused = new ServedQueue(parseRedisRef('redis://:hunter2@127.0.0.1:9', 'x'), new MemoryStorage());
    const srv = await start({ api: createStudyService(new MemoryStorage()), queue: refused });
    try {
      const r = await call(srv.url, 'GET', '/api/queue');
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'QUEUE_UNAVAILABLE');
      assert.match(r.body.error.message, /^the queue's Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:9 is unreachable \(.+\); the studies are served as before \(fix: start Redis/);
      assert.doesNotMatch(JSON.stringify(r.body), /hunter2/);
      assert.equal((await call(srv.url, 'GET', '/api/studies')).status, 200);
      // Its scrape answers, the queue down and the studies' series as before.
      const scrape = await fetch(`${srv.url}/metrics`);
      assert.equal(scrape.status, 200);
      const lines = (await scrape.text()).split('\n');
      assert.ok(lines.includes('renorm_tune_queue_up 0') && lines.includes('renorm_tune_storage_up 1'));
      assert.ok(!lines.some((l) => l.startsWith('renorm_tune_queue_jobs')), 'no job counts without an answer');
    } finally {
      await srv.close();
      await refused.close();
    }
  });

  it('answers 503 within its deadline from a Redis that takes the connection and never answers, to looks made at once', async () => {
    const sockets = new Set<Socket>();
    const silent: TcpServer = createTcpServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const queue = new ServedQueue(parseRedisRef(`redis://127.0.0.1:${port}`, 'x'), new MemoryStorage(), 300);
    const srv = await start({ api: createStudyService(new MemoryStorage()), queue });
    try {
      const [a, b, health] = await Promise.all([call(srv.url, 'GET', '/api/queue'), call(srv.url, 'GET', '/api/queue'), call(srv.url, 'GET', '/api/health')]);
      for (const r of [a, b]) {
        assert.equal(r.status, 503, JSON.stringify(r.body));
        assert.match(r.body.error.message, new RegExp(`^no answer within 0\\.3 s from the queue's Redis at redis://127\\.0\\.0\\.1:${port} \\(or from the database, for the trials each worker holds\\)`));
      }
      assert.equal(health.status, 200);
      assert.ok(sockets.size > 0, 'the look reached the silent server');
    } finally {
      await srv.close();
      await queue.close();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('serve --redis: its flags are checked before anything opens; a Redis away at start is a warning, not a refusal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'renorm-serve-queue-'));
    const db = join(dir, 'served.db');
    try {
      await assert.rejects(serve({ db, host: '127.0.0.1', port: '0', env: {}, redisPrefix: 'p' }), (e: unknown) => e instanceof ConfigError && e.field === '--redis-prefix' && /needs --redis/.test(e.message));
      await assert.rejects(serve({ db, host: '127.0.0.1', port: '0', env: {}, redis: 'http://127.0.0.1:6379' }), (e: unknown) => e instanceof ConfigError && e.field === '--redis' && /unsupported URL scheme 'http:\/\/'/.test(e.message));
      assert.equal(existsSync(db), false, 'a refused start creates nothing');
      const away = await serve({ db, host: '127.0.0.1', port: '0', env: {}, redis: 'redis://127.0.0.1:9' });
      try {
        assert.equal(away.warnings.length, 1, away.warnings.join('\n'));
        assert.match(away.warnings[0]!, /^--redis: cannot reach Redis at redis:\/\/127\.0\.0\.1:9 .*; the dashboard's queue panel says so until it is reachable$/);
        assert.equal((await call(away.url, 'GET', '/api/queue')).status, 503);
        assert.equal((await call(away.url, 'GET', '/api/studies')).status, 200);
      } finally {
        await away.stop();
      }
      if (!skip) {
        const watching = await serve({ db, host: '127.0.0.1', port: '0', env: {}, redis: REDIS_URL, redisPrefix: `renorm-test-${randomBytes(4).toString('hex')}` });
        try {
          assert.deepEqual(watching.warnings, []);
          const r = await call(watching.url, 'GET', '/api/queue');
          assert.equal(r.status, 200, JSON.stringify(r.body));
          assert.deepEqual(r.body.workers, []);
        } finally {
          await watching.stop();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
