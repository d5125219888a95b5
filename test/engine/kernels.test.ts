// Every kernel we register for wasm, against the cpu backend's stock kernels on random shapes, strides and paddings.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/index.js';
import { FusedAdamOptimizer } from '../../src/engine/fused_adam.js';
import { renormSimd } from '../../src/engine/kernels/renorm_simd.js';
import { sparseSoftmaxCrossEntropy } from '../../src/engine/kernels/sparse_ce_kernel.js';
import { maxAbsDiff, randn, rng } from './brn_reference.js';

before(async () => {
  await initBackend('cpu');
  await initBackend('wasm');
});

/** Runs `f` on a backend with plain-array inputs and returns plain-array outputs. */
async function on(backend: 'wasm' | 'cpu', f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const data = out.map((t) => t.dataSync() as Float32Array);
  tf.dispose(out);
  return data;
}

function scaleOf(xs: ArrayLike<number>): number {
  let m = 1;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]!));
  return m;
}

type Pad = 'same' | 'valid' | number;
interface ConvCase { n: number; h: number; w: number; ci: number; co: number; kh: number; kw: number; stride: [number, number]; pad: Pad }

function convCases(): ConvCase[] {
  const rand = rng(2024);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const cases: ConvCase[] = [
    // The reference network's shapes, batch 1 and 3, plus strided and padded corners.
    { n: 1, h: 28, w: 28, ci: 1, co: 16, kh: 3, kw: 3, stride: [1, 1], pad: 'same' },
    { n: 3, h: 14, w: 14, ci: 16, co: 32, kh: 3, kw: 3, stride: [1, 1], pad: 'same' },
    { n: 2, h: 7, w: 9, ci: 3, co: 4, kh: 3, kw: 2, stride: [2, 2], pad: 'valid' },
    { n: 1, h: 8, w: 8, ci: 2, co: 3, kh: 3, kw: 3, stride: [2, 1], pad: 'same' },
    { n: 2, h: 6, w: 5, ci: 2, co: 2, kh: 2, kw: 2, stride: [1, 1], pad: 1 },
    // The SIMD filter gradient (co % 4 == 0): 4 x 8 blocks plus a 4 x 4 one (co 12, 20), kw*ci not a multiple
    // of 4 (its scratch rows), strided grids that crop the last rows or columns, and padding on all sides.
    { n: 2, h: 8, w: 9, ci: 5, co: 12, kh: 3, kw: 3, stride: [2, 2], pad: 'valid' },
    { n: 1, h: 10, w: 12, ci: 3, co: 8, kh: 3, kw: 2, stride: [2, 3], pad: 'valid' },
    { n: 3, h: 8, w: 7, ci: 7, co: 20, kh: 2, kw: 3, stride: [2, 1], pad: 'same' },
    { n: 2, h: 5, w: 6, ci: 12, co: 16, kh: 3, kw: 3, stride: [1, 1], pad: 2 },
    // The SIMD input gradient (stride 1, ci % 4 == 0, w >= 4): rows not a multiple of 4 pixels, a 4 x 4 block.
    { n: 2, h: 6, w: 9, ci: 8, co: 4, kh: 2, kw: 3, stride: [1, 1], pad: 'same' },
    { n: 1, h: 4, w: 4, ci: 4, co: 3, kh: 3, kw: 1, stride: [1, 1], pad: 'valid' },
    // Channel counts not a multiple of 4, widened to one with zero channels: the forward conv and the filter
    // gradient by co (6, 10 and 1), the input gradient by ci (6, 3), a 4 x 8 block plus a 4 x 4 one after widening.
    { n: 2, h: 7, w: 8, ci: 6, co: 10, kh: 3, kw: 3, stride: [1, 1], pad: 'same' },
    { n: 3, h: 6, w: 6, ci: 3, co: 6, kh: 2, kw: 3, stride: [1, 1], pad: 'valid' },
    { n: 1, h: 9, w: 9, ci: 3, co: 1, kh: 3, kw: 3, stride: [1, 1], pad: 'same' },
  ];
  for (let i = 0; i < 10; i++) {
    const c: ConvCase = {
      n: pick([1, 2, 3]), h: pick([5, 6, 7, 9]), w: pick([4, 6, 8]), ci: pick([1, 2, 3, 5]), co: pick([1, 2, 4]),
      kh: pick([1, 2, 3]), kw: pick([1, 2, 3]), stride: [pick([1, 2, 3]), pick([1, 2])], pad: pick<Pad>(['same', 'valid', 1]),
    };
    // tfjs sizes a numeric pad's output with the filter height and stride for both axes (even the forward
    // conv then overruns its buffer on wasm), so numeric pads only come square here.
    if (typeof c.pad === 'number') {
      c.kw = c.kh;
      c.stride = [c.stride[0], c.stride[0]];
    }
    cases.push(c);
  }
  return cases;
}

