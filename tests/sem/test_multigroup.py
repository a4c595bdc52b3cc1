"""Multiple-group SEMs (``Model.fit(data, group=, group_equal=)``) against lavaan
0.6.14 on the Holzinger-Swineford CFA by school (tests/data/make_lavaan_reference.R)."""
import numpy as np
import pytest

from sem import DataError, DataWarning, Model, SpecificationError, lrt
from sem.multigroup import group_partable
from tests.conftest import HS_MODEL, reference

INVARIANCE = {"configural": (), "metric": ("loadings",),
              "scalar": ("loadings", "intercepts")}


@pytest.fixture(scope="module")
def fits(hs):
    return {k: Model(HS_MODEL).fit(hs, group="school", group_equal=ge)
            for k, ge in INVARIANCE.items()}


@pytest.mark.parametrize("name", list(INVARIANCE) + ["fiml_metric"])
def test_invariance_models_match_lavaan(name, fits, hs_missing):
    res = fits[name] if name in fits else Model(HS_MODEL).fit(
        hs_missing, group="school", group_equal="loadings", missing="ml")
    assert res.converged and res.groups == ["Pasteur", "Grant-White"]   # data order
    ref = reference(f"lavaan_hs_school_{name}_estimates.csv")
    ref["rhs"] = ref["rhs"].fillna("")
    est = res.estimates
    m = est.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_ref"),
                  validate="1:1")
    assert len(m) == len(est) == len(ref) == 72
    np.testing.assert_allclose(m["est"], m["est_ref"], atol=5e-5)
    np.testing.assert_allclose(m["se"], m["se_ref"], atol=1e-5)
    np.testing.assert_allclose(m["std.all"], m["std.all_ref"], atol=5e-5)
    fref, fm = reference(f"lavaan_hs_school_{name}_fit.csv").set_index("measure")["value"], \
        res.fit_measures
    for k in ("npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi",
              "tli", "logl", "unrestricted.logl", "aic", "bic", "bic2", "rmsea",
              "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "srmr"):
        assert fm[k] == pytest.approx(fref[k], rel=1e-5, abs=1e-6), k


def test_summary_and_intervals(fits):
    res = fits["scalar"]
    text = res.summary()
    assert "Group 2 [Grant-White]:" in text and "Test statistic 164.103, df 60" in text
    ci = res.conf_int()
    assert ((ci["lower"] < res.params) & (res.params < ci["upper"])).all()
    np.testing.assert_allclose(ci["upper"] - res.params, 1.959964 * res.bse, rtol=1e-6)


def test_invariance_tests_match_lavaan_anova(fits):
    ref = reference("lavaan_hs_school_anova.csv").set_index("model")
    tab = lrt(**fits)
    assert list(tab.index) == list(ref.index)
    np.testing.assert_allclose(tab.to_numpy(float), ref.to_numpy(float), rtol=1e-5)


def test_group_partable_equalities():
    """Labels name one parameter in all groups; group_equal shares a kind; with equal
    intercepts the latent means are free after the first group."""
    pt, _ = group_partable("f =~ y1 + a*y2 + y3\nf ~~ f", 3, ("intercepts",))
    lo = pt[(pt["op"] == "=~") & (pt["rhs"] == "y2")]
    assert lo["free"].nunique() == 1 and (lo["label"] == "a").all()
    y3 = pt[(pt["op"] == "=~") & (pt["rhs"] == "y3")]
    assert y3["free"].nunique() == 3                          # loadings not equal
    icpt = pt[(pt["op"] == "~1") & (pt["lhs"] == "y1")]
    assert icpt["free"].nunique() == 1                        # intercepts equal
    means = pt[(pt["op"] == "~1") & (pt["lhs"] == "f")].sort_values("group")
    assert means["free"].tolist()[0] == 0 and (means["free"].iloc[1:] > 0).all()


def test_group_bad_input(hs):
    m = Model(HS_MODEL)
    with pytest.raises(SpecificationError, match="group column 'schol' is not in"):
        m.fit(hs, group="schol")
    with pytest.raises(DataError, match="single value"):
        m.fit(hs.assign(one="a"), group="one")
    with pytest.raises(DataError, match="missing in 2 rows"):
        m.fit(hs.assign(school=hs["school"].where(hs.index > 1)), group="school")
    with pytest.raises(SpecificationError, match="group_equal may contain"):
        m.fit(hs, group="school", group_equal=("loading",))
    with pytest.raises(SpecificationError, match="group_equal needs group="):
        m.fit(hs, group_equal=("loadings",))
    with pytest.raises(NotImplementedError, match="only se='standard'"):
        m.fit(hs, group="school", se="robust")
    # one factor with two indicators is not identified (6 parameters, 5 moments per
    # group): the information is singular, and the fit says so
    with pytest.warns(UserWarning, match="may not be identified"):
        bad = Model("f =~ x1 + x2").fit(hs, group="school")
    assert not bad.identified
    gw = hs.index[hs["school"] == "Grant-White"]
    small = hs[(hs["school"] == "Pasteur") | hs.index.isin(gw[:8])]   # 8 rows, 9 variables
    with pytest.raises(DataError, match="group 'Grant-White'"):
        m.fit(small, group="school")


def _match_lavaan(res, name, n_rows):
    """Estimates (est, se, std.all) and fit measures of a multiple-group fit against
    lavaan_review_<name>_{estimates,fit}.csv."""
    ref = reference(f"lavaan_review_{name}_estimates.csv")
    ref["rhs"] = ref["rhs"].fillna("")
    est = res.estimates
    m = est.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_ref"),
                  validate="1:1")
    assert len(m) == len(est) == len(ref) == n_rows
    np.testing.assert_allclose(m["est"], m["est_ref"], atol=5e-5)
    np.testing.assert_allclose(m["se"], m["se_ref"], atol=2e-5)
    np.testing.assert_allclose(m["std.all"], m["std.all_ref"], atol=5e-5)
    fref = reference(f"lavaan_review_{name}_fit.csv").set_index("measure")["value"]
    fm = res.fit_measures
    for k in ("npar", "chisq", "df", "baseline.chisq", "baseline.df", "cfi", "tli",
              "logl", "unrestricted.logl", "aic", "bic", "rmsea", "srmr"):
        assert fm[k] == pytest.approx(fref[k], rel=1e-5, abs=1e-6), k


