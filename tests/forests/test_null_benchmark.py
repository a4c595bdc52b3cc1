"""Uniformity of the score tests' p-values under the null (a slow study: run with
``-m benchmark``; the full version is bench/forest_null_bench.py)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.benchmark
def test_score_pvalues_are_uniform_under_the_null():
    spec = importlib.util.spec_from_file_location("forest_null_bench",
                                                  ROOT / "bench" / "forest_null_bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    p = bench.simulate(300, n=500, seed=777, method="score")
    for c in p.columns:
        x = p[c].to_numpy()
        assert stats.kstest(x, "uniform").pvalue > 0.001, c
        assert abs(np.mean(x <= 0.05) - 0.05) < 4 * np.sqrt(0.05 * 0.95 / len(x)), c
