"""What multiple-group fits take as one group does (``sem.multigroup.fit_groups``):
case weights, several starts or a given start, definition variables, and the bad
inputs of each. (Invariance, lavaan's numbers and the results' methods:
test_multigroup.py.)"""
import numpy as np
import pandas as pd
import pytest

from sem import DataError, Model, SpecificationError, lrt
from tests.conftest import HS_MODEL


def test_case_weights_equal_repeated_rows(hs):
    """Frequency weights with groups: a weight of c counts a row c times, so the fit
    equals the fit to the data with each row repeated (estimates, SEs, log-likelihood,
    chi-square with N the weights' sum); rows of weight 0 drop out as if deleted."""
    rng = np.random.default_rng(5)
    w = rng.integers(0, 4, len(hs))
    rep = hs.loc[np.repeat(hs.index.to_numpy(), w)]
    a = Model(HS_MODEL).fit(hs, group="school", group_equal="loadings", weights=w)
    b = Model(HS_MODEL).fit(rep, group="school", group_equal="loadings")
    assert a.converged and b.converged and a.nobs == b.nobs == w.sum()
    assert a.group_nobs == b.group_nobs
    np.testing.assert_allclose(a.params, b.params, atol=1e-6)
    np.testing.assert_allclose(a.bse, b.bse, atol=1e-6)
    assert a.llf == pytest.approx(b.llf, abs=1e-6)
    for k in ("chisq", "df", "cfi", "rmsea", "srmr"):
        assert a.fit_measures[k] == pytest.approx(b.fit_measures[k], rel=1e-6, abs=1e-9), k
    # unit weights are no weights
    c = Model(HS_MODEL).fit(hs, group="school", group_equal="loadings",
                            weights=np.ones(len(hs)))
    d = Model(HS_MODEL).fit(hs, group="school", group_equal="loadings")
    np.testing.assert_allclose(c.params, d.params, atol=1e-8)


def test_several_starts_and_a_given_start(hs):
    """n_starts jittered copies of the lavaan-style start reach the same optimum;
    start= begins at a given θ (at the optimum: a step or two)."""
    ref = Model(HS_MODEL).fit(hs, group="school", group_equal="loadings")
    many = Model(HS_MODEL).fit(hs, group="school", group_equal="loadings", n_starts=4,
                               seed=1)
    assert many.converged and many.llf == pytest.approx(ref.llf, abs=1e-7)
    np.testing.assert_allclose(many.params, ref.params, atol=1e-5)
    warm = Model(HS_MODEL).fit(hs, group="school", group_equal="loadings",
                               start=ref.params.to_numpy())
    assert warm.converged and warm.opt.n_iter <= 3
    np.testing.assert_allclose(warm.params, ref.params, atol=1e-6)


def test_weights_and_start_bad_input(hs):
    m = Model(HS_MODEL)
    with pytest.raises(DataError, match=r"one value per row \(301\)"):
        m.fit(hs, group="school", weights=np.ones(10))
    with pytest.raises(DataError, match=r"finite and >= 0; 1 are not \(rows \[7\]\)"):
        m.fit(hs, group="school", weights=np.where(np.arange(len(hs)) == 7, -1.0, 1.0))
    with pytest.raises(DataError, match="the weights are all 0"):
        m.fit(hs, group="school", weights=np.zeros(len(hs)))
    with pytest.raises(SpecificationError, match=r"start must be \d+ finite numbers"):
        m.fit(hs, group="school", start=np.zeros(3))
    with pytest.raises(ValueError, match="n_starts must be a positive integer"):
        m.fit(hs, group="school", n_starts=0)


def _growth_groups(seed=4):
    """Two groups of a linear growth model measured at each person's own times
    (definition variables t0..t4), slope means 3 and 2."""
    frames = []
    for g, (n, slope) in enumerate([(300, 3.0), (250, 2.0)]):
        rng = np.random.default_rng(seed + g)
        T = np.arange(5.0) + rng.uniform(-0.3, 0.3, (n, 5))
        T[:, 0] = 0
        eta = rng.multivariate_normal([50, slope], [[9, 0.6], [0.6, 0.5]], n)
        Y = eta[:, :1] + eta[:, 1:] * T + rng.normal(0, 1.0, (n, 5))
        df = pd.DataFrame(Y, columns=[f"y{j}" for j in range(5)])
        for j in range(5):
            df[f"t{j}"] = T[:, j]
        frames.append(df.assign(cohort=f"c{g}"))
    return pd.concat(frames, ignore_index=True)


GROWTH_DEFVARS = ("i =~ " + " + ".join(f"1*y{j}" for j in range(5)) + "\n"
                  "s =~ " + " + ".join(f"data.t{j}*y{j}" for j in range(5)) + "\n"
                  "i ~ 1; s ~ 1\n" + "\n".join(f"y{j} ~ 0*1; y{j} ~~ y{j}"
                                               for j in range(5)))


def test_definition_variables_with_groups_equal_separate_fits():
    """Without equality constraints a multiple-group fit is the groups' fits side by
    side: the same estimates and SEs, the log-likelihoods summed (each case's loadings
    from its own times). With the slope mean equal across groups the likelihood ratio
    rejects it (the means are 3 and 2)."""
    df = _growth_groups()
    m = Model(GROWTH_DEFVARS)
    mg = m.fit(df, group="cohort")
    assert mg.converged and mg.problem.has_defvars and mg.information == "observed"
    est = mg.estimates
    llf = 0.0
    for g, lab in enumerate(mg.groups):
        one = m.fit(df[df["cohort"] == lab].drop(columns="cohort"))
        llf += one.llf
        part = est[est["group"] == g + 1].reset_index(drop=True)
        ref = one.estimates.reset_index(drop=True)
        assert list(part["lhs"] + part["op"] + part["rhs"]) == \
            list(ref["lhs"] + ref["op"] + ref["rhs"])
        np.testing.assert_allclose(part["est"], ref["est"], atol=1e-5)
        np.testing.assert_allclose(part["se"], ref["se"], atol=1e-5, equal_nan=True)
    assert mg.llf == pytest.approx(llf, abs=1e-6)
    s_mean = est.query("lhs == 's' and op == '~1'")["est"].to_numpy()
    np.testing.assert_allclose(s_mean, [3.0, 2.0], atol=0.15)
    fm = mg.fit_measures
    assert set(fm.index) == {"npar", "logl", "aic", "bic"}
    assert fm["aic"] == pytest.approx(-2 * llf + 2 * mg.n_params)
    assert "Loglikelihood" in mg.summary() and "Test statistic" not in mg.summary()
    equal = Model(GROWTH_DEFVARS.replace("s ~ 1", "s ~ c(m, m)*1")).fit(df, group="cohort")
    assert equal.n_params == mg.n_params - 1 and 2 * (mg.llf - equal.llf) > 50
    # no χ² without a saturated model: lrt is the −2LL difference (OpenMx's mxCompare)
    tab = lrt(equal=equal, free=mg)
    assert list(tab.index) == ["free", "equal"]
    assert tab.loc["equal", "-2LL diff"] == pytest.approx(2 * (mg.llf - equal.llf))
    assert tab.loc["equal", "Df diff"] == 1 and tab.loc["equal", "Pr(>Chisq)"] < 1e-10
    for call in (lambda: mg.rsquare, lambda: mg.residuals(), lambda: mg.predict(),
                 lambda: mg.modindices()):
        with pytest.raises(NotImplementedError, match="definition variables"):
            call()
