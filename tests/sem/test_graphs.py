"""sem.graphs: MixedGraph construction, bad input, conversions, and the one-connection
closed form against linear algebra (numeric, 1e-12) and the worked examples (exact).

Worked examples: ../shared/research/sem_compositional.md §1.7 (E1–E4) and
papers_extract.md §1.7 (EX_A, EX_E); numbering there is 1-based, so the graphs here
are built with ``nodes=[1, ..., n]``.
"""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sem import SpecificationError
from sem.graphs import MixedGraph


def random_cyclic_graph(n, n_chords, n_bi, seed):
    """The cycle 0 → … → n−1 → 0 plus random chords and bidirected edges."""
    return MixedGraph.random_cyclic(n, n_chords, n_bi, seed=seed)


# -- construction and bad input -----------------------------------------------------

def test_default_nodes_and_names():
    g = MixedGraph(directed=[(0, 1), (1, 2), (2, 0)], bidirected=[(2, 0)])
    assert g.nodes == (0, 1, 2) and g.n == 3 and g.n_params == 7
    assert g.bidirected == ((0, 2),)
    assert g.parameter_names() == ["l_01", "l_12", "l_20", "w_0", "w_1", "w_2", "w_02"]
    S = g.sigma_symbols()
    assert S[1, 0] == S[0, 1] == sp.Symbol("s_01")
    named = MixedGraph([("y1", "y2")], nodes=["y1", "y2", "z"])
    assert named.n == 3 and named.parameter_names()[0] == "l_y1_y2"
    assert str(named.sigma_symbols()[0, 2]) == "s_y1_z"
    assert MixedGraph([("a", "b"), ("b", "c")]).nodes == ("a", "b", "c")


@pytest.mark.parametrize("kwargs, match", [
    (dict(directed=[(0, 0)]), r"\(0, 0\).*self-loop"),
    (dict(directed=[(0, 1)], bidirected=[(1, 1)]), r"\(1, 1\).*self-loop"),
    (dict(directed=[(0, 5)], nodes=[0, 1]), r"unknown node 5"),
    (dict(directed=[("a", "q")], nodes=["a", "b"]), r"unknown node 'q'"),
    (dict(directed=[(0, 1), (0, 1)]), r"\(0, 1\) is listed twice"),
    (dict(bidirected=[(0, 1), (1, 0)]), r"\(1, 0\) is listed twice"),
    (dict(directed=[(0, 1)], bidirected=[(1, 0)], allow_bows=False), r"0 .* 1.*bow"),
    (dict(directed=[(0, 1), (1, 0)], require_simple=True), r"not simple.*0.*1"),
    (dict(directed=[(0, 1, 2)]), r"not a pair"),
    (dict(nodes=[]), r"at least one node"),
    (dict(nodes=[0, 0]), r"node 0 is listed twice"),
])
def test_bad_graphs(kwargs, match):
    with pytest.raises(SpecificationError, match=match):
        MixedGraph(**kwargs)


def test_bow_allowed_by_default():
    g = MixedGraph([(0, 1)], [(0, 1)])
    assert not g.is_simple() and g.is_acyclic()


def test_bad_matrices():
    g = MixedGraph([(0, 1), (1, 2), (2, 0)], [(0, 1)])
    L, W = g.random_parameters(seed=0)
    bad = L.copy()
    bad[0, 2] = 0.1
    with pytest.raises(SpecificationError, match=r"Lambda\[0, 2\].*0 → 2"):
        g.covariance(bad, W)
    bad = W.copy()
    bad[0, 2] = bad[2, 0] = 0.1
    with pytest.raises(SpecificationError, match=r"Omega\[0, 2\].*0 ↔ 2"):
        g.covariance(L, bad)
    bad = W.copy()
    bad[0, 1] = 0.5
    with pytest.raises(SpecificationError, match="not symmetric"):
        g.covariance(L, bad)
    with pytest.raises(SpecificationError, match="3×3"):
        g.covariance(L[:2, :2], W[:2, :2])
    with pytest.raises(ValueError, match="unknown method"):
        g.covariance(L, W, method="inverse")


