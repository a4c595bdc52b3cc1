"""SEM forests: importance on semtree's vignette design, reproducibility, executors,
proximity, partial dependence and Boruta."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from forests import SEMForest


@pytest.fixture(scope="module")
def forest(vignette, lgcm):
    return SEMForest(lgcm, covariates=["P1", "Noise"], n_trees=20, mtry=1,
                     method="score", seed=0, progress=False).fit(vignette)


def test_vignette_importance_of_the_predictor_dwarfs_the_noise(forest):
    vi = forest.variable_importance_
    assert list(vi.index) == ["P1", "Noise"]
    assert vi["P1"] > 50 * max(abs(vi["Noise"]), 1.0)
    assert forest.importance_per_tree_.shape == (20, 2)
    assert np.all(np.isfinite(forest.baseline_deviance_))


def test_naive_maxlr_forest_agrees(vignette, lgcm):
    f = SEMForest(lgcm, covariates=["P1", "Noise"], n_trees=8, mtry=1, seed=1,
                  progress=False).fit(vignette)
    assert f.settings_.method == "naive" and f.settings_.use_maxlr
    vi = f.variable_importance_
    assert vi["P1"] > 50 * max(abs(vi["Noise"]), 1.0)


def test_importance_aggregations(forest):
    vi, base = forest.importance_per_tree_, forest.baseline_deviance_
    mean = forest.variable_importance(aggregate="mean")
    pd.testing.assert_series_equal(mean, forest.variable_importance_)
    med = forest.variable_importance(aggregate="median")
    assert med["P1"] == pytest.approx(vi["P1"].median())
    rel = forest.variable_importance(scale="relative_baseline")
    assert rel["P1"] == pytest.approx((100 * vi["P1"] / base.abs()).mean())
    zero = forest.variable_importance(omit_na=False)
    assert zero["Noise"] == pytest.approx(vi["Noise"].fillna(0).mean())


def test_reproducible_and_independent_of_batching(vignette, lgcm, forest):
    other = clone(forest).set_params(trees_per_task=3).fit(vignette)
    for a, b in zip(forest.trees_, other.trees_):
        assert [nd.rule for nd in a.nodes] == [nd.rule for nd in b.nodes]
    pd.testing.assert_series_equal(forest.variable_importance_,
                                   other.variable_importance_, rtol=1e-6)
    assert not np.array_equal(forest.inbag_[0], forest.inbag_[1])   # seeds per tree
    assert set(np.unique(forest.inbag_)) == {0.0, 1.0}
    assert forest.inbag_.sum(1).tolist() == [632.0] * 20


def test_dask_executor_gives_the_same_forest(vignette, lgcm, forest):
    distributed = pytest.importorskip(
        "dask.distributed",
        reason="dask is the optional [distributed] extra; the [test] extra that "
               "`make test` installs includes it, so the suite runs this test")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        f = clone(forest).set_params(executor=client.get_executor(),
                                     trees_per_task=7).fit(vignette)
    for a, b in zip(forest.trees_, f.trees_):
        assert [nd.rule for nd in a.nodes] == [nd.rule for nd in b.nodes]
    pd.testing.assert_series_equal(forest.variable_importance_, f.variable_importance_,
                                   rtol=1e-6)


def test_proximity(forest):
    P = forest.proximity()
    assert P.shape == (1000, 1000)
    M = P.to_numpy()
    np.testing.assert_allclose(M, M.T)
    np.testing.assert_allclose(np.diag(M), 1.0)
    assert M.min() >= 0 and M.max() <= 1
    # cases that differ on P1 share a node only in trees that never split on P1
    p1 = forest._shared.frame["P1"].to_numpy()
    assert M[np.ix_(p1 == 0, p1 == 1)].mean() < M[np.ix_(p1 == 0, p1 == 0)].mean()


def test_partial_dependence_of_the_slope_on_the_predictor(forest):
    pdep = forest.partial_dependence("P1", "s~1")
    assert list(pdep.index) == [0, 1]
    # P1 adds 5 to the slope; trees that never split on P1 (mtry = 1) shrink the
    # forest average towards 0
    assert 3 < pdep.loc[1, "s~1"] - pdep.loc[0, "s~1"] < 5.5
    both = forest.partial_dependence("P1")
    assert list(both.columns) == forest.param_names_


def test_predict_and_apply(forest, vignette):
    ids = forest.apply(vignette.head(10))
    assert ids.shape == (10, 20)
    pred = forest.predict(vignette.head(10))
    assert list(pred.columns) == forest.param_names_


def test_bootstrap_sampling(vignette, lgcm):
    f = SEMForest(lgcm, covariates=["P1", "Noise"], n_trees=4, mtry=1, method="score",
                  sampling="bootstrap", progress=False).fit(vignette)
    assert f.inbag_.sum(1).tolist() == [1000.0] * 4
    assert f.inbag_.max() > 1
    assert np.all(np.isfinite(f.oob_deviance()))
    assert f.variable_importance_["P1"] > 10 * max(abs(f.variable_importance_["Noise"]), 1)


def test_boruta_confirms_the_predictor(forest, vignette):
    from concurrent.futures import ThreadPoolExecutor

    res = forest.boruta(max_runs=8, n_trees=6, seed=3)
    with ThreadPoolExecutor(2) as ex:     # Boruta's forests use the forest's executor
        again = clone(forest).set_params(executor=ex, trees_per_task=3).boruta(
            vignette, max_runs=8, n_trees=6, seed=3)
    pd.testing.assert_frame_equal(res.table, again.table)
    assert res.decision["P1"] == "confirmed"
    assert res.decision["Noise"] != "confirmed"
    assert res.selected == ["P1"]
    assert res.threshold < res.table.loc["P1", "importance"]
    assert "confirmed" in str(res)


def test_progress_bar(vignette, lgcm, capsys):
    SEMForest(lgcm, covariates=["P1"], n_trees=2, method="score", mtry=1,
              importance=False, progress=True).fit(vignette)
    assert "SEM forest" in capsys.readouterr().err


def test_boruta_rough_fix_decides_tentatives_by_medians():
    """TentativeRoughFix: median importance against the median shadow maximum (5.0)."""
    from forests.boruta import BorutaResult

    history = pd.DataFrame({"shadow_max": [4.0, 5.0, 9.0]}, index=[1, 2, 3])
    table = pd.DataFrame({"importance": [9.0, 6.0, 4.0, 1.0],
                          "median_importance": [9.0, 5.5, 5.0, 1.0],
                          "hits": [3, 2, 1, 0], "runs": [3, 3, 3, 3],
                          "decision": ["confirmed", "tentative", "tentative", "rejected"]},
                         index=pd.Index(["a", "b", "c", "d"], name="covariate"))
    fixed = BorutaResult(table, history, 0.05).rough_fix()
    assert fixed.decision.tolist() == ["confirmed", "confirmed", "rejected", "rejected"]
    assert fixed.table["rough_fix"].tolist() == [False, True, True, False]
    assert fixed.selected == ["a", "b"]
    assert table["decision"].tolist()[1] == "tentative"      # the original is untouched


def test_boruta_shadows_keep_the_covariate_type(vignette, lgcm):
    """A shadow must be tested like its covariate: an ordered Categorical's shadow was
    built through numpy and became an unordered covariate (all bipartitions of its
    levels instead of the ordered splits), which inflates the shadow importances."""
    kinds = []

    class Recording(SEMForest):
        def fit(self, data, **kw):
            out = super().fit(data, **kw)
            kinds.append(dict(self.covariate_kinds_))
            levels = list(self._covs["shadow_grade"].levels)
            kinds[-1]["levels"] = levels
            return out

    rng = np.random.default_rng(1)
    grade = pd.Categorical(rng.choice(["low", "mid", "high", "top"], len(vignette)),
                           categories=["low", "mid", "high", "top"], ordered=True)
    df = vignette.assign(grade=grade)
    f = Recording(lgcm, covariates=["P1", "grade"], n_trees=2, mtry=1, method="score",
                  importance=False, seed=0, progress=False)
    f.boruta(df, max_runs=1, n_trees=2)
    assert kinds and kinds[0]["shadow_grade"] == "ordered"
    assert kinds[0]["levels"] == ["low", "mid", "high", "top"]
    assert kinds[0]["shadow_P1"] == kinds[0]["P1"]


def test_relative_importance_keeps_its_sign_when_the_deviance_is_negative():
    """The OOB deviance −2ℓ of small-scale continuous outcomes is negative (densities
    above 1); dividing by it flipped the sign: an informative covariate (VI > 0) came
    out with a negative relative importance."""
    from forests.importance import aggregate

    per_tree = pd.DataFrame({"a": [5.0, 3.0, np.nan], "b": [-1.0, 0.5, 2.0]})
    base = pd.Series([-200.0, -100.0, 400.0])
    rel = aggregate(per_tree, base, scale="relative_baseline")
    assert rel["a"] == pytest.approx((100 * 5 / 200 + 100 * 3 / 100) / 2)     # 2.5, 3
    assert rel["b"] == pytest.approx((-0.5 + 0.5 + 0.5) / 3)
    assert rel["a"] > 0
