"""A reduced version of Liu & Perera's Monte Carlo design for the two-class
bilinear-spline full mixture of experts.

Taken from the paper's data-generating code (research notes §3.1): two classes, knots
3.5 and 5.5 (the gap a design factor), 10 occasions at j ± U(−0.25, 0.25) with the first
and last fixed, factor means (100, −5, −2.6) / (100, −5, −3.4), total factor variances
(25, 1, 1) with correlations .3, expert covariates explaining 13 % / 26 % of them,
gating logits log 1.5 and log 1.7 on two covariates correlated .3, θ = 1.
Our own choices (the paper's design table was not retrievable): the grid
n ∈ {200, 500} × knot gap ∈ {1.5, 2.0} (knots 4.0/5.5 and 3.5/5.5) × residual variance
∈ {1, 2}, R replications per condition (R = 100 here; the paper's studies use ~1000),
starts at the population values × U(0.9, 1.1) (as the authors' scripts) plus one
k-means start.

    python examples/simulation_study.py [--fast] [--out output/simulation_study]
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from trajmix.study import SimulationStudy  # noqa: E402

MAIN = ("c1.knot", "c2.knot", "c1.theta", "c2.theta", "c1.mean_orig.eta1",
        "c2.mean_orig.eta2", "gate.c2.gx1", "gate.c2.gx2")


def grid(fast: bool):
    if fast:
        return [dict(n=200, knots=(3.5, 5.5), theta=1.0)]
    return [dict(n=n, knots=k, theta=th) for n, k, th in
            itertools.product([200, 500], [(4.0, 5.5), (3.5, 5.5)], [1.0, 2.0])]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--out", default="output/simulation_study")
    args = ap.parse_args(argv)
    reps = args.reps or (8 if args.fast else 100)
    st = SimulationStudy(grid(args.fast), n_rep=reps, seed=2022, n_starts=2,
                         path=os.path.join(args.out, "runs"), progress=not args.fast)
    res = st.run()
    tab = res[res["param"].isin(MAIN)][["condition", "n", "knots", "theta", "param", "true",
                                         "rel_bias", "emp_se", "mean_se", "rmse",
                                         "coverage", "conv_rate", "ari"]]
    print(tab.round(3).to_string(index=False))
    tab.to_csv(os.path.join(args.out, "table.csv"), index=False)

    from sem.plots import pyplot
    from trajmix.plots import study

    axes = study(res, params=list(MAIN[:4]))
    axes[0].figure.tight_layout()
    axes[0].figure.savefig(os.path.join(args.out, "coverage_bias.png"), dpi=120)
    pyplot().close(axes[0].figure)
    print(f"\ntable and figure written to {args.out}/ (replications saved in runs/; "
          "a rerun resumes)")
    return tab


if __name__ == "__main__":
    main()
