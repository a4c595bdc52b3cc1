"""Nested-model χ² difference tests (``sem.compare.lrt``), R², and the marker of a
factor measured over several statements, against lavaan 0.6.14 (references written by
tests/data/make_lavaan_reference.R)."""
import numpy as np
import pytest

from sem import Model, SpecificationError
from sem.compare import lrt
from sem.partable import build_partable
from tests.conftest import HS_MODEL, PD_MODEL, reference


@pytest.fixture(scope="module")
def nested(hs):
    return dict(a=Model(HS_MODEL).fit(hs), b=Model(HS_MODEL, orthogonal=True).fit(hs),
                c=Model(HS_MODEL + "; visual =~ x9").fit(hs))


def test_lrt_matches_lavaan_anova(nested):
    ref = reference("lavaan_hs_anova.csv").set_index("model")
    tab = lrt(**nested)
    assert list(tab.index) == list(ref.index) == ["c", "a", "b"]     # sorted by df
    assert list(tab.columns) == list(ref.columns)
    np.testing.assert_allclose(tab.to_numpy(float), ref.to_numpy(float), rtol=1e-7,
                               atol=1e-8)
    assert np.isnan(tab.iloc[0, 4:].to_numpy(float)).all()


def test_lrt_positional_names_and_bad_input(hs, nested):
    tab = lrt(nested["b"], nested["a"])
    assert list(tab.index) == ["model 2", "model 1"]
    with pytest.raises(ValueError, match="at least two"):
        lrt(nested["a"])
    with pytest.raises(ValueError, match="fitted to 150 cases and model 1 to 301"):
        lrt(nested["a"], Model(HS_MODEL).fit(hs.iloc[:150]))
    with pytest.raises(SpecificationError, match="different observed variables"):
        lrt(nested["a"], Model("visual =~ x1 + x2 + x3").fit(hs))
    robust = Model(HS_MODEL).fit(hs, se="robust")
    with pytest.raises(ValueError, match=r"robust fits \['model 2'\] and standard fits "
                                         r"\['model 1'\] cannot be compared"):
        lrt(nested["a"], robust)


def test_scaled_difference_test_of_robust_fits_matches_lavaan(hs):
    """MLR fits: the Satorra-Bentler (2001) scaled difference (lavaan's anova). The
    c-against-a row divides by 24 c_a − 23 c_c ≈ 0.2, which magnifies lavaan's own
    optimizer tolerance (~1e-7 in c) to ~1e-5 of the statistic."""
    ref = reference("lavaan_hs_anova_mlr.csv").set_index("model")
    fits = dict(a=Model(HS_MODEL).fit(hs, se="robust"),
                b=Model(HS_MODEL, orthogonal=True).fit(hs, se="robust"),
                c=Model(HS_MODEL + "; visual =~ x9").fit(hs, se="robust"))
    tab = lrt(**fits)
    assert list(tab.columns) == list(ref.columns) and "RMSEA" not in tab

    stat = ref.columns[:-1]
    np.testing.assert_allclose(tab[stat].to_numpy(float), ref[stat].to_numpy(float),
                               rtol=2e-5)
    # p-values of 1e-37 and 1e-9 turn that 1e-5 into 1e-3
    np.testing.assert_allclose(tab["Pr(>Chisq)"], ref["Pr(>Chisq)"], rtol=2e-3)


def test_rsquare_matches_lavaan(pol_dem):
    for name, model in (("pd", PD_MODEL), ("path", "y4 ~ a*x1 + x2; y8 ~ b*y4 + x1")):
        ref = reference(f"lavaan_{name}_r2.csv").set_index("variable")["r2"]
        r2 = Model(model).fit(pol_dem).rsquare
        assert list(r2.index) == list(ref.index)
        np.testing.assert_allclose(r2, ref, atol=1e-6)


def test_summary_prints_rsquare(pol_dem):
    res = Model(PD_MODEL).fit(pol_dem)
    text = res.summary(rsquare=True)
    tail = text.split("R-Square:")[1].splitlines()[2:]
    assert [ln.split()[0] for ln in tail] == list(res.rsquare.index)
    assert float(tail[-1].split()[1]) == pytest.approx(res.rsquare["dem65"], abs=5e-4)
    assert "R-Square" not in res.summary()


