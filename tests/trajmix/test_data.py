"""Wide and long data, ragged visits and missing outcomes, and every bad input."""
import warnings

import numpy as np
import pandas as pd
import pytest

from sem.errors import BoundaryWarning, ConvergenceWarning, DataError, SpecificationError
from trajmix import GrowthMixture
from trajmix.simulate import liu_perera_population, simulate

Y10 = [f"Y{j}" for j in range(1, 11)]
T10 = [f"T{j}" for j in range(1, 11)]


@pytest.fixture(scope="module")
def wide():
    pop, th = liu_perera_population("finite mixture")
    return simulate(pop, th, 300, seed=8, missing="mcar", p_missing=0.15)


def to_long(df):
    rows = []
    for i, r in df.iterrows():
        for j in range(1, 11):
            if np.isfinite(r[f"Y{j}"]):
                rows.append(dict(id=i, time=r[f"T{j}"], y=r[f"Y{j}"]))
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0)   # any row order


def test_long_and_wide_give_the_same_fit(wide):
    m = GrowthMixture("bilinear_spline", 1)
    a = m.fit(wide, y=Y10, t=T10, n_starts=2)
    b = m.fit(to_long(wide), id="id", time="time", outcome="y", n_starts=2)
    assert b.data.J == 10 and b.data.arrays["mask"].sum() == wide[Y10].notna().sum().sum()
    assert a.llf == pytest.approx(b.llf, abs=1e-6)
    np.testing.assert_allclose(a.params, b.params, atol=1e-5)


def test_unequal_visits_are_padded_and_masked():
    rng = np.random.default_rng(2)
    rows = []
    for i in range(150):
        k = rng.integers(3, 8)                          # 3 to 7 visits
        t = np.sort(rng.uniform(0, 6, k))
        y = 5 + 2 * t + rng.normal(0, 2) + rng.normal(0, 0.5, k) * 1.0
        rows += [dict(id=f"p{i}", time=ti, y=yi) for ti, yi in zip(t, y)]
    df = pd.DataFrame(rows)
    # the population has no slope variance: the fit says so (a boundary solution)
    with pytest.warns(BoundaryWarning, match="singular"):
        res = GrowthMixture("linear", 1).fit(df, id="id", time="time", outcome="y",
                                             n_starts=2)
    assert res.converged
    assert res.params["c1.alpha.eta1"] == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("change, exc, match", [
    (lambda d: d.drop(columns="Y3"), SpecificationError, "'Y3'.*not found"),
    (lambda d: d.assign(Y2=d["Y2"].astype(str) + "x"), DataError, "'Y2' is not numeric"),
    (lambda d: d.assign(gx1=np.nan), DataError, "'gx1' is entirely missing"),
    (lambda d: d.assign(gx2=2 * d["gx1"] + 1), DataError, "collinear"),
    (lambda d: d.assign(T4=d["T3"] - 0.1), DataError, "not increasing for person 0:"),
    (lambda d: d.assign(T4=np.where(d.index == 3, np.nan, d["T4"])), DataError,
     "person 3 has an observed outcome without a measurement time"),
    (lambda d: d.assign(**{y: np.where(d.index == 5, np.nan, d[y]) for y in Y10}),
     DataError, r"no observed outcome \(ids \[5\]\)"),
])
def test_bad_inputs_name_what_is_wrong(liu, change, exc, match):
    m = GrowthMixture("bilinear_spline", 2, gating=["gx1", "gx2"])
    with pytest.raises(exc, match=match):
        m.fit(change(liu.copy()), y=Y10, t=T10, n_starts=1)


def test_too_few_occasions_for_the_curve(liu):
    with pytest.raises(SpecificationError, match="needs at least 4 occasions"):
        GrowthMixture("bilinear_spline", 1).fit(liu, y=Y10[:3], t=T10[:3])


def test_knot_start_outside_time_range(liu):
    m = GrowthMixture("bilinear_spline", 1)
    gd = m.prepare(liu, y=Y10, t=T10)
    th = m.start(gd)
    th[m.layout.find("nl", 0).start] = 12.0
    with pytest.raises(SpecificationError, match="outside the observed time range"):
        m.fit(liu, y=Y10, t=T10, start=th)


@pytest.mark.parametrize("which", ["start", "init"])
def test_start_of_the_wrong_length_or_not_finite(liu, which):
    """A start (or a θ among the inits) lists the internal θ, n_params numbers; the
    reported params (more of them) or NaN are refused by name, not by numpy."""
    m = GrowthMixture("bilinear_spline", 1)
    th = m.start(m.prepare(liu, y=Y10, t=T10))
    kw = {"start": None} if which == "start" else {"n_starts": 1}
    for bad in (np.zeros(3), np.where(np.arange(len(th)) == 2, np.nan, th)):
        kw[which] = bad
        with pytest.raises(SpecificationError, match=rf"start must be {len(th)} finite "
                           r"numbers, one per parameter \(GrowthMixtureResults.theta\)"):
            m.fit(liu, y=Y10, t=T10, **kw)


def test_bad_model_arguments():
    with pytest.raises(SpecificationError, match="unknown curve"):
        GrowthMixture("cubic")
    with pytest.raises(SpecificationError, match="experts_likelihood"):
        GrowthMixture(experts=["x"], experts_likelihood="maybe")
    with pytest.raises(SpecificationError, match="at least two classes"):
        GrowthMixture(n_classes=1, gating=["x"])


def test_too_many_classes_are_flagged_not_a_crash(wide):
    m = GrowthMixture("linear", 3)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = m.fit(wide.iloc[:30], y=Y10, t=T10, n_starts=3)
    assert np.isfinite(res.llf)
    assert res.boundary or not res.converged or not res.identified
    assert any(issubclass(x.category, (BoundaryWarning, ConvergenceWarning, UserWarning))
               for x in w)