test('Conv2D, Conv2DBackpropFilter and Conv2DBackpropInput on wasm match cpu on 24 shapes (strides, same/valid/explicit pad, batch 1, channels widened to a multiple of 4)', async () => {
  const rand = rng(5);
  for (const c of convCases()) {
    const xs = Array.from({ length: c.n * c.h * c.w * c.ci }, () => randn(rand));
    const fs = Array.from({ length: c.kh * c.kw * c.ci * c.co }, () => randn(rand));
    const run = () => {
      const x = tf.tensor4d(xs, [c.n, c.h, c.w, c.ci]);
      const f = tf.tensor4d(fs, [c.kh, c.kw, c.ci, c.co]);
      const y = tf.conv2d(x, f, c.stride, c.pad);
      const dy = tf.tensor4d(Array.from({ length: y.size }, (_, i) => Math.sin(i * 0.37) + 0.1 * i % 1.3), y.shape);
      const dx = tf.conv2dTranspose(dy, f, x.shape, c.stride, c.pad);
      const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy)))([x, f]);
      return [y, dx, gx!, gf!];
    };
    const want = await on('cpu', run);
    const got = await on('wasm', run);
    const names = ['Conv2D', 'Conv2DBackpropInput (conv2dTranspose)', 'dx of conv2d', 'Conv2DBackpropFilter'];
    want.forEach((w, i) => {
      const err = maxAbsDiff(got[i]!, w);
      assert.ok(err <= 2e-5 * scaleOf(w), `${names[i]} ${JSON.stringify(c)}: max error ${err}, scale ${scaleOf(w)}`);
    });
  }
});

test('Conv2D on wasm matches cpu where it takes the stock kernel too: dilated, strided, narrow outputs (and co % 4 != 0, widened)', async () => {
  const rand = rng(17);
  const cases = [
    { x: [2, 9, 9, 4], f: [3, 3, 4, 8], stride: 1, pad: 'same' as const, dilation: 2 },
    { x: [2, 9, 10, 3], f: [3, 2, 3, 8], stride: 2, pad: 'valid' as const, dilation: 1 },
    { x: [1, 6, 7, 4], f: [3, 3, 4, 6], stride: 1, pad: 'same' as const, dilation: 1 },
    { x: [3, 5, 3, 5], f: [2, 2, 5, 4], stride: 1, pad: 'valid' as const, dilation: 1 }, // 2 output columns
    { x: [2, 5, 8, 1], f: [1, 1, 1, 12], stride: 1, pad: 'valid' as const, dilation: 1 }, // 1 x 1 filter
  ];
  for (const c of cases) {
    const xs = Array.from({ length: c.x.reduce((a, b) => a * b, 1) }, () => randn(rand));
    const fs = Array.from({ length: c.f.reduce((a, b) => a * b, 1) }, () => randn(rand));
    const run = () => [tf.conv2d(tf.tensor4d(xs, c.x as [number, number, number, number]),
      tf.tensor4d(fs, c.f as [number, number, number, number]), c.stride, c.pad, 'NHWC', c.dilation)];
    const want = await on('cpu', run);
    const got = await on('wasm', run);
    const err = maxAbsDiff(got[0]!, want[0]!);
    assert.ok(err <= 2e-5 * scaleOf(want[0]!), `Conv2D ${JSON.stringify(c)}: max error ${err}`);
  }
});

