// `npm run fuzz [-- --seed N --requests N --minutes M --storage memory|sqlite|postgres]`: the long hostile-input run, one seed after another until the time is up.
import { parseArgs } from 'node:util';
import { FUZZ_STORAGES, FuzzFailure, runFuzz, type FuzzStorage } from './harness.js';

const USAGE = `usage: npm run fuzz [-- --seed N --requests N --minutes M --storage ${FUZZ_STORAGES.join('|')} --timeout MS]
  --seed N      replay this seed alone (default: seeds from a time-based start until the time is up)
  --requests N  requests per seed (default 5000)
  --minutes M   time for the whole run (default 5)
  --storage S   the store behind the server (default memory)
  --timeout MS  longest answer a request may take before it counts as a hang (default 10000)
`;

function parse() {
  try {
    return parseArgs({
      options: {
        seed: { type: 'string' },
        requests: { type: 'string', default: '5000' },
        minutes: { type: 'string', default: '5' },
        storage: { type: 'string', default: 'memory' },
        timeout: { type: 'string', default: '10000' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    // An unknown or malformed option: say which, and how it is used, not a stack trace.
    process.stderr.write(`fuzz: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const values = parse();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

function positive(name: string, raw: string, least = 'positive'): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || (least === 'positive' ? n <= 0 : n < 0)) {
    process.stderr.write(`fuzz: --${name} must be a ${least} number, got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return n;
}

const requests = Math.floor(positive('requests', values.requests!));
const maxMs = positive('minutes', values.minutes!) * 60_000;
const timeoutMs = positive('timeout', values.timeout!);
if (!(FUZZ_STORAGES as readonly string[]).includes(values.storage!)) {
  process.stderr.write(`fuzz: --storage must be one of ${FUZZ_STORAGES.join(', ')}, got ${JSON.stringify(values.storage)}\n`);
  process.exit(2);
}
const storage = values.storage as FuzzStorage;
// One given seed replays exactly; without one, seeds run from a time-based start until the time is up.
const fixed = values.seed !== undefined;
let seed = fixed ? Math.floor(positive('seed', values.seed!, 'non-negative')) : Date.now() % 1_000_000;
const t0 = Date.now();
let total = 0;
try {
  do {
    const report = await runFuzz({ seed, requests, storage, timeoutMs, maxMs: maxMs - (Date.now() - t0), progress: (l) => process.stderr.write(`${l}\n`) });
    total += report.requests;
    process.stdout.write(`fuzz seed ${seed} (${storage}): ${report.requests} requests in ${(report.ms / 1000).toFixed(1)} s, ${report.accepted} accepted, statuses ${JSON.stringify(report.statuses)}\n`);
    seed++;
  } while (!fixed && Date.now() - t0 < maxMs);
  process.stdout.write(`fuzz: ${total} requests, no failure, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
} catch (err) {
  process.stderr.write(`${err instanceof FuzzFailure ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
