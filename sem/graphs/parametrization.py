"""Numeric parametrization of a mixed graph's SEM: θ ↔ (Λ, Ω), Σ by linear solves,
random parameters and simulation.

Σ = (I − Λ)⁻ᵀ Ω (I − Λ)⁻¹ is computed from one LU factorisation of A = I − Λ:
X = A⁻ᵀ Ω (a transposed solve), then Σ = A⁻ᵀ Xᵀ (a second one); never an explicit
inverse (docs/design.md). Shapes: Λ, Ω (B, n, n) → Σ (B, n, n); θ (..., q) with
q = |D| + n + |B| ordered (λ over D, ω over V, ω over B).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SpecificationError, check_count
from ..estimation import seed_to_int
from ..jaxconfig import jax, jnp
from ..linalg import solve


def edge_index(edges):
    """(rows, cols) integer arrays of a list of (i, j) pairs (possibly empty)."""
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    return e[:, 0], e[:, 1]


def matrices(theta: np.ndarray, n: int, D, B):
    """(Λ, Ω), each (..., n, n), from θ (..., q)."""
    E = len(D)
    batch = theta.shape[:-1]
    if theta.shape[-1] != E + n + len(B):
        raise SpecificationError(f"θ has {theta.shape[-1]} entries; the graph has "
                                 f"{E + n + len(B)} parameters")
    L = np.zeros(batch + (n, n))
    W = np.zeros(batch + (n, n))
    r, c = edge_index(D)
    L[..., r, c] = theta[..., :E]
    d = np.arange(n)
    W[..., d, d] = theta[..., E:E + n]
    r, c = edge_index(B)
    W[..., r, c] = theta[..., E + n:]
    W[..., c, r] = theta[..., E + n:]
    return L, W


def params(Lambda, Omega, D, B) -> np.ndarray:
    """θ (..., q) from (Λ, Ω) (..., n, n)."""
    r, c = edge_index(D)
    br, bc = edge_index(B)
    d = np.arange(Lambda.shape[-1])
    return np.concatenate([Lambda[..., r, c], Omega[..., d, d], Omega[..., br, bc]],
                          axis=-1)


def check_matrices(Lambda, Omega, n, D, B, nodes):
    """Float arrays of matching shape (..., n, n); Λ zero off D, Ω symmetric and zero
    off the diagonal and B. Errors name the first offending entry."""
    Lambda = np.asarray(Lambda, dtype=float)
    Omega = np.asarray(Omega, dtype=float)
    for name, M in (("Lambda", Lambda), ("Omega", Omega)):
        if M.ndim < 2 or M.shape[-2:] != (n, n):
            raise SpecificationError(f"{name} must be {n}×{n} (or a stack of them), "
                                     f"got shape {M.shape}")
        if not np.all(np.isfinite(M)):
            raise SpecificationError(f"{name} has non-finite entries")
    if Lambda.shape != Omega.shape:
        raise SpecificationError(f"Lambda {Lambda.shape} and Omega {Omega.shape} differ "
                                 "in shape")
    allowed = np.zeros((n, n), bool)
    r, c = edge_index(D)
    allowed[r, c] = True
    bad = np.argwhere(np.any((Lambda != 0) & ~allowed, axis=tuple(range(Lambda.ndim - 2))))
    if len(bad):
        i, j = bad[0]
        what = "a self-loop" if i == j else "not an edge of D"
        raise SpecificationError(f"Lambda[{i}, {j}] is nonzero but {nodes[i]!r} → "
                                 f"{nodes[j]!r} is {what}")
    scale = max(1.0, float(np.abs(Omega).max(initial=0)))
    asym = np.abs(Omega - np.swapaxes(Omega, -1, -2)) > 1e-12 * scale
    if asym.any():
        i, j = np.argwhere(asym.reshape((-1, n, n)).any(0))[0]
        raise SpecificationError(f"Omega is not symmetric: Omega[{i}, {j}] ≠ "
                                 f"Omega[{j}, {i}]")
    allowed_w = np.eye(n, dtype=bool)
    r, c = edge_index(B)
    allowed_w[r, c] = allowed_w[c, r] = True
    bad = np.argwhere(np.any((Omega != 0) & ~allowed_w, axis=tuple(range(Omega.ndim - 2))))
    if len(bad):
        i, j = bad[0]
        raise SpecificationError(f"Omega[{i}, {j}] is nonzero but {nodes[i]!r} ↔ "
                                 f"{nodes[j]!r} is not an edge of B")
    return Lambda, Omega


def _singular_error(k, det, nodes):
    where = f" (batch entry {k})" if k is not None else ""
    return SpecificationError(
        f"I − Lambda is singular{where}: det(I − Λ) = {det:.3g}, so Σ is undefined (the "
        "feedback loops of D have a total effect of 1); change the coefficients on its "
        "cycles")


def check_nonsingular(L: np.ndarray, nodes, tol: float = 1e-12) -> None:
    """Raise if I − Λ is (numerically) singular for any matrix of the stack (B, n, n)."""
    A = np.eye(L.shape[-1]) - L
    det = np.linalg.det(A)
    cond = np.linalg.cond(A)
    bad = np.nonzero((np.abs(det) < tol) | ~np.isfinite(cond) | (cond > 1e13))[0]
    if len(bad):
        k = int(bad[0])
        raise _singular_error(k if len(L) > 1 else None, float(det[k]), nodes)


def check_det(det: np.ndarray, L: np.ndarray, nodes, tol: float = 1e-12) -> None:
    """Raise if the closed form's denominator Δ = det(I − Λ) vanishes."""
    bad = np.nonzero(~(np.abs(det) >= tol))[0]
    if len(bad):
        k = int(bad[0])
        raise _singular_error(k if len(L) > 1 else None, float(det[k]), nodes)


