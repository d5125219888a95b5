// `renorm-tune run <config>`: run (or resume) a local study with live progress, optionally serving the dashboard.
import { type Command, Option } from 'commander';
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { BackendError, ConfigError } from '../errors.js';
import { expectOneOf } from '../config/fields.js';
import { CLI, shellWord, type BackendName } from '../shared/names.js';
import { printable } from '../shared/printable.js';
import { countsTowardBudget, roleLabel } from '../shared/roles.js';
import type { StudyView } from '../study/api_types.js';
import { checkBackendInstalled, checkExecutorOptions, ISOLATIONS, resolveIsolation, type Isolation } from '../study/executor/choose.js';
import { deviceList, portNumber, wholeNumber } from './options.js';
import { checkValidationSize, loadDataset } from '../data/index.js';
import type { Scenario } from '../train/scenario.js';
import { createServer, parseAllowedHosts, type RunningServer } from '../server/index.js';
import { ServedQueue } from '../server/queue_view.js';
import { loadStudyConfig, localScenario, validateStudyConfig, type StudyConfig } from '../study/config.js';
import { DatabaseFileGoneError, StudyDeletedError } from '../study/errors.js';
import { probeBackend } from '../study/executor/backend_probe.js';
import { runStudy } from '../study/runner.js';
import { configOf } from '../study/service.js';
import { PACKAGE_VERSION } from '../version.js';
import { DB_HELP, openService, withDbInHint } from './db.js';
import { parseStorageRef, storageRefFrom } from '../study/storage/index.js';
import { ProgressDisplay } from './display.js';
import { finalTable } from './final_table.js';
import type { OpenedQueue } from './run_queue.js';
import { JsonLinesDisplay } from './json_lines.js';
import { EXIT_NO_RETRY, noRetry, withExitStatus } from './exit_status.js';

interface RunOpts {
  db?: string;
  workers?: string;
  port?: string;
  allowedHosts?: string;
  dashboard: boolean;
  trialWorker?: string;
  redis?: string;
  redisPrefix?: string;
  queueDepth?: string;
  json?: boolean;
  warmStartFrom?: string;
  isolation?: string;
  devices?: string;
  unlessStopped?: boolean;
}

/** --workers: a positive integer, or undefined for the config's value. */
export function workersOption(raw: string | undefined, cores = availableParallelism()): number | undefined {
  if (raw === undefined) return undefined;
  const n = wholeNumber(raw);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new ConfigError('--workers', `must be an integer in [1, 256], got ${JSON.stringify(raw)}`, `e.g. --workers ${cores}`);
  return n;
}

/** Above 2x the cores a pool only slows every trial down: allowed (the cores may be busy elsewhere), but said. */
export function workersWarning(n: number, cores = availableParallelism()): string | undefined {
  return n > 2 * cores ? `[study] ${n} workers is more than twice this machine's ${cores} cores: trials will crawl (try --workers ${cores})` : undefined;
}

/**
 * --isolation and --devices of a local run, checked before anything opens: the study's backend decides the default
 * (processes where native TF.js may load). A coordinator (--redis) trains nothing, so they belong to its workers.
 */
export function localExecutorFlags(o: Pick<RunOpts, 'isolation' | 'devices' | 'redis'>, backend: BackendName | undefined): { isolation?: Isolation; devices?: string[] } {
  if (o.redis !== undefined && (o.isolation !== undefined || o.devices !== undefined)) {
    throw new ConfigError(o.isolation !== undefined ? '--isolation' : '--devices', 'applies to the machines that train: with --redis this process only coordinates',
      `give it to \`${CLI} worker\` on each training machine`);
  }
  const isolation = o.isolation === undefined ? undefined : expectOneOf(o.isolation, '--isolation', ISOLATIONS);
  const devices = deviceList(o.devices);
  // `run` has no --backend: the study config's field is how its fixes name the backend.
  checkExecutorOptions({ isolation: resolveIsolation(isolation, devices, backend), ...(backend ? { backend } : {}), ...(devices ? { devices } : {}) }, 'backend');
  // A local run trains here: a native backend this machine lacks would fail every trial (a coordinator's workers check their own).
  if (o.redis === undefined) checkBackendInstalled(backend, 'backend');
  return { ...(isolation ? { isolation } : devices ? { isolation: 'process' as const } : {}), ...(devices ? { devices } : {}) };
}

