// The study commands that read or serve a database: `serve`, `studies`, `show` and `export`.
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { describeSchedule } from '../schedule/index.js';
import { createServer, isLoopback, parseAllowedHosts, resolveListenOptions } from '../server/index.js';
import { expiryWarning, loadTls, tlsFlags } from '../server/tls.js';
import { ServedQueue } from '../server/queue_view.js';
import { checkRedis, DEFAULT_PREFIX, parseRedisRef } from '../distributed/redis.js';
import { EXIT_NO_RETRY, noRetry } from './exit_status.js';
import { EARLIER_PICK, earlierPickRuns } from '../shared/evidence.js';
import { printable } from '../shared/printable.js';
import { roleLabel } from '../shared/roles.js';
import { CLI, shellWord } from '../shared/names.js';
import { trialsCsv } from '../shared/trials_csv.js';
import { studyTrainerText, trainedOnSummary } from '../shared/trained_on.js';
import { stopRequestText } from '../shared/stopped.js';
import type { ImportanceView, RecommendationView, StudySummary, StudyView } from '../study/api_types.js';
import { metricOf } from '../study/config.js';
import type { StudyExport } from '../study/export.js';
import { NoSuchTrialError } from '../study/errors.js';
import { leftOutText } from '../study/warm_start.js';
import type { ExportedSchedule } from '../schedule/types.js';
import { PACKAGE_VERSION } from '../version.js';
import { DB_HELP, openService, withService } from './db.js';
import { finalTable } from './final_table.js';
import { sig4 as fmt } from './format.js';
import { nonNegativeInt, portNumber } from './options.js';
import { trialText } from './trial_text.js';
import { writeFileAtomic } from './write_out.js';

function table(header: string[], rows: string[][]): string {
  // A loop, not Math.max(...): spread arguments overflow the stack past ~120,000 rows, and a study may hold 100,000 trials.
  const widths = header.map((h) => h.length);
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i]!, c.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** `3/10`, then what is in flight, each by its name: `3/10, 1 running, 2 queued` (queued trials wait for a worker, or for `run` to resume). */
export function progress(s: StudySummary): string {
  const done = s.counts.COMPLETE + s.counts.PRUNED + s.counts.FAIL;
  const inFlight = [s.counts.RUNNING ? `${s.counts.RUNNING} running` : '', s.counts.WAITING ? `${s.counts.WAITING} queued` : ''].filter(Boolean);
  return [`${done}${s.budgetTrials === null ? '' : `/${s.budgetTrials}`}`, ...inFlight].join(', ');
}

/** `3 of 10 finished (2 complete, 1 failed); 1 running, 2 queued`: only the states that occur. */
function progressLine(s: StudySummary): string {
  const c = s.counts;
  const done = c.COMPLETE + c.PRUNED + c.FAIL;
  const ended = [[c.COMPLETE, 'complete'], [c.PRUNED, 'pruned'], [c.FAIL, 'failed']].filter(([n]) => n).map(([n, w]) => `${n} ${w}`);
  const inFlight = [[c.RUNNING, 'running'], [c.WAITING, 'queued']].filter(([n]) => n).map(([n, w]) => `${n} ${w}`);
  const finished = `${done}${s.budgetTrials === null ? '' : ` of ${s.budgetTrials}`} finished${ended.length ? ` (${ended.join(', ')})` : ''}`;
  const waiting = s.state === 'STOPPED' && c.WAITING ? ' (the study is stopped)' : '';
  return `${finished}${inFlight.length ? `; ${inFlight.join(', ')}${waiting}` : ''}`;
}

export function studiesText(list: StudySummary[]): string {
  if (list.length === 0) return `no studies yet (start one with \`${CLI} run <config.json>\`)\n`;
  const held = list.map((s) => stopRequestText(s) !== null);
  return table(
    ['NAME', 'ID', 'STATE', 'PROGRESS', 'BEST', 'BATCHNORM', 'PAPER'],
    list.map((s, i) => [s.name, s.id, held[i] ? `${s.state} (held)` : s.state, progress(s), fmt(s.best?.value), fmt(s.baselines.batchnorm), fmt(s.baselines.paper)]),
  ) + (held.includes(true) ? `(held: stopped on request; a run under --unless-stopped leaves it so until \`${CLI} resume\`)\n` : '');
}

/** What the model adds to `show`: its recommendation (prediction next to measurement) and the parameters' importance. */
export interface ModelNotes {
  recommendation: RecommendationView | null;
  importance: ImportanceView | null;
}

