"""The same growth mixture fitted by Bayes (numpyro's NUTS), for small samples where
maximum likelihood is shaky.

The log-posterior is the model's exact log-likelihood (``GrowthProblem.loglik``, the
same function ML maximises) plus weakly informative priors on θ, scaled to the data:

* factor intercepts α ~ N(ȳ, (10 s_y)²) for the level, N(0, (10 s_y / span_t)²) for the
  other factors; expert effects β ~ N(0, (10 s_y)²);
* nonlinear parameters: the knot uniform on the observed time range, rates N(0, 10²);
* Cholesky entries of Ψ ~ N(0, (10 s_y)²); log θ ~ N(log s_y², 3²);
* covariate means μx ~ N(0, 10²) and Cholesky entries of Φ ~ N(0, 10²);
* gating coefficients ~ N(0, 2.5²) (Gelman et al. 2008's default for logistic
  regression).

Chains start at the ML estimate (``init``), which also keeps class labels from
switching within a chain for separated classes; reported quantities (original scale,
shares) are computed for every draw with the ML report function.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sem.estimation import seed_to_int
from sem.jaxconfig import jax, jnp

from .report import report_function, report_spec


def log_prior_function(model, arrays):
    lay, curve = model.layout, model.curve
    y = arrays["Y"][arrays["mask"]]
    t = arrays["T"][arrays["mask"]]
    ybar, sy = float(y.mean()), float(y.std() + 1e-8)
    span = float(np.ptp(t) + 1e-8)
    lo, hi = float(t.min()), float(t.max())
    loc = np.zeros(lay.size)
    scale = np.full(lay.size, 10.0)
    uniform = np.zeros(lay.size, dtype=bool)
    for b in lay.blocks:
        sl = slice(b.start, b.start + b.size)
        if b.name == "alpha":
            loc[b.start] = ybar
            scale[sl] = 10 * sy / span
            scale[b.start] = 10 * sy
        elif b.name in ("psi", "beta"):
            scale[sl] = 10 * sy
        elif b.name == "logtheta":
            loc[sl], scale[sl] = np.log(sy ** 2), 3.0
        elif b.name == "nl" and curve.name == "bilinear_spline":
            uniform[sl] = True
        elif b.name == "gate":
            scale[sl] = 2.5
    loc, scale, uniform = jnp.asarray(loc), jnp.asarray(scale), jnp.asarray(uniform)

    def log_prior(theta):
        z = (theta - loc) / scale
        normal = jnp.sum(jnp.where(uniform, 0.0, -0.5 * z * z))
        inside = jnp.all(jnp.where(uniform, (theta > lo) & (theta < hi), True))
        return jnp.where(inside, normal, -jnp.inf)

    return log_prior


def fit_bayes(model, data, y=None, t=None, *, num_warmup: int = 500,
              num_samples: int = 1000, num_chains: int = 1, seed=0, init=None,
              progress: bool = False, **prepare):
    """NUTS draws; returns (summary DataFrame, draws DataFrame of reported parameters).

    ``init`` — a θ to start the chains at; by default the ML estimate from
    ``model.fit`` with its defaults."""
    import numpyro
    from numpyro.diagnostics import summary
    from numpyro.infer import MCMC, NUTS

    gd = model.prepare(data, y, t, **prepare)
    jd = {k: jnp.asarray(v) for k, v in gd.arrays.items()}
    prob = model.problem()
    if init is None:
        init = model.fit(data, y, t, warn=False, se="none", **prepare).theta
    log_prior = log_prior_function(model, gd.arrays)

    def potential(theta):
        return -(prob.loglik(theta, jd) + log_prior(theta))

    kernel = NUTS(potential_fn=potential)
    mcmc = MCMC(kernel, num_warmup=num_warmup, num_samples=num_samples,
                num_chains=num_chains, progress_bar=progress, chain_method="sequential")
    init = jnp.broadcast_to(jnp.asarray(init), (num_chains, prob.n_params)) \
        if num_chains > 1 else jnp.asarray(init)
    mcmc.run(jax.random.PRNGKey(seed_to_int(seed)), init_params=init)
    draws = mcmc.get_samples(group_by_chain=True)                    # C, S, k
    g = report_function(model.layout, model.curve, prob.class_prior)
    rep = jax.vmap(jax.vmap(lambda th: g(th, jd)))(draws)             # C, S, r
    names = [r["name"] for r in report_spec(model.layout, model.curve, dict(
        experts=model.experts, gating=model.gating, tvc=model._tvc_names(), outcome="y"))]
    with warnings.catch_warnings():   # r_hat is undefined (NaN) with one chain
        warnings.simplefilter("ignore", RuntimeWarning)
        s = summary({"r": np.asarray(rep)}, prob=0.95, group_by_chain=True)["r"]
    tab = pd.DataFrame({"mean": s["mean"], "sd": s["std"], "2.5%": s["2.5%"],
                        "97.5%": s["97.5%"], "n_eff": s["n_eff"], "r_hat": s["r_hat"]},
                       index=names)
    flat = np.asarray(rep).reshape(-1, len(names))
    return tab, pd.DataFrame(flat, columns=names)
