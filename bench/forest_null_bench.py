"""Benchmark: are the split tests' p-values uniform under the null?

Data from semtree's linear growth model (five occasions, k = 6 parameters) with no
covariate effect at all, n = 500 per replication, four covariates of every kind
(numeric N(0,1), binary, ordered with 4 levels, unordered with 3 levels). For each
replication the root node of a tree is tested, and the unadjusted p-value of every
covariate recorded:

* score tests (maxLM, maxLMo, LM; ``method="score"``),
* naive likelihood ratios with the maxLR correction (``use_maxlr=True``),
* plain naive likelihood ratios, p from χ²_k (semtree's default) — valid for one
  split point only, so anti-conservative for covariates with many split points.

Printed: rejection rates at 5 % and 1 % (Monte Carlo s.e. in brackets) and the
Kolmogorov–Smirnov p-value of uniformity, per test and covariate.

Run:  .venv/bin/python bench/forest_null_bench.py [--reps 1000] [--lr-reps 200]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from scipy import stats

import sem
from forests import SEMTree
from forests.designs import NULL_COVARIATES, lgcm_syntax, null_data

LGCM = lgcm_syntax()
COVARIATES = NULL_COVARIATES


def root_pvalues(model, df, **kw) -> dict:
    tree = SEMTree(model, covariates=COVARIATES, max_depth=1, alpha=1.0, **kw).fit(df)
    return {t.covariate: t.p for t in tree.tree_.root.tests}


def simulate(reps: int, n: int = 500, seed: int = 0, **kw) -> pd.DataFrame:
    model = sem.Model(LGCM, meanstructure=True)
    return pd.DataFrame([root_pvalues(model, null_data(n, seed + r), **kw)
                         for r in range(reps)])


def summarize(p: pd.DataFrame, label: str) -> list:
    rows = []
    for c in p.columns:
        x = p[c].dropna().to_numpy()
        r5, r1 = np.mean(x <= 0.05), np.mean(x <= 0.01)
        rows.append((label, c, len(x), r5, np.sqrt(0.05 * 0.95 / len(x)), r1,
                     np.sqrt(0.01 * 0.99 / len(x)), stats.kstest(x, "uniform").pvalue))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--lr-reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=500)
    a = ap.parse_args()
    print("# forests: p-values under the null")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; n = {a.n}")
    rows = []
    for label, reps, kw in [("score", a.reps, dict(method="score")),
                            ("maxLR", a.lr_reps, dict(method="naive", use_maxlr=True)),
                            ("naive LR (chi2)", a.lr_reps, dict(method="naive"))]:
        t = time.perf_counter()
        p = simulate(reps, a.n, seed=10_000, **kw)
        print(f"{label}: {reps} replications in {time.perf_counter() - t:.0f} s")
        rows += summarize(p, label)
    print(f"\n{'test':<16}{'covariate':<10}{'reps':>6}{'reject 5%':>16}{'reject 1%':>16}"
          f"{'KS p':>8}")
    for label, c, m, r5, s5, r1, s1, ks in rows:
        print(f"{label:<16}{c:<10}{m:>6}{r5:>10.3f} ({s5:.3f}){r1:>10.3f} ({s1:.3f})"
              f"{ks:>8.3f}")


if __name__ == "__main__":
    main()