def test_non_convergence_is_flagged(liu):
    with pytest.warns(ConvergenceWarning):
        res = GrowthMixture("bilinear_spline", 2).fit(liu, y=Y10, t=T10, n_starts=2,
                                                      max_iter=15)
    assert res.converged is False
    assert "did NOT converge" in res.summary()


@pytest.mark.parametrize("weights, match", [
    (np.ones(3), r"one value per person \(500\)"),
    (np.r_[np.nan, np.ones(499)], r"finite and >= 0; 1 are not \(persons \[0\]\)"),
    (np.r_[np.ones(499), -1.0], r"finite and >= 0; 1 are not \(persons \[499\]\)"),
    (np.zeros(500), "all 0"),
    ("gx1", "must be numbers"),
])
def test_bad_weights_are_refused(liu, weights, match):
    """A NaN weight used to give logL = -inf and BIC NaN without an error, a negative
    one was silently dropped from the likelihood but counted in N, and a vector of the
    wrong length failed deep inside JAX."""
    m = GrowthMixture("bilinear_spline", 2)
    with pytest.raises(DataError, match=match):
        m.prepare(liu, y=Y10, t=T10, weights=weights)


def test_too_few_persons_for_the_classes(liu):
    """4 persons cannot hold 2 classes of 3 growth factors (each class needs 4): the
    fit used to 'converge' to a degenerate solution without complaint."""
    with pytest.raises(DataError, match=r"4 persons are too few for 2 classes.*at least "
                                        r"4 persons.*at least 8 in all"):
        GrowthMixture("bilinear_spline", 2).fit(liu.iloc[:4], y=Y10, t=T10, n_starts=1)
    gd = GrowthMixture("bilinear_spline", 2).prepare(liu.iloc[:8], y=Y10, t=T10)
    assert gd.n == 8


def test_a_single_covariate_name_is_not_split_into_letters(liu):
    m = GrowthMixture("bilinear_spline", 2, gating="gx1", experts="ex1", invariant="theta")
    assert m.gating == ["gx1"] and m.experts == ["ex1"] and m.invariant == ("theta",)
    assert m.prepare(liu, y=Y10, t=T10).arrays["Xg"].shape == (500, 1)
    with pytest.raises(SpecificationError, match="more than once"):
        GrowthMixture("linear", 2, gating=["gx1", "gx1"])
    with pytest.raises(SpecificationError, match="column names"):
        GrowthMixture("linear", 2, experts=[1, 2])


@pytest.mark.parametrize("k", [0, 2.5, "2", True])
def test_n_classes_must_be_a_whole_number(k):
    with pytest.raises(SpecificationError, match="n_classes must be a positive integer"):
        GrowthMixture("linear", k)


@pytest.mark.parametrize("kw, match", [
    (dict(n_starts=0), "n_starts must be"),
    (dict(se="robst"), "se must be"),
    (dict(order="knot"), "order must be one of"),
    (dict(max_iter=0), "max_iter must be"),
])
def test_bad_fit_options_are_refused_before_fitting(liu, kw, match):
    """``order="knot"`` used to be silently treated as "auto", ``n_starts=0`` failed in
    numpy's stack, and a misspelt ``se`` was found only after the whole fit."""
    with pytest.raises(SpecificationError, match=match):
        GrowthMixture("bilinear_spline", 2).fit(liu, y=Y10, t=T10, **kw)


def test_long_data_with_a_repeated_visit_names_the_person(wide):
    long = to_long(wide)
    long = pd.concat([long, long.iloc[[7]]], ignore_index=True)
    pid, t = long.iloc[7]["id"], long.iloc[7]["time"]
    with pytest.raises(DataError, match=rf"person {pid} has two visits at time {t}$"):
        GrowthMixture("linear", 1).prepare(long, id="id", time="time", outcome="y")


def test_long_data_with_missing_ids(wide):
    long = to_long(wide.iloc[:40])
    long.loc[long.index[:3], "id"] = np.nan
    with pytest.raises(DataError, match="id column 'id' is missing in 3 rows"):
        GrowthMixture("linear", 1).prepare(long, id="id", time="time", outcome="y")


def test_long_visits_without_the_outcome_are_dropped(wide):
    """A visit whose outcome is missing carries nothing; its time may be missing too
    (it used to be an error). A person with no observed outcome at all is still one."""
    long = to_long(wide.iloc[:40])
    m = GrowthMixture("linear", 1)
    ref = m.prepare(long, id="id", time="time", outcome="y")
    extra = pd.DataFrame(dict(id=[0, 5], time=[np.nan, 99.0], y=[np.nan, np.nan]))
    got = m.prepare(pd.concat([long, extra]), id="id", time="time", outcome="y")
    for k in ("Y", "T", "mask"):
        np.testing.assert_array_equal(got.arrays[k], ref.arrays[k])
    ghost = pd.DataFrame(dict(id=[777, 777], time=[1.0, 2.0], y=[np.nan, np.nan]))
    with pytest.raises(DataError, match=r"1 persons have no observed outcome \(ids \[777\]"):
        m.prepare(pd.concat([long, ghost]), id="id", time="time", outcome="y")


def test_wide_ids_must_be_unique(wide):
    df = wide.iloc[:30].assign(pid=[1, 2, 3] * 10)
    with pytest.raises(DataError, match=r"id column 'pid' repeats \[1, 2, 3\]"):
        GrowthMixture("linear", 1).prepare(df, y=[f"Y{j}" for j in range(1, 11)],
                                           t=[f"T{j}" for j in range(1, 11)], id="pid")