/** Flags that only mean something next to another one are refused alone, before anything opens, rather than ignored. */
export function companionFlags(o: Pick<RunOpts, 'redis' | 'redisPrefix' | 'queueDepth' | 'port' | 'allowedHosts'>): void {
  for (const [flag, given] of [['--queue-depth', o.queueDepth], ['--redis-prefix', o.redisPrefix]] as const) {
    if (given !== undefined && o.redis === undefined) throw new ConfigError(flag, 'applies only to a queued study, with --redis', 'add --redis redis://host:6379, or leave it out');
  }
  if (o.allowedHosts !== undefined && o.port === undefined) throw new ConfigError('--allowed-hosts', 'applies only to the dashboard server, with --port', 'add --port 8080, or leave it out');
}

/**
 * The closing `best` line: the best value the study measured and its trial, named as a baseline when it is one (as
 * the live scoreboard does), so it is not read as the tuned schedule the final table calls `best (#n)`.
 */
export function bestLine(view: Pick<StudyView, 'best' | 'trials' | 'metric' | 'baselines'>): string {
  const role = view.best ? view.trials.find((t) => t.id === view.best!.trialId)?.role : undefined;
  const kind = role && role !== 'search' ? `, ${roleLabel(role)}` : '';
  const best = view.best ? `${view.best.value.toFixed(4)} (trial #${view.best.number}${kind})` : 'none';
  return `best ${view.metric}: ${best} | batchnorm ${view.baselines.batchnorm?.toFixed(4) ?? '—'} | paper ${view.baselines.paper?.toFixed(4) ?? '—'}`;
}

/**
 * A study that ended without one completed search or baseline trial (a broken trainer, dataset or config): what
 * went wrong, for the closing lines, else null. Such a run exits EXIT_NO_RETRY: a pipeline must not read it as a
 * result, and a supervisor must not start it again (it would only report the same).
 */
export function nothingLearned(view: Pick<StudyView, 'trials'>): string | null {
  const spent = view.trials.filter((t) => countsTowardBudget(t.role));
  if (spent.length === 0 || spent.some((t) => t.state === 'COMPLETE')) return null;
  const failed = spent.filter((t) => t.state === 'FAIL');
  const first = failed[0];
  const why = first ? `, e.g. #${first.number}: ${printable(first.failureReason ?? 'no reason recorded')}` : '';
  return `no trial completed (${failed.length} of ${spent.length} failed${why})`;
}

/** Whether `stored` is `file`'s budget raised by `extend`: the same limits, none lower. */
export function extendedFrom(stored: StudyConfig['budget'], file: StudyConfig['budget']): boolean {
  const keys = (b: StudyConfig['budget']) => Object.keys(b).sort().join();
  return keys(stored) === keys(file) && (['trials', 'timeMinutes'] as const).every((k) => file[k] === undefined || stored[k]! >= file[k]);
}

/** The config file and every flag, checked before anything opens: what they refuse ends the CLI with EXIT_NO_RETRY. */
function runFlags(configPath: string, o: RunOpts) {
  return noRetry(() => {
    const loaded = loadStudyConfig(configPath);
    const config = o.warmStartFrom === undefined ? loaded : validateStudyConfig({ ...loaded, warmStartFrom: o.warmStartFrom });
    companionFlags(o);
    const port = o.port === undefined ? undefined : portNumber(o.port);
    const allowedHosts = o.allowedHosts === undefined ? undefined : parseAllowedHosts(o.allowedHosts);
    const workers = workersOption(o.workers) ?? config.workers;
    const local = localExecutorFlags(o, config.backend);
    return { config, port, allowedHosts, workers, local };
  });
}

