// `npm run soak [-- --path queue|service|both --store sqlite|postgres|both --seed N --trials N --minutes M]`: studies
// under random faults, over the queue (./queue.ts) or served to outside trainers over HTTP (./service.ts), one seed
// after another until the time is up; exits 1 at the first broken invariant.
import { parseArgs } from 'node:util';
import type { Store } from '../distributed/helpers.js';
import { runQueueChaos } from './queue.js';
import { runServiceChaos } from './service.js';

const USAGE = `usage: npm run soak [-- --path queue|service|both --store sqlite|postgres|both --seed N --trials N --minutes M --quiet]
  --path P      queue: a study run by a coordinator and queue workers (Redis); service: an external study served by
                renorm-tune serve to outside trainers (the Python client's study.optimize); both (default): in turn
  --store S     the study's database (default both, in turn; PostgreSQL is the one a relay can cut)
  --seed N      replay this seed's fault sequence alone (default: seeds from 1 until the time is up)
  --trials N    each study's search budget (default 40)
  --minutes M   time for the whole run (default 10)
  --quiet       only each study's summary, not every fault
`;

type Path = 'queue' | 'service';

function fail(message: string): never {
  process.stderr.write(`soak: ${message}\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  values = parseArgs({
    options: {
      path: { type: 'string', default: 'both' },
      store: { type: 'string', default: 'both' },
      seed: { type: 'string' },
      trials: { type: 'string', default: '40' },
      minutes: { type: 'string', default: '10' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  fail((err as Error).message);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const either = <T extends string>(name: string, raw: string | undefined, one: T, other: T): T[] =>
  raw === 'both' ? [one, other] : raw === one || raw === other ? [raw as T] : fail(`--${name} must be ${one}, ${other} or both, got ${JSON.stringify(raw)}`);
const paths = either<Path>('path', values.path, 'queue', 'service');
const stores = either<Store>('store', values.store, 'sqlite', 'postgres');
const number = (name: string, raw: string, least: number) => {
  const n = Number(raw);
  return Number.isFinite(n) && n >= least ? n : fail(`--${name} must be a number of at least ${least}, got ${JSON.stringify(raw)}`);
};
const trials = Math.floor(number('trials', values.trials!, 6));
const budgetMs = number('minutes', values.minutes!, 0.1) * 60_000;
const fixed = values.seed !== undefined;
let seed = fixed ? Math.floor(number('seed', values.seed!, 0)) : 1;
// Every path on every store, in turn; a new seed once each has had this one.
const combos = paths.flatMap((path) => stores.map((store) => ({ path, store })));

const t0 = Date.now();
let runs = 0;
do {
  const { path, store } = combos[runs % combos.length]!;
  const opts = {
    store, seed, trials, chaosMs: 120_000, settleMs: 180_000,
    progress: values.quiet ? undefined : (line: string) => process.stderr.write(`[${path} ${store} seed ${seed}] ${line}\n`),
  };
  const report = path === 'queue' ? await runQueueChaos(opts) : await runServiceChaos(opts);
  const faults = Object.entries(report.faults).map(([k, n]) => `${k} ${n}`).join(', ');
  process.stdout.write(`soak seed ${seed} (${path}, ${store}): ${report.trials} trials in ${(report.ms / 1000).toFixed(1)} s; faults: ${faults || 'none'}; ` +
    `${report.retrained} trained again after a fault, ${report.failed} failed after losing their lease 3 times` +
    `${report.notes?.length ? `; ${report.notes.join('; ')}` : ''}\n`);
  if (report.problems.length) {
    process.stderr.write(`soak seed ${seed} (${path}, ${store}) broke ${report.problems.length} invariant(s):\n${report.problems.map((p) => `- ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  runs++;
  if (runs % combos.length === 0) seed++;
} while (!fixed ? Date.now() - t0 < budgetMs : runs < combos.length);
process.stdout.write(`soak: ${runs} studies, every invariant held, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
