"""Nonparametric bootstrap of a growth mixture: all draws in one batched call, classes
matched to the fit's, percentile intervals, and its bad inputs."""
import numpy as np
import pandas as pd
import pytest

from sem.errors import SpecificationError
from trajmix import GrowthMixture
from trajmix.simulate import population_theta, simulate

Y, T = [f"Y{j}" for j in range(1, 6)], [f"T{j}" for j in range(1, 6)]


@pytest.fixture(scope="module")
def fit_and_draws():
    model = GrowthMixture("linear", 2)
    theta = population_theta(model, [
        dict(mean=[10.0, 1.0], psi=[[2, .2], [.2, .3]], theta=1.0),
        dict(mean=[14.0, 2.5], psi=[[2, .2], [.2, .3]], theta=1.0)], gating=[[0.4]])
    df = simulate(model, theta, 250, seed=11, J=5, jitter=0.2)
    res = model.fit(df, y=Y, t=T, n_starts=4, seed=0, warn=False)
    draws = res.bootstrap(120, seed=5, chunk=40)
    return res, draws


def test_draws_are_label_matched_and_scatter_like_the_wald_ses(fit_and_draws):
    res, draws = fit_and_draws
    assert list(draws.columns) == res.param_names + ["llf", "converged"]
    assert len(draws) == 120 and draws["converged"].all()
    # classes matched to the fit's: every draw's class 2 is the steeper, higher class
    assert (draws["c2.alpha.eta1"] > draws["c1.alpha.eta1"]).all()
    assert (draws["c2.alpha.eta0"] > draws["c1.alpha.eta0"]).all()
    # bootstrap SEs agree with the observed-information SEs (120 draws: the SD of an
    # SD estimate is about 7 %, and the two estimators differ at this n)
    main = ["c1.alpha.eta0", "c1.alpha.eta1", "c2.alpha.eta0", "c2.alpha.eta1",
            "c1.theta", "c2.theta"]
    ratio = draws[main].std() / res.bse[main]
    assert ratio.between(0.7, 1.4).all(), ratio
    # the draws centre on the estimate (bias small next to the SE)
    assert (abs(draws[main].mean() - res.params[main]) < 0.5 * res.bse[main]).all()


def test_percentile_intervals(fit_and_draws):
    res, draws = fit_and_draws
    ci = res.conf_int(bootstrap=draws)
    assert list(ci.index) == res.param_names
    ok = draws[draws["converged"]]
    for name in ("c1.alpha.eta1", "c2.theta"):
        assert ci.loc[name, "lower"] == pytest.approx(np.quantile(ok[name], 0.025))
        assert ci.loc[name, "upper"] == pytest.approx(np.quantile(ok[name], 0.975))
        assert ci.loc[name, "lower"] < res.params[name] < ci.loc[name, "upper"]
    # the same seed draws the same persons and gives the same numbers
    again = res.bootstrap(120, seed=5, chunk=40)
    pd.testing.assert_frame_equal(again, draws)


def test_unit_weights_reproduce_the_fit(fit_and_draws):
    """A "draw" that keeps every person once is the original data: its fit is the
    fit's own estimate (the weighted path and the plain one agree)."""
    res, _ = fit_and_draws
    from sem.estimation import maximize_weighted

    W = np.ones((1, np.shape(res.data.arrays["w"])[0]))
    o = maximize_weighted(res.problem, res.data.arrays, W, res.theta)[0]
    assert o.llf == pytest.approx(res.llf, abs=1e-6)
    assert np.allclose(o.theta, res.theta, atol=1e-4)


def test_bad_inputs(fit_and_draws):
    res, draws = fit_and_draws
    with pytest.raises(SpecificationError, match="n_boot must be at least 2"):
        res.bootstrap(1)
    with pytest.raises(SpecificationError, match="n_boot must be a positive integer"):
        res.bootstrap(20.5)                      # was truncated to 20 draws silently
    with pytest.raises(SpecificationError, match="lack the columns"):
        res.conf_int(bootstrap=draws.drop(columns="c1.theta"))
    with pytest.raises(SpecificationError, match="converged bootstrap draws"):
        res.conf_int(bootstrap=draws.head(10))


def test_label_matching_in_units_of_the_reference_ses():
    """The draw that the spread-scaled distance swapped (residual variances 1.00 and
    1.10 in the reference, 1.11 and 0.89 in the draw; intercepts four SEs apart): in
    units of the reference's SEs the classes keep their labels."""
    from trajmix.labels import best_permutation

    model = GrowthMixture("linear", 2)

    def th(c1, c2, v1, v2):
        return population_theta(model, [
            dict(mean=c1, psi=[[2, .2], [.2, .3]], theta=v1),
            dict(mean=c2, psi=[[2, .2], [.2, .3]], theta=v2)], gating=[[0.4]])

    ref = th([9.912, 0.971], [14.167, 2.520], 0.9994, 1.1022)
    draw = th([9.951, 1.026], [14.382, 2.535], np.exp(0.1046), np.exp(-0.1142))
    se = np.full(ref.shape, 0.1)
    assert list(best_permutation(model.layout, draw, ref, se)) == [0, 1]
    swapped = th([14.382, 2.535], [9.951, 1.026], np.exp(-0.1142), np.exp(0.1046))
    assert list(best_permutation(model.layout, swapped, ref, se)) == [1, 0]


def test_fit_many_matches_labels_to_the_first_data_set(fit_and_draws):
    """Data sets fitted from starts with their classes swapped come back in the first
    data set's labelling."""
    from trajmix.problem import permute_classes

    res, _ = fit_and_draws
    model = res.model
    rng = np.random.default_rng(2)
    base = simulate(model, res.theta, 250, seed=11, J=5, jitter=0.2)
    frames = [base] + [base.iloc[rng.integers(0, 250, 250)].reset_index(drop=True)
                       for _ in range(39)]
    swapped = permute_classes(model.layout, res.theta, np.array([1, 0]))
    starts = np.stack([res.theta if i % 2 == 0 else swapped for i in range(40)])[:, None]
    fits = model.fit_many(frames, y=Y, t=T, starts=starts, chunk=40, warn=False)
    assert all(f.converged for f in fits)
    eta1 = np.array([[f.params["c1.alpha.eta1"], f.params["c2.alpha.eta1"]] for f in fits])
    assert (eta1[:, 1] > eta1[:, 0]).all()
