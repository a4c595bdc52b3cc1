"""``MixedGraph``: the graph G = (V, D, B) of a linear structural equation model.

Model (Adhikari, Gross, Härkönen & Tsigaridas, arXiv 2210.00239, and the algebraic
statistics literature it builds on): X_j = Σ_{i→j ∈ D} λ_ij X_i + ε_j, ε ~ N(0, Ω), with
Ω_kl ≠ 0 off the diagonal only for k ↔ l ∈ B. In matrix form X = Λᵀ X + ε, so

    Σ = (I − Λ)⁻ᵀ Ω (I − Λ)⁻¹,     Λ_ij = λ_ij for i → j ∈ D   (n×n),

defined where det(I − Λ) ≠ 0. D may contain directed cycles (a non-recursive SEM).
In lavaan/RAM notation ``j ~ i`` puts λ_ij at A[j, i], i.e. A = Λᵀ.

Parameters are ordered θ = (λ_e for e in D, ω_v for v in V, ω_kl for k↔l in B):
q = |D| + |V| + |B| of them.

Symbol names (sympy) for node labels a, b, written as strings: ``s_ab`` for σ_ab,
``l_ab`` for λ_ab, ``w_a`` for ω_a and ``w_ab`` for ω_ab when every label is a single
character (the default nodes 0..9: ``s_01``, ``l_12``); otherwise ``s_a_b`` (e.g.
``s_y1_y2``, ``s_10_11``). σ symbols are ordered (0,0), (0,1), …, (0,n−1), (1,1), … and
a σ symbol names the pair with the earlier node first. :meth:`MixedGraph.sigma_symbols`
returns them as a symmetric matrix.
"""
from __future__ import annotations

import numbers
from functools import cached_property

import networkx as nx
import numpy as np
import sympy as sp

from ..errors import SpecificationError
from . import oneconnection as oc
from . import parametrization as par
from . import symbolic


def _label(x) -> str:
    return str(x)


