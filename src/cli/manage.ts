// The study-management commands: create, extend, stop, resume, rename, delete and enqueue (each one service call, like its REST route).
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { parseJsonFile } from '../config/json_text.js';
import { isExportedSchedule, loadScheduleArg, validateSchedule, describeSchedule } from '../schedule/index.js';
import type { ScheduleSpec } from '../schedule/types.js';
import { checkRenormMomentum } from '../schedule/momentum.js';
import type { StudySummary } from '../study/api_types.js';
import { loadStudyConfig, studyName, validateStudyConfig } from '../study/config.js';
import { DB_HELP, withService } from './db.js';
import { noRetry } from './exit_status.js';
import { CLI } from '../shared/names.js';
import { leftOutText, type WarmStartReport } from '../study/warm_start.js';

interface DbOpt {
  db?: string;
  json?: boolean;
}

const say = (o: DbOpt, text: string, json: unknown) => process.stdout.write(o.json ? `${JSON.stringify(json)}\n` : `${text}\n`);
const budgetText = (s: StudySummary) => (s.budgetTrials === null ? 'no trial budget' : `budget ${s.budgetTrials} trials`);

/** `40` is a new total; `+10` adds to the current one (`now`, read from the study). */
export function budgetArg(raw: string, field: string, now: number | null | undefined): number {
  const m = /^(\+)?(\d+(?:\.\d+)?)$/.exec(raw.trim());
  if (!m) throw new ConfigError(field, `must be a number (the new total) or +N (more), got ${JSON.stringify(raw)}`, `e.g. ${field} 40 or ${field} +10`);
  const n = Number(m[2]);
  if (!m[1]) return n;
  // A limit the study does not have: the service refuses it, naming the one it has (a new total would be refused too).
  if (now === null || now === undefined) return n;
  return now + n;
}

/** A schedule argument: `paper`, `batchnorm`, a JSON file (a schedule or an export), or the JSON itself (`{"kind": ...}`). */
export function scheduleArg(raw: string): { schedule: ScheduleSpec; renormMomentum?: number } {
  if (raw.trimStart().startsWith('{')) return { schedule: validateSchedule(parseJsonFile(raw, 'schedule'), 'schedule') };
  const loaded = loadScheduleArg(raw);
  if (!isExportedSchedule(loaded)) return { schedule: loaded };
  return loaded.renormMomentum === undefined ? { schedule: loaded.schedule } : { schedule: loaded.schedule, renormMomentum: loaded.renormMomentum };
}

function momentumArg(raw: string): number {
  const v = raw.trim() === '' ? Number.NaN : Number(raw);
  return checkRenormMomentum(Number.isFinite(v) ? v : raw, '--renorm-momentum');
}

/** Reads y/N from stdin (a pipe counts too); anything but y or yes is no. */
async function confirm(question: string): Promise<boolean> {
  process.stderr.write(question);
  const rl = createInterface({ input: process.stdin });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}

