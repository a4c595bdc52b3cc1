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
