// `renorm-tune worker`: trains trials from the queue of a `run --redis` coordinator, on this machine, until idle or told to stop.
import { type Command, Option } from 'commander';
import { resolve } from 'node:path';
import { loadDataset } from '../data/index.js';
import type { Scenario } from '../train/scenario.js';
import { BackendError, ConfigError } from '../errors.js';
import { expectOneOf } from '../config/fields.js';
import { openWorkerServiceWhenCreated, WrongDatabaseError } from '../distributed/compat.js';
import { checkBackendInstalled, checkExecutorOptions, checkIsolation, createExecutor, ISOLATIONS, resolveIsolation } from '../study/executor/choose.js';
import { deviceList, portNumber, wholeNumber } from './options.js';
import { Presence } from '../distributed/presence.js';
import { checkRedis, DEFAULT_PREFIX, parseRedisRef } from '../distributed/redis.js';
import { runQueueWorker } from '../distributed/worker.js';
import { WorkerMetrics } from '../distributed/worker_metrics.js';
import { probeBackend } from '../study/executor/backend_probe.js';
import { BACKEND_NAMES, RUN_COORDINATOR } from '../shared/names.js';
import { storageRefFrom } from '../study/storage/index.js';
import { localScenario } from '../study/config.js';
import { DB_HELP, dbWhere } from './db.js';
import { EXIT_NO_RETRY, noRetry, withExitStatus } from './exit_status.js';
import { backendOnDevice, devicesText } from '../shared/trained_on.js';

interface WorkerOpts {
  db?: string;
  redis?: string;
  redisPrefix?: string;
  concurrency?: string;
  backend?: string;
  isolation?: string;
  devices?: string;
  idleExit: string;
  trialWorker?: string;
  metricsPort?: string;
  metricsHost?: string;
}

/** A numeric flag in [lo, hi]; the message quotes what was typed. */
export function numberFlag(raw: string, field: string, lo: number, hi: number, integer: boolean): number {
  const n = integer ? wholeNumber(raw) : Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n))) {
    throw new ConfigError(field, `must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(raw)}`, `e.g. ${field} ${lo === 0 ? 2 : lo}`);
  }
  return n;
}

/** ' on device 0' or ' on devices 0, 1', or nothing without --devices. */
const onDevices = (devices: string[] | undefined) => (devices ? ` on ${devicesText(devices)}` : '');

/**
 * Given no --backend, a worker learns what its trials load from each study: a native one is started on each device
 * before the first of that study's trials is claimed, once per backend, as --backend would have been at start-up.
 * The returned function rejects with a BackendError naming the study when the backend does not start here.
 */
function studyBackends(devices: string[] | undefined, log: (line: string) => void): (name: 'node-gpu' | 'node', study: string) => Promise<void> {
  const probes = new Map<'node-gpu' | 'node', Promise<void>>();
  return (name, study) => {
    let p = probes.get(name);
    if (p === undefined) {
      probes.set(name, (p = probeBackend(name, devices).then(
        (started) => void log(`[worker] study '${study}' asks for backend ${backendOnDevice(name, started[0]?.device)}${onDevices(devices)}: started in a process of its own, as its trials will be`),
        (err: Error) => {
          log(`[worker] study '${study}' asks for backend '${name}', which does not start on this machine: stopping before taking any of its trials`);
          throw new BackendError(`this machine cannot train study '${study}': ${err.message}`);
        },
      )));
    }
    return p;
  };
}

/** Every flag checked before anything connects, so a typo costs nothing and leaves nothing behind. */
function workerFlags(o: WorkerOpts) {
  const redis = parseRedisRef(o.redis, o.redisPrefix);
  const ref = storageRefFrom(o.db);
  const concurrency = o.concurrency === undefined ? 1 : numberFlag(o.concurrency, '--concurrency', 1, 256, true);
  const backend = o.backend === undefined ? undefined : expectOneOf(o.backend, '--backend', BACKEND_NAMES);
  const devices = deviceList(o.devices);
  const isolation = resolveIsolation(o.isolation === undefined ? undefined : expectOneOf(o.isolation, '--isolation', ISOLATIONS), devices, backend);
  const idleSeconds = numberFlag(o.idleExit, '--idle-exit', 0, 24 * 3600, false);
  checkBackendInstalled(backend);
  checkExecutorOptions({ isolation, ...(backend ? { backend } : {}), ...(devices ? { devices } : {}) });
  if (o.metricsHost !== undefined && o.metricsPort === undefined) throw new ConfigError('--metrics-host', 'applies only with --metrics-port', 'add --metrics-port 9464, or leave it out');
  const metricsPort = o.metricsPort === undefined ? undefined : portNumber(o.metricsPort, '--metrics-port');
  return { redis, ref, concurrency, backend, devices, isolation, idleSeconds, metricsPort };
}

