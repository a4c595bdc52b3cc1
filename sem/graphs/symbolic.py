"""The closed form as exact polynomials: C = adj(I − Λ), Δ = det(I − Λ) and
N = Cᵀ Ω C (so Σ = N / Δ²) in sympy's sparse polynomial ring ZZ[λ, ω], and a fast
conversion of ring elements to sympy expressions.

N_ij = Σ_l C_li (Ω C)_lj with (Ω C)_lj = ω_l C_lj + Σ_{l↔k ∈ B} ω_lk C_kj, which is
σ_ij's numerator in the one-connection rule (``sem.graphs.oneconnection``).
"""
from __future__ import annotations

from functools import cmp_to_key

import sympy as sp
from sympy.core.basic import Basic

from ..errors import SpecificationError
from . import oneconnection as oc

_CANONICAL = cmp_to_key(Basic.compare)   # the order sympy keeps Add/Mul arguments in

#: Refuse symbolic work when N = Cᵀ Ω C could have more terms than this (an upper
#: bound from the one-connection counts, within a factor ~1.5 on sparse graphs).
MAX_TERMS = 300_000


def numerator_term_bound(g) -> int:
    """Upper bound on the total number of terms of N_ij, i ≤ j (before collecting)."""
    C, _ = oc.term_counts(g.program())
    n = g.n
    nb = {v: [] for v in range(n)}
    for k, l in g._B:
        nb[k].append(l)
        nb[l].append(k)
    OC = [[C[l][j] + sum(C[k][j] for k in nb[l]) for j in range(n)] for l in range(n)]
    return sum(C[l][i] * OC[l][j] for i in range(n) for j in range(i, n)
               for l in range(n))


def ring_numerators(g, max_terms: int = MAX_TERMS):
    """(R, C, Δ, N): the ring, C (n×n nested lists), Δ and N {(i, j): N_ij, i ≤ j}.
    Raises SpecificationError if N could exceed ``max_terms`` terms."""
    bound = numerator_term_bound(g)
    if bound > max_terms:
        raise SpecificationError(
            f"the graph is too large for symbolic one-connection expansion: the "
            f"covariance numerators could have up to {bound} terms (limit {max_terms}). "
            "Use the numeric path instead: covariance(..., method='solve') or "
            "method='one_connection' (numeric), vanishing_ideal(..., verify='points'); or "
            "raise max_terms= if you can wait")
    lam_s, wd_s, wb_s = g._symbols
    R, *gens = sp.ring(list(lam_s) + list(wd_s) + list(wb_s), sp.ZZ)
    E, n = len(g._D), g.n
    lam, wd, wb = gens[:E], gens[E:E + n], gens[E + n:]
    C, det = oc.evaluate_ring(g.program(), lam, R.one)
    OC = [[wd[l] * C[l][j] for j in range(n)] for l in range(n)]
    for (k, l), w in zip(g._B, wb):
        for j in range(n):
            OC[k][j] += w * C[l][j]
            OC[l][j] += w * C[k][j]
    N = {}
    for i in range(n):
        for j in range(i, n):
            acc = R.zero
            for l in range(n):
                if C[l][i] and OC[l][j]:
                    acc += C[l][i] * OC[l][j]
            N[i, j] = acc
    return R, C, det, N


def to_expr(p) -> sp.Expr:
    """A ring element as a sympy expression, structurally equal to ``p.as_expr()`` but
    several times faster: the terms are built in sympy's canonical argument order
    (they are distinct monomials, so nothing needs collecting)."""
    gens = p.ring.symbols
    powers: dict = {}
    terms = []
    for monom, c in p.terms():
        f = []
        for g, e in zip(gens, monom):
            if e:
                if (g, e) not in powers:
                    powers[g, e] = g if e == 1 else sp.Pow(g, e)
                f.append(powers[g, e])
        f.sort(key=_CANONICAL)
        if c != 1 or not f:
            f.insert(0, sp.Integer(int(c)))
        terms.append(sp.Mul._from_args(f) if len(f) > 1 else f[0])
    if not terms:
        return sp.Integer(0)
    if len(terms) == 1:
        return terms[0]
    terms.sort(key=_CANONICAL)
    return sp.Add._from_args(terms)