/**
 * Exit 0 when the study is complete, 130 when it stopped (Ctrl-C, SIGTERM, `stop`), EXIT_NO_RETRY when running it
 * again cannot help (the config, a flag, the data or this machine's backend refused; a study in which no trial
 * completed, or deleted under the run, or its database file), 1 otherwise.
 */
export async function runCommand(configPath: string, o: RunOpts): Promise<number> {
  try {
    return await runStudyCommand(configPath, o);
  } catch (err) {
    // Run again, a study deleted under its run, or one whose database file was deleted or moved away, would start
    // anew in an empty one: not what a supervisor should do. Nor is one on a machine whose backend does not start
    // (tfjs-node-gpu without a GPU it can use): its trial is handed back, and a restart would hand it back again.
    // Nor is a --warm-start-from study the store does not hold. (A ConfigError is not one by itself: a Redis or a
    // PostgreSQL out of reach, or a port in use, is one too, and a later try may find it there.)
    const retryCannotHelp = err instanceof StudyDeletedError || err instanceof DatabaseFileGoneError || err instanceof BackendError
      || (err instanceof ConfigError && err.field === 'warmStartFrom');
    throw withDbInHint(retryCannotHelp ? withExitStatus(err, EXIT_NO_RETRY) : err, o.db);
  }
}

