"""TADPOLE-style forecasting on a synthetic cohort: build the cohort and its challenge
splits, train every forecaster on D1, forecast the D2 subjects' 60 months, score the
forecasts against D4 exactly as the challenge did, and print the leaderboard.

    python examples/progression_forecasting.py [--fast] [--out output/progression]
                                               [--subjects 1000] [--seed 0]

``--fast`` or the environment variable ``TRAJMIX_FAST=1`` (what CI sets for every
example): 300 subjects and lighter settings (one BFGS round for the progression
model, which is then reported as not converged). Writes
``leaderboard.csv``, one ``TADPOLE_Submission_<name>.csv`` per forecaster (the
challenge's file format), ``forecasts.png`` (trajectories with 50% bands against the
truth), ``leaderboard.png`` and ``progression_curves.png`` into ``--out``.

With real data (ADNI access): ``progression.tadpole.load_tadpole_d1d2(path)`` gives
D1 (``split="D1"``) and the D2 histories (``split="D2"``); the same code then writes
submissions in the challenge's format.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pandas as pd  # noqa: E402

from progression import (GradientBoostingForecaster, GrowthMixtureForecaster,  # noqa: E402
                         LastVisitBenchmark, MixedEffectsBenchmark, MixedLMForecaster,
                         ProgressionModel, SVMBenchmark, combine_forecasts, simulate_cohort)
from progression.leaderboard import format_leaderboard, leaderboard  # noqa: E402
from progression.tadpole import write_forecast  # noqa: E402
from sem.errors import ConvergenceWarning  # noqa: E402


def forecasters(fast: bool, seed: int) -> dict:
    """Every forecaster of the package (the challenge's three benchmarks first)."""
    return {
        "BenchmarkLastVisit": LastVisitBenchmark(),
        "BenchmarkME-APOE": MixedEffectsBenchmark(apoe=True),
        "BenchmarkSVM": SVMBenchmark(seed=seed),
        "MixedLM": MixedLMForecaster(seed=seed),
        "GrowthMixture": GrowthMixtureForecaster(n_starts=2 if fast else 8, seed=seed),
        "GradientBoosting": GradientBoostingForecaster(
            max_iter=25 if fast else 200, learning_rate=0.15 if fast else 0.05, seed=seed),
        # fast: one round of BFGS (a smoke run; the fit is reported as not converged)
        "ProgressionModel": ProgressionModel(n_draws=32 if fast else 128,
                                             max_iter=200 if fast else 3000, seed=seed),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--out", default="output/progression")
    ap.add_argument("--subjects", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    fast = args.fast or os.environ.get("TRAJMIX_FAST") == "1"
    n = args.subjects or (300 if fast else 1000)
    os.makedirs(args.out, exist_ok=True)
    t_start = time.perf_counter()

    cohort = simulate_cohort(n, seed=args.seed)
    print(f"Synthetic cohort ({n} subjects, seed {args.seed}):")
    print(cohort.summary().round(3).to_string())

    tables, models = {}, {}
    print("\nfit on D1, forecast the D2 subjects' 60 months (seconds):")
    for name, model in forecasters(fast, args.seed).items():
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(cohort.d1)
        tables[name] = model.forecast(cohort.d2)
        models[name] = model
        notes = "; ".join(sorted({str(w.message) for w in caught
                                  if issubclass(w.category, ConvergenceWarning)}))
        print(f"  {name:20s}{time.perf_counter() - t0:7.1f}" + (f"  ({notes})" if notes
                                                                   else ""))
    members = dict(tables)
    tables["ConsensusMean"] = combine_forecasts(members, "mean")
    tables["ConsensusMedian"] = combine_forecasts(members, "median")

    board = leaderboard(cohort.d4, tables)
    print(f"\nLeaderboard ({cohort.d4['RID'].nunique()} subjects, {len(cohort.d4)} D4 "
          "visits; ventricle scores in % of ICV; RANK = rank of the summed mAUC, "
          "ADAS13 and ventricle ranks):")
    print(format_leaderboard(board))

    board.to_csv(os.path.join(args.out, "leaderboard.csv"))
    for name, table in tables.items():
        write_forecast(table, os.path.join(args.out, f"TADPOLE_Submission_{name}.csv"))
    _figures(cohort, tables, board, models["ProgressionModel"], args.out)
    print(f"\nwrote the leaderboard, {len(tables)} submissions and 3 figures to "
          f"{args.out} ({time.perf_counter() - t_start:.0f} s in all)")
    return board


def _figures(cohort, tables, board, model, out):
    from progression.plots import plot_forecasts, plot_leaderboard, plot_progression_curves
    from sem.plots import pyplot

    # three D4 subjects with a cognitive and a scan visit: the fastest, median and
    # slowest progressors by true pace
    d4 = cohort.d4.dropna(subset=["ADAS13", "Ventricles"])
    pace = cohort.subjects.set_index("RID").loc[pd.unique(d4["RID"]), "pace"].sort_values()
    picks = list(pace.index[[0, len(pace) // 2, -1]])
    shown = {k: tables[k] for k in ("ProgressionModel", "GradientBoosting",
                                    "BenchmarkLastVisit", "ConsensusMedian")}
    plot_forecasts(cohort.d2, shown, picks, cohort.d4).savefig(
        os.path.join(out, "forecasts.png"), dpi=110)
    plot_leaderboard(board).savefig(os.path.join(out, "leaderboard.png"), dpi=110)
    plot_progression_curves(model).savefig(os.path.join(out, "progression_curves.png"),
                                           dpi=110)
    pyplot().close("all")


if __name__ == "__main__":
    main()
