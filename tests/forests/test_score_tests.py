"""Score-based tests against lavaan + strucchange (tests/data/forests_make_reference.R),
and their agreement with the naive likelihood ratio on clear splits."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sem
from forests import SEMTree
from forests.designs import lgcm_syntax
from forests.score_tests import decorrelate
from tests.conftest import reference

FREE_RESIDUALS = lgcm_syntax(equal_residuals=False)   # as in the R reference script
REF = reference("forests_scoretest_strucchange.csv")


@pytest.fixture(scope="module")
def fixture_data():
    d = reference("forests_scoretest_data.csv")
    d["o"] = pd.Categorical(d["o"], categories=[1, 2, 3, 4], ordered=True)
    return d


@pytest.fixture(scope="module")
def free_model():
    return sem.Model(FREE_RESIDUALS, meanstructure=True)


@pytest.mark.parametrize("info", ["opg", "observed"])
def test_statistics_match_strucchange_gefp(fixture_data, free_model, info):
    tree = SEMTree(free_model, covariates=["z", "o", "g"], method="score",
                   information=info, min_bucket=1, max_depth=1).fit(fixture_data)
    assert tree.tree_.root.llf == pytest.approx(
        REF.loc[REF.test == "loglik", "statistic"].item(), abs=1e-5)
    got = tree.tests().set_index("covariate")
    ref = REF[REF["info"] == info].set_index("covariate")
    for cov in ["z", "o", "g"]:
        assert got.loc[cov, "test"] == ref.loc[cov, "test"]
        assert got.loc[cov, "statistic"] == pytest.approx(ref.loc[cov, "statistic"],
                                                          rel=1e-4)
    # LM: chi-square, exact; maxLM: the same (Hansen-type) distribution up to MC error
    assert got.loc["g", "p"] == pytest.approx(ref.loc["g", "p"], rel=1e-4)
    assert got.loc["z", "p"] == pytest.approx(ref.loc["z", "p"], rel=0.2)


def test_naive_lr_matches_lavaan_two_group_fits(fixture_data, free_model):
    tree = SEMTree(free_model, covariates=["g"], method="naive", min_bucket=1,
                   max_depth=1).fit(fixture_data)
    row = tree.tests().iloc[0]
    assert row["split"] == "g in {b}"
    assert row["statistic"] == pytest.approx(
        REF.loc[REF.test == "LR in b", "statistic"].item(), rel=1e-6)


def test_contributions_sum_to_the_statistic(fixture_data, free_model):
    tree = SEMTree(free_model, covariates=["z"], method="score", max_depth=1).fit(
        fixture_data)
    t = tree.tree_.root.tests[0]
    assert t.contributions.sum() == pytest.approx(t.statistic)


def test_decorrelate_refuses_a_singular_information():
    rng = np.random.default_rng(0)
    S = rng.normal(size=(50, 3))
    S[:, 2] = S[:, 0]
    assert decorrelate(S, np.ones(50), None) is None
    z = decorrelate(S[:, :2], np.ones(50), None)
    # OPG-decorrelated scores have identity cross-product
    np.testing.assert_allclose(z.T @ z, np.eye(2), atol=1e-10)


@pytest.mark.parametrize("covs", [["P1", "Noise"], ["Noise", "P1"]])
def test_score_and_naive_agree_on_the_vignette(vignette, lgcm, covs):
    naive = SEMTree(lgcm, covariates=covs, method="naive", max_depth=1).fit(vignette)
    score = SEMTree(lgcm, covariates=covs, method="score", max_depth=1).fit(vignette)
    assert naive.root_split_ == score.root_split_ == "P1"
    assert naive.tree_.root.rule == score.tree_.root.rule


def test_score_and_naive_agree_on_numeric_and_ordered_splits(univariate):
    rng = np.random.default_rng(7)
    n = 500
    age = rng.uniform(0, 10, n)
    grade = pd.Categorical(rng.choice(list("ABCD"), n), categories=list("ABCD"),
                           ordered=True)
    x = rng.normal(size=n) + np.where(age > 6, 3.0, 0.0) + 0.1 * (np.asarray(grade) > "B")
    df = pd.DataFrame(dict(x=x, age=age, grade=grade))
    naive = SEMTree(univariate, covariates=["grade", "age"], max_depth=1).fit(df)
    score = SEMTree(univariate, covariates=["grade", "age"], method="score",
                    max_depth=1).fit(df)
    assert naive.root_split_ == score.root_split_ == "age"
    cut_n, cut_s = naive.tree_.root.rule.threshold, score.tree_.root.rule.threshold
    assert abs(cut_n - 6) < 0.2 and abs(cut_s - 6) < 0.2
