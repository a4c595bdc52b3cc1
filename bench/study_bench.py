"""Simulation-study throughput for the two-class bilinear-spline full mixture of
experts at n = 500 (Liu & Perera's population): R replications generated and fitted
(3 population starts + 1 k-means start each, SEs included) in one batched call, beside
fitting replications one at a time through the same library (the batching ratio).

    python bench/study_bench.py [--reps 100] [--single 10] [--chunk N]
    python bench/study_bench.py --coverage 1500 --chunk 100  # coverage/bias (slow)

Goals: 100 replications in under 60 s on a 2-core CPU; 1000 in under 60 s on one
H100/H200 (``--reps 1000``). ``--coverage R`` prints relative bias and coverage of the
95 % intervals of the main parameters over R replications; the paper's model should
show coverage within 93–97 % and relative bias under 5 % (10 % for variances).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from sem.jaxconfig import jax  # noqa: E402
from trajmix.study import SimulationStudy, paper_population, run_condition  # noqa: E402

MAIN = ("c1.knot", "c2.knot", "c1.theta", "c2.theta", "c1.mean_orig.eta0",
        "c1.mean_orig.eta1", "c1.mean_orig.eta2", "c2.mean_orig.eta2", "c1.psi_orig.eta0~~eta0",
        "gate.c2.gx1", "gate.c2.gx2", "c1.beta_orig.eta0~ex1", "c2.beta_orig.eta0~ex2")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--single", type=int, default=10,
                    help="replications fitted one at a time (scaled to --reps)")
    ap.add_argument("--chunk", type=int, default=None)
    ap.add_argument("--coverage", type=int, default=0)
    ap.add_argument("--se", default="standard", choices=("standard", "robust"),
                    help="standard errors scored by --coverage")
    ap.add_argument("--seed", type=int, default=7, help="seed of the --coverage study")
    ap.add_argument("--n-boot", type=int, default=0,
                    help="score bootstrap percentile intervals of this many draws per "
                         "replication instead of Wald intervals (--coverage)")
    args = ap.parse_args(argv)
    cond = dict(n=500)
    dev = jax.devices()[0]
    print(f"device: {dev.platform} ({dev.device_kind}), {len(jax.devices())} device(s)")

    if args.coverage:
        t0 = time.perf_counter()
        res = SimulationStudy([cond], n_rep=args.coverage, seed=args.seed, n_starts=3,
                              chunk=args.chunk, se=args.se, n_boot=args.n_boot,
                              progress=True).run()
        secs = time.perf_counter() - t0
        tab = res[res["param"].isin(MAIN)]
        what = (f"percentile intervals of {args.n_boot} bootstrap draws" if args.n_boot
                else f"Wald intervals, {args.se} SEs")
        print(f"\n{args.coverage} replications in {secs:.1f} s ({what}); convergence "
              f"{tab['conv_rate'].iloc[0]:.1%}; ARI {tab['ari'].iloc[0]:.3f}")
        # Monte Carlo SE of a coverage rate: sqrt(c (1 - c) / R), about 1 point at
        # R = 500 and 0.56 at R = 1500; emp_se / mean_se > 1 means the SEs run small
        tab = tab.assign(mc_se=np.sqrt(tab["coverage"] * (1 - tab["coverage"])
                                       / tab["n_used"]),
                         se_ratio=tab["emp_se"] / tab["mean_se"])
        print(tab[["param", "true", "rel_bias", "emp_se", "mean_se", "se_ratio",
                   "coverage", "mc_se"]].round(4).to_string(index=False))
        ok_cov = tab["coverage"].between(0.93, 0.97)
        print(f"coverage within 93-97%: {ok_cov.sum()} of {len(tab)}; "
              f"max |relative bias| {tab['rel_bias'].abs().max():.3f}")
        return

    # replications run in chunks of one shape: the first call compiles, the timed call
    # reuses it (a different number of data sets would be a new shape, a new compile)
    chunk = args.chunk or min(args.reps, 25 if dev.platform == "cpu" else 250)
    t0 = time.perf_counter()
    run_condition(paper_population, cond, chunk, 1, chunk=chunk)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    reps = run_condition(paper_population, cond, args.reps, 11, chunk=chunk)
    batched = time.perf_counter() - t0

    # the same library, one replication at a time (same starts, same work per fit)
    from trajmix.simulate import simulate

    model, theta, sim = paper_population(cond)
    y, t = [f"Y{j}" for j in range(1, 11)], [f"T{j}" for j in range(1, 11)]
    rng = np.random.default_rng(0)
    sets = [simulate(model, theta, 500, seed=1000 + s, **sim) for s in range(args.single)]
    def one(df):
        gd = model.prepare(df, y=y, t=t)
        st = np.vstack([theta * rng.uniform(0.9, 1.1, theta.shape) for _ in range(3)]
                       + [model.starts(gd, 1, 0)])
        r = model.fit(df, y=y, t=t, start=st, warn=False)
        return r.bse
    one(sets[0])                                                             # compile
    t0 = time.perf_counter()
    for df in sets:
        one(df)
    single = (time.perf_counter() - t0) / args.single

    conv = reps.groupby("rep")["converged"].first().mean()
    print("\nfull MoE, n = 500, J = 10, K = 2, 47 parameters, 4 starts per replication")
    print(f"{'':52}{'seconds':>10}{'per rep':>10}")
    print(f"{f'first {chunk} replications (compiles)':52}{first:10.2f}"
          f"{first / chunk:10.3f}")
    print(f"{f'{args.reps} replications, batched in chunks of {chunk}':52}{batched:10.2f}"
          f"{batched / args.reps:10.3f}")
    print(f"{f'one at a time (mean of {args.single}), x {args.reps}':52}"
          f"{single * args.reps:10.2f}{single:10.3f}")
    print(f"batching ratio: {single * args.reps / batched:.1f}x; converged {conv:.0%}")


if __name__ == "__main__":
    main()