async function runStudyCommand(configPath: string, o: RunOpts): Promise<number> {
  const { config, port, allowedHosts, workers, local } = runFlags(configPath, o);
  const display = o.json
    ? new JsonLinesDisplay()
    : new ProgressDisplay({ stream: process.stderr, metric: config.objective.metric, direction: config.objective.direction, budgetTrials: config.budget.trials ?? null });
  // With --redis this process only coordinates: queue workers on any machine train the trials.
  // (Loaded only then: a local run never pays for BullMQ.)
  const queued: OpenedQueue | undefined = o.redis === undefined ? undefined : await (await import('./run_queue.js')).openQueue(o);
  const crowded = queued ? undefined : workersWarning(workers);
  if (crowded) display.log(crowded);
  // Load the data before any trial starts, and before the database is opened: a missing or corrupt file should
  // stop here with its name, not fail every trial of the budget one by one, nor leave a new database file behind.
  // The data package caches it, so the pool reuses this load. A coordinator trains nothing (its machine may not
  // even hold the data): its workers check the data instead.
  if (!queued) {
    const scenario = localScenario(config);
    const data = await noRetry(() => loadDataset(scenario.dataset));
    noRetry(() => checkValidationSize(data, scenario.validationSize, 'scenario.validationSize'));
  }
  // A native backend the config names is what every trial loads: start it on each device (as the trials' processes
  // will) before anything is written, so a machine whose TensorFlow finds no GPU is refused here, not at a trial.
  const native = config.backend === 'node-gpu' || config.backend === 'node' ? config.backend : undefined;
  if (!queued && native) await noRetry(() => probeBackend(native, local.devices));
  // A SQLite file this run creates is removed again if the run fails before any study is in it (a port in use, a
  // --warm-start-from the store does not hold): a refused run leaves nothing behind.
  const ref = noRetry(() => parseStorageRef(storageRefFrom(o.db)));
  const created = ref.kind === 'sqlite' && !existsSync(ref.file) ? ref.file : undefined;
  // A SQLite file refused at open (a folder, not SQLite, another application's, in a missing folder) is refused again
  // on a second try; a PostgreSQL server out of reach may not be.
  const { service, storage, close } = await (ref.kind === 'sqlite' ? noRetry(() => openService(o.db)) : openService(o.db)).catch(async (err: unknown) => {
    await queued?.close();
    throw err;
  });

  // First Ctrl-C: stop asking, cancel running trials (handed back to the queue), close cleanly. Second: leave now;
  // our leases expire (or the next `run` on this host sees we died), so the study stays resumable either way.
  const stop = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts === 1) {
      display.log(queued
        ? '[study] stopping: the study is marked STOPPED; workers hand their trials back at their next heartbeat (Ctrl-C again to exit at once)'
        : '[study] stopping: cancelling running trials (Ctrl-C again to exit at once)');
      stop.abort();
    } else {
      display.stop();
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let server: RunningServer | undefined;
  let watched: ServedQueue | undefined;
  /** Set when the run was refused before its study existed (a port in use, a --warm-start-from the store lacks). */
  let refused = false;
  try {
    const existing = (await service.listStudies()).find((s) => s.name === config.name);
    // With --unless-stopped, a study stopped on request (not by a signal) when this run started: left so.
    let held: string | null = null;
    if (existing) {
      display.seed(await service.listTrials(existing.id));
      // With the defaults of fields added since it was stored, so an older study is not reported as edited.
      const stored = configOf(await service.resolve(existing.id));
      // A resumed study keeps the config it was created with; say so rather than silently ignore edits.
      // Every field but the name, --workers' default (this run's) and warmStartFrom (said below) comes from the store.
      const own = new Set(['name', 'workers', 'warmStartFrom', '$schema']);
      // A budget raised by `extend` is the study's own now: the file's smaller one is no edit to warn of.
      const changed = [...new Set([...Object.keys(stored), ...Object.keys(config)])].filter(
        (k) => !own.has(k) && JSON.stringify((stored as unknown as Record<string, unknown>)[k]) !== JSON.stringify((config as unknown as Record<string, unknown>)[k])
          && !(k === 'budget' && extendedFrom(stored.budget, config.budget)),
      );
      if (changed.length) display.log(`[study] '${config.name}' exists: continuing it with its stored settings; ignored edits to: ${changed.join(', ')} (rename the study to start afresh, or \`${CLI} extend\` its budget)`);
      if (existing.state === 'COMPLETE') display.log(`[study] '${config.name}' is already complete; showing its results`);
      held = o.unlessStopped ? existing.stopRequestedAt : null;
      if (held) display.log(`[study] '${config.name}' was stopped on request at ${held}: left stopped (--unless-stopped); \`${CLI} resume ${config.name}\` lets it run again`);
      if (o.warmStartFrom !== undefined) display.log(`[study] '${config.name}' exists: --warm-start-from applies only when a study is created; ignored`);
    }
    if (port !== undefined) {
      // A coordinator's dashboard shows its queue too: the workers, what each trains, the jobs.
      watched = queued && new ServedQueue(queued.redis, storage);
      server = await createServer({ api: service, port, dashboard: o.dashboard, version: PACKAGE_VERSION, ...(allowedHosts === undefined ? {} : { allowedHosts }), ...(watched ? { queue: watched } : {}) });
      display.log(`[study] dashboard and API at ${server.url}`);
    }
    const result = existing?.state === 'COMPLETE' || held
      ? { study: await service.resolve(existing!.id), state: held ? 'STOPPED' as const : 'COMPLETE' as const }
      : queued
      ? await queued.coordinate(config, { service, signal: stop.signal, onEvent: (e) => display.handle(e), log: (l) => display.log(l) })
      : await runStudy(config, {
        service,
        // The pool size is about this machine, not the study: --workers, else this file's value, applies on resume too.
        workers,
        ...local,
        ...(o.trialWorker ? { workerFile: resolve(o.trialWorker) } : {}),
        loadDataset: (s) => loadDataset((s as unknown as Scenario).dataset),
        signal: stop.signal,
        onEvent: (e) => display.handle(e),
      });
    display.stop();
    const view = await service.getStudyView(result.study.id);
    if (display instanceof JsonLinesDisplay) display.summary(view);
    const out: string[] = [];
    const dbFlag = o.db === undefined ? '' : ` --db ${shellWord(o.db)}`;
    const queueFlags = queued?.flags ?? '';
    out.push(`study ${view.name} (${view.id}): ${result.state}`);
    out.push(bestLine(view));
    const failedOut = result.state === 'COMPLETE' ? nothingLearned(view) : null;
    if (failedOut) out.push(`${failedOut}; fix the cause, then start afresh: ${CLI} delete ${view.name}${dbFlag}, and run again`);
    else if (result.state === 'COMPLETE') out.push(...finalTable(view.finalValidation));
    if (view.best) {
      const exported = await service.bestSchedule(view.id) as { verdict?: string };
      if (exported.verdict) out.push(`verdict: ${exported.verdict}`);
      out.push(`export the recommended schedule: ${CLI} export ${view.name}${dbFlag} --out best-schedule.json`);
    }
    if (result.state === 'STOPPED') out.push(held ? `resume: ${CLI} resume ${view.name}${dbFlag}, then start this run again` : `resume: ${CLI} run ${shellWord(configPath)}${dbFlag}${queueFlags}`);
    // With --json, stdout carries only JSON lines; the text summary goes to stderr.
    (o.json ? process.stderr : process.stdout).write(`${out.join('\n')}\n`);
    if (server && result.state === 'COMPLETE') {
      // The dashboard is most interesting once the study is done: keep serving until the user leaves.
      process.stderr.write(`[study] finished; still serving ${server.url} (Ctrl-C to exit)\n`);
      await new Promise<void>((resolveWait) => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.once('SIGINT', () => resolveWait());
        process.once('SIGTERM', () => resolveWait());
      });
    }
    return failedOut ? EXIT_NO_RETRY : result.state === 'COMPLETE' ? 0 : 130;
  } catch (err) {
    refused = err instanceof ConfigError;
    throw err;
  } finally {
    display.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await server?.close();
    await watched?.close();
    await queued?.close((line) => process.stderr.write(`${line}\n`));
    // Only then: a study deleted under the run leaves the database empty too, while its queue's workers still hold
    // it open (removing it made them report their database file deleted).
    const unused = refused && created !== undefined && (await service.listStudies().catch(() => [null])).length === 0;
    await close();
    if (unused) for (const f of [created, `${created}-wal`, `${created}-shm`]) rmSync(f, { force: true });
  }
}

