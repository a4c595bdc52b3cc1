"""Systematic search for polynomials in the Gaussian vanishing ideal of a mixed graph.

I_G = {f ∈ R[σ_ij : i ≤ j] : f(Σ(λ, ω)) = 0 for all parameters}. Two facts make the
search a polynomial (not rational) interpolation problem (Adhikari, Gross, Härkönen &
Tsigaridas, arXiv 2210.00239, abstract: the closed form "allows for the development of
an algorithm for systematically exploring possible polynomials in the Gaussian vanishing
ideal"; the steps below are our reconstruction, ``docs/graphs.md``):

1. all σ_ij share the denominator Δ² (Δ = det(I − Λ)), so for f homogeneous of degree
   d, f(Σ) = f(N)/Δ^{2d} with N = Cᵀ Ω C the one-connection numerators, and
   f ∈ I_G ⇔ f(N) ≡ 0;
2. I_G is homogeneous (Σ(λ, tΩ) = tΣ) and Zⁿ-graded with deg σ_ij = e_i + e_j
   (rescaling X by a diagonal T keeps the model), so each multidegree piece can be
   searched on its own.

Algorithm, per multidegree a with |a| = 2d: list the M monomials of degree d in σ with
multidegree a; evaluate them at M + slack random points N(θ) mod p (θ uniform in
GF(p)); the kernel of that matrix is (I_G)_a with high probability (Schwartz–Zippel);
lift the kernel basis to integers by rational reconstruction, and verify every
polynomial exactly: ``verify="symbolic"`` expands f(N) in the polynomial ring of
(λ, ω) and checks that it is zero. If a lift or a check fails, the piece is redone with
an exact rational null space.
"""
from __future__ import annotations

from functools import lru_cache
from itertools import combinations_with_replacement
from math import comb, gcd, lcm

import numpy as np
import sympy as sp

from ..errors import SpecificationError
from ..estimation import seed_to_int
from . import modp
from . import oneconnection as oc
from .parametrization import edge_index

MAX_MONOMIALS = 200_000
MAX_PIECE = 2_000


def _pairs(n):
    return [(i, j) for i in range(n) for j in range(i, n)]


@lru_cache(maxsize=32)
def _groups(n, degree, allowed: tuple):
    """Monomials (sorted tuples of variable indices) of ``degree`` grouped by
    multidegree."""
    pairs = _pairs(n)
    groups: dict = {}
    for mono in combinations_with_replacement(allowed, degree):
        md = [0] * n
        for v in mono:
            i, j = pairs[v]
            md[i] += 1
            md[j] += 1
        groups.setdefault(tuple(md), []).append(mono)
    return dict(sorted(groups.items()))


def _numerators_modp(g, K, rng, p):
    """vech N = vech(Cᵀ Ω C) (K, n(n+1)/2) mod p at K random points."""
    n = g.n
    C, _ = oc.evaluate_modp(g.program(), rng.integers(0, p, (K, len(g._D))), p)
    W = np.zeros((K, n, n), np.int64)
    W[:, np.arange(n), np.arange(n)] = rng.integers(0, p, (K, n))
    br, bc = edge_index(g._B)
    wb = rng.integers(0, p, (K, len(br)))
    W[:, br, bc] = wb
    W[:, bc, br] = wb
    N = modp.matmul_mod(modp.matmul_mod(np.swapaxes(C, 1, 2), W, p), C, p)
    iu = np.triu_indices(n)
    return N[:, iu[0], iu[1]]


def _numerators_exact(g, K, rng):
    """vech N at K random small-integer points, as Python ints (object array)."""
    n = g.n
    prog = g.program()
    iu = np.triu_indices(n)
    out = []
    for _ in range(K):
        lam = [int(x) for x in rng.integers(-1000, 1001, len(g._D))]
        C, _ = oc.evaluate_ring(prog, lam, 1)
        W = np.diag([int(x) for x in rng.integers(1, 1001, n)]).astype(object)
        for k, l in g._B:
            W[k, l] = W[l, k] = int(rng.integers(-1000, 1001))
        Cm = np.array(C, dtype=object)
        out.append((Cm.T @ W @ Cm)[iu])
    return np.array(out, dtype=object)


def _monomial_matrix(vals, monos, p=None):
    """(K, M) values of the monomials at the points ``vals`` (K, m)."""
    idx = np.asarray(monos, dtype=np.int64)
    if p is None:
        out = np.ones((vals.shape[0], len(monos)), dtype=object)
        for t in range(idx.shape[1]):
            out = out * vals[:, idx[:, t]]
        return out
    out = np.ones((vals.shape[0], len(monos)), np.int64)
    for t in range(idx.shape[1]):
        out = out * vals[:, idx[:, t]] % p
    return out


