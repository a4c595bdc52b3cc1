"""Benchmark of sem.graphs (one run prints everything):

1. Σ for a batch of 10⁵ parameter points of a cyclic mixed graph: the one-connection
   closed form, vectorised in JAX (``sem.graphs.oneconnection.evaluate``), against a
   plain numpy loop of ``np.linalg.inv`` (Σ = A⁻ᵀ Ω A⁻¹, A = I − Λ, point by point);
   batched LU solves (JAX, numpy) for context.
2. Symbolic enumeration (cycles, one-connections, N = Cᵀ Ω C as sympy expressions) for
   random cyclic graphs of 4–8 nodes; the goal is under 10 s each.
3. The vanishing-ideal search on the worked examples.

Run:  .venv/bin/python bench/graphs_bench.py [--batch 100000]
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import sem  # noqa: F401  (JAX configuration first)
from sem.graphs import MixedGraph
from sem.graphs import oneconnection as oc
from sem.graphs.parametrization import covariance_solve
from sem.jaxconfig import jax


def random_cyclic_graph(n, n_chords, n_bi, seed):
    """The cycle 0 → … → n−1 → 0 plus random chords and bidirected edges."""
    return MixedGraph.random_cyclic(n, n_chords, n_bi, seed=seed)


def best_of(f, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def numpy_inv_loop(L, W):
    out = np.empty_like(W)
    eye = np.eye(L.shape[-1])
    for b in range(len(L)):
        Ai = np.linalg.inv(eye - L[b])
        out[b] = Ai.T @ W[b] @ Ai
    return out


def batch_section(batch: int):
    print(f"\n## 1. Σ for a batch of {batch:,} parameter points")
    print(f"{'graph':<26}{'closed form':>13}{'jax solve':>11}{'np solve':>10}"
          f"{'np inv loop':>13}{'ratio':>8}{'max rel diff':>13}")
    rows = []
    for n, chords, n_bi, seed in [(4, 2, 1, 1), (6, 4, 3, 2), (8, 6, 4, 3)]:
        g = random_cyclic_graph(n, chords, n_bi, seed)
        prog = g.program()
        L, W = g.random_parameters(seed=seed, size=batch)
        lam = g.params(L, W)[:, :len(g.directed)]

        def closed():
            S, _ = oc.evaluate(prog, lam, W)
            return jax.block_until_ready(S)

        def jsolve():
            return jax.block_until_ready(covariance_solve(L, W))

        def npsolve():
            At = np.swapaxes(np.eye(n) - L, 1, 2)
            return np.linalg.solve(At, np.swapaxes(np.linalg.solve(At, W), 1, 2))

        S_closed = np.asarray(closed())           # compiles
        jsolve()
        t_c, t_j, t_s = best_of(closed), best_of(jsolve), best_of(npsolve)
        S_loop = numpy_inv_loop(L, W)
        t_l = best_of(lambda: numpy_inv_loop(L, W), repeat=2)
        diff = float(np.max(np.abs(S_closed - S_loop) /
                            np.abs(S_loop).max(axis=(1, 2), keepdims=True)))
        name = f"n={n}, |D|={len(g.directed)}, |B|={len(g.bidirected)}, {len(prog.cycles)} cyc"
        print(f"{name:<26}{t_c:>12.3f}s{t_j:>10.3f}s{t_s:>9.3f}s{t_l:>12.2f}s"
              f"{t_l / t_c:>7.0f}x{diff:>13.1e}")
        rows.append((n, t_c, t_l))
    return rows


def symbolic_section():
    print("\n## 2. Symbolic enumeration (cycles, one-connections, N = CᵀΩC in sympy)")
    print(f"{'graph':<24}{'cycles':>7}{'paths':>7}{'terms of N':>11}{'time':>9}")
    worst = 0.0
    for n, chords, n_bi, seed in [(4, 3, 2, 41), (5, 5, 2, 51), (6, 6, 3, 61),
                                  (7, 7, 3, 71), (8, 6, 3, 81), (8, 9, 3, 89)]:
        g = random_cyclic_graph(n, chords, n_bi, seed)
        t = time.perf_counter()
        N, den = g.covariance_symbolic()
        dt = time.perf_counter() - t
        worst = max(worst, dt)
        terms = sum(len(p) for p in g._ring[3].values())
        prog = g.program()
        print(f"n={n}, |D|={len(g.directed)}, |B|={len(g.bidirected):<6}"
              f"{len(prog.cycles):>7}{prog.n_paths:>7}{terms:>11}{dt:>8.2f}s")
    print(f"slowest: {worst:.2f} s (goal < 10 s)")
    return worst


def ideal_section():
    print("\n## 3. Vanishing-ideal search (mod-p interpolation + exact verification)")
    cases = [
        ("3-cycle + 3→4, degree 2", MixedGraph([(0, 1), (1, 2), (2, 0), (2, 3)]), 2),
        ("4-cycle, degree 3", MixedGraph([(0, 1), (1, 2), (2, 3), (3, 0)]), 3),
        ("4-cycle, degree 4", MixedGraph([(0, 1), (1, 2), (2, 3), (3, 0)]), 4),
        ("4-cycle + 0↔2, degree 4", MixedGraph([(0, 1), (1, 2), (2, 3), (3, 0)],
                                              [(0, 2)]), 4),
    ]
    for name, g, d in cases:
        t = time.perf_counter()
        polys = g.vanishing_ideal(d)
        print(f"{name:<28}{len(polys):>4} polynomials {time.perf_counter() - t:>8.2f}s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=100_000)
    a = ap.parse_args()
    dev = jax.devices()[0]
    print("# sem.graphs benchmark")
    print(f"machine: {platform.machine()} {platform.processor() or ''}, "
          f"{os.cpu_count()} CPUs, python {platform.python_version()}, "
          f"jax {jax.__version__} on {dev.platform} ({dev.device_kind}), load average "
          f"{os.getloadavg()[0]:.1f} at start")
    batch_section(a.batch)
    symbolic_section()
    ideal_section()


if __name__ == "__main__":
    main()