@pytest.mark.parametrize("method", ["solve", "one_connection"])
def test_singular_I_minus_Lambda(method):
    g = MixedGraph([(0, 1), (1, 0)])
    L = np.array([[0.0, 2.0], [0.5, 0.0]])       # λ01 λ10 = 1: det(I − Λ) = 0
    with pytest.raises(SpecificationError, match="singular"):
        g.covariance(L, np.eye(2), method=method)


def test_too_large_for_enumeration_suggests_numeric_path():
    n = 9
    g = MixedGraph([(i, j) for i in range(n) for j in range(n) if i != j])
    with pytest.raises(SpecificationError, match=r"too large.*method='solve'"):
        g.covariance_symbolic()
    with pytest.raises(SpecificationError, match="too large"):
        g.program(max_cycles=10 ** 6, max_paths=1000)
    # the numeric paths still work
    L, W = g.random_parameters(seed=1, scale=0.1)
    S = g.covariance(L, W, method="solve")
    assert S.shape == (n, n) and np.all(np.linalg.eigvalsh(S) > 0)
    rep = g.generically_finite_to_one(method="auto", n_points=1)
    assert rep.method == "numeric" and not rep


# -- predicates and conversions -----------------------------------------------------

def test_simple_acyclic_cycles():
    assert MixedGraph([(0, 1), (1, 2), (2, 0)]).is_simple()
    assert not MixedGraph([(0, 1), (1, 0)]).is_simple()
    assert not MixedGraph([(0, 1), (1, 2), (2, 0)], [(0, 2)]).is_simple()
    assert MixedGraph([(0, 1), (1, 2), (2, 3), (3, 0)], [(0, 2)]).is_simple()
    assert MixedGraph([(0, 1), (0, 2)], [(1, 2)]).is_acyclic()
    g = MixedGraph([(1, 2), (2, 1), (2, 3), (3, 4), (4, 2)], nodes=[1, 2, 3, 4])
    assert not g.is_acyclic()
    assert g.cycles() == [(1, 2), (2, 3, 4)]


def test_networkx_round_trip():
    g = MixedGraph([("a", "b"), ("b", "a"), ("b", "c")], [("a", "c"), ("b", "a")])
    G = g.to_networkx()
    assert isinstance(G, nx.MultiDiGraph)
    kinds = sorted((u, v, d["kind"]) for u, v, d in G.edges(data=True))
    assert ("a", "b", "bidirected") in kinds and ("b", "c", "directed") in kinds
    assert MixedGraph.from_networkx(G) == g
    # plain graphs: a DiGraph gives directed edges, a Graph bidirected ones
    assert MixedGraph.from_networkx(nx.DiGraph([(0, 1)])).directed == ((0, 1),)
    assert MixedGraph.from_networkx(nx.Graph([(0, 1)])).bidirected == ((0, 1),)
    bad = nx.DiGraph()
    bad.add_edge(0, 1, kind="dashed")
    with pytest.raises(SpecificationError, match="unknown kind 'dashed'"):
        MixedGraph.from_networkx(bad)


def test_from_lavaan():
    g = MixedGraph.from_lavaan("""
        y1 ~ y2 + x2
        y2 ~ start(0.2)*y1 + x1
        y1 ~~ y2
        x1 ~~ 0*x2     # explicitly no edge
        y1 ~ 1         # intercepts are ignored
    """)
    assert g.nodes == ("y1", "y2", "x2", "x1")
    assert set(g.directed) == {("y2", "y1"), ("x2", "y1"), ("y1", "y2"), ("x1", "y2")}
    assert g.bidirected == (("y1", "y2"),)
    # lavaan's defaults: fixed.x covariances among the exogenous x's
    gd = MixedGraph.from_lavaan("y1 ~ y2 + x2; y2 ~ y1 + x1", defaults=True)
    assert gd.bidirected == (("x2", "x1"),)
    with pytest.raises(SpecificationError, match="line 1.*latent"):
        MixedGraph.from_lavaan("f =~ y1 + y2 + y3")
    with pytest.raises(SpecificationError, match="self|itself"):
        MixedGraph.from_lavaan("y ~ y")
    with pytest.raises(SpecificationError, match="definition variable"):
        MixedGraph.from_lavaan("y ~ data.t*x")


