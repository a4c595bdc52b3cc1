"""Every bad input of issue #2 gets a clear SpecificationError / DataError or a flag."""

import numpy as np
import pandas as pd
import pytest

from sem import BoundaryWarning, ConvergenceWarning, DataError, Model, SpecificationError
from tests.conftest import HS_MODEL


def test_unknown_variable_names_it_and_lists_columns(hs):
    with pytest.raises(SpecificationError, match=r"'x10'.*columns are: id, sex"):
        Model("f =~ x1 + x2 + x10").fit(hs)


def test_syntax_error_has_line_and_position():
    with pytest.raises(SpecificationError, match=r"line 2, position \d+"):
        Model("f =~ x1 + x2 + x3\ng =~ x4 + + x5")


def test_more_parameters_than_moments(hs):
    # 2 variables give 3 moments; NA*x1 + x2 loadings, 2 residual variances, a
    # residual covariance and the factor variance are 6 parameters
    with pytest.raises(SpecificationError, match="3 more parameters than moments"):
        Model("f =~ NA*x1 + x2\n x1 ~~ x2").fit(hs[["x1", "x2"]])


def test_unidentified_model_names_parameters(hs):
    # every loading free and the factor variance free: the scale trades off
    with pytest.raises(SpecificationError,
                       match=r"not identified.*Parameters involved: \['f~~f'"):
        Model("f =~ NA*x1 + x2 + x3 + x4").fit(hs)


def test_identification_is_checked_until_a_model_passes(hs, monkeypatch):
    """An unidentified model raises at every fit; an identified one (no definition
    variables) is checked once, its moments' Jacobian computed at the first fit only."""
    import sem.diagnostics as sd     # the check's Jacobian: sem.diagnostics.moment_jacobian

    bad = Model("f =~ NA*x1 + x2 + x3 + x4")
    for _ in range(2):
        with pytest.raises(SpecificationError, match="not identified"):
            bad.fit(hs)
    kinds = []
    real = sd.compiled
    monkeypatch.setattr(sd, "compiled", lambda prob, kind, **o: (kinds.append(kind),
                                                                  real(prob, kind, **o))[1])
    m = Model(HS_MODEL)
    m.fit(hs)
    m.fit(hs.iloc[:200])
    m.fit_many([hs, hs.iloc[::-1]])
    assert kinds.count("moment_jacobian") == 1


def test_non_numeric_and_constant_and_empty_columns(hs):
    d = hs.copy()
    d["x1"] = d["x1"].astype(str) + "a"
    with pytest.raises(DataError, match="'x1' is not numeric .*e.g. value '3.3333333a'"):
        Model(HS_MODEL).fit(d)
    d = hs.copy()
    d["x1"] = d["x1"].astype(str)          # numbers as text: say how to convert them
    with pytest.raises(DataError, match=r"'x1' is not numeric .*\.astype\(float\)"):
        Model(HS_MODEL).fit(d)
    d = hs.copy()
    d["x2"] = 3.0
    with pytest.raises(DataError, match="'x2' is constant"):
        Model(HS_MODEL).fit(d)
    d = hs.copy()
    d["x3"] = np.nan
    with pytest.raises(DataError, match="'x3' is entirely missing"):
        Model(HS_MODEL).fit(d, missing="ml")


def test_fewer_rows_than_variables(hs):
    with pytest.raises(DataError, match="8 usable rows for 9 variables"):
        Model(HS_MODEL).fit(hs.head(8))


def test_non_positive_definite_sample_covariance(hs):
    d = hs.copy()
    d["x3"] = d["x1"] + d["x2"]
    with pytest.raises(DataError, match=r"not positive definite.*\['x3'"):
        Model(HS_MODEL).fit(d)


def test_nan_and_inf_without_fiml(hs, hs_missing):
    with pytest.raises(DataError, match="missing value.*missing='ml'"):
        Model(HS_MODEL).fit(hs_missing)
    d = hs.copy()
    d.loc[3, "x5"] = np.inf
    with pytest.raises(DataError, match="'x5' has infinite values"):
        Model(HS_MODEL).fit(d)
    res = Model(HS_MODEL).fit(hs_missing, missing="listwise")
    assert res.nobs == hs_missing[[f"x{i}" for i in range(1, 10)]].dropna().shape[0]


def test_non_convergence_is_flagged_and_warned(hs):
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = Model(HS_MODEL).fit(hs, max_iter=5)
    assert res.converged is False
    assert "did NOT converge" in res.summary()


def test_heywood_case_is_flagged():
    # the classic N = 20 one-factor example pattern: a negative residual variance
    rng = np.random.default_rng(11)
    f = rng.normal(size=20)
    d = pd.DataFrame({"y1": f + rng.normal(0, 0.05, 20), "y2": 0.3 * f + rng.normal(0, 1, 20),
                      "y3": 0.3 * f + rng.normal(0, 1, 20)})
    d["y1"] = d["y1"] * 3
    with pytest.warns(BoundaryWarning, match="negative variance"):
        res = Model("f =~ y1 + y2 + y3").fit(d)
    assert res.converged and not res.admissible
    assert res.heywood
    pos = Model("f =~ y1 + y2 + y3", positive_variances=True).fit(d, warn=False)
    assert pos.admissible


def test_data_must_be_a_frame():
    with pytest.raises(DataError, match="DataFrame"):
        Model(HS_MODEL).fit(np.zeros((10, 9)))


@pytest.mark.parametrize("weights, message", [
    (np.ones(10), r"one value per row \(301\)"),
    (np.where(np.arange(301) == 4, np.nan, 1.0), r"finite and >= 0; 1 are not \(rows \[4\]\)"),
    (-np.ones(301), r"finite and >= 0; 301 are not \(rows \[0, 1, 2, 3, 4\] \.\.\.\)"),
    (np.zeros(301), "the weights are all 0"),
    ("heavy", "weights must be numbers"),
])
def test_bad_case_weights_are_named(hs, weights, message):
    """Before these checks a negative weight gave a positive "log-likelihood" and a
    negative N without a word, NaN a LinAlgError and all-zero a ZeroDivisionError."""
    with pytest.raises(DataError, match=message):
        Model(HS_MODEL).fit(hs, weights=weights)


@pytest.mark.parametrize("start", [np.zeros(3), np.full(21, np.nan), "near"])
def test_bad_start_vector_is_named(hs, start):
    with pytest.raises(SpecificationError, match="start must be 21 finite numbers"):
        Model(HS_MODEL).fit(hs, start=start)


@pytest.mark.parametrize("seed", ["abc", 1.5, True])
def test_bad_seed_is_named(hs, seed):
    """A seed that is neither an int nor a jax.random key (it was int()'s own
    message, or True silently taken as 1)."""
    with pytest.raises(ValueError, match="seed must be an int or a jax.random key"):
        Model(HS_MODEL).fit(hs, n_starts=2, seed=seed)


@pytest.mark.parametrize("alpha", [0, 1, 1.5, -0.05, "5%", True])
def test_interval_alpha_outside_zero_one_is_named(hs, alpha):
    """conf_int(alpha=1.5) returned intervals with lower above upper, silently (sem,
    its multiple-group fits and trajmix share ``sem.inference.intervals``)."""
    fit = Model(HS_MODEL).fit(hs)
    with pytest.raises(ValueError, match=r"alpha must lie in \(0, 1\)"):
        fit.conf_int(alpha=alpha)
    assert (fit.conf_int(alpha=0.1)["lower"] < fit.conf_int(alpha=0.1)["upper"]).all()
