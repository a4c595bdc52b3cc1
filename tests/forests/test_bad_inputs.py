"""Bad input never crashes a tree: clear errors naming the covariate, or a recorded
note when a node model fails."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import sem
from forests import SEMForest, SEMTree
from sem.errors import DataError, SpecificationError

from .conftest import vignette_data


@pytest.fixture(scope="module")
def small():
    # the vignette's size: the same compiled code as the other growth-model tests
    return vignette_data(n=1000, seed=4)


def test_covariate_with_one_level_gives_a_root_only_tree(small, lgcm):
    df = small.assign(const=pd.Categorical(["two"] * len(small)))
    with pytest.warns(UserWarning, match="'const' has a single observed level"):
        tree = SEMTree(lgcm, covariates=["const"]).fit(df)
    assert tree.root_split_ is None and tree.n_leaves_ == 1
    assert tree.tree_.root.term_reason == "no valid split"
    with pytest.warns(UserWarning, match="const"):
        tree = SEMTree(lgcm, covariates=["const", "P1"], method="score").fit(df)
    assert tree.root_split_ == "P1"


def test_covariate_all_missing_is_a_data_error(small, lgcm):
    df = small.assign(empty=np.nan)
    with pytest.raises(DataError, match="covariate 'empty' is entirely missing"):
        SEMTree(lgcm, covariates=["P1", "empty"]).fit(df)


def test_unknown_or_model_covariates(small, lgcm):
    with pytest.raises(SpecificationError, match="'age' not found"):
        SEMTree(lgcm, covariates=["P1", "age"]).fit(small)
    with pytest.raises(SpecificationError, match="X1"):
        SEMTree(lgcm, covariates=["X1"]).fit(small)
    with pytest.raises(SpecificationError, match="listed twice"):
        SEMTree(lgcm, covariates=["P1", "P1"]).fit(small)
    with pytest.raises(DataError, match="'when' has dtype datetime"):
        SEMTree(lgcm, covariates=["when"]).fit(
            small.assign(when=pd.Timestamp("2020-01-01")))
    with pytest.raises(DataError, match="DataFrame"):
        SEMTree(lgcm, covariates=["P1"]).fit(small.to_numpy())
    with pytest.raises(DataError, match="'inf' has infinite values"):
        SEMTree(lgcm, covariates=["inf"]).fit(small.assign(inf=np.inf))


def test_default_covariates_are_the_non_model_columns(small, lgcm):
    tree = SEMTree(lgcm, method="score", max_depth=1).fit(small)
    assert tree.covariates_ == ["P1", "Noise"]


def test_bad_settings(small, lgcm):
    for kw, msg in [(dict(method="cv"), "method"), (dict(information="x"), "information"),
                    (dict(trim=0.7), "trim"), (dict(alpha=2), "alpha"),
                    (dict(min_bucket=0), "min_bucket")]:
        with pytest.raises(SpecificationError, match=msg):
            SEMTree(lgcm, covariates=["P1"], **kw).fit(small)
    with pytest.raises(SpecificationError, match="mtry"):
        SEMForest(lgcm, covariates=["P1"], mtry=0, progress=False).fit(small)
    forest = SEMForest(lgcm, covariates=["P1"], n_trees=2, progress=False)
    for kw, msg in [(dict(max_runs=2.5), "max_runs must be a positive integer"),
                    (dict(n_trees=0), "n_trees must be a positive integer"),
                    (dict(alpha=1.2), r"alpha must lie in \(0, 1\)")]:
        with pytest.raises(SpecificationError, match=msg):
            forest.boruta(small, **kw)
    # counts are whole numbers: 2.5 trees once grew 2 without a word
    for kw in (dict(n_trees=2.5), dict(n_trees=0), dict(mtry=1.5), dict(n_trees=True)):
        name = next(iter(kw))
        with pytest.raises(SpecificationError, match=f"{name} must be a positive integer"):
            SEMForest(lgcm, covariates=["P1"], progress=False, **kw).fit(small)
    with pytest.raises(SpecificationError, match="sampling"):
        SEMForest(lgcm, covariates=["P1"], sampling="jackknife", progress=False).fit(small)


def test_mtry_larger_than_the_number_of_covariates(small, lgcm):
    with pytest.warns(UserWarning, match="mtry = 5 exceeds the 2 covariates"):
        f = SEMForest(lgcm, covariates=["P1", "Noise"], mtry=5, n_trees=3,
                      method="score", progress=False).fit(small)
    assert f.settings_.mtry is None
    assert all(nd.tests and len(nd.tests) == 2 for nd in f.trees_[0].nodes
               if nd.test is not None)


def test_unidentified_model():
    # a factor's variance and its single indicator's residual variance: one moment,
    # two parameters
    rng = np.random.default_rng(0)
    df = pd.DataFrame(dict(x=rng.normal(size=200), g=rng.integers(0, 2, 200)))
    bad = sem.Model("f =~ 1*x\nf ~~ a*f\nx ~~ b*x", meanstructure=True)
    with pytest.raises(SpecificationError, match="not identified.*'a', 'b'|not identified.*'b', 'a'"):
        SEMTree(bad, covariates=["g"]).fit(df)


def _degenerate(df, rows):
    """Cases whose outcomes are all identical: a child holding only them has a
    singular sample covariance, and its model cannot converge."""
    df = df.copy()
    for j in range(1, 6):
        df.loc[rows, f"X{j}"] = 10.0
    df["deg"] = pd.Categorical(np.isin(np.arange(len(df)), rows).astype(int))
    return df


@pytest.mark.parametrize("method", ["naive", "score", "fair"])
def test_a_node_model_that_fails_to_converge_is_recorded(small, lgcm, method):
    df = _degenerate(small, np.arange(30))
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no warning escapes, nothing crashes
        tree = SEMTree(lgcm, covariates=["deg", "P1", "Noise"], method=method,
                       min_bucket=10).fit(df)
    # the tree goes on: P1 still splits somewhere
    assert "P1" in tree.tree_.split_covariates()
    if method == "score":
        # deg is chosen, its degenerate child does not converge: recorded, leaf
        failed = [nd for nd in tree.tree_.nodes if not nd.converged]
        assert failed and all(nd.is_leaf for nd in failed)
        assert any("did not converge" in note for note in tree.notes_)
        bad = failed[0]
        parent = tree.tree_.nodes[bad.parent]
        np.testing.assert_array_equal(bad.theta, parent.theta)
        assert "did not converge" in str(tree)
    else:
        # the candidate split with a failing child is skipped and counted
        notes = [n for nd in tree.tree_.nodes for n in nd.notes]
        assert any("deg" in n and "did not converge" in n for n in notes) or \
            tree.tree_.root.rule.covariate != "deg"


def test_tiny_children_with_singular_covariances_never_crash(small, lgcm):
    # a level of 3 outlying cases and min_bucket = 2: its child has fewer cases than
    # the model has variables, so its sample covariance is singular
    df = small.copy()
    df["site"] = pd.Categorical(np.where(np.arange(len(df)) < 3, "tiny",
                                         np.where(np.arange(len(df)) % 2, "a", "b")))
    df.loc[:2, [f"X{j}" for j in range(1, 6)]] += 40.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tree = SEMTree(lgcm, covariates=["site", "P1"], method="score", min_N=4,
                       min_bucket=2, alpha=1.0, max_depth=3).fit(df)
        f = SEMForest(lgcm, covariates=["site", "P1"], method="score", min_N=4,
                      min_bucket=2, n_trees=3, mtry=1, max_depth=3,
                      progress=False).fit(df)
    assert tree.n_leaves_ >= 2
    tiny = [nd for nd in tree.tree_.nodes if nd.n <= 3]
    assert tiny and all(nd.is_leaf for nd in tiny)
    assert np.isfinite(f.variable_importance_["P1"])


def test_rows_without_outcomes_are_rejected_with_a_clear_message(small, lgcm):
    df = small.copy()
    df.loc[3, [f"X{j}" for j in range(1, 6)]] = np.nan
    with pytest.raises(DataError, match="no observed value"):
        SEMTree(lgcm, covariates=["P1"], prepare_options=dict(missing="ml")).fit(df)
    tree = SEMTree(lgcm, covariates=["P1"], method="score",
                   prepare_options=dict(missing="ml")).fit(df.drop(index=3))
    assert tree.root_split_ == "P1"


def test_a_single_covariate_name_is_not_split_into_characters(small, lgcm):
    # covariates="P1" used to become ["P", "1"]: "covariates 'P', '1' not found"
    tree = SEMTree(lgcm, covariates="P1", method="score", max_depth=1).fit(small)
    assert tree.covariates_ == ["P1"] and tree.root_split_ == "P1"


def test_a_forest_whose_trees_never_split_says_why(small, lgcm):
    # 30 cases: each tree's subsample of 19 is at most min_N = max(20, 5k) = 30, so no
    # tree splits and every importance is NaN — this used to pass silently
    with pytest.warns(UserWarning, match=r"no tree of the forest split.*about 19 cases "
                                         r"\(min_N = 30"):
        f = SEMForest(lgcm, covariates=["P1", "Noise"], n_trees=3, method="score",
                      progress=False).fit(small.iloc[:30])
    assert f.variable_importance_.isna().all()
