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
    with pytest.raises(SpecificationError, match="group_equal and group_partial need"):
        m.fit(hs, group_equal=("loadings",))
    with pytest.raises(ValueError, match="se must be 'standard', 'robust' or 'none'"):
        m.fit(hs, group="school", se="nope")
    # one factor with two indicators is not identified (6 parameters, 5 moments per
    # group): the information is singular, and the fit says so
    with pytest.warns(UserWarning, match="may not be identified"):
        bad = Model("f =~ x1 + x2").fit(hs, group="school")
    assert not bad.identified
    gw = hs.index[hs["school"] == "Grant-White"]
    small = hs[(hs["school"] == "Pasteur") | hs.index.isin(gw[:8])]   # 8 rows, 9 variables
    with pytest.raises(DataError, match="group 'Grant-White'"):
        m.fit(small, group="school")


FIT = ("npar", "chisq", "df", "baseline.chisq", "baseline.df", "cfi", "tli", "logl",
       "unrestricted.logl", "aic", "bic", "rmsea", "srmr")
SCALED = ("chisq.scaled", "pvalue.scaled", "chisq.scaling.factor",
          "baseline.chisq.scaled", "baseline.chisq.scaling.factor", "cfi.scaled",
          "tli.scaled", "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
          "rmsea.pvalue.scaled")


def _match_lavaan(res, name, n_rows, measures=FIT, prefix="lavaan_review_",
                  se_atol=2e-5):
    """Estimates (est, se, std.all; defined parameters in group 0) and fit measures of
    a multiple-group fit against <prefix><name>_{estimates,fit}.csv."""
    ref = reference(f"{prefix}{name}_estimates.csv")
    ref["rhs"] = ref["rhs"].fillna("")
    est = res.estimates
    m = est.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_ref"),
                  validate="1:1")
    assert len(m) == len(est) == len(ref) == n_rows
    np.testing.assert_allclose(m["est"], m["est_ref"], atol=5e-5)
    np.testing.assert_allclose(m["se"], m["se_ref"], atol=se_atol)
    np.testing.assert_allclose(m["std.all"], m["std.all_ref"], atol=5e-5)
    fref = reference(f"{prefix}{name}_fit.csv").set_index("measure")["value"]
    fm = res.fit_measures
    for k in measures:
        assert fm[k] == pytest.approx(fref[k], rel=1e-5, abs=1e-6), k
    return m


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


# -- per-group modifiers c(...), defined parameters, Wald tests ------------------------
LABELS = """visual =~ x1 + c(a1, a2)*x2 + c(b1, b2)*x3
            textual =~ x4 + x5 + x6
            speed =~ x7 + x8 + x9
            d := a1 - a2
            r := b1 / b2"""
FIXED = """visual =~ c(NA, 1)*x1 + x2 + x3
           visual ~~ c(1, NA)*visual
           textual =~ x4 + c(1, NA)*x5 + x6
           speed =~ x7 + c(0.5, 0.5)*x8 + x9"""


@pytest.fixture(scope="module")
def labelled(hs):
    return {se: Model(LABELS).fit(hs, group="school", group_equal="loadings", se=se)
            for se in ("standard", "robust")}


def test_labels_per_group_override_group_equal(labelled):
    """c(a1, a2)*x2: a parameter per group, exempt from the equal loadings; the defined
    parameters (a1 - a2, b1 / b2) in group 0 with delta-method SEs, as lavaan's."""
    res = labelled["standard"]
    m = _match_lavaan(res, "labels_metric", 74, prefix="lavaan_mg_")
    d = m[m["op"] == ":="].set_index("lhs")
    assert list(d.index) == ["d", "r"] and (d["group"] == 0).all()
    assert d.loc["d", "est"] == pytest.approx(-0.340477, abs=1e-5)   # lavaan -0.340
    lo = res.estimates[(res.estimates["op"] == "=~")].set_index(["rhs", "group"])
    assert lo.loc[("x2", 1), "label"] == "a1" and lo.loc[("x2", 2), "label"] == "a2"
    assert lo.loc[("x2", 1), "est"] != pytest.approx(lo.loc[("x2", 2), "est"], abs=0.1)
    assert lo.loc[("x5", 1), "est"] == lo.loc[("x5", 2), "est"]          # still equal
    assert res.fit_measures["df"] == 52 and "d" not in res.params.index
    assert "Defined parameters:" in res.summary()


