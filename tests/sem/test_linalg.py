"""sem.linalg's two forms (unrolled on scalars n <= SMALL, fori_loop above), each at
several sizes, against numpy's LAPACK."""
import numpy as np
import pytest

from sem import linalg
from sem.jaxconfig import jnp


def spd(rng, batch, n):
    X = rng.normal(size=batch + (n + 5, n))
    return np.einsum("...ki,...kj->...ij", X, X) / (n + 5) + 0.1 * np.eye(n)


FORMS = {"scalars": dict(SMALL=32), "loop": dict(SMALL=0)}


@pytest.mark.parametrize("form, n", [("scalars", 1), ("scalars", 3), ("loop", 2),
                                     ("loop", 9), ("loop", 18)])
def test_factor_and_solves_match_numpy(n, form, monkeypatch):
    for k, v in FORMS[form].items():
        monkeypatch.setattr(linalg, k, v)
    rng = np.random.default_rng(n)
    A = spd(rng, (4,), n)
    B = rng.normal(size=(4, n, 2))
    L, ok = linalg.cholesky(jnp.asarray(A))
    np.testing.assert_allclose(L, np.linalg.cholesky(A), rtol=1e-10, atol=1e-12)
    assert np.all(ok)
    np.testing.assert_allclose(linalg.tri_solve(L, jnp.asarray(B)),
                               np.linalg.solve(np.asarray(L), B), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(linalg.cho_solve(L, jnp.asarray(B)), np.linalg.solve(A, B),
                               rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(linalg.cho_solve(L[0], jnp.asarray(B[0, :, 0])),
                               np.linalg.solve(A[0], B[0, :, 0]), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(linalg.tri_inv(L) @ L, np.broadcast_to(np.eye(n), A.shape),
                               atol=1e-10)
    np.testing.assert_allclose(linalg.logdet_from_chol(L), np.linalg.slogdet(A)[1],
                               rtol=1e-12)


@pytest.mark.parametrize("form, n", [("scalars", 3), ("loop", 9)])
def test_not_positive_definite_is_flagged(n, form, monkeypatch):
    for k, v in FORMS[form].items():
        monkeypatch.setattr(linalg, k, v)
    A = np.eye(n)
    A[n - 1, n - 1] = -1.0
    _, ok = linalg.cholesky(jnp.asarray(np.stack([np.eye(n), A])))
    assert list(np.asarray(ok)) == [True, False]


def test_gauss_jordan_solve_pivots_and_matches_numpy():
    rng = np.random.default_rng(5)
    M = rng.normal(size=(3, 6, 6))
    M[1, 0, 0] = 0.0                       # a zero pivot: needs a row exchange
    M[2] = np.eye(6)[::-1] * 2.0           # a permutation
    B = rng.normal(size=(3, 6, 2))
    np.testing.assert_allclose(linalg.solve(jnp.asarray(M), jnp.asarray(B)),
                               np.linalg.solve(M, B), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(linalg.solve(jnp.asarray(M[0]), jnp.eye(6)),
                               np.linalg.inv(M[0]), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("n", [1, 3, 9, 18])
def test_sweep_inverse_matches_numpy(n):
    """The sweep gives the inverse and log-determinant of SPD matrices (the ML
    objective's Σ⁻¹), and clears the flag exactly where a matrix is not PD."""
    rng = np.random.default_rng(10 + n)
    A = spd(rng, (5,), n)
    A[1] *= 1e3                                   # scale does not matter
    K, logdet, ok = linalg.sweep_inverse(jnp.asarray(A))
    np.testing.assert_allclose(K, np.linalg.inv(A), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(logdet, np.linalg.slogdet(A)[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(K, np.swapaxes(K, -1, -2))   # exactly symmetric
    assert np.all(ok)
    skew = A + 1e-14 * rng.normal(size=A.shape)   # symmetric to round-off, as B S Bᵀ
    K2 = np.asarray(linalg.sweep_inverse(jnp.asarray(skew))[0])
    np.testing.assert_array_equal(K2, np.swapaxes(K2, -1, -2))
    B = A.copy()
    B[0, -1, -1] = -1.0                           # indefinite (last pivot negative)
    B[2] = 0.0                                    # singular
    B[3, 0, 0] = np.nan
    if n > 1:
        B[4, 0, 1] = B[4, 1, 0] = 2 * np.sqrt(B[4, 0, 0] * B[4, 1, 1])  # |r| > 1
    ok = np.asarray(linalg.sweep_inverse(jnp.asarray(B))[2])
    np.testing.assert_array_equal(ok, [False, True, False, False, n == 1])