export function register(program: Command): void {
  program
    .command('create <config>')
    .description('Create a study from a config without running it (an external study for your own trainer, or a local one to enqueue schedules into first)')
    .option('--db <ref>', `${DB_HELP}; a SQLite file is created if missing`)
    .option('--warm-start-from <study>', 'copy the finished trials of an earlier study (same objective and parameters) in as observations')
    .option('--json', 'print {id, name} as JSON')
    .action(async (path: string, o: DbOpt & { warmStartFrom?: string }) => {
      // As run's: a config refused is refused again on a second try (exit 78), for scripts that retry.
      const config = noRetry(() => {
        const loaded = loadStudyConfig(path);
        return o.warmStartFrom === undefined ? loaded : validateStudyConfig({ ...loaded, warmStartFrom: o.warmStartFrom });
      });
      const study = await withService(o.db, (s) => s.createStudy(config), { mustExist: false });
      const warm = study.attrs.warmStart as WarmStartReport | undefined;
      const warmText = config.warmStartFrom ? `, warm-started from ${config.warmStartFrom}${warm ? ` (${warm.copied} trials copied${leftOutText(warm)})` : ''}` : '';
      say(o, `created study ${study.name} (${study.id}), ${config.executor}${warmText}`, { id: study.id, name: study.name, ...(warm ? { warmStart: warm } : {}) });
    });

  program
    .command('extend <study>')
    .description('Raise a study\'s budget (new totals, or +N); a complete study can then be run again (an outside trainer\'s takes asks again)')
    .option('--db <ref>', DB_HELP)
    .option('--trials <n>', 'the new budget.trials, or +N for N more')
    .option('--time-minutes <m>', 'the new budget.timeMinutes, or +M for M more')
    .option('--json', 'print the study summary as JSON')
    .action(async (ref: string, o: DbOpt & { trials?: string; timeMinutes?: string }) => {
      if (o.trials === undefined && o.timeMinutes === undefined) throw new ConfigError('--trials', 'give --trials and/or --time-minutes', `e.g. ${CLI} extend my-study --trials +10`);
      const s = await withService(o.db, async (svc) => {
        const budget = (await svc.resolve(ref)).config.budget as { trials?: number; timeMinutes?: number } | undefined;
        const raise: { trials?: number; timeMinutes?: number } = {};
        if (o.trials !== undefined) raise.trials = budgetArg(o.trials, '--trials', budget?.trials);
        if (o.timeMinutes !== undefined) raise.timeMinutes = budgetArg(o.timeMinutes, '--time-minutes', budget?.timeMinutes);
        return svc.extendStudy(ref, raise);
      });
      const next = s.state !== 'STOPPED' ? '' : s.executor === 'external' ? ` (it was stopped: \`${CLI} resume ${s.name}\` takes asks again)` : ' (run it again to continue)';
      say(o, `study ${s.name}: ${budgetText(s)}, now ${s.state}${next}`, s);
    });

  program
    .command('stop <study>')
    .description('Stop a study: no new trials (asks get 409 STUDY_STOPPED, a running `run` winds down); trials already out may still report and tell')
    .option('--db <ref>', DB_HELP)
    .option('--json', 'print the study summary as JSON')
    .action(async (ref: string, o: DbOpt) => {
      const s = await withService(o.db, (svc) => svc.stopStudy(ref));
      say(o, `study ${s.name} stopped (${s.counts.RUNNING} trials still out may finish); resume it with ${s.executor === 'external' ? `${CLI} resume ${s.name}` : `${CLI} run <its config> (a run started with --unless-stopped, as the systemd unit's, leaves it stopped until \`${CLI} resume ${s.name}\`)`}`, s);
    });

  program
    .command('resume <study>')
    .description('Lift a stop: a stopped external study takes asks again; a local one is resumed by its next run, also one started with --unless-stopped')
    .option('--db <ref>', DB_HELP)
    .option('--json', 'print the study summary as JSON')
    .action(async (ref: string, o: DbOpt) => {
      const s = await withService(o.db, (svc) => svc.resumeStudy(ref));
      const next = s.state === 'STOPPED' ? `; \`${CLI} run <its config>\` resumes it (under systemd, \`systemctl start\` its unit)` : '';
      say(o, `study ${s.name} is ${s.state}${next}`, s);
    });

  program
    .command('rename <study> <name>')
    .description('Rename a study (ids never change)')
    .option('--db <ref>', DB_HELP)
    .option('--json', 'print the study summary as JSON')
    .action(async (ref: string, name: string, o: DbOpt) => {
      const s = await withService(o.db, (svc) => svc.renameStudy(ref, studyName(name, '<name>')));
      say(o, `renamed ${ref} to ${s.name} (${s.id})`, s);
    });

  program
    .command('delete <study>')
    .description('Delete a study and all its trials (asks first; --yes skips the question)')
    .option('--db <ref>', DB_HELP)
    .option('--yes', 'do not ask for confirmation')
    .option('--json', 'print what was deleted as JSON')
    .action(async (ref: string, o: DbOpt & { yes?: boolean }) => {
      const gone = await withService(o.db, async (svc) => {
        const view = await svc.getStudyView(ref);
        if (!o.yes) {
          const active = view.counts.RUNNING ? `, ${view.counts.RUNNING} of them running` : '';
          if (!(await confirm(`delete study ${view.name} (${view.id}) and its ${view.trials.length} trials${active}? This cannot be undone. [y/N] `))) return null;
        }
        return svc.deleteStudy(view.id);
      });
      if (gone === null) {
        process.stderr.write('not deleted\n');
        process.exitCode = 1;
        return;
      }
      say(o, `deleted study ${gone.name} (${gone.id}) and its ${gone.trials} trials`, gone);
    });

  program
    .command('enqueue <study> <schedule>')
    .description('Queue a schedule of your own, evaluated before any new suggestion: paper, batchnorm, a JSON file (a schedule or an export) or the JSON itself')
    .option('--db <ref>', DB_HELP)
    .option('--renorm-momentum <m>', 'train it with this renorm momentum (default: the export\'s, else 0.99)', momentumArg)
    .option('--json', 'print the queued trial as JSON')
    .action(async (ref: string, raw: string, o: DbOpt & { renormMomentum?: number }) => {
      const { schedule, renormMomentum } = scheduleArg(raw);
      const momentum = o.renormMomentum ?? renormMomentum;
      const t = await withService(o.db, (svc) => svc.enqueue(ref, schedule, momentum === undefined ? {} : { renormMomentum: momentum }));
      const place = Object.keys(t.params).filter((k) => k !== 'renormMomentum').length > 0 ? 'a point of the search space' : 'outside the search space: evaluated, not modelled';
      say(o, `queued trial #${t.number} (${place}): ${describeSchedule(t.schedule)}`, t);
    });
}