def test_marker_is_the_first_indicator_over_all_statements():
    """``visual =~ x9`` in a second statement adds a free loading; it used to become a
    second marker fixed at 1 (df 24 where lavaan has 23)."""
    pt, _ = build_partable("visual =~ x1 + x2; speed =~ x7 + x8; visual =~ x9 + x3")
    load = pt[pt["op"] == "=~"].set_index(["lhs", "rhs"])
    assert load.loc[("visual", "x1"), "free"] == 0
    assert load.loc[("speed", "x7"), "free"] == 0
    assert (load.drop([("visual", "x1"), ("speed", "x7")])["free"] > 0).all()


COV_MODEL = (HS_MODEL + "; speed ~ textual + ageyr; visual ~ sex; x1 ~~ x4")


@pytest.mark.parametrize("name", ["hs", "hs_fiml", "pd", "cov"])
@pytest.mark.parametrize("method", ["regression", "Bartlett"])
def test_factor_scores_match_lavpredict(name, method, hs, hs_missing, pol_dem):
    """Factor scores, each case from its own observed variables (lavaan's
    ``lavPredict``; PD has latent regressions and equality labels); lavaan's optimizer
    tolerance leaves ~2e-6. Under FIML one case observes none of speed's indicators:
    its Bartlett score for speed is NaN, as lavaan's."""
    kind = "factor" if method == "regression" else "bartlett"
    ref = reference(f"lavaan_{name}_{kind}_scores.csv")
    res = {"hs": lambda: Model(HS_MODEL).fit(hs),
           "hs_fiml": lambda: Model(HS_MODEL).fit(hs_missing, missing="ml"),
           "pd": lambda: Model(PD_MODEL).fit(pol_dem),
           # covariates predict latent variables: without a mean structure the latent
           # means are those the covariates' sample means imply (scores were centred)
           "cov": lambda: Model(COV_MODEL).fit(hs)}[name]()
    fs = res.predict(method=method)
    assert list(fs.columns) == list(ref.columns)
    np.testing.assert_array_equal(np.isnan(fs.to_numpy()), np.isnan(ref.to_numpy()))
    np.testing.assert_allclose(fs.to_numpy(), ref.to_numpy(), atol=2e-5)


def test_bartlett_scores_bad_input(hs):
    with pytest.raises(ValueError, match="method must be"):
        Model(HS_MODEL).fit(hs).predict(method="bartlett")
    path = Model("x4 ~ x1 + ageyr").fit(hs)
    with pytest.raises(SpecificationError, match="no latent variables"):
        path.predict()
    single = Model("visual =~ x1 + x2 + x3; spd =~ x7; spd ~ visual").fit(hs)
    with pytest.raises(SpecificationError, match="positive definite residual"):
        single.predict(method="Bartlett")


@pytest.mark.parametrize("name", ["hs", "hs_fiml"])
@pytest.mark.parametrize("kind", ["raw", "cor", "normalized"])
def test_residuals_match_lavaan(name, kind, hs, hs_missing):
    res = (Model(HS_MODEL).fit(hs) if name == "hs"
           else Model(HS_MODEL).fit(hs_missing, missing="ml"))
    out = res.residuals(kind)
    ref = reference(f"lavaan_{name}_resid_{kind}.csv").set_index("Unnamed: 0")
    assert list(out["cov"].index) == list(ref.index)
    # lavaan's EM stops ~1e-6 from the FIML optimum: ~5e-5 in normalized residuals
    atol = 1e-4 if kind == "normalized" else 1e-5
    np.testing.assert_allclose(out["cov"].to_numpy(), ref.to_numpy(), atol=atol)
    if name == "hs_fiml":
        mref = reference(f"lavaan_{name}_resid_{kind}_mean.csv").set_index("variable")
        np.testing.assert_allclose(out["mean"], mref["mean"], atol=atol)
    else:
        assert "mean" not in out
    with pytest.raises(ValueError, match="type must be one of"):
        res.residuals("normalised")
    with pytest.raises(NotImplementedError, match="fixed covariates"):
        Model("x4 ~ x1 + ageyr").fit(hs).residuals("normalized")



