"""The BFGS minimiser alone and its pooled form (``bfgs_pool``): every task of a pool
ends exactly where its own ``bfgs`` run ends, whatever the slot count."""
import numpy as np
import pytest

from sem.jaxconfig import jax, jnp
from sem.optimize import bfgs, bfgs_pool


def rosenbrock(x, a):
    """A scaled Rosenbrock valley; ``a`` changes the iterations each task needs."""
    f = jnp.sum(a * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    return f


A = jnp.asarray([1.0, 3.0, 10.0, 30.0, 100.0, 2.0, 50.0])
X0 = jnp.asarray(np.random.default_rng(0).normal(size=(7, 4)))


def one_by_one(H0, max_iter):
    out = []
    for t in range(7):
        fg = jax.value_and_grad(lambda x: rosenbrock(x, A[t]))
        h = H0[t] if H0.ndim == 3 else H0
        out.append(bfgs(fg, X0[t], H0=h, max_iter=max_iter))
    return out


@pytest.mark.parametrize("slots, per_task", [(1, False), (3, True), (7, False), (20, True)])
def test_pool_equals_one_run_per_task(slots, per_task):
    H0 = (jnp.stack([jnp.eye(4) * (0.1 + 0.1 * t) for t in range(7)]) if per_task
          else jnp.zeros((4, 4)))
    fg = jax.value_and_grad(lambda x, t: rosenbrock(x, A[t]))
    pool = jax.jit(lambda X, H: bfgs_pool(fg, X, H, slots, max_iter=500))(X0, H0)
    ref = one_by_one(H0, 500)
    iters = [int(r.n_iter) for r in ref]
    assert len(set(iters)) > 3                       # the tasks differ in length
    for t, r in enumerate(ref):
        np.testing.assert_allclose(pool.x[t], r.x, rtol=1e-12, atol=1e-14)
        assert int(pool.n_iter[t]) == int(r.n_iter) and int(pool.status[t]) == int(r.status)
        assert float(pool.fun[t]) == pytest.approx(float(r.fun), abs=1e-15)
    assert np.all(np.asarray(pool.status) <= 1)


def test_pool_reports_the_iteration_limit():
    fg = jax.value_and_grad(lambda x, t: rosenbrock(x, A[t]))
    pool = bfgs_pool(fg, X0, jnp.zeros((4, 4)), 3, max_iter=6)
    assert np.all(np.asarray(pool.n_iter) == 6) and np.all(np.asarray(pool.status) == 2)
    ref = one_by_one(jnp.zeros((4, 4)), 6)
    np.testing.assert_allclose(pool.x, np.stack([r.x for r in ref]), rtol=1e-12)


def _state_after_a_step(g):
    """A BFGS state past its first step at x = 0 with f = 12, gradient g, H = I."""
    from sem.optimize import bfgs_init

    s = bfgs_init(jnp.zeros(3), jnp.eye(3))
    return s._replace(f=jnp.asarray(12.0), g=g, Hg=g, k=jnp.asarray(5))


@pytest.mark.parametrize("df, slope_ratio, accepted", [
    (-1e-6, 0.5, True),      # a real decrease: Armijo
    (3e-15, 0.5, True),      # f up by round-off, the slope halved: approximate Wolfe
    (3e-15, 1.5, False),     # f up by round-off, but the step overshot (slope reversed)
    (3e-15, -0.95, False),   # f up by round-off, the slope barely changed (too short)
    (1e-9, 0.5, False),      # f up beyond round-off
])
def test_steps_near_the_optimum_are_judged_by_the_slope(df, slope_ratio, accepted):
    """``bfgs_step``'s acceptance: Armijo, or within ``FLAT`` of f the approximate Wolfe
    conditions (2c₁ − 1) gᵀd ≥ gₙᵀd ≥ σ gᵀd. d = −g here, so gₙ = −ratio · g gives
    gₙᵀd = ratio · |g|² = −ratio · gᵀd."""
    from sem.optimize import bfgs_step

    g = jnp.asarray([1e-7, -2e-7, 5e-8])
    s = _state_after_a_step(g)
    new = bfgs_step(lambda x: (s.f + df, -slope_ratio * g), s)
    moved = bool(jnp.any(new.x != s.x))
    assert moved == accepted
    assert int(new.fails) == (0 if accepted else 1)


def test_bootstrap_refits_reach_the_gradient_tolerance(hs):
    """On 200 resampled Holzinger–Swineford frames the fits stop at ‖∇f‖∞ ≤ gtol
    (status 0; all 200 on the development VM, at least 198 asked for, since round-off
    differs between CPUs). With Armijo's test alone 12 of them stopped 'round-off
    limited' (status 1): f ≈ 12 holds the last decrease below its own round-off."""
    from sem import Model
    from tests.conftest import HS_MODEL

    rng = np.random.default_rng(5)
    frames = [hs.iloc[rng.integers(0, len(hs), len(hs))].reset_index(drop=True)
              for _ in range(200)]
    out = Model(HS_MODEL).fit_many(frames, se="none")
    status = np.array([r.opt.status for r in out])
    assert (status <= 1).all() and (status == 0).sum() >= 198
