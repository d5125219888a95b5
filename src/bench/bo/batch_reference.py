#!/usr/bin/env python3
"""Outside references for the issue's batch target (ask(4)'s median regret at 60 evaluations within 1.5x of
ask(1)'s), on the functions of `bench bo`: other libraries' own batch Bayesian optimization, run their way.

"library": "botorch" (the default). BoTorch's textbook loop with its defaults; only a machine with BoTorch runs it
(no Debian package holds it; the GPU machines' image does):
  - SingleTaskGP (standardized outputs, the dimension-scaled lognormal lengthscale prior of Hvarfner et al. 2024,
    a learned noise) fitted by fit_gpytorch_mll on inputs scaled to the unit cube;
  - qLogNoisyExpectedImprovement on the observed points;
  - optimize_acqf with 10 restarts from 512 raw samples; q = 4 by sequential greedy selection (sequential=True);
  - the same initial design size as ours, max(5, 2d - 2) scrambled Sobol points (seeded), at both batch sizes.
  Continuous functions only.
"library": "optuna". Optuna's GPSampler as it ships (Optuna >= 5: qLogEI over the trials still running, so a
  batch is chosen by sequential greedy selection, the method the issue names), seeded, deterministic_objective=True,
  its own 10 random start-up trials; Optuna asks `batch` trials before telling any. Continuous and mixed functions.
Functions come from optuna_tpe.py (one transcription, checked against the TypeScript one by a test); noisy ones are
refused (their regret is the recommended point's, which these loops do not make).

  batch_reference.py run '{"functions": [...], "seeds": N, "firstSeed": F, "evals": M, "batches": [1, 4],
                           "library": "botorch"|"optuna", "workers": W, "stopAfter": S, "out": "runs.jsonl",
                           "dry": false}'
One process per run (each on one CPU thread), W at a time, in seed order so every function gets the same seeds;
each finished run is appended to `out` as one JSON line {"fn", "seed", "batch", "trace", "final", "seconds",
"fallbacks", "sampler", and the library's version under its name ("botorch" or "optuna")}. No run is started that
the slowest finished run of its kind says would end after `stopAfter` seconds; those still running then are
stopped and left out. `dry` runs the BoTorch loop with Sobol points in place of BoTorch's proposals (sampler
"sobol"), so the harness can be tested without BoTorch.
`renorm-tune bench bo-reference runs.jsonl` prints the ratios with bootstrap intervals from such a file.
"""
import json
import math
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from optuna_tpe import FUNCTIONS, suggest  # noqa: E402  (the stdlib-only transcription of the bench's functions)


def design_size(d):
    return max(5, 2 * d - 2)


def checked(name, library):
    """The function's entry, or SystemExit naming what this reference refuses: unknown or noisy functions, and
    integer/categorical parameters for BoTorch's continuous loop."""
    if name not in FUNCTIONS:
        raise SystemExit(f"batch_reference.py: unknown function '{name}'; known: {', '.join(FUNCTIONS)}")
    f, space, optimum, noise_sd = FUNCTIONS[name]
    if noise_sd:
        raise SystemExit(f"batch_reference.py: '{name}' is noisy; this reference takes only noise-free functions")
    if library == "botorch" and any(spec[0] != "float" for spec in space.values()):
        raise SystemExit(f"batch_reference.py: '{name}' has integer/categorical parameters; "
                         "BoTorch's loop here takes only continuous functions (\"library\": \"optuna\" takes them)")
    return f, space, optimum


def float_box(name):
    """A continuous function and its box, for BoTorch's loop."""
    f, space, optimum = checked(name, "botorch")
    names = list(space)
    return f, names, [space[n][1] for n in names], [space[n][2] for n in names], optimum


def regret_trace(ys, optimum):
    trace, best = [], math.inf
    for y in ys:
        best = min(best, y)
        trace.append(best - optimum)
    return trace


def run_optuna(job):
    """One run of Optuna's GPSampler: `batch` trials asked (each one sees those before it as running), then told."""
    import warnings

    import optuna
    import torch

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore")
    name, seed, evals, q = job["fn"], job["seed"], job["evals"], job["batch"]
    f, space, optimum = checked(name, "optuna")
    study = optuna.create_study(direction="minimize",
                                sampler=optuna.samplers.GPSampler(seed=seed, deterministic_objective=True))
    t0 = time.perf_counter()
    ys = []
    while len(ys) < evals:
        asked = []
        for _ in range(min(q, evals - len(ys))):
            trial = study.ask()
            asked.append((trial, suggest(trial, space)))
        for trial, params in asked:
            y = f(params)
            study.tell(trial, y)
            ys.append(y)
    trace = regret_trace(ys, optimum)
    return {"fn": name, "seed": seed, "batch": q, "trace": trace, "final": trace[-1],
            "seconds": round(time.perf_counter() - t0, 2), "fallbacks": 0, "sampler": "optuna_gp", "optuna": optuna.__version__}


def run_one(job):
    """One optimization run; returns its JSON record. Imports the library here, in the worker process."""
    if job["library"] == "optuna":
        return run_optuna(job)
    return run_botorch(job)


def run_botorch(job):
    """One run of BoTorch's loop (or its dry stand-in)."""
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
    trace = regret_trace(ys, optimum)
    return {"fn": name, "seed": seed, "batch": q, "trace": trace, "final": trace[-1],
            "seconds": round(time.perf_counter() - t0, 2), "fallbacks": fallbacks,
            "sampler": "sobol" if dry else "botorch_qlognei", "botorch": version}


def run(request):
    functions = request["functions"]
    library = request.get("library", "botorch")
    if library not in ("botorch", "optuna"):
        raise SystemExit(f"batch_reference.py: unknown library {library!r}; give \"botorch\" or \"optuna\"")
    dry = bool(request.get("dry", False))
    if dry and library != "botorch":
        raise SystemExit("batch_reference.py: \"dry\" stands in for BoTorch only; drop it, or give \"library\": \"botorch\"")
    for name in functions:
        checked(name, library)
    first, seeds = int(request.get("firstSeed", 0)), int(request["seeds"])
    evals, batches = int(request.get("evals", 60)), [int(b) for b in request.get("batches", [1, 4])]
    workers = int(request.get("workers", os.cpu_count() or 1))
    stop_after = float(request.get("stopAfter", math.inf))
    out = request["out"]
    jobs = [{"fn": fn, "seed": s, "evals": evals, "batch": b, "dry": dry, "library": library}
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
        raise SystemExit("usage: batch_reference.py run [JSON request] (request on stdin when absent)")
    run(json.loads(sys.argv[2] if len(sys.argv) > 2 else sys.stdin.read()))


if __name__ == "__main__":
    main()
