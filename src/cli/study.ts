// The study commands that read or serve a database: `serve`, `studies`, `show` and `export`.
import type { Command } from 'commander';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { NotFoundError } from '../errors.js';
import { describeSchedule } from '../schedule/index.js';
import { createServer, parseAllowedHosts, resolveListenOptions } from '../server/index.js';
import type { StudySummary, StudyView } from '../study/api_types.js';
import { createStudyService } from '../study/service/defaults.js';
import { SqliteStorage } from '../study/storage/index.js';
import type { StudyService } from '../study/service.js';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

/** Relative to the working directory, like git's repository lookup: each project folder keeps its own studies. */
export const DEFAULT_DB = 'renorm-tune.db';

/** Read commands open with mustExist: a typo in --db must not leave an empty database behind. */
function openService(db: string, mustExist: boolean): { service: StudyService; close(): void } {
  const storage = new SqliteStorage(db, { mustExist });
  return { service: createStudyService(storage), close: () => storage.close() };
}

function withService<T>(db: string, fn: (s: StudyService) => T): T {
  const { service, close } = openService(db, true);
  try {
    return fn(service);
  } finally {
    close();
  }
}

/** Ids first (they are unique by construction), then names, so a study can be named by either. */
export function resolveStudyId(service: StudyService, ref: string): string {
  const byId = service.storage.getStudy(ref) ?? service.storage.findStudyByName(ref);
  if (!byId) throw new NotFoundError(`study '${ref}' (neither an id nor a name; \`renorm-tune studies\` lists them)`);
  return byId.id;
}

const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : Number(v.toPrecision(4)).toString());

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

function progress(s: StudySummary): string {
  const done = s.counts.COMPLETE + s.counts.PRUNED + s.counts.FAIL;
  const active = s.counts.RUNNING + s.counts.WAITING;
  return `${done}${s.budgetTrials === null ? '' : `/${s.budgetTrials}`}${active ? ` (+${active} running)` : ''}`;
}

export function studiesText(list: StudySummary[]): string {
  if (list.length === 0) return 'no studies yet (start one with `renorm-tune run <config.json>`)\n';
  return table(
    ['NAME', 'ID', 'STATE', 'PROGRESS', 'BEST', 'BATCHNORM', 'PAPER'],
    list.map((s) => [s.name, s.id, s.state, progress(s), fmt(s.best?.value), fmt(s.baselines.batchnorm), fmt(s.baselines.paper)]),
  );
}

export function showText(v: StudyView): string {
  const best = v.best ? v.trials.find((t) => t.id === v.best!.trialId) : undefined;
  const lines = [
    `study     ${v.name} (${v.id}), ${v.state}, ${v.executor} executor`,
    `objective ${v.direction} ${v.metric}${v.totalSteps ? ` over ${v.totalSteps} steps` : ''}`,
    `progress  ${progress(v)}: ${Object.entries(v.counts).map(([k, n]) => `${n} ${k.toLowerCase()}`).join(', ')}`,
    `baselines batchnorm ${fmt(v.baselines.batchnorm)}, paper ${fmt(v.baselines.paper)}`,
    `best      ${best ? `${fmt(best.value)} (trial ${best.id}${best.label ? `, ${best.label}` : ''}): ${describeSchedule(best.schedule)}` : '-'}`,
  ];
  if (v.finalValidation?.best) {
    const f = v.finalValidation;
    const ci = (x?: { mean: number; ci: [number, number] }) => (x ? `${fmt(x.mean)} [${fmt(x.ci[0])}, ${fmt(x.ci[1])}]` : '-');
    lines.push(`final     best ${ci(f.best)}, batchnorm ${ci(f.batchnorm)}, paper ${ci(f.paper)} (mean, 95% CI)`);
  }
  const rows = v.trials.map((t) => [String(t.number), String(t.id), t.state, t.label ?? '', fmt(t.value), t.failureReason ?? describeSchedule(t.schedule)]);
  return `${lines.join('\n')}\n\n${rows.length ? table(['#', 'ID', 'STATE', 'LABEL', 'VALUE', 'SCHEDULE'], rows) : 'no trials yet\n'}`;
}

