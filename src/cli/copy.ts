// `renorm-tune copy`: a study (or every study) of one database copied whole into another, each in one transaction.
import type { Command } from 'commander';
import { ConfigError, ConflictError } from '../errors.js';
import { studyName } from '../study/config.js';
import { copyStudy, type CopyReport } from '../study/copy.js';
import type { StudyService } from '../study/service.js';
import { parseStorageRef, storageRefFrom } from '../study/storage/index.js';
import { DB_HELP, dbWhere, withService } from './db.js';

interface CopyOpts {
  db?: string;
  to: string;
  name?: string;
  all?: boolean;
  json?: boolean;
}

/** One study's outcome: what was copied, or why not (a name the target holds). */
type Outcome = (CopyReport & { to: { db: string } }) | { study: string; refused: string };

function line(c: Outcome): string {
  if ('refused' in c) return `not copied: study ${c.study}: ${c.refused}`;
  const requeued = c.requeued === 0 ? '' : `; ${c.requeued} running trial${c.requeued > 1 ? 's' : ''} queued again there (a lease does not travel: they start over)`;
  return `copied study ${c.from.name} (${c.from.id}) to ${c.to.db} as ${c.to.name} (${c.to.id}): ${c.trials} trials, ${c.points} curve points${requeued}`;
}

export function register(program: Command): void {
  program
    .command('copy [study]')
    .description('Copy a study whole (trials, curves, results, search clock) into another database: the embedded SQLite file to PostgreSQL to scale it out, or back; --all copies every study')
    .requiredOption('--to <ref>', 'the database to copy it into: a SQLite file or a postgres:// URL')
    .option('--db <ref>', DB_HELP)
    .option('--name <name>', "the copy's name (default: the study's own; a name the target database already holds is refused)")
    .option('--all', 'copy every study of --db (each in its own transaction; one whose name the target holds is left out, named, and the exit is 1)')
    .option('--json', 'print what was copied as JSON (with --all, an array)')
    .action(async (ref: string | undefined, o: CopyOpts) => {
      if ((ref === undefined) === !o.all) throw new ConfigError('<study>', o.all ? 'cannot be given with --all' : 'is missing', 'name one study (id or name), or give --all for every study');
      if (o.all && o.name !== undefined) throw new ConfigError('--name', 'cannot be given with --all: each copy keeps its study\'s name', 'copy that study alone to rename it');
      const name = o.name === undefined ? undefined : studyName(o.name, '--name');
      if (parseStorageRef(o.to, '--to').kind === 'memory') throw new ConfigError('--to', 'is :memory:, a database gone when the command exits', 'give a SQLite file or a postgres:// URL');
      const db = dbWhere(o.to);
      // What it read, before the long part: on a terminal only.
      const progress = (text: string) => void (process.stderr.isTTY && process.stderr.write(`${text}\n`));
      const one = async (from: StudyService, to: StudyService, study: { id: string; name: string }): Promise<Outcome> => {
        try {
          const copied = await copyStudy(from, to, study.id, name, progress);
          return { ...copied, to: { ...copied.to, db } };
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
          return { study: `${study.name} (${study.id})`, refused: `the copy's name is taken: ${err.message} in ${db}` };
        }
      };
      const outcomes = await withService(o.db, async (from) => {
        // Found before the target is opened: a mistyped study makes no target file.
        const refs = o.all ? await from.listStudies() : [await from.resolve(ref!)];
        if (refs.length === 0) return [];
        return withService(o.to, async (to) => {
          const out: Outcome[] = [];
          for (const study of refs) out.push(await one(from, to, study));
          return out;
        }, { mustExist: false, field: '--to' });
      });
      const refused = outcomes.filter((c) => 'refused' in c);
      if (!o.all && refused.length > 0) {
        throw new ConfigError('--name', (refused[0] as { refused: string }).refused, 'give the copy another name with --name, or delete that study there first');
      }
      if (o.all && outcomes.length === 0) process.stderr.write(`${dbWhere(storageRefFrom(o.db))} holds no study: nothing to copy\n`);
      if (o.json) process.stdout.write(`${JSON.stringify(o.all ? outcomes : outcomes[0])}\n`);
      else process.stdout.write([...outcomes.map(line), ...(o.all ? [`${outcomes.length - refused.length} of ${outcomes.length} studies copied`] : [])].map((l) => `${l}\n`).join(''));
      if (refused.length > 0) {
        process.stderr.write(`${refused.length} not copied: their names are taken in ${db} (delete them there first, or copy each alone with --name)\n`);
        process.exitCode = 1;
      }
    });
}
