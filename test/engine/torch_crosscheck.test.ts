// The layer against an independent implementation: the Python client's PyTorch BatchRenorm2d, run in float64 by torch.
// It checks both at once: our layer matches a second, separately written reading of Keras' renorm semantics, and
// the layer PyTorch users import from src/clients/python/renorm_tune.py behaves like the one their schedule was tuned with.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend, BatchRenormalization } from '../../src/engine/index.js';
import { maxAbsDiff, randn, rng } from './brn_reference.js';
import { CLIENT_DIR, PYTHON, torchMissing } from '../clients/helpers.js';

const noTorch = torchMissing('the float64 cross-check needs it');

const DRIVER = `
import json, sys, torch
sys.path.insert(0, ${JSON.stringify(CLIENT_DIR)})
from renorm_tune import BatchRenorm2d
spec = json.load(sys.stdin)
torch.set_default_dtype(torch.float64)
n, h, w, c = spec["shape"]
m = BatchRenorm2d(c, momentum=spec["momentum"], renorm_momentum=spec["renormMomentum"], eps=spec["eps"])
m.set_clipping(spec["rmax"], spec["rmin"], spec["dmax"])
nchw = lambda flat: torch.tensor(flat).reshape(n, h, w, c).permute(0, 3, 1, 2).contiguous()
nhwc = lambda t: t.permute(0, 2, 3, 1).reshape(-1).tolist()
out = {"steps": []}
m.train()
for s in spec["steps"]:
    x = nchw(s["x"]).requires_grad_(True)
    y = m(x)
    (y * nchw(s["g"])).sum().backward()
    out["steps"].append({"y": nhwc(y.detach()), "dx": nhwc(x.grad)})
out["state"] = {k: getattr(m, k).tolist() for k in ("moving_mean", "moving_var", "moving_std", "renorm_mean", "renorm_std")}
m.eval()
out["inference"] = nhwc(m(nchw(spec["xInf"])).detach())
print(json.dumps(out))
`;

before(async () => {
  await initBackend('wasm');
});

test('BatchRenormalization matches the Python client\'s PyTorch BatchRenorm2d (float64) over 5 clipped steps: y, dx, statistics, inference', { skip: noTorch }, () => {
  const shape = [4, 3, 3, 4] as const;
  const size = shape[0] * shape[1] * shape[2] * shape[3];
  const C = shape[3];
  const rand = rng(2024);
  const gauss = () => randn(rand);
  // Batches drift in mean and spread from step to step (as non-i.i.d. minibatches do), so r and d are clipped in some channels.
  const sample = (step: number) => Array.from({ length: size }, (_, i) => (0.6 + 0.5 * (i % C) + 0.3 * step) * gauss() + 0.8 * step - (i % C) * 0.4);
  const spec = {
    shape, momentum: 0.9, renormMomentum: 0.7, eps: 1e-3, rmax: 1.4, rmin: 1 / 1.4, dmax: 0.3,
    steps: Array.from({ length: 5 }, (_, s) => ({ x: sample(s), g: Array.from({ length: size }, gauss) })),
    xInf: sample(2),
  };

  const py = spawnSync(PYTHON, ['-c', DRIVER], { input: JSON.stringify(spec), encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(py.status, 0, `python failed: ${py.stderr}`);
  const ref = JSON.parse(py.stdout) as { steps: { y: number[]; dx: number[] }[]; state: Record<string, number[]>; inference: number[] };

  const layer = new BatchRenormalization({ momentum: spec.momentum, renormMomentum: spec.renormMomentum, epsilon: spec.eps });
  layer.build([...shape]);
  layer.setClipping({ rmax: spec.rmax, dmax: spec.dmax });
  let clipped = 0;
  spec.steps.forEach((s, i) => {
    let y: Float32Array | undefined;
    const g = tf.tensor(s.g, [...shape]);
    const dx = tf.grad((x: tf.Tensor) => {
      const out = layer.apply(x, { training: true }) as tf.Tensor;
      y = out.dataSync() as Float32Array;
      return tf.sum(tf.mul(out, g));
    })(tf.tensor(s.x, [...shape]));
    const f = layer.clipFractions();
    clipped += f.r + f.d;
    assert.ok(maxAbsDiff(y!, ref.steps[i]!.y) < 1e-4, `step ${i}: y differs from torch by ${maxAbsDiff(y!, ref.steps[i]!.y)}`);
    assert.ok(maxAbsDiff(dx.dataSync(), ref.steps[i]!.dx) < 1e-4, `step ${i}: dx differs from torch by ${maxAbsDiff(dx.dataSync(), ref.steps[i]!.dx)}`);
    g.dispose();
    dx.dispose();
  });
  assert.ok(clipped > 0, 'the data must make r or d hit their clips');
  const pairs = [
    ['moving_mean', layer.movingMean], ['moving_var', layer.movingVariance], ['moving_std', layer.movingStddev],
    ['renorm_mean', layer.renormMean], ['renorm_std', layer.renormStddev],
  ] as const;
  for (const [name, weight] of pairs) {
    const got = weight.read().dataSync();
    assert.ok(maxAbsDiff(got, ref.state[name]!) < 1e-5, `${name}: ${Array.from(got)} vs torch ${ref.state[name]}`);
  }
  const yInf = tf.tidy(() => (layer.apply(tf.tensor(spec.xInf, [...shape]), { training: false }) as tf.Tensor).dataSync());
  assert.ok(maxAbsDiff(yInf, ref.inference) < 1e-4, `inference differs from torch by ${maxAbsDiff(yInf, ref.inference)}`);
  layer.dispose();
});
