"""Fits from summary statistics (lavaan's sample.cov / sample.mean / sample.nobs),
lavaan's getCov and cor2cov, against lavaan 0.6.14 (tests/data/make_lavaan_reference.R)
and against the fit to the raw data."""
import numpy as np
import pytest

from sem import DataError, Model, SpecificationError, cor2cov, get_cov
from sem.sample_stats import moments_frame
from tests.conftest import HS_MODEL
from tests.sem.test_lavaan_reference import fitref, merged

XS = [f"x{i}" for i in range(1, 10)]
LOWER = """
 11.834
  6.947   9.364
  6.819   5.091  12.532
  4.783   5.028   7.495   9.986
 -3.839  -3.889  -3.841  -3.625  9.610
-21.899 -18.831 -21.748 -18.775 35.522 450.288 """
NAMES = ["anomia67", "powerless67", "anomia71", "powerless71", "education", "sei"]
WHEATON = """ses =~ education + sei
             alien67 =~ anomia67 + powerless67
             alien71 =~ anomia71 + powerless71
             alien71 ~ alien67 + ses
             alien67 ~ ses
             anomia67 ~~ anomia71
             powerless67 ~~ powerless71"""
MEASURES = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.upper", "srmr",
            "logl", "unrestricted.logl", "aic", "bic", "bic2", "baseline.chisq"]


def test_wheaton_from_the_lower_triangle_matches_lavaan():
    cov = get_cov(LOWER, NAMES)
    assert cov.loc["sei", "anomia67"] == cov.loc["anomia67", "sei"] == -21.899
    res = Model(WHEATON).fit(sample_cov=cov, sample_nobs=932)
    m = merged(res, "wheaton")
    for c in ("est", "se", "std.all", "std.lv"):
        np.testing.assert_allclose(m[c], m[f"{c}_ref"], atol=1e-4, err_msg=c)
    ref, fm = fitref("wheaton"), res.fit_measures
    for k in MEASURES:
        assert fm[k] == pytest.approx(ref[k], rel=1e-5, abs=1e-6), k
    assert res.from_moments and res.nobs == 932
    with pytest.raises(DataError, match="summary statistics"):
        res.predict()
    # residuals and modification indices are moments-only and work
    assert res.residuals()["cov"].shape == (6, 6)
    assert len(res.modindices()) > 0


def test_moments_with_means_equal_the_raw_data_fit_and_lavaan(hs):
    raw = Model(HS_MODEL, meanstructure=True).fit(hs)
    cov = hs[XS].cov()                                  # unbiased, as R's cov()
    res = Model(HS_MODEL).fit(sample_cov=cov, sample_mean=hs[XS].mean(), sample_nobs=301)
    assert res.spec.problem.meanstructure              # sample means switch means on
    np.testing.assert_allclose(res.params, raw.params, atol=1e-8)
    np.testing.assert_allclose(res.bse, raw.bse, atol=1e-8)
    assert res.llf == pytest.approx(raw.llf, abs=1e-7)
    m = merged(res, "hs_moments")
    np.testing.assert_allclose(m["est"], m["est_ref"], atol=1e-4)
    np.testing.assert_allclose(m["se"], m["se_ref"], atol=1e-4)
    ref = fitref("hs_moments")
    assert res.fit_measures["chisq"] == pytest.approx(ref["chisq"], rel=1e-6)
    assert res.fit_measures["logl"] == pytest.approx(ref["logl"], rel=1e-9)
    # the ML covariance as given: no rescaling
    ml = hs[XS].cov(ddof=0)
    same = Model(HS_MODEL).fit(sample_cov=ml, sample_nobs=301, sample_cov_rescale=False)
    np.testing.assert_allclose(same.params, Model(HS_MODEL).fit(hs).params, atol=1e-8)


