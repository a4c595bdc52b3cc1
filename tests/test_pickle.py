"""Fitted models and their results pickle (joblib, multiprocessing, saving a fit):
the restored object gives the same numbers, and what it computes lazily (fit_many's
standard errors, a growth mixture's reported parameters) still works."""
import pickle

import numpy as np
import pytest

from sem import Model
from tests.conftest import HS_MODEL


def roundtrip(obj):
    return pickle.loads(pickle.dumps(obj))


def test_sem_fits_and_fit_many_results_pickle(hs):
    m = Model(HS_MODEL)
    one = m.fit(hs)
    many = m.fit_many([hs, hs.iloc[::-1].reset_index(drop=True)])
    back = roundtrip(one)
    np.testing.assert_array_equal(back.params, one.params)
    np.testing.assert_array_equal(back.bse, one.bse)
    assert back.fit_measures["cfi"] == one.fit_measures["cfi"]
    lazy = roundtrip(many[1])           # standard errors not computed yet
    np.testing.assert_allclose(lazy.bse, one.bse, atol=1e-6)
    again = roundtrip(m).fit(hs)        # the model itself
    np.testing.assert_allclose(again.params, one.params, atol=1e-10)


def test_growth_mixture_results_pickle():
    from trajmix import GrowthMixture
    from trajmix.simulate import population_theta, simulate

    Y, T = [f"Y{j}" for j in range(1, 6)], [f"T{j}" for j in range(1, 6)]
    model = GrowthMixture("linear", 2)
    theta = population_theta(model, [
        dict(mean=[10.0, 1.0], psi=[[2, .2], [.2, .3]], theta=1.0),
        dict(mean=[14.0, 2.5], psi=[[2, .2], [.2, .3]], theta=1.0)], gating=[[0.4]])
    df = simulate(model, theta, 200, seed=3, J=5)
    res = model.fit(df, y=Y, t=T, n_starts=2, seed=0, warn=False)
    est = res.estimates                 # builds the reported function (a closure)
    back = roundtrip(res)
    assert back.llf == res.llf
    np.testing.assert_allclose(back.estimates["se"], est["se"], atol=1e-12)
    np.testing.assert_allclose(back.predict_proba(df, y=Y, t=T),
                               res.predict_proba(df, y=Y, t=T), atol=1e-12)
    assert pytest.approx(back.bic) == res.bic
