// The Python client's BatchRenorm2d under mixed precision, as GPU trainers run it (torch.autocast): checked with CPU
// bfloat16 autocast, the one this machine has. The moving statistics stay float32 and track the float32 run; the
// output stays within bfloat16's rounding of it; gradients reach the layer before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLIENT_DIR, PYTHON, torchMissing } from './helpers.js';

const noTorch = torchMissing('the autocast check needs it');

const DRIVER = `
import copy, json, sys, torch
sys.path.insert(0, ${JSON.stringify(CLIENT_DIR)})
from renorm_tune import BatchRenorm2d
torch.manual_seed(0)
conv = torch.nn.Conv2d(3, 8, 3)
layer = BatchRenorm2d(8)
layer.set_clipping(3.0, 1 / 3, 5.0)
pair = {"fp32": (conv, layer), "bf16": (copy.deepcopy(conv), copy.deepcopy(layer))}
out = {}
for step in range(6):
    x = torch.randn(4, 3, 10, 10) * 2 + 1
    for name, (c, m) in pair.items():
        c.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=name == "bf16"):
            h = c(x)
            y = m(h)
        y.float().pow(2).mean().backward()
        out.setdefault(name, []).append({"hDtype": str(h.dtype), "y": y.detach().float().flatten().tolist(),
                                         "grad": c.weight.grad.flatten().tolist()})
for name, (c, m) in pair.items():
    out[name + "State"] = {k: getattr(m, k).tolist() for k in ("moving_mean", "moving_var", "renorm_mean", "renorm_std")}
    out[name + "Dtypes"] = sorted({str(getattr(m, k).dtype) for k in ("moving_mean", "moving_var", "moving_std", "renorm_mean", "renorm_std")})
print(json.dumps(out))
`;

const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test('BatchRenorm2d under torch.autocast (CPU bfloat16): float32 statistics that track the float32 run, output within bfloat16 rounding', { skip: noTorch }, () => {
  const r = spawnSync(PYTHON, ['-c', DRIVER], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, any>;
  assert.equal(out.bf16[0].hDtype, 'torch.bfloat16', 'the convolution ran in bfloat16, so the layer saw bfloat16 input');
  assert.deepEqual(out.bf16Dtypes, ['torch.float32']);
  for (const k of ['moving_mean', 'moving_var', 'renorm_mean', 'renorm_std']) {
    const d = maxDiff(out.bf16State[k], out.fp32State[k]);
    assert.ok(d < 2e-3, `${k} drifted ${d} from the float32 run`);
  }
  for (let s = 0; s < out.fp32.length; s++) {
    // bfloat16 keeps 8 significant bits: about 0.4% of values of order 1 to 5 here.
    const dy = maxDiff(out.bf16[s].y, out.fp32[s].y);
    assert.ok(dy < 0.06, `step ${s}: output ${dy} from the float32 run`);
    const g = out.bf16[s].grad as number[];
    assert.ok(g.every(Number.isFinite) && g.some((v) => v !== 0), `step ${s}: gradients reach the convolution`);
  }
});
