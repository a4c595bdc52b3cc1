"""Null distributions of the split statistics against strucchange and Andrews (1993)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from forests import pvalues
from tests.conftest import reference

SUPLM = reference("forests_suplm_strucchange.csv")
ORDL2BB = reference("forests_ordl2bb_strucchange.csv")


@pytest.mark.parametrize("k", [1, 2, 6])
def test_sup_lm_matches_strucchange_in_the_body(k):
    # strucchange interpolates Hansen's (1997) response surface, fitted to simulations
    # on a grid of 1000 points like ours: agreement within Monte Carlo error
    ref = SUPLM[(SUPLM.k == k) & (SUPLM["from"] == 0.15) & (SUPLM.p > 0.02)]
    ours = np.array([pvalues.to_p(pvalues.sup_lm_logp(x, k, 0.15)) for x in ref.x])
    assert np.all(np.abs(np.log(ours / ref.p.to_numpy())) < 0.12), (ours, ref.p.to_numpy())


@pytest.mark.parametrize("k,crit", [(1, 8.61), (2, 11.56), (6, 20.01)])
def test_sup_lm_known_critical_values(k, crit):
    # 5 % critical values of supLM with 15 % trimming (strucchange::supLM(0.15)
    # computeCritval; Andrews 1993, Table 1: 8.68 for k = 1)
    p = pvalues.to_p(pvalues.sup_lm_logp(crit, k, 0.15))
    assert abs(p - 0.05) < 0.007


def test_sup_lm_tail_is_monotone_and_finite():
    xs = np.linspace(5, 3000, 400)
    lp = np.array([pvalues.sup_lm_logp(x, 6, 0.15) for x in xs])
    assert np.all(np.isfinite(lp))
    assert np.all(np.diff(lp) <= 1e-12)
    assert lp[-1] < -1000                       # ranks splits whose p underflows
    # the tail joins the simulated part continuously
    table = pvalues.sup_lm_table(6, 0.15)
    xj = table[table.size - 50]
    left, right = pvalues.sup_lm_logp(xj - 1e-6, 6, 0.15), pvalues.sup_lm_logp(xj + 1e-6, 6, 0.15)
    assert abs(left - right) < 0.05


def test_sup_lm_table_is_cached_and_deterministic():
    a = pvalues.sup_lm_table(2, 0.15)
    b = pvalues.sup_lm_table(2, 0.15)
    assert a is b
    fresh = pvalues.simulate_sup_lm(2, 0.15, n_rep=500)
    again = pvalues.simulate_sup_lm(2, 0.15, n_rep=500)
    np.testing.assert_array_equal(fresh, again)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_max_lmo_matches_strucchange(k):
    freq = np.array([0.2, 0.3, 0.1, 0.25, 0.15])
    t = np.cumsum(freq)[:-1]
    ref = ORDL2BB[(ORDL2BB.k == k) & (ORDL2BB.p > 0.02)]
    ours = np.array([pvalues.to_p(pvalues.max_lmo_logp(x, k, t)) for x in ref.x])
    assert np.all(np.abs(np.log(ours / ref.p.to_numpy())) < 0.1), (ours, ref.p.to_numpy())


def test_max_lmo_single_boundary_is_chi2_and_union_bound_in_tail():
    assert math.isclose(pvalues.max_lmo_logp(7.0, 3, [0.4]), stats.chi2.logsf(7.0, 3))
    t = [0.25, 0.5, 0.75]
    lp = pvalues.max_lmo_logp(80.0, 2, t)
    assert np.isfinite(lp) and lp <= math.log(3) + stats.chi2.logsf(80.0, 2) + 1e-9 + 5


def test_chi2_logp():
    for x, df in [(3.0, 2), (50.0, 6), (5000.0, 6)]:
        assert math.isclose(pvalues.chi2_logp(x, df), stats.chi2.logsf(x, df), rel_tol=1e-9)
    assert pvalues.chi2_logp(1.0, 0) == 0.0
    assert pvalues.to_p(-np.inf) == 0.0
