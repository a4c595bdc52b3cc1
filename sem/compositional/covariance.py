"""Second moments of log-ratios: the clr covariance, the variation matrix and
proportionality.

For a composition table X of shape (n, D) with clr coordinates Z = clr(X):

- clr covariance      Γ = cov(Z), (D, D), symmetric, Γ1 = 0, rank ≤ D - 1
- variation matrix    T_ij = var(log(x_i / x_j)) = Γ_ii + Γ_jj - 2Γ_ij   (Aitchison 1986,
                      def. 4.3; R ``compositions::clrvar2variation``)
- proportionality     ρ_p(i, j) = 1 - T_ij / (Γ_ii + Γ_jj) = 2Γ_ij / (Γ_ii + Γ_jj)
                      (Lovell et al. 2015, PLoS Comput. Biol. 11:e1004075; Erb &
                      Notredame 2016, Theory Biosci. 135:21-36; propr's "rho")

All three are invariant to closure and to the choice of log-ratio coordinates.
Covariances use divisor n - ddof (ddof = 1 by default).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError
from ._inputs import Parts, check_for_statistics, out_square, read_parts
from .shrinkage import shrunk_covariance
from .transforms import _clr_values


def centring_matrix(D: int) -> np.ndarray:
    """G = I_D - 11ᵀ/D, the orthogonal projector onto 1^⊥; shape (D, D)."""
    return np.eye(D) - 1.0 / D


def check_ddof(P: Parts, ddof: int) -> None:
    if not isinstance(ddof, (int, np.integer)) or not 0 <= ddof < P.n:
        raise DataError(f"ddof must be an integer in 0..n-1 = 0..{P.n - 1}; got {ddof!r}")


def clr_cov_values(P: Parts, ddof: int = 1, shrinkage: str | None = None
                   ) -> tuple[np.ndarray, dict]:
    """Γ (D, D) for validated parts, and an info dict (empty for the plain estimator).

    Plain: Γ = Zcᵀ Zc / (n - ddof) with Zc the column-centred clr table.
    Shrunk: Γ = G C_B G with C_B the shrinkage covariance of B = log C(x)
    (Jin, Notredame & Erb 2022); without shrinkage G cov(B) G equals the plain Γ.
    """
    check_ddof(P, ddof)
    if shrinkage is None:
        Z = _clr_values(P.values)
        Zc = Z - Z.mean(axis=0)
        G = Zc.T @ Zc / (P.n - ddof)
        return (G + G.T) / 2, {}
    B = np.log(P.values / P.values.sum(axis=1, keepdims=True))
    CB, info = shrunk_covariance(B, shrinkage, ddof)
    Gm = centring_matrix(P.D)
    G = Gm @ CB @ Gm
    return (G + G.T) / 2, info


def clr_covariance(X: Any, ddof: int = 1, shrinkage: str | None = None) -> Any:
    """The clr covariance Γ = cov(clr(X)), shape (D, D), labelled by the parts.

    ``shrinkage``: None (sample covariance, divisor n - ddof) or one of "basis",
    "ledoit-wolf", "oas" (see :mod:`sem.compositional.shrinkage`); for a DataFrame the
    shrinkage intensity is recorded in ``.attrs``.
    """
    P = read_parts(X)
    check_for_statistics(P)
    G, info = clr_cov_values(P, ddof, shrinkage)
    out = out_square(G, P)
    if hasattr(out, "attrs"):
        out.attrs.update(info)
    return out


def variation_matrix(X: Any, ddof: int = 1) -> Any:
    """T_ij = var(log(x_i / x_j)) (divisor n - ddof), shape (D, D), zero diagonal."""
    P = read_parts(X)
    if P.n < 2:
        raise DataError(f"X: at least two samples are needed; got {P.n}")
    G, _ = clr_cov_values(P, ddof)
    d = np.diag(G)
    T = np.maximum(d[:, None] + d[None, :] - 2.0 * G, 0.0)
    np.fill_diagonal(T, 0.0)
    return out_square(T, P)


def proportionality(X: Any) -> Any:
    """ρ_p(i, j) = 2Γ_ij / (Γ_ii + Γ_jj), shape (D, D), unit diagonal.

    1 means perfect proportionality (x_i/x_j constant), -1 perfect reciprocality.
    Raises ``DataError`` if two parts both have constant clr (0/0).
    """
    P = read_parts(X)
    if P.n < 2:
        raise DataError(f"X: at least two samples are needed; got {P.n}")
    G, _ = clr_cov_values(P)
    d = np.diag(G)
    den = d[:, None] + d[None, :]
    np.fill_diagonal(den, 1.0)
    if np.any(den <= 0):
        bad = [str(P.parts[j]) for j in np.flatnonzero(d <= 0)]
        raise DataError(f"X: parts {bad} have constant clr values; ρ_p is undefined")
    rho = 2.0 * G / den
    np.fill_diagonal(rho, 1.0)
    return out_square(rho, P)