def _exact_kernel(g, monos, rng):
    """Integer basis of the kernel over Q (fallback when the mod-p lift fails)."""
    vals = _numerators_exact(g, len(monos) + 12, rng)
    A = sp.Matrix(_monomial_matrix(vals, monos).tolist())
    out = []
    for v in A.nullspace():
        den = lcm(*[int(sp.fraction(x)[1]) for x in v])
        ints = [int(x * den) for x in v]
        out.append([x // gcd(*ints) for x in ints])
    return out


def _verify(g, coeffs, monos, how, rng) -> bool:
    terms = [(c, m) for c, m in zip(coeffs, monos) if c]
    if how == "symbolic":
        R, _, _, N = g._ring
        Nv = [N[pr] for pr in _pairs(g.n)]
        acc = R.zero
        for c, m in terms:
            t = R(c)
            for v in m:
                t = t * Nv[v]
            acc += t
        return acc == R.zero
    if how == "points":
        vals = _numerators_exact(g, 3, rng)
        M = _monomial_matrix(vals, [m for _, m in terms])
        return all(sum(c * x for (c, _), x in zip(terms, row)) == 0 for row in M)
    return True


def _to_expr(g, coeffs, monos):
    s = g.sigma_symbol_list()
    return sp.Add(*[c * sp.Mul(*[s[v] for v in m]) for c, m in zip(coeffs, monos) if c])


def _lower_span(lower, md, monos, n, allowed, p):
    """Vectors (mod p) over ``monos`` spanning the products of the lower-degree
    generators with monomials, inside the multidegree piece ``md``."""
    pos = {m: k for k, m in enumerate(monos)}
    degree = len(monos[0])
    rows = []
    for gmd, gdeg, gen in lower:
        rest = tuple(a - b for a, b in zip(md, gmd))
        if min(rest) < 0:
            continue
        for cof in _groups(n, degree - gdeg, allowed).get(rest, []):
            vec = np.zeros(len(monos), np.int64)
            for gm, c in gen.items():
                k = pos[tuple(sorted(gm + cof))]
                vec[k] = (vec[k] + c) % p
            rows.append(vec)
    return np.array(rows, np.int64).reshape(-1, len(monos))


def _search_degree(g, degree, allowed, lower, rng, verify, slack):
    """[(multidegree, integer coefficients, monomials)] for one degree; with ``lower``
    (generators of lower degrees) only those outside the ideal they generate."""
    p = modp.PRIME
    groups = _groups(g.n, degree, allowed)
    if not groups:
        return []
    biggest = max(len(v) for v in groups.values())
    if biggest > MAX_PIECE:
        raise SpecificationError(
            f"a multidegree piece of degree {degree} has {biggest} monomials (limit "
            f"{MAX_PIECE}); restrict the search with variables=[...] or a lower degree")
    vals = _numerators_modp(g, biggest + slack, rng, p)
    found = []
    for md, monos in groups.items():
        V = _monomial_matrix(vals[:len(monos) + slack], monos, p)
        K = modp.nullspace_mod(V, p)
        if not len(K):
            continue
        keep = list(range(len(K)))
        if lower is not None:
            span = _lower_span(lower, md, monos, g.n, allowed, p)
            base = modp.rank_mod(span, p) if len(span) else 0
            if base >= len(K):
                continue
            keep, cur = [], span
            for k in range(len(K)):
                trial = np.vstack([cur, K[k][None]])
                if modp.rank_mod(trial, p) > base:
                    keep.append(k)
                    cur, base = trial, base + 1
        lifted = [modp.lift_vector(K[k], p) for k in keep]
        ok = all(v is not None for v in lifted) and all(
            _verify(g, v, monos, verify, rng) for v in lifted)
        if not ok:
            exact = _exact_kernel(g, monos, rng)
            if len(exact) != len(K) or not all(_verify(g, v, monos, verify, rng)
                                               for v in exact):
                raise RuntimeError(f"vanishing-ideal search failed to certify the piece "
                                   f"of multidegree {md}; try another seed")
            if len(keep) < len(K):
                raise RuntimeError(f"could not lift the minimal generators of "
                                   f"multidegree {md} exactly; try another seed")
            lifted = exact
        found.extend((md, v, monos) for v in lifted)
    return found


def _search(g, degree, allowed, minimal, seed, verify, slack):
    rng = np.random.default_rng(seed_to_int(seed))
    if not minimal:
        return _search_degree(g, degree, allowed, None, rng, verify, slack)
    lower = []
    for d in range(1, degree + 1):
        found = _search_degree(g, d, allowed, lower, rng,
                               verify if d == degree else False, slack)
        lower.extend((md, d, {m: c % modp.PRIME for m, c in zip(monos, v) if c})
                     for md, v, monos in found)
    return found


def vanishing_ideal(g, degree: int, *, minimal: bool = False, variables=None, seed=0,
                    verify="symbolic", slack: int = 12) -> list:
    """Polynomials of degree ``degree`` in the Gaussian vanishing ideal of ``g``.

    Returns a basis of the graded piece (I_G)_degree (``minimal=False``) or only the
    polynomials not in the ideal generated by lower degrees (``minimal=True``), as sympy
    expressions with integer coefficients in the σ symbols of ``g.sigma_symbols()``
    (``s_ij``). The basis is the reduced (RREF) one of each multidegree piece, scaled
    to primitive integers.

    variables : restrict to monomials in these σ symbols (or (i, j) label pairs).
    verify : "symbolic" (default; exact f(N) ≡ 0 in the ring of (λ, ω)), "points"
        (exact at 3 fresh integer points), or False.
    Absence of a polynomial is certified only with high probability (p = 2³¹ − 1).
    """
    degree = int(degree)
    if degree < 1:
        raise ValueError("degree must be at least 1")
    syms = g.sigma_symbol_list()
    if variables is None:
        allowed = tuple(range(len(syms)))
    else:
        pos = {s: k for k, s in enumerate(syms)}
        S = g.sigma_symbols()
        allowed = []
        for v in variables:
            if not isinstance(v, sp.Symbol):
                v = S[g.index(v[0]), g.index(v[1])]
            if v not in pos:
                raise SpecificationError(f"{v} is not a covariance symbol of this graph")
            allowed.append(pos[v])
        allowed = tuple(sorted(set(allowed)))
    total = comb(len(allowed) + degree - 1, degree)
    if total > MAX_MONOMIALS:
        raise SpecificationError(
            f"degree {degree} has {total} monomials in {len(allowed)} variables (limit "
            f"{MAX_MONOMIALS}); restrict the search with variables=[...]")
    return [_to_expr(g, v, monos)
            for _, v, monos in _search(g, degree, allowed, minimal, seed, verify, slack)]
