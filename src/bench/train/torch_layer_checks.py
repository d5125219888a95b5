#!/usr/bin/env python3
"""The Python client's batch renorm layer as GPU trainers run it: `npm run check:torch-layer` (on the machine with the GPU).

Checks, each a verdict with the numbers behind it, printed as one JSON object:
  - autocast: under torch.autocast (float16 and bfloat16 on CUDA, bfloat16 on a CPU) a conv + layer + conv model
    beside its float32 copy for --steps steps (8) of a moving schedule: the layer's statistics stay float32 and track
    the float32 run; outputs within the half type's rounding; gradients finite, and reaching the first convolution.
    Also which statistics path a half batch takes (BatchNorm's kernel, or var_mean when it refuses).
  - compile: torch.compile (torch >= 2) of the same model over those steps, once running dynamo's graphs as captured
    and once through inductor (the default): no graph may be built after the second step (a graph is built per
    graph break, and again on every recompile: a limit baked in as a constant recompiles at every step, and past
    dynamo's recompile limit, 8, the model runs uncompiled), and outputs, gradients and statistics match an eager run.
  torch_layer_checks.py [--device cpu|cuda] [--client DIR] [--steps N]
--client imports renorm_tune from DIR instead of this repository's client (to check an older copy).
"""
import argparse
import copy
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
STATS = ("moving_mean", "moving_var", "renorm_mean", "renorm_std")


def max_diff(a, b):
    return float((a.detach().float() - b.detach().float()).abs().max())


def model(mod, channels=8):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, channels, 3), mod.BatchRenorm2d(channels), torch.nn.Conv2d(channels, 4, 1))


def clipping(step, steps):
    """A ramp like a schedule's: plain batch norm at step 0, rmax 3 and dmax 5 at the last step."""
    t = step / max(steps - 1, 1)
    rmax = 1.0 + 2.0 * t
    return rmax, 1.0 / rmax, 5.0 * t


def set_all(mod, net, clip):
    for m in mod.renorm_modules(net):
        m.set_clipping(*clip)


def stats_path(dev, dtype):
    """Which way the layer gets a half-precision batch's statistics here: BatchNorm's kernel, or var_mean after it refused."""
    x = torch.randn(4, 3, 5, 5, device=dev).to(dtype)
    try:
        mean, _ = torch.batch_norm_update_stats(x, None, None, 0.0)
        return "kernel (%s statistics)" % str(mean.dtype).replace("torch.", "")
    except (RuntimeError, NotImplementedError, AttributeError) as err:
        return "var_mean (the kernel refused: %s)" % str(err).splitlines()[0][:120]


def check_autocast(mod, dev, dtype, steps):
    base = model(mod).to(dev).train()
    half = copy.deepcopy(base)
    worst = {"output": 0.0, "stats": 0.0}
    finite, half_input, stat_dtypes = True, None, set()
    for step in range(steps):
        torch.manual_seed(100 + step)
        x = (torch.randn(8, 3, 12, 12) * 2 + 1).to(dev)
        for net in (base, half):
            set_all(mod, net, clipping(step, steps))
        y32 = base(x)
        y32.float().pow(2).mean().backward()
        with torch.autocast(dev.type, dtype=dtype):
            h = half[0](x)
            half_input = str(h.dtype)
            y = half[2](half[1](h))
        y.float().pow(2).mean().backward()
        scale = float(y32.detach().abs().max()) or 1.0
        worst["output"] = max(worst["output"], max_diff(y, y32) / scale)
        finite = finite and all(bool(torch.isfinite(p.grad).all()) for p in half.parameters() if p.grad is not None)
    first = half[0].weight.grad  # the layer passes gradients on to what comes before it
    reached = first is not None and bool(first.abs().sum() > 0)
    for k in STATS:
        worst["stats"] = max(worst["stats"], max_diff(getattr(half[1], k), getattr(base[1], k)))
        stat_dtypes.add(str(getattr(half[1], k).dtype))
    # 8 (bfloat16) or 11 (float16) significant bits: relative output error of order 1e-2 / 1e-3 after two convolutions.
    tol = 0.05 if dtype == torch.bfloat16 else 0.01
    ok = (finite and reached and stat_dtypes == {"torch.float32"} and half_input == str(dtype)
          and worst["output"] < tol and worst["stats"] < 5e-3)
    return {"check": "autocast", "dtype": str(dtype).replace("torch.", ""), "ok": ok, "layerInput": half_input,
            "statisticsDtypes": sorted(stat_dtypes), "statisticsPath": stats_path(dev, dtype),
            "maxRelativeOutputDiff": worst["output"], "maxStatisticsDiff": worst["stats"], "gradientsFinite": finite,
            "gradientsReachInput": reached}