/**
 * Exit 0 when it leaves (idle, or a signal), EXIT_NO_RETRY when it cannot serve as set up (a flag, this machine's
 * backend or data, a database that is not its coordinator's), 1 otherwise (Redis or the database out of reach, a
 * peer of another version: running it again gets past those once they are fixed elsewhere).
 */
export async function workerCommand(o: WorkerOpts): Promise<number> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { redis, ref, concurrency, backend, devices, isolation, idleSeconds, metricsPort } = noRetry(() => workerFlags(o));
  const where = dbWhere(ref);
  let device: 'GPU' | 'CPU' | undefined;
  if (backend === 'node-gpu' || backend === 'node') {
    // Named here, the backend is what every trial will load: start it on each device now, not at the first trial.
    device = (await noRetry(() => probeBackend(backend, devices)))[0]?.device;
    log(`[worker] backend ${backendOnDevice(backend, device)}${onDevices(devices)}: started in a process of its own, as trials will be`);
  }
  await checkRedis(redis);
  // Listening comes before the database opens: a port in use is refused with nothing else started.
  const metrics = metricsPort === undefined ? undefined : new WorkerMetrics();
  const endpoint = metrics ? await metrics.serve(o.metricsHost ?? '127.0.0.1', metricsPort!) : undefined;
  if (endpoint) log(`[worker] metrics at ${endpoint.url}/metrics, liveness at ${endpoint.url}/health`);
  const presence = new Presence(redis);
  // First SIGTERM/Ctrl-C: take nothing more, hand running trials back to the queue, exit 0. Second: exit at once;
  // the leases then expire (or the coordinator on this host sees this process is gone) and the trials are requeued.
  const stop = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals === 1) {
      log('[worker] stopping: handing running trials back to the queue (signal again to exit at once)');
      stop.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let opened: Awaited<ReturnType<typeof openWorkerServiceWhenCreated>>;
  let executor: ReturnType<typeof createExecutor> | undefined;
  try {
    // A worker may start before its coordinator, which creates the schema: it waits for one as it waits for work.
    opened = await openWorkerServiceWhenCreated(ref, {
      where,
      waitMs: idleSeconds === 0 ? Infinity : idleSeconds * 1000,
      signal: stop.signal,
      coordinators: () => presence.coordinators(),
      onWait: () => log(`[worker] ${where}: no renorm-tune schema yet; waiting${idleSeconds === 0 ? '' : ` up to ${idleSeconds} s`} for its coordinator (${RUN_COORDINATOR}), which creates it`),
    }).catch((err: unknown) => {
      throw err instanceof WrongDatabaseError ? withExitStatus(err, EXIT_NO_RETRY) : err;
    });
    if (!opened) {
      log(`[worker] leaving (${stop.signal.aborted ? 'stopped by a signal' : `${where} still holds no renorm-tune schema after ${idleSeconds} s`}); 0 trials trained`);
      if (!stop.signal.aborted) log(`[worker] no coordinator has run a study on this database: start ${RUN_COORDINATOR} with the same --redis-prefix, or keep this worker waiting with --idle-exit 0`);
      return 0;
    }
    const { service } = opened;
    try {
      executor = createExecutor({
        ...(backend ? { backend } : {}),
        isolation,
        concurrency,
        ...(devices ? { devices } : {}),
        ...(o.trialWorker ? { trialWorker: resolve(o.trialWorker) } : {}),
        loadDataset: (s) => loadDataset((s as unknown as Scenario).dataset),
      });
    } catch (err) {
      throw withExitStatus(err, EXIT_NO_RETRY);
    }
    const studyBackend = studyBackends(devices, log);

    const result = await runQueueWorker({
      service,
      dbWhere: where,
      redis,
      presence,
      executor,
      idleMs: idleSeconds * 1000,
      signal: stop.signal,
      log,
      ...(metrics ? { observer: metrics } : {}),
      trainsOn: { ...(backend ? { backend } : {}), ...(device ? { device } : {}), ...(devices ? { devices } : {}) },
      // A study whose trials would load native TensorFlow in a thread pool, or whose data this machine cannot
      // read, stops the worker here rather than failing its trials one by one.
      prepare: async (config) => {
        checkIsolation(isolation, backend ?? config.backend, `${where}: study '${config.name}' asks for backend '${config.backend ?? 'auto'}'; --isolation`);
        if (!backend && (config.backend === 'node-gpu' || config.backend === 'node')) await studyBackend(config.backend, config.name);
        await loadDataset(localScenario(config).dataset);
      },
    });
    // A queue connection that would not close keeps this process alive: it exits once the cleanup below is done.
    const status = !result.error ? 0 : (result.error as { code?: string }).code === 'VERSION_MISMATCH' ? 1 : EXIT_NO_RETRY;
    if (result.queueLeftOpen) setTimeout(() => process.exit(status), 1000).unref();
    if (result.error) {
      log(`error: ${result.error.message}`);
      return status;
    }
    const why = { idle: 'no work and no coordinator left', signal: 'stopped by a signal', fatal: 'error' }[result.reason];
    log(`[worker] leaving (${why}); ${result.finished} trial${result.finished === 1 ? '' : 's'} trained`);
    // Nothing trained and nobody to wait for: most often started before the coordinator, or on another queue.
    if (result.reason === 'idle' && result.finished === 0) {
      log(`[worker] no coordinator is running a study on this queue (prefix '${redis.prefix}'): start ${RUN_COORDINATOR} with the same --redis-prefix, or keep this worker waiting with --idle-exit 0`);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await executor?.close().catch(() => undefined);
    await presence.close();
    await opened?.close();
    await endpoint?.close();
  }
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('Train trials from the queue of `renorm-tune run <config> --redis ...` (on any machine that reaches the database and Redis)')
    .addHelpText('after', `\nExit status: 0 when it leaves (idle, or SIGTERM: running trials are handed back); ${EXIT_NO_RETRY} when it cannot serve as set up (a flag, this machine's backend or data, a database that is not its coordinator's: do not restart it); 1 on a failure a restart may get past (the database or Redis out of reach).`)
    .option('--db <ref>', DB_HELP)
    .option('--redis <url>', "the coordinator's Redis: redis://[user:password@]host:6379[/db]")
    .option('--redis-prefix <prefix>', `key prefix of the queue; one per database sharing a Redis (default: ${DEFAULT_PREFIX})`)
    .option('--concurrency <n>', 'trials training at once: threads, or processes with --isolation process (default 1)')
    .option('--backend <name>', `TF.js backend for every trial here, whatever the study says (${BACKEND_NAMES.join(', ')}); node-gpu and node are started on each device before any trial`)
    .option('--isolation <how>', 'thread (a piscina pool) or process (one child process per slot; the default, and required, for node/node-gpu)')
    .option('--devices <ids>', 'one process per device, e.g. 0,1 (sets CUDA_VISIBLE_DEVICES per process; implies --isolation process)')
    .option('--idle-exit <seconds>', 'leave after this long with nothing to train and no live coordinator; 0 waits forever', '2')
    .option('--metrics-port <port>', 'serve Prometheus metrics at /metrics and a liveness check at /health on this port (0 picks a free one)')
    .option('--metrics-host <host>', 'address for --metrics-port (default 127.0.0.1; 0.0.0.0 for a scraper on another machine: counts only, no API)')
    // The CLI tests and the benchmark plug in fast fixture trainers (same protocol as workers/trial.ts).
    .addOption(new Option('--trial-worker <file>', 'worker module that trains one trial').hideHelp())
    .action(async (o: WorkerOpts) => {
      process.exitCode = await workerCommand(o);
    });
}
