#!/usr/bin/env python3
"""Times scikit-learn's GP fit on the observations of `renorm-tune bench bo`'s ask-latency table, as a reference.

Reads one JSON request on stdin (or argv[1]) and writes one JSON line:
  {"repeats": R, "datasets": [{"X": [[...], ...] in [0,1]^d, "y": [...]}, ...]}
  -> {"sklearn": version, "numpy": version, "blas_threads": [...], "fits": [{"n", "d", "x_sum", "y_sum",
      "seconds": [R fit times], "median": s, "kernel": fitted kernel, "log_marginal_likelihood": value}]}
Only GaussianProcessRegressor.fit is timed (time.perf_counter around it): the reference is the GP fit alone,
with ConstantKernel * Matern(ARD, nu=2.5) + WhiteKernel, 5 optimizer restarts, normalize_y, random_state=0.
The caller sets OMP_NUM_THREADS/OPENBLAS_NUM_THREADS=1 so the comparison is one core against one core;
blas_threads reports what threadpoolctl sees, so a multi-threaded BLAS cannot slip in unnoticed.
x_sum and y_sum echo the data back so the caller can check it reached the fit unchanged.
"""
import json
import statistics
import sys
import time
import warnings


def blas_threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{"api": p.get("user_api"), "library": p.get("internal_api"), "threads": p.get("num_threads")} for p in threadpool_info()]


def fit_once(X, y):
    import numpy as np
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    kernel = ConstantKernel() * Matern(length_scale=np.ones(X.shape[1]), nu=2.5) + WhiteKernel()
    gpr = GaussianProcessRegressor(kernel=kernel, n_restarts_optimizer=5, normalize_y=True, random_state=0)
    t = time.perf_counter()
    gpr.fit(X, y)
    return time.perf_counter() - t, gpr


def main():
    import numpy as np
    import sklearn

    request = json.loads(sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read())
    repeats = int(request["repeats"])
    if repeats < 1:
        raise SystemExit(f"sklearn_gp.py: repeats must be at least 1, got {repeats}")
    # Bound hits on length scales are expected with few points and say nothing about speed.
    warnings.filterwarnings("ignore")
    fits = []
    for ds in request["datasets"]:
        X = np.asarray(ds["X"], dtype=np.float64)
        y = np.asarray(ds["y"], dtype=np.float64)
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise SystemExit(f"sklearn_gp.py: X must be n x d and y length n, got {X.shape} and {y.shape}")
        seconds, gpr = [], None
        for _ in range(repeats):
            s, gpr = fit_once(X, y)
            seconds.append(s)
        fits.append({
            "n": int(X.shape[0]), "d": int(X.shape[1]), "x_sum": float(X.sum()), "y_sum": float(y.sum()),
            "seconds": seconds, "median": statistics.median(seconds),
            "kernel": str(gpr.kernel_), "log_marginal_likelihood": float(gpr.log_marginal_likelihood_value_),
        })
    print(json.dumps({"sklearn": sklearn.__version__, "numpy": np.__version__, "blas_threads": blas_threads(), "fits": fits}))


if __name__ == "__main__":
    main()