def test_moments_frame_reproduces_the_moments():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(5, 5))
    S = A @ A.T + np.eye(5)
    m = rng.normal(size=5)
    Y = moments_frame(S, m, 40, list("abcde"), rescale=False).to_numpy()
    np.testing.assert_allclose(Y.mean(0), m, atol=1e-13)
    np.testing.assert_allclose(np.cov(Y.T, ddof=0), S, rtol=1e-12, atol=1e-12)


def test_get_cov_and_cor2cov():
    R = get_cov([0.5, 0.3, 0.2], ["a", "b", "c"], diagonal=False)
    np.testing.assert_array_equal(R.to_numpy(), [[1, .5, .3], [.5, 1, .2], [.3, .2, 1]])
    up = get_cov("1 .5 .3 1 .2 1", ["a", "b", "c"], lower=False)
    np.testing.assert_array_equal(up.to_numpy(), R.to_numpy())
    C = cor2cov(R, [1.0, 2.0, 3.0])
    assert C.loc["c", "b"] == pytest.approx(0.2 * 6) and list(C.columns) == ["a", "b", "c"]
    np.testing.assert_array_equal(get_cov([.5, .3, .2], "abc", diagonal=False,
                                          sds=[1, 2, 3]), C)
    with pytest.raises(DataError, match="3 numbers for 3 variables"):
        get_cov([1, 2, 3], ["a", "b", "c"])
    with pytest.raises(DataError, match="positive"):
        cor2cov(R, [1, 0, 1])


@pytest.mark.parametrize("change, kwargs, err, text", [
    (None, dict(sample_nobs=None), SpecificationError, "needs sample_cov and sample_nobs"),
    (lambda c: c.drop(index="sei", columns="sei"), {}, SpecificationError, r"\['sei'\]"),
    (lambda c: c.to_numpy(), {}, DataError, "must be a DataFrame"),
    (lambda c: c.assign(sei=c["sei"] + 1), {}, DataError, "not symmetric"),
    (lambda c: c.replace(9.610, np.nan), {}, DataError, "missing or infinite"),
    (lambda c: c.replace(450.288, -1.0), {}, DataError, "not positive"),
    (None, dict(sample_nobs=5), DataError, "must exceed"),
    (None, dict(sample_nobs=931.5), DataError, "whole number"),
    (None, dict(se="robust"), SpecificationError, "need the data"),
    (None, dict(missing="ml"), SpecificationError, "need the data"),
])
def test_bad_summary_statistics(change, kwargs, err, text):
    cov = get_cov(LOWER, NAMES)
    if change is not None:
        cov = change(cov)
    args = dict(sample_cov=cov, sample_nobs=932) | kwargs
    with pytest.raises(err, match=text):
        Model(WHEATON).fit(**args)


def test_singular_covariance_and_missing_means_and_both_inputs(hs):
    cov = hs[XS].cov()
    cov.loc["x2", :] = cov.loc["x1", :]
    cov.loc[:, "x2"] = cov.loc[:, "x1"]
    cov.loc["x2", "x2"] = cov.loc["x1", "x1"]
    with pytest.raises(DataError, match="not positive definite"):
        Model(HS_MODEL).fit(sample_cov=cov, sample_nobs=301)
    with pytest.raises(SpecificationError, match="give sample_mean"):
        Model(HS_MODEL + "; x1 ~ 1").fit(sample_cov=hs[XS].cov(), sample_nobs=301)
    with pytest.raises(SpecificationError, match="not both"):
        Model(HS_MODEL).fit(hs, sample_cov=hs[XS].cov(), sample_nobs=301)
    with pytest.raises(DataError, match="sample_mean"):
        Model(HS_MODEL).fit(sample_cov=hs[XS].cov(), sample_nobs=301,
                            sample_mean=hs[XS].mean().replace(hs["x3"].mean(), np.inf))
    with pytest.raises(DataError, match="DataFrame"):
        Model(HS_MODEL).fit()
    with pytest.raises(NotImplementedError, match="multiple groups"):
        Model(HS_MODEL).fit(sample_cov=hs[XS].cov(), sample_nobs=301, group="school")