def check_compile(mod, dev, steps):
    if not hasattr(torch, "compile"):
        return {"check": "compile", "ok": None, "skipped": "torch %s has no torch.compile" % torch.__version__}
    import torch._dynamo as dynamo

    from torch._inductor.compile_fx import compile_fx

    graphs = []

    def counted(compiler):  # a backend that records each graph dynamo hands it (one per graph break, again per recompile)
        def backend(gm, example_inputs):
            graphs.append(len(gm.graph.nodes))
            return compiler(gm, example_inputs)
        return backend

    result = {"check": "compile"}
    # "eager" runs the captured graphs as they are (what dynamo does), "inductor" compiles them (torch.compile's default).
    for key, compiler in (("eager", lambda gm, _: gm.forward), ("inductor", compile_fx)):
        dynamo.reset()
        graphs.clear()
        reference = model(mod).to(dev).train()
        compiled_net = copy.deepcopy(reference)
        compiled = torch.compile(compiled_net, backend=counted(compiler))
        out, grad = 0.0, 0.0
        try:
            for step in range(steps):
                torch.manual_seed(200 + step)
                x = (torch.randn(8, 3, 12, 12) * 2 + 1).to(dev)
                for net in (reference, compiled_net):
                    set_all(mod, net, clipping(step, steps))
                    net.zero_grad()
                ye, yc = reference(x), compiled(x)
                ye.pow(2).mean().backward()
                yc.pow(2).mean().backward()
                out = max(out, max_diff(yc, ye))
                if step == 1:
                    warm = len(graphs)
                grad = max(grad, max(max_diff(a.grad, b.grad) for a, b in zip(compiled_net.parameters(), reference.parameters())))
        except Exception as err:  # an inductor that cannot build here (no C compiler, say) is a finding, not a crash
            result[key] = {"error": "%s: %s" % (type(err).__name__, str(err).splitlines()[0][:200])}
            continue
        stats = max(max_diff(getattr(compiled_net[1], k), getattr(reference[1], k)) for k in STATS)
        result[key] = {"graphs": len(graphs), "graphsAfterStep2": len(graphs) - warm, "maxOutputDiff": out, "maxGradientDiff": grad, "maxStatisticsDiff": stats}
    # The clipping moved on every step: a graph built after the first two steps is a recompile for a new limit (and
    # past dynamo's recompile limit, 8, the model runs uncompiled).
    result["steps"] = steps
    ran = [result[k] for k in ("eager", "inductor") if "error" not in result[k]]
    result["ok"] = bool(ran) and all(r["graphsAfterStep2"] == 0 and r["maxOutputDiff"] < 1e-3 and r["maxStatisticsDiff"] < 1e-4 for r in ran)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--client", default=os.path.join(HERE, "..", "..", "clients", "python"))
    ap.add_argument("--steps", type=int, default=8)
    a = ap.parse_args()
    sys.path.insert(0, os.path.abspath(a.client))
    import renorm_tune as mod

    dev = torch.device(a.device)
    dtypes = [torch.float16, torch.bfloat16] if dev.type == "cuda" else [torch.bfloat16]
    checks = [check_autocast(mod, dev, dt, a.steps) for dt in dtypes] + [check_compile(mod, dev, a.steps)]
    print(json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
                      "client": os.path.abspath(mod.__file__), "checks": checks}, indent=1))
    return 0 if all(c["ok"] is not False for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
