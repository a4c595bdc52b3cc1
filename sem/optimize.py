"""A quasi-Newton minimiser written for one start and ``vmap``-ped over many.

BFGS on the inverse Hessian (Nocedal & Wright 2006, Alg. 6.1) with a backtracking
Armijo line search (safeguarded quadratic interpolation). Everything is inside one
``lax.while_loop``, so one compiled call minimises a whole batch of starts or data
sets; ``vmap`` turns the loop into a masked loop that runs until the slowest member
stops and leaves finished members unchanged.

**One objective evaluation per iteration.** The backtracking search is *flattened*
into the outer loop: an iteration evaluates one trial point x + αd; if Armijo's
condition holds the step is taken and the inverse Hessian updated, otherwise x stays,
α shrinks and the next iteration tries again along the same direction. Under ``vmap``
a nested line-search loop would make every member wait, at every iteration, for the
member needing the most trials; flattened, each iteration costs exactly one batched
evaluation (on 1000 bootstrap fits of a CFA this halves the time).

**Pooled runs** (``bfgs_pool``, used by ``maximize_many`` on a CPU). A ``vmap`` of
``bfgs`` runs its members in lockstep until the slowest stops. The pool keeps a fixed
number of slots busy instead: ``bfgs_step`` is the loop body, and a slot whose run
stops stores its result and starts the next task at the next iteration. Each task's
iterates are exactly those of its own ``bfgs`` run (tests/sem/test_optimize.py).
On 1000 bootstrap refits of the Holzinger–Swineford CFA (31 slots) this halved the
solve (0.43 → 0.20 s).

Non-finite objective values (a covariance that is not positive definite, an I − A
that is singular) are treated as +∞: the step shrinks until the objective is finite.

**Steps judged by the derivative near the optimum.** Close to the optimum the decrease
a step can bring, about ½ gᵀH g, falls below the round-off of f itself (on the
Holzinger–Swineford CFA f ≈ 12, so 1e-15 relative is ~1e-14, while ‖g‖ of 1e-8 buys a
decrease of ~1e-16). Armijo's test f(x + αd) ≤ f(x) + c₁α gᵀd is then decided by
round-off, rejects good steps, and the run either spends iterations shrinking α or
stops "round-off limited" with ‖g‖ above gtol. A step whose value stays within
``FLAT`` of f(x) (relative) is therefore also accepted when its directional derivative
meets the derivative form of Armijo's condition, gₙᵀd ≤ (2c₁ − 1) gᵀd (exact for a
quadratic, where f(x + d) − f(x) = ½ (g + gₙ)ᵀd), and the curvature condition
gₙᵀd ≥ σ gᵀd, which keeps out steps too short to have changed the slope (Hager &
Zhang 2005, SIAM J. Optim. 16(1), the "approximate Wolfe" conditions, σ = 0.9). On
1000 HS bootstrap frames this took the fits stopping at ‖g‖∞ ≤ gtol from 934 to 999
and the mean iterations from 18.1 to 17.2 (``bootstrap``: 17.2 → 16.5); the estimates
moved by at most 1.1e-7.

Status codes (``STATUS`` maps them to text):

0  converged: ‖g‖∞ ≤ gtol
1  converged: the objective cannot decrease further within round-off, and ‖g‖∞ ≤
   gtol_loose or the predicted decrease ½ gᵀHg is below 1e-10 (1 + |f|)
2  not converged: the iteration limit was reached
3  not converged: the line search failed (no decrease possible) with a large gradient
4  not converged: the objective or its gradient is not finite at the start
5  not converged: no progress beyond round-off while the gradient is still large
"""
from __future__ import annotations

from typing import Callable, NamedTuple

from .jaxconfig import jax, jnp
from .linalg import cho_solve, cholesky

#: relative change of f within which a step is judged by its directional derivative
#: (``bfgs_step``): some thousand units in the last place of f
FLAT = 1e-12
#: the curvature condition of that judgement, gₙᵀd ≥ σ gᵀd (Hager & Zhang's σ)
WOLFE = 0.9

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
    Hg: jnp.ndarray         # H g (the next direction is −H g; stored, not recomputed)
    alpha: jnp.ndarray      # next trial step length
    fa: jnp.ndarray         # objective at the last failed trial (for interpolation)
    fails: jnp.ndarray      # consecutive failed trials along the current direction
    first: jnp.ndarray      # no step taken yet: scale H before the first update
    stall: jnp.ndarray      # accepted steps in a row without progress beyond round-off
    k: jnp.ndarray
    status: jnp.ndarray     # -1 while running