def test_lavaan_round_trip():
    g = MixedGraph([("y2", "y1"), ("x2", "y1"), ("y1", "y2"), ("x1", "y2"),
                    ("y1", "y3")], [("y1", "y2")], nodes=["y1", "y2", "y3", "x1", "x2", "z"])
    text = g.to_lavaan()
    assert "x1 ~~ 0*x2" in text and "z ~~ z" in text
    assert MixedGraph.from_lavaan(text) == g
    assert MixedGraph.from_lavaan(text, defaults=True) == g   # zeros block the defaults
    ints = MixedGraph([(0, 1)], nodes=[0, 1])
    assert ints.to_lavaan(start={(0, 1): 0.25}) == "v1 ~ start(0.25)*v0"


# -- the closed form ------------------------------------------------------------------

@pytest.mark.parametrize("n, chords, n_bi, seed", [
    (5, 3, 2, 1), (5, 6, 3, 2), (6, 4, 3, 3), (6, 8, 4, 4), (7, 5, 3, 5), (7, 8, 5, 6),
    (8, 5, 4, 7), (8, 9, 5, 8)])
def test_closed_form_equals_solve(n, chords, n_bi, seed):
    g = random_cyclic_graph(n, chords, n_bi, seed)
    cyc = g.cycles()
    assert len(cyc) >= 2 and any(set(a) & set(b) for a in cyc for b in cyc if a != b)
    L, W = g.random_parameters(seed=seed, size=64)
    S1 = g.covariance(L, W, method="one_connection")
    S2 = g.covariance(L, W, method="solve")
    scale = np.abs(S2).max(axis=(1, 2), keepdims=True)
    assert np.max(np.abs(S1 - S2) / scale) < 1e-12
    # plain numpy as a third opinion, and the θ-vector batch path
    A = np.eye(n) - L
    S3 = np.linalg.solve(np.swapaxes(A, 1, 2), np.linalg.solve(np.swapaxes(A, 1, 2),
                                                               W).swapaxes(1, 2))
    assert np.max(np.abs(S1 - S3) / scale) < 1e-12
    assert np.max(np.abs(g.covariance_params(g.params(L, W)) - S1) / scale) < 1e-12


def test_closed_form_chunked_batch():
    from sem.graphs import oneconnection as oc

    g = random_cyclic_graph(6, 5, 3, 11)
    L, W = g.random_parameters(seed=3, size=1000)
    lam = g.params(L, W)[:, :len(g.directed)]
    S_chunked, det = oc.evaluate(g.program(), lam, W, chunk=96)
    S = g.covariance(L, W, method="solve")
    assert np.max(np.abs(np.asarray(S_chunked) - S)) < 1e-12 * np.abs(S).max()
    assert np.allclose(det, np.linalg.det(np.eye(6) - L), rtol=1e-12, atol=0)


@pytest.mark.parametrize("n, chords, n_bi, seed", [(5, 4, 2, 21), (6, 3, 2, 22)])
def test_symbolic_equals_adjugate(n, chords, n_bi, seed):
    g = random_cyclic_graph(n, chords, n_bi, seed)
    L, W = g.parameter_symbols()
    A = sp.eye(n) - L
    adj = A.adjugate()
    assert sp.expand(g.determinant_symbolic() - A.det()) == 0
    assert (g.adjugate_symbolic() - adj).expand() == sp.zeros(n, n)
    N, den = g.covariance_symbolic()
    assert (N - adj.T * W * adj).expand() == sp.zeros(n, n)
    assert sp.expand(den - A.det() ** 2) == 0


