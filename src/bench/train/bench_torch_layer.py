#!/usr/bin/env python3
"""What switching BatchNorm2d for the Python client's BatchRenorm2d costs a PyTorch trainer: `npm run bench:torch-layer`.

For each shape, both layers in training mode (clipping active for BatchRenorm2d: rmax 3, dmax 5) run forward and
backward in alternating rounds (A-B-B-A, so a noisy machine's drift falls on both; `fastest`), on CUDA when torch sees a GPU,
else on the CPU. Prints the fastest round's milliseconds per forward+backward of each (on a shared 2-core machine one
shape's rounds ranged 17-130 ms: the fastest is the cost, the rest is other work), their ratio, and the bytes each keeps
for backprop (counted through autograd's saved-tensor hooks: deterministic, unlike a peak-memory reading).
With --compile both layers run through torch.compile (torch >= 2; inductor), as a trainer that compiles its model.
With --model resnet18, a whole training step instead (forward, cross-entropy, backward, SGD step) of a ResNet-18 (He
et al. 2016; built here, no torchvision needed) as written, with BatchNorm2d, and after convert_batchnorm, clipping
active; --batch and --size set its input, --autocast float16|bfloat16 runs it in mixed precision as GPU trainers do.
With --sync, SyncBatchRenorm (the whole batch's statistics across 2 processes: one all-reduce each way) against
BatchRenorm2d on the same per-process batches: 2 processes over gloo, one thread each (on CUDA, NCCL when torch sees
2 GPUs, else gloo with both on the first), each shape's batch split between them; rank 0 prints.
  bench_torch_layer.py [--rounds N] [--iters N] [--device cpu|cuda] [--compile] [--json]
                       [--model resnet18 [--batch N] [--size PX] [--autocast float16|bfloat16]]
                       [--sync]
"""
import argparse
import contextlib
import copy
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
from renorm_tune import BatchRenorm2d, SyncBatchRenorm, convert_batchnorm, renorm_modules  # noqa: E402
from ranks import leave_group, spawn_ranks  # noqa: E402

SHAPES = [(32, 64, 56, 56), (32, 256, 14, 14), (8, 32, 112, 112), (256, 16, 28, 28)]


def saved_bytes(layer, x):
    """Bytes autograd keeps for the layer's backward pass; a tensor saved twice (by two operations) counts once."""
    saved = {}

    def pack(t):
        saved[(t.data_ptr(), t.numel(), t.dtype)] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        layer(x).sum().backward()
    return sum(saved.values())


def fastest(runs, rounds, iters, sync):
    """Each callable's fastest round, in milliseconds per call: `rounds` rounds of `iters` calls, in alternating order
    (A-B, then B-A) so a noisy machine's drift falls on all of them, after a warm-up (and compilation) of 5 calls."""
    def timed(run, n):
        sync()
        t0 = time.perf_counter()
        for _ in range(n):
            run()
        sync()
        return (time.perf_counter() - t0) / n * 1000

    for run in runs.values():
        timed(run, 5)
    times = {name: [] for name in runs}
    for r in range(rounds):
        for name in (list(runs) if r % 2 == 0 else list(runs)[::-1]):
            times[name].append(timed(runs[name], iters))
    return {name: min(t) for name, t in times.items()}


def resnet18(classes=10):
    """ResNet-18's layout (basic blocks 2-2-2-2, 64 to 512 channels), every normalization a BatchNorm2d."""
    nn = torch.nn

    def block(cin, cout, stride):
        body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                             nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        skip = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                if stride != 1 or cin != cout else nn.Identity())
        return Residual(body, skip)

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [block(cin, cout, stride), block(cout, cout, 1)]
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes))


class Residual(torch.nn.Module):
    def __init__(self, body, skip):
        super().__init__()
        self.body, self.skip = body, skip

    def forward(self, x):
        return torch.relu(self.body(x) + self.skip(x))