def test_one_label_in_both_groups_and_labelled_variances(hs):
    """c(a, a)*x2 is one loading in both groups; vr := v2 / v1 reads the latent
    variances of the two groups."""
    res = Model("""visual =~ x1 + c(a, a)*x2 + x3; textual =~ x4 + x5 + x6
                   speed =~ x7 + x8 + x9; textual ~~ c(v1, v2)*textual
                   vr := v2 / v1""").fit(hs, group="school")
    m = _match_lavaan(res, "equal_labels", 73, prefix="lavaan_mg_")
    assert m.loc[m["op"] == ":=", "est"].item() == pytest.approx(1.058403, abs=1e-5)
    pt = res.pt
    assert pt.loc[(pt["rhs"] == "x2") & (pt["op"] == "=~"), "free"].nunique() == 1


@pytest.mark.parametrize("equal", ["", "loadings"])
def test_values_per_group(hs, equal):
    """c(NA, 1)*x1, c(1, NA)*visual, c(1, NA)*x5, c(0.5, 0.5)*x8: fixed where a number,
    free where NA. With equal loadings, as lavaan's equality constraints, the loadings
    free in one group (x1 in the first, x5 in the second) are fixed at the other
    group's value."""
    res = Model(FIXED).fit(hs, group="school", group_equal=equal)
    _match_lavaan(res, f"fixed_{'metric' if equal else 'configural'}", 72,
                  prefix="lavaan_mg_")
    lo = res.estimates[res.estimates["op"] == "=~"].set_index(["rhs", "group"])
    assert lo.loc[("x8", 1), "est"] == lo.loc[("x8", 2), "est"] == 0.5
    assert (lo.loc[("x1", 2), "se"], lo.loc[("x5", 1), "se"]) == (0.0, 0.0)
    assert (lo.loc[("x1", 1), "se"] == 0) == bool(equal)
    assert (lo.loc[("x5", 2), "se"] == 0) == bool(equal)


@pytest.mark.parametrize("se, estimator", [("standard", "ML"), ("robust", "MLR")])
def test_wald_test_with_groups(labelled, se, estimator):
    """lavTestWald on labels of both groups and on a defined parameter."""
    ref = reference("lavaan_mg_wald.csv")
    ref = ref[ref["estimator"] == estimator]
    for r in ref.itertuples():
        w = labelled[se].wald_test(r.constraints)
        assert w["df"] == r.df and w["se"] == se
        assert w["stat"] == pytest.approx(r.stat, rel=1e-4)
        assert w["pvalue"] == pytest.approx(r.pvalue, rel=1e-4)


def test_per_group_modifier_errors(hs):
    with pytest.raises(SpecificationError, match=r"the modifier 'c\(a, b, c\)' of "
                       r"'visual =~ x2' \(line 1\) has 3 elements, but the data have "
                       "2 groups"):
        Model("visual =~ x1 + c(a, b, c)*x2 + x3").fit(hs, group="school")
    one = Model("visual =~ x1 + c(1, NA)*x2 + x3")        # a model for groups only
    with pytest.raises(SpecificationError, match=r"'c\(1, NA\)' of 'visual =~ x2' "
                       r"\(line 1\) gives 2 values, one per group, but the model is "
                       "fitted to one group"):
        one.fit(hs)
    with pytest.raises(SpecificationError, match="label 'a' is used for a fixed and a "
                       "free parameter"):
        Model("visual =~ x1 + c(a, a)*c(1, NA)*x2 + x3").fit(hs, group="school")
    with pytest.raises(SpecificationError, match="defined parameter 'q' uses 'a3'"):
        Model(LABELS + "; q := a3 - a1").fit(hs, group="school")
    with pytest.raises(SpecificationError, match=r"'visual =~ x2' equal across groups, "
                       r"but it is fixed at different values \[1.0, 2.0\] in groups "
                       r"\[1, 2\]"):
        group_partable("visual =~ x1 + c(1, 2, NA)*x2 + x3", 3, ("loadings",))


def test_labels_across_groups_in_constraints():
    """== and := may use the labels of any group."""
    pt, _ = group_partable("f =~ y1 + c(a, b)*y2 + y3\na == b\nd := a * 2", 2)
    lo = pt[(pt["op"] == "=~") & (pt["rhs"] == "y2")]
    assert lo["free"].nunique() == 1 and set(lo["label"]) == {"a"}
    assert pt.loc[pt["op"] == ":=", "group"].tolist() == [0]


