"""Generic finiteness of the parametrization θ ↦ Σ(θ) of a mixed graph.

θ = (λ, ω) ∈ R^q, q = |D| + |V| + |B|, and φ(θ) = vech Σ(θ) ∈ R^{n(n+1)/2}. φ is
generically finite-to-one iff its Jacobian has full column rank q at a generic point
(then the model has the expected dimension q; dimension = generic rank in general).

Two ways to get the generic rank (the maximum over a few random points):

* ``method="exact"``: at random points θ ∈ GF(p)^q, with (I − Λ)⁻¹ = adj(I − Λ)/Δ taken
  from the one-connection closed form mod p, and the analytic derivatives
  ∂Σ/∂λ_ab = M + Mᵀ with M = Σ E_ab (I − Λ)⁻¹, ∂Σ/∂ω_kl = G_kᵀ G_l + G_lᵀ G_k
  (G = (I − Λ)⁻¹, G_k its k-th row); the rank mod p never exceeds the rank over Q and
  equals it with high probability (Schwartz–Zippel). No tolerance involved.
* ``method="numeric"``: ``jax.jacfwd`` of θ ↦ vech Σ (LU solves) at random real points,
  rank by SVD of the column-normalised Jacobian with relative tolerance ``tol``.

Sufficient condition (Adhikari, Gross, Härkönen & Tsigaridas, arXiv 2210.00239,
abstract): if G is simple, φ is generically finite-to-one. Non-simple graphs may or may
not be (the 2-cycle and the bow are not).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import SpecificationError
from ..estimation import seed_to_int
from ..jaxconfig import jax, jnp
from . import modp
from . import oneconnection as oc
from .parametrization import _solve_one, edge_index


@dataclass(frozen=True)
class FiniteToOneReport:
    """Result of :func:`generically_finite_to_one`; true in a boolean context iff the
    parametrization is generically finite-to-one (rank == n_params)."""

    finite_to_one: bool
    n_params: int              # q = |D| + |V| + |B|
    rank: int                  # generic Jacobian rank = dimension of the model
    expected_dimension: int    # min(q, n(n+1)/2)
    ambient_dimension: int     # n(n+1)/2
    simple: bool               # the paper's sufficient condition holds
    method: str                # "exact" (mod p) or "numeric" (SVD)
    n_points: int

    def __bool__(self) -> bool:
        return bool(self.finite_to_one)

    @property
    def dimension(self) -> int:
        return self.rank

    @property
    def codimension(self) -> int:
        return self.ambient_dimension - self.rank

    @property
    def expected(self) -> bool:
        """True if the model has the expected dimension min(q, n(n+1)/2)."""
        return self.rank == self.expected_dimension

    def __str__(self) -> str:
        verdict = "generically finite-to-one" if self else "NOT generically finite-to-one"
        return (f"{verdict}: {self.n_params} parameters, Jacobian rank {self.rank} "
                f"({self.method}, {self.n_points} points), expected dimension "
                f"{self.expected_dimension} of {self.ambient_dimension}; graph "
                f"{'is' if self.simple else 'is not'} simple")


def _vech_sigma(theta, r, c, br, bc):
    """vech Σ(θ) by LU solves; the graph enters as index arrays, so one compiled
    program serves every graph with the same (n, |D|, |B|)."""
    E, nb = r.shape[0], br.shape[0]
    n = theta.shape[0] - E - nb
    L = jnp.zeros((n, n), theta.dtype).at[r, c].set(theta[:E])
    W = jnp.diag(theta[E:E + n]).at[br, bc].set(theta[E + n:])
    W = W.at[bc, br].set(theta[E + n:])
    iu = np.triu_indices(n)
    return _solve_one(L, W)[iu]


_jacobian = jax.jit(jax.jacfwd(_vech_sigma))


def _numeric_rank(g, rng, tol):
    L, W = g.random_parameters(seed=int(rng.integers(2 ** 31)))
    theta = g.params(L, W)
    r, c = edge_index(g._D)
    br, bc = edge_index(g._B)
    J = np.asarray(_jacobian(jnp.asarray(theta), r, c, br, bc))
    J = J / np.maximum(np.linalg.norm(J, axis=0), 1e-300)
    sv = np.linalg.svd(J, compute_uv=False)
    return int(np.sum(sv > tol * sv[0])) if len(sv) and sv[0] > 0 else 0


def exact_jacobian_modp(g, lam, wd, wb, p: int = modp.PRIME):
    """The Jacobian of θ ↦ vech Σ mod p at integer λ (E,), ω_v (n,), ω_kl (|B|,);
    None if det(I − Λ) ≡ 0 there. Shape (n(n+1)/2, q)."""
    n = g.n
    C, det = oc.evaluate_modp(g.program(), np.asarray(lam)[None], p)
    if det[0] % p == 0:
        return None
    G = C[0] * modp.inv_mod(det[0], p) % p                       # (I − Λ)⁻¹ mod p
    W = np.zeros((n, n), np.int64)
    W[np.arange(n), np.arange(n)] = np.asarray(wd) % p
    br, bc = edge_index(g._B)
    W[br, bc] = W[bc, br] = np.asarray(wb) % p
    S = modp.matmul_mod(modp.matmul_mod(G.T, W, p), G, p)
    iu = np.triu_indices(n)
    cols = []
    for a, b in g._D:
        M = S[:, a][:, None] * G[b][None, :] % p
        cols.append(((M + M.T) % p)[iu])
    for v in range(n):
        cols.append((G[v][:, None] * G[v][None, :] % p)[iu])
    for k, l in g._B:
        M = G[k][:, None] * G[l][None, :] % p
        cols.append(((M + M.T) % p)[iu])
    return np.stack(cols, axis=1)


def _exact_rank(g, rng, p):
    E, n, nb = len(g._D), g.n, len(g._B)
    for _ in range(20):
        J = exact_jacobian_modp(g, rng.integers(1, p, E), rng.integers(1, p, n),
                                rng.integers(1, p, nb), p)
        if J is not None:
            return modp.rank_mod(J, p)
    raise RuntimeError("det(I − Λ) vanished at 20 random points mod p")  # pragma: no cover


def generically_finite_to_one(g, *, method: str = "auto", seed=0, n_points: int = 3,
                              tol: float = 1e-9) -> FiniteToOneReport:
    """Generic Jacobian rank of θ ↦ vech Σ(θ) for the mixed graph ``g``.

    method: "exact" (mod p, needs the one-connection enumeration), "numeric" (SVD of
    the JAX Jacobian) or "auto" (exact unless the graph is too large to enumerate).
    The rank is the maximum over ``n_points`` random points.
    """
    rng = np.random.default_rng(seed_to_int(seed))
    q = g.n_params
    m = g.n * (g.n + 1) // 2
    if method not in ("auto", "exact", "numeric"):
        raise ValueError(f"unknown method {method!r}; use 'auto', 'exact' or 'numeric'")
    used = method
    if method in ("auto", "exact"):
        try:
            g.program()
            used = "exact"
        except SpecificationError:
            if method == "exact":
                raise
            used = "numeric"
    if used == "exact":
        rank = max(_exact_rank(g, rng, modp.PRIME) for _ in range(n_points))
    else:
        rank = max(_numeric_rank(g, rng, tol) for _ in range(n_points))
    simple = g.is_simple()
    rep = FiniteToOneReport(rank == q, q, rank, min(q, m), m, simple, used, n_points)
    if simple and not rep:
        warnings.warn(f"the graph is simple, so the parametrization should be generically "
                      f"finite-to-one, but the Jacobian rank came out {rank} < {q}; "
                      "rerun with another seed or method", RuntimeWarning, stacklevel=2)
    return rep
