"""sem.compositional: log-ratio transforms and compositional partial correlations.

Reference values:
- the 6x4 fixture and the Roman glass cups values quoted from the research notes
  (shared/research/sem_compositional.md §2.3-2.6b, papers_extract.md §2.4-2.7;
  computed there with numpy/R, clr covariance with divisor n - 1);
- tests/data/compositional_cups_*.csv, made by tests/data/compositional_make_reference.R
  (R 4.2 + MASS::ginv, an SVD pseudo-inverse and an alr route, and a loop-by-loop
  Schäfer-Strimmer shrinkage written from the papers' formulas).
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from tests.conftest import load_example
from hypothesis import given, settings
from hypothesis import strategies as st

from sem.compositional import (alr, alr_inv, closure, clr, clr_covariance, clr_inv,
                               clr_precision, helmert_basis, ilr, ilr_inv,
                               multiple_r_squared, multiplicative_replacement,
                               normalized_partial_correlations, partial_correlations,
                               partial_variances, proportionality, sbp_basis,
                               variation_matrix)
from sem.datasets import load
from sem.errors import DataError

from ..conftest import reference

FIXTURE = pd.DataFrame([[1, 2, 3, 4], [2, 1, 4, 3], [3, 3, 1, 2], [1, 4, 2, 5],
                        [2, 2, 2, 1], [4, 1, 3, 2]], columns=["x1", "x2", "x3", "x4"],
                       dtype=float)
PROP = settings(max_examples=25, deadline=None)


@pytest.fixture(scope="module")
def cups():
    return load("roman_glass_cups")


def random_parts(seed: int, D: int, n: int | None = None) -> pd.DataFrame:
    """Correlated log-normal compositions, rows scaled arbitrarily (not closed)."""
    rng = np.random.default_rng(seed)
    n = 2 * D + 5 if n is None else n
    L = rng.normal(size=(D, D))
    X = np.exp(rng.normal(size=(n, D)) @ L * 0.5 + rng.normal(size=D))
    X *= rng.uniform(0.1, 10.0, size=(n, 1))
    return pd.DataFrame(X, columns=[f"p{k}" for k in range(D)])


def precision(S: np.ndarray) -> np.ndarray:
    return np.linalg.inv(S)


def pcor_of(K: np.ndarray) -> np.ndarray:
    P = -K / np.sqrt(np.outer(np.diag(K), np.diag(K)))
    np.fill_diagonal(P, 1.0)
    return P


def alr_cov(X: pd.DataFrame, r: int) -> tuple[np.ndarray, list[int]]:
    keep = [k for k in range(X.shape[1]) if k != r]
    return np.cov(alr(X, r).to_numpy(), rowvar=False), keep


def residual(y: np.ndarray, Z: np.ndarray) -> np.ndarray:
    A = np.column_stack([np.ones(len(y)), Z])
    return y - A @ np.linalg.lstsq(A, y, rcond=None)[0]


# --- reference values ------------------------------------------------------------------

def test_tiny_fixture_values():
    omega = clr_precision(clr_covariance(FIXTURE))
    expected = np.array([[2.315045, -1.557512, -2.427541, 1.670008],
                         [-1.557512, 3.111772, 1.762599, -3.316859],
                         [-2.427541, 1.762599, 4.949483, -4.284541],
                         [1.670008, -3.316859, -4.284541, 5.931392]])
    np.testing.assert_allclose(omega.to_numpy(), expected, atol=1e-6)
    pc = partial_correlations(FIXTURE)
    for (a, b), v in {("x1", "x2"): 0.580294, ("x1", "x3"): 0.717145,
                      ("x1", "x4"): -0.450672, ("x2", "x3"): -0.449128,
                      ("x2", "x4"): 0.772049, ("x3", "x4"): 0.790762}.items():
        assert pc.loc[a, b] == pytest.approx(v, abs=1e-6)
        assert pc.loc[b, a] == pc.loc[a, b]
    np.testing.assert_allclose(partial_variances(FIXTURE),
                               [0.431957, 0.321360, 0.202041, 0.168594], atol=1e-6)
    sub = FIXTURE[["x1", "x2", "x3"]]
    assert partial_correlations(sub).loc["x1", "x2"] == pytest.approx(0.409533, abs=1e-6)
    assert partial_variances(sub)["x1"] == pytest.approx(0.542050, abs=1e-6)
    # residual variance of log(x1/x4) on the other log-ratios = 1/Omega_11 (notes §2.3)
    A = alr(FIXTURE, "x4").to_numpy()
    res = residual(A[:, 0], A[:, 1:])
    assert res @ res / (len(res) - 1) == pytest.approx(0.4319570867, abs=1e-9)


def test_cups_full_matrix_against_r(cups):
    ref = reference("compositional_cups_pcor.csv").set_index("part")
    pc = partial_correlations(cups)
    assert list(pc.index) == list(cups.columns) == list(pc.columns)
    np.testing.assert_allclose(pc.to_numpy(), ref.loc[pc.index, pc.columns].to_numpy(),
                               atol=1e-10)
    parts = reference("compositional_cups_parts.csv").set_index("part")
    pv = partial_variances(cups)
    np.testing.assert_allclose(pv, parts["partial_variance"], rtol=1e-10)
    np.testing.assert_allclose(pv[:-1], parts["partial_variance_alr_Sb"][:-1], rtol=1e-10)
    np.testing.assert_allclose(np.diag(clr_covariance(cups)), parts["clr_variance"],
                               rtol=1e-12)


def test_cups_values_in_research_notes(cups):
    pc, pv = partial_correlations(cups), partial_variances(cups)
    six = {("Si", "Al"): 0.721524, ("Al", "Fe"): 0.726681, ("Ca", "Na"): 0.597281,
           ("K", "P"): 0.412748, ("Ti", "P"): 0.356379, ("Mn", "Sb"): -0.187042}
    for (a, b), v in six.items():
        assert pc.loc[a, b] == pytest.approx(v, abs=1e-6)
    upper = """0.722 -0.663 0.166 0.125 0.253 0.018 -0.119 -0.078 -0.022 0.184
        0.727 -0.014 -0.190 0.305 0.233 0.140 -0.004 -0.187 -0.280
        0.428 0.257 -0.190 -0.002 0.047 -0.129 0.289 0.343
        0.051 -0.026 -0.229 0.305 0.019 -0.077 -0.106
        0.597 -0.013 0.090 0.133 0.258 0.046
        -0.060 -0.025 0.045 0.007 0.100
        0.098 0.413 0.223 0.171
        0.356 0.021 -0.252
        0.030 0.366
        -0.187"""
    iu = np.triu_indices(11, 1)
    np.testing.assert_allclose(pc.to_numpy()[iu], [float(v) for v in upper.split()],
                               atol=5e-4 + 1e-12)
    notes_pv = {"Si": 0.002033, "Al": 0.000875, "Fe": 0.003469, "Mg": 0.008125,
                "Ca": 0.002785, "Na": 0.001777, "K": 0.008412, "Ti": 0.008315,
                "P": 0.010252, "Mn": 0.050619, "Sb": 0.051600}
    np.testing.assert_allclose(pv[list(notes_pv)], list(notes_pv.values()), atol=1e-6)
    notes_clr = [0.018147, 0.005852, 0.013975, 0.015166, 0.004561, 0.008562, 0.009840,
                 0.011631, 0.012656, 0.068842, 0.066866]
    np.testing.assert_allclose(np.diag(clr_covariance(cups)), notes_clr, atol=1e-6)
    # divisor n: partial variances scale by (n-1)/n, partial correlations do not move
    np.testing.assert_allclose(partial_variances(cups, ddof=0), pv * 46 / 47, rtol=1e-12)
    np.testing.assert_allclose(partial_correlations(cups, ddof=0), pc, atol=1e-12)
    # proportionality and clr correlation of Si-Na (notes §2.4)
    assert proportionality(cups).loc["Si", "Na"] == pytest.approx(0.778787, abs=1e-6)
    g = clr_covariance(cups)
    assert g.loc["Si", "Na"] / np.sqrt(g.loc["Si", "Si"] * g.loc["Na", "Na"]) == \
        pytest.approx(0.834364, abs=1e-6)
    # D = 3 reduction on (Si, Na, Ca): 0.802742 both ways, pv(Si) 0.005348
    sub = cups[["Si", "Na", "Ca"]]
    lr = np.log(sub[["Si", "Na"]].to_numpy() / sub[["Ca"]].to_numpy())
    rho = np.corrcoef(lr, rowvar=False)[0, 1]
    assert rho == pytest.approx(0.802742, abs=1e-6)
    assert partial_correlations(sub).loc["Si", "Na"] == pytest.approx(rho, abs=1e-12)
    assert partial_variances(sub)["Si"] == pytest.approx(0.005348, abs=1e-6)


# --- reference independence, invariances ------------------------------------------------

@PROP
@given(seed=st.integers(0, 2**32 - 1), D=st.integers(3, 8))
def test_reference_independence(seed, D):
    X = random_parts(seed, D)
    omega = clr_precision(clr_covariance(X)).to_numpy()
    pc, pv = partial_correlations(X).to_numpy(), partial_variances(X).to_numpy()
    scale = np.abs(omega).max()
    for r in range(D):
        S, keep = alr_cov(X, r)
        K = precision(S)
        np.testing.assert_allclose(K, omega[np.ix_(keep, keep)], atol=1e-12 * scale)
        np.testing.assert_allclose(pcor_of(K), pc[np.ix_(keep, keep)], atol=1e-12)
        np.testing.assert_allclose(1.0 / np.diag(K), pv[keep], rtol=1e-10)
    np.testing.assert_allclose(omega.sum(axis=1), 0.0, atol=1e-12 * scale)


def test_residuals_are_reference_independent():
    """Erb's proposition in its own terms: the residual of log(x_i/x_r) on the other
    log-ratios to x_r is the same variable for every r."""
    X = random_parts(7, 5)
    L = np.log(X.to_numpy())
    i = 0
    res = []
    for r in range(1, 5):
        others = [k for k in range(5) if k not in (i, r)]
        res.append(residual(L[:, i] - L[:, r], L[:, others] - L[:, [r]]))
    for e in res[1:]:
        np.testing.assert_allclose(e, res[0], atol=1e-12)
    assert res[0] @ res[0] / (len(X) - 1) == pytest.approx(
        partial_variances(X).iloc[0], rel=1e-10)


@PROP
@given(seed=st.integers(0, 2**32 - 1), D=st.integers(3, 8))
def test_closure_and_scale_invariance(seed, D):
    X = random_parts(seed, D)
    scaled = X * np.random.default_rng(seed).uniform(1e-3, 1e3, size=(len(X), 1))
    for f in (partial_correlations, partial_variances):
        np.testing.assert_allclose(f(closure(X)), f(X), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(f(scaled), f(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(clr(scaled), clr(X), atol=1e-12)
    perm = np.random.default_rng(seed + 1).permutation(D)
    Xp = X.iloc[:, perm]
    np.testing.assert_allclose(partial_correlations(Xp),
                               partial_correlations(X).iloc[perm, perm], atol=1e-12)


@PROP
@given(seed=st.integers(0, 2**32 - 1))
def test_three_parts_reduce_to_log_ratio_correlation(seed):
    X = random_parts(seed, 3)
    lr = np.log(X[["p0", "p1"]].to_numpy() / X[["p2"]].to_numpy())
    rho = np.corrcoef(lr, rowvar=False)[0, 1]
    assert partial_correlations(X).loc["p0", "p1"] == pytest.approx(rho, abs=1e-12)
    v = np.var(lr[:, 0], ddof=1)
    assert partial_variances(X)["p0"] == pytest.approx(v * (1 - rho**2), rel=1e-10)


@PROP
@given(seed=st.integers(0, 2**32 - 1), D=st.integers(3, 8))
def test_ilr_basis_independence(seed, D):
    X = random_parts(seed, D)
    omega = clr_precision(clr_covariance(X)).to_numpy()
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(helmert_basis(D) @ rng.normal(size=(D - 1, D - 1)))
    signs = np.zeros((D - 1, D))
    for k in range(D - 1):  # the "pivot" partition: part k against parts k+1..D-1
        signs[k, k], signs[k, k + 1:] = 1, -1
    for V in (helmert_basis(D), Q, sbp_basis(signs)):
        Y = ilr(X, V).to_numpy()
        back = V @ precision(np.cov(Y, rowvar=False)) @ V.T
        np.testing.assert_allclose(back, omega, atol=1e-12 * np.abs(omega).max())


def test_precision_closed_form_does_not_depend_on_c(cups):
    G = clr_covariance(cups).to_numpy()
    D = G.shape[0]
    om = clr_precision(G)
    for c in (1.0 / D, 1e-3, 10.0):
        np.testing.assert_allclose(clr_precision(G, c=c), om, rtol=1e-9,
                                   atol=1e-10 * np.abs(om).max())
    np.testing.assert_allclose(np.linalg.pinv(G, hermitian=True), om, rtol=1e-8,
                               atol=1e-10 * np.abs(om).max())


# --- normalization, subcompositions, reference dependence of R² ---------------------------

def test_normalization_equivalence_anchors():
    pc, pv = normalized_partial_correlations(FIXTURE, ["x1", "x2"])
    assert list(pc.index) == ["x3", "x4"]
    assert pc.loc["x3", "x4"] == pytest.approx(0.790762, abs=1e-6)
    assert pv["x3"] == pytest.approx(0.202041, abs=1e-6)
    pc7, _ = normalized_partial_correlations(FIXTURE, {"x1": 0.7, "x2": 0.3})
    assert pc7.loc["x3", "x4"] == pytest.approx(pc.loc["x3", "x4"], abs=1e-12)
    # without conditioning on the normalizing parts the answer differs: the notes'
    # 0.667777 is corr(y3, y4) for the weights (0.7, 0.3); (1/2, 1/2) gives 0.621806
    L = np.log(FIXTURE.to_numpy())
    y = L - L[:, :2] @ np.array([[0.7], [0.3]])
    assert np.corrcoef(y[:, 2], y[:, 3])[0, 1] == pytest.approx(0.667777, abs=1e-6)
    y = L - L[:, :2].mean(axis=1, keepdims=True)
    assert np.corrcoef(y[:, 2], y[:, 3])[0, 1] == pytest.approx(0.621806, abs=1e-6)


@PROP
@given(seed=st.integers(0, 2**32 - 1), D=st.integers(4, 8))
def test_normalization_route_matches(seed, D):
    X = random_parts(seed, D)
    pc, pv = partial_correlations(X), partial_variances(X)
    for norm in (None, "p0", ["p0", "p1"], {"p1": 0.2, "p2": 0.5, "p3": 0.3}):
        npc, npv = normalized_partial_correlations(X, norm)
        labels = list(npc.index)
        np.testing.assert_allclose(npc, pc.loc[labels, labels], atol=1e-10)
        # two routes to the same inverse: their round-off grows with the condition
        # of the log-ratio covariance (2e-9 relative seen at seed=3157, D=7)
        np.testing.assert_allclose(npv, pv[labels], rtol=1e-7)


def test_subcompositional_incoherence_and_given(cups):
    # fixture anchor: rho_12 is 0.580294 given {3, 4} but 0.409533 given {3} only
    full = partial_correlations(FIXTURE)
    sub = partial_correlations(FIXTURE, given=["x3"])
    assert full.loc["x1", "x2"] == pytest.approx(0.580294, abs=1e-6)
    assert sub.loc["x1", "x2"] == pytest.approx(0.409533, abs=1e-6)
    assert list(sub.index) == ["x1", "x2", "x4"]
    # given S equals the subcomposition {i, j} + S, for any reference r in S
    S = ["Na", "K", "Mn"]
    pc = partial_correlations(cups, given=S)
    pv = partial_variances(cups, given=S)
    pc_rev = partial_correlations(cups, given=S[::-1])
    np.testing.assert_allclose(pc, pc_rev, atol=1e-12)
    for a, b in [("Si", "Al"), ("Fe", "Sb"), ("Ca", "P")]:
        ref = partial_correlations(cups[[a, b] + S]).loc[a, b]
        assert pc.loc[a, b] == pytest.approx(ref, abs=1e-12)
    assert pv["Si"] == pytest.approx(partial_variances(cups[["Si"] + S])["Si"], rel=1e-10)
    # given everything but (i, j) recovers the full partial correlation
    rest = [p for p in cups.columns if p not in ("Ti", "P")]
    assert partial_correlations(cups, given=rest).loc["Ti", "P"] == \
        pytest.approx(partial_correlations(cups).loc["Ti", "P"], abs=1e-12)


def test_multiple_r_squared_depends_on_reference():
    r2 = {r: multiple_r_squared(FIXTURE, r)["x1"] for r in ("x2", "x3", "x4")}
    assert r2["x2"] == pytest.approx(0.550469, abs=1e-6)
    assert r2["x3"] == pytest.approx(0.336758, abs=1e-6)
    assert r2["x4"] == pytest.approx(0.597813, abs=1e-6)


def test_variation_and_proportionality():
    X = random_parts(3, 5)
    T = variation_matrix(X)
    L = np.log(X.to_numpy())
    for i, j in [(0, 1), (2, 4), (3, 3)]:
        assert T.iloc[i, j] == pytest.approx(np.var(L[:, i] - L[:, j], ddof=1),
                                             abs=1e-12)
    G = np.cov(clr(X).to_numpy(), rowvar=False)
    rho = 1 - T.to_numpy() / (np.diag(G)[:, None] + np.diag(G)[None, :])
    np.testing.assert_allclose(proportionality(X), rho, atol=1e-12)


# --- transforms ---------------------------------------------------------------------------

@PROP
@given(seed=st.integers(0, 2**32 - 1), D=st.integers(2, 9))
def test_inverse_transforms_round_trip(seed, D):
    X = random_parts(seed, D, n=6)
    C = closure(X)
    np.testing.assert_allclose(C.sum(axis=1), 1.0, atol=1e-14)
    np.testing.assert_allclose(clr_inv(clr(X)), C, rtol=1e-12)
    np.testing.assert_allclose(clr(X).sum(axis=1), 0.0, atol=1e-12)
    for r in (0, D - 1, "p0"):
        back = alr_inv(alr(X, r))
        assert list(back.columns) == list(X.columns)
        np.testing.assert_allclose(back, C, rtol=1e-12)
    Q, _ = np.linalg.qr(helmert_basis(D) @ np.random.default_rng(seed).normal(
        size=(D - 1, D - 1)))
    for V in (None, Q, Q.T):
        back = ilr_inv(ilr(X, V), V)
        assert list(back.columns) == list(X.columns)
        np.testing.assert_allclose(back, C, rtol=1e-12)
    np.testing.assert_allclose(ilr_inv(ilr(X.to_numpy()), total=100.0), 100 * C,
                               rtol=1e-12)


def test_transform_shapes_and_kinds():
    x = np.array([0.2, 0.3, 0.5])
    assert clr(x).shape == (3,) and alr(x).shape == (2,) and ilr(x).shape == (2,)
    s = pd.Series(x, index=["a", "b", "c"], name="s1")
    assert list(alr(s, "a").index) == ["b", "c"]
    np.testing.assert_allclose(alr(x, 0), np.log(x[1:] / x[0]))
    # Helmert basis: ilr_k = sqrt(k/(k+1)) log(g(x_1..x_k) / x_{k+1})
    np.testing.assert_allclose(ilr(x), [np.sqrt(0.5) * np.log(0.2 / 0.3),
                                        np.sqrt(2 / 3) * np.log(np.sqrt(0.06) / 0.5)])
    V = helmert_basis(5)
    np.testing.assert_allclose(V.T @ V, np.eye(4), atol=1e-15)
    np.testing.assert_allclose(V @ V.T, np.eye(5) - 1 / 5, atol=1e-15)
    Xa = FIXTURE.to_numpy()
    assert isinstance(partial_correlations(Xa), np.ndarray)
    np.testing.assert_allclose(partial_correlations(Xa), partial_correlations(FIXTURE))
    assert isinstance(partial_variances(Xa), np.ndarray)


# --- shrinkage: more parts than samples --------------------------------------------------

def test_shrinkage_matches_r_reference(cups):
    wide = cups.iloc[:8]
    with pytest.raises(DataError, match="too few.*shrinkage"):
        partial_correlations(wide)
    with pytest.raises(DataError, match="shrinkage"):
        partial_variances(wide)
    pc = partial_correlations(wide, shrinkage="basis")
    ref = reference("compositional_cups_shrink8_pcor.csv").set_index("part")
    np.testing.assert_allclose(pc, ref.loc[pc.index, pc.columns], atol=1e-10)
    lam = reference("compositional_cups_shrink8_lambda.csv")
    assert pc.attrs["intensity"] == pytest.approx(lam["lambda"][0], abs=1e-10)
    assert pc.attrs["variance_intensity"] == pytest.approx(lam["lambda_var"][0], abs=1e-10)


@pytest.mark.parametrize("method", ["basis", "ledoit-wolf", "oas"])
def test_shrinkage_outputs_when_parts_exceed_samples(method):
    X = random_parts(11, 30, n=12)
    pc = partial_correlations(X, shrinkage=method)
    pv = partial_variances(X, shrinkage=method)
    assert pc.shape == (30, 30) and list(pc.index) == list(X.columns)
    assert list(pv.index) == list(X.columns) and np.all(pv > 0)
    assert np.all(np.abs(pc.to_numpy()) <= 1) and np.allclose(np.diag(pc), 1)
    np.testing.assert_allclose(pc, pc.T, atol=1e-14)
    assert 0 <= pc.attrs["intensity"] <= 1
    # still closure invariant and usable with a conditioning subset
    np.testing.assert_allclose(partial_correlations(closure(X), shrinkage=method), pc,
                               atol=1e-10)
    assert partial_correlations(X, given=["p0", "p1"], shrinkage=method).shape == (28, 28)


def test_ledoit_wolf_is_sklearn_on_the_log_basis():
    from sklearn.covariance import LedoitWolf

    X = random_parts(5, 15, n=10)
    B = np.log(closure(X).to_numpy())
    n, D = B.shape
    G = np.eye(D) - 1 / D
    expected = G @ LedoitWolf().fit(B).covariance_ @ G * n / (n - 1)
    np.testing.assert_allclose(clr_covariance(X, shrinkage="ledoit-wolf"), expected,
                               atol=1e-14)
    with pytest.raises(ValueError, match="unknown shrinkage"):
        partial_correlations(X, shrinkage="glasso")


# --- bad input ----------------------------------------------------------------------------

def test_zeros_and_negatives_name_rows_and_columns(cups):
    X = cups.copy()
    X.iloc[3, 2] = 0.0
    X.iloc[5, [1, 4]] = 0.0
    with pytest.raises(DataError, match=r"row 3 \(Fe\); row 5 \(Al, Ca\).*"
                                        "multiplicative_replacement"):
        partial_correlations(X)
    with pytest.raises(DataError, match="zero parts"):
        clr(X)
    X = cups.copy()
    X.index = [f"cup{k}" for k in range(len(X))]
    X.loc["cup9", "Mn"] = -0.01
    with pytest.raises(DataError, match=r"negative parts at row 'cup9' \(Mn\)"):
        partial_variances(X)


def test_multiplicative_replacement(cups):
    X = cups.copy()
    X.iloc[3, 9] = 0.0                      # Mn below detection (DL 0.01 %)
    X.iloc[5, [9, 10]] = 0.0
    Y = multiplicative_replacement(X, detection_limit=0.01)
    assert Y.iloc[3, 9] == pytest.approx(0.0065)
    np.testing.assert_allclose(Y.sum(axis=1), X.sum(axis=1), rtol=1e-14)
    ratio = Y.iloc[5, :9] / X.iloc[5, :9]
    np.testing.assert_allclose(ratio, ratio.iloc[0], rtol=1e-14)   # ratios kept
    pd.testing.assert_frame_equal(Y.drop(index=[3, 5]), X.drop(index=[3, 5]))
    assert np.isfinite(partial_correlations(Y).to_numpy()).all()
    per_part = multiplicative_replacement(X, detection_limit={"Mn": 0.01, "Sb": 0.02})
    assert per_part.iloc[5, 10] == pytest.approx(0.013)
    Z = multiplicative_replacement(np.array([[0.0, 1.0, 3.0]]))
    np.testing.assert_allclose(Z, [[4 / 9, 1 - 1 / 9, 3 * (1 - 1 / 9)]])
    with pytest.raises(DataError, match=r"row 5 \(Sb\)"):
        multiplicative_replacement(X, detection_limit={"Mn": 0.01})
    with pytest.raises(DataError, match="use up"):
        multiplicative_replacement(X, detection_limit=1e4)


def test_nan_single_part_and_constant_parts(cups):
    X = cups.copy()
    X.iloc[2, 0] = np.nan
    with pytest.raises(DataError, match=r"NaN\) at row 2 \(Si\)"):
        partial_correlations(X)
    with pytest.raises(DataError, match="at least 2 parts; got 1 \\(Si\\)"):
        partial_correlations(cups[["Si"]])
    with pytest.raises(DataError, match="at least 2 parts"):
        clr(cups[["Si"]])
    X = cups.copy()
    X["Sn"] = 0.01
    with pytest.raises(DataError, match=r"constant parts Sn \(= 0.01\)"):
        partial_correlations(X)
    # the same constant, used as the normalizer, is a spike-in: allowed there, and
    # gives the ordinary partial correlations of the log amounts
    pc, _ = normalized_partial_correlations(X, "Sn")
    K = np.linalg.inv(np.cov(np.log(cups.to_numpy()), rowvar=False))
    np.testing.assert_allclose(pc, pcor_of(K), atol=1e-10)
    with pytest.raises(DataError, match="two samples"):
        partial_correlations(cups.iloc[:1])


def test_degenerate_covariances_are_named(cups):
    X = cups.copy()
    X["Al2"] = 3.0 * X["Al"]
    with pytest.raises(DataError, match="proportional.*Al2/Al"):
        partial_correlations(X)
    X = cups.copy()
    X["g"] = 2.0 * np.exp(np.log(cups).mean(axis=1))
    with pytest.raises(DataError, match=r"constant clr.*\['g'\]"):
        partial_variances(X)
    with pytest.raises(DataError, match="given parts are degenerate.*Al2/Al"):
        partial_correlations(X.assign(Al2=3.0 * X["Al"]), given=["Al", "Al2", "Na"])
    with pytest.raises(DataError, match=r"\['Al2'\] are \(numerically\) determined"):
        partial_variances(X.assign(Al2=3.0 * X["Al"]), given=["Al", "Na"])
    with pytest.raises(DataError, match="not a clr covariance"):
        clr_precision(np.cov(np.log(cups.to_numpy()), rowvar=False))


def test_bad_arguments(cups):
    with pytest.raises(DataError, match="unknown reference part 'Zn'"):
        alr(cups, "Zn")
    with pytest.raises(DataError, match="orthonormal"):
        ilr(cups, np.ones((11, 10)))
    with pytest.raises(DataError, match="shape"):
        ilr(cups, helmert_basis(5))
    with pytest.raises(DataError, match="at least one part"):
        partial_correlations(cups, given=[])
    with pytest.raises(DataError, match="non-numeric"):
        clr(cups.assign(site="Colchester"))
    with pytest.raises(DataError, match="binary partition"):
        sbp_basis([[1, 1, 0], [0, 1, -1]])
    with pytest.raises(DataError, match="ddof"):
        partial_correlations(cups, ddof=47)


# --- plots and the example ---------------------------------------------------------------

def test_plots_produce_figures(cups):
    import matplotlib

    matplotlib.use("Agg")
    from sem.plots import pyplot
    from sem.plots.compositional import (partial_correlation_graph,
                                         partial_correlation_heatmap, strongest_pairs)

    pc = partial_correlations(cups)
    fig = partial_correlation_heatmap(pc)
    assert len(fig.axes) == 2                     # heatmap and colour bar
    top = strongest_pairs(pc, top=5)
    assert list(top.iloc[0, :2]) == ["Al", "Fe"] and len(top) == 5
    assert (strongest_pairs(pc, threshold=0.5)["pcor"].abs() >= 0.5).all()
    for layout in ("circular", "spring"):
        fig2 = partial_correlation_graph(pc, top=6, variances=partial_variances(cups),
                                         layout=layout, seed=1)
        assert fig2.axes
    pyplot().close("all")


def test_example_runs_fast(tmp_path, capsys):
    mod = load_example("compositional_partial_correlations")
    files = mod.main(["--fast", "--out", str(tmp_path)])
    for f in files.values():
        assert f.exists() and f.stat().st_size > 0
    out = capsys.readouterr().out
    assert "Partial variances" in out and "0.722" in out


# --- audit regressions ------------------------------------------------------------------

def test_two_parts_partial_correlation_is_refused(cups):
    """With D = 2 there is no reference part besides i and j, so ρ_12 is undefined;
    the formula -Ω_12/√(Ω_11 Ω_22) gave +1 whatever the data (the clr correlation of two
    parts is -1). Partial variances stay defined: π_i = var log(x_1/x_2)."""
    two = cups[["Si", "Al"]]
    with pytest.raises(DataError, match=r"at least 3 parts.*\['Si', 'Al'\]"):
        partial_correlations(two)
    with pytest.raises(DataError, match="at least 3 parts"):
        normalized_partial_correlations(two)
    lr = np.log(two["Si"] / two["Al"])
    np.testing.assert_allclose(partial_variances(two), [lr.var(ddof=1)] * 2, rtol=1e-12)
    # given= on larger compositions still works, down to three parts
    assert partial_correlations(cups[["Si", "Al", "Na"]]).shape == (3, 3)
