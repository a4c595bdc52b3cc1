"""Latent growth models with lavaan's ``growth()`` defaults (``sem.growth``): observed
intercepts fixed at 0, latent means free. References: lavaan 0.6.14 on the ECLS-K:2011
sample that trajmix ships (tests/data/make_lavaan_reference.R)."""
import warnings

import numpy as np
import pytest

from sem import Model, growth
from tests.conftest import reference
from trajmix.datasets import load

LGM = "i =~ 1*R1 + 1*R3 + 1*R5 + 1*R7 + 1*R9\ns =~ 0*R1 + 2*R3 + 4*R5 + 6*R7 + 8*R9"
FIT = ("npar", "chisq", "df", "pvalue", "baseline.chisq", "cfi", "tli", "logl",
       "unrestricted.logl", "aic", "bic", "rmsea", "srmr")


@pytest.fixture(scope="module")
def ecls():
    return load("ecls_k2011")


def test_growth_defaults_in_the_parameter_table():
    pt = growth(LGM + "\ni + s ~ x").partable
    means = pt[pt["op"] == "~1"].set_index("lhs")
    assert (means.loc[["R1", "R3", "R5", "R7", "R9"], "free"] == 0).all()
    assert (means.loc[["R1", "R3", "R5", "R7", "R9"], "ustart"] == 0).all()
    assert (means.loc[["i", "s"], "free"] > 0).all()
    assert means.loc["x", "exo"] == 1                  # a covariate's mean stays its own
    # Model's defaults are lavaan's sem(): the other way round
    pt = Model(LGM, meanstructure=True).partable
    means = pt[pt["op"] == "~1"].set_index("lhs")
    assert (means.loc[["R1", "R9"], "free"] > 0).all()
    assert (means.loc[["i", "s"], "free"] == 0).all()
    # growth's defaults give way to the caller's, and to the syntax
    pt = growth(LGM + "\nR1 ~ 1", int_lv_free=False).partable
    means = pt[pt["op"] == "~1"].set_index("lhs")
    assert means.loc["R1", "free"] > 0 and means.loc["R3", "free"] == 0
    assert (means.loc[["i", "s"], "free"] == 0).all()


def test_an_outcome_of_the_growth_factors_keeps_a_zero_intercept_with_a_warning():
    """As lavaan's growth(): an observed variable that is not an indicator gets its
    intercept fixed at 0 too, and a warning says so (none once the syntax frees it)."""
    with pytest.warns(UserWarning, match=r"intercepts of \['M9'\].*'M9 ~ 1'"):
        pt = growth(LGM + "\nM9 ~ i + s").partable
    assert pt.loc[(pt["lhs"] == "M9") & (pt["op"] == "~1"), "free"].item() == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pt = growth(LGM + "\nM9 ~ i + s\nM9 ~ 1").partable
    assert pt.loc[(pt["lhs"] == "M9") & (pt["op"] == "~1"), "free"].item() > 0


@pytest.mark.parametrize("positive", [False, True])
def test_distal_outcome_reaches_the_optimum_from_every_start(ecls, positive):
    """The distal-outcome model's likelihood has a ridge (M9 ~ s unbounded as the
    slope variance shrinks, ~31 log-likelihood units below the optimum) that BFGS
    followed from the scaled identity from every start it was given; from the inverse
    expected information at the start (``sem.initial_hessian.information_H0``; carried
    to the log scale of the variances with ``positive_variances``) every one of a
    fit's random starts reaches lavaan's optimum."""
    res = growth(LGM + "\nM9 ~ i + s\nM9 ~ 1",
                 positive_variances=positive).fit(ecls, n_starts=6, seed=3)
    assert res.converged
    assert res.opt.replication(1e-6) == 6
    ref = reference("lavaan_ecls_growth_distal_fit.csv").set_index("measure")["value"]
    assert res.llf == pytest.approx(ref["logl"], abs=1e-6)


def test_latent_mean_starts_fit_the_observed_means(ecls):
    """The free latent means start at the least-squares fit of the indicators' means
    on the loadings, not at 0 as lavaan's (the means are near 58)."""
    from sem.starts import start_values

    m = growth(LGM)
    spec = m._spec(True)
    cols = ["R1", "R3", "R5", "R7", "R9"]
    y = ecls[cols].to_numpy()
    theta = start_values(spec.pt, spec.vars, np.cov(y, rowvar=False, bias=True),
                         y.mean(0), False)
    lam = np.array([[1, 0], [1, 2], [1, 4], [1, 6], [1, 8]], dtype=float)
    want = np.linalg.lstsq(lam, y.mean(0), rcond=None)[0]
    names = spec.names
    got = [theta[names.index("i~1")], theta[names.index("s~1")]]
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("name,syntax,kw,rtol", [
    ("ecls_growth", LGM, {}, 1e-5),
    ("ecls_growth_cov", LGM + "\ni + s ~ INCOME", {}, 1e-5),
    ("ecls_growth_sex", LGM, dict(group="SEX", group_equal="residuals"), 1e-5),
    ("ecls_growth_distal", LGM + "\nM9 ~ i + s\nM9 ~ 1", {}, 5e-4),
])
def test_growth_matches_lavaan(ecls, name, syntax, kw, rtol):
    """Estimates, SEs and std.all to lavaan's convergence (its large variances, ~100,
    stop within ~2e-6 relative of the optimum: rtol 1e-5), fit measures to a tenth of
    that. The
    distal-outcome model's likelihood is so flat near its optimum that lavaan's fit,
    converged tightly (BFGS, reltol 1e-16), and ours differ by 1.3e-7 in the
    log-likelihood (ours the higher) and by up to 2.4e-4 relative (5e-4 of an SE) in
    the variances (SRMR: 2e-5 relative)."""
    res = growth(syntax).fit(ecls, **kw)
    assert res.converged
    ref = reference(f"lavaan_{name}_estimates.csv")
    ref["rhs"] = ref["rhs"].fillna("")
    est = res.estimates
    on = ["lhs", "op", "rhs"] + (["group"] if "group" in kw else [])
    m = est.merge(ref, on=on, suffixes=("", "_ref"), validate="1:1")
    assert len(m) == len(est) == len(ref)
    for col in ("est", "se", "std.all"):
        np.testing.assert_allclose(m[col], m[f"{col}_ref"], rtol=rtol, atol=2e-5)
    fref = reference(f"lavaan_{name}_fit.csv").set_index("measure")["value"]
    for k in FIT:
        assert res.fit_measures[k] == pytest.approx(fref[k], rel=rtol / 10, abs=1e-6), k


def test_random_covariates_keep_free_means(ecls):
    """``fixed_x=False``: the covariate's mean is a free parameter (lavaan's growth()
    fixes it at 0 with a warning, χ² 1474.7 on 14 df here); freeing the covariate's
    moments leaves the fit of the fixed-x model (lavaan's χ² 567.504 on 13 df)."""
    m = growth(LGM + "\ni + s ~ INCOME", fixed_x=False)
    pt = m.partable
    assert pt.loc[(pt["lhs"] == "INCOME") & (pt["op"] == "~1"), "free"].item() > 0
    res = m.fit(ecls)
    ref = reference("lavaan_ecls_growth_cov_fit.csv").set_index("measure")["value"]
    assert res.fit_measures["chisq"] == pytest.approx(ref["chisq"], rel=1e-7)
    assert res.fit_measures["df"] == ref["df"]
    assert res.params["INCOME~1"] == pytest.approx(ecls["INCOME"].mean(), rel=1e-7)
