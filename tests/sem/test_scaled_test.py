"""The Yuan-Bentler (Mplus) scaled χ² and lavaan's *.scaled fit indices of robust
(MLR) fits against lavaan 0.6.14 (tests/data/make_lavaan_reference.R)."""
import numpy as np
import pandas as pd
import pytest

from sem import Model
from tests.conftest import HS_MODEL, reference


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
