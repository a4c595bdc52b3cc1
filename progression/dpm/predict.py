"""Forecasts of the progression model: predictive quantiles and diagnosis probabilities.

For subject i with Laplace posterior b_i ~ N(b̂_i, L_iL_iᵀ), L_iL_iᵀ = H_i⁻¹ the inverse
observed information of its two effects,, D draws b⁽ᵐ⁾ give disease times s⁽ᵐ⁾ at the forecast
ages. For a biomarker k, given b⁽ᵐ⁾ the subject offset has the conjugate posterior
u_ik | b, y ~ N(ω²S₁/(σ² + nω²), ω²σ²/(σ² + nω²)) (S₁ the sum of the subject's
residuals, n their number), so a future value is N(f_k(s⁽ᵐ⁾) + E[u], Var[u] + σ_k²).
The predictive distribution is the mixture over draws; its quartiles and median are
read off R stratified normal quantiles per draw (D·R values, sorted), the median being
the point forecast (it minimises the expected absolute error, which MAE scores).
Diagnosis probabilities are the ordinal model's probabilities averaged over draws.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from sem.jaxconfig import jax, jnp

from .likelihood import Layout, dx_logprobs, marker_means, offset_moments, stage_at

_JIT: dict = {}


def _one_subject(theta, d, b_hat, L, ages, zb, zy, targets, lo, hi, mean, sd,
                 layout: Layout):
    P = layout.unpack(theta)
    bs = b_hat + zb @ L.T                                    # (D, 2)
    s_hist = jax.vmap(lambda b: stage_at(b, P, d, d["t"]))(bs)          # (D, T)
    r = d["Y"][None] - marker_means(s_hist, jnp.broadcast_to(d["t"] + d["abar"],
                                                             s_hist.shape), P)
    n, S1, _ = jax.vmap(lambda rr: offset_moments(rr, d["obs"]))(r)     # (D, K)
    s2, o2 = P["sigma"] ** 2, P["omega"] ** 2
    mu_u = o2 * S1 / (s2 + n * o2)
    var = o2 * s2 / (s2 + n * o2) + s2                                  # (D, K)
    s_fut = jax.vmap(lambda b: stage_at(b, P, d, ages - d["abar"]))(bs)  # (D, M)
    m = marker_means(s_fut, jnp.broadcast_to(ages, s_fut.shape), P)     # (D, M, K)
    loc = (m + mu_u[:, None, :])[..., targets]                         # (D, M, J)
    scale = jnp.sqrt(var)[:, None, targets]
    draws = loc[:, None] + scale[:, None] * zy[None, :, None, None]    # (D, R, M, J)
    draws = jnp.clip(draws * sd + mean, lo, hi)
    flat = draws.reshape((-1,) + draws.shape[2:])
    q = jnp.quantile(flat, jnp.array([0.5, 0.25, 0.75]), axis=0)       # (3, M, J)
    probs = jnp.mean(jnp.exp(dx_logprobs(s_fut, P)), axis=0)            # (M, 3)
    return probs, jnp.moveaxis(q, 0, -1)                                # (M, J, 3)


def predictive(theta, data, b_hat, L, ages, layout: Layout, targets, bounds, scaler, *,
               n_draws: int, seed: int, n_strata: int = 4, chunk: int = 256):
    """Diagnosis probabilities (n, M, 3) and, per target j, estimate / lower / upper
    (n, M, J, 3) on the original scale. ``ages`` (n, M) forecast ages − a_ref."""
    rng = np.random.default_rng(seed)
    zb = rng.standard_normal((n_draws, 2))
    zy = ndtri((np.arange(n_strata) + 0.5) / n_strata)
    targets = np.asarray(targets)
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    mean, sd = scaler.mean[targets], scaler.sd[targets]
    key = (layout, len(targets), n_draws, n_strata)
    fn = _JIT.get(key)
    if fn is None:
        def batch(theta, d, bh, HH, ag, zb, zy, tg, lo, hi, mean, sd):
            return jax.vmap(lambda dd, b, h, a: _one_subject(
                theta, dd, b, h, a, zb, zy, tg, lo, hi, mean, sd, layout))(d, bh, HH, ag)
        fn = _JIT[key] = jax.jit(batch)
    n = ages.shape[0]
    keys = ("t", "abar", "Y", "obs", "x")
    probs, quant = [], []
    for start in range(0, n, chunk):
        idx = np.arange(start, start + chunk) % n     # pad the last chunk (static shape)
        d = {k: jnp.asarray(np.asarray(data[k])[idx]) for k in keys}
        p, q = fn(jnp.asarray(theta), d, jnp.asarray(b_hat[idx]), jnp.asarray(L[idx]),
                  jnp.asarray(ages[idx]), jnp.asarray(zb), jnp.asarray(zy), targets,
                  jnp.asarray(lo), jnp.asarray(hi), jnp.asarray(mean), jnp.asarray(sd))
        take = min(chunk, n - start)
        probs.append(np.asarray(p)[:take])
        quant.append(np.asarray(q)[:take])
    return np.concatenate(probs), np.concatenate(quant)
