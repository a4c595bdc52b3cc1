"""Benchmark of forests (one run prints one table):

A forest of SEM trees over 10 covariates (4 with effects, 6 noise; binary, numeric,
ordered, unordered) of a linear growth model, n = 1000, five occasions (k = 6
parameters), semtree's forest settings (subsamples of 632 cases, mtry = 2, alpha = 1,
min_N = 30, min_bucket = 15), permutation importance included:

* score   — score-based tests, all nodes of a level of all trees in batched calls;
* naive   — naive likelihood ratios with the maxLR correction, all candidate children
            of a level in batched calls (semtree's forest default);
* one-at-a-time — the same trees with every candidate split (naive) or every node
            (score) refitted by its own ``sem.estimation.maximize`` call, as a
            non-batched implementation does.

Times per tree are medians of the trees grown; the one-at-a-time rows regrow the first
trees of the batched forests with the same seeds and check that the trees are equal.
Compilation is timed separately (warm-up forests of each method, batched and not).

Run:  .venv/bin/python bench/forest_bench.py [--trees 100] [--naive-trees 5]
      [--sequential-trees 1] [--quick]
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import sem
from forests import SEMForest
from forests.designs import SCREENING_COVARIATES, lgcm_syntax, screening_data

LGCM = lgcm_syntax()
COVARIATES = SCREENING_COVARIATES
design = screening_data


def forest(model, method, n_trees, seed=0):
    return SEMForest(model, covariates=COVARIATES, n_trees=n_trees, mtry=2, method=method,
                     seed=seed, progress=False, trees_per_task=10)


def timed(f, df, **kw):
    t = time.perf_counter()
    f.fit(df, **kw)
    return time.perf_counter() - t


def same_trees(a, b) -> bool:
    return all([nd.rule for nd in x.nodes] == [nd.rule for nd in y.nodes]
               for x, y in zip(a.trees_, b.trees_))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--naive-trees", type=int, default=5)
    ap.add_argument("--sequential-trees", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="20 score trees, 2 naive")
    a = ap.parse_args()
    if a.quick:
        a.trees, a.naive_trees = 20, 2
    print("# forests benchmark")
    print(f"machine: {platform.machine()} {platform.processor() or ''}, "
          f"{os.cpu_count()} CPUs (affinity {len(os.sched_getaffinity(0))}), "
          f"load average {os.getloadavg()[0]:.1f}; jax {sem.jaxconfig.jax.__version__} "
          f"on {sem.jaxconfig.jax.default_backend()}")
    df = design()
    model = sem.Model(LGCM, meanstructure=True)

    t0 = time.perf_counter()
    for method in ("score", "naive"):
        forest(model, method, 2, seed=99).fit(df)
        forest(model, method, 1, seed=99).set_params(max_depth=1).fit(df, sequential=True)
    compile_s = time.perf_counter() - t0

    rows = []
    score = forest(model, "score", a.trees)
    t_score = timed(score, df)
    nodes = sum(len(t.nodes) for t in score.trees_)
    rows.append(("score, batched", a.trees, t_score, t_score / a.trees,
                 f"{nodes / a.trees:.0f} nodes/tree, {score.n_fits_ / a.trees:.0f} fits/tree"))

    naive = forest(model, "naive", a.naive_trees)
    t_naive = timed(naive, df)
    rows.append(("naive (maxLR), batched", a.naive_trees, t_naive, t_naive / a.naive_trees,
                 f"{naive.n_fits_ / a.naive_trees:.0f} fits/tree"))

    m = a.sequential_trees
    seq_score = forest(model, "score", m)
    t_seq_s = timed(seq_score, df, sequential=True)
    ok_s = same_trees(seq_score, score)
    rows.append(("score, one fit at a time", m, t_seq_s, t_seq_s / m,
                 f"same trees as batched: {ok_s}"))
    seq_naive = forest(model, "naive", m)
    t_seq_n = timed(seq_naive, df, sequential=True)
    ok_n = same_trees(seq_naive, naive)
    rows.append(("naive, one fit at a time", m, t_seq_n, t_seq_n / m,
                 f"same trees as batched: {ok_n}"))

    base = t_score / a.trees
    print(f"\ncompilation (warm-up forests, both methods): {compile_s:.1f} s")
    print(f"\n{'method':<28}{'trees':>6}{'total':>10}{'per tree':>11}{'× score':>9}  notes")
    for name, n, tot, per, note in rows:
        print(f"{name:<28}{n:>6}{tot:>9.1f}s{per:>10.3f}s{per / base:>8.1f}×  {note}")
    print(f"\nbatched naive vs one-at-a-time naive: {t_seq_n / m / (t_naive / a.naive_trees):.1f}×"
          f" faster; batched score vs one-at-a-time score: "
          f"{t_seq_s / m / base:.1f}× faster")
    print(f"score forest of {a.trees} trees with importance: {t_score:.1f} s "
          f"(goal on 2 cores: < 60 s for 100 trees)")
    vi = score.variable_importance_.sort_values(ascending=False)
    print("\nimportance (score forest):", ", ".join(f"{k} {v:.0f}" for k, v in vi.items()))


if __name__ == "__main__":
    main()
