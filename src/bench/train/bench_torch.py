#!/usr/bin/env python3
"""Reference throughput for `renorm-tune bench train`: the same network and batch renorm in PyTorch, one thread.

Network: conv3x3x16 (no bias) -> BRN -> ReLU -> maxpool 2 -> conv3x3x32 (no bias) -> BRN -> ReLU -> maxpool 2
-> dense 10; Adam; softmax cross-entropy; 28x28x1 random data. Batch renorm follows Keras (renorm=True):
r and d are detached, statistics updated after they are formed.

One-shot:   bench_torch.py --batch-size 32 --steps 50 --warmup 10   -> one JSON line
Serve mode: bench_torch.py --batch-size 32 --serve                   -> reads a step count per stdin line,
            answers one JSON line {"steps", "seconds", "cpuSeconds", "imagesPerSecond", "imagesPerCpuSecond"}
            per request (warm-up is the caller's).
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BatchRenorm(nn.Module):
    def __init__(self, channels, momentum=0.99, renorm_momentum=0.99, eps=1e-3, rmax=3.0, dmax=5.0):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))
        for name, value in [("moving_mean", 0.0), ("moving_stddev", 1.0), ("renorm_mean", 0.0), ("renorm_stddev", 1.0)]:
            self.register_buffer(name, torch.full((channels,), value))
        self.register_buffer("moving_variance", torch.ones(channels))
        self.momentum, self.renorm_momentum, self.eps = momentum, renorm_momentum, eps
        self.rmax, self.rmin, self.dmax = rmax, 1.0 / rmax, dmax

    def forward(self, x):  # NCHW
        dims = (0, 2, 3)
        mean = x.mean(dims)
        var = x.var(dims, unbiased=False)
        std = torch.sqrt(var + self.eps)
        with torch.no_grad():
            rs = torch.clamp(self.renorm_stddev, min=self.eps ** 0.5)
            r = torch.clamp(std / rs, self.rmin, self.rmax)
            d = torch.clamp((mean - self.renorm_mean) / rs, -self.dmax, self.dmax)
            m, rm = 1 - self.momentum, 1 - self.renorm_momentum
            self.renorm_mean.add_((mean - self.renorm_mean) * rm)
            self.renorm_stddev.add_((std - self.renorm_stddev) * rm)
            self.moving_mean.add_((mean - self.moving_mean) * m)
            self.moving_stddev.add_((std - self.moving_stddev) * m)
            self.moving_variance.copy_(torch.relu(self.moving_stddev ** 2 - self.eps))
        shape = (1, -1, 1, 1)
        xhat = (x - mean.view(shape)) / std.view(shape)
        return (xhat * r.view(shape) + d.view(shape)) * self.gamma.view(shape) + self.beta.view(shape)


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), BatchRenorm(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), BatchRenorm(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch-size", type=int, required=True)
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
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(a.batch_size, 1, 28, 28)
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
        print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
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