def test_one_connections_sum_to_adjugate():
    g = MixedGraph([(1, 2), (2, 3), (3, 1), (3, 4), (4, 1)], nodes=[1, 2, 3, 4])
    L, _ = g.parameter_symbols()
    C = g.adjugate_symbolic()
    for k in g.nodes:
        for i in g.nodes:
            total = 0
            for path, cycles in g.one_connections(k, i):
                w = sp.Mul(*[L[g.index(a), g.index(b)] for a, b in zip(path, path[1:])])
                for c in cycles:
                    w *= -sp.Mul(*[L[g.index(c[t]), g.index(c[(t + 1) % len(c)])]
                                   for t in range(len(c))])
                total += w
            assert sp.expand(total - C[g.index(k), g.index(i)]) == 0
    # EX_E: C_44 holds the one-connection {4} + the 3-cycle on {1, 2, 3}
    assert list(g.one_connections(4, 4)) == [((4,), ()), ((4,), ((1, 2, 3),))]
    l12, l23, l31, l34, l41 = (sp.Symbol(s) for s in ("l_12", "l_23", "l_31", "l_34",
                                                       "l_41"))
    assert sp.expand(C[3, 3] - (1 - l12 * l23 * l31)) == 0
    assert sp.expand(C[2, 0] - (l31 + l34 * l41)) == 0
    assert sp.expand(g.determinant_symbolic() - (1 - l12 * l23 * l31 - l12 * l23 * l34 * l41)) == 0


def _S(*names):
    return [sp.Symbol(s) for s in names]


def test_E1_two_cycle():
    g = MixedGraph([(1, 2), (2, 1)], nodes=[1, 2])
    l12, l21, w1, w2 = _S("l_12", "l_21", "w_1", "w_2")
    N, den = g.covariance_symbolic()
    assert sp.expand(den - (1 - l12 * l21) ** 2) == 0
    expected = sp.Matrix([[w1 + l21 ** 2 * w2, l12 * w1 + l21 * w2],
                          [l12 * w1 + l21 * w2, l12 ** 2 * w1 + w2]])
    assert (N - expected).expand() == sp.zeros(2, 2)


def test_E2_two_cycle_with_bidirected_edge():
    g = MixedGraph([(1, 2), (2, 1)], [(1, 2)], nodes=[1, 2])
    l12, l21, w1, w2, w12 = _S("l_12", "l_21", "w_1", "w_2", "w_12")
    N, _ = g.covariance_symbolic()
    assert sp.expand(N[0, 0] - (w1 + 2 * l21 * w12 + l21 ** 2 * w2)) == 0
    assert sp.expand(N[0, 1] - (l12 * w1 + l21 * w2 + (1 + l12 * l21) * w12)) == 0
    assert sp.expand(N[1, 1] - (l12 ** 2 * w1 + 2 * l12 * w12 + w2)) == 0


def test_E3_three_cycle():
    g = MixedGraph([(1, 2), (2, 3), (3, 1)], nodes=[1, 2, 3])
    l12, l23, l31, w1, w2, w3 = _S("l_12", "l_23", "l_31", "w_1", "w_2", "w_3")
    assert sp.expand(g.determinant_symbolic() - (1 - l12 * l23 * l31)) == 0
    C = sp.Matrix([[1, l12, l12 * l23], [l23 * l31, 1, l23], [l31, l31 * l12, 1]])
    assert (g.adjugate_symbolic() - C).expand() == sp.zeros(3, 3)
    N, _ = g.covariance_symbolic()
    expected = {
        (0, 0): w1 + l23 ** 2 * l31 ** 2 * w2 + l31 ** 2 * w3,
        (0, 1): l12 * w1 + l23 * l31 * w2 + l12 * l31 ** 2 * w3,
        (0, 2): l12 * l23 * w1 + l23 ** 2 * l31 * w2 + l31 * w3,
        (1, 1): l12 ** 2 * w1 + w2 + l12 ** 2 * l31 ** 2 * w3,
        (1, 2): l12 ** 2 * l23 * w1 + l23 * w2 + l12 * l31 * w3,
        (2, 2): l12 ** 2 * l23 ** 2 * w1 + l23 ** 2 * w2 + w3,
    }
    for (i, j), e in expected.items():
        assert sp.expand(N[i, j] - e) == 0 and sp.expand(N[j, i] - e) == 0
    assert list(g.one_connections(2, 1)) == [((2, 3, 1), ())]


