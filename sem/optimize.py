"""A quasi-Newton minimiser written for one start and ``vmap``-ped over many.

BFGS on the inverse Hessian (Nocedal & Wright 2006, Alg. 6.1) with a backtracking
Armijo line search that uses safeguarded quadratic interpolation. Everything is inside
``lax.while_loop``, so one compiled call minimises a whole batch of starts or data sets;
``vmap`` turns the loops into masked loops that run until the slowest member stops and
leaves finished members unchanged.

Non-finite objective values (a covariance that is not positive definite, an I − A
that is singular) are treated as +∞: the line search shortens the step until the
objective is finite again.

Status codes (``STATUS`` maps them to text):

0  converged: ‖g‖∞ ≤ gtol
1  converged: the objective cannot decrease further within round-off and ‖g‖∞ ≤ gtol_loose
2  not converged: the iteration limit was reached
3  not converged: the line search failed (no decrease possible) with a large gradient
4  not converged: the objective or its gradient is not finite at the start
5  not converged: no progress beyond round-off while the gradient is still large
"""
from __future__ import annotations

from typing import Callable, NamedTuple

from .jaxconfig import jax, jnp

STATUS = {
    0: "converged",
    1: "converged (round-off limited)",
    2: "iteration limit reached",
    3: "line search failed",
    4: "non-finite objective at the start values",
    5: "stalled (no progress) with a large gradient",
}


class OptResult(NamedTuple):
    x: jnp.ndarray
    fun: jnp.ndarray
    grad: jnp.ndarray
    n_iter: jnp.ndarray
    status: jnp.ndarray

    @property
    def converged(self):
        return self.status <= 1


class _State(NamedTuple):
    x: jnp.ndarray
    f: jnp.ndarray
    g: jnp.ndarray
    H: jnp.ndarray
    k: jnp.ndarray
    status: jnp.ndarray     # -1 while running
    first: jnp.ndarray
    stall: jnp.ndarray      # iterations in a row without progress beyond round-off


def _line_search(fg, x, f, g, d, alpha0, max_ls, c1=1e-4):
    """Backtracking Armijo search; ``fg`` is traced once (inside the loop body)."""
    slope = jnp.dot(g, d)

    def cond(s):
        alpha, fa, ga, i, ok = s
        return (~ok) & (i < max_ls)

    def body(s):
        alpha, fa, ga, i, ok = s
        # first trial: alpha0; then shrink by safeguarded quadratic interpolation
        # when the last trial value was finite, else by 10
        denom = 2.0 * (fa - f - slope * alpha)
        quad = jnp.where(denom > 0, -slope * alpha * alpha / denom, 0.5 * alpha)
        shrunk = jnp.where(jnp.isfinite(fa), jnp.clip(quad, 0.1 * alpha, 0.5 * alpha),
                           0.1 * alpha)
        new = jnp.where(i == 0, alpha0, shrunk)
        fn, gn = fg(x + new * d)
        okn = jnp.isfinite(fn) & jnp.all(jnp.isfinite(gn)) & (fn <= f + c1 * new * slope)
        return new, fn, gn, i + 1, okn

    init = (alpha0, jnp.asarray(jnp.inf, f.dtype), g, 0, jnp.asarray(False))
    alpha, fa, ga, _, ok = jax.lax.while_loop(cond, body, init)
    return alpha, fa, ga, ok


def bfgs(fg: Callable, x0, *, H0=None, max_iter: int = 1000, gtol: float = 1e-8,
         gtol_loose: float = 1e-4, ftol: float = 1e-15, max_ls: int = 40) -> OptResult:
    """Minimise f from x0. ``fg(x) -> (f, g)``; pure and jittable.

    ``H0`` is an optional initial inverse-Hessian approximation; by default the
    identity, rescaled after the first step by sᵀy / yᵀy.
    """
    x0 = jnp.asarray(x0)
    n = x0.shape[0]
    f0, g0 = fg(x0)
    finite0 = jnp.isfinite(f0) & jnp.all(jnp.isfinite(g0))
    eye = jnp.eye(n, dtype=x0.dtype)
    Hs = eye if H0 is None else H0
    st0 = _State(x0, f0, g0, Hs, jnp.asarray(0), jnp.where(finite0, -1, 4),
                 jnp.asarray(H0 is None), jnp.asarray(0))

    def cond(s):
        return (s.status < 0) & (s.k < max_iter)

    def body(s):
        d = -s.H @ s.g
        descent = jnp.dot(d, s.g) < 0
        H = jnp.where(descent, s.H, eye)
        d = jnp.where(descent, d, -s.g)
        gnorm = jnp.linalg.norm(s.g)
        alpha0 = jnp.where(s.first, jnp.minimum(1.0, 1.0 / jnp.maximum(gnorm, 1e-300)), 1.0)
        alpha, fn, gn, ok = _line_search(fg, s.x, s.f, s.g, d, alpha0, max_ls)
        step = alpha * d
        xn = jnp.where(ok, s.x + step, s.x)
        fn = jnp.where(ok, fn, s.f)
        gn = jnp.where(ok, gn, s.g)
        y = gn - s.g
        sy = jnp.dot(step, y)
        # first step: scale the identity before the update (N&W eq. 6.20)
        yy = jnp.dot(y, y)
        H = jnp.where(s.first & (sy > 0) & (yy > 0), eye * sy / yy, H)
        rho = 1.0 / jnp.where(sy > 0, sy, 1.0)
        V = eye - rho * jnp.outer(step, y)
        Hn = V @ H @ V.T + rho * jnp.outer(step, step)
        update = ok & (sy > 1e-12 * jnp.linalg.norm(step) * jnp.linalg.norm(y))
        Hn = jnp.where(update, Hn, H)
        ginf = jnp.max(jnp.abs(gn))
        # progress below round-off for three iterations in a row ends the search
        tiny = ok & (s.f - fn <= ftol * (1.0 + jnp.abs(fn)))
        stall = jnp.where(tiny, s.stall + 1, 0)
        status = jnp.where(
            ginf <= gtol, 0,
            jnp.where(ok & (stall < 3), -1, jnp.where(ginf <= gtol_loose, 1,
                                                      jnp.where(ok, 5, 3))))
        return _State(xn, fn, gn, Hn, s.k + 1, status, s.first & ~ok, stall)

    # a start that is already optimal
    st0 = st0._replace(status=jnp.where(finite0 & (jnp.max(jnp.abs(g0)) <= gtol), 0,
                                        st0.status))
    s = jax.lax.while_loop(cond, body, st0)
    status = jnp.where(s.status < 0, 2, s.status)
    return OptResult(s.x, s.f, s.g, s.k, status)


def newton_polish(f: Callable, x, n_steps: int = 2):
    """A few Newton steps with the exact Hessian from a converged quasi-Newton point.

    Each step is taken only if the Hessian is positive definite and the objective does
    not increase; returns the polished point. Used before computing standard errors so
    that estimates are accurate to round-off (lavaan and OpenMx report ~1e-8).
    """
    grad = jax.grad(f)
    hess = jax.hessian(f)
    for _ in range(n_steps):
        g = grad(x)
        H = hess(x)
        L = jnp.linalg.cholesky(H)
        ok = jnp.all(jnp.isfinite(L))
        step = jax.scipy.linalg.cho_solve((L, True), g)
        xn = x - step
        better = ok & jnp.all(jnp.isfinite(step)) & (f(xn) <= f(x) + 1e-12 * (1 + jnp.abs(f(x))))
        x = jnp.where(better, xn, x)
    return x
