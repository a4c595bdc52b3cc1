"""Every measure of lavaan's default ``fitMeasures(fit)`` — the incremental indices
(nnfi, rfi, pnfi, ifi, rni), the RMSEA's "not close" test, the residual summaries
(rmr, srmr_bentler, crmr, srmr_mplus, with and without means), Hoelter's CN, GFI,
AGFI, PGFI, MFI, ECVI, and under MLR the scaled and robust versions and the scaling
factors of h1 and h0 — against lavaan 0.6.14 for models of each kind
(``lavaan_fit_measures_all.csv``, written by tests/data/make_lavaan_reference.R).

Tolerances: 1e-6 relative, except where lavaan's own convergence shows: its FIML h1
(EM) stops ~5e-6 from the optimum and the FIML-corrected robust statistics are
first-order sensitive to it (``tests/sem/test_scaled_test.py``; 2e-5, absolute too
for the tail p-value P(RMSEA ≤ .05) ~6e-4), and nlminb's default tolerance leaves
the multiple-group and growth models' estimates a few 1e-6 from the optimum (5e-6,
as for the FIML fits' residual summaries, which compare the model with the h1
moments)."""
import warnings

import numpy as np
import pytest

from sem import Model, growth
from sem.fit_measures import ORDER, residual_measures
from tests.conftest import HS_MODEL, PD_MODEL, reference

LGM = "i =~ 1*R1 + 1*R3 + 1*R5 + 1*R7 + 1*R9\ns =~ 0*R1 + 2*R3 + 4*R5 + 6*R7 + 8*R9"
METRIC = dict(group="school", group_equal=["loadings"])


def fit(case, hs, hs_missing, pol_dem, ecls):
    return {
        "hs": lambda: Model(HS_MODEL).fit(hs),
        "hs_means": lambda: Model(HS_MODEL, meanstructure=True).fit(hs),
        "pd": lambda: Model(PD_MODEL).fit(pol_dem),
        "path": lambda: Model("y4 ~ a*x1 + x2; y8 ~ b*y4 + x1").fit(pol_dem),
        "randomx": lambda: Model("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6\n"
                                 "textual ~ visual + ageyr + sex; x9 ~ ageyr",
                                 fixed_x=False).fit(hs),
        "hs_fiml": lambda: Model(HS_MODEL).fit(hs_missing, missing="ml"),
        "hs_mlr": lambda: Model(HS_MODEL).fit(hs, se="robust"),
        "pd_mlr": lambda: Model(PD_MODEL).fit(pol_dem, se="robust"),
        "path_mlr": lambda: Model("y4 ~ x1 + x2; y8 ~ y4 + x1").fit(pol_dem, se="robust"),
        "hs_mlr_fiml": lambda: Model(HS_MODEL).fit(hs_missing, se="robust", missing="ml"),
        "school": lambda: Model(HS_MODEL).fit(hs, group="school"),
        "school_fiml_metric": lambda: Model(HS_MODEL).fit(hs_missing, missing="ml",
                                                          **METRIC),
        "school_metric_mlr": lambda: Model(HS_MODEL).fit(hs, se="robust", **METRIC),
        "ecls_growth": lambda: growth(LGM).fit(ecls),
    }[case]()


REF = reference("lavaan_fit_measures_all.csv")


@pytest.fixture(scope="module")
def ecls():
    from trajmix.datasets import load
    return load("ecls_k2011")


@pytest.mark.parametrize("case", list(dict.fromkeys(REF["fit"])))
def test_every_default_fit_measure_matches_lavaan(case, hs, hs_missing, pol_dem, ecls):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fm = fit(case, hs, hs_missing, pol_dem, ecls).fit_measures
    ref = REF[REF["fit"] == case].set_index("measure")["value"]
    # the same measures, in lavaan's order
    assert list(fm.index) == list(ref.index)
    for k, v in ref.items():
        tol, atol = 1e-6, 1e-7
        if case.startswith(("school", "ecls")) or "fiml" in case:
            tol = 5e-6               # lavaan's default convergence, its FIML h1 (EM)
        if "fiml" in case and k.endswith(".robust"):
            tol = atol = 2e-5                      # and its FIML h1 (a tail p-value)
        if np.isnan(v):
            assert np.isnan(fm[k]), k
        else:
            assert fm[k] == pytest.approx(v, rel=tol, abs=atol), k


def test_lavaan_order_lists_every_measure_once():
    assert len(ORDER) == len(set(ORDER))
    assert set(REF["measure"]) <= set(ORDER)