class MixedGraph:
    """A mixed graph with directed edges D (cycles allowed) and bidirected edges B.

    Parameters
    ----------
    directed : pairs (i, j) for the edges i → j.
    bidirected : pairs (i, j) for the edges i ↔ j (unordered).
    nodes : the node labels, in order (ints or names). Default: 0..m when every edge
        endpoint is a non-negative int (m the largest), else the order of appearance.
    allow_bows : if False, an edge in both D and B (a "bow" i → j, i ↔ j) is an error.
        Bows are valid in general (an instrument can identify them) but make the graph
        non-simple; the bow alone is not generically finite-to-one.
    require_simple : if True, raise unless the graph is simple (at most one of i → j,
        j → i, i ↔ j for every pair).

    Errors (``SpecificationError``, a ``ValueError``) name the edge or node at fault:
    self-loops (i → i or i ↔ i), endpoints not in ``nodes``, edges listed twice.
    """

    def __init__(self, directed=(), bidirected=(), nodes=None, *, allow_bows: bool = True,
                 require_simple: bool = False):
        for kind, es in (("directed", directed), ("bidirected", bidirected)):
            if isinstance(es, (str, bytes)):
                raise SpecificationError(f"{kind} must be a list of pairs of nodes; got "
                                         f"the string {es!r}")
            for e in es:
                # a string edge would be split into characters: ("y1", "y2") given as
                # the edge list became the edges y → 1 and y → 2
                if isinstance(e, (str, bytes)):
                    raise SpecificationError(
                        f"{kind} edge {e!r} is a string, not a pair of nodes; pass a list "
                        f"of pairs, e.g. {kind}=[('y1', 'y2')]")
        directed = [tuple(e) for e in directed]
        bidirected = [tuple(e) for e in bidirected]
        for kind, es in (("directed", directed), ("bidirected", bidirected)):
            for e in es:
                if len(e) != 2:
                    raise SpecificationError(f"{kind} edge {e!r} is not a pair of nodes")
        ends = [v for e in directed + bidirected for v in e]
        if nodes is None:
            if ends and all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                            and v >= 0 for v in ends):
                nodes = range(int(max(ends)) + 1)
            else:
                nodes = list(dict.fromkeys(ends))
        nodes = tuple(nodes)
        if not nodes:
            raise SpecificationError("a mixed graph needs at least one node")
        index = {}
        for k, v in enumerate(nodes):
            if v in index:
                raise SpecificationError(f"node {v!r} is listed twice in nodes")
            index[v] = k
        self.nodes: tuple = nodes
        self._index = index

        def idx(v, e, kind):
            if v not in index:
                raise SpecificationError(
                    f"{kind} edge {e!r}: unknown node {v!r} (nodes are "
                    f"{list(nodes)[:20]}{' ...' if len(nodes) > 20 else ''})")
            return index[v]

        D, seen = [], {}
        for e in directed:
            i, j = idx(e[0], e, "directed"), idx(e[1], e, "directed")
            if i == j:
                raise SpecificationError(f"directed edge {e!r} is a self-loop; a node "
                                         "cannot cause itself in this model")
            if (i, j) in seen:
                raise SpecificationError(f"directed edge {e!r} is listed twice")
            seen[(i, j)] = e
            D.append((i, j))
        B, seen_b = [], {}
        for e in bidirected:
            i, j = idx(e[0], e, "bidirected"), idx(e[1], e, "bidirected")
            if i == j:
                raise SpecificationError(
                    f"bidirected edge {e!r} is a self-loop; every node already has its "
                    "error variance ω, so leave it out")
            key = (min(i, j), max(i, j))
            if key in seen_b:
                raise SpecificationError(f"bidirected edge {e!r} is listed twice "
                                         f"(also as {seen_b[key]!r})")
            seen_b[key] = e
            B.append(key)
        self._D: tuple = tuple(D)
        self._B: tuple = tuple(B)
        if not allow_bows:
            for (i, j) in D:
                if (min(i, j), max(i, j)) in seen_b:
                    raise SpecificationError(
                        f"edge {nodes[i]!r} → {nodes[j]!r} is in both D and B (a bow), "
                        "which allow_bows=False forbids")
        if require_simple:
            bad = self._non_simple_pairs()
            if bad:
                a, b = bad[0]
                raise SpecificationError(
                    f"the graph is not simple: nodes {nodes[a]!r} and {nodes[b]!r} are "
                    "joined by more than one edge (a 2-cycle or a bow)")

    # -- basic structure ----------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.nodes)

    @property
    def directed(self) -> tuple:
        """The directed edges as (label, label) pairs, in the order given."""
        return tuple((self.nodes[i], self.nodes[j]) for i, j in self._D)

    @property
    def bidirected(self) -> tuple:
        """The bidirected edges as (label, label) pairs, earlier node first."""
        return tuple((self.nodes[i], self.nodes[j]) for i, j in self._B)

    def index(self, node) -> int:
        """Position of a node label."""
        if node not in self._index:
            raise SpecificationError(f"unknown node {node!r}")
        return self._index[node]

    @property
    def n_params(self) -> int:
        return len(self._D) + self.n + len(self._B)

    def _non_simple_pairs(self):
        count: dict = {}
        for i, j in self._D + self._B:
            key = (min(i, j), max(i, j))
            count[key] = count.get(key, 0) + 1
        return sorted(k for k, c in count.items() if c > 1)

    def is_simple(self) -> bool:
        """At most one of i → j, j → i, i ↔ j for every pair (no 2-cycles, no bows);
        Améndola, Dettling, Drton, Onori & Wu, arXiv 2006.05978."""
        return not self._non_simple_pairs()

    def is_acyclic(self) -> bool:
        """True if D has no directed cycle (a recursive SEM)."""
        G = nx.DiGraph()
        G.add_nodes_from(range(self.n))
        G.add_edges_from(self._D)
        return nx.is_directed_acyclic_graph(G)

    def cycles(self, *, limit: int = oc.MAX_CYCLES) -> list[tuple]:
        """The directed cycles of D as label tuples (Johnson's algorithm), each starting
        at its earliest node, shortest first."""
        return [tuple(self.nodes[v] for v in c)
                for c in oc.enumerate_cycles(self.n, self._D, limit=limit)]

    def __repr__(self):
        return (f"MixedGraph(directed={list(self.directed)}, "
                f"bidirected={list(self.bidirected)}, nodes={list(self.nodes)})")

    def _key(self):
        return (frozenset(self.nodes), frozenset(self.directed),
                frozenset(frozenset(e) for e in self.bidirected))

    def __eq__(self, other):
        """Equal as labelled graphs (same nodes and edges; node order may differ)."""
        return isinstance(other, MixedGraph) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    # -- conversions --------------------------------------------------------------
    def to_networkx(self) -> nx.MultiDiGraph:
        """A ``networkx.MultiDiGraph``: edges i → j with ``kind="directed"`` and one edge
        per i ↔ j (earlier node first) with ``kind="bidirected"``; keys equal kinds."""
        G = nx.MultiDiGraph()
        G.add_nodes_from(self.nodes)
        for a, b in self.directed:
            G.add_edge(a, b, key="directed", kind="directed")
        for a, b in self.bidirected:
            G.add_edge(a, b, key="bidirected", kind="bidirected")
        return G

    @classmethod
    def from_networkx(cls, G, **kwargs) -> "MixedGraph":
        """From a networkx graph. Edges carry ``kind`` = "directed" or "bidirected";
        without it, edges of a directed graph are directed and edges of an undirected
        graph bidirected."""
        default = "directed" if G.is_directed() else "bidirected"
        D, B = [], []
        for a, b, data in G.edges(data=True):
            kind = data.get("kind", default)
            if kind == "directed":
                D.append((a, b))
            elif kind == "bidirected":
                if (b, a) not in B:
                    B.append((a, b))
            else:
                raise SpecificationError(f"edge {(a, b)!r} has unknown kind {kind!r} "
                                         "(expected 'directed' or 'bidirected')")
        return cls(D, B, nodes=list(G.nodes), **kwargs)

    @classmethod
    def random_cyclic(cls, n: int, n_chords: int, n_bidirected: int = 0, seed=0):
        """A random cyclic graph on 0..n−1: the cycle 0 → 1 → … → n−1 → 0, plus
        ``n_chords`` random directed edges (each closes cycles that overlap it) and
        ``n_bidirected`` random bidirected edges. For tests and benchmarks."""
        from ..estimation import seed_to_int

        if n < 2 or n_chords > n * (n - 2) or n_bidirected > n * (n - 1) // 2:
            raise SpecificationError(f"cannot place {n_chords} chords and "
                                     f"{n_bidirected} bidirected edges on {n} nodes")
        rng = np.random.default_rng(seed_to_int(seed))
        D = {(i, (i + 1) % n) for i in range(n)}
        while len(D) < n + n_chords:
            a, b = (int(x) for x in rng.choice(n, 2, replace=False))
            D.add((a, b))
        B = set()
        while len(B) < n_bidirected:
            a, b = sorted(int(x) for x in rng.choice(n, 2, replace=False))
            B.add((a, b))
        return cls(sorted(D), sorted(B), nodes=range(n))

    @classmethod
    def from_lavaan(cls, syntax: str, *, defaults: bool = False, **kwargs) -> "MixedGraph":
        """From lavaan syntax without latent variables (see ``sem.graphs.lavaan``)."""
        from .lavaan import graph_from_lavaan

        return graph_from_lavaan(cls, syntax, defaults=defaults, **kwargs)

    def to_lavaan(self, start=None) -> str:
        """lavaan syntax of this model (see ``sem.graphs.lavaan.to_lavaan``)."""
        from .lavaan import to_lavaan

        return to_lavaan(self, start=start)

    def fit(self, data, *, start=None, **kwargs):
        """Fit by ML through ``sem.Model``; returns ``sem.SEMResults``
        (see ``sem.graphs.lavaan.fit``)."""
        from .lavaan import fit

        return fit(self, data, start=start, **kwargs)

    def matrices_from_fit(self, results):
        """(Λ̂, Ω̂) as n×n arrays from a result of :meth:`fit`."""
        from .lavaan import matrices_from_fit

        return matrices_from_fit(self, results)

    # -- parameters -----------------------------------------------------------------
    def _pair_name(self, prefix, a, b=None) -> str:
        s = [_label(v) for v in self.nodes]
        compact = all(len(x) == 1 for x in s)
        if b is None:
            return f"{prefix}_{s[a]}"
        return f"{prefix}_{s[a]}{s[b]}" if compact else f"{prefix}_{s[a]}_{s[b]}"

    def _check_distinct_names(self, objs) -> None:
        """Labels joined by '_' can collide (nodes 'a', 'b_c' and 'a_b', 'c' both give
        ``s_a_b_c``); distinct objects sharing a sympy symbol would silently merge."""
        seen: dict = {}
        for obj, nm in objs:
            if nm in seen and seen[nm] != obj:
                raise SpecificationError(
                    f"symbol name {nm!r} is ambiguous: it names both {seen[nm]} and "
                    f"{obj} (node labels joined by '_'). Symbolic results would merge "
                    "them; rename the nodes (e.g. without '_')")
            seen[nm] = obj

    def parameter_names(self) -> list[str]:
        """Names of θ's entries: ``l_ij`` (λ), ``w_i`` (ω_i), ``w_ij`` (ω_ij).
        Raises SpecificationError if two parameters would get the same name."""
        nd = self.nodes
        objs = ([(f"λ of {nd[i]!r} → {nd[j]!r}", self._pair_name("l", i, j))
                 for i, j in self._D]
                + [(f"ω of node {nd[v]!r}", self._pair_name("w", v)) for v in range(self.n)]
                + [(f"ω of {nd[i]!r} ↔ {nd[j]!r}", self._pair_name("w", i, j))
                   for i, j in self._B])
        names = [nm for _, nm in objs]
        self._check_distinct_names(objs)
        return names

    @cached_property
    def _symbols(self):
        names = self.parameter_names()
        syms = [sp.Symbol(s) for s in names]
        E = len(self._D)
        return syms[:E], syms[E:E + self.n], syms[E + self.n:]

    def parameter_symbols(self):
        """(Λ, Ω) as sympy matrices of the parameter symbols (0 off the graph)."""
        lam, wd, wb = self._symbols
        L = sp.zeros(self.n, self.n)
        for (i, j), s in zip(self._D, lam):
            L[i, j] = s
        W = sp.diag(*wd)
        for (i, j), s in zip(self._B, wb):
            W[i, j] = W[j, i] = s
        return L, W

    def sigma_symbols(self) -> sp.Matrix:
        """Symmetric n×n matrix of the covariance symbols ``s_ij`` (see module doc)."""
        nd = self.nodes
        objs = [(f"σ of ({nd[i]!r}, {nd[j]!r})", self._pair_name("s", i, j))
                for i in range(self.n) for j in range(i, self.n)]
        self._check_distinct_names(objs)
        S = sp.zeros(self.n, self.n)
        for (i, j), (_, nm) in zip(((i, j) for i in range(self.n)
                                    for j in range(i, self.n)), objs):
            S[i, j] = S[j, i] = sp.Symbol(nm)
        return S

    def sigma_symbol_list(self) -> list:
        """The σ symbols in vech order (0,0), (0,1), …, (n−1,n−1)."""
        S = self.sigma_symbols()
        return [S[i, j] for i in range(self.n) for j in range(i, self.n)]

    def matrices(self, theta):
        """(Λ, Ω) from θ (shape (..., q)); numpy arrays (..., n, n)."""
        return par.matrices(np.asarray(theta, float), self.n, self._D, self._B)

    def params(self, Lambda, Omega) -> np.ndarray:
        """θ from (Λ, Ω), after checking their support against the graph."""
        Lambda, Omega = self._check_matrices(Lambda, Omega)
        return par.params(Lambda, Omega, self._D, self._B)

    def random_parameters(self, seed=0, size=None, *, scale: float = 0.9,
                          bidirected_scale: float = 0.4):
        """Random (Λ, Ω): λ ~ U(−scale, scale), ω_v ~ U(1, 2), ω_kl ~
        U(−bidirected_scale, bidirected_scale), Ω made positive definite; redrawn where
        |det(I − Λ)| < 0.05. ``size`` adds a leading batch dimension."""
        return par.random_parameters(self.n, self._D, self._B, seed, size, scale,
                                     bidirected_scale)

    def simulate(self, Lambda, Omega, n_obs: int, seed=0):
        """A DataFrame of n_obs draws from N(0, Σ): X = (I − Λ)⁻ᵀ ε, ε ~ N(0, Ω),
        computed by a solve; columns are the node labels."""
        Lambda, Omega = self._check_matrices(Lambda, Omega)
        return par.simulate(Lambda, Omega, n_obs, seed, self.nodes)

    def _check_matrices(self, Lambda, Omega):
        return par.check_matrices(Lambda, Omega, self.n, self._D, self._B, self.nodes)

    # -- covariance -----------------------------------------------------------------
    def program(self, *, max_cycles: int = oc.MAX_CYCLES,
                max_paths: int = oc.MAX_PATHS) -> oc.Program:
        """The enumerated one-connection structure (cached for the default limits)."""
        if (max_cycles, max_paths) == (oc.MAX_CYCLES, oc.MAX_PATHS):
            if "_program" not in self.__dict__:
                self.__dict__["_program"] = oc.build_program(self.n, self._D)
            return self.__dict__["_program"]
        return oc.build_program(self.n, self._D, max_cycles=max_cycles,
                                max_paths=max_paths)

    def covariance(self, Lambda, Omega, method: str = "solve") -> np.ndarray:
        """Σ = (I − Λ)⁻ᵀ Ω (I − Λ)⁻¹ as a numpy array (n, n), or (B, n, n) for stacked
        inputs (B, n, n).

        method="solve": LU solves in JAX (never an explicit inverse).
        method="one_connection": the closed form Cᵀ Ω C / Δ² with C = adj(I − Λ) summed
        over one-connections and Δ = det(I − Λ) over disjoint cycles
        (``sem.graphs.oneconnection``), vectorised over the batch.
        Raises SpecificationError if I − Λ is singular.
        """
        Lambda, Omega = self._check_matrices(Lambda, Omega)
        single = Lambda.ndim == 2
        L = Lambda.reshape((-1, self.n, self.n))
        W = Omega.reshape((-1, self.n, self.n))
        if method == "solve":
            par.check_nonsingular(L, self.nodes)
            S = np.asarray(par.covariance_solve(L, W))
        elif method in ("one_connection", "one-connection", "closed_form"):
            prog = self.program()
            rows, cols = par.edge_index(self._D)
            S, det = oc.evaluate(prog, L[:, rows, cols], W)
            par.check_det(np.asarray(det), L, self.nodes)
            S = np.asarray(S)
        else:
            raise ValueError(f"unknown method {method!r}; use 'solve' or 'one_connection'")
        return S[0] if single else S

    def covariance_params(self, theta, method: str = "one_connection") -> np.ndarray:
        """Σ for θ of shape (q,) or (B, q): the fastest batch path, with no support
        checks (θ cannot put weight off the graph). Raises SpecificationError if θ
        does not have q entries or I − Λ is singular at some point of the batch
        (naming the batch entry)."""
        theta = np.asarray(theta, float)
        if theta.ndim not in (1, 2) or theta.shape[-1] != self.n_params:
            raise SpecificationError(
                f"θ has {theta.shape[-1] if theta.ndim else 1} entries; the graph has "
                f"{self.n_params} parameters (shape (q,) or (B, q) expected, got "
                f"{theta.shape})")
        single = theta.ndim == 1
        theta = theta.reshape((-1, self.n_params))
        L, W = self.matrices(theta)
        if method == "solve":
            par.check_nonsingular(L, self.nodes)
            S = np.asarray(par.covariance_solve(L, W))
        elif method in ("one_connection", "one-connection", "closed_form"):
            S, det = oc.evaluate(self.program(), theta[:, :len(self._D)], W)
            par.check_det(np.asarray(det), L, self.nodes)
            S = np.asarray(S)
        else:
            raise ValueError(f"unknown method {method!r}; use 'solve' or 'one_connection'")
        return S[0] if single else S

    def _ring_data(self, max_terms: int = symbolic.MAX_TERMS):
        """(R, C, Δ, N) in sympy's PolyRing ZZ[λ, ω] (``sem.graphs.symbolic``),
        computed once."""
        if "_ring_cache" not in self.__dict__:
            self.__dict__["_ring_cache"] = symbolic.ring_numerators(self, max_terms)
        return self.__dict__["_ring_cache"]

    @property
    def _ring(self):
        return self._ring_data()

    def covariance_symbolic(self, *, max_terms: int = symbolic.MAX_TERMS):
        """(N, Δ²): Σ = N / Δ² with N = Cᵀ Ω C (a sympy Matrix of polynomials in the
        ``l_*``/``w_*`` symbols, homogeneous of degree 1 in ω) and Δ = det(I − Λ) from
        the cycle expansion; the denominator is returned as the (unexpanded) power Δ**2.
        Raises SpecificationError (suggesting the numeric path) for graphs too large
        to enumerate or to expand (more than ``max_terms`` terms)."""
        R, C, det, N = self._ring_data(max_terms)
        M = sp.zeros(self.n, self.n)
        for (i, j), p in N.items():
            M[i, j] = M[j, i] = symbolic.to_expr(p)
        return M, symbolic.to_expr(det) ** 2

    def determinant_symbolic(self) -> sp.Expr:
        """Δ = det(I − Λ) = Σ over sets of disjoint cycles of Π(−λ^c)."""
        return symbolic.to_expr(self._ring[2])

    def adjugate_symbolic(self) -> sp.Matrix:
        """C = adj(I − Λ), C_ki = Σ over one-connections from k to i of their weights."""
        C = self._ring[1]
        return sp.Matrix(self.n, self.n, lambda k, i: symbolic.to_expr(C[k][i]))

    def one_connections(self, source, target):
        """The one-connections from ``source`` to ``target``: (path, cycles) as label
        tuples; their weights sum to adj(I − Λ)[source, target]."""
        k, i = self.index(source), self.index(target)
        for path, cyc in oc.one_connections(self.program(), k, i):
            yield (tuple(self.nodes[v] for v in path),
                   tuple(tuple(self.nodes[v] for v in c) for c in cyc))

    # -- algebra --------------------------------------------------------------------
    def generically_finite_to_one(self, *, method: str = "auto", seed=0,
                                  n_points: int = 3):
        """Is θ ↦ Σ(θ) generically finite-to-one? A bool-like report (see
        ``sem.graphs.identifiability.generically_finite_to_one``)."""
        from .identifiability import generically_finite_to_one

        return generically_finite_to_one(self, method=method, seed=seed,
                                         n_points=n_points)

    def vanishing_ideal(self, degree: int, **kwargs) -> list:
        """A basis of the degree-``degree`` part of the Gaussian vanishing ideal, as sympy
        polynomials in the σ symbols (see ``sem.graphs.ideal.vanishing_ideal``)."""
        from .ideal import vanishing_ideal

        return vanishing_ideal(self, degree, **kwargs)
