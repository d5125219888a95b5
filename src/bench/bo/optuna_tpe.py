#!/usr/bin/env python3
"""Optuna's multivariate TPE on the same test functions as src/bench/bo/test_functions.ts, for `renorm-tune bench bo`.

Two modes, both reading a JSON request from argv[2] (or stdin when absent) and writing one JSON line:
  run   {"functions": [...], "seeds": N, "firstSeed": F (default 0), "evals": M, "batch": Q,
         "asynchronous": A (default false)}
        -> {"optuna": version, "runs": [{"fn", "sampler": "tpe_multivariate", "seed", "batch", "asynchronous",
                                         "trace": [best-so-far regret of the noise-free values after each evaluation],
                                         "final": regret of the trial Optuna reports as best (by the noisy value)}]}
        TPESampler(multivariate=True, seed=s); with Q > 1 it asks Q trials before telling any, with
        constant_liar=True (Optuna's own remedy for parallel asks) so the batch is spread out. Asynchronous:
        Q trials stay in flight, the oldest told and one more asked each time (as workers free up).
  eval  {"points": [{"fn": name, "x": {param: value}}, ...]}
        -> {"values": [...]}: the noise-free Python values, so a test can check they agree with TypeScript
        without needing optuna (this mode imports only the standard library).
The functions are re-written here from the published definitions rather than generated from the TS file,
so the agreement test compares two independent transcriptions.
"""
import json
import math
import random
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


def rastrigin(x):
    return 10 * len(x) + sum(v * v - 10 * math.cos(2 * math.pi * v) for v in x)


def styblinski_tang(x, linear=5.0):
    return sum(v ** 4 - 16 * v ** 2 + linear * v for v in x) / 2


def schwefel(x):
    return 418.9828872724338 * len(x) - sum(v * math.sin(math.sqrt(abs(v))) for v in x)


def michalewicz(x, m=10):
    return -sum(math.sin(v) * math.sin((i + 1) * v * v / math.pi) ** (2 * m) for i, v in enumerate(x))


def mixed_ackley(p):
    shift, offset = {"a": (0, 0), "b": (2, 0.5), "c": (-3, 1), "d": (5, 2)}[p["c"]]
    return ackley([p[f"x{i}"] - shift for i in range(5)]) + offset


def mixed_styblinski(p):
    linear, offset = {"a": (5.0, 0), "b": (-5.0, 1), "c": (0.0, 0)}[p["c"]]
    return styblinski_tang([p[f"x{i}"] for i in range(5)], linear) + offset


# The held-out functions (src/bench/bo/held_out_functions.ts), from Surjanovic & Bingham's library.
def six_hump_camel(x):
    x1, x2 = x
    return (4 - 2.1 * x1 ** 2 + x1 ** 4 / 3) * x1 ** 2 + x1 * x2 + (-4 + 4 * x2 ** 2) * x2 ** 2


def goldstein_price(x):
    x1, x2 = x
    fact1 = 1 + (x1 + x2 + 1) ** 2 * (19 - 14 * x1 + 3 * x1 ** 2 - 14 * x2 + 6 * x1 * x2 + 3 * x2 ** 2)
    fact2 = 30 + (2 * x1 - 3 * x2) ** 2 * (18 - 32 * x1 + 12 * x1 ** 2 + 48 * x2 - 36 * x1 * x2 + 27 * x2 ** 2)
    return fact1 * fact2


def griewank(x):
    return sum(v * v for v in x) / 4000 - math.prod(math.cos(v / math.sqrt(i)) for i, v in enumerate(x, start=1)) + 1


def levy(x):
    w = [1 + (v - 1) / 4 for v in x]
    term1 = math.sin(math.pi * w[0]) ** 2
    term3 = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return term1 + sum((wi - 1) ** 2 * (1 + 10 * math.sin(math.pi * wi + 1) ** 2) for wi in w[:-1]) + term3


SHEKEL_B = [0.1, 0.2, 0.2, 0.4, 0.4, 0.6, 0.3, 0.7, 0.5, 0.5]
SHEKEL_C = [
    [4.0, 1.0, 8.0, 6.0, 3.0, 2.0, 5.0, 8.0, 6.0, 7.0],
    [4.0, 1.0, 8.0, 6.0, 7.0, 9.0, 3.0, 1.0, 2.0, 3.6],
    [4.0, 1.0, 8.0, 6.0, 3.0, 2.0, 5.0, 8.0, 6.0, 7.0],
    [4.0, 1.0, 8.0, 6.0, 7.0, 9.0, 3.0, 1.0, 2.0, 3.6],
]