export function register(program: Command): void {
  program
    .command('run <config>')
    .description('Run a study from a JSON config (resumes the study of the same name if the database has it)')
    .addHelpText('after', `\nExit status: 0 when the study is complete; 130 when it stopped (Ctrl-C, SIGTERM, \`stop\`); ${EXIT_NO_RETRY} when running it again cannot help (the config, a flag, the data or this machine's backend refused, no trial completed, the study or its database file deleted under the run); 1 on any other error (the database or Redis out of reach).`)
    .option('--db <ref>', DB_HELP)
    .option('--workers <n>', 'trials training at once (default: the config, else the number of cores)')
    .option('--isolation <how>', 'thread (a piscina pool) or process (one child process per trial slot); default: process when the backend may be native TF.js, which fails in several threads of one process')
    .option('--devices <ids>', 'one child process per GPU, e.g. 0,1 (each sees only its own through CUDA_VISIBLE_DEVICES; implies --isolation process)')
    .option('--port <port>', 'also serve the REST API and live dashboard on this port')
    .option('--no-dashboard', 'with --port: serve only the API')
    .option('--redis <url>', 'coordinate only: queue the trials on this Redis (redis://host:6379) for `renorm-tune worker` processes to train')
    .option('--redis-prefix <prefix>', 'with --redis: key prefix of the queue, one per database sharing a Redis (default: renorm-tune)')
    .option('--queue-depth <n>', 'with --redis: search trials queued or running at once (default: the live workers\' slots)')
    .option('--allowed-hosts <names>', 'with --port: comma-separated host names to serve besides localhost (DNS-rebinding guard)')
    .option('--warm-start-from <study>', 'when the study is created: copy the finished trials of an earlier study in as observations')
    .option('--json', 'progress and the summary as JSON lines on stdout (one object per event, the last with "event": "summary")')
    .option('--unless-stopped', `leave a study stopped with \`${CLI} stop\` stopped (exit 130) until \`${CLI} resume\`; one stopped by a signal (Ctrl-C, a shutdown) resumes: for a supervisor that starts it at boot`)
    // A plug point for a custom trial worker module (same protocol as workers/trial.ts); the CLI tests use a fast fake trainer.
    .addOption(new Option('--trial-worker <file>', 'worker module that trains one trial').hideHelp())
    .action(async (configPath: string, o: RunOpts) => {
      process.exitCode = await runCommand(configPath, o);
    });
}