def test_E4_disjoint_cycles():
    g = MixedGraph([(1, 2), (2, 1), (3, 4), (4, 3), (2, 3)], nodes=[1, 2, 3, 4])
    l12, l21, l23, l34, l43 = _S("l_12", "l_21", "l_23", "l_34", "l_43")
    det = g.determinant_symbolic()
    assert sp.expand(det - (1 - l12 * l21) * (1 - l34 * l43)) == 0
    C = g.adjugate_symbolic()
    assert sp.simplify(C[0, 0] / det - 1 / (1 - l12 * l21)) == 0
    assert sp.expand(C[0, 3] - l12 * l23 * l34) == 0


def test_acyclic_reduces_to_trek_rule():
    """Δ = 1 and N_ij = Σ over treks (a top vertex k with ω_k or a bidirected edge
    k↔l with ω_kl, and directed paths from the top to i and to j)."""
    g = MixedGraph([(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (1, 4)], [(1, 2), (0, 4)])
    assert g.is_acyclic()
    N, den = g.covariance_symbolic()
    assert den == 1 and g.determinant_symbolic() == 1
    L, W = g.parameter_symbols()
    G = g.to_networkx()
    Dg = nx.DiGraph([(a, b) for a, b, d in G.edges(data=True) if d["kind"] == "directed"])
    Dg.add_nodes_from(range(g.n))

    def paths(k, i):
        if k == i:
            return [sp.Integer(1)]
        return [sp.Mul(*[L[a, b] for a, b in zip(p, p[1:])])
                for p in nx.all_simple_paths(Dg, k, i)]

    for i in range(g.n):
        for j in range(i, g.n):
            trek = sum(W[k, k] * sum(paths(k, i)) * sum(paths(k, j)) for k in range(g.n))
            trek += sum(W[k, l] * (sum(paths(k, i)) * sum(paths(l, j)) +
                                   sum(paths(l, i)) * sum(paths(k, j)))
                        for k, l in g._B)
            assert sp.expand(N[i, j] - trek) == 0


def test_symbolic_expressions_are_canonical():
    """The fast ring → sympy conversion builds exactly what ``as_expr`` builds."""
    g = random_cyclic_graph(5, 4, 2, 31)
    R, C, det, N = g._ring
    M, _ = g.covariance_symbolic()
    for (i, j), p in N.items():
        assert M[i, j] == p.as_expr()
    assert g.determinant_symbolic() == det.as_expr()


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 7).flatmap(lambda n: st.tuples(
    st.just(n),
    st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
            .filter(lambda e: e[0] != e[1]), max_size=n * (n - 1)),
    st.integers(0, 2 ** 32 - 1))))
def test_adjugate_identity_exact_on_arbitrary_digraphs(case):
    """For any digraph: (I − Λ) C = Δ I exactly, with C and Δ from the one-connection
    program evaluated in rational arithmetic at random rational λ."""
    from fractions import Fraction

    from sem.graphs import oneconnection as oc

    n, edges, seed = case
    rng = np.random.default_rng(seed)
    prog = oc.build_program(n, sorted(edges))
    lam = [Fraction(int(rng.integers(-9, 10)), int(rng.integers(1, 6))) for _ in edges]
    C, det = oc.evaluate_ring(prog, lam, Fraction(1))
    A = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    for (a, b), v in zip(prog.edges, lam):
        A[a][b] -= v
    for i in range(n):
        for j in range(n):
            assert sum(A[i][k] * C[k][j] for k in range(n)) == (det if i == j else 0)


def test_too_large_for_symbolic_expansion():
    """A complete digraph on 7 nodes enumerates (2365 cycles) but its numerators would
    have ~10⁸ terms: refused with a pointer to the numeric path, before any work."""
    g = MixedGraph([(i, j) for i in range(7) for j in range(7) if i != j])
    with pytest.raises(SpecificationError, match=r"up to \d+ terms.*method='solve'"):
        g.covariance_symbolic()
    L, W = g.random_parameters(seed=2, scale=0.1, size=4)
    assert np.allclose(g.covariance(L, W, method="one_connection"),
                       g.covariance(L, W, method="solve"), rtol=1e-12, atol=0)