def test_std_lv_with_equal_loadings_frees_later_latent_variances(hs):
    """lavaan: with std.lv and equal loadings the latent variances are fixed at 1 in
    the first group only (else the model also forces equal factor variances: χ² 127.83
    on 57 df against lavaan's 124.04 on 54)."""
    res = Model(HS_MODEL, std_lv=True).fit(hs, group="school", group_equal="loadings")
    _match_lavaan(res, "school_stdlv_metric", 72)
    pt = res.pt
    var = pt[(pt["op"] == "~~") & (pt["lhs"] == "visual") & (pt["rhs"] == "visual")]
    assert var.sort_values("group")["free"].tolist()[0] == 0
    # with lv.variances equal too they stay at 1 in every group, as lavaan's
    pt2, _ = group_partable(HS_MODEL, 2, ("loadings", "lv.variances"), std_lv=True)
    v2 = pt2[(pt2["op"] == "~~") & (pt2["lhs"] == "speed") & (pt2["rhs"] == "speed")]
    assert (v2["free"] == 0).all()


def test_free_covariates_stay_correlated_in_the_baseline(hs):
    """fixed_x=False: the baseline model keeps the covariates' covariances in every
    group (lavaan's baseline.df 108, not 110)."""
    hsg = hs[hs["grade"].notna()]
    res = Model(HS_MODEL + "; visual ~ ageyr + grade", fixed_x=False).fit(
        hsg, group="school", group_equal="loadings")
    _match_lavaan(res, "school_randomx", 82)


def test_fiml_drops_rows_missing_a_fixed_covariate(hs_missing):
    """Under FIML with fixed_x, the row missing the covariate (grade) is deleted with a
    DataWarning, as with one group and in lavaan."""
    with pytest.warns(DataWarning, match="1 cases were deleted .*'grade'"):
        res = Model(HS_MODEL + "; visual ~ grade").fit(
            hs_missing, group="school", missing="ml", group_equal="loadings")
    assert res.group_nobs == [156.0, 144.0]
    _match_lavaan(res, "school_xmiss_fiml", 74)
