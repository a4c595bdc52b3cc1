"""lavaan's three standardized solutions: ``std.nox`` (the exogenous covariates left
on their own scale, fixed or free), ``std.lv`` and ``std.all``, as columns of
``estimates`` and as ``standardized_solution(type=)`` with delta-method SEs, against
lavaan 0.6.14 (tests/data/make_lavaan_reference.R)."""
import numpy as np
import pytest

from sem import Model
from tests.conftest import HS_MODEL, reference

PATH = "y4 ~ a*x1 + x2; y8 ~ b*y4 + x1; ab := a*b"
RANDOMX = ("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6\n"
           "textual ~ visual + ageyr + sex; x9 ~ ageyr")


@pytest.fixture(scope="module")
def fits(hs, pol_dem):
    return {"path": Model(PATH).fit(pol_dem),
            "randomx": Model(RANDOMX, fixed_x=False).fit(hs)}


def keyed(tab):
    tab = tab.copy()
    tab["rhs"] = tab["rhs"].fillna("")
    return tab.set_index(["lhs", "op", "rhs"])


@pytest.mark.parametrize("name", ["path", "randomx"])
def test_std_nox_column_matches_lavaan(fits, name):
    est = keyed(fits[name].estimates)
    ref = keyed(reference(f"lavaan_{name}_estimates.csv"))
    for col in ("std.lv", "std.all", "std.nox"):
        np.testing.assert_allclose(est.loc[ref.index, col], ref[col], atol=1e-5,
                                   err_msg=col)
    # the covariates' own rows stay raw, regressions on them are β / sd(y)
    x = "x1" if name == "path" else "ageyr"
    assert est.loc[(x, "~~", x), "std.nox"] == pytest.approx(est.loc[(x, "~~", x), "est"])


@pytest.mark.parametrize("name", ["path", "randomx"])
@pytest.mark.parametrize("type_", ["std.nox", "std.lv", "std.all"])
def test_standardized_solution_types_and_their_ses(fits, name, type_):
    sol = keyed(fits[name].standardized_solution(type=type_))
    # std.all: the files of make_lavaan_reference.R's dump()
    ref = keyed(reference(f"lavaan_{name}_std.csv" if type_ == "std.all" else
                          f"lavaan_{name}_{type_.replace('.', '_')}.csv"))
    np.testing.assert_allclose(sol.loc[ref.index, "est.std"], ref["est.std"], atol=1e-5)
    # lavaan's SE of a value fixed by the standardization (a covariate's own
    # variance under std.lv or std.all) is 0; compare where lavaan has one. With
    # fixed covariates their moments are constants (sem.diagnostics.standardized_table)
    ok = ref["se"].notna() & (ref["se"] > 0)
    np.testing.assert_allclose(sol.loc[ref.index[ok], "se"], ref.loc[ok, "se"], atol=1e-5)


def test_without_covariates_std_nox_is_std_all_and_bad_type_is_named(hs):
    fit = Model(HS_MODEL).fit(hs)
    np.testing.assert_array_equal(fit.estimates["std.nox"], fit.estimates["std.all"])
    with pytest.raises(ValueError, match="type must be one of"):
        fit.standardized_solution(type="std.x")


def test_multigroup_std_nox(hs):
    """By group: std.nox equals std.all without covariates, and with one it leaves the
    covariate's variance raw in every group."""
    fit = Model(HS_MODEL + "; visual ~ ageyr").fit(hs, group="school")
    est = fit.estimates
    row = (est["lhs"] == "ageyr") & (est["op"] == "~~") & (est["rhs"] == "ageyr")
    np.testing.assert_allclose(est.loc[row, "std.nox"], est.loc[row, "est"])
    assert np.allclose(est.loc[row, "std.all"], 1.0)
    sol = fit.standardized_solution(type="std.nox")
    np.testing.assert_allclose(sol["est.std"].to_numpy(), est["std.nox"].to_numpy())