# -- audit regressions ----------------------------------------------------------------

@pytest.mark.parametrize("method", ["solve", "one_connection"])
def test_covariance_params_refuses_singular_I_minus_Lambda(method):
    """θ-vector path: a singular I − Λ used to give inf (closed form) or a finite but
    meaningless matrix (solve) without any error."""
    g = MixedGraph([(0, 1), (1, 0)])
    theta = g.params(np.array([[0.0, 2.0], [0.5, 0.0]]), np.eye(2))   # λ01 λ10 = 1
    with pytest.raises(SpecificationError, match="singular"):
        g.covariance_params(theta, method=method)
    # a batch: the error names the bad entry, the good one alone still works
    good = g.params(np.array([[0.0, 0.5], [0.5, 0.0]]), np.eye(2))
    with pytest.raises(SpecificationError, match="batch entry 1"):
        g.covariance_params(np.stack([good, theta]), method=method)
    S = g.covariance_params(good, method=method)
    A = np.eye(2) - np.array([[0.0, 0.5], [0.5, 0.0]])
    np.testing.assert_allclose(S, np.linalg.inv(A).T @ np.linalg.inv(A), rtol=1e-12)


def test_covariance_params_wrong_length_is_named():
    g = MixedGraph([(0, 1), (1, 0)])
    with pytest.raises(SpecificationError, match="θ has 3 entries.*4 parameters"):
        g.covariance_params([0.1, 0.2, 1.0])


def test_ambiguous_symbol_names_are_refused():
    """Labels joined by '_' can collide: ('a', 'b_c') and ('a_b', 'c') both gave
    ``l_a_b_c``, and ω of node 'a_b' and ω of the edge a ↔ b both ``w_a_b``, so the
    symbolic Σ silently merged different parameters."""
    g = MixedGraph([("a", "b_c"), ("a_b", "c")], [("a", "b")],
                   nodes=["a", "b", "b_c", "a_b", "c"])
    with pytest.raises(SpecificationError, match=r"l_a_b_c.*rename"):
        g.parameter_names()
    with pytest.raises(SpecificationError, match="rename"):
        g.covariance_symbolic()
    with pytest.raises(SpecificationError, match=r"s_a_b_c.*rename"):
        g.sigma_symbols()
    # numeric work does not need names and still runs
    L, W = g.random_parameters(seed=0)
    assert np.allclose(g.covariance(L, W, method="one_connection"),
                       g.covariance(L, W), rtol=1e-12)
    # unambiguous multi-character labels keep their names
    h = MixedGraph([("y1", "y2")], [("y1", "y3")], nodes=["y1", "y2", "y3"])
    assert h.parameter_names() == ["l_y1_y2", "w_y1", "w_y2", "w_y3", "w_y1_y3"]


def test_simulate_non_positive_definite_omega_is_named():
    g = MixedGraph([(0, 1)], [(0, 1)])
    L = np.array([[0.0, 0.5], [0.0, 0.0]])
    with pytest.raises(SpecificationError, match="Omega is not positive definite"):
        g.simulate(L, np.array([[1.0, 2.0], [2.0, 1.0]]), 5)
    with pytest.raises(SpecificationError, match="n_obs must be a positive integer"):
        g.simulate(L, np.eye(2), 2.5)                     # was truncated to 2 rows


def test_string_edges_are_refused():
    """One edge passed instead of a list of edges used to be split into characters:
    directed=("y1", "y2") became y → 1, y → 2 on nodes y, 1, 2."""
    with pytest.raises(SpecificationError, match=r"edge 'y1' is a string.*\[\('y1', 'y2'\)\]"):
        MixedGraph(directed=("y1", "y2"))
    with pytest.raises(SpecificationError, match="bidirected edge 'ac' is a string"):
        MixedGraph(bidirected=["ac"])
    assert MixedGraph(directed=[("y1", "y2")]).nodes == ("y1", "y2")
