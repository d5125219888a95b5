#!/usr/bin/env python3
"""Optuna TPE on the same test functions as src/optimizer/test_functions.ts, for `renorm-tune bench bo`.

Two modes, both reading a JSON request from argv[2] (or stdin when absent) and writing one JSON line:
  run   {"functions": [...], "seeds": N, "evals": M}
        -> {"optuna": version, "runs": [{"fn", "sampler", "seed", "best": best value found, "regret": best - optimum,
                                         "trace": [best-so-far regret after each evaluation]}]}
        for samplers "tpe_multivariate" (TPESampler(multivariate=True, seed=s)) and "tpe" (TPESampler(seed=s)).
  eval  {"points": [{"fn": name, "x": [...]}, ...]}
        -> {"values": [...]}: the Python function values, so a test can check they agree with TypeScript
        without needing optuna (this mode imports only the standard library).
The functions are re-written here from the published definitions rather than generated from the TS file,
so the agreement test compares two independent transcriptions.
"""
import json
import math
import sys

# Hartmann constants (Dixon & Szego 1978).
H_ALPHA = [1.0, 1.2, 3.0, 3.2]
H3_A = [[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]]
H3_P = [[0.3689, 0.1170, 0.2673], [0.4699, 0.4387, 0.7470], [0.1091, 0.8732, 0.5547], [0.0381, 0.5743, 0.8828]]
H6_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
H6_P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]


def branin(x):
    a, b, c = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x[1] - b * x[0] ** 2 + c * x[0] - r) ** 2 + s * (1 - t) * math.cos(x[0]) + s


def hartmann(x, A, P):
    return -sum(
        H_ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(len(x))))
        for i in range(4)
    )


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def ackley(x):
    n = len(x)
    s1 = sum(v * v for v in x) / n
    s2 = sum(math.cos(2 * math.pi * v) for v in x) / n
    return -20 * math.exp(-0.2 * math.sqrt(s1)) - math.exp(s2) + 20 + math.e


# name -> (function, per-dimension bounds, known minimum)
FUNCTIONS = {
    "branin": (branin, [(-5.0, 10.0), (0.0, 15.0)], 0.397887357729738),
    "hartmann3": (lambda x: hartmann(x, H3_A, H3_P), [(0.0, 1.0)] * 3, -3.86278214782076),
    "hartmann6": (lambda x: hartmann(x, H6_A, H6_P), [(0.0, 1.0)] * 6, -3.32236801141551),
    "rosenbrock4": (rosenbrock, [(-2.0, 2.0)] * 4, 0.0),
    "ackley5": (ackley, [(-5.0, 10.0)] * 5, 0.0),
}

SAMPLERS = {"tpe_multivariate": True, "tpe": False}


def lookup(name):
    if name not in FUNCTIONS:
        raise SystemExit(f"optuna_tpe.py: unknown function '{name}'; known: {', '.join(FUNCTIONS)}")
    return FUNCTIONS[name]


def run_one(name, multivariate, seed, evals):
    import optuna

    f, bounds, optimum = lookup(name)

    def objective(trial):
        return f([trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)])

    sampler = optuna.samplers.TPESampler(multivariate=multivariate, seed=seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.optimize(objective, n_trials=evals)
    trace, best = [], math.inf
    for t in study.trials:
        best = min(best, t.value)
        trace.append(best - optimum)
    return study.best_value, trace


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "eval"):
        raise SystemExit("usage: optuna_tpe.py run|eval [JSON request] (request on stdin when absent)")
    request = json.loads(sys.argv[2] if len(sys.argv) > 2 else sys.stdin.read())
    if sys.argv[1] == "eval":
        values = [lookup(p["fn"])[0]([float(v) for v in p["x"]]) for p in request["points"]]
        print(json.dumps({"values": values}))
        return
    import warnings

    import optuna

    # multivariate=True emits an ExperimentalWarning; logging at INFO prints a line per trial.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    runs = []
    for name in request["functions"]:
        for sampler, multivariate in SAMPLERS.items():
            for seed in range(int(request["seeds"])):
                best, trace = run_one(name, multivariate, seed, int(request["evals"]))
                runs.append({"fn": name, "sampler": sampler, "seed": seed, "best": best, "regret": trace[-1], "trace": trace})
    print(json.dumps({"optuna": optuna.__version__, "runs": runs}))


if __name__ == "__main__":
    main()
