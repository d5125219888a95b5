// `renorm-tune copy` through the installed binary: one study or every study into another database, a taken name
// refused with its fix, bad arguments named. (Every field of a copy, PostgreSQL included: test/study/copy.test.ts.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateStudyConfig } from '../../src/study/config.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { SqliteStorage } from '../../src/study/storage/index.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'renorm-copy-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** A SQLite database holding `names`, each an outside trainer's study with one told trial and one curve point. */
async function database(file: string, names: string[]): Promise<Record<string, string>> {
  const storage = new SqliteStorage(file);
  const svc = createStudyService(storage);
  const ids: Record<string, string> = {};
  try {
    for (const name of names) {
      const s = await svc.createStudy(validateStudyConfig({ name, executor: 'external', totalSteps: 100, budget: { trials: 5 }, baselines: false, finalValidation: { seeds: 0 } }));
      const [t] = await svc.ask(s.id, 1);
      await svc.report(s.id, t!.id, 5, 0.25, { token: t!.lease!.token });
      await svc.tell(s.id, t!.id, { value: 0.5 }, { token: t!.lease!.token });
      ids[name] = s.id;
    }
    return ids;
  } finally {
    svc.close();
    await storage.close();
  }
}

const names = (file: string) => (JSON.parse(cli('studies', '--db', file, '--json').out) as { name: string }[]).map((s) => s.name).sort();

test('copy takes one study into another database, refuses a taken name with the fix, copies within one database under --name', async () => {
  const db = join(dir, 'one.db');
  const ids = await database(db, ['to-copy']);
  const target = join(dir, 'one-target.db');
  const first = cli('copy', 'to-copy', '--db', db, '--to', target);
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, new RegExp(`^copied study to-copy \\(${ids['to-copy']}\\) to .*one-target\\.db as to-copy \\([0-9a-f]+\\): 1 trials, 1 curve points\\n$`));
  const again = cli('copy', 'to-copy', '--db', db, '--to', target);
  assert.equal(again.code, 1);
  assert.match(again.err, /--name: the copy's name is taken: a study named 'to-copy' already exists in .*one-target\.db \(fix: give the copy another name with --name/);
  const renamed = cli('copy', ids['to-copy']!, '--db', db, '--to', target, '--name', 'second', '--json');
  assert.equal(renamed.code, 0, renamed.err);
  const out = JSON.parse(renamed.out) as { from: { id: string; name: string }; to: { name: string; db: string }; trials: number; points: number; requeued: number };
  assert.deepEqual([out.from, out.to.name, out.to.db, out.trials, out.points, out.requeued], [{ id: ids['to-copy'], name: 'to-copy' }, 'second', target, 1, 1, 0]);
  assert.deepEqual(names(target), ['second', 'to-copy']);
  const within = cli('copy', 'to-copy', '--db', db, '--to', db, '--name', 'to-copy-2');
  assert.equal(within.code, 0, within.err);
  const twin = JSON.parse(cli('show', 'to-copy-2', '--db', db, '--json').out) as { trials: { value: number; intermediate: unknown[] }[] };
  assert.deepEqual([twin.trials.length, twin.trials[0]!.value, twin.trials[0]!.intermediate], [1, 0.5, [{ step: 5, value: 0.25 }]], 'a copy within one database, under another name');
});

test('copy --all takes every study; one whose name the target holds is left out, named, and the exit is 1', async () => {
  const db = join(dir, 'all.db');
  await database(db, ['a', 'b', 'c']);
  const target = join(dir, 'all-target.db');
  await database(target, ['b']);
  const r = cli('copy', '--all', '--db', db, '--to', target);
  assert.equal(r.code, 1);
  assert.match(r.out, /^copied study a .*\nnot copied: study b \([0-9a-f]+\): the copy's name is taken: a study named 'b' already exists in .*\ncopied study c .*\n2 of 3 studies copied\n$/);
  assert.match(r.err, /1 not copied: their names are taken in .*all-target\.db \(delete them there first, or copy each alone with --name\)/);
  assert.deepEqual(names(target), ['a', 'b', 'c']);
  const json = cli('copy', '--all', '--db', db, '--to', join(dir, 'all-json.db'), '--json');
  assert.equal(json.code, 0, json.err);
  assert.deepEqual((JSON.parse(json.out) as { to: { name: string } }[]).map((c) => c.to.name), ['a', 'b', 'c']);
});

test('copy names what is wrong with its arguments, and makes no file for them', async () => {
  const db = join(dir, 'args.db');
  const cases: [string[], RegExp][] = [
    [['copy', '--to', join(dir, 'x.db'), '--db', db], /<study>: is missing \(fix: name one study \(id or name\), or give --all for every study\)/],
    [['copy', 's', '--all', '--to', join(dir, 'x.db'), '--db', db], /<study>: cannot be given with --all/],
    [['copy', '--all', '--name', 'n', '--to', join(dir, 'x.db'), '--db', db], /--name: cannot be given with --all/],
    [['copy', 's', '--db', db, '--to', ':memory:'], /--to: is :memory:, a database gone when the command exits \(fix: give a SQLite file or a postgres:\/\/ URL\)/],
    [['copy', 's', '--db', db, '--to', join(dir, 'x.db'), '--name', 'bad name'], /--name: must be 1-100 characters/],
    [['copy', 's', '--db', join(dir, 'nope.db'), '--to', join(dir, 'x.db')], /nope\.db: no such database file/],
    [['copy', 's', '--db', db], /required option '--to <ref>' not specified/],
    [['copy', 'no-such-study', '--db', (await database(db, ['here']), db), '--to', join(dir, 'x.db')], /study 'no-such-study' \(neither an id nor a name/],
    // The target is named by its own flag (it was "--db: cannot use postgres://...").
    [['copy', 'here', '--db', db, '--to', 'postgres://nobody@127.0.0.1:1/x'], /^error: --to: cannot use postgres:\/\/nobody@127\.0\.0\.1:1\/x: connection refused/],
    [['copy', 'here', '--db', db, '--to', 'mysql://h/x'], /^error: --to: unsupported/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    // Commander's own refusal of the command line is a refused flag's 78; the command's own checks say 1.
    assert.equal(r.code, /required option/.test(String(message)) ? 78 : 1, args.join(' '));
    assert.match(r.err, message, args.join(' '));
  }
  assert.equal(existsSync(join(dir, 'nope.db')), false, 'no file is made for a mistyped --db');
  assert.equal(existsSync(join(dir, 'x.db')), false, 'nor for the target of a refused copy (a mistyped study included)');
  const empty = join(dir, 'empty.db');
  await database(empty, []);
  const none = cli('copy', '--all', '--db', empty, '--to', join(dir, 'y.db'));
  assert.deepEqual([none.code, none.out], [0, '0 of 0 studies copied\n']);
  assert.match(none.err, /empty\.db holds no study: nothing to copy/);
  assert.equal(existsSync(join(dir, 'y.db')), false);
});