def _solve_one(L, W):
    At = (jnp.eye(L.shape[-1], dtype=L.dtype) - L).T
    X = solve(At, W)                                       # A⁻ᵀ Ω
    S = solve(At, X.T)                                     # A⁻ᵀ Ω A⁻¹
    return 0.5 * (S + S.T)


#: Σ for a stack (B, n, n) of (Λ, Ω) by Gauss–Jordan solves with partial pivoting
#: (``sem.linalg.solve``: batched LAPACK under vmap can deadlock, see there), jitted
#: and vmapped.
covariance_solve = jax.jit(jax.vmap(_solve_one))


def _rng(seed):
    return np.random.default_rng(seed_to_int(seed))


def random_parameters(n, D, B, seed=0, size=None, scale=0.9, bidirected_scale=0.4):
    """Random (Λ, Ω); see ``MixedGraph.random_parameters``."""
    rng = _rng(seed)
    m = 1 if size is None else int(size)
    L = np.zeros((m, n, n))
    W = np.zeros((m, n, n))
    r, c = edge_index(D)
    br, bc = edge_index(B)
    eye = np.eye(n)
    for k in range(m):
        for _ in range(1000):
            L[k, r, c] = rng.uniform(-scale, scale, len(r))
            if abs(np.linalg.det(eye - L[k])) > 0.05:
                break
        W[k] = np.diag(rng.uniform(1.0, 2.0, n))
        W[k, br, bc] = W[k, bc, br] = rng.uniform(-bidirected_scale, bidirected_scale,
                                                  len(br))
        lo = np.linalg.eigvalsh(W[k])[0]
        if lo < 0.1:
            W[k] += (0.1 - lo) * eye
    return (L[0], W[0]) if size is None else (L, W)


def simulate(Lambda, Omega, n_obs, seed, columns) -> pd.DataFrame:
    """n_obs rows X = ε (I − Λ)⁻¹ with ε ~ N(0, Ω): each row is xᵀ, x = (I − Λ)⁻ᵀ ε."""
    rng = _rng(seed)
    n = Lambda.shape[-1]
    check_nonsingular(Lambda[None], columns)
    try:
        chol = np.linalg.cholesky(Omega)
    except np.linalg.LinAlgError:
        lo = float(np.linalg.eigvalsh(Omega)[0])
        raise SpecificationError(
            f"Omega is not positive definite (smallest eigenvalue {lo:.3g}), so it is "
            "not a covariance matrix of the errors ε; check the variances ω_v and the "
            "bidirected ω_kl") from None
    eps = rng.standard_normal((check_count(n_obs, "n_obs"), n)) @ chol.T
    X = np.linalg.solve((np.eye(n) - Lambda).T, eps.T).T
    return pd.DataFrame(X, columns=list(columns))
