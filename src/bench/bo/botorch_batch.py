#!/usr/bin/env python3
"""BoTorch's batch Bayesian optimization on the functions of `bench bo`: an independent reference for the issue's
batch target (ask(4)'s median regret at 60 evaluations within 1.5x of ask(1)'s).

Only a machine with BoTorch runs the real thing (no Debian package holds it; the GPU machines' image does). The
runs are BoTorch's textbook loop with its defaults:
  - SingleTaskGP (standardized outputs, the dimension-scaled lognormal lengthscale prior of Hvarfner et al. 2024,
    a learned noise) fitted by fit_gpytorch_mll on inputs scaled to the unit cube;
  - qLogNoisyExpectedImprovement on the observed points;
  - optimize_acqf with 10 restarts from 512 raw samples; q = 4 by sequential greedy selection (sequential=True);
  - the same initial design size as ours, max(5, 2d - 2) scrambled Sobol points (seeded), at both batch sizes.
Functions come from optuna_tpe.py (one transcription, checked against the TypeScript one by a test).

  botorch_batch.py run '{"functions": [...], "seeds": N, "firstSeed": F, "evals": M, "batches": [1, 4],
                         "workers": W, "stopAfter": S, "out": "runs.jsonl", "dry": false}'
One process per run (each on one CPU thread), W at a time, in seed order so every function gets the same seeds;
each finished run is appended to `out` as one JSON line {"fn", "seed", "batch", "trace", "final", "seconds",
"fallbacks", "sampler", "botorch"}. No run is started that the slowest finished run of its kind says would end
after `stopAfter` seconds; those still running then are stopped and left out. `dry` runs the same loop with
Sobol points in place of BoTorch's proposals (sampler "sobol"), so the harness can be tested without BoTorch.
`bench bo --reference runs.jsonl` prints the ratios with bootstrap intervals from such a file.
"""
import json
import math
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from optuna_tpe import FUNCTIONS  # noqa: E402  (the stdlib-only transcription of the bench's functions)


def design_size(d):
    return max(5, 2 * d - 2)


def float_box(name):
    """The function and its box; the reference covers the continuous, noise-free functions only."""
    if name not in FUNCTIONS:
        raise SystemExit(f"botorch_batch.py: unknown function '{name}'; known: {', '.join(FUNCTIONS)}")
    f, space, optimum, noise_sd = FUNCTIONS[name]
    if noise_sd or any(spec[0] != "float" for spec in space.values()):
        raise SystemExit(f"botorch_batch.py: '{name}' is noisy or has integer/categorical parameters; "
                         "this reference takes only continuous noise-free functions")
    names = list(space)
    return f, names, [space[n][1] for n in names], [space[n][2] for n in names], optimum


def run_one(job):
    """One optimization run; returns its JSON record. Imports torch/BoTorch here, in the worker process."""
    import warnings

    import torch

    # BoTorch warns on every fit of unstandardized inputs and every restart that hits its iteration limit; a run
    # that fails outright is caught below and counted instead.
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    name, seed, evals, q, dry = job["fn"], job["seed"], job["evals"], job["batch"], job["dry"]
    f, names, lo, hi, optimum = float_box(name)
    d = len(names)
    torch.manual_seed(seed)
    sobol = torch.quasirandom.SobolEngine(d, scramble=True, seed=seed)

    def value(u):  # u in the unit cube
        return f({n: lo[i] + (hi[i] - lo[i]) * float(u[i]) for i, n in enumerate(names)})

    t0 = time.perf_counter()
    X = sobol.draw(design_size(d), dtype=torch.double)
    ys = [value(u) for u in X]
    fallbacks = 0
    version = "none"
    if not dry:
        import botorch
        from botorch.acquisition.logei import qLogNoisyExpectedImprovement
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.optim import optimize_acqf
        from gpytorch.mlls import ExactMarginalLogLikelihood

        version = botorch.__version__
        bounds = torch.stack([torch.zeros(d, dtype=torch.double), torch.ones(d, dtype=torch.double)])
    while len(ys) < evals:
        k = min(q, evals - len(ys))
        new = None
        if not dry:
            Y = -torch.tensor(ys, dtype=torch.double).unsqueeze(-1)  # BoTorch maximizes
            try:
                model = SingleTaskGP(X, Y)
                fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
                acq = qLogNoisyExpectedImprovement(model, X_baseline=X, prune_baseline=True)
                new, _ = optimize_acqf(acq, bounds=bounds, q=k, num_restarts=10, raw_samples=512,
                                       options={"batch_limit": 5, "maxiter": 200}, sequential=True)
                new = new.detach().reshape(k, d)
            except Exception as err:  # a failed fit or search: Sobol points this round, counted
                print(f"  {name} seed {seed} q={q} at {len(ys)}: {type(err).__name__}: {err}", file=sys.stderr)
                new = None
        if new is None:
            if not dry:
                fallbacks += 1
            new = sobol.draw(k, dtype=torch.double)
        X = torch.cat([X, new])
        ys.extend(value(u) for u in new)
    trace, best = [], math.inf
    for y in ys:
        best = min(best, y)
        trace.append(best - optimum)
    return {"fn": name, "seed": seed, "batch": q, "trace": trace, "final": trace[-1],
            "seconds": round(time.perf_counter() - t0, 2), "fallbacks": fallbacks,
            "sampler": "sobol" if dry else "botorch_qlognei", "botorch": version}


