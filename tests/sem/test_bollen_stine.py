"""The Bollen–Stine bootstrap test (lavaan's ``test = "bollen.stine"``): the data
transformed to the model's moments, resampled and refitted in one compiled call."""
import numpy as np
import pandas as pd
import pytest

from sem import Model
from sem.bollen_stine import transformed_data
from sem.errors import DataError
from tests.conftest import HS_MODEL


@pytest.fixture(scope="module")
def hs_fit(hs):
    return Model(HS_MODEL).fit(hs)


def test_transformed_data_have_the_models_moments(hs_fit):
    """Z's biased covariance is Σ̂ and its mean μ̂, so the model fits Z exactly."""
    Sigma, mu = (np.asarray(a) for a in hs_fit.implied())
    Z = transformed_data(hs_fit.data["Y"], Sigma, mu)
    c = Z - Z.mean(axis=0)
    np.testing.assert_allclose(c.T @ c / len(Z), Sigma, atol=1e-12)
    np.testing.assert_allclose(Z.mean(axis=0), mu, atol=1e-12)
    ov = list(hs_fit.spec.vars.ov)
    refit = Model(HS_MODEL).fit(pd.DataFrame(Z, columns=ov))
    assert refit.fit_measures["chisq"] == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(refit.theta, hs_fit.theta, atol=1e-6)


def test_draws_equal_refits_of_resampled_frames(hs_fit):
    """Each draw's T* equals the χ² of the model refitted to the resampled rows of Z
    (the weights are bootstrap counts of the same stream, sem.estimation)."""
    from sem.estimation import bootstrap_weights

    out = hs_fit.bollen_stine(n_boot=5, seed=11)
    assert out["n_converged"] == 5 and len(out["boot"]) == 5
    Sigma, mu = (np.asarray(a) for a in hs_fit.implied())
    Z = transformed_data(hs_fit.data["Y"], Sigma)
    W = bootstrap_weights(np.random.default_rng(11), len(Z), 5)
    ov = list(hs_fit.spec.vars.ov)
    for b in range(5):
        rows = np.repeat(np.arange(len(Z)), W[b].astype(int))
        T = Model(HS_MODEL).fit(pd.DataFrame(Z[rows], columns=ov)).fit_measures["chisq"]
        assert out["boot"][b] == pytest.approx(T, rel=1e-6, abs=1e-6)


def test_a_misfitting_model_is_rejected_and_a_true_one_is_not(hs, hs_fit):
    """HS's three-factor CFA misfits (χ² 85.3 on 24 df): no draw of the transformed
    data comes near. Data simulated from that fitted model: the bootstrap p-value is
    close to the normal-theory one (both valid there)."""
    out = hs_fit.bollen_stine(n_boot=200, seed=1)
    assert out["chisq"] == pytest.approx(85.3056, abs=1e-3)
    assert out["n_converged"] == 200 and out["pvalue"] < 0.01
    assert np.median(out["boot"]) == pytest.approx(24, rel=0.3)      # ~ its df
    Sigma, mu = (np.asarray(a) for a in hs_fit.implied())
    rng = np.random.default_rng(5)
    sim = pd.DataFrame(rng.multivariate_normal(np.zeros(9), Sigma, size=400),
                       columns=list(hs_fit.spec.vars.ov))
    fit = Model(HS_MODEL).fit(sim)
    bs = fit.bollen_stine(n_boot=200, seed=2)
    assert abs(bs["pvalue"] - fit.fit_measures["pvalue"]) < 0.15


def test_bad_inputs_are_named(hs, hs_missing):
    with pytest.raises(DataError, match="complete data"):
        Model(HS_MODEL).fit(hs_missing, missing="ml").bollen_stine(n_boot=10)
    w = np.ones(len(hs))
    w[0] = 2.0
    with pytest.raises(DataError, match="case-weighted"):
        Model(HS_MODEL).fit(hs, weights=w).bollen_stine(n_boot=10)
    with pytest.raises(NotImplementedError, match="multiple-group"):
        Model(HS_MODEL).fit(hs, group="school").bollen_stine(n_boot=10)
    with pytest.raises(ValueError, match="n_boot"):
        Model(HS_MODEL).fit(hs).bollen_stine(n_boot=0)
