// BatchMatMul and _FusedMatMul for wasm: our SIMD product (`gemm` in simd/kernels.wat) where the shapes allow, else
// the stock kernels. XNNPACK packs the right-hand matrix whenever its tensor is new, which in training is every
// call (the dense layer's weights change each step; its gradients multiply by dy), for a product of a few 10k
// multiply-adds.
import * as tf from '@tensorflow/tfjs';
import { type Backend, type HeapBackend, type Info, type KernelArgs as Args, callKernel, free } from './wasm_ops.js';
import { applyEpilogue, plainBias } from './fused_epilogue.js';
import { type SimdKernels, heapF32, heapOffset, simdKernels } from './simd/index.js';

interface Product {
  batch: number;
  m: number;
  k: number;
  n: number;
  shape: number[];
}

/** The product's sizes when our loop takes it: float32 and equal batch dimensions. */
function plan(a: Info, b: Info, transposeA: boolean, transposeB: boolean): Product | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || a.shape.length !== b.shape.length) return null;
  const lead = a.shape.slice(0, -2);
  if (lead.some((d, i) => d !== b.shape[i])) return null;
  const [ra, ca] = a.shape.slice(-2) as [number, number];
  const [rb, cb] = b.shape.slice(-2) as [number, number];
  const m = transposeA ? ca : ra;
  const k = transposeA ? ra : ca;
  const n = transposeB ? rb : cb;
  if ((transposeB ? cb : rb) !== k || m < 1 || k < 1 || n < 1) return null;
  return { batch: tf.util.sizeFromShape(lead), m, k, n, shape: [...lead, m, n] };
}

/** dst [k, np] = src [k, n] (or src [n, k] transposed), its columns n..np zero. */
function padColumns(src: Float32Array, dst: Float32Array, k: number, n: number, np: number, transposed: boolean): void {
  if (transposed) {
    for (let c = 0; c < n; c++) for (let r = 0, i = c * k, o = c; r < k; r++, i++, o += np) dst[o] = src[i]!;
  } else {
    for (let r = 0, o = 0, i = 0; r < k; r++, o += np - n) for (let c = 0; c < n; c++, o++, i++) dst[o] = src[i]!;
  }
  for (let r = 0; r < k; r++) for (let c = n; c < np; c++) dst[r * np + c] = 0;
}

/**
 * C = op(A) x op(B) per batch, all read and written in place where they can be: A either way (its strides swap
 * when transposed) unless it has fewer than 4 rows, B unless transposed, C unless it has fewer than 4 rows or
 * columns. Otherwise through scratch copies, padded with zeros to 4 rows or columns.
 */
function product(simd: SimdKernels, backend: Backend, a: Info, b: Info, transposeA: boolean, transposeB: boolean, p: Product): Info {
  const hb = backend as HeapBackend;
  const { batch, m, k, n } = p;
  const mp = Math.max(m, 4);
  const np = Math.max(n, 4);
  const out = hb.makeOutput(p.shape, 'float32');
  const as = mp === m ? null : hb.makeOutput([mp, k], 'float32');
  const bs = !transposeB && np === n ? null : hb.makeOutput([k, np], 'float32');
  const cs = np === n && mp === m ? null : hb.makeOutput([mp, np], 'float32');
  const [sam, sak] = transposeA && !as ? [4, m * 4] : [k * 4, 4];
  for (let i = 0; i < batch; i++) {
    let aAt = heapOffset(hb, a) + i * m * k * 4;
    if (as) {
      const src = heapF32(hb, aAt, m * k);
      const dst = heapF32(hb, heapOffset(hb, as), mp * k);
      dst.fill(0);
      for (let r = 0; r < m; r++) for (let l = 0; l < k; l++) dst[r * k + l] = transposeA ? src[l * m + r]! : src[r * k + l]!;
      aAt = heapOffset(hb, as);
    }
    let bAt = heapOffset(hb, b) + i * k * n * 4;
    if (bs) {
      padColumns(heapF32(hb, bAt, k * n), heapF32(hb, heapOffset(hb, bs), k * np), k, n, np, transposeB);
      bAt = heapOffset(hb, bs);
    }
    const cAt = heapOffset(hb, out) + i * m * n * 4;
    simd.gemm(aAt, bAt, cs ? heapOffset(hb, cs) : cAt, mp, k, np, sam, sak);
    if (cs) {
      const src = heapF32(hb, heapOffset(hb, cs), mp * np);
      const dst = heapF32(hb, cAt, m * n);
      for (let r = 0, o = 0; r < m; r++) for (let c = r * np, end = c + n; c < end; c++, o++) dst[o] = src[c]!;
    }
  }
  free(hb, ...[as, bs, cs].filter((t): t is Info => t !== null));
  return out;
}

export function makeBatchMatMulWasm(stock: tf.KernelFunc) {
  return (args: Args): Info => {
    const { a, b } = args.inputs as { a: Info; b: Info };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const p = plan(a, b, transposeA, transposeB);
    const simd = p ? simdKernels(args.backend) : null;
    return simd && p ? product(simd, args.backend, a, b, transposeA, transposeB, p) : callKernel(stock, args);
  };
}

/**
 * The dense layer's forward product: ours, then a bias of one value per column and the activation. (The stock
 * wasm kernel adds the bias wrongly when A is transposed: tfjs-backend-wasm 4.22, `transposeA` with a bias.)
 */
export function makeFusedMatMulWasm(stock: tf.KernelFunc) {
  return (args: Args): Info => {
    const { a, b, bias, preluActivationWeights } = args.inputs as { a: Info; b: Info; bias?: Info; preluActivationWeights?: Info };
    const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as unknown as {
      transposeA: boolean; transposeB: boolean; activation?: string; leakyreluAlpha?: number;
    };
    const p = plan(a, b, transposeA, transposeB);
    const simd = p && plainBias(bias, p.n) ? simdKernels(args.backend) : null;
    if (!simd || !p) return callKernel(stock, args);
    const out = product(simd, args.backend, a, b, transposeA, transposeB, p);
    return applyEpilogue(args.backend, out, p.batch * p.m, p.n, { bias, activation, leakyreluAlpha, preluActivationWeights });
  };
}
