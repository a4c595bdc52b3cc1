"""Class enumeration: fit K = 1..K_max classes and compare them.

The table has, per K, the log-likelihood, the number of parameters, AIC, BIC
(log N persons, as OpenMx/nlpsem), the sample-size-adjusted BIC (N* = (N + 2)/24;
Sclove 1987), the relative entropy, the smallest class share, convergence and how many
starts replicated the best log-likelihood, and optionally the bootstrap likelihood
ratio test of K − 1 against K classes (McLachlan 1987; Nylund, Asparouhov & Muthén
2007): data are drawn from the fitted (K − 1)-class model with the persons' own
times, missingness pattern and gating covariates, both models are refitted to every
draw — all draws in one batched call (``GrowthMixture.fit_many``) — and
p = (1 + #{LR_b ≥ LR}) / (B + 1).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sem.errors import check_count
from sem.estimation import seed_to_int
from sem.jaxconfig import jnp

from .data import GrowthData
from .mixture import GrowthMixture


@dataclass
class ClassEnumeration:
    table: pd.DataFrame
    fits: dict = field(default_factory=dict)

    @property
    def best_bic(self) -> int:
        return int(self.table.loc[self.table["BIC"].idxmin(), "K"])

    def __repr__(self):
        return self.table.to_string(index=False)


def simulate_from_fit(res, n_draws: int, seed=0) -> list[GrowthData]:
    """Parametric-bootstrap data sets from a fitted model, keeping each person's
    times, missingness pattern, gating covariates (and, for conditional experts, the
    expert covariates and time-varying covariates)."""
    model, gd = res.model, res.data
    lay, curve = model.layout, model.curve
    a = gd.arrays
    rng = np.random.default_rng(seed_to_int(seed))
    th = jnp.asarray(res.theta)
    prior = np.asarray(res.problem.class_prior(th, {k: jnp.asarray(v) for k, v in a.items()}))
    parts = [{k: np.asarray(v) for k, v in lay.unpack_class(th, k).items()}
             for k in range(lay.K)]
    n, J = a["Y"].shape
    Lams = [curve.loadings(a["T"], p["nl"], p["alpha"], xp=np) for p in parts]
    out = []
    for _ in range(n_draws):
        cls = (rng.random((n, 1)) > prior.cumsum(1)).sum(1).clip(0, lay.K - 1)
        Y = np.zeros((n, J))
        Xe = a["Xe"].copy()
        for k, p in enumerate(parts):
            idx = np.nonzero(cls == k)[0]
            if not idx.size:
                continue
            if lay.pe and lay.joint:
                Xe[idx] = p["mux"] + rng.normal(size=(idx.size, lay.pe)) @ p["Lphi"].T
            eta = p["alpha"] + (Xe[idx] @ p["beta"].T if lay.pe else 0.0)
            eta = eta + rng.normal(size=(idx.size, curve.q)) @ p["L"].T
            Y[idx] = np.einsum("njq,nq->nj", Lams[k][idx], eta) + rng.normal(
                0, np.sqrt(p["theta"]), (idx.size, J))
            if lay.pz:
                Y[idx] += a["Z"][idx] @ p["kappa"]
        arrays = dict(a, Y=np.where(a["mask"], Y, 0.0), Xe=Xe)
        out.append(GrowthData(arrays, gd.ids, gd.y_names, gd.gating, gd.experts, gd.tvc))
    return out


def blrt(small, large, n_boot: int = 99, *, n_starts: int = 5, seed=0) -> dict:
    """Bootstrap LRT of ``small`` (K − 1 classes) against ``large`` (K classes), both
    ``GrowthMixtureResults`` on the same data."""
    lr = 2 * (large.llf - small.llf)
    draws = simulate_from_fit(small, n_boot, seed)
    # the larger model may have gating covariates the smaller one lacks
    Xg = large.data.arrays["Xg"]
    draws_large = [GrowthData(dict(d.arrays, Xg=Xg), d.ids, d.y_names, large.data.gating,
                              d.experts, d.tvc) for d in draws]
    a = small.model.fit_many(draws, n_starts=n_starts, seed=seed, se="none", warn=False)
    b = large.model.fit_many(draws_large, n_starts=n_starts, seed=seed + 1, se="none",
                             warn=False)
    lrb = np.array([2 * (y.llf - x.llf) for x, y in zip(a, b)])
    ok = np.array([x.converged and y.converged for x, y in zip(a, b)])
    lrb = lrb[ok]
    p = (1 + np.sum(lrb >= lr)) / (lrb.size + 1)
    return dict(LR=lr, p=float(p), n_boot=int(lrb.size), n_failed=int((~ok).sum()),
                LR_boot=lrb)


def enumerate_classes(data, y=None, t=None, *, id=None, time=None, outcome=None,
                      weights=None, k_max: int = 4, curve="bilinear_spline",
                      gating=None, experts=None, n_starts: int = 20, seed=0,
                      blrt_draws: int = 0, progress: bool = True, **model_options
                      ) -> ClassEnumeration:
    """Fit K = 1..k_max classes (``GrowthMixture`` arguments pass through) and
    tabulate the fit statistics; ``blrt_draws > 0`` adds the bootstrap LRT. Data as
    in ``GrowthMixture.fit``: wide (``y``, ``t``) or long (``id``, ``time``,
    ``outcome``)."""
    from tqdm.auto import tqdm

    check_count(k_max, "k_max")

    rows, fits = [], {}
    bar = tqdm(range(1, k_max + 1), desc="classes", disable=not progress)
    for K in bar:
        m = GrowthMixture(curve, K, gating=gating if K > 1 else None, experts=experts,
                          **model_options)
        r = m.fit(data, y, t, id=id, time=time, outcome=outcome, weights=weights,
                  n_starts=n_starts, seed=seed, warn=False)
        fits[K] = r
        share = r.posterior.to_numpy().mean(0).min()
        row = dict(K=K, n_params=r.n_params, logL=r.llf, AIC=r.aic, BIC=r.bic,
                   SABIC=r.sabic, entropy=r.entropy if K > 1 else np.nan,
                   smallest_share=share, converged=r.converged, replicated=r.replicated,
                   boundary="; ".join(r.boundary))
        if blrt_draws and K > 1:
            test = blrt(fits[K - 1], r, blrt_draws, seed=seed_to_int(seed) + K)
            row.update(BLRT_LR=test["LR"], BLRT_p=test["p"])
        rows.append(row)
    return ClassEnumeration(pd.DataFrame(rows), fits)