def bench_model(a, dev, sync):
    """One training step of ResNet-18 with BatchNorm2d, and with the batch renorm layers convert_batchnorm puts in."""
    torch.manual_seed(0)
    nets = {"bn": resnet18().to(dev)}
    nets["brn"] = convert_batchnorm(copy.deepcopy(nets["bn"]))
    for m in renorm_modules(nets["brn"]):
        m.set_clipping(3.0, 1 / 3, 5.0)
    x = torch.randn(a.batch, 3, a.size, a.size, device=dev)
    y = torch.randint(0, 10, (a.batch,), device=dev)
    half = {"float16": torch.float16, "bfloat16": torch.bfloat16}.get(a.autocast)
    steps = {}
    for name, net in nets.items():
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        fwd = torch.compile(net) if a.compile else net

        def step(fwd=fwd, opt=opt):
            opt.zero_grad(set_to_none=True)
            with torch.autocast(dev.type, dtype=half) if half else contextlib.nullcontext():
                loss = torch.nn.functional.cross_entropy(fwd(x), y)
            loss.backward()
            opt.step()
        steps[name] = step
    ms = fastest(steps, a.rounds, a.iters, sync)
    row = {"model": "resnet18", "batch": a.batch, "size": a.size, "device": dev.type, "compiled": a.compile,
           "autocast": a.autocast, "layers": len(renorm_modules(nets["brn"])), "bnMs": ms["bn"], "brnMs": ms["brn"]}
    row["timeRatio"] = row["brnMs"] / row["bnMs"]
    print(f"  ResNet-18 ({row['layers']} normalization layers), batch {a.batch} of {a.size}x{a.size}, autocast {a.autocast}:"
          f"  BatchNorm2d {row['bnMs']:8.2f} ms  BatchRenorm2d {row['brnMs']:8.2f} ms per training step  ({row['timeRatio']:.2f}x)",
          flush=True)
    return [row]


