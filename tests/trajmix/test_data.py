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
    (lambda d: d.assign(T4=d["T3"] - 0.1), DataError, "not increasing"),
    (lambda d: d.assign(**{y: np.where(d.index == 5, np.nan, d[y]) for y in Y10}),
     DataError, "no observed outcome"),
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
