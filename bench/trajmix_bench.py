"""Fit time of the two-class bilinear-spline full mixture of experts (n persons,
10 occasions, 2 gating and 2 expert covariates, 20 random starts), cold and warm,
beside a plain numpy/scipy implementation of the same likelihood timed in the same run.

The peer is what one writes without trajmix: the per-person J × J Cholesky likelihood in
numpy (batched over persons), minimised by scipy's L-BFGS-B with finite-difference
gradients (as OpenMx does for algebra-defined loadings), from the same start. It runs
one start (20 would take many minutes); the table scales it to 20.

    python bench/trajmix_bench.py [--n 500] [--starts 20] [--skip-peer]

Prints a table; ratios are what to compare across machines.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TRAJMIX_COMPILE_CACHE", "off")   # "cold" must compile
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from scipy import optimize  # noqa: E402
from scipy.special import logsumexp  # noqa: E402

from sem.jaxconfig import jax, jnp  # noqa: E402
from trajmix.simulate import liu_perera_population, simulate  # noqa: E402

Y = [f"Y{j}" for j in range(1, 11)]
T = [f"T{j}" for j in range(1, 11)]


def numpy_loglik(model, theta, a):
    """The same mixture log-likelihood with a full J × J Cholesky per person."""
    lay = model.layout
    n = a["Y"].shape[0]
    G = np.zeros((lay.K, 1 + lay.pg))
    G[1:] = theta[lay.find("gate", None).start:][:G[1:].size].reshape(lay.K - 1, -1)
    eta_g = np.column_stack([np.ones(n), a["Xg"]]) @ G.T
    logpi = eta_g - logsumexp(eta_g, axis=1, keepdims=True)
    cols = []
    for k in range(lay.K):
        al = theta[lay.find("alpha", k).start:][:3]
        g = theta[lay.find("nl", k).start]
        L = np.zeros((3, 3))
        L[lay.tri] = theta[lay.find("psi", k).start:][:6]
        th = np.exp(theta[lay.find("logtheta", k).start])
        B = theta[lay.find("beta", k).start:][:6].reshape(3, 2)
        mux = theta[lay.find("mux", k).start:][:2]
        Lp = np.zeros((2, 2))
        Lp[lay.tri_e] = theta[lay.find("phi", k).start:][:3]
        t = a["T"]
        Lam = np.stack([np.ones_like(t), t - g, np.abs(t - g)], -1)
        mean = np.einsum("njq,nq->nj", Lam, al + a["Xe"] @ B.T)
        S = Lam @ (L @ L.T) @ np.swapaxes(Lam, 1, 2) + th * np.eye(10)
        C = np.linalg.cholesky(S)
        z = np.linalg.solve(C, (a["Y"] - mean)[..., None])[..., 0]
        ll = -0.5 * (10 * np.log(2 * np.pi) + 2 * np.log(np.diagonal(C, 0, 1, 2)).sum(1)
                     + (z ** 2).sum(1))
        Phi = Lp @ Lp.T
        r = a["Xe"] - mux
        ll += -0.5 * (2 * np.log(2 * np.pi) + np.log(np.linalg.det(Phi))
                      + np.einsum("ni,ij,nj->n", r, np.linalg.inv(Phi), r))
        cols.append(ll)
    return logsumexp(np.stack(cols, 1) + logpi, axis=1).sum()


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--starts", type=int, default=20)
    ap.add_argument("--skip-peer", action="store_true")
    args = ap.parse_args(argv)
    model, theta = liu_perera_population("full")
    df = simulate(model, theta, args.n, seed=1)
    rows = []

    t0 = time.perf_counter()
    r = model.fit(df, y=Y, t=T, n_starts=args.starts, seed=0)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = model.fit(df, y=Y, t=T, n_starts=args.starts, seed=0)
    warm = time.perf_counter() - t0
    rows.append(("trajmix fit, all starts, cold (compiles)", cold, r.llf))
    rows.append(("trajmix fit, all starts, warm", warm, r.llf))

    gd = model.prepare(df, y=Y, t=T)
    prob = model.problem()
    jd = {k: jnp.asarray(v) for k, v in gd.arrays.items()}
    vg = jax.jit(jax.value_and_grad(prob.loglik))
    th0 = model.start(gd)
    jax.block_until_ready(vg(jnp.asarray(th0), jd))
    t0 = time.perf_counter()
    for _ in range(50):
        jax.block_until_ready(vg(jnp.asarray(th0), jd))
    t_vg = (time.perf_counter() - t0) / 50
    t0 = time.perf_counter()
    for _ in range(20):
        numpy_loglik(model, th0, gd.arrays)
    t_np = (time.perf_counter() - t0) / 20
    print(f"check: numpy and trajmix log-likelihoods agree to "
          f"{abs(numpy_loglik(model, th0, gd.arrays) - float(prob.loglik(jnp.asarray(th0), jd))):.2e}")

    if not args.skip_peer:
        f = lambda th: -numpy_loglik(model, th, gd.arrays) / args.n  # noqa: E731
        t0 = time.perf_counter()
        out = optimize.minimize(f, th0, method="L-BFGS-B",
                                options=dict(maxfun=200000, maxiter=5000, ftol=1e-13,
                                             gtol=1e-8))
        peer = time.perf_counter() - t0
        rows.append(("numpy + scipy L-BFGS-B (FD gradient), 1 start", peer, -out.fun * args.n))
        rows.append((f"  scaled to {args.starts} starts", peer * args.starts, np.nan))

    print(f"\nn = {args.n}, J = 10, K = 2, full MoE (47 parameters), {args.starts} starts; "
          f"device: {jax.devices()[0].platform}")
    print(f"{'':52}{'seconds':>10}{'logL':>14}")
    for name, sec, ll in rows:
        print(f"{name:52}{sec:10.2f}{ll:14.3f}")
    print(f"\none log-likelihood + gradient: trajmix {t_vg * 1e3:.2f} ms; numpy log-likelihood "
          f"alone {t_np * 1e3:.2f} ms (a finite-difference gradient needs 48 of them)")
    if not args.skip_peer:
        print(f"ratio (scipy, {args.starts} starts) / (trajmix warm, {args.starts} starts): "
              f"{rows[-1][1] / warm:.0f}x")


if __name__ == "__main__":
    main()
