"""SEM trees on semtree's own designs (vignette and tests/testthat), regenerated."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sem
from forests import SEMTree

METHODS = ["naive", "score", "fair", "fair3"]


@pytest.mark.parametrize("method", METHODS)
def test_vignette_root_split_is_the_predictor(vignette, lgcm, method):
    tree = SEMTree(lgcm, covariates=["P1", "Noise"], method=method).fit(vignette)
    assert tree.root_split_ == "P1"
    root = tree.tree_.root
    left, right = tree.tree_.nodes[root.left], tree.tree_.nodes[root.right]
    # P1 adds 5 to the mean slope: the children's slope means differ by about 5
    s = tree.param_names_.index("s~1")
    assert abs(abs(right.theta[s] - left.theta[s]) - 5) < 0.4
    assert root.p < 1e-20


def _semtree_covariates(n, rng):
    ordered = pd.Categorical(rng.choice([1, 2, 3, 4], n), categories=[1, 2, 3, 4],
                             ordered=True)
    named = pd.Categorical(rng.choice(["one", "two", "three", "four"], n),
                           categories=["one", "two", "three", "four"], ordered=True)
    unordered = pd.Categorical(rng.choice(["red", "green", "blue", "teal"], n))
    return ordered, named, unordered


# semtree tests/testthat/test-basic-splitting.R: x ~ N(0, 1) scaled by .5 or 10 by level
@pytest.mark.parametrize("method", ["naive", "score", "fair"])
def test_basic_splitting_designs(univariate, method):
    n = 500
    rng = np.random.default_rng(233453)
    ordered, named, unordered = _semtree_covariates(n, rng)
    numeric = np.arange(1, n + 1, dtype=float)
    cases = [
        ("named", named, np.asarray(named) == "one", "named > one"),
        ("unordered", unordered, np.asarray(unordered) == "green", "unordered in {green}"),
        ("ordered", ordered, np.asarray(ordered).astype(int) <= 2, "ordered > 2"),
        ("numeric", numeric, numeric < numeric.mean(), "numeric > 250.5"),
    ]
    for name, cov, low, expected in cases:
        x = rng.normal(size=n) * np.where(low, 0.5, 10.0)
        df = pd.DataFrame({"x": x, name: cov})
        tree = SEMTree(univariate, covariates=[name], method=method, max_depth=2).fit(df)
        assert tree.tree_.root.rule.describe() == expected, (name, method)


# semtree tests/testthat/test-splitting-unordered.R (five colours; n = 200 there, 500
# here: the designs of this file share one compiled size)
def test_unordered_five_levels_same_split_across_methods(univariate):
    rng = np.random.default_rng(2345)
    n = 500
    colour = pd.Categorical(rng.choice(["red", "green", "blue", "teal", "purple"], n))
    x = rng.normal(size=n) + np.where(np.asarray(colour) == "green", 20, 1)
    df = pd.DataFrame(dict(x=x, colour=colour))
    rules = {m: SEMTree(univariate, covariates=["colour"], method=m).fit(df).tree_.root.rule
             for m in ["naive", "score", "fair"]}
    assert {r.describe() for r in rules.values()} == {"colour in {green}"}


# semtree tests/testthat/test-score-tests.R
def test_score_designs(univariate):
    rng = np.random.default_rng(458)
    n = 500         # semtree: 1000
    weather = pd.Categorical(rng.choice(["lightning", "rain", "sunshine", "snow"], n))
    w = np.asarray(weather)
    x = rng.normal(size=n) + np.where(w == "rain", 20, 0) + np.where(w == "sunshine", 40, 0)
    tree = SEMTree(univariate, covariates=["weather"], method="score").fit(
        pd.DataFrame(dict(x=x, weather=weather)))
    # semtree's test expects {lightning, snow} | {rain, sunshine} (the partition the
    # naive LR prefers); the largest binary LM statistic at the pooled estimate, which
    # semtree's sctest_multinomial documents, is {sunshine} here (1.02 n against
    # 0.83 n): we take that, and the next split separates rain
    assert tree.tree_.root.rule.labels in {("sunshine",), ("lightning", "snow")}
    leaves = {tuple(sorted(set(np.asarray(weather)[tree.apply(
        pd.DataFrame(dict(weather=weather))) == nd.id]))) for nd in tree.tree_.leaves}
    assert leaves == {("lightning", "snow"), ("rain",), ("sunshine",)}

    n = 100
    grade = pd.Categorical(rng.choice(list("ABCD"), n), categories=list("ABCD"),
                           ordered=True)
    x = rng.normal(size=n) + np.where(np.asarray(grade) >= "C", 10, 0)
    tree = SEMTree(univariate, covariates=["grade"], method="score").fit(
        pd.DataFrame(dict(x=x, grade=grade)))
    assert tree.tree_.root.rule.describe() == "grade > B"
    # min_bucket = 50 of 100 cases leaves (almost) no admissible boundary: no crash
    SEMTree(univariate, covariates=["grade"], method="score", min_bucket=50).fit(
        pd.DataFrame(dict(x=x, grade=grade)))


# semtree tests/testthat/test-basic-splitting-ext2.R: a one-factor CFA, x4 shifted by 2
# for the retired; p1 is the strongest predictor with and without Bonferroni
def test_cfa_design_with_bonferroni():
    rng = np.random.default_rng(345)
    N = 500         # semtree: 2000
    p1 = rng.choice(["retired", "in workforce", "unemployed"], N)
    p2 = rng.choice(["north", "south"], N)
    p3 = pd.Categorical(rng.choice([5, 9, 10, 11, 12, 13, 14, 15], N), ordered=True)
    S = np.full((4, 4), 0.8) + 0.2 * np.eye(4)
    X = rng.multivariate_normal(np.zeros(4), S, N)
    X[:, 3] += np.where(p1 == "retired", 2, 0)
    df = pd.DataFrame(X, columns=["x1", "x2", "x3", "x4"])
    df["p1"], df["p2"], df["p3"] = p1, p2, p3
    model = sem.Model("L =~ 1*x1 + x2 + x3 + x4")
    for kw in (dict(), dict(bonferroni=True), dict(method="score")):
        tree = SEMTree(model, covariates=["p1", "p2", "p3"], max_depth=1, **kw).fit(df)
        assert tree.root_split_ == "p1", kw
        assert tree.tree_.root.rule.labels == ("retired",)
    assert tree.tree_.root.n_comp == 3


def test_fair3_keeps_the_number_of_comparisons(vignette, lgcm):
    # semtree's fair3 resets the count to 0, so bonferroni=TRUE gave p = 0 always
    tree = SEMTree(lgcm, covariates=["P1", "Noise"], method="fair3", bonferroni=True,
                   alpha=0.05).fit(vignette)
    for nd in tree.tree_.nodes:
        if nd.test is not None:
            assert nd.n_comp >= 1
            assert nd.p_adjusted == pytest.approx(min(1.0, nd.p * nd.n_comp), rel=1e-9)
    # with two pure-noise covariates a significant second-level split is unusual
    assert tree.depth_ <= 2


def test_maxlr_tests_numeric_covariates_with_the_suplm_distribution(univariate):
    rng = np.random.default_rng(11)
    n = 500
    z = rng.normal(size=n)
    noise = rng.normal(size=n)
    df = pd.DataFrame(dict(x=rng.normal(size=n) + 1.5 * (z > 0.4), z=z, noise=noise))
    plain = SEMTree(univariate, covariates=["z", "noise"], max_depth=1).fit(df)
    maxlr = SEMTree(univariate, covariates=["z", "noise"], use_maxlr=True,
                    max_depth=1).fit(df)
    assert plain.root_split_ == maxlr.root_split_ == "z"
    a, b = plain.tests().set_index("covariate"), maxlr.tests().set_index("covariate")
    assert set(b["test"]) == {"maxLR"}
    # the same LR, but a p-value that accounts for the many split points
    assert b.loc["z", "statistic"] == pytest.approx(a.loc["z", "statistic"])
    assert b.loc["noise", "p"] > a.loc["noise", "p"]


def test_missing_covariate_values_stay_in_the_node(vignette, lgcm):
    df = vignette.copy()
    df["P1"] = df["P1"].astype(object)
    df.loc[:49, "P1"] = np.nan
    for method in ["naive", "score"]:
        tree = SEMTree(lgcm, covariates=["P1", "Noise"], method=method,
                       max_depth=1).fit(df)
        assert tree.root_split_ == "P1"
        root = tree.tree_.root
        kids = [tree.tree_.nodes[root.left], tree.tree_.nodes[root.right]]
        assert sum(k.n for k in kids) == 950
        at = tree.apply(df)
        assert np.all(at[:50] == 0)            # missing P1: stays at the root
        assert np.all(at[50:] > 0)


def test_output_prediction_and_tables(vignette, lgcm):
    tree = SEMTree(lgcm, covariates=["P1", "Noise"], method="score").fit(vignette)
    text = str(tree)
    assert "split: P1 in {0}" in text and "s~1 = " in text
    pred = tree.predict(vignette)
    assert list(pred.columns) == tree.param_names_ and len(pred) == len(vignette)
    leaves = tree.leaf_params_
    assert len(leaves) == tree.n_leaves_
    nodes = tree.nodes_
    assert nodes.loc[0, "split"] == "P1 in {0}"
    assert tree.get_params()["method"] == "score"


def test_sequential_refits_grow_the_same_tree(univariate):
    rng = np.random.default_rng(5)
    n = 120
    g = pd.Categorical(rng.choice(["a", "b", "c"], n))
    z = np.round(rng.normal(size=n), 1)
    x = rng.normal(size=n) * np.where(np.asarray(g) == "a", 3, 1) + 0.5 * z
    df = pd.DataFrame(dict(x=x, g=g, z=z))
    a = SEMTree(univariate, covariates=["g", "z"], max_depth=2).fit(df)
    b = SEMTree(univariate, covariates=["g", "z"], max_depth=2).fit(df, sequential=True)
    assert [nd.rule for nd in a.tree_.nodes] == [nd.rule for nd in b.tree_.nodes]
    np.testing.assert_allclose(a.nodes_["statistic"], b.nodes_["statistic"], rtol=1e-6)


def test_max_split_points_and_many_levels(univariate):
    rng = np.random.default_rng(9)
    n = 500
    z = rng.normal(size=n)
    region = pd.Categorical(rng.choice([f"r{i}" for i in range(14)], n))
    shift = np.isin(np.asarray(region), ["r3", "r7", "r11"])
    df = pd.DataFrame(dict(x=rng.normal(size=n) + 3 * shift, z=z, region=region))
    tree = SEMTree(univariate, covariates=["region", "z"], max_split_points=20,
                   max_depth=1).fit(df)
    t = tree.tests().set_index("covariate")
    assert t.loc["z", "candidates"] <= 20
    assert t.loc["region", "candidates"] == 13       # ordered splits above 10 levels
    assert set(tree.tree_.root.rule.labels) == {"r3", "r7", "r11"}
    score = SEMTree(univariate, covariates=["region", "z"], method="score",
                    max_depth=1).fit(df)
    assert set(score.tree_.root.rule.labels) == {"r3", "r7", "r11"}


def test_a_trajmix_growth_model_is_a_node_model():
    """A single-class trajmix growth model (individual measurement times) follows the
    same protocol: the tree needs nothing else."""
    from trajmix import mixture
    from trajmix.datasets import load

    df = load("ecls_k2011")
    df["EDU"] = pd.Categorical(df["EDU"], ordered=True)
    model = mixture.GrowthMixture(curve="linear", n_classes=1)
    opts = dict(y=[f"M{j}" for j in range(1, 10)], t=[f"T{j}" for j in range(1, 10)])
    tree = SEMTree(model, covariates=["EDU", "INCOME"], method="score", max_depth=1,
                   prepare_options=opts).fit(df)
    assert tree.root_split_ in ("EDU", "INCOME")
    assert tree.tree_.root.p < 1e-6
    assert tree.param_names_[0] == "c1.alpha.eta0"
