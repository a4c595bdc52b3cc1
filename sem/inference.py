"""Standard errors, Wald tests and the delta method, written once for every model.

* observed information  I_obs = −∂²ℓ/∂θ∂θᵀ (exact, by automatic differentiation);
* expected information  — supplied by the model when it has one (Gaussian SEMs);
* robust (Huber–White sandwich)  V = I⁻¹ B I⁻¹ with B = Σ_i w_i s_i s_iᵀ, s_i the
  per-case scores ∂ℓ_i/∂θ;
* delta method  Cov g(θ̂) = J Cov(θ̂) Jᵀ, J = ∂g/∂θ by automatic differentiation.

A singular information matrix means the model is not (locally) identified at the
estimate; ``invert_information`` reports which parameters span the null space.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .jaxconfig import jax, jnp


@dataclass
class Inverted:
    cov: np.ndarray
    singular: bool
    min_eigenvalue: float
    null_params: list            # indices of parameters in the null space


def invert_information(info: np.ndarray, rtol: float = 1e-9) -> Inverted:
    """Inverse of a symmetric information matrix, with a rank check."""
    info = 0.5 * (info + info.T)
    k = info.shape[0]
    if k == 0:
        return Inverted(np.zeros((0, 0)), False, np.inf, [])
    if not np.all(np.isfinite(info)):
        return Inverted(np.full((k, k), np.nan), True, np.nan, list(range(k)))
    # scale to unit diagonal so the rank test does not depend on units
    d = np.sqrt(np.abs(np.diag(info)))
    d = np.where(d > 0, d, 1.0)
    R = info / np.outer(d, d)
    ev, vec = np.linalg.eigh(R)
    tol = rtol * max(1.0, ev[-1])
    if ev[0] <= tol:
        null = vec[:, ev <= tol]
        w = np.sqrt((null ** 2).sum(1))
        params = [int(i) for i in np.argsort(-w) if w[i] > 0.1]
        cov = np.linalg.pinv(R) / np.outer(d, d)
        return Inverted(cov, True, float(ev[0]), params)
    cov = (vec / ev) @ vec.T / np.outer(d, d)
    return Inverted(0.5 * (cov + cov.T), False, float(ev[0]), [])


def sandwich(bread_inv: np.ndarray, scores: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Huber–White covariance A⁻¹ (Σ w_i s_i s_iᵀ) A⁻¹."""
    meat = (scores * w[:, None]).T @ scores
    return bread_inv @ meat @ bread_inv


def delta_method(fun, theta, cov):
    """Values, covariance and Jacobian of g(θ) at θ̂ with Cov(θ̂) = ``cov``."""
    theta = jnp.asarray(theta)
    val = np.asarray(fun(theta))
    J = np.asarray(jax.jacfwd(fun)(theta)).reshape(val.size, theta.shape[0])
    return val, J @ cov @ J.T, J


def wald_table(est, se, level: float = 0.95) -> pd.DataFrame:
    """z, two-sided p-value and the Wald confidence interval."""
    est = np.asarray(est, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    p = 2 * stats.norm.sf(np.abs(z))
    q = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame({"z": z, "pvalue": p, "ci.lower": est - q * se,
                         "ci.upper": est + q * se})


def intervals(params: pd.Series, bse: pd.Series, alpha: float = 0.05,
              bootstrap: pd.DataFrame | None = None) -> pd.DataFrame:
    """Confidence intervals of reported parameters (columns lower, upper): Wald
    est ± z·se, or with ``bootstrap`` (draws, one column per parameter plus a boolean
    ``converged``) the percentile intervals of the converged draws. Fewer than 2/α
    converged draws cannot place both tails and raise."""
    from .errors import SpecificationError

    names = list(params.index)
    if bootstrap is None:
        t = wald_table(params, bse, 1 - alpha)
        return pd.DataFrame({"lower": t["ci.lower"].to_numpy(),
                             "upper": t["ci.upper"].to_numpy()}, index=names)
    missing = [n for n in names + ["converged"] if n not in bootstrap]
    if missing:
        raise SpecificationError(f"bootstrap draws lack the columns {missing[:5]}: pass "
                                 "the draws of this fit's bootstrap")
    ok = bootstrap[bootstrap["converged"].astype(bool)]
    if len(ok) < 2 / alpha:
        raise SpecificationError(f"{len(ok)} converged bootstrap draws cannot give "
                                 f"{1 - alpha:.0%} percentile intervals; draw at least "
                                 f"{int(np.ceil(2 / alpha))}")
    q = ok[names].quantile([alpha / 2, 1 - alpha / 2]).to_numpy()
    return pd.DataFrame({"lower": q[0], "upper": q[1]}, index=names)

