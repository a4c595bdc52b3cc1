"""Small numeric helpers checked against the library calls they replace for speed."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import optimize, stats

from sem.fit_measures import rmsea_ci
from sem.starts import nanmedian_rows


@pytest.mark.parametrize("m", [1, 2, 3, 4, 7])
def test_nanmedian_rows_equals_numpy(m):
    rng = np.random.default_rng(m)
    a = rng.normal(size=(300, m))
    a[rng.random(a.shape) < 0.4] = np.nan
    a[0] = np.nan                                           # an all-NaN row
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmedian(a, axis=1)
    np.testing.assert_array_equal(nanmedian_rows(a), expected)


@pytest.mark.parametrize("T,df,N", [(85.306, 24, 301), (20.0, 24, 301), (3.0, 1, 50),
                                    (400.0, 8, 1000)])
def test_rmsea_interval_equals_roots_of_scipy_stats(T, df, N):
    def ncp(prob):
        f = lambda lam: (stats.ncx2.cdf(T, df, lam) if lam > 0
                         else stats.chi2.cdf(T, df)) - prob
        if f(0.0) < 0:
            return 0.0
        return optimize.brentq(f, 0.0, 10 * max(T, 1.0), xtol=1e-12)

    lo, up = rmsea_ci(T, df, N)
    assert lo == pytest.approx(math.sqrt(ncp(0.95) / (N * df)), abs=1e-9)
    assert up == pytest.approx(math.sqrt(ncp(0.05) / (N * df)), abs=1e-9)


@pytest.mark.parametrize("x,df,nc", [(85.306, 24, 18.06), (3.2, 4, 3.0), (20.0, 24, 18.06),
                                     (300.0, 24, 18.06), (0.5, 1, 40.0)])
def test_noncentral_chi2_survival_equals_scipy_stats(x, df, nc):
    """``_ncx2_sf`` (1 − ``special.chndtr``, ``stats.ncx2.sf`` in the far tail) against
    ``stats.ncx2.sf``, relative accuracy kept below 1e-8 (300 on 24 df: 1.2e-32)."""
    from sem.fit_measures import _ncx2_sf

    assert _ncx2_sf(x, df, nc) == pytest.approx(stats.ncx2.sf(x, df, nc), rel=1e-9,
                                                abs=1e-15)


def test_wald_table_equals_scipy_stats():
    from sem.inference import wald_table

    est, se = np.array([0.5, -3.0, 40.0, 1.0]), np.array([1.0, 1.0, 1.0, 0.0])
    t = wald_table(est, se, level=0.9)
    z = est[:3] / se[:3]
    np.testing.assert_allclose(t["pvalue"][:3], 2 * stats.norm.sf(np.abs(z)), rtol=1e-14)
    q = stats.norm.ppf(0.95)
    np.testing.assert_allclose(t["ci.lower"], est - q * se, rtol=1e-14)
    assert np.isnan(t["z"][3])