def shekel(x):
    return -sum(1 / (sum((x[j] - SHEKEL_C[j][i]) ** 2 for j in range(4)) + SHEKEL_B[i]) for i in range(10))


def mixed_levy(p):
    shift, offset = {"p": (0, 1), "q": (2, 0), "r": (-4, 0.5)}[p["c"]]
    return levy([p[f"x{i}"] - shift for i in range(5)]) + offset


def powell(x):
    x1, x2, x3, x4 = x
    return (x1 + 10 * x2) ** 2 + 5 * (x3 - x4) ** 2 + (x2 - 2 * x3) ** 4 + 10 * (x1 - x4) ** 4


def floats(d, lo, hi, start=0):
    return {f"x{i}": ("float", lo, hi) for i in range(start, start + d)}


def vec(p, d):
    return [p[f"x{i}"] for i in range(d)]


ST_MIN = -39.166165703771426

# name -> (function of a params dict, space {name: ("float"|"int", lo, hi) | ("cat", [choices])}, minimum, noise sd)
FUNCTIONS = {
    "branin": (lambda p: branin(vec(p, 2)), {"x0": ("float", -5.0, 10.0), "x1": ("float", 0.0, 15.0)}, 0.397887357729738, 0),
    "hartmann3": (lambda p: hartmann(vec(p, 3), H3_A, H3_P), floats(3, 0.0, 1.0), -3.86278214782076, 0),
    "hartmann6": (lambda p: hartmann(vec(p, 6), H6_A, H6_P), floats(6, 0.0, 1.0), -3.32236801141551, 0),
    "rosenbrock4": (lambda p: rosenbrock(vec(p, 4)), floats(4, -2.0, 2.0), 0.0, 0),
    "ackley5": (lambda p: ackley(vec(p, 5)), floats(5, -5.0, 10.0), 0.0, 0),
    "rastrigin4": (lambda p: rastrigin(vec(p, 4)), floats(4, -5.12, 5.12), 0.0, 0),
    "styblinski_tang5": (lambda p: styblinski_tang(vec(p, 5)), floats(5, -5.0, 5.0), 5 * ST_MIN, 0),
    "schwefel4": (lambda p: schwefel(vec(p, 4)), floats(4, -500.0, 500.0), 0.0, 0),
    "michalewicz5": (lambda p: michalewicz(vec(p, 5)), floats(5, 0.0, math.pi), -4.687658179088145, 0),
    "mixed_ackley": (
        mixed_ackley,
        {**floats(3, -5.0, 10.0), "x3": ("int", -5, 10), "x4": ("int", -5, 10), "c": ("cat", ["a", "b", "c", "d"])},
        0.0, 0,
    ),
    "mixed_styblinski": (
        mixed_styblinski,
        {**floats(3, -5.0, 5.0), "x3": ("int", -5, 5), "x4": ("int", -5, 5), "c": ("cat", ["a", "b", "c"])},
        3 * ST_MIN - 78, 0,
    ),
    "hartmann6_12d": (lambda p: hartmann(vec(p, 6), H6_A, H6_P), floats(12, 0.0, 1.0), -3.32236801141551, 0),
    "branin_10d": (
        lambda p: branin(vec(p, 2)),
        {"x0": ("float", -5.0, 10.0), "x1": ("float", 0.0, 15.0), **floats(8, 0.0, 1.0, start=2)},
        0.397887357729738, 0,
    ),
    "hartmann6_noisy": (lambda p: hartmann(vec(p, 6), H6_A, H6_P), floats(6, 0.0, 1.0), -3.32236801141551, 0.1),
    "branin_noisy": (lambda p: branin(vec(p, 2)), {"x0": ("float", -5.0, 10.0), "x1": ("float", 0.0, 15.0)}, 0.397887357729738, 1.0),
    # held out
    "six_hump_camel": (lambda p: six_hump_camel(vec(p, 2)), {"x0": ("float", -3.0, 3.0), "x1": ("float", -2.0, 2.0)}, -1.031628453489877, 0),
    "goldstein_price": (lambda p: goldstein_price(vec(p, 2)), floats(2, -2.0, 2.0), 3.0, 0),
    "griewank5": (lambda p: griewank(vec(p, 5)), floats(5, -300.0, 600.0), 0.0, 0),
    "levy5": (lambda p: levy(vec(p, 5)), floats(5, -10.0, 10.0), 0.0, 0),
    "shekel4": (lambda p: shekel(vec(p, 4)), floats(4, 0.0, 10.0), -10.536443153483503, 0),
    "mixed_levy": (
        mixed_levy,
        {**floats(3, -10.0, 10.0), "x3": ("int", -10, 10), "x4": ("int", -10, 10), "c": ("cat", ["p", "q", "r"])},
        0.0, 0,
    ),
    "powell4_12d": (lambda p: powell(vec(p, 4)), {**floats(4, -4.0, 5.0), **floats(8, 0.0, 1.0, start=4)}, 0.0, 0),
    "six_hump_camel_noisy": (lambda p: six_hump_camel(vec(p, 2)), {"x0": ("float", -3.0, 3.0), "x1": ("float", -2.0, 2.0)}, -1.031628453489877, 0.1),
    "levy5_noisy": (lambda p: levy(vec(p, 5)), floats(5, -10.0, 10.0), 0.0, 1.0),
}