def run(request):
    functions = request["functions"]
    for name in functions:
        float_box(name)
    first, seeds = int(request.get("firstSeed", 0)), int(request["seeds"])
    evals, batches = int(request.get("evals", 60)), [int(b) for b in request.get("batches", [1, 4])]
    workers = int(request.get("workers", os.cpu_count() or 1))
    stop_after = float(request.get("stopAfter", math.inf))
    dry = bool(request.get("dry", False))
    out = request["out"]
    jobs = [{"fn": fn, "seed": s, "evals": evals, "batch": b, "dry": dry}
            for s in range(first, first + seeds) for fn in functions for b in batches]
    slowest = {}  # (fn, batch) -> the longest finished run's seconds
    t0 = time.perf_counter()
    done = 0
    import multiprocessing

    # spawn: a fresh interpreter per worker, so no torch thread pool is ever forked.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool, \
            open(out, "a", encoding="utf-8") as sink:
        running = {}
        pending = list(jobs)
        while pending or running:
            elapsed = time.perf_counter() - t0
            while pending and len(running) < workers:
                job = pending[0]
                expected = slowest.get((job["fn"], job["batch"]), 0.0)
                if elapsed + expected > stop_after:
                    break
                pending.pop(0)
                running[pool.submit(run_one, job)] = job
            if pending and not running:
                break
            left = stop_after - (time.perf_counter() - t0)
            finished, _ = wait(list(running), timeout=max(left, 0.0) if math.isfinite(left) else None,
                               return_when=FIRST_COMPLETED)
            if not finished and time.perf_counter() - t0 >= stop_after:
                break
            for fut in finished:
                job = running.pop(fut)
                record = fut.result()
                key = (job["fn"], job["batch"])
                slowest[key] = max(slowest.get(key, 0.0), record["seconds"])
                sink.write(json.dumps(record) + "\n")
                sink.flush()
                done += 1
                print(f"[{time.perf_counter() - t0:6.0f} s] {record['fn']:17} seed {record['seed']:2} q={record['batch']}"
                      f"  regret {record['final']:.3g}  {record['seconds']:.0f} s  fallbacks {record['fallbacks']}",
                      flush=True)
        left_out = len(pending) + len(running)
        if running:
            # Runs past the deadline are stopped, not awaited: the executor has no public way to end a running
            # task, so its worker processes are terminated (and the pool then shuts down without waiting).
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
    print(json.dumps({"finished": done, "left_out": left_out, "seconds": round(time.perf_counter() - t0, 1)}), flush=True)


def main():
    if len(sys.argv) < 2 or sys.argv[1] != "run":
        raise SystemExit("usage: botorch_batch.py run [JSON request] (request on stdin when absent)")
    run(json.loads(sys.argv[2] if len(sys.argv) > 2 else sys.stdin.read()))


if __name__ == "__main__":
    main()
