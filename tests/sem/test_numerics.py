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