def test_residual_summaries_by_hand():
    """The four residual summaries of a 2-variable example by hand: the raw residuals
    over the lower triangle (and the means), standardized by the sample SDs
    (Bentler), as correlation residuals (Bollen), and Mplus's variant."""
    S = np.array([[4.0, 1.0], [1.0, 1.0]])
    Sig = np.array([[4.0, 0.5], [0.5, 2.0]])
    ybar, mu = np.array([1.0, 2.0]), np.array([1.5, 2.0])
    r = residual_measures(S, Sig, ybar, mu)
    raw = [0.0, 0.5, -1.0]                                   # (1,1), (2,1), (2,2)
    assert r["rmr_nomean"] == pytest.approx(np.sqrt(np.sum(np.square(raw)) / 3))
    assert r["rmr"] == pytest.approx(np.sqrt((np.sum(np.square(raw)) + 0.25) / 5))
    std = [0.0, 0.5 / 2.0, -1.0]
    assert r["srmr_bentler_nomean"] == pytest.approx(np.sqrt(np.sum(np.square(std)) / 3))
    assert r["srmr"] == r["srmr_bentler"] == pytest.approx(
        np.sqrt((np.sum(np.square(std)) + (0.5 / 2.0) ** 2) / 5))
    corr = 1.0 / 2.0 - 0.5 / (2.0 * np.sqrt(2.0))             # r_21 - rho_21
    assert r["crmr_nomean"] == pytest.approx(abs(corr))       # one pair
    assert r["crmr"] == pytest.approx(np.sqrt((corr ** 2 + 0.25 ** 2) / 3))
    dvar = [0.0, -1.0]                                       # (s_ii - sigma_ii) / s_ii
    assert r["srmr_mplus_nomean"] == pytest.approx(np.sqrt((corr ** 2 + 1.0) / 3))
    mp = [1.0 / 2.0 - 1.5 / 2.0, 2.0 - 2.0 / np.sqrt(2.0)]    # ybar/sd(S) - mu/sd(Sigma)
    assert r["srmr_mplus"] == pytest.approx(
        np.sqrt((corr ** 2 + np.sum(np.square(dvar)) + np.sum(np.square(mp))) / 5))


def test_gfi_is_joreskogs_and_zero_residuals_fit_perfectly():
    """GFI = 1 − tr((Σ̂⁻¹S − I)²)/tr((Σ̂⁻¹S)²) without means (Jöreskog's ML GFI); a
    model that reproduces the moments has GFI 1 and every residual summary 0."""
    from sem.fit_measures import gfi

    rng = np.random.default_rng(1)
    A = rng.normal(size=(4, 4))
    S, Sig = A @ A.T + 4 * np.eye(4), np.diag(np.diag(A @ A.T + 4 * np.eye(4)))
    M = np.linalg.solve(Sig, S)
    I = np.eye(4)
    assert gfi(S, Sig) == pytest.approx(1 - np.trace((M - I) @ (M - I)) / np.trace(M @ M))
    assert gfi(S, S, np.ones(4), np.ones(4)) == pytest.approx(1.0)
    r = residual_measures(S, S, np.ones(4), np.ones(4))
    assert all(v == pytest.approx(0.0, abs=1e-15) for v in r.values())


def test_indices_at_their_edges_follow_lavaan():
    """A saturated model (df 0): NFI, RFI 1, CN undefined when it fits exactly; a
    model whose statistic exceeds the baseline's gives RFI 1 (negative clipped) as
    lavaan's lav_fit_rfi, and RNI < 0 where CFI is truncated at 0."""
    from sem.fit_measures import hoelter, incremental

    sat = incremental(0.0, 0, 500.0, 10)
    assert sat["nfi"] == 1.0 and sat["rfi"] == 1.0 and np.isnan(hoelter(0.0, 0, 100, .05))
    worse = incremental(600.0, 5, 500.0, 10)
    assert worse["rfi"] == 1.0 and worse["rni"] < 0 and worse["nfi"] < 0
    assert np.isnan(incremental(10.0, 12, 500.0, 10)["nfi"])     # df above the baseline's
    hs = REF[REF["fit"] == "hs"].set_index("measure")["value"]
    for alpha, key in ((.05, "cn_05"), (.01, "cn_01")):
        assert hoelter(hs["chisq"], 24, 301, alpha) == pytest.approx(hs[key], rel=1e-12)
