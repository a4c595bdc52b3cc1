"""The research notes' metric test matrix (forests_tadpole.md §B.5) and cross-checks
against an independent port of the official rules and against scikit-learn."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from progression.matching import match_forecast
from progression.metrics import (METRIC_KEYS, a_value, bca, evaluate_forecast, mauc,
                                 normalise_probabilities)
from progression.schema import check_d4, check_forecast
from sem.errors import DataError

from . import reference_port
from .conftest import make_d4, make_forecast


def test_perfect_forecast(perfect):
    d4, fc = perfect
    r = evaluate_forecast(d4, fc)
    assert set(r) == set(METRIC_KEYS)
    assert r["mAUC"] == 1.0 and r["BCA"] == 1.0
    assert r["adasMAE"] == 0.0 and r["ventsMAE"] == 0.0
    assert r["adasWES"] == 0.0 and r["ventsWES"] == 0.0
    assert r["adasCPA"] == 0.5 and r["ventsCPA"] == 0.5   # coverage 1 → |1 − 0.5|


def test_constant_probabilities_tie_rule():
    # all scores tied: ordinal ranks give A(i|j) + A(j|i) = 1, so mAUC = 0.5 either way
    labels = np.array([0, 1, 2, 0, 1, 2, 2])
    p = np.full((7, 3), 1 / 3)
    assert mauc(labels, p) == pytest.approx(0.5, abs=1e-15)
    # partial ties (one-hot forecasts): the official ordinal rule depends on row order
    # and differs from the Mann-Whitney (averaged-rank) AUC that scikit-learn computes
    labels = np.array([0, 1, 0, 1, 2, 2, 1, 0])
    p = np.eye(3)[[0, 0, 1, 1, 2, 1, 1, 0]] * 3.0
    ordinal = mauc(labels, p)
    average = mauc(labels, p, ties="average")
    port = reference_port.mauc(list(zip(labels.tolist(), p.tolist())))
    assert ordinal == port
    assert average == pytest.approx(
        roc_auc_score(labels, p / p.sum(1, keepdims=True), multi_class="ovo"), abs=1e-12)
    assert ordinal != pytest.approx(average, abs=1e-3)
    flipped = mauc(labels[::-1], p[::-1])
    assert flipped != pytest.approx(ordinal, abs=1e-3)      # row order matters


def test_truth_on_interval_bound_is_not_covered():
    d4 = make_d4([1, 2, 3, 4], ["CN", "MCI", "AD", "CN"], [10.0, 11.0, 12.0, 13.0],
                 [0.02, 0.02, 0.02, 0.02])
    adas = np.array([[10, 10, 12], [11, 9, 11], [12, 11, 13], [13, 12, 14]], float)
    vents = np.array([[0.02, 0.019, 0.021]] * 4)
    r = evaluate_forecast(d4, make_forecast([1, 2, 3, 4], np.eye(3)[[0, 1, 2, 0]], adas,
                                            vents))
    # rows 1 and 2 sit on a bound (lower, upper): covered 2 of 4 → ACP 0.5 → CPA 0
    assert r["adasCPA"] == 0.0
    assert r["ventsCPA"] == 0.5


def test_zero_width_interval():
    d4 = make_d4([1, 2, 3], ["CN", "MCI", "AD"], [10.0, 20.0, 30.0], [0.02, 0.03, 0.04])
    adas = np.array([[11, 11, 11], [20, 19, 21], [33, 31, 35]], float)
    vents = np.array([[0.02, 0.01, 0.03], [0.03, 0.02, 0.04], [0.04, 0.03, 0.05]])
    fc = make_forecast([1, 2, 3], np.eye(3), adas, vents)
    with pytest.warns(UserWarning, match="zero or negative width"):
        ref = evaluate_forecast(d4, fc)
    assert np.isnan(ref["adasWES"])                   # 1/0 weight, as the official code
    assert ref["adasMAE"] == pytest.approx(4 / 3)
    d4v = evaluate_forecast(d4, fc, variant="d4")
    assert d4v["adasWES"] == pytest.approx(d4v["adasMAE"])   # equal weights


def test_absent_class():
    d4 = make_d4([1, 2, 3, 4], ["CN", "MCI", "CN", "MCI"], [10, 20, 12, 22],
                 [0.02, 0.03, 0.02, 0.03])
    fc = make_forecast([1, 2, 3, 4], np.eye(3)[[0, 1, 0, 1]],
                       np.array([[10, 9, 11], [20, 19, 21], [12, 11, 13], [22, 21, 23.]]),
                       np.array([[0.02, 0.01, 0.03]] * 4))
    with pytest.raises(DataError, match="AD"):
        evaluate_forecast(d4, fc)
    with pytest.warns(UserWarning, match="undefined"):
        r = evaluate_forecast(d4, fc, on_undefined="nan")
    assert np.isnan(r["mAUC"]) and r["adasMAE"] == 0.0
    # AD: no true and no forecast AD rows → sensitivity defaults to 0.5, specificity 1
    assert r["BCA"] == pytest.approx((1 + 1 + 0.75) / 3)
    with pytest.raises(ZeroDivisionError):
        a_value(np.array([0, 0]), np.ones((2, 3)), 0, 1)


def test_negative_relative_probabilities_are_not_clipped():
    rids = [1, 2, 3, 4, 5, 6]
    d4 = make_d4(rids, ["CN", "MCI", "AD", "CN", "MCI", "AD"], [10] * 6, [0.02] * 6)
    probs = np.array([[2, -1, 2], [1, 1, -0.5], [0.2, 0.1, 1], [1, 0.5, 0.4],
                      [-0.2, 1, 0.3], [0.1, -0.3, 1]])
    fc = make_forecast(rids, probs, np.array([[10, 9, 11]] * 6, float),
                       np.array([[0.02, 0.01, 0.03]] * 6))
    with pytest.warns(UserWarning, match="negative relative probabilities"):
        r = evaluate_forecast(d4, fc)
    labels = np.array([0, 1, 2, 0, 1, 2])
    assert r["mAUC"] == mauc(labels, normalise_probabilities(probs))
    clipped = mauc(labels, normalise_probabilities(np.clip(probs, 0, None)))
    assert r["mAUC"] != pytest.approx(clipped, abs=1e-6)


def test_date_tie_takes_the_earlier_month():
    # 2018-04-16 is 15 days from 2018-04-01 and from 2018-05-01 (April has 30 days)
    d4 = make_d4([1], ["CN"], [10.0], [0.02], cog="2018-04-16", scan="2018-04-20")
    months = ["2018-03", "2018-04", "2018-05"]
    fc = make_forecast([1], np.array([[1.0, 0, 0]]), np.array([[10, 9, 11.]]),
                       np.array([[0.02, 0.01, 0.03]]), months=months)
    fc.loc[fc["Forecast Date"] == "2018-05", "ADAS13"] = 99.0
    m = match_forecast(check_d4(d4), check_forecast(fc))
    assert bool(m["cog_tie"].iloc[0]) and not bool(m["scan_tie"].iloc[0])
    assert m["cog_month"].iloc[0] == pd.Timestamp("2018-04-01")
    assert m["ADAS13 forecast"].iloc[0] == 10.0


def test_scan_and_cognitive_dates_match_separately():
    d4 = make_d4([1], ["CN"], [10.0], [0.02], cog="2018-01-03", scan="2019-06-30")
    fc = make_forecast([1], np.array([[1.0, 0, 0]]), np.array([[10, 9, 11.]]),
                       np.array([[0.02, 0.01, 0.03]]))
    fc.loc[fc["Forecast Date"] == "2019-07", "Ventricles_ICV"] = 0.5
    m = match_forecast(check_d4(d4), check_forecast(fc))
    assert m["cog_month"].iloc[0] == pd.Timestamp("2018-01-01")
    assert m["scan_month"].iloc[0] == pd.Timestamp("2019-07-01")
    assert m["Ventricles_ICV"].iloc[0] == 0.5


def test_nan_targets_are_filtered_per_target():
    rids = [1, 2, 3, 4]
    d4 = make_d4(rids, ["CN", np.nan, "AD", "MCI"], [10.0, 20.0, np.nan, 15.0],
                 [0.02, np.nan, 0.03, 0.04], scan=["2018-06-10", np.nan, "2018-06-10",
                                                     "2018-06-10"])
    adas = np.array([[12, 11, 13], [20, 19, 21], [50, 49, 51], [15, 14, 16.]])
    vents = np.array([[0.02, 0.01, 0.03], [0.9, 0.8, 1.0], [0.03, 0.02, 0.04],
                      [0.05, 0.045, 0.055]])
    fc = make_forecast(rids, np.eye(3)[[0, 1, 2, 1]], adas, vents)
    r = evaluate_forecast(d4, fc)
    assert r["adasMAE"] == pytest.approx(2 / 3)                 # rows 1, 2, 4
    assert r["ventsMAE"] == pytest.approx(0.01 / 3)             # rows 1, 3, 4
    assert r["mAUC"] == 1.0 and r["BCA"] == 1.0                  # rows 1, 3, 4


def test_bca_is_one_versus_rest():
    est = np.array([0, 0, 1, 2, 2, 1])
    true = np.array([0, 1, 1, 2, 0, 1])
    by_hand = []
    for c in range(3):
        tp = np.sum((est == c) & (true == c))
        fn = np.sum((est != c) & (true == c))
        tn = np.sum((est != c) & (true != c))
        fp = np.sum((est == c) & (true != c))
        by_hand.append(0.5 * (tp / (tp + fn) + tn / (tn + fp)))
    assert bca(est, true) == pytest.approx(np.mean(by_hand), abs=1e-15)
    # a class never forecast nor present: sensitivity defaults to 0.5 (specificity 1)
    assert bca(np.array([0, 1]), np.array([0, 1])) == pytest.approx((1 + 1 + 0.75) / 3)


def test_mauc_equals_sklearn_on_tie_free_data():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(10, 200))
        labels = rng.integers(0, 3, n)
        labels[:3] = [0, 1, 2]
        p = rng.random((n, 3))
        ours = mauc(labels, normalise_probabilities(p))
        ref = roc_auc_score(labels, p / p.sum(1, keepdims=True), multi_class="ovo",
                            labels=[0, 1, 2])
        assert abs(ours - ref) < 1e-12


def _random_case(rng, n_subj=12):
    rids = list(range(100, 100 + n_subj))
    dx = rng.choice(["CN", "MCI", "AD"], n_subj).tolist()
    dx[:3] = ["CN", "MCI", "AD"]
    dx = [d if rng.random() > 0.15 or i < 3 else np.nan for i, d in enumerate(dx)]
    adas = np.where(rng.random(n_subj) < 0.15, np.nan, rng.integers(5, 40, n_subj))
    vents = np.where(rng.random(n_subj) < 0.15, np.nan, rng.uniform(0.01, 0.05, n_subj))
    days = rng.integers(0, 700, n_subj)
    cog = (pd.Timestamp("2018-01-05") + pd.to_timedelta(days, "D")).strftime("%Y-%m-%d")
    scan = (pd.Timestamp("2018-01-05") + pd.to_timedelta(days + rng.integers(-20, 20, n_subj),
                                                          "D")).strftime("%Y-%m-%d")
    d4 = make_d4(rids, dx, adas, vents, cog=list(cog), scan=list(scan))
    M = 60
    probs = rng.integers(0, 3, (n_subj * M, 3)).astype(float)   # many ties
    probs[probs.sum(1) == 0] = 1.0
    est = rng.integers(5, 40, n_subj * M).astype(float)
    west = rng.uniform(0.5, 4, n_subj * M)
    vest = rng.uniform(0.01, 0.05, n_subj * M)
    vw = rng.uniform(0.001, 0.01, n_subj * M)
    fc = make_forecast(rids, np.zeros((n_subj, 3)), np.zeros((n_subj, 3)),
                       np.zeros((n_subj, 3)))
    fc[["CN relative probability", "MCI relative probability", "AD relative probability"]] = probs
    fc["ADAS13"], fc["ADAS13 50% CI lower"], fc["ADAS13 50% CI upper"] = est, est - west, est + west
    fc["Ventricles_ICV"] = vest
    fc["Ventricles_ICV 50% CI lower"], fc["Ventricles_ICV 50% CI upper"] = vest - vw, vest + vw
    return d4, fc


def test_agrees_with_independent_port_on_random_inputs():
    rng = np.random.default_rng(42)
    for _ in range(25):
        d4, fc = _random_case(rng)
        ours = evaluate_forecast(d4, fc)
        d4c, fcc = check_d4(d4), check_forecast(fc)
        ref = reference_port.evaluate(d4c, fcc)
        for k in METRIC_KEYS:
            assert ours[k] == pytest.approx(ref[k], rel=1e-12, abs=1e-14), k


def test_inputs_are_not_modified(perfect):
    d4, fc = perfect
    d4c, fcc = d4.copy(), fc.copy()
    evaluate_forecast(d4, fc)
    pd.testing.assert_frame_equal(d4, d4c)
    pd.testing.assert_frame_equal(fc, fcc)


def test_d4_variant_extras():
    d4 = make_d4([1, 2, 3], ["CN", "MCI", "AD"], [10.0, 20.0, 30.0], [0.02, 0.03, 0.04])
    fc = make_forecast([1, 2, 3], np.eye(3), np.zeros((3, 3)),
                       np.array([[0.02, 0.01, 0.03]] * 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = evaluate_forecast(d4, fc, variant="d4")
    assert np.isnan(r["adasMAE"]) and np.isnan(r["adasWES"]) and np.isnan(r["adasCPA"])
    assert np.isfinite(r["ventsMAE"])
