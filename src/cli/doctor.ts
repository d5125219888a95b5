// `renorm-tune doctor`: what this machine can do for a study, checked the way a run or a worker would start: each
// TF.js backend in a process of its own (on each GPU with --devices), and the database and Redis it was given.
import type { Command } from 'commander';
import { availableParallelism, totalmem } from 'node:os';
import { expectOneOf } from '../config/fields.js';
import { ConfigError, SchemaMissingError } from '../errors.js';
import { openWorkerService } from '../distributed/compat.js';
import { checkRedis, DEFAULT_PREFIX, parseRedisRef, type RedisRef } from '../distributed/redis.js';
import { queueStatus } from '../distributed/status.js';
import { probeBackend } from '../study/executor/backend_probe.js';
import { BACKEND_NAMES, CLI, RUN_COORDINATOR } from '../shared/names.js';
import { backendOnDevice, devicesText } from '../shared/trained_on.js';
import { storageRefFrom } from '../study/storage/index.js';
import { PACKAGE_VERSION } from '../version.js';
import { DB_HELP, dbWhere } from './db.js';
import { deviceList } from './options.js';
import { EXIT_NO_RETRY, noRetry } from './exit_status.js';

interface DoctorOpts {
  db?: string;
  redis?: string;
  redisPrefix?: string;
  backend?: string;
  devices?: string;
  json?: boolean;
}

/** One line of the report. `needed`: asked for by a flag, so its failure fails the command. */
export interface Check {
  check: string;
  ok: boolean;
  needed: boolean;
  detail: string;
}

async function backendChecks(wanted: string | undefined, devices: string[] | undefined): Promise<Check[]> {
  // All at once: each loads TF.js in a process of its own (seconds each), as a trial's process would. auto is started
  // too, not inferred: it keeps a native package that finds no GPU (on the CPU), where node-gpu by name is refused.
  const settled = await Promise.allSettled(BACKEND_NAMES.map((b) => probeBackend(b, b === 'node-gpu' ? devices : undefined)));
  return BACKEND_NAMES.map((b, i): Check => {
    const s = settled[i]!;
    const check = `backend ${b}`;
    const needed = wanted === b;
    if (s.status === 'rejected') return { check, ok: false, needed, detail: (s.reason as Error).message };
    const got = s.value[0]!;
    if (b === 'auto') return { check, ok: true, needed, detail: `would use ${backendOnDevice(got.name, got.device)} (the first of node-gpu, node, wasm, cpu that starts)` };
    const where = b === 'node-gpu' && devices ? ` on ${devicesText(devices)}` : '';
    return { check, ok: true, needed, detail: `starts: ${backendOnDevice(b, got.device)}${where}` };
  }).sort((a, b) => Number(a.check === 'backend auto') - Number(b.check === 'backend auto'));
}

async function databaseCheck(ref: string): Promise<Check> {
  const where = dbWhere(ref);
  try {
    // As a worker opens it: it must exist, with this version's schema, and is not migrated.
    const { service, close } = await openWorkerService(ref);
    try {
      const n = (await service.listStudies()).length;
      return { check: 'database', ok: true, needed: true, detail: `${where}: reachable, ${n} stud${n === 1 ? 'y' : 'ies'}` };
    } finally {
      await close();
    }
  } catch (err) {
    // Not ready yet rather than wrong: a worker started now waits for its coordinator to create the schema.
    if (err instanceof SchemaMissingError) {
      return { check: 'database', ok: false, needed: true, detail: `${where}: no renorm-tune schema yet; a worker started now waits for its coordinator to create it (${RUN_COORDINATOR})` };
    }
    const why = (err as Error).message;
    return { check: 'database', ok: false, needed: true, detail: why.includes(where) ? why : `${where}: ${why}` };
  }
}

async function redisCheck(ref: RedisRef): Promise<Check> {
  try {
    await checkRedis(ref);
    const s = await queueStatus(ref);
    const mine = s.workers.filter((w) => !w.otherBuild).length;
    return {
      check: 'redis',
      ok: true,
      needed: true,
      detail: `${ref.where} prefix '${ref.prefix}': reachable; ${s.coordinators.length} coordinator(s), ${mine} worker(s) of this version (${s.workers.length - mine} of others), ${s.jobs.waiting} job(s) waiting`,
    };
  } catch (err) {
    return { check: 'redis', ok: false, needed: true, detail: (err as Error).message };
  }
}

/** Every check the flags ask for, the backends always; flags are checked first, before anything starts. */
export async function doctor(o: DoctorOpts): Promise<Check[]> {
  const { backend, devices, redis } = noRetry(() => {
    if (o.redisPrefix !== undefined && o.redis === undefined) throw new ConfigError('--redis-prefix', 'applies only with --redis', 'add --redis <url>, or leave it out');
    return {
      backend: o.backend === undefined ? undefined : expectOneOf(o.backend, '--backend', BACKEND_NAMES),
      devices: deviceList(o.devices),
      redis: o.redis === undefined ? undefined : parseRedisRef(o.redis, o.redisPrefix),
    };
  });
  const node: Check = {
    check: 'node',
    ok: true,
    needed: false,
    detail: `renorm-tune ${PACKAGE_VERSION} on Node ${process.versions.node} (${process.platform}-${process.arch}), ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
  };
  const [backends, database, queue] = await Promise.all([
    backendChecks(backend, devices),
    o.db === undefined ? undefined : databaseCheck(storageRefFrom(o.db)),
    redis === undefined ? undefined : redisCheck(redis),
  ]);
  return [node, ...backends, ...(database ? [database] : []), ...(queue ? [queue] : [])];
}

function report(checks: Check[]): string {
  const lines = checks.map((c) => `${c.ok ? 'ok  ' : c.needed ? 'FAIL' : 'no  '} ${c.check.padEnd(16)} ${c.detail}`);
  const failed = checks.filter((c) => c.needed && !c.ok);
  lines.push(failed.length ? `${failed.length} check${failed.length > 1 ? 's' : ''} asked for failed: ${failed.map((c) => c.check).join(', ')}` : 'every check asked for passed');
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('Check what this machine can do for a study: which TF.js backends start here (each GPU with --devices), and the database and Redis given')
    .option('--db <path|url>', `a database to reach as a worker would (${DB_HELP})`)
    .option('--redis <url>', 'a queue\'s Redis to reach, e.g. redis://127.0.0.1:6379')
    .option('--redis-prefix <prefix>', `the queue's key prefix (default '${DEFAULT_PREFIX}')`)
    .option('--backend <name>', `the backend trials will use here: its failure fails the command (${BACKEND_NAMES.join(', ')})`)
    .option('--devices <list>', 'GPU indices to start node-gpu on, each in a process of its own, e.g. 0,1')
    .option('--json', 'print the checks as JSON')
    .addHelpText('after', `\nExit status: 0 when every check asked for (--db, --redis, --backend) passed, 1 otherwise, ${EXIT_NO_RETRY} when a flag is refused; a backend not\nasked for that does not start is reported, not failed. Before a worker: ${CLI} doctor --db <url> --redis <url> --backend node-gpu --devices 0,1`)
    .action(async (o: DoctorOpts) => {
      const checks = await doctor(o);
      process.stdout.write(o.json ? `${JSON.stringify({ version: PACKAGE_VERSION, checks }, null, 2)}\n` : report(checks));
      if (checks.some((c) => c.needed && !c.ok)) process.exitCode = 1;
    });
}