def lookup(name):
    if name not in FUNCTIONS:
        raise SystemExit(f"optuna_tpe.py: unknown function '{name}'; known: {', '.join(FUNCTIONS)}")
    return FUNCTIONS[name]


def suggest(trial, space):
    params = {}
    for name, spec in space.items():
        if spec[0] == "float":
            params[name] = trial.suggest_float(name, spec[1], spec[2])
        elif spec[0] == "int":
            params[name] = trial.suggest_int(name, spec[1], spec[2])
        else:
            params[name] = trial.suggest_categorical(name, spec[1])
    return params


def run_one(name, seed, evals, batch, asynchronous=False):
    import optuna

    f, space, optimum, noise_sd = lookup(name)
    sampler = optuna.samplers.TPESampler(multivariate=True, seed=seed, constant_liar=batch > 1)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    noise = random.Random(seed * 7919 + 17)
    trace, best_true = [], math.inf
    best_noisy, best_noisy_true = math.inf, math.inf
    in_flight, asked = [], 0
    while len(trace) < evals:
        room = min(batch - len(in_flight), evals - asked)
        if room > 0 and (not in_flight or asynchronous):
            for _ in range(room):
                t = study.ask()
                in_flight.append((t, suggest(t, space)))
            asked += room
        t, params = in_flight.pop(0)
        true = f(params)
        observed = true + (noise.gauss(0.0, noise_sd) if noise_sd else 0.0)
        study.tell(t, observed)
        best_true = min(best_true, true)
        if observed < best_noisy:
            best_noisy, best_noisy_true = observed, true
        trace.append(best_true - optimum)
    return trace, best_noisy_true - optimum


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "eval"):
        raise SystemExit("usage: optuna_tpe.py run|eval [JSON request] (request on stdin when absent)")
    request = json.loads(sys.argv[2] if len(sys.argv) > 2 else sys.stdin.read())
    if sys.argv[1] == "eval":
        print(json.dumps({"values": [lookup(p["fn"])[0](p["x"]) for p in request["points"]]}))
        return
    import warnings

    import optuna

    # multivariate=True and constant_liar emit ExperimentalWarnings; logging at INFO prints a line per trial.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    batch = int(request.get("batch", 1))
    asynchronous = bool(request.get("asynchronous", False))
    first = int(request.get("firstSeed", 0))
    runs = []
    for name in request["functions"]:
        for seed in range(first, first + int(request["seeds"])):
            trace, final = run_one(name, seed, int(request["evals"]), batch, asynchronous)
            runs.append({"fn": name, "sampler": "tpe_multivariate", "seed": seed, "batch": batch, "asynchronous": asynchronous,
                         "trace": trace, "final": final})
    print(json.dumps({"optuna": optuna.__version__, "runs": runs}))


if __name__ == "__main__":
    main()
