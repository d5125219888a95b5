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
  bench_torch_layer.py [--rounds N] [--iters N] [--device cpu|cuda] [--compile] [--json]
                       [--model resnet18 [--batch N] [--size PX] [--autocast float16|bfloat16]]
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
from renorm_tune import BatchRenorm2d, convert_batchnorm, renorm_modules  # noqa: E402

SHAPES = [(32, 64, 56, 56), (32, 256, 14, 14), (8, 32, 112, 112), (256, 16, 28, 28)]


def saved_bytes(layer, x):
    total = 0

    def pack(t):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        layer(x).sum().backward()
    return total


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
    a = ap.parse_args()
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
    for shape in ([] if a.model else SHAPES):
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
