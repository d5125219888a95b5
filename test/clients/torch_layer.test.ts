// The Python client's BatchRenorm2d beyond its float64 cross-check (test/engine/torch_crosscheck.test.ts): gradients
// against finite differences, what it keeps for backprop, the statistics fallback for a torch without BatchNorm's
// statistics kernel, and mixed precision and compilation as GPU trainers run them (torch.autocast, checked with CPU
// bfloat16, the one this machine has; torch.compile, which Debian's torch 1.13 lacks: its contract, limits held in
// tensors, is checked here, the compiled runs when torch2.test.ts runs this file under .venv's torch 2);
// DistributedDataParallel and SyncBatchRenorm over 2 CPU processes (gloo).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLIENT_DIR, PYTHON, runGlooDriver, torchMissing } from './helpers.js';

const noTorch = torchMissing('the layer checks need it');

// The checks GPU trainers' setups are measured with (npm run check:torch-layer on a CUDA machine), here on the CPU:
// one home for the autocast and torch.compile checks.
const CHECKS = fileURLToPath(new URL('../../../src/bench/train/torch_layer_checks.py', import.meta.url));

const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test('BatchRenorm2d under torch.autocast (CPU bfloat16): float32 statistics that track the float32 run, output within bfloat16 rounding', { skip: noTorch }, () => {
  const r = spawnSync(PYTHON, [CHECKS, '--device', 'cpu'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const checks = (JSON.parse(r.stdout) as { checks: Record<string, any>[] }).checks;
  const bf16 = checks.find((c) => c.check === 'autocast' && c.dtype === 'bfloat16')!;
  assert.equal(bf16.layerInput, 'torch.bfloat16', 'the convolution ran in bfloat16, so the layer saw bfloat16 input');
  assert.deepEqual(bf16.statisticsDtypes, ['torch.float32']);
  assert.ok(bf16.maxStatisticsDiff < 2e-3, `statistics drifted ${bf16.maxStatisticsDiff} from the float32 run`);
  // bfloat16 keeps 8 significant bits: about 0.4% of values, twice over through two convolutions.
  assert.ok(bf16.maxRelativeOutputDiff > 0 && bf16.maxRelativeOutputDiff < 0.02, `output ${bf16.maxRelativeOutputDiff} from the float32 run`);
  assert.equal(bf16.gradientsFinite, true);
  assert.equal(bf16.gradientsReachInput, true, 'gradients reach the convolution before the layer');
  assert.equal(bf16.ok, true);
  const compiled = checks.find((c) => c.check === 'compile')!;
  const torch = (JSON.parse(r.stdout) as { torch: string }).torch;
  if (torch.startsWith('1.')) assert.ok(compiled.ok !== false, JSON.stringify(compiled)); // torch 1.13 (Debian's) has no torch.compile: skipped, said so
  else {
    // torch 2 (.venv, test/clients/torch2.test.ts): compiled by the eager and inductor backends, one graph each, none
    // rebuilt when the schedule moves the limits, and the same numbers as the eager layer.
    assert.equal(compiled.ok, true, JSON.stringify(compiled));
    for (const backend of ['eager', 'inductor']) {
      const c = compiled[backend];
      assert.equal(c.graphs, 1, `${backend}: ${JSON.stringify(c)}`);
      assert.equal(c.graphsAfterStep2, 0, `${backend} recompiled when the limits moved: ${JSON.stringify(c)}`);
      assert.ok(c.maxOutputDiff < 1e-5 && c.maxGradientDiff < 1e-5 && c.maxStatisticsDiff < 1e-6, `${backend}: ${JSON.stringify(c)}`);
    }
  }
});

test('the clipping limits are tensors changed in place (data to a compiled or traced graph, not constants), and not part of a checkpoint', { skip: noTorch }, () => {
  const out = python(`
import copy, json, torch
from renorm_tune import BatchRenorm2d
layer = BatchRenorm2d(3)
before = {k: id(v) for k, v in layer.named_buffers()}
layer.set_clipping(2.5, 0.4, 1.25)
after = {k: id(v) for k, v in layer.named_buffers()}
# A traced model (torch.jit.trace, as for export) follows limits set after tracing: they are its inputs, not constants.
torch.manual_seed(0)
m = BatchRenorm2d(3, momentum=0.5, renorm_momentum=0.5)
for _ in range(3):
    m(torch.randn(4, 3, 5, 5) * 3 + 2)
traced = torch.jit.trace(m, torch.randn(4, 3, 5, 5), check_trace=False)
eager = copy.deepcopy(m)
for net in (m, eager):
    net.set_clipping(1.5, 1 / 1.5, 0.5)
x = torch.randn(4, 3, 5, 5) * 2 + 1
print(json.dumps({"same": before == after, "limits": [layer.rmax, layer.rmin, layer.dmax],
                  "tensors": sorted(k for k, v in layer.named_buffers() if v.dim() == 0),
                  "saved": sorted(layer.state_dict()), "double": str(layer.double().clip_rmax.dtype),
                  "traced": (traced(x) - eager(x)).abs().max().item()}))
`);
  assert.equal(out.same, true, 'set_clipping fills the same tensors');
  assert.deepEqual(out.limits, [2.5, 0.4, 1.25].map(Math.fround));
  assert.deepEqual(out.tensors, ['clip_dmax', 'clip_rmax', 'clip_rmin']);
  // A checkpoint holds what it held before the limits were tensors, so old ones load (strict) and new ones into old code.
  assert.deepEqual(out.saved, ['bias', 'moving_mean', 'moving_std', 'moving_var', 'renorm_mean', 'renorm_std', 'weight']);
  assert.equal(out.double, 'torch.float64');
  assert.ok(out.traced < 1e-6, `the traced layer is ${out.traced} from the eager one under the new limits`);
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

test('BatchRenorm2d keeps no more for backprop than BatchNorm2d, and the var_mean fallback (no kernel, or a kernel that refuses) gives the same layer', { skip: noTorch }, () => {
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
def refuses(*args):
    raise RuntimeError('"batch_norm_update_stats" not implemented for this dtype')
for path in ("kernel", "refused", "var_mean"):
    if path == "refused":
        torch.batch_norm_update_stats = refuses
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
    runs[path] = ys + [v for b in layer.buffers() for v in b.flatten().tolist()]
print(json.dumps({"sizes": sizes, "runs": runs, "hasKernel": hasattr(torch, "batch_norm_update_stats")}))
`);
  assert.ok(out.sizes.brn <= out.sizes.bn, `BatchRenorm2d keeps ${out.sizes.brn} bytes, BatchNorm2d ${out.sizes.bn}`);
  assert.ok(out.sizes.brn <= 1.5 * out.sizes.input, `${out.sizes.brn} bytes kept for an input of ${out.sizes.input}`);
  assert.equal(out.hasKernel, false, 'the second run went through var_mean');
  for (const path of ['var_mean', 'refused']) {
    assert.equal(out.runs.kernel.length, out.runs[path].length);
    const d = maxDiff(out.runs.kernel, out.runs[path]);
    assert.ok(d < 1e-10, `the kernel and the ${path} path differ by ${d}`);
  }
});

test('convert_batchnorm swaps every BatchNorm1d/2d/3d for its BatchRenorm: eval outputs unchanged, training unchanged until the limits relax', { skip: noTorch }, () => {
  const out = python(`
import copy, json, torch
from torch import nn
from renorm_tune import BatchRenorm1d, BatchRenorm2d, BatchRenorm3d, apply_clipping, convert_batchnorm
torch.manual_seed(2)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 6, 3), nn.BatchNorm2d(6, momentum=0.2), nn.ReLU(), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(6 * 6 * 6, 5), nn.BatchNorm1d(5, eps=1e-4, affine=False))
        self.vol = nn.BatchNorm3d(2)
    def forward(self, x, v):
        return self.head(self.body(x)), self.vol(v)
net = Net()
opt = torch.optim.SGD(net.parameters(), lr=0.05)
for _ in range(5):  # trained a little, so weights and running statistics are not their defaults
    y, w = net(torch.randn(8, 3, 8, 8) * 2 + 1, torch.randn(4, 2, 3, 3, 3) + 0.5)
    (y.pow(2).mean() + w.pow(2).mean()).backward()
    opt.step()
    opt.zero_grad()
x, v = torch.randn(8, 3, 8, 8) * 2 + 1, torch.randn(4, 2, 3, 3, 3) + 0.5
conv = convert_batchnorm(copy.deepcopy(net), renorm_momentum=0.95)
bn2, brn2 = net.body[1], conv.body[1]
start = {"renormMean": (brn2.renorm_mean - bn2.running_mean).abs().max().item(),
         "renormStd": (brn2.renorm_std - torch.sqrt(bn2.running_var + bn2.eps)).abs().max().item(),
         "runningMean": bn2.running_mean.abs().max().item()}
kinds = sorted(type(m).__name__ for m in conv.modules() if "Batch" in type(m).__name__)
net.eval(); conv.eval()
diff = lambda a, b: max((p - q).abs().max().item() for p, q in zip(a, b))
eval_diff = diff(net(x, v), conv(x, v))
net.train(); conv.train()
train_diff = diff(net(x, v), conv(x, v))  # clipping starts at rmax = rmin = 1, dmax = 0: plain batch norm
relaxed = {"step": 0, "rmax": 3.0, "rmin": 1 / 3, "dmax": 5.0}
n = apply_clipping(conv, {"totalSteps": 100, "table": [relaxed, dict(relaxed, step=100)]}, 0)
relaxed_diff = diff(net(x * 3, v), conv(x * 3, v))
from renorm_tune import renorm_modules
layers = renorm_modules(conv)  # found once, set every step
listed = apply_clipping(layers, {"totalSteps": 100, "table": [dict(relaxed, rmax=1.0, rmin=1.0, dmax=0.0), dict(relaxed, step=100)]}, 50)
listed_limits = sorted({(m.rmax, m.rmin, m.dmax) for m in layers})
head = conv.head[1]
print(json.dumps({"kinds": kinds, "evalDiff": eval_diff, "trainDiff": train_diff, "relaxedDiff": relaxed_diff, "clipped": n,
                  "listed": listed, "listedLimits": listed_limits,
                  "momentum": [brn2.momentum, brn2.renorm_momentum, head.eps], "headTrainable": [p.requires_grad for p in head.parameters()],
                  "sameObject": convert_batchnorm(net) is net, "start": start}))
`);
  assert.deepEqual(out.kinds, ['BatchRenorm1d', 'BatchRenorm2d', 'BatchRenorm3d']);
  assert.ok(out.evalDiff < 1e-5, `eval outputs moved by ${out.evalDiff}`);
  assert.ok(out.trainDiff < 1e-5, `training outputs moved by ${out.trainDiff} before the limits relaxed`);
  assert.ok(out.relaxedDiff > 1e-3, `relaxed limits changed nothing (${out.relaxedDiff}): the running statistics did not start the renorm ones`);
  assert.equal(out.clipped, 3);
  assert.equal(out.listed, 3, 'apply_clipping takes the list renorm_modules gave');
  assert.equal(out.listedLimits.length, 1);
  assert.ok(maxDiff(out.listedLimits[0], [2, (1 + 1 / 3) / 2, 2.5]) < 1e-6, `halfway along the table: ${out.listedLimits}`);
  assert.ok(Math.abs(out.momentum[0] - 0.8) < 1e-12 && out.momentum[1] === 0.95 && out.momentum[2] === 1e-4, JSON.stringify(out.momentum));
  assert.deepEqual(out.headTrainable, [false, false], 'affine=False stays without a trained scale and shift');
  assert.equal(out.sameObject, true);
  assert.ok(out.start.runningMean > 0.05 && out.start.renormMean < 1e-7 && out.start.renormStd < 1e-6, `renorm statistics start from the running ones: ${JSON.stringify(out.start)}`);
});

test('revert_batchnorm turns a trained batch renorm model back into torch BatchNorms that compute the same in eval mode, which conv-BN fusion then takes', { skip: noTorch }, () => {
  const out = python(`
import copy, json, torch
from torch import nn
from renorm_tune import BatchRenorm1d, BatchRenorm2d, BatchRenorm3d, apply_clipping, convert_batchnorm, revert_batchnorm
torch.manual_seed(4)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 6, 3), BatchRenorm2d(6, momentum=0.8), nn.ReLU(), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(6 * 6 * 6, 5), nn.BatchNorm1d(5, eps=1e-4, affine=False))
        self.vol = BatchRenorm3d(2, eps=1e-2)
    def forward(self, x, v):
        return self.head(self.body(x)), self.vol(v)
net = convert_batchnorm(Net())  # the BatchNorm1d without scale and shift too
relaxed = {"step": 0, "rmax": 2.0, "rmin": 0.5, "dmax": 1.0}
apply_clipping(net, {"totalSteps": 10, "table": [relaxed, dict(relaxed, step=10)]}, 0)
opt = torch.optim.SGD(net.parameters(), lr=0.05)
for _ in range(6):  # trained with r and d in play, so every statistic and weight is away from its start
    y, w = net(torch.randn(8, 3, 8, 8) * 2 + 1, torch.randn(4, 2, 3, 3, 3) + 0.5)
    (y.pow(2).mean() + w.pow(2).mean()).backward()
    opt.step()
    opt.zero_grad()
net.eval()
x, v = torch.randn(8, 3, 8, 8) * 2 + 1, torch.randn(4, 2, 3, 3, 3) + 0.5
rev = revert_batchnorm(copy.deepcopy(net))
diff = lambda a, b: max((p - q).abs().max().item() for p, q in zip(a, b))
fused = torch.ao.quantization.fuse_modules(copy.deepcopy(rev.body), [["0", "1"]]) if hasattr(torch, "ao") else None
print(json.dumps({
    "kinds": sorted(type(m).__name__ for m in rev.modules() if "Batch" in type(m).__name__),
    "evalDiff": diff(net(x, v), rev(x, v)),
    "bn2": [rev.body[1].momentum, rev.body[1].eps, rev.body[1].affine, rev.body[1].training],
    "head": [rev.head[1].affine, rev.head[1].eps], "vol": [rev.vol.eps, rev.vol.affine],
    "trainedMean": net.body[1].moving_mean.abs().max().item(),
    "fusedKinds": [type(m).__name__ for m in fused] if fused is not None else None,
    "fusedDiff": (fused(x) - rev.body(x)).abs().max().item() if fused is not None else None,
    "roundTrip": diff(net(x, v), convert_batchnorm(copy.deepcopy(rev)).eval()(x, v)),
    "bare": type(revert_batchnorm(BatchRenorm1d(3))).__name__, "sameObject": revert_batchnorm(net) is net}))
`);
  assert.deepEqual(out.kinds, ['BatchNorm1d', 'BatchNorm2d', 'BatchNorm3d']);
  assert.ok(out.trainedMean > 0.05, 'the moving statistics were trained');
  assert.ok(out.evalDiff < 1e-6, `eval outputs moved by ${out.evalDiff}`);
  assert.ok(Math.abs(out.bn2[0] - 0.2) < 1e-12 && out.bn2[1] === 1e-3 && out.bn2[2] === true && out.bn2[3] === false, JSON.stringify(out.bn2));
  assert.deepEqual(out.head, [false, 1e-4], 'the layer converted from affine=False goes back without scale and shift');
  assert.deepEqual(out.vol, [1e-2, true]);
  if (out.fusedKinds) {
    assert.equal(out.fusedKinds[0], 'Conv2d', 'the convolution absorbed the BatchNorm');
    assert.equal(out.fusedKinds[1], 'Identity');
    assert.ok(out.fusedDiff < 1e-5, `the fused model is ${out.fusedDiff} off`);
  }
  assert.ok(out.roundTrip < 1e-6, `converted back again, eval outputs moved by ${out.roundTrip}`);
  assert.equal(out.bare, 'BatchNorm1d');
  assert.equal(out.sameObject, true);
});

const ddp = (layer: string) => {
  const [a, b] = runGlooDriver('ddp_driver.py', layer);
  assert.ok(a!.moved > 1e-3, 'training moved the parameters');
  assert.equal(a!.params.length, b!.params.length);
  assert.ok(maxDiff(a!.params, b!.params) < 1e-6, `the ranks' parameters differ by ${maxDiff(a!.params, b!.params)}`);
  assert.deepEqual(a!.limits, b!.limits);
  assert.ok(Math.abs(a!.limits[0]! - 2.6) < 1e-6, `the last step's clipping (${a!.limits})`);
  return maxDiff(a!.moving, b!.moving);
};

test('the layers train under DistributedDataParallel (2 CPU processes, gloo): parameters stay equal across ranks, each rank on its own data; SyncBatchRenorm\'s statistics are the group\'s', { skip: noTorch }, () => {
  // BatchRenorm2d normalizes by each rank's own batch, so its last step leaves the ranks' moving statistics apart
  // (DDP copies rank 0's buffers at each forward); SyncBatchRenorm's are the group's on every rank.
  const local = ddp('BatchRenorm2d');
  assert.ok(local > 1e-3, `BatchRenorm2d's moving statistics differ across ranks by ${local}`);
  assert.equal(ddp('SyncBatchRenorm'), 0);
});

test('SyncBatchRenorm over 2 processes equals one BatchRenorm2d on both ranks\' samples (float64, r and d in play): outputs, input and parameter gradients, statistics; unequal and empty batches, and a step with every batch empty; a float32 variance when the mean dwarfs the spread; autocast', { skip: noTorch }, () => {
  for (const rank of runGlooDriver('sync_driver.py')) {
    for (const sizes of ['unequal', 'empty']) {
      const w = rank[sizes] as Record<string, number>;
      assert.ok(w.effect! > 0.1, `r and d move the output from BatchNorm's by ${w.effect} (${sizes})`);
      for (const k of ['y', 'dx', 'dparams', 'buffers']) assert.ok(w[k]! < 1e-12, `rank ${rank.rank}, ${sizes} batches: ${k} differs by ${w[k]}`);
    }
    // Sums of squares in float32 would give this variance to ~750% (mean 100, sd 0.01); float64 sums keep var_mean's digits.
    assert.ok(rank.precision < 1e-3, `rank ${rank.rank}: the group's float32 variance is ${rank.precision} off, relatively`);
    // Autocast (CPU bfloat16): the output in the half type, the statistics float32 and within its rounding of a float32 run.
    const amp = rank.autocast as { dtype: string; statsDtype: string; y: number; stats: number; gradsFinite: boolean };
    assert.deepEqual([amp.dtype, amp.statsDtype, amp.gradsFinite], ['torch.bfloat16', 'torch.float32', true]);
    assert.ok(amp.y < 0.02 && amp.stats < 5e-3, `under autocast: output ${amp.y} (relative), statistics ${amp.stats} from float32`);
    // Every rank's batch empty (a detection head's step without boxes anywhere): nothing moved, no NaN left behind.
    assert.deepEqual(rank.allEmpty, { shape: [0, 3, 2, 2], kept: true, dweight: [0, 0, 0], dbias: [0, 0, 0], dx: [0, 3, 2, 2], next: true });
  }
});

test('convert_batchnorm names the BatchNorm it cannot carry over; BatchRenorm1d equals BatchRenorm2d on the same values; a wrong rank is a ValueError', { skip: noTorch }, () => {
  const out = python(`
import json, torch
from torch import nn
from renorm_tune import BatchRenorm1d, BatchRenorm2d, convert_batchnorm
errors = {}
for name, model in [("stats", nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2, track_running_stats=False))),
                    ("cumulative", nn.Sequential(nn.Sequential(nn.BatchNorm2d(3, momentum=None)))),
                    ("lazy", nn.Sequential(nn.LazyBatchNorm2d()))]:
    try:
        convert_batchnorm(model)
        errors[name] = None
    except ValueError as e:
        errors[name] = str(e)
torch.set_default_dtype(torch.float64)
torch.manual_seed(4)
one, two = BatchRenorm1d(3, momentum=0.9), BatchRenorm2d(3, momentum=0.9)
for m in (one, two):
    m.set_clipping(2.0, 0.5, 1.0)
worst = 0.0
for step in range(4):
    x = torch.randn(5, 3, 7) * 2 + step
    worst = max(worst, (one(x) - two(x.unsqueeze(-1)).squeeze(-1)).abs().max().item())
worst = max([worst] + [(a - b).abs().max().item() for a, b in zip(one.buffers(), two.buffers())])
flat = BatchRenorm1d(3)(torch.randn(6, 3)).shape
try:
    two(torch.randn(5, 3, 7))
    rank = None
except ValueError as e:
    rank = str(e)
print(json.dumps({"errors": errors, "worst": worst, "flat": list(flat), "rank": rank}))
`);
  assert.match(out.errors.stats, /^1: track_running_stats=False .* build it with track_running_stats=True/);
  assert.match(out.errors.cumulative, /^0\.0: momentum=None .* give it a momentum such as 0\.1/);
  assert.match(out.errors.lazy, /^0 \(LazyBatchNorm2d\): only BatchNorm1d, BatchNorm2d, BatchNorm3d and SyncBatchNorm convert; convert the model before initializing it/);
  assert.ok(out.worst < 1e-12, `BatchRenorm1d and BatchRenorm2d differ by ${out.worst}`);
  assert.deepEqual(out.flat, [6, 3]);
  assert.equal(out.rank, 'BatchRenorm2d takes 4-D input (got 3-D, shape (5, 3, 7))');
});

test('an empty batch (a detection head\'s step without boxes) trains as BatchNorm: an empty output, zero parameter gradients, nothing moved; in every layer, and in training between full batches', { skip: noTorch }, () => {
  const out = python(`
import json, torch
from torch import nn
from renorm_tune import BatchRenorm1d, BatchRenorm2d, BatchRenorm3d, SyncBatchRenorm
torch.manual_seed(0)
rows = []
for cls, bn, shape in [(BatchRenorm1d, nn.BatchNorm1d, (0, 3)), (BatchRenorm1d, nn.BatchNorm1d, (0, 3, 5)), (BatchRenorm2d, nn.BatchNorm2d, (0, 3, 4, 4)),
                       (BatchRenorm3d, nn.BatchNorm3d, (0, 3, 2, 2, 2)), (SyncBatchRenorm, nn.BatchNorm2d, (0, 3, 4, 4))]:
    layer, ref = cls(3), bn(3)
    layer.set_clipping(2.0, 0.5, 1.0)
    layer(torch.randn((4,) + shape[1:]) * 3 + 1)  # a full batch first, so the statistics are not at their initial values
    before = [b.clone() for b in layer.buffers()]
    x = torch.randn(*shape, requires_grad=True)
    y = layer(x)
    y.sum().backward()
    y_ref = ref(x)
    rows.append([cls.__name__, list(y.shape) == list(y_ref.shape), layer.weight.grad.tolist(), layer.bias.grad.tolist(),
                 list(x.grad.shape) == list(shape), all(torch.equal(a, b) for a, b in zip(before, layer.buffers())),
                 bool(layer(torch.randn((4,) + shape[1:])).isfinite().all())])
print(json.dumps(rows))
`) as unknown as [string, boolean, number[], number[], boolean, boolean, boolean][];
  assert.deepEqual(out.map((r) => r[0]), ['BatchRenorm1d', 'BatchRenorm1d', 'BatchRenorm2d', 'BatchRenorm3d', 'SyncBatchRenorm']);
  for (const [name, shape, dw, db, dx, kept, next] of out) {
    assert.deepEqual([name, shape, dw, db, dx, kept, next], [name, true, [0, 0, 0], [0, 0, 0], true, true, true]);
  }
});

test('SyncBatchRenorm outside a process group is BatchRenorm2d; convert_batchnorm makes SyncBatchNorms (and with sync=True every BatchNorm and BatchRenorm) SyncBatchRenorms over their group, and revert_batchnorm turns them back', { skip: noTorch }, () => {
  const out = python(`
import json, torch
from torch import nn
from renorm_tune import BatchRenorm2d, SyncBatchRenorm, convert_batchnorm, revert_batchnorm
torch.set_default_dtype(torch.float64)
torch.manual_seed(6)
sync, plain = SyncBatchRenorm(3, momentum=0.9), BatchRenorm2d(3, momentum=0.9)
worst = 0.0
for step in range(4):
    for m in (sync, plain):
        m.set_clipping(2.0, 0.5, 1.0)
    x = torch.randn(5, 3, 4, 4) * 2 + step
    worst = max(worst, (sync(x) - plain(x)).abs().max().item())
worst = max([worst] + [(a - b).abs().max().item() for a, b in zip(sync.buffers(), plain.buffers())])
ranks = [list(sync(torch.randn(*shape)).shape) for shape in [(4, 3), (4, 3, 5), (4, 3, 2, 2, 2)]]
group = object()  # convert and revert carry a SyncBatchNorm's process group through, whatever it is
bn = nn.SyncBatchNorm(3, momentum=0.2, eps=1e-4, process_group=group)
with torch.no_grad():
    bn.running_mean.uniform_()
    bn.running_var.uniform_(0.5, 2)
    bn.weight.uniform_()
net = convert_batchnorm(nn.Sequential(bn, nn.Sequential(nn.BatchNorm1d(3))), renorm_momentum=0.9)
every = convert_batchnorm(nn.Sequential(nn.BatchNorm2d(3), nn.BatchNorm1d(3)), sync=True)
# A model built with batch renorm, trained a little, made to normalize across processes: the same layer but for that.
built = nn.Sequential(nn.Conv2d(3, 3, 1), BatchRenorm2d(3, momentum=0.9, renorm_momentum=0.8, eps=1e-4))
built[1].weight.requires_grad_(False)
built[1].set_clipping(2.0, 0.5, 1.0)
for step in range(3):
    built(torch.randn(4, 3, 5, 5) + step)
before = [t.clone() for t in built.state_dict().values()]
x = torch.randn(4, 3, 5, 5)
eval_before = built.eval()(x)
built.train()
synced = convert_batchnorm(built, sync=True)
layer = synced[1]
made = {"type": type(layer).__name__, "same": synced is built,
        "state": max((a - b).abs().max().item() for a, b in zip(before, synced.state_dict().values())),
        "hyper": [layer.momentum, layer.renorm_momentum, layer.eps, layer.rmax, layer.rmin, layer.dmax],
        "frozen": [layer.weight.requires_grad, layer.bias.requires_grad], "training": layer.training,
        "eval": (synced.eval()(x) - eval_before).abs().max().item()}
out = {"worst": worst, "ranks": ranks,
       "converted": [type(m).__name__ for m in net.modules()][1:], "every": [type(m).__name__ for m in every],
       "group": net[0].process_group is group, "momentum": net[0].momentum, "renorm": net[0].renorm_momentum,
       "moving": (net[0].moving_var - bn.running_var).abs().max().item(), "made": made}
back = revert_batchnorm(net)
print(json.dumps({**out, "reverted": type(back[0]).__name__, "backGroup": back[0].process_group is group, "eps": back[0].eps,
                  "backMomentum": back[0].momentum, "backVar": (back[0].running_var - bn.running_var).abs().max().item()}))
`);
  assert.ok(out.worst < 1e-12, `SyncBatchRenorm without a process group differs from BatchRenorm2d by ${out.worst}`);
  assert.deepEqual(out.ranks, [[4, 3], [4, 3, 5], [4, 3, 2, 2, 2]]);
  // The BatchNorm1d stays local unless asked: a SyncBatchNorm is the user's choice of what to synchronize.
  assert.deepEqual(out.converted, ['SyncBatchRenorm', 'Sequential', 'BatchRenorm1d']);
  assert.deepEqual(out.every, ['SyncBatchRenorm', 'SyncBatchRenorm']);
  const made = out.made as Record<string, any>;
  assert.deepEqual([made.type, made.same, made.frozen, made.training], ['SyncBatchRenorm', true, [false, true], true]);
  assert.deepEqual(made.hyper, [0.9, 0.8, 1e-4, 2, 0.5, 1]);
  assert.ok(made.state === 0 && made.eval < 1e-12, `a converted BatchRenorm2d keeps its state (${made.state}) and eval outputs (${made.eval})`);
  assert.equal(out.group, true);
  assert.ok(Math.abs(out.momentum - 0.8) < 1e-12 && out.renorm === 0.9);
  assert.ok(out.moving < 1e-12);
  assert.equal(out.reverted, 'SyncBatchNorm');
  assert.equal(out.backGroup, true);
  assert.equal(out.eps, 1e-4);
  assert.ok(Math.abs(out.backMomentum - 0.2) < 1e-12);
  assert.ok(out.backVar < 1e-12);
});

test('npm run bench:torch-layer runs its layer, whole-model and --sync modes and reports what it measured', { skip: noTorch }, () => {
  const BENCH = fileURLToPath(new URL('../../../src/bench/train/bench_torch_layer.py', import.meta.url));
  const run = (...args: string[]) => {
    const r = spawnSync(PYTHON, [BENCH, '--device', 'cpu', '--rounds', '1', '--iters', '1', '--json', ...args], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { rows: Record<string, any>[] }).rows;
  };
  const layers = run();
  assert.deepEqual(layers.map((r) => r.shape.join('x')), ['32x64x56x56', '32x256x14x14', '8x32x112x112', '256x16x28x28']);
  for (const r of layers) {
    assert.ok(r.bnMs > 0 && r.brnMs > 0 && Math.abs(r.timeRatio - r.brnMs / r.bnMs) < 1e-12);
    assert.equal(r.brnSavedBytes, r.bnSavedBytes, 'the layer keeps what BatchNorm2d keeps for backprop');
  }
  const [model] = run('--model', 'resnet18', '--batch', '2', '--size', '32', '--autocast', 'bfloat16');
  assert.equal(model!.layers, 20, "every one of ResNet-18's BatchNorm2d converted");
  assert.equal(model!.autocast, 'bfloat16');
  assert.ok(model!.bnMs > 0 && model!.brnMs > 0);
  const synced = run('--sync');
  assert.deepEqual(synced.map((r) => r.perProcess.join('x')), ['16x64x56x56', '16x256x14x14', '4x32x112x112', '128x16x28x28']);
  for (const r of synced) {
    assert.ok(r.brnMs > 0 && r.syncMs > 0 && r.backend === 'gloo');
    // Both keep the input once and a few per-channel vectors (the synchronized one also the group's count).
    const input = r.perProcess.reduce((a: number, b: number) => a * b, 1) * 4;
    assert.ok(r.syncSavedBytes >= input && Math.abs(r.syncSavedBytes - r.brnSavedBytes) < 16 * 1024, `kept for backprop ${r.syncSavedBytes} against ${r.brnSavedBytes}`);
  }
  for (const [args, named] of [[['--batch', '4'], '--batch'], [['--model', 'resnet18', '--size', '0'], '--size 0'], [['--sync', '--model', 'resnet18'], '--sync']] as const) {
    const r = spawnSync(PYTHON, [BENCH, ...args], { encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(r.status, 0, `${args.join(' ')} is refused`);
    assert.ok(r.stderr.includes(named), `the refusal names ${named}: ${r.stderr}`);
  }
});
