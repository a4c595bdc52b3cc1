"""sem.graphs: generic finiteness (Jacobian rank) and the vanishing-ideal search.

Reference tables: ../shared/research/sem_compositional.md §1.5 and papers_extract.md
§1.5 (ranks), §1.7 (EX_B, EX_E, EX_F ideals). Their node numbering is 1-based, so the
graphs are built with ``nodes=[1, ..., n]`` and the symbols read ``s_12`` etc.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from sem import SpecificationError
from sem.graphs import FiniteToOneReport, MixedGraph, generically_finite_to_one

N3, N4, N5 = [1, 2, 3], [1, 2, 3, 4], [1, 2, 3, 4, 5]
CYCLE3 = [(1, 2), (2, 3), (3, 1)]
CYCLE4 = [(1, 2), (2, 3), (3, 4), (4, 1)]

# name: (graph, simple, q, rank)
TABLE = {
    "2-cycle": (MixedGraph([(1, 2), (2, 1)], nodes=[1, 2]), False, 4, 3),
    "bow": (MixedGraph([(1, 2)], [(1, 2)], nodes=[1, 2]), False, 4, 3),
    "3-cycle": (MixedGraph(CYCLE3, nodes=N3), True, 6, 6),
    "3-cycle+1<->3": (MixedGraph(CYCLE3, [(1, 3)], nodes=N3), False, 7, 6),
    "4-cycle": (MixedGraph(CYCLE4, nodes=N4), True, 8, 8),
    "4-cycle+1<->3": (MixedGraph(CYCLE4, [(1, 3)], nodes=N4), True, 9, 9),
    "EX_E": (MixedGraph(CYCLE3 + [(3, 4), (4, 1)], nodes=N4), True, 9, 9),
    "EX_F": (MixedGraph(CYCLE3 + [(3, 4)], nodes=N4), True, 8, 8),
    "EX_K": (MixedGraph(CYCLE3 + [(3, 4), (4, 2)], nodes=N4), True, 9, 9),
    "EX_J": (MixedGraph([(1, 2), (2, 3), (3, 4), (4, 5), (5, 1)], [(1, 3)], nodes=N5),
             True, 11, 11),
    "EX_G 1<->2 cycle, 2->3": (MixedGraph([(1, 2), (2, 1), (2, 3)], nodes=N3), False, 6, 5),
    "EX_H bow + 2->3": (MixedGraph([(1, 2), (2, 3)], [(1, 2)], nodes=N3), False, 6, 5),
}


NUMERIC = ["2-cycle", "bow", "3-cycle", "4-cycle+1<->3", "EX_G 1<->2 cycle, 2->3"]


@pytest.mark.parametrize("name, method", [(k, "exact") for k in TABLE] +
                         [(k, "numeric") for k in NUMERIC])
def test_finite_to_one_table(name, method):
    g, simple, q, rank = TABLE[name]
    rep = g.generically_finite_to_one(method=method, seed=1)
    assert isinstance(rep, FiniteToOneReport) and rep.method == method
    assert g.is_simple() == simple == rep.simple
    assert (rep.n_params, rep.rank) == (q, rank)
    assert bool(rep) == (rank == q)
    assert rep.expected_dimension == min(q, g.n * (g.n + 1) // 2)
    if simple:          # the paper's sufficient condition
        assert rep
    assert str(rep).startswith("generically" if rep else "NOT")


def test_non_simple_with_expected_count_still_fails():
    """EX_G: q = 6 ≤ 6 = n(n+1)/2, yet rank 5: counting parameters is not enough."""
    rep = generically_finite_to_one(TABLE["EX_G 1<->2 cycle, 2->3"][0])
    assert not rep and not rep.expected and rep.codimension == 1


def test_three_cycle_fiber_has_two_points():
    """Generic, not global, identifiability: two parameter points, one Σ (§1.5)."""
    g = TABLE["3-cycle"][0]
    th0 = np.array([0.4, -0.3, 0.5, 1.0, 1.5, 0.8])
    th1 = np.array([3.428571, -1.870370, 2.599010, 5.198020, 12.857143, 4.987654])
    S0, S1 = g.covariance_params(th0), g.covariance_params(th1)
    assert np.allclose(S0, S1, rtol=2e-5, atol=0)
    assert np.allclose(S0, g.covariance_params(th0, method="solve"), rtol=1e-12)


# -- vanishing ideal --------------------------------------------------------------

def _span_equal(polys, expected, gens):
    """Exact: the coefficient vectors of both lists span the same Q-space."""
    da = [sp.Poly(p, *gens).as_dict() for p in polys]
    db = [sp.Poly(p, *gens).as_dict() for p in expected]
    monos = sorted({m for d in da + db for m in d})
    A = sp.Matrix([[d.get(m, 0) for m in monos] for d in da])
    B = sp.Matrix([[d.get(m, 0) for m in monos] for d in db])
    return A.rank() == B.rank() == A.col_join(B).rank()


def _s(g):
    return {str(x): x for x in g.sigma_symbol_list()}


def test_EX_F_pendant_node_degree_two_minors():
    g = TABLE["EX_F"][0]
    s = _s(g)
    assert g.vanishing_ideal(1) == []
    polys = g.vanishing_ideal(2)
    minors = [s["s_14"] * s["s_23"] - s["s_13"] * s["s_24"],
              s["s_14"] * s["s_33"] - s["s_13"] * s["s_34"],
              s["s_24"] * s["s_33"] - s["s_23"] * s["s_34"]]
    assert len(polys) == 3
    assert _span_equal(polys, minors, g.sigma_symbol_list())
    # the same three are the 2×2 minors of Σ[{1,2,3},{3,4}]
    S = g.sigma_symbols()
    sub = S.extract([0, 1, 2], [2, 3])
    all_minors = [sub.extract([a, b], [0, 1]).det() for a in range(3) for b in range(a + 1, 3)]
    assert _span_equal(polys, all_minors, g.sigma_symbol_list())
    # degree 3: 3·10 − 2 = 28 polynomials, none of them a new generator
    assert len(g.vanishing_ideal(3, verify="points")) == 28
    assert g.vanishing_ideal(3, minimal=True) == []


def test_EX_B_four_cycle_two_cubics():
    g = TABLE["4-cycle"][0]
    s = _s(g)
    assert g.vanishing_ideal(1) == [] and g.vanishing_ideal(2) == []
    polys = g.vanishing_ideal(3)
    f1 = (-s["s_11"] * s["s_23"] * s["s_34"] + s["s_11"] * s["s_24"] * s["s_33"]
          + s["s_12"] * s["s_13"] * s["s_34"] - s["s_12"] * s["s_14"] * s["s_33"]
          - s["s_13"] ** 2 * s["s_24"] + s["s_13"] * s["s_14"] * s["s_23"])
    f2 = (-s["s_12"] * s["s_23"] * s["s_44"] + s["s_12"] * s["s_24"] * s["s_34"]
          + s["s_13"] * s["s_22"] * s["s_44"] - s["s_13"] * s["s_24"] ** 2
          - s["s_14"] * s["s_22"] * s["s_34"] + s["s_14"] * s["s_23"] * s["s_24"])
    assert len(polys) == 2
    assert _span_equal(polys, [f1, f2], g.sigma_symbol_list())
    # f1 and f2 are (up to sign) the determinants of Σ[{1,2,3},{1,3,4}], Σ[{1,2,4},{2,3,4}]
    S = g.sigma_symbols()
    assert sp.expand(f1 + S.extract([0, 1, 2], [0, 2, 3]).det()) == 0
    assert sp.expand(f2 + S.extract([0, 1, 3], [1, 2, 3]).det()) == 0
    # exact: they vanish on the closed-form parametrization
    N, _ = g.covariance_symbolic()
    sub = {S[i, j]: N[i, j] for i in range(4) for j in range(i, 4)}
    assert all(sp.expand(p.subs(sub)) == 0 for p in polys)
    # and not on a random symmetric matrix
    rng = np.random.default_rng(0)
    X = rng.integers(-9, 10, (4, 4))
    vals = {S[i, j]: int(X[i, j] + X[j, i]) for i in range(4) for j in range(i, 4)}
    assert all(p.subs(vals) != 0 for p in polys)


def test_EX_E_overlapping_cycles_one_cubic():
    g = TABLE["EX_E"][0]
    s = _s(g)
    assert g.vanishing_ideal(2) == []
    polys = g.vanishing_ideal(3)
    f1 = (-s["s_11"] * s["s_23"] * s["s_34"] + s["s_11"] * s["s_24"] * s["s_33"]
          + s["s_12"] * s["s_13"] * s["s_34"] - s["s_12"] * s["s_14"] * s["s_33"]
          - s["s_13"] ** 2 * s["s_24"] + s["s_13"] * s["s_14"] * s["s_23"])
    assert len(polys) == 1 and _span_equal(polys, [f1], g.sigma_symbol_list())


def test_full_dimensional_models_have_no_low_degree_polynomials():
    assert TABLE["3-cycle"][0].vanishing_ideal(2) == []
    assert TABLE["4-cycle+1<->3"][0].vanishing_ideal(3) == []


def test_acyclic_tetrad_like_minor():
    """A DAG check: 1 → 2 → 3 gives the conditional independence 1 ⊥ 3 | 2, i.e.
    σ13σ22 − σ12σ23 (trek separation)."""
    g = MixedGraph([(1, 2), (2, 3)], nodes=N3)
    s = _s(g)
    polys = g.vanishing_ideal(2)
    assert _span_equal(polys, [s["s_13"] * s["s_22"] - s["s_12"] * s["s_23"]],
                       g.sigma_symbol_list())


def test_variables_restriction_and_errors():
    g = TABLE["EX_F"][0]
    s = _s(g)
    only = [s[k] for k in ("s_13", "s_14", "s_23", "s_24")]
    polys = g.vanishing_ideal(2, variables=only)
    assert len(polys) == 1 and _span_equal(
        polys, [s["s_14"] * s["s_23"] - s["s_13"] * s["s_24"]], g.sigma_symbol_list())
    assert g.vanishing_ideal(2, variables=[(1, 3), (1, 4), (2, 3), (2, 4)]) == polys
    with pytest.raises(ValueError, match="degree"):
        g.vanishing_ideal(0)
    with pytest.raises(SpecificationError, match="not a covariance symbol"):
        g.vanishing_ideal(2, variables=[sp.Symbol("s_99")])
    with pytest.raises(SpecificationError, match="unknown node 7"):
        g.vanishing_ideal(2, variables=[(1, 7)])


def test_exact_fallback_when_the_modular_lift_fails(monkeypatch):
    """If rational reconstruction fails, the piece is redone over Q exactly."""
    from sem.graphs import modp

    g = TABLE["EX_F"][0]
    expected = g.vanishing_ideal(2)
    monkeypatch.setattr(modp, "lift_vector", lambda v, p=modp.PRIME: None)
    polys = g.vanishing_ideal(2)
    assert len(polys) == 3 and _span_equal(polys, expected, g.sigma_symbol_list())