test('FusedConv2D (tfjs-layers\' conv) on wasm matches cpu: bias and every activation on our shapes, the stock kernel elsewhere', async () => {
  const rand = rng(31);
  const cases = [
    { x: [3, 28, 28, 1], f: [3, 3, 1, 16], pad: 'same' as const, stride: 1 }, // the reference network's
    { x: [2, 14, 14, 16], f: [3, 3, 16, 32], pad: 'same' as const, stride: 1 },
    { x: [2, 7, 9, 5], f: [2, 3, 5, 12], pad: 'valid' as const, stride: 1 },
    { x: [1, 6, 7, 4], f: [3, 3, 4, 6], pad: 'same' as const, stride: 1 }, // co % 4 != 0: widened to 8
    { x: [2, 9, 10, 3], f: [3, 2, 3, 8], pad: 'valid' as const, stride: 2 }, // strided: stock
  ];
  const activations: tf.fused.Activation[] = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'];
  for (const c of cases) {
    const co = c.f[3]!;
    const xs = Array.from({ length: c.x.reduce((a, b) => a * b, 1) }, () => randn(rand));
    const fs = Array.from({ length: c.f.reduce((a, b) => a * b, 1) }, () => randn(rand));
    const bs = Array.from({ length: co }, () => randn(rand));
    const alphas = Array.from({ length: co }, () => 0.1 + rand());
    const run = () => {
      const x = tf.tensor4d(xs, c.x as [number, number, number, number]);
      const filter = tf.tensor4d(fs, c.f as [number, number, number, number]);
      const bias = tf.tensor1d(bs);
      return [
        tf.fused.conv2d({ x, filter, strides: c.stride, pad: c.pad }),
        ...activations.map((activation) => tf.fused.conv2d({
          x, filter, strides: c.stride, pad: c.pad, bias, activation, leakyreluAlpha: 0.3,
          ...(activation === 'prelu' ? { preluActivationWeights: tf.tensor1d(alphas) } : {}),
        })),
      ];
    };
    const want = await on('cpu', run);
    const got = await on('wasm', run);
    ['no bias', ...activations.map((a) => `bias + ${a}`)].forEach((name, i) => {
      const err = maxAbsDiff(got[i]!, want[i]!);
      assert.ok(err <= 2e-5 * scaleOf(want[i]!), `FusedConv2D ${name} ${JSON.stringify(c)}: max error ${err}`);
    });
  }
});

test('BatchMatMul and _FusedMatMul on wasm match cpu: every transpose, n % 4 != 0, batches, fewer than 4 rows, a bias', async () => {
  const rand = rng(23);
  const cases = [
    { a: [4, 1568], b: [1568, 10], tA: false, tB: false }, // the reference network's dense layer
    { a: [4, 1568], b: [4, 10], tA: true, tB: false }, // its weight gradient
    { a: [4, 10], b: [1568, 10], tA: false, tB: true }, // its input gradient
    { a: [7, 5], b: [3, 7], tA: true, tB: true },
    { a: [3, 6, 5], b: [3, 5, 8], tA: false, tB: false }, // batched
    { a: [2, 9, 6], b: [2, 12, 9], tA: true, tB: true },
    { a: [2, 3], b: [3, 4], tA: false, tB: false }, // 2 rows: padded to 4
    { a: [5, 3], b: [5, 6], tA: true, tB: false }, // 3 rows, transposed
    { a: [1, 7], b: [7, 2], tA: false, tB: false }, // 1 row
    { a: [5, 1], b: [1, 13], tA: false, tB: false }, // k = 1; 13 columns: 8, 4, then 4 pulled back
    { a: [6, 5], b: [5, 7], tA: false, tB: false }, // 7 columns: 4, then 4 pulled back
    { a: [6, 5], b: [5, 2], tA: false, tB: false }, // 2 columns: padded to 4
  ];
  for (const c of cases) {
    const as = Array.from({ length: c.a.reduce((x, y) => x * y, 1) }, () => randn(rand));
    const bs = Array.from({ length: c.b.reduce((x, y) => x * y, 1) }, () => randn(rand));
    const run = () => {
      const a = tf.tensor(as, c.a);
      const b = tf.tensor(bs, c.b);
      const y = tf.matMul(a, b, c.tA, c.tB);
      const n = y.shape[y.shape.length - 1]!;
      const bias = tf.linspace(-1, 1, n);
      const fused = (activation: tf.fused.Activation, more: { leakyreluAlpha?: number; preluActivationWeights?: tf.Tensor } = {}) =>
        tf.fused.matMul({ a, b, transposeA: c.tA, transposeB: c.tB, bias, activation, ...more });
      return [y, fused('linear'), fused('relu'), fused('leakyrelu', { leakyreluAlpha: 0.3 }), fused('sigmoid'),
        fused('prelu', { preluActivationWeights: tf.linspace(0.1, 0.5, n) })];
    };
    const want = await on('cpu', run);
    const got = await on('wasm', run);
    // The stock wasm _FusedMatMul adds the bias wrongly when A is transposed; ours is checked with each activation.
    ['BatchMatMul', '_FusedMatMul + bias', '+ relu', '+ leakyrelu', '+ sigmoid', '+ prelu'].forEach((name, i) => {
      const err = maxAbsDiff(got[i]!, want[i]!);
      assert.ok(err <= 2e-5 * scaleOf(want[i]!), `${name} ${JSON.stringify(c)}: max error ${err}`);
    });
  }
});

