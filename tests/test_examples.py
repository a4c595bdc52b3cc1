"""Every example runs in its fast mode (in this process, so compiled functions are
shared with the other tests). The main example: tests/test_example_main.py (a file of
its own, so that ``make test`` runs it beside these on another worker); compositional,
cyclic SEM, SEM forest and progression examples: tests/sem, tests/forests,
tests/progression."""
from __future__ import annotations

import pytest

from tests.conftest import load_example


def test_sem_lavaan_example(tmp_path, capsys):
    fit = load_example("sem_lavaan").main(["--fast", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert fit.llf == pytest.approx(-3737.745, abs=1e-3)   # lavaan: logLik -3737.745
    assert "100 bootstrap refits" in out and "FIML" in out
    assert "chisq 4.735, df 4" in out and "scalar" in out
    assert (tmp_path / "hs_estimates.csv").exists()


def test_growth_mixture_example(tmp_path, capsys):
    table = load_example("growth_mixture").main(["--fast", "--out", str(tmp_path)])
    assert list(table["model"]) == ["finite mixture", "gating", "expert", "full MoE"]
    assert table["converged"].all()
    # nested models: adding covariates never lowers the log-likelihood
    llf = table.set_index("model")["logL"]
    assert llf["gating"] >= llf["finite mixture"] - 1e-6
    assert llf["full MoE"] >= llf["expert"] - 1e-6
    for f in ("enumeration.csv", "variants.csv", "full_moe_estimates.csv",
              "trajectories.png", "posterior.png", "nonlinear.png", "enumeration.png"):
        assert (tmp_path / f).exists(), f


def test_simulation_study_example(tmp_path, capsys):
    tab = load_example("simulation_study").main(["--fast", "--out", str(tmp_path)])
    assert {"param", "rel_bias", "coverage", "rmse"} <= set(tab.columns)
    assert (tmp_path / "table.csv").exists() and (tmp_path / "coverage_bias.png").exists()
    assert tab["conv_rate"].min() > 0.5