# -- robust standard errors and the scaled test (lavaan's MLR) --------------------------
@pytest.mark.parametrize("name", ["mlr_metric", "mlr_fiml_metric"])
def test_robust_matches_lavaan_mlr(hs, hs_missing, name):
    """Sandwich SEs from every group's case scores and the Yuan-Bentler scaled test
    (its model trace from the whole fit, the unrestricted and baseline traces summed
    over the groups), complete data and FIML."""
    data, missing = (hs, "error") if name == "mlr_metric" else (hs_missing, "ml")
    res = Model(HS_MODEL).fit(data, group="school", group_equal="loadings", se="robust",
                              missing=missing)
    assert res.information == "observed" and res.se_type == "robust"
    _match_lavaan(res, name, 72, FIT + SCALED, prefix="lavaan_mg_")
    assert "Scaled test statistic" in res.summary()


def test_robust_defined_parameters(labelled):
    _match_lavaan(labelled["robust"], "labels_metric_mlr", 74, FIT + SCALED,
                  prefix="lavaan_mg_")


def test_robust_invariance_test_matches_lavaan_anova(hs):
    """The Satorra-Bentler scaled difference of configural and metric MLR fits."""
    fits = {k: Model(HS_MODEL).fit(hs, group="school", group_equal=ge, se="robust")
            for k, ge in (("configural", ()), ("metric", "loadings"))}
    tab = lrt(**fits)
    ref = reference("lavaan_mg_anova_mlr.csv").set_index("model")
    assert list(tab.index) == list(ref.index)
    for c in ("Df", "AIC", "BIC", "Chisq", "Chisq diff", "Df diff", "Pr(>Chisq)"):
        np.testing.assert_allclose(tab[c].to_numpy(float), ref[c].to_numpy(float),
                                   rtol=1e-5, atol=1e-5, err_msg=c)    # p: 1.4e-5 rel


# -- modification indices -------------------------------------------------------------
@pytest.mark.parametrize("name", ["metric", "fiml_configural"])
def test_modindices_match_lavaan(fits, hs_missing, name):
    """Every group's candidates, each freed in its group alone, on the summed
    likelihood. With equal loadings the marker loadings are identified (lavaan lists
    visual =~ x1 in both groups, MI 1.932). Under FIML lavaan's multiple-group MIs
    differ from its own one-group MIs of the same group by up to 1.3e-3 (x7 ~~ x8 in
    Grant-White: 24.286 against 24.285, ours 24.28495 in both): the tolerance there."""
    if name == "metric":
        res, mi_atol = fits["metric"], 1e-3
    else:
        res, mi_atol = Model(HS_MODEL).fit(hs_missing, group="school", missing="ml"), 2e-3
    tab = res.modindices()
    ref = reference(f"lavaan_mg_{name}_modindices.csv")
    m = tab.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_ref"),
                  validate="1:1")
    assert len(m) == len(tab) == len(ref) == (114 if name == "metric" else 108)
    np.testing.assert_allclose(m["mi"], m["mi_ref"], atol=mi_atol)
    for c in ("epc", "sepc.lv", "sepc.all", "sepc.nox"):
        np.testing.assert_allclose(m[c], m[f"{c}_ref"], atol=1e-4, err_msg=c)
    if name == "metric":
        x1 = m[(m["lhs"] == "visual") & (m["rhs"] == "x1")]
        np.testing.assert_allclose(x1["mi"], [1.932, 1.932], atol=1e-3)


def test_modindices_sort_minimum_add(fits):
    res = fits["configural"]
    top = res.modindices(sort=True, minimum=10)
    assert list(top.columns[:4]) == ["lhs", "op", "rhs", "group"]
    assert (top["mi"] >= 10).all() and top["mi"].is_monotonic_decreasing
    extra = res.modindices(add="x9 ~ x1")
    assert len(extra[(extra["op"] == "~") & (extra["lhs"] == "x9")]) == 2   # each group
    with pytest.raises(SpecificationError, match="does not have"):
        res.modindices(add="x9 ~ zz")


def test_group_partial_matches_lavaan(hs):
    """group_partial (lavaan's group.partial) exempts parameters from group_equal:
    partial scalar invariance with the intercepts of x3 and x7 free in each group."""
    res = Model(HS_MODEL).fit(hs, group="school", group_equal=("loadings", "intercepts"),
                              group_partial=("x3 ~ 1", "x7~1"))
    _match_lavaan(res, "partial_scalar", 72, prefix="lavaan_mg_")
    icpt = res.pt[res.pt["op"] == "~1"].groupby("lhs")["free"].nunique()
    assert icpt[["x3", "x7"]].tolist() == [2, 2] and icpt["x1"] == 1
    with pytest.raises(SpecificationError, match=r"group_partial names \['x3~~x10'\]"):
        Model(HS_MODEL).fit(hs, group="school", group_equal="loadings",
                            group_partial="x3 ~~ x10")
    with pytest.raises(SpecificationError, match="group_equal and group_partial need "
                       "group="):
        Model(HS_MODEL).fit(hs, group_partial="x3 ~ 1")


