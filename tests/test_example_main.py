"""The main example (``examples/main.py``, the README's ``make demo``) in its fast mode:
it gives the same covariates, model and log-likelihood twice with the same seed (issue
#8), and its report says which covariates were kept and why."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import load_example


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