def bfgs_init(x0, H0=None) -> _State:
    """The state before the first iteration (which evaluates x0 itself)."""
    x0 = jnp.asarray(x0)
    n = x0.shape[0]
    eye = jnp.eye(n, dtype=x0.dtype)
    if H0 is None:
        H0 = jnp.zeros((n, n), dtype=x0.dtype)
    given = jnp.any(H0 != 0)
    H = jnp.where(given, H0, eye)
    inf = jnp.asarray(jnp.inf, x0.dtype)
    return _State(x0, inf, jnp.zeros_like(x0), H, jnp.zeros_like(x0),
                  jnp.asarray(1.0, x0.dtype), inf,
                  jnp.asarray(0), ~given, jnp.asarray(0), jnp.asarray(0), jnp.asarray(-1))


def bfgs_result(s: _State) -> OptResult:
    return OptResult(s.x, s.f, s.g, s.k, jnp.where(s.status < 0, 2, s.status))


def bfgs(fg: Callable, x0, *, H0=None, max_iter: int = 2000, gtol: float = 1e-8,
         gtol_loose: float = 1e-4, ftol: float = 1e-15, max_ls: int = 40,
         c1: float = 1e-4) -> OptResult:
    """Minimise f from x0. ``fg(x) -> (f, g)``; pure and jittable.

    ``H0`` is an optional initial inverse-Hessian approximation (an array; all zeros
    means "none"). Without one the identity is used, rescaled after the first step by
    sᵀy / yᵀy. A good H0 (the inverse Hessian of a related fit: the full sample for a
    bootstrap draw) cuts the iterations several-fold. ``max_iter`` counts objective
    evaluations, the first being x0 itself: ``max_iter=1`` evaluates at x0 only
    (``max_iter=0`` evaluates nothing and returns fun = inf).
    """
    opts = dict(gtol=gtol, gtol_loose=gtol_loose, ftol=ftol, max_ls=max_ls, c1=c1)
    # The objective is traced once, in the loop body (half the compile time): the
    # first iteration evaluates x0 itself, as a "step" of length 0 that f = +inf accepts.
    s = jax.lax.while_loop(lambda s: (s.status < 0) & (s.k < max_iter),
                           lambda s: bfgs_step(fg, s, **opts), bfgs_init(x0, H0))
    return bfgs_result(s)


def bfgs_step(fg: Callable, s: _State, *, gtol: float = 1e-8, gtol_loose: float = 1e-4,
              ftol: float = 1e-15, max_ls: int = 40, c1: float = 1e-4) -> _State:
    """One BFGS iteration (one evaluation of ``fg``): the loop body of ``bfgs``."""
    eye = jnp.eye(s.x.shape[0], dtype=s.x.dtype)
    d = -s.Hg
    descent = jnp.dot(d, s.g) < 0
    Hd = jnp.where(descent, s.H, eye)        # reset a non-descent approximation
    d = jnp.where(descent, d, -s.g)
    slope = jnp.dot(s.g, d)
    step = s.alpha * d
    fn, gn = fg(s.x + step)
    # Armijo, or near the optimum where f's round-off hides the decrease, Hager and
    # Zhang's approximate Wolfe conditions (see the module docstring)
    armijo = fn <= s.f + c1 * s.alpha * slope
    dslope = jnp.dot(gn, d)
    flat = ((fn - s.f <= FLAT * (1.0 + jnp.abs(s.f)))
            & (dslope <= (2 * c1 - 1) * slope) & (dslope >= WOLFE * slope))
    ok = jnp.isfinite(fn) & jnp.all(jnp.isfinite(gn)) & (armijo | flat)

    # --- accepted: BFGS update ------------------------------------------------
    y = gn - s.g
    sy = jnp.dot(step, y)
    yy = jnp.dot(y, y)
    Hs = jnp.where(s.first & (sy > 0) & (yy > 0), eye * sy / jnp.maximum(yy, 1e-300), Hd)
    rho = 1.0 / jnp.where(sy > 0, sy, 1.0)
    Hy = Hs @ y                              # O(n²) form of (I−ρsyᵀ)H(I−ρysᵀ)+ρssᵀ
    Hn = (Hs - rho * (jnp.outer(step, Hy) + jnp.outer(Hy, step))
          + (rho * rho * jnp.dot(y, Hy) + rho) * jnp.outer(step, step))
    curv = sy > 1e-12 * jnp.linalg.norm(step) * jnp.linalg.norm(y)
    H_acc = jnp.where(curv, Hn, Hs)
    tiny = s.f - fn <= ftol * (1.0 + jnp.abs(fn))
    stall_acc = jnp.where(tiny, s.stall + 1, 0)

    # --- rejected: shrink the step (quadratic interpolation, or /10 if +inf) ----
    denom = 2.0 * (fn - s.f - slope * s.alpha)
    quad = jnp.where(denom > 0, -slope * s.alpha * s.alpha / denom, 0.5 * s.alpha)
    shrunk = jnp.where(jnp.isfinite(fn), jnp.clip(quad, 0.1 * s.alpha, 0.5 * s.alpha),
                       0.1 * s.alpha)
    fails = jnp.where(ok, 0, s.fails + 1)
    too_small = shrunk * jnp.max(jnp.abs(d)) <= 1e-16 * (1.0 + jnp.max(jnp.abs(s.x)))

    start = s.k == 0
    x = jnp.where(ok, s.x + step, s.x)
    f = jnp.where(ok, fn, s.f)
    g = jnp.where(ok, gn, s.g)
    H = jnp.where(start, s.H, jnp.where(ok, H_acc, Hd))
    gnorm = jnp.linalg.norm(g)
    alpha_first = jnp.where(s.first, jnp.minimum(1.0, 1.0 / jnp.maximum(gnorm, 1e-300)),
                            1.0)
    alpha = jnp.where(ok, jnp.where(start, alpha_first, 1.0), shrunk)
    stall = jnp.where(ok & ~start, stall_acc, s.stall)
    ginf = jnp.max(jnp.abs(g))
    # the predicted decrease ½ gᵀHg is scale-free: a parameter with a tiny scale (a
    # variance of 0.006) has a large gradient at an optimum reached to round-off
    Hg = H @ g
    small = (ginf <= gtol_loose) | (0.5 * jnp.dot(g, Hg) <= 1e-10 * (1.0 + jnp.abs(f)))
    failed = ~ok & ((fails >= max_ls) | too_small)
    status = jnp.where(
        start & ~ok, 4,
        jnp.where(
            ok & (ginf <= gtol), 0,
            jnp.where(ok & (stall >= 3), jnp.where(small, 1, 5),
                      jnp.where(failed, jnp.where(small, 1, 3), -1))))
    first = s.first & ~(ok & ~start)
    return _State(x, f, g, H, Hg, alpha, fn, fails, first, stall, s.k + 1, status)