# --- R², residuals, factor scores and the standardized solution with SEs, per group
# (tests/data/lavaan_mg_{r2,residuals,factor_scores,std}.csv)
HS_REG = HS_MODEL + "; speed ~ visual + textual"


@pytest.fixture(scope="module")
def more_fits(fits, labelled, hs, hs_missing):
    return {"metric": fits["metric"], "scalar": fits["scalar"],
            "fiml_metric": Model(HS_MODEL).fit(hs_missing, group="school",
                                               group_equal="loadings", missing="ml"),
            "regression": Model(HS_REG).fit(hs, group="school", group_equal="loadings"),
            "labels_metric": labelled["standard"]}


@pytest.mark.parametrize("case", ["metric", "fiml_metric", "regression"])
def test_rsquare_matches_lavaan(more_fits, case):
    res = more_fits[case]
    ref = reference("lavaan_mg_r2.csv").query("case == @case")
    r2 = res.rsquare
    assert list(r2.columns) == ["Pasteur", "Grant-White"]
    for g, lab in enumerate(res.groups):
        part = ref[ref["group"] == g + 1]
        assert list(r2.index) == list(part["variable"])     # observed, then latent
        np.testing.assert_allclose(r2[lab], part["r2"], atol=2e-5)
    assert "speed" in r2.index if case == "regression" else "speed" not in r2.index


@pytest.mark.parametrize("case", ["metric", "fiml_metric"])
@pytest.mark.parametrize("kind", ["raw", "cor", "normalized"])
def test_residuals_match_lavaan(more_fits, case, kind):
    res = more_fits[case]
    ref = reference("lavaan_mg_residuals.csv").query("case == @case and type == @kind")
    out = res.residuals(kind)
    assert list(out) == res.groups
    for g, lab in enumerate(res.groups):
        r = out[lab]
        assert r["type"] == ("cor.bollen" if kind == "cor" else kind)
        part = ref[ref["group"] == g + 1]
        cov = part[part["col"] != "~1"]
        got = [r["cov"].loc[a, b] for a, b in zip(cov["row"], cov["col"])]
        np.testing.assert_allclose(got, cov["value"], atol=2e-4 if kind == "normalized"
                                   else 2e-5)
        mean = part[part["col"] == "~1"]
        np.testing.assert_allclose(r["mean"][mean["row"]], mean["value"],
                                   atol=2e-4 if kind == "normalized" else 2e-5)
        assert np.abs(part["value"]).max() > 0.05          # not a table of zeros


@pytest.mark.parametrize("case", ["metric", "scalar"])
def test_standardized_residuals_match_lavaan(more_fits, case):
    """Each group's raw residuals over their own SEs, with Δ_g in the global θ and the
    group weight N_g / N (lavaan's lav_residuals_acov; lavaan_mg_resid_standardized.csv);
    under scalar invariance the mean residuals are not zero and are compared too."""
    res = more_fits[case]
    ref = reference("lavaan_mg_resid_standardized.csv").query("case == @case")
    out = res.residuals("standardized")
    assert list(out) == res.groups
    for g, lab in enumerate(res.groups):
        r = out[lab]
        assert r["type"] == "standardized"
        part = ref[ref["group"] == g + 1]
        cov = part[part["col"] != "~1"]
        got = np.array([r["cov"].loc[a, b] for a, b in zip(cov["row"], cov["col"])])
        # lavaan's multiple-group estimates agree with ours to 5e-5 (its default
        # convergence; test_invariance_models_match_lavaan), and a residual over an SE
        # of ~0.03 carries that on ~30-fold: here 2e-4 at most. Without the group
        # weight (N in place of N_g) the largest difference would be 2.2.
        np.testing.assert_allclose(got, cov["value"], atol=5e-4)
        mean = part[part["col"] == "~1"]
        np.testing.assert_allclose(r["mean"][mean["row"]], mean["value"], atol=5e-4)
        assert np.abs(cov["value"]).max() > 1.0           # not a table of zeros


def test_standardized_residuals_refused_where_their_ses_do_not_apply(more_fits, labelled):
    with pytest.raises(NotImplementedError, match="complete data"):
        more_fits["fiml_metric"].residuals("standardized")
    with pytest.raises(NotImplementedError, match="se='robust'"):
        labelled["robust"].residuals("standardized")


