"""Shrinkage covariance estimators for more variables than samples.

Used by the compositional statistics in the way of Jin, Notredame & Erb (2022,
"Compositional covariance shrinkage and regularised partial correlations",
arXiv 2212.00496): shrink the covariance of the *log basis* B = log C(x), then map it
to the clr covariance Γ = G C_B G, which has rank exactly D-1 whatever n is.

Estimators (input Y of shape (n, p), output (p, p)):

- ``"basis"`` / :func:`schafer_strimmer_covariance`: Schäfer & Strimmer (2005, Stat.
  Appl. Genet. Mol. Biol. 4:32, target "D": correlations shrunk towards 0) with the
  variances shrunk towards their median (Opgen-Rhein & Strimmer 2007, Stat. Appl.
  Genet. Mol. Biol. 6:9). This is the estimator Jin et al. use. Written here from the
  papers' formulas.
- ``"ledoit-wolf"``: scikit-learn's :class:`~sklearn.covariance.LedoitWolf`
  ((1-δ)S + δ·μI, Ledoit & Wolf 2004).
- ``"oas"``: scikit-learn's :class:`~sklearn.covariance.OAS` (Chen et al. 2010).

Every estimator is returned with divisor n - ddof (scikit-learn's divisor-n estimates
are rescaled by n/(n - ddof); the shrinkage intensity is scale-free), so that partial
variances keep the same convention as the plain estimator.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError

METHODS = ("basis", "ledoit-wolf", "oas")


def schafer_strimmer_covariance(Y: Any) -> tuple[np.ndarray, float, float]:
    """Schäfer-Strimmer shrinkage covariance of Y (n, p), divisor n - 1.

    With standardized columns y*_k (sd with divisor n-1), w_kij = y*_ki y*_kj,
    w̄_ij = mean_k w_kij, r_ij = n/(n-1) w̄_ij and
    Var̂(r_ij) = n/(n-1)^3 Σ_k (w_kij - w̄_ij)^2, the correlation intensity is

        λ = Σ_{i≠j} Var̂(r_ij) / Σ_{i≠j} r_ij^2        (clipped to [0, 1])

    and r*_ij = (1 - λ) r_ij for i ≠ j. With v_i the sample variances,
    w_ki = (y_ki - ȳ_i)^2 and Var̂(v_i) = n/(n-1)^3 Σ_k (w_ki - w̄_i)^2, the variance
    intensity towards the median m of the v_i is

        λ_v = Σ_i Var̂(v_i) / Σ_i (v_i - m)^2           (clipped to [0, 1])

    and v*_i = λ_v m + (1 - λ_v) v_i. Returns (diag(√v*) R* diag(√v*), λ, λ_v), shape
    (p, p). Raises ``DataError`` if a column is constant or n < 3.
    """
    Y = np.asarray(Y, dtype=np.float64)
    n, p = Y.shape
    if n < 3:
        raise DataError(f"shrinkage needs at least 3 samples; got {n}")
    C = Y - Y.mean(axis=0)
    W1 = C**2                                    # w_ki, (n, p)
    v = W1.sum(axis=0) / (n - 1)
    if np.any(v <= 0):
        raise DataError(f"shrinkage: columns {np.flatnonzero(v <= 0).tolist()} are "
                        "constant")
    var_v = n / (n - 1) ** 3 * ((W1 - W1.mean(axis=0)) ** 2).sum(axis=0)
    m = np.median(v)
    denom_v = ((v - m) ** 2).sum()
    lam_v = 1.0 if denom_v == 0 else float(np.clip(var_v.sum() / denom_v, 0.0, 1.0))
    v_star = lam_v * m + (1.0 - lam_v) * v

    S = C / np.sqrt(v)                           # standardized
    Wbar = S.T @ S / n                           # w̄_ij
    r = n / (n - 1) * Wbar
    sum_w2 = (S**2).T @ (S**2)                   # Σ_k w_kij^2
    var_r = n / (n - 1) ** 3 * (sum_w2 - n * Wbar**2)
    off = ~np.eye(p, dtype=bool)
    denom = (r[off] ** 2).sum()
    lam = 1.0 if denom == 0 else float(np.clip(var_r[off].sum() / denom, 0.0, 1.0))
    R = (1.0 - lam) * r
    np.fill_diagonal(R, 1.0)
    sd = np.sqrt(v_star)
    return sd[:, None] * R * sd[None, :], lam, lam_v


def shrunk_covariance(Y: np.ndarray, method: str, ddof: int = 1) -> tuple[np.ndarray, dict]:
    """Covariance of Y (n, p) by a shrinkage ``method`` (see module doc), divisor
    n - ddof. Returns (cov (p, p), info) with info = {"shrinkage": method,
    "intensity": λ, and for "basis" also "variance_intensity": λ_v}."""
    n = Y.shape[0]
    if method == "basis":
        cov, lam, lam_v = schafer_strimmer_covariance(Y)
        return cov * (n - 1) / (n - ddof), {"shrinkage": method, "intensity": lam,
                                            "variance_intensity": lam_v}
    if method in ("ledoit-wolf", "oas"):
        from sklearn.covariance import OAS, LedoitWolf

        est = (LedoitWolf if method == "ledoit-wolf" else OAS)().fit(Y)
        return est.covariance_ * n / (n - ddof), {"shrinkage": method,
                                                  "intensity": float(est.shrinkage_)}
    raise ValueError(f"unknown shrinkage {method!r}; choose one of {METHODS} or None")
