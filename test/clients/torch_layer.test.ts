// The Python client's BatchRenorm2d beyond its float64 cross-check (test/engine/torch_crosscheck.test.ts): gradients
// against finite differences, what it keeps for backprop, the statistics fallback for a torch without BatchNorm's
// statistics kernel, and mixed precision as GPU trainers run it (torch.autocast; checked with CPU bfloat16, the one
// this machine has).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLIENT_DIR, PYTHON, torchMissing } from './helpers.js';

const noTorch = torchMissing('the layer checks need it');

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

function python(code: string): Record<string, any> {
  const r = spawnSync(PYTHON, ['-c', `import sys\nsys.path.insert(0, ${JSON.stringify(CLIENT_DIR)})\n${code}`], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const GRADCHECK = `
import json, torch
from renorm_tune import BatchRenorm2d
try:
    from torch.func import functional_call
except ImportError:
    from torch.nn.utils.stateless import functional_call
torch.set_default_dtype(torch.float64)
torch.manual_seed(3)
out = {}
for case, clip, shift in [("active", (2.0, 0.5, 1.0), 0.4), ("saturated", (1.7, 1.7, 0.3), 3.0), ("off", (1.0, 1.0, 0.0), 0.4)]:
    layer = BatchRenorm2d(3, momentum=0.9, renorm_momentum=0.9)
    layer.set_clipping(*clip)
    for i in range(4):
        layer(torch.randn(4, 3, 5, 5) * (1 + i))
    buffers = {k: v.clone() for k, v in layer.named_buffers()}
    x = (torch.randn(4, 3, 5, 5) * 2 + shift).requires_grad_(True)
    w = (torch.rand(3) + 0.5).requires_grad_(True)
    b = torch.randn(3).requires_grad_(True)
    def f(x, w, b):
        for k, v in layer.named_buffers():
            v.copy_(buffers[k])
        return functional_call(layer, {"weight": w, "bias": b}, (x,))
    # r and d as the call forms them, to show which are clipped
    with torch.no_grad():
        std = torch.sqrt(x.var(dim=(0, 2, 3), unbiased=False) + layer.eps)
        denom = buffers["renorm_std"].clamp(min=layer.eps ** 0.5)
        r = (std / denom).clamp(clip[1], clip[0])
        d = ((x.mean(dim=(0, 2, 3)) - buffers["renorm_mean"]) / denom).clamp(-clip[2], clip[2])
    # x's gradient matches finite differences only where r and d do not move with x: clipped at their limits, or off
    wrt = (x, w, b) if case != "active" else (w, b)
    g = lambda *t: f(*(t if case != "active" else (x.detach(),) + t))
    ok = torch.autograd.gradcheck(g, wrt, eps=1e-6, atol=1e-6, rtol=1e-5, raise_exception=False)
    out[case] = {"gradcheck": bool(ok), "r": r.tolist(), "d": d.tolist()}
print(json.dumps(out))
`;

test('BatchRenorm2d gradients match float64 finite differences: gamma and beta with r and d in play, x where r and d are held at their limits or off', { skip: noTorch }, () => {
  const out = python(GRADCHECK);
  for (const c of ['active', 'saturated', 'off']) assert.equal(out[c].gradcheck, true, `${c}: ${JSON.stringify(out[c])}`);
  // The cases are what they claim: r and d away from 1 and 0 and inside their limits; at their limits; neutral.
  assert.ok(out.active.r.some((v: number) => Math.abs(v - 1) > 0.05 && v < 2 && v > 0.5), `active r ${out.active.r}`);
  assert.ok(out.active.d.some((v: number) => Math.abs(v) > 0.05 && Math.abs(v) < 1), `active d ${out.active.d}`);
  assert.ok(out.saturated.r.every((v: number) => Math.abs(v - 1.7) < 1e-12) && out.saturated.d.every((v: number) => Math.abs(Math.abs(v) - 0.3) < 1e-12), JSON.stringify(out.saturated));
  assert.ok(out.off.r.every((v: number) => v === 1) && out.off.d.every((v: number) => v === 0));
});

test('BatchRenorm2d keeps no more for backprop than BatchNorm2d, and the var_mean fallback gives the same layer', { skip: noTorch }, () => {
  const out = python(`
import json, torch, renorm_tune
from renorm_tune import BatchRenorm2d
def saved(layer, x):
    total = [0]
    def pack(t):
        total[0] += t.numel() * t.element_size()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        layer(x).sum().backward()
    return total[0]
x = (torch.randn(8, 16, 12, 12) * 2 + 1).requires_grad_(True)
brn = BatchRenorm2d(16)
brn.set_clipping(3.0, 1 / 3, 5.0)
sizes = {"bn": saved(torch.nn.BatchNorm2d(16), x), "brn": saved(brn, x), "input": x.numel() * x.element_size()}
torch.set_default_dtype(torch.float64)
runs = {}
for path in ("kernel", "var_mean"):
    if path == "var_mean":
        del torch.batch_norm_update_stats
    torch.manual_seed(5)
    layer = BatchRenorm2d(4, momentum=0.9, renorm_momentum=0.9)
    layer.set_clipping(1.5, 1 / 1.5, 0.5)
    ys = []
    for step in range(4):
        xi = (torch.randn(3, 4, 5, 5) * 2 + step).requires_grad_(True)
        y = layer(xi)
        (y * torch.randn_like(y)).sum().backward()
        ys += y.flatten().tolist() + xi.grad.flatten().tolist() + layer.weight.grad.tolist()
    runs[path] = ys + [v for b in layer.buffers() for v in b.tolist()]
print(json.dumps({"sizes": sizes, "runs": runs, "hasKernel": hasattr(torch, "batch_norm_update_stats")}))
`);
  assert.ok(out.sizes.brn <= out.sizes.bn, `BatchRenorm2d keeps ${out.sizes.brn} bytes, BatchNorm2d ${out.sizes.bn}`);
  assert.ok(out.sizes.brn <= 1.5 * out.sizes.input, `${out.sizes.brn} bytes kept for an input of ${out.sizes.input}`);
  assert.equal(out.hasKernel, false, 'the second run went through var_mean');
  assert.equal(out.runs.kernel.length, out.runs.var_mean.length);
  const d = maxDiff(out.runs.kernel, out.runs.var_mean);
  assert.ok(d < 1e-10, `the two statistics paths differ by ${d}`);
});
