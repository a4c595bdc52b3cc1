"""The Yuan-Bentler (Mplus) scaled χ² and lavaan's *.scaled and *.robust fit indices
of robust (MLR) fits against lavaan 0.6.14 (tests/data/make_lavaan_reference.R)."""
import numpy as np
import pandas as pd
import pytest

from sem import Model
from sem.fit_measures import robust
from tests.conftest import HS_MODEL, PD_MODEL, reference


@pytest.fixture(scope="module")
def ref():
    return reference("lavaan_mlr_scaled.csv").set_index("case")


@pytest.mark.parametrize("case", ["hs", "hs_fiml", "path"])
def test_scaled_test_matches_lavaan_mlr(case, ref, hs, hs_missing, pol_dem):
    model, data, kw = {
        "hs": (HS_MODEL, hs, {}),
        "hs_fiml": (HS_MODEL, hs_missing, dict(missing="ml")),
        "path": ("y4 ~ x1 + x2; y8 ~ y4 + x1", pol_dem, {}),   # fixed.x covariates
    }[case]
    fm = Model(model).fit(data, se="robust", **kw).fit_measures
    r = ref.loc[case]
    for k in r.index:
        assert fm[k] == pytest.approx(r[k], rel=1e-6, abs=1e-7), k
    # the scaled statistic is the ML one over the scaling factor
    assert fm["chisq.scaled"] == pytest.approx(fm["chisq"] / fm["chisq.scaling.factor"])


def test_scaling_factor_is_one_for_normal_data_in_large_samples():
    """Under multivariate normality tr(I⁻¹B) equals the parameter count in both
    models, so c → 1: a CFA simulated from its own normal model, n = 20000."""
    rng = np.random.default_rng(3)
    n = 20_000
    f = rng.normal(size=(n, 1))
    Y = f @ np.array([[1.0, 0.8, 0.6, 0.7]]) + rng.normal(scale=0.6, size=(n, 4))
    df = pd.DataFrame(Y, columns=["a", "b", "c", "d"])
    fm = Model("f =~ a + b + c + d").fit(df, se="robust").fit_measures
    assert fm["chisq.scaling.factor"] == pytest.approx(1.0, abs=0.05)
    assert fm["baseline.chisq.scaling.factor"] == pytest.approx(1.0, abs=0.05)


def test_standard_fits_report_no_scaled_measures(hs):
    assert "chisq.scaled" not in Model(HS_MODEL).fit(hs).fit_measures


ROBUST = ["cfi.robust", "tli.robust", "rmsea.robust", "rmsea.ci.lower.robust",
          "rmsea.ci.upper.robust", "rmsea.pvalue.robust"]


@pytest.mark.parametrize("case", ["hs", "hs_fiml", "pd", "path", "mg_metric",
                                  "mg_fiml_metric"])
def test_robust_indices_match_lavaan_mlr(case, hs, hs_missing, pol_dem):
    """lavaan's cfi/tli/rmsea(.ci, .pvalue).robust: complete data from the ML test
    and the Yuan-Bentler factors, FIML from Zhang & Savalei's corrected statistics.
    Under FIML lavaan's h1 (EM) stops ~5e-6 from the optimum and T-tilde is first-order
    sensitive to it (T-tilde 103.1710 here, 103.1693 in lavaan; with lavaan's h1 moments
    ours gives 103.16933), so those cases agree to 1e-5, the others to 1e-6."""
    metric = dict(group="school", group_equal=["loadings"])
    model, data, kw = {
        "hs": (HS_MODEL, hs, {}),
        "hs_fiml": (HS_MODEL, hs_missing, dict(missing="ml")),
        "pd": (PD_MODEL, pol_dem, {}),
        "path": ("y4 ~ x1 + x2; y8 ~ y4 + x1", pol_dem, {}),   # fixed.x covariates
        "mg_metric": (HS_MODEL, hs, metric),
        "mg_fiml_metric": (HS_MODEL, hs_missing, dict(metric, missing="ml")),
    }[case]
    fm = Model(model).fit(data, se="robust", **kw).fit_measures
    r = reference("lavaan_mlr_robust.csv").set_index("case").loc[case]
    tol = 1e-5 if "fiml" in case else 1e-6
    for k in ROBUST:
        assert fm[k] == pytest.approx(r[k], rel=tol, abs=tol), k


def test_robust_indices_are_the_ml_ones_when_the_scaling_factors_are_one():
    """With c = c_b = 1 the robust formulas reduce to the ML ones (test_indices)."""
    from sem.fit_measures import test_indices

    ml = test_indices(85.3, 24, 918.9, 36, 301.0, groups=2)
    rb = robust(85.3, 24, 918.9, 36, 301.0, 1.0, 1.0, groups=2)
    for k in ["cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue"]:
        assert rb[f"{k}.robust"] == pytest.approx(ml[k], rel=1e-9), k


def test_standard_fits_report_no_robust_measures(hs):
    assert "cfi.robust" not in Model(HS_MODEL).fit(hs).fit_measures


def test_fiml_robust_indices_with_fixed_covariates_are_not_computed(hs_missing):
    """lavaan 0.6.14's FIML-corrected scaling factors with fixed.x covariates are not
    reproduced (sem.scaled_test.robust_measures), so those measures are NaN, not a
    different number; the scaled test is still there."""
    fm = Model("x4 ~ ageyr + sex; x7 ~ x4 + ageyr").fit(
        hs_missing, se="robust", missing="ml").fit_measures
    assert all(np.isnan(fm[k]) for k in ROBUST)
    assert np.isfinite(fm["chisq.scaled"])
