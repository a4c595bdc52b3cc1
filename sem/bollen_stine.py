"""The Bollen–Stine bootstrap test of model fit (lavaan's ``test = "bollen.stine"``,
``bootstrapLavaan(fit, type = "bollen.stine")``).

The χ² test assumes multivariate normal data; with heavy tails it rejects too often.
Bollen & Stine (1992, Sociological Methods & Research 21(2)) bootstrap the statistic's
distribution under the model instead: the data are first transformed so that the
model holds exactly in them,

    Z = (Y − ȳ) S^(−½) Σ̂^(½) + μ̂        (symmetric square roots; μ̂ = 0 without means)

(Z's biased covariance is Σ̂ and its mean μ̂, while it keeps the data's shape: their
kurtosis, skewness and outliers), the cases of Z are resampled B times, the model is
refitted to each draw and its χ² T*_b computed; the p-value is the share of draws whose
T*_b exceeds the sample's T (lavaan's ``sum(T.boot > chisq) / length(T.boot)``, over
the draws that converged).

The draws are case weights over Z, summarised once
(``sem.estimation.summarize_weighted``) and refitted in one compiled call
(``maximize_many``), each warm-started at θ̂, which is Z's own estimate. Each T*_b = 2(ℓ₁ − ℓ₀) from the draw's
weighted moments (the unrestricted ℓ₁ in closed form) and its fitted ℓ₀; with fixed covariates both are the joint likelihoods, whose difference
is the conditional statistic. Complete data of one group without case weights, as
lavaan's (which refuses missing data too)."""
from __future__ import annotations

import math

import numpy as np

from .errors import DataError
from .estimation import (bootstrap_weights, maximize_many, seed_to_int,
                         summarize_weighted)


def _sym_power(A: np.ndarray, power: float) -> np.ndarray:
    """A^power of a symmetric positive definite matrix, symmetric (eigen-decomposition)."""
    lam, V = np.linalg.eigh(A)
    return (V * lam ** power) @ V.T


def transformed_data(Y: np.ndarray, Sigma: np.ndarray, mu=None) -> np.ndarray:
    """Bollen and Stine's Z = (Y − ȳ) S^(−½) Σ̂^(½) + μ̂ (μ̂ None: means 0): biased
    covariance Σ̂ and mean μ̂ exactly."""
    Y = np.asarray(Y, dtype=float)
    c = Y - Y.mean(axis=0)
    S = c.T @ c / len(Y)
    Z = c @ _sym_power(S, -0.5) @ _sym_power(np.asarray(Sigma, dtype=float), 0.5)
    return Z if mu is None else Z + np.asarray(mu, dtype=float)


def _saturated_logliks(work: dict) -> np.ndarray:
    """ℓ₁ of the unrestricted normal model of each draw's weighted summary (complete
    data, one pattern: ``sem.estimation.summarize_weighted``): −½ n (p log 2π +
    log|S_b| + p), S_b the draw's biased covariance."""
    n, S = np.asarray(work["nP"])[:, 0], np.asarray(work["SP"])[:, 0]
    p = S.shape[-1]
    return -0.5 * n * (p * math.log(2 * math.pi) + np.linalg.slogdet(S)[1] + p)


def bollen_stine(res, n_boot: int = 1000, seed=0, chunk: int | None = None) -> dict:
    """The Bollen–Stine bootstrap p-value of the fit ``res`` (``SEMResults``): a dict
    with chisq (the sample's T), pvalue, n_boot, n_converged (the draws whose refit
    converged, over which the p-value is taken) and boot (their T*, in draw order)."""
    spec = res.spec
    d = res.data
    if spec.problem.has_defvars:
        raise NotImplementedError("the Bollen-Stine bootstrap with definition variables "
                                  "(each case has its own implied moments)")
    if not np.all(d["obs"]):
        raise DataError("the Bollen-Stine bootstrap needs complete data (as lavaan's): "
                        "the transformation to the model's moments is not defined "
                        "with missing values")
    if not np.allclose(d["w"], 1.0):
        raise DataError("the Bollen-Stine bootstrap of case-weighted data is not "
                        "defined (fit the data without weights)")
    T = float(res.fit_measures["chisq"])
    Sigma, mu = (np.asarray(a) for a in res.implied())
    Z = transformed_data(d["Y"], Sigma, mu if spec.problem.meanstructure else None)
    n = Z.shape[0]
    W = bootstrap_weights(np.random.default_rng(seed_to_int(seed)), n, n_boot)
    H0 = None
    if res.identified and not spec.problem.positive.any():
        H0 = np.asarray(res.cov_theta) * res.nobs
    # the draws' weighted summaries, once: the refits and their ℓ₁ both read them
    work = summarize_weighted(spec.problem, dict(d, Y=Z), W, chunk)
    starts = np.broadcast_to(res.theta, (n_boot, 1, len(res.theta)))
    opts = maximize_many(spec.problem, work, starts, chunk=chunk, H0=H0)
    ll0 = np.array([o.llf for o in opts])
    ok = np.array([o.converged for o in opts])
    Tb = 2.0 * (_saturated_logliks(work) - ll0)
    Tb = Tb[ok]
    return {"chisq": T, "pvalue": float(np.mean(Tb > T)) if len(Tb) else np.nan,
            "n_boot": int(n_boot), "n_converged": int(ok.sum()), "boot": Tb}
