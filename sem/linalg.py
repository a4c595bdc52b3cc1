"""Dense linear algebra for the likelihoods: Cholesky factors, never explicit inverses.

``cholesky`` returns the lower factor and a flag that is False where the matrix is not
positive definite (LAPACK's factor then holds NaN). For matrices of size <= 4 — the
growth-factor covariances of every growth model — it uses a fully unrolled
Cholesky–Banachiewicz factorisation on batch-last scalars: on a CPU this is about
5-10x faster than batched LAPACK for 3x3 blocks (``bench/linalg_bench.py`` prints the ratio),
and it produces no LAPACK custom call at all (see ``sem.jaxconfig`` for why that matters).
"""
from __future__ import annotations

from .jaxconfig import jax, jnp

SMALL = 4


def _cholesky_unrolled(A):
    n = A.shape[-1]
    a = [[A[..., i, j] for j in range(n)] for i in range(n)]
    L = [[None] * n for _ in range(n)]
    for j in range(n):
        s = a[j][j]
        for k in range(j):
            s = s - L[j][k] * L[j][k]
        d = jnp.sqrt(s)
        L[j][j] = d
        for i in range(j + 1, n):
            s = a[i][j]
            for k in range(j):
                s = s - L[i][k] * L[j][k]
            L[i][j] = s / d
    z = jnp.zeros_like(a[0][0])
    return jnp.stack([jnp.stack([L[i][j] if j <= i else z for j in range(n)], -1)
                      for i in range(n)], -2)


def cholesky(A):
    """Lower Cholesky factor of symmetric ``A`` (..., n, n) and a PD flag (...)."""
    if A.shape[-1] <= SMALL:
        L = _cholesky_unrolled(A)
    else:
        L = jnp.linalg.cholesky(A)
    diag = jnp.diagonal(L, axis1=-2, axis2=-1)
    ok = jnp.all(jnp.isfinite(L), axis=(-2, -1)) & jnp.all(diag > 0, axis=-1)
    return L, ok


def tri_solve(L, B):
    """Solve L X = B for lower-triangular L (..., n, n), B (..., n, m)."""
    if L.shape[-1] <= SMALL:
        n = L.shape[-1]
        rows = []
        for i in range(n):
            s = B[..., i, :]
            for k in range(i):
                s = s - L[..., i, k, None] * rows[k]
            rows.append(s / L[..., i, i, None])
        return jnp.stack(rows, -2)
    return jax.scipy.linalg.solve_triangular(L, B, lower=True)


def tri_inv(L):
    """Inverse of a lower-triangular factor (small, batched)."""
    eye = jnp.broadcast_to(jnp.eye(L.shape[-1], dtype=L.dtype), L.shape)
    return tri_solve(L, eye)


def logdet_from_chol(L):
    """log det(L Lᵀ) = 2 Σ log diag(L)."""
    return 2.0 * jnp.sum(jnp.log(jnp.diagonal(L, axis1=-2, axis2=-1)), axis=-1)


def vech_indices(n: int):
    """Row and column indices of the lower triangle, column-major like R's vech."""
    import numpy as np

    r, c = [], []
    for j in range(n):
        for i in range(j, n):
            r.append(i)
            c.append(j)
    return np.array(r), np.array(c)