test('MaxPoolGrad on wasm matches cpu, including ties (ReLU zeros) and padded windows', async () => {
  const rand = rng(9);
  const cases = [
    { shape: [4, 28, 28, 16], size: 2, stride: 2, pad: 'valid' as const },
    { shape: [1, 7, 7, 3], size: 2, stride: 2, pad: 'same' as const },
    { shape: [2, 6, 5, 2], size: 3, stride: 1, pad: 'same' as const },
    { shape: [2, 9, 8, 1], size: 3, stride: 2, pad: 'valid' as const },
    { shape: [2, 7, 9, 8], size: 2, stride: 2, pad: 'valid' as const }, // SIMD path, odd sizes: uncovered pixels get 0
    { shape: [2, 8, 6, 6], size: 2, stride: 2, pad: 'valid' as const }, // SIMD, channels widened to 8 and narrowed back
    { shape: [1, 7, 9, 3], size: 2, stride: 2, pad: 'valid' as const }, // both: widened to 4, odd sizes
  ];
  for (const c of cases) {
    const n = c.shape.reduce((a, b) => a * b, 1);
    // Half the inputs clamp to zero, like post-ReLU activations, so windows often tie.
    const xs = Array.from({ length: n }, () => Math.max(0, randn(rand)));
    const run = () => {
      const x = tf.tensor4d(xs, c.shape as [number, number, number, number]);
      const y = tf.maxPool(x, c.size, c.stride, c.pad);
      const w = tf.tensor4d(Array.from({ length: y.size }, (_, i) => 1 + (i % 7)), y.shape);
      return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.size, c.stride, c.pad), w)))(x)];
    };
    const want = await on('cpu', run);
    const got = await on('wasm', run);
    assert.equal(maxAbsDiff(got[0]!, want[0]!), 0, `MaxPoolGrad ${JSON.stringify(c)}`);
  }
});

// The SIMD loops read rows of lcm(c, 4) values (several pixels' channels, per-channel values tiled), where the pixel
// count allows (src/engine/kernels/renorm_simd.ts); else JS loops.
const brnCases: { shape: [number, number, number, number]; lanes: number | null; path: string }[] = [
  { shape: [3, 5, 5, 8], lanes: 8, path: 'SIMD, 75 rows: 9 groups of 8 and 3 left' },
  { shape: [8, 14, 14, 32], lanes: 32, path: 'SIMD, 1568 rows: groups of 8 only' },
  { shape: [2, 4, 5, 6], lanes: 12, path: 'SIMD, rows of 2 pixels' },
  { shape: [4, 3, 3, 5], lanes: 20, path: 'SIMD, rows of 4 pixels' },
  { shape: [3, 5, 5, 6], lanes: null, path: 'JS loops: 75 pixels, not a multiple of 2' },
  { shape: [1, 3, 2, 3], lanes: null, path: 'JS loops: 6 pixels, not a multiple of 4' },
];
for (const { shape, lanes, path } of brnCases) {
  const c = shape[3];
  test(`fused BRN kernels agree on wasm (${path}) and cpu (JS loops), shape ${shape.join('x')}`, async () => {
    await tf.setBackend('wasm');
    assert.equal(renormSimd(tf.backend(), c, tf.util.sizeFromShape(shape))?.lanes ?? null, lanes, 'the path the test is named for');
    const rand = rng(13 + c);
    const xs = Array.from({ length: tf.util.sizeFromShape(shape) }, () => 2 * randn(rand) + 1);
    const ws = Array.from({ length: xs.length }, () => randn(rand));
    const run = () => {
      const x = tf.tensor4d(xs, shape);
      const w = tf.tensor4d(ws, shape);
      const e = tf.engine();
      const [mean, variance] = e.runKernel('RenormMoments', { x }) as tf.Tensor[];
      const scale = tf.linspace(0.5, 1.5, c);
      const offset = tf.linspace(-1, 1, c);
      const y = e.runKernel('RenormChannelAffine', { x, center: mean!, scale, offset }) as tf.Tensor;
      const invstd = tf.rsqrt(tf.add(variance!, 1e-3));
      const r = tf.linspace(0.8, 1.2, c);
      const d = tf.linspace(-0.3, 0.3, c);
      const back = e.runKernel('RenormBackward', { dy: w, x, mean: mean!, invstd, scale, r, d }) as tf.Tensor[];
      return [mean!, variance!, y, ...back];
    };
    const want = await on('cpu', run);
    const got = await on('wasm', run);
    want.forEach((w, i) => assert.ok(maxAbsDiff(got[i]!, w) < 1e-5 * scaleOf(w), `output ${i}: ${maxAbsDiff(got[i]!, w)}`));
    // And the moments against float64.
    const m = xs.length / c;
    const mean = Array.from({ length: c }, (_, j) => xs.filter((_, i) => i % c === j).reduce((a, b) => a + b, 0) / m);
    const variance = mean.map((mu, j) => xs.filter((_, i) => i % c === j).reduce((a, v) => a + (v - mu) ** 2, 0) / m);
    assert.ok(maxAbsDiff(got[0]!, mean) < 1e-5);
    assert.ok(maxAbsDiff(got[1]!, variance) < 1e-5);
  });
}

