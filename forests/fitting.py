"""Batched fits of one node model under many case-weight vectors.

Every node of a tree, every child of every candidate split and every subsample of the
fair method is the *same* prepared data set under a different case-weight vector
w ∈ R^n (0/1 membership times bootstrap counts), so a whole level of a forest is one
compiled, ``vmap``-ped computation that never copies the data: only ``w`` (D, n), the
start u₀ (D, k) and the initial inverse Hessian H₀ (D, k, k) are batched. Batches are
cut into a few fixed chunk sizes, so nothing recompiles from node to node.

Each fit minimises f(u) = −ℓ(θ(u)) / Σw with the engine's BFGS (``sem.optimize.bfgs``;
θ(u) = exp(u) for parameters the problem keeps positive), warm-started at the parent's
estimate with the parent's inverse Hessian. After BFGS the Hessian H = ∇²f(û) is
computed (central differences of the automatic gradient): it is the per-case observed information in u coordinates (used by the score
tests), its inverse is the H₀ of the node's children, and it gives a scale-free
convergence check, the Newton decrement λ² = gᵀH⁻¹g (Boyd & Vandenberghe 2004, §9.5.1):
a fit counts as converged when BFGS says so, or when H is positive definite and the
log-likelihood is within Σw·λ²/2 ≤ ``ll_tol`` of the local maximum. (BFGS's absolute
gradient tolerance flags fits with a tiny residual variance as "line search failed"
although they are at the optimum to 1e-9; see the report of issue #6.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sem.estimation import maximize, register_cache, to_theta, to_unconstrained
from sem.jaxconfig import jax, jnp
from sem.linalg import cho_solve, cholesky
from sem.optimize import OptResult, bfgs

CHUNKS = (128, 8)         # batch sizes of fits (each compiles once per problem)
CASE_CHUNK = (16,)        # batch size of score and case log-likelihood evaluations
_COMPILED: dict = register_cache({})


@dataclass
class FitBatch:
    """Results of D fits (arrays with leading axis D)."""

    u: np.ndarray           # (D, k) estimates, unconstrained coordinates
    theta: np.ndarray       # (D, k)
    llf: np.ndarray         # (D,) weighted log-likelihood, −inf if not finite
    converged: np.ndarray   # (D,) bool
    status: np.ndarray      # (D,) BFGS status (sem.optimize.STATUS)
    n_iter: np.ndarray      # (D,)
    info: np.ndarray        # (D, k, k) ∇²f(û): per-case information in u coordinates
    h0: np.ndarray          # (D, k, k) its inverse (zeros where not positive definite)


def _chunks(D: int, sizes=CHUNKS):
    """(start, stop, size) pieces covering range(D); the last is padded to ``size``."""
    out, lo = [], 0
    for s in sizes:
        while D - lo >= s:
            out.append((lo, lo + s, s))
            lo += s
    if lo < D:
        out.append((lo, D, sizes[-1]))
    return out


def _objective(problem):
    summarize = getattr(problem, "summarize", lambda d: d)

    def prepare(data, w):
        return summarize(dict(data, w=w))

    def f(u, data):
        return -problem.loglik(to_theta(problem, u), data) / jnp.sum(data["w"])

    return prepare, f


def _value_and_grad(problem):
    """f and ∇f, jitted once per problem: inner calls reuse one trace of the
    likelihood (tracing, not compiling, dominates the first call of a small model)."""
    key = (problem.cache_key(), "value_and_grad")
    if key not in _COMPILED:
        _COMPILED[key] = jax.jit(jax.value_and_grad(_objective(problem)[1]))
    return _COMPILED[key]


def _fd_hessian(grad, x):
    """Hessian by central differences of the analytic gradient (k gradient pairs, one
    vmapped call; compiles faster than ``jax.hessian`` and is accurate to ~1e-9)."""
    h = 1e-5 * (1.0 + jnp.abs(x))
    E = jnp.diag(h)
    G = jax.vmap(lambda e: grad(x + e) - grad(x - e))(E) / (2.0 * h[:, None])
    return 0.5 * (G + G.T)


def _assess(problem):
    """Objective, gradient, Hessian, its inverse and the Newton decrement at u."""
    prepare, f = _objective(problem)
    fg = _value_and_grad(problem)

    def at(u, data):
        fu, g = fg(u, data)
        H = _fd_hessian(lambda v: fg(v, data)[1], u)
        L, pd = cholesky(H)                 # sem.linalg: no LAPACK call (see there)
        Hinv = cho_solve(L, jnp.eye(H.shape[0], dtype=H.dtype))
        dec = g @ (Hinv @ g)
        return fu, g, H, jnp.where(pd, Hinv, 0.0), jnp.where(pd, dec, jnp.inf)

    return prepare, f, at


def _fit_one(problem, max_iter, gtol):
    prepare, f, at = _assess(problem)
    fg = _value_and_grad(problem)

    def one(u0, w, H0, data):
        data = prepare(data, w)
        res = bfgs(lambda u: fg(u, data), u0, H0=H0,
                   max_iter=max_iter, gtol=gtol)
        _, _, H, Hinv, dec = at(res.x, data)
        return res, H, Hinv, dec

    return one


def _compiled(problem, kind: str, **opts):
    key = (problem.cache_key(), kind, tuple(sorted(opts.items())))
    fn = _COMPILED.get(key)
    if fn is not None:
        return fn
    prepare, f = _objective(problem)
    if kind == "fit":
        fn = jax.vmap(_fit_one(problem, **opts), in_axes=(0, 0, 0, None))
    elif kind == "assess":
        _, _, at = _assess(problem)
        fn = lambda u, w, data: at(u, prepare(data, w))  # noqa: E731
    elif kind == "scores":
        def scores(u, w, data):
            d = prepare(data, w)
            return jax.jacfwd(lambda v: problem.loglik_cases(to_theta(problem, v), d))(u)
        fn = jax.vmap(scores, in_axes=(0, 0, None))
    elif kind == "cases":
        def cases(u, w, data):
            return problem.loglik_cases(to_theta(problem, u), prepare(data, w))
        fn = jax.vmap(cases, in_axes=(0, 0, None))
    else:  # pragma: no cover
        raise ValueError(kind)
    fn = jax.jit(fn)
    _COMPILED[key] = fn
    return fn


class NodeFitter:
    """Batched estimation, scores and case log-likelihoods of one problem on one
    prepared data set under many weight vectors.

    ``sequential=True`` fits one weight vector at a time through
    ``sem.estimation.maximize`` (the way a non-batched implementation refits every
    candidate split); ``bench/forest_bench.py`` compares the two.
    """

    def __init__(self, problem, data: dict, *, max_iter: int = 500, gtol: float = 1e-8,
                 ll_tol: float = 1e-6, sequential: bool = False, chunks=CHUNKS):
        self.problem = problem
        self.k = int(problem.n_params)
        self.w0 = np.asarray(data["w"], dtype=float)
        self.n = self.w0.shape[0]
        self.data_np = data
        self.data = {key: jnp.asarray(v) for key, v in data.items() if key != "w"}
        self.max_iter, self.gtol, self.ll_tol = int(max_iter), float(gtol), float(ll_tol)
        self.sequential = sequential
        self.chunks = tuple(chunks)
        self.n_fits = 0

    # -- helpers -----------------------------------------------------------------
    def u_of(self, theta) -> np.ndarray:
        return to_unconstrained(self.problem, theta)

    def theta_of(self, U) -> np.ndarray:
        U = np.atleast_2d(U)
        pos = np.asarray(self.problem.positive, dtype=bool)
        return np.where(pos, np.exp(np.where(pos, U, 0.0)), U)

    def _run(self, fn, arrays, chunks=None):
        """Apply a batched function over chunks of the leading axis of ``arrays``."""
        D = arrays[0].shape[0]
        outs = []
        for lo, hi, size in _chunks(D, chunks or self.chunks):
            idx = np.arange(lo, lo + size)
            idx = np.where(idx < hi, idx, lo)          # pad with the first member
            res = fn(*[jnp.asarray(a[idx]) for a in arrays], self.data)
            outs.append(jax.tree_util.tree_map(lambda x: np.asarray(x)[: hi - lo], res))
        return jax.tree_util.tree_map(lambda *xs: np.concatenate(xs), *outs)

    # -- fits --------------------------------------------------------------------
    def fit(self, W, U0, H0=None) -> FitBatch:
        """Fit under case weights ``W`` (D, n) (the data's own weights already
        multiplied in) from starts ``U0`` (D, k) (unconstrained) with
        initial inverse Hessians ``H0`` (D, k, k) (zeros: none)."""
        W = np.atleast_2d(np.asarray(W, dtype=float))
        D, k = W.shape[0], self.k
        U0 = np.broadcast_to(np.asarray(U0, dtype=float), (D, k))
        H0 = np.zeros((D, k, k)) if H0 is None else np.broadcast_to(H0, (D, k, k))
        self.n_fits += D
        if D == 0:
            z = np.zeros((0, k))
            return FitBatch(z, z, np.zeros(0), np.zeros(0, bool), np.zeros(0, int),
                            np.zeros(0, int), np.zeros((0, k, k)), np.zeros((0, k, k)))
        if self.sequential:
            res, H, Hinv, dec = self._fit_sequential(W, U0, H0)
        else:
            fn = _compiled(self.problem, "fit", max_iter=self.max_iter, gtol=self.gtol)
            res, H, Hinv, dec = self._run(fn, [U0, W, H0])
        nw = W.sum(1)
        fun = np.asarray(res.fun)
        llf = np.where(np.isfinite(fun), -fun * nw, -np.inf)
        status = np.asarray(res.status)
        ok = np.isfinite(llf) & np.all(np.isfinite(res.x), axis=1)
        converged = ok & ((status <= 1) | (nw * np.asarray(dec) / 2 <= self.ll_tol))
        converged &= np.all(np.isfinite(H), axis=(1, 2))
        u = np.asarray(res.x)
        return FitBatch(u, self.theta_of(u), llf, converged, status,
                        np.asarray(res.n_iter), np.asarray(H), np.asarray(Hinv))

    def _fit_sequential(self, W, U0, H0):
        """One ``sem.estimation.maximize`` call per weight vector (for comparison)."""
        assess = _compiled(self.problem, "assess")
        outs = []
        for w, u0, h0 in zip(W, U0, H0):
            data = dict(self.data_np, w=w)
            opt = maximize(self.problem, data, self.theta_of(u0)[0][None],
                           max_iter=self.max_iter, gtol=self.gtol, H0=h0)
            u = self.u_of(opt.theta)
            fu, g, H, Hinv, dec = assess(jnp.asarray(u), jnp.asarray(w), self.data)
            res = OptResult(u, fu, g, opt.n_iter, opt.status)
            outs.append(jax.tree_util.tree_map(np.asarray, (res, H, Hinv, dec)))
        return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *outs)

    def jacobi_h0(self, u, w) -> np.ndarray | None:
        """diag(1/|∇²f|) at u: the engine's Jacobi preconditioner, for problems that
        ask for one (``problem.precondition``; badly scaled mixtures)."""
        _, _, H, _, _ = _compiled(self.problem, "assess")(jnp.asarray(u), jnp.asarray(w),
                                                           self.data)
        d = np.abs(np.diag(np.asarray(H)))
        if not np.all(np.isfinite(d)) or d.max() <= 0:
            return None
        return np.diag(1.0 / np.maximum(d, 1e-8 * d.max()))

    # -- per-case quantities -------------------------------------------------------
    def scores(self, U, W) -> np.ndarray:
        """Per-case scores ∂ℓ_i/∂u (D, n, k) at ``U`` (D, k); ``W`` (D, n) only enters
        data-derived quantities (e.g. the saturated mean of a model without means)."""
        W = np.atleast_2d(np.asarray(W, dtype=float))
        fn = _compiled(self.problem, "scores")
        return self._run(fn, [np.atleast_2d(U), W], CASE_CHUNK)

    def loglik_cases(self, U, W) -> np.ndarray:
        """Per-case log-likelihoods (D, n) at ``U`` (D, k); ``W`` as in ``scores``."""
        W = np.atleast_2d(np.asarray(W, dtype=float))
        fn = _compiled(self.problem, "cases")
        return self._run(fn, [np.atleast_2d(U), W], CASE_CHUNK)