def sync_rank(rank, world, init, a, results):
    """One of the 2 processes of --sync: times both layers on its half of each shape's batch, in step with the other."""
    import torch.distributed as dist

    torch.set_num_threads(1)
    gpus = torch.cuda.device_count() if a.device == "cuda" else 0
    dev = torch.device("cuda", rank % gpus) if gpus else torch.device("cpu")
    backend = "nccl" if gpus >= 2 else "gloo"
    dist.init_process_group(backend, init_method=init, rank=rank, world_size=world)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    rows = []
    for shape in SHAPES:
        c, half = shape[1], (shape[0] // 2,) + tuple(shape[1:])
        torch.manual_seed(rank)
        layers = {"brn": BatchRenorm2d(c).to(dev), "sync": SyncBatchRenorm(c).to(dev)}
        for layer in layers.values():
            layer.set_clipping(3.0, 1 / 3, 5.0)
        x = (torch.randn(*half, device=dev) * 2 + 1).requires_grad_(True)
        g = torch.randn(*half, device=dev)
        ms = fastest({name: (lambda layer=layer: layer(x).backward(g)) for name, layer in layers.items()}, a.rounds, a.iters, sync)
        row = {"shape": list(shape), "perProcess": list(half), "device": dev.type, "backend": backend,
               "brnMs": ms["brn"], "syncMs": ms["sync"], "timeRatio": ms["sync"] / ms["brn"],
               "brnSavedBytes": saved_bytes(layers["brn"], x), "syncSavedBytes": saved_bytes(layers["sync"], x)}
        rows.append(row)
    results.put({"rank": rank, "rows": rows})
    leave_group()


def bench_sync(a):
    rows = spawn_ranks(sync_rank, a)[0][0]["rows"]  # rank 0's
    print(f"  SyncBatchRenorm over 2 processes ({rows[0]['backend']}, {rows[0]['device']}, one thread each) against BatchRenorm2d"
          " on the same per-process batch, forward+backward:")
    for row in rows:
        print(f"  {'x'.join(map(str, row['shape'])):>16} (per process {'x'.join(map(str, row['perProcess']))})"
              f"  BatchRenorm2d {row['brnMs']:8.2f} ms  SyncBatchRenorm {row['syncMs']:8.2f} ms  ({row['timeRatio']:.2f}x)"
              f"   kept for backprop {row['brnSavedBytes'] / 2**20:7.1f} / {row['syncSavedBytes'] / 2**20:7.1f} MiB", flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--model", choices=["resnet18"])
    ap.add_argument("--batch", type=int)
    ap.add_argument("--size", type=int)
    ap.add_argument("--autocast", choices=["none", "float16", "bfloat16"])
    ap.add_argument("--sync", action="store_true")
    a = ap.parse_args()
    if a.sync and (a.model or a.compile):
        raise SystemExit("--sync: times the layers alone, uncompiled; give it without --model and --compile")
    if not a.model:
        given = [f"--{k}" for k in ("batch", "size", "autocast") if getattr(a, k) is not None]
        if given:
            raise SystemExit(f"{', '.join(given)}: only with --model resnet18 (the layer mode times fixed input shapes)")
    for k, default in (("batch", 32), ("size", 64), ("autocast", "none")):
        if getattr(a, k) is None:
            setattr(a, k, default)
    for k in ("batch", "size", "rounds", "iters"):
        if getattr(a, k) < 1:
            raise SystemExit(f"--{k} {getattr(a, k)}: give a whole number of at least 1")
    if a.compile and not hasattr(torch, "compile"):
        raise SystemExit(f"--compile: torch {torch.__version__} has no torch.compile (it came with torch 2.0)")
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    torch.manual_seed(0)
    rows = []
    print(f"torch {torch.__version__} on {dev.type}"
          f"{' (' + torch.cuda.get_device_name(dev) + ')' if dev.type == 'cuda' else f', {torch.get_num_threads()} threads'}"
          f"{', compiled' if a.compile else ''}")
    if a.model:
        rows = bench_model(a, dev, sync)
    if a.sync:
        rows = bench_sync(a)
    for shape in ([] if a.model or a.sync else SHAPES):
        c = shape[1]
        bn = torch.nn.BatchNorm2d(c, eps=1e-3).to(dev)
        brn = BatchRenorm2d(c).to(dev)
        brn.set_clipping(3.0, 1 / 3, 5.0)
        x = (torch.randn(*shape, device=dev) * 2 + 1).requires_grad_(True)
        g = torch.randn(*shape, device=dev)
        run = {"bn": torch.compile(bn) if a.compile else bn, "brn": torch.compile(brn) if a.compile else brn}
        ms = fastest({name: (lambda layer=layer: layer(x).backward(g)) for name, layer in run.items()}, a.rounds, a.iters, sync)
        row = {"shape": list(shape), "device": dev.type, "compiled": a.compile, "bnMs": ms["bn"], "brnMs": ms["brn"],
               "bnSavedBytes": saved_bytes(bn, x), "brnSavedBytes": saved_bytes(brn, x)}
        row["timeRatio"] = row["brnMs"] / row["bnMs"]
        row["savedRatio"] = row["brnSavedBytes"] / row["bnSavedBytes"]
        rows.append(row)
        print(f"  {'x'.join(map(str, shape)):>16}  BatchNorm2d {row['bnMs']:8.2f} ms  BatchRenorm2d {row['brnMs']:8.2f} ms"
              f"  ({row['timeRatio']:.2f}x)   kept for backprop {row['bnSavedBytes'] / 2**20:7.1f} / {row['brnSavedBytes'] / 2**20:7.1f} MiB"
              f" ({row['savedRatio']:.2f}x)", flush=True)
    if a.json:
        print(json.dumps({"torch": torch.__version__, "rows": rows}))


if __name__ == "__main__":
    main()