for (const size of [5, 8]) {
  test(`fused Adam (${size} floats: ${size % 4 ? 'JS' : 'SIMD on wasm'}) matches a float64 Adam and tf.train.adam on wasm and cpu`, async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      await tf.setBackend(backend);
      const init = Array.from({ length: size }, (_, i) => Math.sin(i * 1.7) * 2);
      const grads = (k: number) => init.map((_, i) => Math.cos(k + i) * (i + 1));
      const w = tf.variable(tf.tensor1d(init));
      const wRef = tf.variable(tf.tensor1d(init));
      const opt = new FusedAdamOptimizer(0.05);
      const ref = tf.train.adam(0.05);
      const m = new Array(size).fill(0);
      const v = new Array(size).fill(0);
      const w64 = init.slice();
      for (let k = 1; k <= 4; k++) {
        const g = grads(k);
        opt.applyGradients([{ name: w.name, tensor: tf.tensor1d(g) }]);
        ref.applyGradients([{ name: wRef.name, tensor: tf.tensor1d(g) }]);
        for (let i = 0; i < size; i++) {
          m[i] = 0.9 * m[i] + 0.1 * g[i]!;
          v[i] = 0.999 * v[i] + 0.001 * g[i]! ** 2;
          w64[i]! -= (0.05 * (m[i] / (1 - 0.9 ** k))) / (Math.sqrt(v[i] / (1 - 0.999 ** k)) + 1e-7);
        }
      }
      assert.ok(maxAbsDiff(w.dataSync(), w64) < 2e-6, `${backend}: fused Adam vs float64 ${Array.from(w.dataSync())} vs ${w64}`);
      assert.ok(maxAbsDiff(w.dataSync(), wRef.dataSync()) < 2e-5, `${backend}: fused Adam vs tf.train.adam`);
      assert.equal(opt.iterations, 4);
      const weights = await opt.getWeights();
      assert.equal(weights.length, 3, 'iterations, m, v: the same layout as tf AdamOptimizer');
      // float32 (1 - beta2) is 0.00099998713, so the SIMD moments carry ~1e-5 relative error, as tfjs' own do.
      assert.ok(maxAbsDiff(weights[1]!.tensor.dataSync(), m) < 2e-5 * scaleOf(m), 'first moment');
      assert.ok(maxAbsDiff(weights[2]!.tensor.dataSync(), v) < 2e-5 * scaleOf(v), 'second moment');
      opt.dispose();
      ref.dispose();
    }
  });
}