@pytest.mark.parametrize("case", ["metric", "fiml_metric", "scalar"])
@pytest.mark.parametrize("method", ["regression", "Bartlett"])
def test_factor_scores_match_lavaan(more_fits, hs, hs_missing, case, method):
    res = more_fits[case]
    ref = reference("lavaan_mg_factor_scores.csv").query(
        "case == @case and method == @method").sort_values("row")
    scores = res.predict(method=method)
    data = hs_missing if case == "fiml_metric" else hs
    # lavaan's rows (lavInspect "case.idx", 1-based) in the data's order
    assert list(scores.index) == list(data.index[ref["row"].to_numpy() - 1])
    assert list(scores.columns) == ["school", "visual", "textual", "speed"]
    assert (scores["school"].to_numpy()
            == np.array(res.groups)[ref["group"].to_numpy() - 1]).all()
    lv = ["visual", "textual", "speed"]
    np.testing.assert_allclose(scores[lv].to_numpy(float), ref[lv].to_numpy(float),
                               atol=5e-5)
    assert np.isnan(scores[lv].to_numpy(float)).sum() == ref[lv].isna().to_numpy().sum()


def test_factor_scores_of_new_data_keep_its_rows(more_fits, hs):
    res = more_fits["metric"]
    shuffled = hs.sample(frac=1.0, random_state=1)
    shuffled.index = [f"r{i}" for i in shuffled.index]
    new = res.predict(shuffled)
    assert list(new.index) == list(shuffled.index)
    old = res.predict()
    np.testing.assert_allclose(new[["visual", "textual", "speed"]].to_numpy(),
                               old.loc[hs.index[shuffled.index.str[1:].astype(int)],
                                       ["visual", "textual", "speed"]].to_numpy(),
                               atol=1e-12)
    one = res.predict(hs[hs["school"] == "Grant-White"].head(12), method="Bartlett")
    assert len(one) == 12 and (one["school"] == "Grant-White").all()


@pytest.mark.parametrize("case", ["metric", "fiml_metric", "scalar", "regression",
                                  "labels_metric"])
def test_standardized_solution_matches_lavaan(more_fits, case):
    res = more_fits[case]
    ref = reference("lavaan_mg_std.csv").query("case == @case").copy()
    ss = res.standardized_solution()
    for t in (ref, ss):
        t["rhs"] = t["rhs"].fillna("").str.replace(" ", "")
    m = ss.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_ref"),
                 validate="1:1")
    assert len(m) == len(ss) == len(ref)
    np.testing.assert_allclose(m["est.std"], m["est.std_ref"], atol=5e-5)
    np.testing.assert_allclose(m["se"], m["se_ref"], atol=2e-5)
    np.testing.assert_allclose(m["ci.lower"], m["ci.lower_ref"], atol=1e-4)
    assert (m["se"] > 0).sum() > 40
    # the std.all column of estimates is the same standardization
    np.testing.assert_allclose(ss["est.std"], res.estimates["std.all"], atol=1e-12)


def test_se_none(fits, hs):
    res = Model(HS_MODEL).fit(hs, group="school", group_equal="loadings", se="none")
    ref = fits["metric"]
    np.testing.assert_allclose(res.params, ref.params, atol=1e-10)
    assert res.bse.isna().all()
    est = res.estimates
    free = res.pt.loc[res.pt["op"] != ":=", "free"].to_numpy() > 0
    assert est.loc[free, "se"].isna().all() and (est.loc[~free, "se"] == 0).all()
    np.testing.assert_allclose(est["std.all"], ref.estimates["std.all"], atol=1e-10)
    assert res.fit_measures["chisq"] == pytest.approx(ref.fit_measures["chisq"], abs=1e-8)
    ss = res.standardized_solution()
    assert ss["se"].isna().all() and ss["est.std"].notna().all()


def test_group_results_bad_input(fits, hs):
    res = fits["metric"]
    with pytest.raises(ValueError, match="method must be 'regression' or 'Bartlett'"):
        res.predict(method="bartlett")
    with pytest.raises(DataError, match="group column 'school' is not in the data"):
        res.predict(hs.drop(columns="school"))
    with pytest.raises(DataError, match=r"\['Other'\] of 'school' are not groups"):
        res.predict(hs.assign(school=hs["school"].where(hs.index > 5, "Other")))
    with pytest.raises(DataError, match="missing in 1 rows"):
        res.predict(hs.assign(school=hs["school"].where(hs.index > 0)))
    with pytest.raises(DataError, match="must be a DataFrame"):
        res.predict(hs.to_numpy())
    with pytest.raises(ValueError, match="type must be one of"):
        res.residuals("standardised")
    with pytest.raises(SpecificationError, match="no latent variables"):
        Model("x1 ~ x2").fit(hs, group="school").predict()