export function showText(v: StudyView, model: ModelNotes = { recommendation: null, importance: null }): string {
  const best = v.best ? v.trials.find((t) => t.id === v.best!.trialId) : undefined;
  const role = (r: string) => (r === 'search' ? '' : roleLabel(r));
  const lines = [
    `study     ${v.name} (${v.id}), ${stopRequestText(v) ?? v.state}, ${studyTrainerText(v)}`,
    `objective ${v.direction} ${v.metric}${v.totalSteps ? ` over ${v.totalSteps} steps` : ''}`,
    `progress  ${progressLine(v)}`,
    `baselines batchnorm ${fmt(v.baselines.batchnorm)}, paper ${fmt(v.baselines.paper)}`,
    `best      ${best ? `${fmt(best.value)} (trial #${best.number}${role(best.role) ? `, ${role(best.role)}` : ''}): ${describeSchedule(best.schedule)}` : '-'}`,
  ];
  const trained = trainedOnSummary(v.trials);
  if (trained) lines.push(`trained   ${trained}`);
  const r = model.recommendation;
  if (r) {
    const sd = r.sd === null ? '' : ` ± ${fmt(r.sd)}`;
    // The model learns from the baselines too, and may believe one of them best: say which kind of trial it is.
    const kind = role(v.trials.find((t) => t.number === r.trialNumber)?.role ?? 'search');
    lines.push(`model     recommends ${r.trialNumber === null ? 'a point' : `trial #${r.trialNumber}${kind ? `, ${kind}` : ''}`}: predicted ${fmt(r.mean)}${sd}, measured ${fmt(r.observed)} (posterior mean, not the single best noisy value)`);
  }
  if (model.importance?.available && model.importance.importance) {
    const tentative = new Set(model.importance.tentative ?? []);
    const shares = Object.entries(model.importance.importance).map(([k, v]) => `${k} ${(100 * v).toFixed(0)}%${tentative.has(k) ? ' (tentative)' : ''}`);
    lines.push(`importance ${shares.join(', ')}`);
    if (tentative.size) lines.push(`           tentative: the trials fit about as well without ${[...tentative].join(' or ')}; more trials will tell`);
  } else if (model.importance?.status === 'flat') {
    lines.push(`importance unavailable: ${model.importance.reason ?? 'the model sees no variation'}`);
  }
  const warm = (v.config.warmStartFrom === undefined ? undefined : v.trials.filter((t) => t.role === 'warm-start').length);
  if (v.warmStart?.unavailable) lines.push(`warm start none: ${v.warmStart.unavailable}`);
  else if (warm !== undefined) lines.push(`warm start ${warm} trials copied from ${String(v.config.warmStartFrom)} (observations only: never the best, no budget spent)${leftOutText(v.warmStart)}`);
  if (v.finalValidation) lines.push(...finalTable(v.finalValidation).map((l, i) => (i === 0 ? `final     ${l}` : `          ${l}`)));
  const earlier = earlierPickRuns(v.trials, v.finalValidation);
  const roleOf = (t: StudyView['trials'][number]) => (earlier.has(t.id) ? `${role(t.role)} (${EARLIER_PICK})` : role(t.role));
  const rows = v.trials.map((t) => [`#${t.number}`, t.state, roleOf(t), fmt(t.value), t.failureReason !== null ? printable(t.failureReason) : describeSchedule(t.schedule)]);
  return `${lines.join('\n')}\n\n${rows.length ? table(['TRIAL', 'STATE', 'ROLE', 'VALUE', 'SCHEDULE'], rows) : 'no trials yet\n'}`;
}

const exportText = (exported: ExportedSchedule): string => `${JSON.stringify(exported, null, 2)}\n`;

/** `export --out F --json`: what was written, as one JSON object (the export itself is in the file). */
export function exportWritten(out: string, exported: ExportedSchedule & Partial<Pick<StudyExport, 'winner' | 'verdict' | 'trialNumber'>>): Record<string, unknown> {
  return { out, study: exported.provenance.study, studyId: exported.provenance.studyId, trialNumber: exported.trialNumber ?? null,
    winner: exported.winner ?? null, verdict: exported.verdict ?? null };
}

interface DbOpt { db?: string }
export interface ServeOptions extends DbOpt {
  port: string; host: string; token?: string; readToken?: string; allowedHosts?: string; env?: NodeJS.ProcessEnv; tlsCert?: string; tlsKey?: string;
  /** The study queue to show on the dashboard (GET /api/queue). */
  redis?: string; redisPrefix?: string;
}

export interface Serving {
  url: string;
  tokenRequired: boolean;
  /** What the operator should hear at start: plain HTTP beyond loopback, a certificate near or past its end. */
  warnings: string[];
  /** Reads the TLS files again (SIGHUP): what to print, the new certificate's end or why the old one stays. */
  reloadTls?(): string;
  stop(): Promise<void>;
}

/** How long a stopped serve waits for what still holds its event loop before it exits anyway. */
const LINGER_MS = 1000;

/** A token shorter than this, served beyond loopback, is warned of (8 is refused; 32 hex characters are 128 bits). */
const STRONG_TOKEN_LENGTH = 20;

/**
 * Host, port, tokens and the TLS files, checked before anything opens; what they refuse ends the CLI with
 * EXIT_NO_RETRY (a supervisor does not start it again for nothing).
 */
function serveFlags(o: ServeOptions) {
  return noRetry(() => {
    const port = portNumber(o.port);
    const listen = resolveListenOptions({ host: o.host, port, ...(o.token === undefined ? {} : { token: o.token }), ...(o.readToken === undefined ? {} : { readToken: o.readToken }),
      ...(o.env ? { env: o.env } : {}),
      ...(o.allowedHosts === undefined ? {} : { allowedHosts: parseAllowedHosts(o.allowedHosts) }) });
    const tls = tlsFlags(o);
    if (o.redis === undefined && o.redisPrefix !== undefined) throw new ConfigError('--redis-prefix', 'needs --redis', 'give the queue\'s --redis URL too, or leave --redis-prefix out');
    const redis = o.redis === undefined ? undefined : parseRedisRef(o.redis, o.redisPrefix);
    return { listen, tls, tlsLoaded: tls && loadTls(tls), redis };
  });
}

/** Checks host, token and the TLS files before touching the database, so a refused start leaves no file behind. */
export async function serve(o: ServeOptions): Promise<Serving> {
  const { listen, tls, tlsLoaded, redis } = serveFlags(o);
  const opened = await openService(o.db);
  const queue = redis && new ServedQueue(redis, opened.storage);
  const close = async () => {
    await queue?.close();
    await opened.close();
  };
  try {
    const srv = await createServer({ api: opened.service, ...listen, version: PACKAGE_VERSION, ...(o.env ? { env: o.env } : {}), ...(tls && tlsLoaded ? { tls, tlsLoaded } : {}), ...(queue ? { queue } : {}) });
    const warnings: string[] = [];
    // A queue that is down at start is no reason to keep the studies unserved: its panel says so until it is back.
    if (redis) await checkRedis(redis).catch((err: Error) => warnings.push(`${err.message}; the dashboard's queue panel says so until it is reachable`));
    if (!srv.tls && !isLoopback(listen.host)) {
      warnings.push(`serving ${listen.host} over plain HTTP: the bearer token and every study cross the network unencrypted ` +
        '(give --tls-cert and --tls-key, or put a TLS-terminating proxy in front)');
    }
    for (const [flag, t] of [['--token', listen.token], ['--read-token', listen.readToken]] as const) {
      if (t !== undefined && t.length < STRONG_TOKEN_LENGTH && !isLoopback(listen.host)) {
        warnings.push(`the ${flag} has ${t.length} characters: anyone who reaches ${listen.host} can try short ones until one works ` +
          `(use at least ${STRONG_TOKEN_LENGTH} random characters, e.g. \`openssl rand -hex 16\`)`);
      }
    }
    const expiry = srv.tls && expiryWarning(srv.tls);
    if (expiry) warnings.push(expiry);
    const reload = srv.tls?.reload;
    return {
      url: srv.url, tokenRequired: listen.token !== undefined, warnings, stop: () => srv.close().finally(close),
      ...(reload ? { reloadTls: () => reloadMessage(reload) } : {}),
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function reloadMessage(reload: () => { subject: string; validTo: Date }): string {
  try {
    const next = reload();
    const expiry = expiryWarning(next);
    return `reloaded the TLS certificate (${next.subject}, valid until ${next.validTo.toISOString()})${expiry ? `; warning: ${expiry}` : ''}`;
  } catch (err) {
    return `kept the TLS certificate served so far: ${(err as Error).message}`;
  }
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Serve the REST API and the dashboard for a study database')
    .addHelpText('after', `\nExit status: ${EXIT_NO_RETRY} when a flag, token or certificate file is refused (nothing was opened: do not restart it); 1 on any other failure.`)
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8080')
    .option('--host <host>', 'address to bind; anything but loopback needs a token', '127.0.0.1')
    .option('--db <ref>', `${DB_HELP}; a SQLite file is created if missing`)
    .option('--token <token>', 'bearer token the API requires (or set RENORM_TUNE_TOKEN)')
    .option('--read-token <token>', 'a second token that may only read: the dashboard, GETs, /metrics (or set RENORM_TUNE_READ_TOKEN); needs --token')
    .option('--allowed-hosts <names>', 'comma-separated host names to serve besides localhost/127.0.0.1/[::1] (DNS-rebinding guard)')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (then any intermediates); SIGHUP reads it and the key again')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--redis <url>', 'the study queue\'s Redis, as given to `run` and `worker`: the dashboard then shows its workers, what each trains, and the jobs (GET /api/queue)')
    .option('--redis-prefix <prefix>', `the queue's key prefix, as given to \`run\` and \`worker\` (default ${DEFAULT_PREFIX})`)
    .action(async (o: ServeOptions) => {
      const srv = await serve(o);
      for (const w of srv.warnings) process.stderr.write(`renorm-tune: warning: ${w}\n`);
      process.stdout.write(`renorm-tune: serving ${o.db ?? 'the database'} at ${srv.url}${srv.tokenRequired ? ' (open /?token=<token> once in the browser)' : ''}; Ctrl-C stops\n`);
      // Once stopped, the process ends even if a connection lingers: BullMQ's queue client keeps reconnecting to a
      // Redis that is away after its close gave up (queue.ts), and serve stayed until Redis came back.
      const stop = () => void srv.stop().finally(() => setTimeout(() => process.exit(process.exitCode ?? 0), LINGER_MS).unref());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const reload = srv.reloadTls;
      if (reload) process.on('SIGHUP', () => process.stdout.write(`renorm-tune: ${reload()}\n`));
    });

  program
    .command('studies')
    .description('List the studies in a database')
    .option('--db <ref>', DB_HELP)
    .option('--json', 'print the summaries as JSON')
    .action(async (o: DbOpt & { json?: boolean }) => {
      const list = await withService(o.db, (s) => s.listStudies());
      process.stdout.write(o.json ? `${JSON.stringify(list, null, 2)}\n` : studiesText(list));
    });

  program
    .command('show <study>')
    .description('Show one study (by id or name): progress, best schedule, baselines and every trial (or them alone as CSV, or one trial)')
    .option('--db <ref>', DB_HELP)
    .option('--json', 'print exactly the body of GET /api/studies/:id (with --trial: of GET /api/studies/:id/trials/:number)')
    .option('--csv', "print every trial as CSV (the dashboard's download: a row per trial, a column per parameter, RFC 4180)")
    .option('--trial <number>', 'show this one trial (#number): how it ended, its schedule, lease and curve', nonNegativeInt('--trial', 7))
    .action(async (ref: string, o: DbOpt & { json?: boolean; csv?: boolean; trial?: number }) => {
      if (o.json && o.csv) throw new ConfigError('--csv', 'cannot be given with --json', 'give one of them: --json for the whole study, --csv for its trials');
      if (o.trial !== undefined) {
        if (o.csv) throw new ConfigError('--csv', 'cannot be given with --trial', 'give --trial alone, or with --json');
        // One trial's read: the study's record names the metric, without listing its trials.
        const [trial, metric] = await withService(o.db, async (s) => {
          const study = await s.resolve(ref);
          const view = await s.getTrialView(study.id, { number: o.trial! }).catch((e: unknown) => {
            // The service's fix names the REST route; here the CLI lists them.
            throw e instanceof NoSuchTrialError ? new NoSuchTrialError(e.studyName, e.number, e.span, `\`${CLI} show ${e.studyName}${o.db === undefined ? '' : ` --db ${shellWord(o.db)}`}\` lists them`) : e;
          });
          return [view, metricOf(study.config)] as const;
        });
        process.stdout.write(o.json ? `${JSON.stringify({ trial }, null, 2)}\n` : trialText(trial, metric));
        return;
      }
      if (o.json || o.csv) {
        const view = await withService(o.db, (s) => s.getStudyView(ref));
        process.stdout.write(o.csv ? trialsCsv(view.trials) : `${JSON.stringify(view, null, 2)}\n`);
        return;
      }
      const [view, notes] = await withService(o.db, async (s) => {
        const v = await s.getStudyView(ref);
        // The model's view costs a fit (in a worker thread); a study too small for one simply shows none.
        const notes: ModelNotes = { recommendation: await s.recommendation(v.id).catch(() => null), importance: await s.importance(v.id).catch(() => null) };
        return [v, notes] as const;
      });
      process.stdout.write(showText(view, notes));
    });

  program
    .command('export <study>')
    .description('Write the best schedule of a study (by id or name) as versioned JSON')
    .option('--db <ref>', DB_HELP)
    .option('--out <file>', 'write here (atomically) instead of stdout (- for stdout)')
    .option('--json', 'with --out: print what was written as JSON ({out, study, studyId, trialNumber, winner, verdict}); without it stdout is the JSON export already')
    .action(async (ref: string, o: DbOpt & { out?: string; json?: boolean }) => {
      const exported = await withService(o.db, (s) => s.bestSchedule(ref));
      // `--out -` is stdout, as most tools read it (it wrote a file named '-').
      if (o.out === undefined || o.out === '-') process.stdout.write(exportText(exported));
      else {
        writeFileAtomic(o.out, exportText(exported));
        if (o.json) process.stdout.write(`${JSON.stringify(exportWritten(o.out, exported))}\n`);
        else process.stderr.write(`wrote ${o.out}\n`);
      }
    });
}