test('fused sparse softmax cross-entropy: loss and gradient match tf.losses on wasm and cpu; bad labels throw', async () => {
  const rand = rng(21);
  const zs = Array.from({ length: 5 * 4 }, () => 3 * randn(rand));
  const ids = [0, 3, 1, 1, 2];
  for (const backend of ['wasm', 'cpu'] as const) {
    await tf.setBackend(backend);
    const z = tf.tensor2d(zs, [5, 4]);
    const y = tf.tensor1d(ids, 'int32');
    const ours = tf.valueAndGrad((t: tf.Tensor) => sparseSoftmaxCrossEntropy(t, y))(z);
    const ref = tf.valueAndGrad((t: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 4), t) as tf.Scalar)(z);
    // float64: mean of log-sum-exp minus the true logit
    let loss64 = 0;
    for (let i = 0; i < 5; i++) {
      const row = zs.slice(i * 4, i * 4 + 4);
      loss64 += Math.log(row.reduce((a, v) => a + Math.exp(v), 0)) - row[ids[i]!]!;
    }
    assert.ok(Math.abs(ours.value.dataSync()[0]! - loss64 / 5) < 1e-6, `${backend} loss vs float64`);
    assert.ok(Math.abs(ours.value.dataSync()[0]! - ref.value.dataSync()[0]!) < 1e-5, `${backend} loss vs tf.losses`);
    assert.ok(maxAbsDiff(ours.grad.dataSync(), ref.grad.dataSync()) < 1e-6, `${backend} gradient`);
    assert.throws(() => sparseSoftmaxCrossEntropy(z, tf.tensor1d([0, 4, 1, 1, 2], 'int32')), /labels\[1\] = 4 is outside \[0, 4\)/);
  }
});

test('Slice on wasm matches cpu for contiguous (batch rows) and strided slices', async () => {
  const data = Array.from({ length: 6 * 4 * 3 * 2 }, (_, i) => i * 0.5 - 7);
  const cases: [number[], number[]][] = [
    [[2, 0, 0, 0], [3, 4, 3, 2]], // contiguous rows: the fast path
    [[5, 0, 0, 0], [1, -1, -1, -1]],
    [[1, 1, 0, 0], [1, 2, 3, 2]], // contiguous inside one row
    [[0, 1, 1, 0], [6, 2, 2, 1]], // strided: stock kernel
  ];
  for (const [begin, size] of cases) {
    const run = () => [tf.slice(tf.tensor4d(data, [6, 4, 3, 2]), begin, size)];
    const want = await on('cpu', run);
    const got = await on('wasm', run);
    assert.deepEqual(Array.from(got[0]!), Array.from(want[0]!), `slice ${begin} ${size}`);
  }
  await tf.setBackend('wasm');
  const ints = tf.slice(tf.tensor1d([1, 2, 3, 4, 5], 'int32'), [1], [3]);
  assert.equal(ints.dtype, 'int32');
  assert.deepEqual(Array.from(ints.dataSync()), [2, 3, 4]);
});

test('wasm Identity shares the buffer safely: clones outlive the original and never see later assigns', async () => {
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const a = tf.tensor1d([1, 2, 3]);
  const b = a.clone();
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3]);
  const init = tf.tensor1d([4, 5]);
  const next = tf.tensor1d([6, 7]);
  const v = tf.variable(init);
  const snapshot = v.clone();
  v.assign(next);
  assert.deepEqual(Array.from(snapshot.dataSync()), [4, 5]);
  assert.deepEqual(Array.from(v.dataSync()), [6, 7]);
  tf.dispose([b, v, snapshot, init, next]);
  assert.equal(tf.memory().numTensors, before);
});

test('wasm Cast to the same dtype shares the buffer safely; other casts still convert', async () => {
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const a = tf.tensor1d([1.5, -2, 0]);
  const same = tf.cast(a, 'float32');
  assert.notEqual(same, a, 'a new tensor');
  assert.equal(same.dataId, a.dataId, 'on the same buffer, not a copy');
  a.dispose();
  assert.deepEqual(Array.from(same.dataSync()), [1.5, -2, 0], 'outlives the original');
  const ints = tf.cast(same, 'int32');
  assert.equal(ints.dtype, 'int32');
  assert.deepEqual(Array.from(ints.dataSync()), [1, -2, 0]);
  const intsAgain = tf.cast(ints, 'int32');
  ints.dispose();
  assert.deepEqual(Array.from(intsAgain.dataSync()), [1, -2, 0]);
  // ReLU's gradient casts step(x), float32, to float32.
  const x = tf.tensor1d([-1, 0.5, 2, -0.25]);
  const w = tf.tensor1d([1, 2, 3, 4]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), w)))(x);
  assert.deepEqual(Array.from(g.dataSync()), [0, 2, 3, 0]);
  tf.dispose([same, intsAgain, x, w, g]);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
});
