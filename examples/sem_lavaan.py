"""SEM with lavaan syntax: the Holzinger-Swineford CFA and Bollen's political democracy
model, with lavaan's estimates, fit measures, standardized solution, FIML on data with
missing values, measurement invariance across the two schools (configural, metric,
scalar, and their likelihood-ratio tests), a model fitted from a published covariance
matrix (Wheaton et al. 1977, lavaan's tutorial), and a bootstrap of 1000 draws in one
compiled call.

    python examples/sem_lavaan.py [--fast] [--out output/sem]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sem import Model, get_cov, lrt  # noqa: E402
from sem.datasets import load  # noqa: E402

HS = """
    visual  =~ x1 + x2 + x3
    textual =~ x4 + x5 + x6
    speed   =~ x7 + x8 + x9
"""
PD = """
    # measurement model, with equality labels across the two waves
    ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + a*y2 + b*y3 + c*y4
    dem65 =~ y5 + a*y6 + b*y7 + c*y8
    # regressions
    dem60 ~ ind60
    dem65 ~ ind60 + dem60
    # residual correlations
    y1 ~~ y5
    y2 ~~ y4 + y6
    y3 ~~ y7
    y4 ~~ y8
    y6 ~~ y8
"""
# the lower triangle as lavaan's tutorial prints it (getCov)
WHEATON_COV = """
 11.834
  6.947   9.364
  6.819   5.091  12.532
  4.783   5.028   7.495   9.986
 -3.839  -3.889  -3.841  -3.625  9.610
-21.899 -18.831 -21.748 -18.775 35.522 450.288"""
WHEATON = """
    ses     =~ education + sei
    alien67 =~ anomia67 + powerless67
    alien71 =~ anomia71 + powerless71
    alien71 ~ alien67 + ses
    alien67 ~ ses
    anomia67 ~~ anomia71
    powerless67 ~~ powerless71
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fast", action="store_true", help="fewer bootstrap draws")
    ap.add_argument("--out", default="output/sem")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    hs = load("HolzingerSwineford1939")
    fit = Model(HS).fit(hs)
    fit.summary(standardized=True)
    fit.estimates.to_csv(os.path.join(args.out, "hs_estimates.csv"), index=False)

    print("\n--- Political democracy (Bollen 1989; lavaan tutorial) ---")
    pd_fit = Model(PD).fit(load("PoliticalDemocracy"))
    fm = pd_fit.fit_measures
    print(f"chisq {fm['chisq']:.3f}, df {fm['df']:.0f}, CFI {fm['cfi']:.3f}, "
          f"RMSEA {fm['rmsea']:.3f}, SRMR {fm['srmr']:.3f}")
    print(pd_fit.standardized_solution().query("op == '~'").round(3).to_string(index=False))

    print("\n--- FIML: the CFA with 11% of the values missing ---")
    fiml = Model(HS).fit(load("HolzingerSwineford1939_missing"), missing="ml")
    print(f"logL {fiml.llf:.3f}, CFI {fiml.fit_measures['cfi']:.3f}")

    print("\n--- Measurement invariance across the two schools (lavaan: group.equal) ---")
    fits = {kind: Model(HS).fit(hs, group="school", group_equal=equal)
            for kind, equal in [("configural", ()), ("metric", ("loadings",)),
                                ("scalar", ("loadings", "intercepts"))]}
    print(lrt(**fits).round(3).to_string())

    print("\n--- From a covariance matrix: Wheaton et al. (1977), N = 932 ---")
    cov = get_cov(WHEATON_COV, ["anomia67", "powerless67", "anomia71", "powerless71",
                                "education", "sei"])
    wheaton = Model(WHEATON).fit(sample_cov=cov, sample_nobs=932)
    fm = wheaton.fit_measures
    print(f"chisq {fm['chisq']:.3f}, df {fm['df']:.0f}, CFI {fm['cfi']:.3f}, "
          f"RMSEA {fm['rmsea']:.3f} (lavaan: 4.735, 4, 1.000, 0.014)")
    print(wheaton.estimates.query("op == '~'")[["lhs", "op", "rhs", "est", "se"]]
          .round(3).to_string(index=False))

    n_boot = 100 if args.fast else 1000
    t0 = time.perf_counter()
    boot = Model(HS).bootstrap(hs, n_boot, seed=1)
    secs = time.perf_counter() - t0
    se = boot.drop(columns="converged").std()
    print(f"\n--- {n_boot} bootstrap refits in one call: {secs:.1f} s "
          f"({boot['converged'].mean():.0%} converged) ---")
    print(f"{'parameter':<14}{'normal SE':>10}{'bootstrap SE':>14}")
    for k in ["visual=~x2", "visual=~x3", "textual=~x5", "speed=~x9"]:
        print(f"{k:<14}{fit.bse[k]:10.3f}{se[k]:14.3f}")
    return fit


if __name__ == "__main__":
    main()