def bfgs_pool(fg: Callable, X0, H0, slots: int, *, max_iter: int = 2000,
              **opts) -> OptResult:
    """Minimise T problems ``fg(x, t) -> (f, g)`` (t the task index) from X0 (T, k),
    ``slots`` of them side by side, each slot taking the next task as soon as its own
    stops.

    Under ``vmap`` a batch of BFGS runs moves in lockstep until its slowest member
    stops: on 1000 bootstrap fits of a CFA in batches of 31, 42 iterations per fit were
    paid for 29 needed. Here a slot that stops writes its result and starts the next
    task at the following iteration, so the batch stays full and the cost is the mean
    number of iterations, not the batch maximum. ``H0`` is one initial inverse Hessian
    (k, k) for all tasks or one per task (T, k, k); all zeros means none. Returns the
    ``OptResult`` of every task (leading axis T)."""
    T, k = X0.shape
    B = max(1, min(int(slots), T))
    per_task = H0.ndim == 3

    def h0(t):
        return H0[t] if per_task else H0

    step = jax.vmap(lambda s, t: bfgs_step(lambda x: fg(x, t), s, **opts))
    init = jax.vmap(lambda t: bfgs_init(X0[t], h0(t)))
    task = jnp.arange(B)
    dtype = X0.dtype
    out = OptResult(jnp.zeros((T + 1, k), dtype), jnp.zeros(T + 1, dtype),
                    jnp.zeros((T + 1, k), dtype), jnp.zeros(T + 1, jnp.int32),
                    jnp.zeros(T + 1, jnp.int32))

    def cond(c):
        return jnp.any(c[1] < T)

    def body(c):
        s, task, nxt, out = c
        active = task < T
        s = step(s, jnp.minimum(task, T - 1))          # idle slots recompute a task
        stop = active & ((s.status >= 0) | (s.k >= max_iter))
        r = bfgs_result(s)
        w = jnp.where(stop, task, T)                   # row T: a sink for the rest
        out = OptResult(*(o.at[w].set(v.astype(o.dtype)) for o, v in zip(out, r)))
        new = nxt + jnp.cumsum(stop) - 1
        take = stop & (new < T)
        task = jnp.where(stop, jnp.where(take, new, T), task)
        fresh = init(jnp.minimum(task, T - 1))
        s = jax.tree_util.tree_map(
            lambda a, b: jnp.where(take.reshape((B,) + (1,) * (a.ndim - 1)), a, b), fresh, s)
        return s, task, nxt + jnp.sum(stop), out

    c = jax.lax.while_loop(cond, body, (init(task), task, jnp.asarray(B), out))
    return OptResult(*(o[:T] for o in c[3]))


def newton_polish(f: Callable, x, n_steps: int = 2):
    """A few Newton steps with the exact Hessian from a converged quasi-Newton point.

    Each step is taken only if the Hessian is positive definite and the objective does
    not increase; returns the polished point.
    """
    grad = jax.grad(f)
    hess = jax.hessian(f)
    for _ in range(n_steps):
        g = grad(x)
        H = hess(x)
        L, ok = cholesky(H)
        step = cho_solve(L, g)
        xn = x - step
        better = ok & jnp.all(jnp.isfinite(step)) & (f(xn) <= f(x) + 1e-12 * (1 + jnp.abs(f(x))))
        x = jnp.where(better, xn, x)
    return x
