// `npm run soak [-- --store sqlite|postgres|both --seed N --trials N --minutes M]`: studies over the queue under
// random faults (./chaos.ts), one seed after another until the time is up; exits 1 at the first broken invariant.
import { parseArgs } from 'node:util';
import { runChaos } from './chaos.js';
import type { Store } from '../helpers.js';

const USAGE = `usage: npm run soak [-- --store sqlite|postgres|both --seed N --trials N --minutes M --quiet]
  --store S     the study's database (default both, alternating; PostgreSQL is the one a relay can cut)
  --seed N      replay this seed's fault sequence alone (default: seeds from 1 until the time is up)
  --trials N    each study's search budget (default 40)
  --minutes M   time for the whole run (default 10)
  --quiet       only each study's summary, not every fault
`;

function fail(message: string): never {
  process.stderr.write(`soak: ${message}\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  values = parseArgs({
    options: {
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
const stores: Store[] = values.store === 'both' ? ['sqlite', 'postgres'] : values.store === 'sqlite' || values.store === 'postgres' ? [values.store] : fail(`--store must be sqlite, postgres or both, got ${JSON.stringify(values.store)}`);
const number = (name: string, raw: string, least: number) => {
  const n = Number(raw);
  return Number.isFinite(n) && n >= least ? n : fail(`--${name} must be a number of at least ${least}, got ${JSON.stringify(raw)}`);
};
const trials = Math.floor(number('trials', values.trials!, 6));
const budgetMs = number('minutes', values.minutes!, 0.1) * 60_000;
const fixed = values.seed !== undefined;
let seed = fixed ? Math.floor(number('seed', values.seed!, 0)) : 1;

const t0 = Date.now();
let runs = 0;
do {
  const store = stores[runs % stores.length]!;
  const report = await runChaos({
    store, seed, trials, chaosMs: 120_000, settleMs: 180_000,
    progress: values.quiet ? undefined : (line) => process.stderr.write(`[${store} seed ${seed}] ${line}\n`),
  });
  const faults = Object.entries(report.faults).map(([k, n]) => `${k} ${n}`).join(', ');
  process.stdout.write(`soak seed ${seed} (${store}): ${report.trials} trials in ${(report.ms / 1000).toFixed(1)} s; faults: ${faults || 'none'}; ` +
    `${report.retrained} trained again after a fault, ${report.failed} failed after losing their lease 3 times\n`);
  if (report.problems.length) {
    process.stderr.write(`soak seed ${seed} (${store}) broke ${report.problems.length} invariant(s):\n${report.problems.map((p) => `- ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  runs++;
  if (!fixed || runs % stores.length === 0) seed++;
} while (!fixed ? Date.now() - t0 < budgetMs : runs < stores.length);
process.stdout.write(`soak: ${runs} studies, every invariant held, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
