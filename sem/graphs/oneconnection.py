"""Cycles, one-connections and the closed form of Σ for a cyclic linear SEM.

Setting (Adhikari, Gross, Härkönen & Tsigaridas, arXiv 2210.00239; notation of
``docs/graphs.md``): nodes 0..n−1, directed edges ``i → j`` with weights λ_ij (the matrix
Λ, n×n, Λ_ij = λ_ij), error covariance Ω. With A = I − Λ,

    Σ = A⁻ᵀ Ω A⁻¹ = Cᵀ Ω C / Δ²,        C = adj(A),  Δ = det(A).

**Graph determinant.** Δ(U) for a vertex set U is the sum over all sets 𝒞 of pairwise
vertex-disjoint directed cycles of D inside U of Π_{c∈𝒞} (−λ^c), λ^c the product of λ over
the edges of c; Δ(∅) = 1 and Δ = Δ(V) = det(I − Λ) (Mason's graph determinant; the
cycle-cover expansion of det A in the graph of A = I − Λ, where every vertex carries a
unit self-loop). It is evaluated by the recursion, with v the smallest vertex of U,

    Δ(U) = Δ(U ∖ {v}) + Σ_{cycles c ∋ v, c ⊆ U} (−λ^c) Δ(U ∖ c).

**One-connections.** A one-connection from k to i is a directed path P from k to i
(the trivial path when k = i) together with vertex-disjoint cycles (unit loops
allowed) covering every vertex off P. Summing their weights,

    C_ki = Σ_{paths P: k → i} λ^P Δ(V ∖ V(P)) = adj(I − Λ)_ki,

and σ_ij = [Σ_k ω_k C_ki C_kj + Σ_{k↔l} ω_kl (C_ki C_lj + C_li C_kj)] / Δ². With D
acyclic, Δ = 1 and C_ki is the sum over directed paths: the trek rule.

The formulas are our reconstruction of the paper's closed form (its body could not be
retrieved; ``docs/graphs.md`` says which parts are reconstructions) and are checked
against ``adjugate()``/``det()`` and linear solves in the tests.

Enumeration is done once per graph into a :class:`Program` — flat integer arrays that
list the cycles, the vertex subsets whose Δ is needed (in order of size) and the paths
(each path is its parent path plus one edge). Three evaluators run the same program:
over JAX arrays for a batch of parameter points (:func:`evaluate`), over integers mod p
(:func:`evaluate_modp`, for the vanishing-ideal search and exact Jacobian ranks) and over
a sympy polynomial ring (:func:`evaluate_ring`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import networkx as nx
import numpy as np

from ..errors import SpecificationError
from ..jaxconfig import jax, jnp

#: Default caps on the enumeration; past them the numeric path (linear solves) is the
#: way to go.
MAX_CYCLES = 5_000
MAX_PATHS = 200_000


def _too_large(what: str, count: int, limit: int) -> SpecificationError:
    return SpecificationError(
        f"the graph is too large for one-connection enumeration: more than {limit} "
        f"{what} (found {count} so far). Use the numeric path instead: "
        "covariance(..., method='solve'), generically_finite_to_one(method='numeric'); "
        "or raise the limit (max_cycles=, max_paths=) if you can wait")


def enumerate_cycles(n: int, edges, *, limit: int = MAX_CYCLES) -> list[tuple[int, ...]]:
    """All directed simple cycles (Johnson's algorithm, via networkx), each rotated to
    start at its smallest vertex, sorted by (length, vertices)."""
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    G.add_edges_from(edges)
    out = []
    for c in nx.simple_cycles(G):
        k = c.index(min(c))
        out.append(tuple(c[k:] + c[:k]))
        if len(out) > limit:
            raise _too_large("directed cycles", len(out), limit)
    return sorted(out, key=lambda c: (len(c), c))


def _cycle_edge_list(c):
    return [(c[t], c[(t + 1) % len(c)]) for t in range(len(c))]


@dataclass(frozen=True, eq=False)   # hashed by identity: a static jit argument
class Program:
    """The one-connection structure of a directed graph, as flat arrays.

    Attributes (E = number of directed edges, S = number of subsets, P = paths):

    * ``edges``: the directed edges (i, j), index e = position.
    * ``cycles``: vertex tuples; ``cycle_edges`` (n_cycles, L) edge indices padded
      with E (which evaluators read as a weight of one).
    * ``subsets``: bit masks of the vertex sets U whose Δ(U) is needed; index 0 is ∅.
    * ``levels``: per subset size, arrays (target, source, cycle) of recursion terms
      Δ[target] += w[cycle] · Δ[source], where w[c] = −λ^c and w[n_cycles] = 1.
    * ``path_levels``: per path length ≥ 1, arrays (path, parent path, edge).
    * ``path_src``, ``path_dst``, ``path_comp``: source, target and the subset index of
      V ∖ V(P) of every path; paths 0..n−1 are the trivial paths (k,).
    * ``full``: the subset index of V.
    """

    n: int
    edges: tuple
    cycles: tuple
    cycle_edges: np.ndarray
    subsets: tuple
    levels: tuple
    path_levels: tuple
    path_src: np.ndarray
    path_dst: np.ndarray
    path_comp: np.ndarray
    full: int

    @property
    def n_paths(self) -> int:
        return len(self.path_src)

    @property
    def n_edges(self) -> int:
        return len(self.edges)


def build_program(n: int, edges, *, max_cycles: int = MAX_CYCLES,
                  max_paths: int = MAX_PATHS) -> Program:
    """Enumerate cycles, paths and the needed subsets of a directed graph on 0..n−1."""
    edges = tuple((int(a), int(b)) for a, b in edges)
    eidx = {e: k for k, e in enumerate(edges)}
    E = len(edges)
    cycles = enumerate_cycles(n, edges, limit=max_cycles)
    L = max((len(c) for c in cycles), default=1)
    cyc_edges = np.full((len(cycles), L), E, dtype=np.int64)
    cyc_mask = []
    for r, c in enumerate(cycles):
        cyc_edges[r, :len(c)] = [eidx[e] for e in _cycle_edge_list(c)]
        cyc_mask.append(sum(1 << v for v in c))
    through = [[r for r, c in enumerate(cycles) if min(c) == v] for v in range(n)]
    # cycles through v inside U, with v = min(U): only cycles whose minimum is v
    # can lie inside U, so ``through`` is indexed by the cycle's smallest vertex.

    # paths from every source, breadth first; paths 0..n-1 are the trivial ones
    succ = [[] for _ in range(n)]
    for k, (a, b) in enumerate(edges):
        succ[a].append((b, k))
    src, dst, mask, parent, pedge, plen = [], [], [], [], [], []
    for k in range(n):
        src.append(k), dst.append(k), mask.append(1 << k)
        parent.append(-1), pedge.append(-1), plen.append(0)
    p = 0
    while p < len(src):          # breadth first: paths come numbered by length
        for b, e in succ[dst[p]]:
            if mask[p] >> b & 1:
                continue
            src.append(src[p]), dst.append(b), mask.append(mask[p] | 1 << b)
            parent.append(p), pedge.append(e), plen.append(plen[p] + 1)
            if len(src) > max_paths:
                raise _too_large("directed paths", len(src), max_paths)
        p += 1

    full_mask = (1 << n) - 1
    needed = {full_mask} | {full_mask & ~m for m in mask}
    memo: dict[int, list] = {}
    todo = list(needed)
    while todo:
        U = todo.pop()
        if U in memo or U == 0:
            continue
        v = (U & -U).bit_length() - 1
        terms = [(U & ~(1 << v), -1)]
        for r in through[v]:
            if cyc_mask[r] & ~U == 0:
                terms.append((U & ~cyc_mask[r], r))
        memo[U] = terms
        todo.extend(t for t, _ in terms if t not in memo)
    subsets = [0] + sorted(memo, key=lambda m: (bin(m).count("1"), m))
    sidx = {m: k for k, m in enumerate(subsets)}
    nc = len(cycles)
    levels = []
    for size in range(1, n + 1):
        t, s, c = [], [], []
        for U in subsets[1:]:
            if bin(U).count("1") != size:
                continue
            for sub, r in memo[U]:
                t.append(sidx[U]), s.append(sidx[sub]), c.append(nc if r < 0 else r)
        if t:
            levels.append(tuple(np.asarray(x, dtype=np.int64) for x in (t, s, c)))
    plen = np.asarray(plen)
    path_levels = []
    for ell in range(1, int(plen.max(initial=0)) + 1):
        idx = np.nonzero(plen == ell)[0]
        assert idx[0] == np.sum(plen < ell) and idx[-1] - idx[0] + 1 == len(idx)
        path_levels.append((idx, np.asarray(parent)[idx], np.asarray(pedge)[idx]))
    return Program(n, edges, tuple(cycles), cyc_edges, tuple(subsets), tuple(levels),
                   tuple(path_levels), np.asarray(src), np.asarray(dst),
                   np.asarray([sidx[full_mask & ~m] for m in mask], dtype=np.int64),
                   sidx[full_mask])


# -- evaluators ---------------------------------------------------------------------

_DENSE_LIMIT = 2_000_000   # one-hot summation matrices up to this many entries


def _segment_sum(vals, seg, size):
    """Σ of the rows of ``vals`` (T, b) into ``size`` rows by ``seg`` (static ints):
    a dense one-hot matrix product (BLAS) when small, else a scatter."""
    if size * len(seg) <= _DENSE_LIMIT:
        H = np.zeros((size, len(seg)))
        H[seg, np.arange(len(seg))] = 1.0
        return jnp.asarray(H, vals.dtype) @ vals
    return jax.ops.segment_sum(vals, seg, size)


def _adjugate_det(prog: Program, lam):
    """C (n, n, b) and Δ (b,) from λ (E, b) by the one-connection program.

    Batch-last layout, so every step moves whole rows. Subsets of one size and paths
    of one length are contiguous blocks (sorted subsets, breadth-first paths), so each
    level writes one block of a preallocated array.
    """
    b = lam.shape[1]
    ones = jnp.ones((1, b), lam.dtype)
    ext = jnp.concatenate([lam, ones], axis=0)
    w = -jnp.prod(ext[prog.cycle_edges], axis=1)                  # −λ^c, (n_cycles, b)
    w = jnp.concatenate([w, ones], axis=0)
    D = jnp.zeros((len(prog.subsets), b), lam.dtype).at[0].set(1.0)  # Δ(∅) = 1
    for tgt, src, cyc in prog.levels:
        start = int(tgt[0])
        size = int(tgt[-1]) - start + 1
        D = D.at[start:start + size].set(_segment_sum(w[cyc] * D[src], tgt - start, size))
    P = jnp.zeros((prog.n_paths, b), lam.dtype).at[:prog.n].set(1.0)  # trivial paths
    for idx, par, e in prog.path_levels:
        P = P.at[int(idx[0]):int(idx[-1]) + 1].set(P[par] * lam[e])
    n = prog.n
    C = _segment_sum(P * D[prog.path_comp], prog.path_src * n + prog.path_dst, n * n)
    return C.reshape(n, n, b), D[prog.full]


def _sigma_chunk(prog: Program, lam, omega):
    """Σ (n, n, b) and Δ (b,) from λ (E, b) and Ω (n, n, b)."""
    C, det = _adjugate_det(prog, lam)
    M = jnp.einsum("lkb,kjb->ljb", omega, C)                      # Ω C
    N = jnp.einsum("lib,ljb->ijb", C, M)                          # Cᵀ Ω C
    return N / (det ** 2)[None, None, :], det


@partial(jax.jit, static_argnums=(0, 3))
def _evaluate(prog: Program, lam, omega, chunk: int):
    B = lam.shape[0]
    k = B // chunk
    lam_c = lam.reshape(k, chunk, -1).transpose(0, 2, 1)
    om_c = omega.reshape(k, chunk, prog.n, prog.n).transpose(0, 2, 3, 1)
    S, det = jax.lax.map(lambda a: _sigma_chunk(prog, *a), (lam_c, om_c))
    return S.transpose(0, 3, 1, 2).reshape(B, prog.n, prog.n), det.reshape(B)


def evaluate(prog: Program, lam, omega, *, chunk: int | None = None):
    """Σ by the closed form for a batch of parameter points, in JAX (jitted).

    lam: (B, E) edge weights in ``prog.edges`` order; omega: (B, n, n) symmetric.
    Returns (Σ (B, n, n), Δ (B,)). The batch runs in chunks of ``chunk`` points
    (default 1024, fewer for large programs) so the work stays in cache.
    """
    omega = jnp.asarray(omega, dtype=jnp.float64).reshape(-1, prog.n, prog.n)
    B = omega.shape[0]
    lam = jnp.asarray(lam, dtype=jnp.float64).reshape(B, prog.n_edges)
    if B == 0:
        return jnp.zeros((0, prog.n, prog.n)), jnp.zeros((0,))
    if chunk is None:
        width = prog.n_paths + len(prog.subsets) + 2 * prog.n ** 2 + 1
        chunk = int(max(64, min(1024, 4 * 10 ** 6 // width)))
    chunk = int(min(chunk, B))
    pad = (-B) % chunk
    if pad:
        lam = jnp.concatenate([lam, jnp.zeros((pad, lam.shape[1]))])
        omega = jnp.concatenate([omega, jnp.broadcast_to(jnp.eye(prog.n),
                                                         (pad, prog.n, prog.n))])
    S, det = _evaluate(prog, lam, omega, chunk)
    return S[:B], det[:B]


def evaluate_modp(prog: Program, lam, p: int):
    """C = adj(I − Λ) (K, n, n) and Δ (K,) mod p from integer λ (K, E), in numpy.

    ``p`` must be below 2³¹ so that products of residues fit in int64.
    """
    lam = np.asarray(lam, dtype=np.int64) % p
    K = lam.shape[0]
    ext = np.concatenate([lam, np.ones((K, 1), np.int64)], axis=1)
    w = np.ones((K, len(prog.cycles)), np.int64)
    for t in range(prog.cycle_edges.shape[1]):
        w = w * ext[:, prog.cycle_edges[:, t]] % p
    w = np.concatenate([(-w) % p, np.ones((K, 1), np.int64)], axis=1)
    D = np.zeros((K, len(prog.subsets)), np.int64)
    D[:, 0] = 1
    for tgt, src, cyc in prog.levels:
        contrib = w[:, cyc] * D[:, src] % p
        acc = np.zeros((K, len(prog.subsets)), np.int64)
        np.add.at(acc, (slice(None), tgt), contrib)
        D = (D + acc) % p
    P = np.ones((K, prog.n_paths), np.int64)
    for idx, par, e in prog.path_levels:
        P[:, idx] = P[:, par] * lam[:, e] % p
    n = prog.n
    C = np.zeros((K, n * n), np.int64)
    np.add.at(C, (slice(None), prog.path_src * n + prog.path_dst),
              P * D[:, prog.path_comp] % p)
    return (C % p).reshape(K, n, n), D[:, prog.full]


def evaluate_ring(prog: Program, lam, one):
    """C (list of lists) and Δ as elements of a polynomial ring, from the ring elements
    ``lam`` (one per edge) and the ring's ``one``. Any commutative ring works; the
    symbolic API uses sympy's sparse ``PolyRing`` over ZZ (fast dict arithmetic)."""
    zero = one - one
    w = []
    for c in prog.cycle_edges:
        term = one
        for e in c:
            if e < prog.n_edges:
                term = term * lam[e]
        w.append(-term)
    w.append(one)
    D = [zero] * len(prog.subsets)
    D[0] = one
    for tgt, src, cyc in prog.levels:
        for t, s, c in zip(tgt, src, cyc):
            D[t] = D[t] + w[c] * D[s]
    P = [one] * prog.n_paths
    for idx, par, e in prog.path_levels:
        for a, b, k in zip(idx, par, e):
            P[a] = P[b] * lam[k]
    n = prog.n
    C = [[zero] * n for _ in range(n)]
    for q in range(prog.n_paths):
        k, i = prog.path_src[q], prog.path_dst[q]
        C[k][i] = C[k][i] + P[q] * D[prog.path_comp[q]]
    return C, D[prog.full]


def term_counts(prog: Program):
    """Numbers of one-connections: (counts (n, n) nested lists, number of cycle covers).
    Distinct one-connections have distinct edge sets, so these are exactly the numbers
    of terms of adj(I − Λ)_ki and of Δ."""
    D = [0] * len(prog.subsets)
    D[0] = 1
    for tgt, src, _ in prog.levels:
        for t, s in zip(tgt, src):
            D[t] += D[s]
    n = prog.n
    C = [[0] * n for _ in range(n)]
    for q in range(prog.n_paths):
        C[prog.path_src[q]][prog.path_dst[q]] += D[prog.path_comp[q]]
    return C, D[prog.full]


def one_connections(prog: Program, k: int, i: int):
    """Yield the one-connections from k to i as (path, cycles): the path a vertex tuple
    from k to i, the cycles a tuple of vertex tuples (unit loops left out). Their
    weights λ^P Π(−λ^c) sum to adj(I − Λ)_ki. Exponential; for small graphs."""
    full = (1 << prog.n) - 1
    masks = [sum(1 << v for v in c) for c in prog.cycles]

    def covers(U, start):
        yield ()
        for r in range(start, len(prog.cycles)):
            if masks[r] & ~U == 0:
                for rest in covers(U & ~masks[r], r + 1):
                    yield (prog.cycles[r],) + rest

    parent = {}
    for idx, par, _ in prog.path_levels:
        parent.update(zip(idx.tolist(), par.tolist()))
    for q in range(prog.n_paths):
        if prog.path_src[q] != k or prog.path_dst[q] != i:
            continue
        path, r = [], q
        while r >= 0:
            path.append(int(prog.path_dst[r]))
            r = parent.get(r, -1)
        path = tuple(reversed(path))
        U = full & ~sum(1 << v for v in path)
        for cyc in covers(U, 0):
            yield path, cyc