/** Temp file in the target's folder, then rename: a reader never sees half a file, and a crash leaves the old one. */
export function writeFileAtomic(path: string, text: string): void {
  const target = resolve(path);
  const tmpDir = mkdtempSync(join(dirname(target), `.${basename(target)}.tmp-`));
  const tmp = join(tmpDir, 'data');
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, target);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

export function exportJson(service: StudyService, ref: string): string {
  return `${JSON.stringify(service.bestSchedule(resolveStudyId(service, ref)), null, 2)}\n`;
}

interface DbOpt { db: string }
export interface ServeOptions extends DbOpt { port: string; host: string; token?: string; allowedHosts?: string; env?: NodeJS.ProcessEnv }

/** Checks host and token before touching the database, so a refused start leaves no file behind. */
export async function serve(o: ServeOptions): Promise<{ url: string; tokenRequired: boolean; stop(): Promise<void> }> {
  const port = /^\d+$/.test(o.port) ? Number(o.port) : NaN;
  const listen = resolveListenOptions({ host: o.host, port, ...(o.token === undefined ? {} : { token: o.token }), ...(o.env ? { env: o.env } : {}),
    ...(o.allowedHosts === undefined ? {} : { allowedHosts: parseAllowedHosts(o.allowedHosts) }) });
  const { service, close } = openService(o.db, false);
  try {
    const srv = await createServer({ api: service, ...listen, version: pkg.version, ...(o.env ? { env: o.env } : {}) });
    return { url: srv.url, tokenRequired: listen.token !== undefined, stop: () => srv.close().finally(close) };
  } catch (err) {
    close();
    throw err;
  }
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Serve the REST API and the dashboard for a study database')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8080')
    .option('--host <host>', 'address to bind; anything but loopback needs a token', '127.0.0.1')
    .option('--db <file>', 'SQLite database (created if missing)', DEFAULT_DB)
    .option('--token <token>', 'bearer token the API requires (or set RENORM_TUNE_TOKEN)')
    .option('--allowed-hosts <names>', 'comma-separated host names to serve besides localhost/127.0.0.1/[::1] (DNS-rebinding guard)')
    .action(async (o: ServeOptions) => {
      const srv = await serve(o);
      process.stdout.write(`renorm-tune: serving ${o.db} at ${srv.url}${srv.tokenRequired ? ' (open /?token=<token> once in the browser)' : ''}; Ctrl-C stops\n`);
      process.once('SIGINT', () => void srv.stop());
      process.once('SIGTERM', () => void srv.stop());
    });

  program
    .command('studies')
    .description('List the studies in a database')
    .option('--db <file>', 'SQLite database', DEFAULT_DB)
    .option('--json', 'print the summaries as JSON')
    .action((o: DbOpt & { json?: boolean }) => {
      const list = withService(o.db, (s) => s.listStudies());
      process.stdout.write(o.json ? `${JSON.stringify(list, null, 2)}\n` : studiesText(list));
    });

  program
    .command('show <study>')
    .description('Show one study (by id or name): progress, best schedule, baselines and every trial')
    .option('--db <file>', 'SQLite database', DEFAULT_DB)
    .option('--json', 'print exactly the body of GET /api/studies/:id')
    .action((ref: string, o: DbOpt & { json?: boolean }) => {
      const view = withService(o.db, (s) => s.getStudyView(resolveStudyId(s, ref)));
      process.stdout.write(o.json ? `${JSON.stringify(view, null, 2)}\n` : showText(view));
    });

  program
    .command('export <study>')
    .description('Write the best schedule of a study (by id or name) as versioned JSON')
    .option('--db <file>', 'SQLite database', DEFAULT_DB)
    .option('--out <file>', 'write here (atomically) instead of stdout')
    .action((ref: string, o: DbOpt & { out?: string }) => {
      const json = withService(o.db, (s) => exportJson(s, ref));
      if (o.out === undefined) process.stdout.write(json);
      else {
        writeFileAtomic(o.out, json);
        process.stderr.write(`wrote ${o.out}\n`);
      }
    });
}
