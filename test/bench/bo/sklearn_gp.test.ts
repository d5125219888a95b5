// The scikit-learn side of `bench bo`'s latency table: the output parser checks the fits against the sent data,
// the latency data is the seeded stream the table always used, and (when sklearn is installed) a real tiny fit parses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { DataError } from '../../../src/errors.js';
import { Rng } from '../../../src/gp/rng.js';
import { latencyDataset } from '../../../src/bench/bo/latency.js';
import { parseSklearnOutput, runSklearnGpFit, SKLEARN_PYTHON, sklearnAvailability, type GpFitDataset } from '../../../src/bench/bo/sklearn_gp.js';
import { hartmann6 } from '../../../src/bench/bo/test_functions.js';

const datasets: GpFitDataset[] = [
  { X: [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], y: [1, 2, 4] },
  { X: [[0.9, 0.8], [0.7, 0.6]], y: [-1, 0.5] },
];
const request = { repeats: 3, datasets };
const fit = (over: Record<string, unknown> = {}, ds = datasets[0]!) => ({
  n: ds.y.length, d: 2, x_sum: ds.X.flat().reduce((a, b) => a + b, 0), y_sum: ds.y.reduce((a, b) => a + b, 0),
  seconds: [0.3, 0.1, 0.2], median: 0.2, kernel: 'k', log_marginal_likelihood: -3.5, ...over,
});
const text = (fits: unknown[]) => `a warning\n${JSON.stringify({ sklearn: '1.2.1', numpy: '1.24', blas_threads: [{ threads: 1 }], fits })}\n`;

test('parseSklearnOutput returns one timing per dataset with the median recomputed from the repeats', () => {
  const out = parseSklearnOutput(text([fit(), fit({ seconds: [4, 1, 2], median: 99 }, datasets[1])]), request);
  assert.equal(out.version, '1.2.1');
  assert.deepEqual(out.blasThreads, [1]);
  assert.deepEqual(out.fits.map((f) => [f.n, f.medianSeconds]), [[3, 0.2], [2, 2]]);
  const even = parseSklearnOutput(text([fit({ seconds: [1, 3] })]), { repeats: 2, datasets: [datasets[0]!] });
  assert.equal(even.fits[0]!.medianSeconds, 2);
});

test('parseSklearnOutput rejects fits of other data, missing fits, wrong repeat counts and bad numbers', () => {
  const second = fit({}, datasets[1]);
  const cases: Array<[string, unknown[], RegExp]> = [
    ['missing fit', [fit()], /1 fits reported for 2 datasets/],
    ['other size', [fit({ n: 4 }), second], /fit 1 \(n = 3\): reports 4 x 2 data/],
    ['other points', [fit({ x_sum: 2.2 }), second], /data sums 2.2, 7 differ from the sent 2.1, 7/],
    ['other values', [fit(), fit({ y_sum: 0 }, datasets[1])], /fit 2 .*data sums/],
    ['short repeats', [fit({ seconds: [0.1, 0.2] }), second], /2 timings, expected 3/],
    ['zero time', [fit({ seconds: [0.1, 0, 0.2] }), second], /not positive finite seconds/],
    ['NaN likelihood', [fit({ log_marginal_likelihood: null }), second], /log marginal likelihood null is not finite/],
  ];
  for (const [name, fits, msg] of cases) {
    assert.throws(() => parseSklearnOutput(text(fits), request), (e: unknown) => e instanceof DataError && msg.test(e.message), name);
  }
  assert.throws(() => parseSklearnOutput('Traceback ...', request), /last line is not JSON/);
});

test('sklearnAvailability names the interpreter and the fix when sklearn cannot be used', () => {
  assert.deepEqual(sklearnAvailability('/nonexistent/python3'), { missing: '/nonexistent/python3 does not exist' });
  if (existsSync('/bin/false')) {
    const r = sklearnAvailability('/bin/false');
    assert.ok('missing' in r && /\/bin\/false cannot import sklearn \(exit status 1\).*apt-get install python3-sklearn/.test(r.missing), JSON.stringify(r));
  }
});

test('latencyDataset is the Rng(7, n) stream in [0,1]^6 with Hartmann6 values, the data the latency table always used', () => {
  const { X, y } = latencyDataset(30);
  const rng = new Rng(7, 30);
  assert.equal(X.length, 30);
  X.forEach((x, i) => {
    assert.deepEqual(x, Array.from({ length: 6 }, () => rng.uniform()), `point ${i}`);
    assert.equal(y[i], hartmann6.f(Object.fromEntries(x.map((v, j) => [`x${j}`, v]))));
  });
  assert.notDeepEqual(latencyDataset(31).X[0], X[0], 'each size has its own stream');
});

const sklearn = existsSync(SKLEARN_PYTHON) ? sklearnAvailability() : { missing: `${SKLEARN_PYTHON} not found` };
test('a real scikit-learn GP fit on two tiny latency datasets parses, with one BLAS thread', {
  skip: 'missing' in sklearn ? `scikit-learn not installed (${sklearn.missing})` + '; .ci/run installs python3-sklearn' : false,
}, async () => {
  const data = [latencyDataset(12), latencyDataset(20)];
  const out = await runSklearnGpFit({ repeats: 2, datasets: data });
  assert.deepEqual(out.fits.map((f) => [f.n, f.seconds.length]), [[12, 2], [20, 2]]);
  assert.ok(out.blasThreads.every((t) => t === 1), `BLAS pools in the child run ${out.blasThreads.join(', ')} threads, expected 1`);
  for (const f of out.fits) assert.match(f.kernel, /Matern\(length_scale=\[.*\], nu=2\.5\) \+ WhiteKernel/);
});
