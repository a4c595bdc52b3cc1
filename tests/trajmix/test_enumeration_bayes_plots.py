"""Class enumeration with the bootstrap LRT, the Bayesian option, plots, robust SEs."""
import numpy as np
import pytest

from trajmix import GrowthMixture
from trajmix.enumerate import enumerate_classes
from trajmix.simulate import population_theta, simulate

Y6 = [f"Y{j}" for j in range(1, 7)]
T6 = [f"T{j}" for j in range(1, 7)]


@pytest.fixture(scope="module")
def two_class_data():
    m = GrowthMixture("linear", 2)
    th = population_theta(m, [dict(mean=[10.0, 1.0], psi=[[2, .2], [.2, .3]], theta=1.0),
                              dict(mean=[16.0, 3.0], psi=[[2, .2], [.2, .3]], theta=1.0)],
                          gating=[[0.0]])
    return simulate(m, th, 300, J=6, seed=2)


def test_enumeration_picks_two_classes_and_blrt_rejects_one(two_class_data):
    e = enumerate_classes(two_class_data, Y6, T6, k_max=3, curve="linear", n_starts=6,
                          blrt_draws=9, progress=False)
    tab = e.table
    assert list(tab["K"]) == [1, 2, 3]
    assert e.best_bic == 2
    assert {"logL", "AIC", "BIC", "SABIC", "entropy", "smallest_share", "BLRT_p"} <= set(tab)
    assert tab.loc[tab["K"] == 2, "BLRT_p"].item() == pytest.approx(0.1)   # 1 / (9 + 1)
    np.testing.assert_allclose(tab["SABIC"], -2 * tab["logL"] + tab["n_params"]
                               * np.log((300 + 2) / 24))


def test_bayes_posterior_is_near_ml(two_class_data):
    from trajmix.bayes import fit_bayes

    m = GrowthMixture("linear", 1)
    ml = m.fit(two_class_data, y=Y6, t=T6, n_starts=2)
    tab, draws = fit_bayes(m, two_class_data, Y6, T6, num_warmup=150, num_samples=150,
                           seed=1)
    for k in ("c1.alpha.eta0", "c1.alpha.eta1", "c1.theta"):
        assert tab.loc[k, "mean"] == pytest.approx(ml.params[k], abs=3 * ml.bse[k])
        assert tab.loc[k, "sd"] == pytest.approx(ml.bse[k], rel=0.5)
    assert draws.shape[0] == 150


def test_robust_standard_errors_are_close_under_a_correct_model(two_class_data):
    m = GrowthMixture("linear", 1)
    a = m.fit(two_class_data, y=Y6, t=T6, n_starts=2)
    b = m.fit(two_class_data, y=Y6, t=T6, n_starts=2, se="robust")
    ratio = b.bse["c1.alpha.eta1"] / a.bse["c1.alpha.eta1"]
    assert 0.7 < ratio < 1.4


def test_plots(two_class_data, tmp_path):
    from sem.plots import pyplot
    from trajmix import plots

    res = GrowthMixture("bilinear_spline", 2).fit(two_class_data, y=Y6, t=T6, n_starts=3,
                                                  warn=False)
    plt = pyplot()
    for f in (plots.trajectories, plots.posterior, plots.nonlinear):
        ax = f(res)
        ax.figure.savefig(tmp_path / f"{f.__name__}.png")
        plt.close(ax.figure)
    assert len(list(tmp_path.glob("*.png"))) == 3


def test_enumeration_of_long_data_equals_wide(two_class_data):
    """Long data (``id``, ``time``, ``outcome``) used to fail: the column arguments
    were passed on to the model's constructor."""
    import pandas as pd

    d = two_class_data.iloc[:120]
    long = pd.DataFrame([dict(id=i, time=d[f"T{j}"].iloc[i], y=d[f"Y{j}"].iloc[i])
                         for i in range(len(d)) for j in range(1, 7)])
    a = enumerate_classes(d, Y6, T6, k_max=2, curve="linear", n_starts=2, progress=False)
    b = enumerate_classes(long, id="id", time="time", outcome="y", k_max=2,
                          curve="linear", n_starts=2, progress=False)
    np.testing.assert_allclose(b.table["logL"], a.table["logL"], atol=1e-6)
    assert list(b.table["n_params"]) == [6, 13]
