"""Screening covariates of a growth model with a SEM forest (the first step of Liu &
Perera's mixture-of-experts workflow) on the ECLS-K:2011 sample shipped with trajmix.

The node model is a linear growth model of mathematics scores M1..M9 with loadings at
the waves' mean ages (years since the first wave). A forest of score-based SEM trees
ranks 13 child and family covariates by permutation importance; Boruta's shadow test
decides which are relevant. ``select_covariates`` returns them: the covariates that a
mixture model's gating or expert networks would then use.

Run:  .venv/bin/python examples/sem_forest.py [--fast] [--out output/forests]
(a few minutes on 2 cores, most of it Boruta's 20 forests; --fast: seconds, a smoke
run whose Boruta decisions stay tentative)
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import sem
from forests import SEMForest, SEMTree
from forests import plots

CATEGORICAL = ["SEX", "RACE", "LOCALE", "SCHOOL_TYPE"]
ORDERED = ["INCOME", "EDU"]
RATINGS = ["Approach_to_Learning", "Self_control", "Interpersonal",
           "External_prob_Behavior", "Internal_prob_Behavior", "Attention_focus",
           "Inhibitory_Ctrl"]
COVARIATES = CATEGORICAL + ORDERED + RATINGS


def load_data() -> pd.DataFrame:
    from trajmix.datasets import load

    df = load("ecls_k2011")
    for c in CATEGORICAL:
        df[c] = pd.Categorical(df[c])
    for c in ORDERED:
        df[c] = pd.Categorical(df[c], categories=sorted(df[c].dropna().unique()),
                               ordered=True)
    return df


def growth_model(df: pd.DataFrame) -> sem.Model:
    """Linear growth of M1..M9; slope loadings = mean age at each wave minus the first,
    in years; intercept and slope means, (co)variances and one residual variance per
    wave free."""
    ages = df[[f"T{j}" for j in range(1, 10)]].mean().to_numpy()
    load = (ages - ages[0]) / 12.0
    lines = ["i =~ " + " + ".join(f"1*M{j}" for j in range(1, 10)),
             "s =~ " + " + ".join(f"{load[j - 1]:.3f}*M{j}" for j in range(1, 10)),
             "i ~ 1", "s ~ 1"] + [f"M{j} ~ 0*1" for j in range(1, 10)]
    return sem.Model("\n".join(lines), meanstructure=True)


def select_covariates(df: pd.DataFrame, covariates=COVARIATES, *, n_trees: int = 200,
                      max_runs: int = 20, boruta_trees: int = 30, seed: int = 0,
                      progress: bool = True):
    """The screening step: a score-based SEM forest and Boruta's test.

    Returns (selected covariates, most important first; the fitted forest; the Boruta
    result). The selected covariates are the ones Boruta confirms as more important than
    any permuted (shadow) copy of the covariates."""
    model = growth_model(df)
    forest = SEMForest(model, covariates=list(covariates), n_trees=n_trees, mtry=3,
                       method="score", seed=seed, progress=progress).fit(df)
    result = forest.boruta(max_runs=max_runs, n_trees=boruta_trees, seed=seed)
    return result.selected, forest, result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="few trees and Boruta runs")
    ap.add_argument("--out", default="output/forests", help="folder for the plots")
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    df = load_data()
    # --fast is a smoke run: Boruta needs 9 runs before it can confirm anything among
    # 13 covariates (0.5^9 < 0.05/13), so its decisions stay tentative
    n_trees, runs, b_trees = (10, 3, 5) if a.fast else (200, 20, 30)
    selected, forest, boruta = select_covariates(df, n_trees=n_trees, max_runs=runs,
                                                 boruta_trees=b_trees, progress=not a.fast)

    vi = forest.variable_importance_.sort_values(ascending=False)
    print(f"SEM forest: {n_trees} score-based trees, growth of M1..M9 (N = {len(df)})")
    print("\npermutation importance (OOB deviance increase; mean over trees):")
    for name, v in vi.items():
        print(f"  {name:<24}{v:>10.1f}" if np.isfinite(v) else
              f"  {name:<24}{'—':>10}  (used by no tree)")
    print()
    print(boruta)
    print(f"\nselected covariates: {selected}")

    model = growth_model(df)
    tree = SEMTree(model, covariates=selected or COVARIATES, method="score",
                   bonferroni=True, max_depth=2 if a.fast else 3).fit(df)
    print("\nA single SEM tree on the selected covariates:")
    print(tree.to_text())

    plt = plots.pyplot()
    ax = plots.plot_importance(forest, boruta=boruta)
    ax.figure.savefig(out / "importance.png", dpi=120, bbox_inches="tight")
    ax = plots.plot_tree(tree, params=["i~1", "s~1", "s~~s"])
    ax.figure.savefig(out / "tree.png", dpi=120, bbox_inches="tight")
    ax = plots.plot_proximity(forest.proximity())
    ax.figure.savefig(out / "proximity.png", dpi=120, bbox_inches="tight")
    top = vi.index[0]
    ax = plots.plot_partial_dependence(forest.partial_dependence(top, ["i~1", "s~1"]))
    ax.figure.savefig(out / "partial_dependence.png", dpi=120, bbox_inches="tight")
    plt.close("all")
    print(f"\nplots written to {out}/")
    return selected


if __name__ == "__main__":
    main()
