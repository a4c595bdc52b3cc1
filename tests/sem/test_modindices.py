"""Modification indices (``SEMResults.modindices``) against lavaan 0.6.14's
``modindices`` (tests/data/make_lavaan_reference.R)."""
import numpy as np
import pandas as pd
import pytest

from sem import Model, SpecificationError
from tests.conftest import HS_MODEL, reference

COLS = ["mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"]


def _key(t):
    return t["lhs"] + t["op"] + t["rhs"]


def _compare(tab, name, only_ours=(), only_lavaan=(), rtol=1e-7):
    ref = reference(f"lavaan_{name}_modindices.csv")
    ref["rhs"] = ref["rhs"].fillna("")                  # an intercept's rhs is empty
    a, b = ref.set_index(_key(ref)), tab.set_index(_key(tab))
    assert sorted(set(b.index) - set(a.index)) == sorted(only_ours)
    assert sorted(set(a.index) - set(b.index)) == sorted(only_lavaan)
    common = a.index.intersection(b.index)
    # lavaan prints MI to 3 decimals; its optimizer stops ~1e-6 from the optimum
    np.testing.assert_allclose(b.loc[common, "mi"], a.loc[common, "mi"], atol=1e-3,
                               rtol=rtol)
    np.testing.assert_allclose(b.loc[common, COLS[1:]], a.loc[common, COLS[1:]], atol=1e-4,
                               rtol=rtol)


def test_cfa_modification_indices_match_lavaan(hs):
    tab = Model(HS_MODEL).fit(hs).modindices()
    assert list(tab.columns) == ["lhs", "op", "rhs"] + COLS
    _compare(tab, "hs")
    top = Model(HS_MODEL).fit(hs).modindices(sort=True, minimum=10)
    assert list(_key(top)) == ["visual=~x9", "x7~~x8", "visual=~x7", "x8~~x9"]
    assert top["mi"].iloc[0] == pytest.approx(36.411, abs=1e-3)     # lavaan's print


def test_orthogonal_factors_and_unidentified_candidates(hs):
    """The fixed factor covariance is a candidate; within-factor residual covariances
    of two 3-indicator factors would not be identified (no test: dropped, as
    lavaan's na.remove)."""
    res = Model("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6",
                orthogonal=True).fit(hs)
    _compare(res.modindices(), "orth")


def test_fiml_modification_indices_match_lavaan(hs_missing):
    res = Model(HS_MODEL).fit(hs_missing, missing="ml")
    _compare(res.modindices(), "hs_fiml")


def test_covariates_regressions_and_documented_differences(hs):
    """With regressions, the candidates include the missing regressions among their
    variables. lavaan also lists regressions *of* the fixed exogenous covariates and
    their fixed moments (MI ≈ 0), which are not parameters of the conditional model,
    and gives no value for x4 ~~ x7, a residual covariance that is identified here
    (freeing it lowers χ² by 1.52; its MI is 1.356)."""
    mimic = Model("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; visual ~ ageyr; "
                  "textual ~ sex").fit(hs)
    _compare(mimic.modindices(), "mimic", only_lavaan=[
        "ageyr~sex", "ageyr~textual", "ageyr~visual", "ageyr~~ageyr", "ageyr~~sex",
        "sex~ageyr", "sex~textual", "sex~visual", "sex~~sex"])
    path = Model("x4 ~ x1 + ageyr; x7 ~ x4").fit(hs)
    tab = path.modindices()
    _compare(tab, "xpath", only_ours=["x4~~x7"], only_lavaan=["ageyr~x7", "x1~x7"])
    freed = Model("x4 ~ x1 + ageyr; x7 ~ x4; x4 ~~ x7").fit(hs)
    drop = path.fit_measures["chisq"] - freed.fit_measures["chisq"]
    mi = tab.set_index(_key(tab)).loc["x4~~x7", "mi"]
    assert drop == pytest.approx(1.517, abs=1e-3) and mi == pytest.approx(1.356, abs=1e-3)


def test_added_candidates_and_bad_input(hs):
    res = Model(HS_MODEL).fit(hs)
    tab = res.modindices(add="x1 ~ x9")
    row = tab[_key(tab) == "x1~x9"]
    assert len(row) == 1 and np.isfinite(row["mi"]).all()
    with pytest.raises(SpecificationError, match=r"add= names \['nope'\]"):
        res.modindices(add="x1 ~~ nope")
    # an equivalent score test by hand: freeing visual =~ x9 raises logL by about MI/2
    freed = Model(HS_MODEL + "; visual =~ x9").fit(hs)
    mi = tab.set_index(_key(tab)).loc["visual=~x9", "mi"]
    assert 2 * (freed.llf - res.llf) == pytest.approx(mi, rel=0.15)
    assert isinstance(tab, pd.DataFrame)


def test_sepc_lv_of_a_covariance_uses_residual_variances(hs):
    """lavaan's sepc.lv of a latent covariance is scaled by the residual variance of an
    endogenous latent variable (cov.std), as sepc.all: visual ~~ textual 0.385, not
    0.383 from visual's total variance. lavaan also lists regressions of the fixed
    covariate (a documented difference)."""
    res = Model(HS_MODEL + "; visual ~ ageyr; speed ~ textual").fit(hs)
    tab = res.modindices()
    _compare(tab, "review_lvresid", only_lavaan=[
        "ageyr~speed", "ageyr~textual", "ageyr~visual"])
    row = tab.set_index(_key(tab)).loc["visual~~textual"]
    assert row["sepc.lv"] == pytest.approx(0.385, abs=5e-4)


def test_free_covariates_are_still_covariates(hs):
    """fixed_x=False: the covariates get no loadings nor residual covariances with the
    indicators as candidates (lavaan's ov.x), their regressions on the model's
    variables are candidates, and sepc.nox does not scale by their SD
    (speed ~ sex: 0.2576)."""
    res = Model(HS_MODEL + "; visual ~ ageyr + sex; speed ~ visual",
                fixed_x=False).fit(hs)
    tab = res.modindices()
    _compare(tab, "review_randomx")
    assert tab.set_index(_key(tab)).loc["speed~sex", "sepc.nox"] == pytest.approx(
        0.2576, abs=1e-4)


def test_growth_model_intercepts_are_candidates():
    """With a mean structure the fixed intercepts are candidates: a growth model's
    observed intercepts (fixed at 0) carry its largest indices besides the loadings
    (R9 ~1: 209.530, as lavaan); sepc.all divides by the implied standard deviation.
    The EPCs of the residual covariances are in the variances' units (~100), where
    lavaan's estimates stop ~2e-6 relative from the optimum: rtol 2e-5."""
    from sem import growth
    from trajmix.datasets import load

    res = growth("i =~ 1*R1 + 1*R3 + 1*R5 + 1*R7 + 1*R9\n"
                 "s =~ 0*R1 + 2*R3 + 4*R5 + 6*R7 + 8*R9").fit(load("ecls_k2011"))
    tab = res.modindices()
    _compare(tab, "ecls_growth", rtol=2e-5)
    assert (tab["op"] == "~1").sum() == 5
