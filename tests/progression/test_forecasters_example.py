"""The progression example (``examples/progression_forecasting.py``) in its fast mode.

It runs on the cohort of ``test_forecasters.py`` (400 subjects, seed 3), right after
that module: the data have the same padded shapes, so the example reuses the
programs the module compiled (16 s here instead of 45 s on a 2-core CPU)."""
from __future__ import annotations

import pandas as pd

from tests.conftest import load_example


def test_progression_example(tmp_path, capsys):
    board = load_example("progression_forecasting").main(
        ["--fast", "--out", str(tmp_path), "--subjects", "400", "--seed", "3"])
    out = capsys.readouterr().out
    assert "mAUC" in out and "Leaderboard" in out
    names = {"BenchmarkLastVisit", "BenchmarkME-APOE", "BenchmarkSVM", "ProgressionModel",
             "ConsensusMean", "ConsensusMedian"}
    assert names <= set(board.index)
    saved = pd.read_csv(tmp_path / "leaderboard.csv", index_col=0)
    assert set(saved.index) == set(board.index)
    for name in board.index:
        assert (tmp_path / f"TADPOLE_Submission_{name}.csv").exists(), name
    for fig in ("forecasts.png", "leaderboard.png", "progression_curves.png"):
        assert (tmp_path / fig).exists(), fig
