"""The synthetic cohort's splits, the TADPOLE file readers/writers and the leaderboard's
ranking rule."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.cohort import DEADLINE, D3_COLUMNS, D4_START, simulate_cohort
from progression.leaderboard import format_leaderboard, rank_table
from progression.longitudinal import prepare_longitudinal
from progression.schema import D4_COLUMNS, check_d4, check_forecast
from progression.tadpole import load_tadpole_d1d2, read_d4, read_forecast, write_forecast
from sem.errors import DataError



def test_cohort_splits_follow_the_challenge(small_cohort):
    c = small_cohort
    d1 = prepare_longitudinal(c.d1)
    assert d1["EXAMDATE"].max() <= pd.Timestamp(DEADLINE)
    d2_rids = set(c.d2["RID"])
    # D2 = every D1 visit of the subjects flagged D2
    assert d2_rids == set(c.d1.loc[c.d1["D2"] == 1, "RID"])
    assert len(c.d2) == int((c.d1["D2"] == 1).sum())
    # D3 = the last visit of each D2 subject, cross-sectional columns only
    assert list(c.d3.columns) == list(D3_COLUMNS)
    assert len(c.d3) == len(d2_rids) and c.d3["RID"].is_unique
    last = c.d2.groupby("RID")["EXAMDATE"].max()
    assert (c.d3.set_index("RID")["EXAMDATE"] == last.loc[c.d3["RID"]]).all()
    # D4 = follow-up visits of D2 subjects after the deadline, in D4's format
    assert list(c.d4.columns) == list(D4_COLUMNS)
    assert set(c.d4["RID"]) <= d2_rids
    d4 = check_d4(c.d4)
    assert d4["CognitiveAssessmentDate"].min() >= pd.Timestamp(D4_START)
    assert d4["Ventricles"].dropna().between(0.001, 0.2).all()        # divided by ICV
    assert set(d4["Diagnosis"].dropna().astype(int)) == {0, 1, 2}
    # the latent truth is kept for every subject
    assert len(c.subjects) == 240 and {"stage_bl", "pace", "onset_age"} <= set(c.subjects)


def test_cohort_is_reproducible_and_plausible():
    a, b = simulate_cohort(150, seed=5), simulate_cohort(150, seed=5)
    pd.testing.assert_frame_equal(a.d1, b.d1)
    pd.testing.assert_frame_equal(a.d4, b.d4)
    assert not simulate_cohort(150, seed=6).d1.equals(a.d1)
    s = simulate_cohort(1500, seed=2).summary()
    # ADNI-like mix at enrolment and conversion rates (module docstring of cohort)
    assert 0.2 < s["baseline NL"] < 0.4 and 0.4 < s["baseline MCI"] < 0.6
    assert 0.08 < s["MCI->Dementia per year"] < 0.25
    assert s["NL->MCI per year"] < 0.12
    assert 4 < s["visits per subject"] < 9
    # dementia is absorbing: no AD → MCI/CN step in the current diagnosis
    d = prepare_longitudinal(simulate_cohort(300, seed=3).d1)
    dx = d["DX"].map({"CN": 0, "MCI": 1, "AD": 2})
    prev = dx.groupby(d["RID"]).transform(lambda x: x.ffill().shift(1))
    assert not ((prev == 2) & (dx < 2)).any()
    with pytest.raises(ValueError):
        simulate_cohort(5)


def _tadpole_like(c):
    """The cohort's D1 written as TADPOLE_D1_D2.csv would hold it."""
    t = c.d1.copy()
    t["ICV_bl"] = t.groupby("RID")["ICV"].transform("first")
    t["ABETA"] = t["ABETA"].round(0).astype(object)
    t.loc[t["ABETA"].notna() & (t["ABETA"].astype(float) > 1700), "ABETA"] = ">1700"
    return t


def test_load_tadpole_d1d2(tmp_path, small_cohort):
    path = tmp_path / "TADPOLE_D1_D2.csv"
    _tadpole_like(small_cohort).to_csv(path, index=False)
    d = load_tadpole_d1d2(path)
    assert len(d) == len(small_cohort.d1)
    assert d["ABETA"].max() <= 1700                                # censored '>1700'
    d2 = load_tadpole_d1d2(path, split="D2")
    assert set(d2["RID"]) == set(small_cohort.d2["RID"])
    prepared = prepare_longitudinal(d2)
    assert prepared["Ventricles_ICV"].dropna().between(0.001, 0.2).all()
    # a table that is not TADPOLE_D1_D2.csv: every missing documented column named
    _tadpole_like(small_cohort).drop(columns=["ICV_bl", "APOE4"]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"\['APOE4', 'ICV_bl'\]"):
        load_tadpole_d1d2(path)
    with pytest.raises(DataError, match="ADNI"):
        load_tadpole_d1d2(tmp_path / "absent.csv")


def test_forecast_and_d4_files_round_trip(tmp_path, perfect):
    d4, fc = perfect
    path = tmp_path / "TADPOLE_Submission_Test.csv"
    write_forecast(fc, path)
    back = read_forecast(path)
    assert list(back.columns) == list(fc.columns)
    assert back["Forecast Date"].iloc[0] == "2018-01"
    pd.testing.assert_frame_equal(check_forecast(back), check_forecast(fc),
                                  check_dtype=False)
    with pytest.warns(UserWarning, match="TADPOLE_Submission_"):
        write_forecast(fc, tmp_path / "mine.csv")
    d4.to_csv(tmp_path / "d4.csv", index=False)
    pd.testing.assert_frame_equal(read_d4(tmp_path / "d4.csv"), d4, check_dtype=False)


def test_ranking_rule():
    scores = pd.DataFrame({
        "mAUC": [0.90, 0.80, 0.90, np.nan], "BCA": [0.8, 0.7, 0.6, 0.5],
        "adasMAE": [5.0, 4.0, 6.0, 3.0], "ventsMAE": [0.01, 0.02, 0.01, 0.005],
        "adasWES": [5.0, 4.0, 6.0, 3.0], "ventsWES": [0.01, 0.02, 0.01, 0.005],
        "adasCPA": [0.1, 0.2, 0.3, 0.0], "ventsCPA": [0.1, 0.2, 0.3, 0.0]},
        index=["a", "b", "c", "d"])
    t = rank_table(scores)
    # average ranks among the finite entries; d has no mAUC → unranked overall
    assert t.loc["a", "RANK MAUC"] == 1.5 and t.loc["c", "RANK MAUC"] == 1.5
    assert t.loc["b", "RANK MAUC"] == 3 and np.isnan(t.loc["d", "RANK MAUC"])
    assert t.loc["d", "RANK ADAS"] == 1 and t.loc["d", "RANK VENTS"] == 1
    # sums: a 1.5 + 3 + 2.5 = 7, b 3 + 2 + 4 = 9, c 1.5 + 4 + 2.5 = 8
    assert t.loc["a", "RANK"] == 1 and t.loc["c", "RANK"] == 2 and t.loc["b", "RANK"] == 3
    assert np.isnan(t.loc["d", "RANK"]) and list(t.index) == ["a", "c", "b", "d"]
    assert t.loc["a", "RANK BCA"] == 1 and t.loc["d", "RANK ADAS CPA"] == 1
    text = format_leaderboard(t)
    assert "1.000" in text                              # ventricle MAE shown in % ICV
    with pytest.raises(ValueError, match="lack"):
        rank_table(scores.drop(columns=["BCA"]))