@pytest.mark.parametrize("name", ["hs", "hs_means", "pd"])
def test_standardized_residuals_match_lavaan(name, hs):
    """lavaan's type = "standardized": the raw residuals over their own SEs,
    ACOV(r) = Q (Γ_S / N) Qᵀ (``sem.diagnostics.standardized_residual_se``). lavaan's
    NA (a residual variance that is not positive) are NaN here too."""
    from sem.datasets import load

    if name == "pd":
        res = Model(PD_MODEL).fit(load("PoliticalDemocracy"))
    else:
        res = Model(HS_MODEL, meanstructure=name == "hs_means").fit(hs)
    out = res.residuals("standardized")
    ref = reference(f"lavaan_{name}_resid_standardized.csv").set_index("Unnamed: 0")
    assert out["type"] == "standardized" and list(out["cov"].index) == list(ref.index)
    np.testing.assert_array_equal(np.isnan(out["cov"].to_numpy()), ref.isna().to_numpy())
    np.testing.assert_allclose(out["cov"].to_numpy(), ref.to_numpy(), atol=2e-4)
    if name == "hs_means":
        mref = reference(f"lavaan_{name}_resid_standardized_mean.csv").set_index("variable")
        np.testing.assert_allclose(out["mean"], mref["mean"], atol=2e-4)


def test_standardized_residuals_refused_where_not_computed(hs, hs_missing):
    with pytest.raises(NotImplementedError, match="complete data"):
        Model(HS_MODEL).fit(hs_missing, missing="ml").residuals("standardized")
    with pytest.raises(NotImplementedError, match="complete data"):
        Model("x4 ~ x1 + ageyr").fit(hs).residuals("standardized")
    # their SEs need Cov(θ̂) from the expected information, not a sandwich or the
    # observed information (lavaan's are never robust)
    with pytest.raises(NotImplementedError, match="se='robust'"):
        Model(HS_MODEL).fit(hs, se="robust").residuals("standardized")
    with pytest.raises(NotImplementedError, match="information='observed'"):
        Model(HS_MODEL).fit(hs, information="observed").residuals("standardized")
    with pytest.raises(NotImplementedError, match="se='none'"):
        Model(HS_MODEL).fit(hs, se="none").residuals("standardized")

WALD_MODEL = """ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + d*y6 + e*y7 + f*y8
dem60 ~ g*ind60
dem65 ~ h*ind60 + dem60
ab := a*b"""


@pytest.mark.parametrize("se", ["standard", "robust"])
def test_wald_test_matches_lavtestwald(se, pol_dem):
    """Constraints on labels and on a defined parameter; with se='robust' the robust
    covariance, as lavaan's MLR (references from a tight lavaan run: the fits agree
    to ~1e-6, the statistics to ~2e-6)."""
    ref = reference("lavaan_pd_wald.csv")
    ref = ref[ref["estimator"] == ("ML" if se == "standard" else "MLR")]
    fit = Model(WALD_MODEL).fit(pol_dem, se=se)
    for r in ref.itertuples():
        w = fit.wald_test(r.constraints)
        assert w["df"] == r.df and w["se"] == se
        assert w["stat"] == pytest.approx(r.stat, rel=1e-5)
        assert w["pvalue"] == pytest.approx(r.pvalue, rel=1e-5)


def test_wald_test_bad_input(pol_dem):
    fit = Model(WALD_MODEL).fit(pol_dem)
    with pytest.raises(SpecificationError, match=r"names \['zz'\], which are not labels"):
        fit.wald_test("a == zz")
    with pytest.raises(SpecificationError, match="the form 'lhs == rhs'"):
        fit.wald_test("a = b")
    with pytest.raises(SpecificationError, match="at least one constraint"):
        fit.wald_test(" ; ")
    with pytest.raises(SpecificationError, match="redundant"):
        fit.wald_test("a == b; b == a")
