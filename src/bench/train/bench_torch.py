#!/usr/bin/env python3
"""Reference throughput for `renorm-tune bench train`: the same network and batch renorm in PyTorch, one thread.

Network: conv3x3x16 (no bias) -> BRN -> ReLU -> maxpool 2 -> conv3x3x32 (no bias) -> BRN -> ReLU -> maxpool 2
-> dense 10; Adam; softmax cross-entropy; 28x28x1 random data (--input HxWxC for another shape). Batch renorm is the Python client's BatchRenorm2d
(Keras renorm=True semantics, r and d held constant for backprop), clipping at rmax 3, dmax 5.

One-shot:   bench_torch.py --batch-size 32 --steps 50 --warmup 10   -> one JSON line
Serve mode: bench_torch.py --batch-size 32 --serve                   -> reads a step count per stdin line,
            answers one JSON line {"steps", "seconds", "cpuSeconds", "imagesPerSecond", "imagesPerCpuSecond"}
            per request (warm-up is the caller's).
"""
import argparse
import json
import os
import sys
import time

# torch.set_num_threads(1) does not reach the BLAS that Debian's torch calls (OpenBLAS, with its own
# pthreads): unless these are set before torch loads, OpenBLAS's threads keep a second core busy (1.9-2.0 CPU
# seconds per second measured on 2 cores), and the reference is no longer one thread.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
from renorm_tune import BatchRenorm2d  # noqa: E402  (the layer PyTorch users get: one fused F.batch_norm)


def batch_renorm(channels):
    layer = BatchRenorm2d(channels)
    layer.set_clipping(3.0, 1 / 3.0, 5.0)
    return layer


def make_model(width, height, image_width, channels):
    # The cnn model spec's two blocks (src/engine/models.ts): `width` filters, then twice as many; 16 is the reference.
    # Each max-pool floors odd sizes, as the Keras layer does.
    return nn.Sequential(
        nn.Conv2d(channels, width, 3, padding=1, bias=False), batch_renorm(width), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1, bias=False), batch_renorm(2 * width), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * width * (height // 2 // 2) * (image_width // 2 // 2), 10),
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--input", default="28x28x1", help="HxWxC")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--serve", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(0)
    height, image_width, channels = (int(v) for v in a.input.lower().split("x"))
    model = make_model(a.width, height, image_width, channels)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(a.batch_size, channels, height, image_width)
    y = torch.randint(0, 10, (a.batch_size,))

    def run(steps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            loss.item()  # the JS side reads its loss every step too
        return time.perf_counter() - t0, time.process_time() - c0

    if a.serve:
        params = sum(p.numel() for p in model.parameters())  # the JS side checks it ran the same net
        print(json.dumps({"ready": True, "torch": torch.__version__, "params": params}), flush=True)
        for line in sys.stdin:
            steps = int(line.strip() or 0)
            if steps <= 0:
                break
            s, cpu = run(steps)
            print(json.dumps({"steps": steps, "seconds": s, "cpuSeconds": cpu, "imagesPerSecond": steps * a.batch_size / s,
                              "imagesPerCpuSecond": steps * a.batch_size / cpu}), flush=True)
        return
    run(a.warmup)
    s, cpu = run(a.steps)
    print(json.dumps({"steps": a.steps, "seconds": s, "cpuSeconds": cpu, "imagesPerSecond": a.steps * a.batch_size / s,
                      "imagesPerCpuSecond": a.steps * a.batch_size / cpu, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
