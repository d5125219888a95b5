#!/usr/bin/env python3
"""What switching BatchNorm2d for the Python client's BatchRenorm2d costs a PyTorch trainer: `npm run bench:torch-layer`.

For each shape, both layers in training mode (clipping active for BatchRenorm2d: rmax 3, dmax 5) run forward and
backward in alternating rounds (A-B-B-A, so a noisy machine's drift falls on both), on CUDA when torch sees a GPU,
else on the CPU. Prints the fastest round's milliseconds per forward+backward of each (on a shared 2-core machine one
shape's rounds ranged 17-130 ms: the fastest is the cost, the rest is other work), their ratio, and the bytes each keeps
for backprop (counted through autograd's saved-tensor hooks: deterministic, unlike a peak-memory reading).
With --compile both layers run through torch.compile (torch >= 2; inductor), as a trainer that compiles its model.
  bench_torch_layer.py [--rounds N] [--iters N] [--device cpu|cuda] [--compile] [--json]
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
from renorm_tune import BatchRenorm2d  # noqa: E402

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


def timed(layer, x, g, iters, sync):
    sync()
    t0 = time.perf_counter()
    for _ in range(iters):
        layer(x).backward(g)
    sync()
    return (time.perf_counter() - t0) / iters * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.compile and not hasattr(torch, "compile"):
        raise SystemExit(f"--compile: torch {torch.__version__} has no torch.compile (it came with torch 2.0)")
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    torch.manual_seed(0)
    rows = []
    print(f"torch {torch.__version__} on {dev.type}"
          f"{' (' + torch.cuda.get_device_name(dev) + ')' if dev.type == 'cuda' else f', {torch.get_num_threads()} threads'}"
          f"{', compiled' if a.compile else ''}")
    for shape in SHAPES:
        c = shape[1]
        bn = torch.nn.BatchNorm2d(c, eps=1e-3).to(dev)
        brn = BatchRenorm2d(c).to(dev)
        brn.set_clipping(3.0, 1 / 3, 5.0)
        x = (torch.randn(*shape, device=dev) * 2 + 1).requires_grad_(True)
        g = torch.randn(*shape, device=dev)
        run = {"bn": torch.compile(bn) if a.compile else bn, "brn": torch.compile(brn) if a.compile else brn}
        for layer in run.values():  # warm-up (and compilation)
            timed(layer, x, g, 5, sync)
        times = {"bn": [], "brn": []}
        for r in range(a.rounds):
            order = ("bn", "brn") if r % 2 == 0 else ("brn", "bn")
            for name in order:
                times[name].append(timed(run[name], x, g, a.iters, sync))
        row = {"shape": list(shape), "device": dev.type, "compiled": a.compile,
               "bnMs": min(times["bn"]), "brnMs": min(times["brn"]),
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
