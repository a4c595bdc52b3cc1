"""The XLA CPU deadlock of batched LAPACK kernels (see sem/jaxconfig.py) must not
return: the reproducer of ../shared/probes (a vmapped gradient of a mixture likelihood
with batched Cholesky and triangular solves, over 40 data sets) runs in a subprocess
that must finish within the timeout."""
import os
import subprocess
import sys
import textwrap

import sem.jaxconfig as cfg

REPRO = textwrap.dedent('''
    import sem                       # configures JAX first, as every package does
    import jax, jax.numpy as jnp
    J, K, n, R = 10, 2, 300, 40

    def loglik(p, Y, T):
        def cls(k):
            g = p["knot"][k]
            L = jnp.stack([jnp.ones_like(T), jnp.minimum(T, g), jnp.maximum(T - g, 0.)], -1)
            m = jnp.einsum("njf,f->nj", L, p["alpha"][k])
            S = jnp.einsum("njf,fg,nkg->njk", L, p["psi"][k], L) + jnp.eye(J)
            C = jnp.linalg.cholesky(S)
            z = jax.scipy.linalg.solve_triangular(C, (Y - m)[..., None], lower=True)[..., 0]
            return -0.5 * jnp.sum(z ** 2, -1) - jnp.sum(jnp.log(jnp.diagonal(C, axis1=-2, axis2=-1)), -1)
        ll = jnp.stack([cls(k) for k in range(K)], -1)
        return jax.scipy.special.logsumexp(ll + jnp.log(0.5), -1).sum()

    key = jax.random.PRNGKey(0)
    p = {"knot": jnp.array([3.5, 5.5]), "alpha": jnp.array([[98., 5., 2.6], [102., 3.8, 1.5]]),
         "psi": jnp.stack([jnp.diag(jnp.array([25., 1., 1.]))] * K)}
    T = jnp.arange(J)[None, :] + 0.25 * jax.random.uniform(key, (n, J))
    Y = 100 + 3 * T + jax.random.normal(key, (R, n, J))
    f = jax.jit(jax.vmap(jax.grad(loglik), in_axes=(None, 0, None)))
    out = f(p, Y, T)
    jax.block_until_ready(out)
    print("returned", out["knot"].shape)
''')


def test_batched_lapack_gradient_returns():
    assert cfg.XLA_WORKAROUND, "the deadlock workaround is not in effect"
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    proc = subprocess.run([sys.executable, "-c", REPRO], capture_output=True, text=True,
                          timeout=240, env=env,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "returned (40, 2)" in proc.stdout


def test_flag_is_set_in_environment():
    assert "xla_cpu_enable_concurrency_optimized_scheduler=false" in os.environ["XLA_FLAGS"]
