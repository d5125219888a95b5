// ask+tell round trips on SQLite vs PostgreSQL with 1, 4, 16 concurrent clients, each with its own service and store connection.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { validateStudyConfig } from '../../study/config.js';
import { createStudyService } from '../../study/service/defaults.js';
import type { StudyService } from '../../study/service.js';
import { openStorage } from '../../study/storage/index.js';
import { redactUrl, scrub } from '../../study/storage/pg_connect.js';
import { quantile } from './cluster.js';

export interface LatencyPoint {
  /** `sqlite-full` fsyncs every commit (durability 'full'), as PostgreSQL does: the like-for-like comparison. */
  store: 'sqlite' | 'sqlite-full' | 'postgres';
  clients: number;
  /** 'servers': each client has its own service and connection (N API servers); 'one server': all share one service (N trainers, one server). */
  mode: 'servers' | 'one server';
  p50: number;
  p99: number;
  pairs: number;
  /** Pairs refused after the service's retries (StaleSnapshotError: too many other asks in between). */
  refused: number;
  /** Storage calls per timed pair (each one a round trip to a PostgreSQL server), from a counting wrapper. */
  callsPerPair: number;
  /** Pairs completed per second of the timed phase, all clients together. */
  pairsPerSecond: number;
}

/**
 * Clients are async loops in this process, each with its own StudyService and store connection (what N API
 * servers in front of one database are), or all on one service (N trainers asking one server), asking for one trial of one external study (random optimizer, so no GP
 * fit is timed) and telling its value at once. Every client takes `pairs / clients` rounds; latency is per pair.
 */
export async function benchAskTellStores(o: { pg: string | null; clients: number[]; pairs: number; log: (line: string) => void }): Promise<{ points: LatencyPoint[]; pgSkipped?: string }> {
  const points: LatencyPoint[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'renorm-bench-ask-'));
  let pgDb: { url: string; drop(): Promise<void> } | string;
  try {
    pgDb = o.pg === null ? 'disabled (--no-pg)' : await createDatabase(o.pg);
  } catch (err) {
    pgDb = (err as Error).message;
  }
  try {
    for (const clients of o.clients) {
      for (const mode of clients === 1 ? (['servers'] as const) : (['servers', 'one server'] as const)) {
        const tag = `${clients}-${mode === 'servers' ? 's' : 'o'}`;
        points.push(await measure('sqlite', join(dir, `ask-${tag}.db`), clients, mode, o.pairs));
        points.push(await measure('sqlite-full', join(dir, `ask-full-${tag}.db`), clients, mode, o.pairs));
        if (typeof pgDb !== 'string') points.push(await measure('postgres', pgDb.url, clients, mode, o.pairs));
        for (const p of points.slice(typeof pgDb === 'string' ? -2 : -3)) {
          const who = clients === 1 ? '1 client ' : `${String(clients).padStart(2)} clients, ${mode === 'servers' ? 'a service each' : 'one service'}`;
          o.log(`  ${p.store.padEnd(11)} ${who}: ask+tell p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, ${p.pairsPerSecond.toFixed(0)} pairs/s (${p.pairs} pairs, ${p.callsPerPair.toFixed(1)} storage calls each${p.refused ? `, ${p.refused} refused after retries` : ''})`);
        }
      }
    }
  } finally {
    if (typeof pgDb !== 'string') await pgDb.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  return typeof pgDb === 'string' ? { points, pgSkipped: pgDb } : { points };
}

async function measure(store: LatencyPoint['store'], ref: string, clients: number, mode: LatencyPoint['mode'], pairs: number): Promise<LatencyPoint> {
  const name = `ask-${clients}-${mode === 'servers' ? 's' : 'o'}-${randomBytes(3).toString('hex')}`;
  let calls = 0;
  let counting = false;
  const open = async () => {
    const storage = await openStorage(ref, store === 'sqlite-full' ? { durability: 'full' } : {});
    // Counts every storage method call the service makes (only while timing): the round trips a pair costs.
    const counted = new Proxy(storage, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (counting) calls++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return { storage, service: createStudyService(counted) };
  };
  const first = await open();
  const config = validateStudyConfig({ name, scenario: { steps: 10 }, budget: { trials: 100_000 }, executor: 'external', optimizer: { type: 'random' }, finalValidation: { seeds: 0 } });
  const study = await first.service.createStudy(config);
  // N servers: a service and a connection each; one server: N loops on one service (asks of a study queue in it).
  const own = mode === 'servers' ? await Promise.all(Array.from({ length: clients - 1 }, open)) : [];
  const all = mode === 'servers' ? [first, ...own] : Array.from({ length: clients }, () => first);
  const latencies: number[] = [];
  let refused = 0;
  let seconds = 0;
  const rounds = Math.max(5, Math.ceil(pairs / clients));
  try {
    /** One pair; false when the service gave up on a snapshot that kept going stale (another client asked in between, every retry). */
    const pair = async (service: StudyService): Promise<boolean> => {
      try {
        const [t] = await service.ask(study.id, 1);
        await service.tell(study.id, t!.id, { value: Math.random() });
        return true;
      } catch (err) {
        if ((err as { code?: string }).code !== 'STALE_SNAPSHOT') throw err;
        return false;
      }
    };
    // A few pairs per client before timing: connections opened, statements prepared.
    await Promise.all(all.map(async ({ service }) => {
      for (let i = 0; i < 3; i++) await pair(service);
    }));
    counting = true;
    const t0All = performance.now();
    await Promise.all(all.map(async ({ service }) => {
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        if (await pair(service)) latencies.push(performance.now() - t0);
        else refused++;
      }
    }));
    seconds = (performance.now() - t0All) / 1000;
  } finally {
    counting = false;
    for (const { service, storage } of [first, ...own]) {
      service.close();
      await storage.close();
    }
  }
  return {
    store, clients, mode, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), pairs: latencies.length, refused,
    callsPerPair: calls / Math.max(1, latencies.length + refused), pairsPerSecond: latencies.length / seconds,
  };
}

/** A database of our own on the server `url` names, dropped afterwards; an unreachable server is an Error saying so. */
async function createDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `renorm_tune_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query(sql);
    } catch (err) {
      throw new Error(`no PostgreSQL at ${redactUrl(url)} (${scrub((err as Error).message, url)})`);
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
