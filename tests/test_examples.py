"""Every example runs in its fast mode (in this process, so compiled functions are
shared with the other tests); the main example gives the same covariates, model and
log-likelihood twice with the same seed, and its report says which covariates were kept
and why. (compositional, cyclic SEM, SEM forest and progression examples: tests/sem,
tests/forests, tests/progression.)"""
from __future__ import annotations

import numpy as np
import pandas as pd
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


def test_main_example_is_stable_and_reports_why(tmp_path, capsys):
    main = load_example("main").main
    first = main(["--fast", "--out", str(tmp_path / "a")])
    second = main(["--fast", "--out", str(tmp_path / "b")])
    assert first["kept"] == second["kept"] and first["K"] == second["K"]
    assert first["chosen"] == second["chosen"]
    assert first["llf"] == pytest.approx(second["llf"], abs=1e-8)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a" / "screening.csv"),
                                  pd.read_csv(tmp_path / "b" / "screening.csv"))
    table = first["table"]
    assert list(table["model"]) == ["finite mixture", "gating", "expert", "full MoE"]
    assert table.loc[table["BIC"].idxmin(), "model"] == first["chosen"]
    report = (tmp_path / "a" / "report.md").read_text()
    assert "Covariates kept" in report and "Chosen model" in report
    for name in first["kept"]:
        assert name in report
    screening = pd.read_csv(tmp_path / "a" / "screening.csv")
    kept = screening[screening["why"].str.startswith("kept")]["covariate"].tolist()
    assert sorted(kept) == sorted(first["kept"])
    for f in ("importance.png", "trajectories.png", "posterior.png", "enumeration.png",
              "variants.csv", "estimates.csv"):
        assert (tmp_path / "a" / f).exists(), f
    assert np.isfinite(first["llf"])
