"""Fit time of the disease progression model (JAX) beside statsmodels' linear mixed
model on the same synthetic cohorts, in one run.

For each cohort size (subjects; about six visits each, nine biomarkers):

* ``ProgressionModel().fit(d1)`` — latent disease time with subject-specific stage and
  pace, nine sigmoid biomarker curves and the ordinal diagnosis model, all fitted jointly
  (71 parameters, Laplace-approximate marginal likelihood, BFGS in rounds; above 900
  subjects a 600-subject subsample is fitted first and starts the full fit). "cold"
  includes compiling (once per data shape), "warm" is a second fit of the same data;
* ``MixedLMForecaster().fit(d1)`` — statsmodels ``MixedLM`` by REML with random
  intercepts and slopes, once for ADAS13 and once for Ventricles_ICV (two targets, six
  fixed effects each), plus the diagnosis rule; no compilation, so one fit is timed.

The comparison is between two forecasters of the same data, not two solvers of the same
likelihood: the progression model fits nine biomarkers and the diagnosis jointly with a
nonlinear latent time, the mixed model two linear targets separately.

    python bench/progression_bench.py [--sizes 1000 10000] [--quick] [--seed 0]

``--quick`` runs 300 and 1000 subjects. Prints a table; ratios are what to compare
across machines.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

os.environ.setdefault("TRAJMIX_COMPILE_CACHE", "off")   # "cold" must compile
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from progression import MixedLMForecaster, ProgressionModel, simulate_cohort  # noqa: E402
from sem.jaxconfig import jax  # noqa: E402


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run_size(n: int, seed: int) -> dict:
    cohort = simulate_cohort(n, seed=seed)
    d1 = cohort.d1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cold, m = timed(lambda: ProgressionModel(seed=seed).fit(d1))
        warm, m2 = timed(lambda: ProgressionModel(seed=seed).fit(d1))
        t_lm, lm = timed(lambda: MixedLMForecaster().fit(d1))
    return dict(n=n, visits=len(d1), cold=cold, warm=warm, mixedlm=t_lm,
                converged=m2.converged_, iters=m2.fit_result_.n_iter,
                lm_converged=all(lm.converged_.values()), llf=m2.llf_,
                llf_cold=m.llf_)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--quick", action="store_true", help="300 and 1000 subjects")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    sizes = [300, 1000] if args.quick else args.sizes
    rows = []
    for n in sizes:
        rows.append(run_size(n, args.seed))
        r = rows[-1]
        print(f"n = {n}: progression model cold {r['cold']:.1f} s, warm {r['warm']:.1f} s; "
              f"MixedLM {r['mixedlm']:.1f} s", flush=True)
    print(f"\nProgression model vs statsmodels MixedLM; device: {jax.devices()[0].platform}, "
          f"{os.cpu_count()} cores")
    head = (f"{'subjects':>9}{'visits':>8}{'DPM cold s':>12}{'DPM warm s':>12}"
            f"{'MixedLM s':>11}{'MixedLM/warm':>14}{'MixedLM/cold':>14}{'BFGS it':>9}"
            f"{'converged':>11}")
    print(head)
    for r in rows:
        print(f"{r['n']:>9}{r['visits']:>8}{r['cold']:>12.1f}{r['warm']:>12.1f}"
              f"{r['mixedlm']:>11.1f}{r['mixedlm'] / r['warm']:>14.2f}"
              f"{r['mixedlm'] / r['cold']:>14.2f}{r['iters']:>9}"
              f"{str(r['converged']) + '/' + str(r['lm_converged']):>11}")
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        size = b["n"] / a["n"]
        print(f"\ngrowth from {a['n']} to {b['n']} subjects ({size:.0f}x): progression model "
              f"warm {b['warm'] / a['warm']:.1f}x, cold {b['cold'] / a['cold']:.1f}x; "
              f"MixedLM {b['mixedlm'] / a['mixedlm']:.1f}x")
    for r in rows:
        if abs(r["llf"] - r["llf_cold"]) > 1e-6 * abs(r["llf"]):
            print(f"note: n = {r['n']}: cold and warm fits reached different "
                  f"log-likelihoods ({r['llf_cold']:.3f}, {r['llf']:.3f})")
    return rows


if __name__ == "__main__":
    main()
