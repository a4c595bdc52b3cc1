r"""Compositional partial correlations and partial variances (Erb 2020, after
Aitchison 1986).

Notation: X is (n, D), l = log x, Γ = cov(clr(x)) (D, D) of rank D - 1,
Ω = Γ⁺ (its Moore-Penrose inverse, the *clr precision*), alr_r(x) = F_r l with
F_r the (D-1, D) matrix of rows e_iᵀ - e_rᵀ (i ≠ r), Σ_r = cov(alr_r(x)).

Definitions (Erb 2020, "Partial correlations in compositional data analysis",
Applied Computing and Geosciences 6:100026, arXiv 1904.09480):

    partial correlation of parts i, j given all other parts   ρ_ij = -Ω_ij / √(Ω_ii Ω_jj)
    partial variance of part i given all other parts           π_i  = 1 / Ω_ii

**Proposition (reference independence).** For every reference r,
Σ_r⁻¹ = Ω with row and column r deleted. Hence the partial correlations and partial
variances of the log-ratios log(x_i/x_r), each adjusted for all the other log-ratios
with the same reference, equal ρ_ij and π_i whatever r (≠ i, j) is.

*Proof.* F_r 1 = 0 gives F_r G = F_r, so Σ_r = F_r cov(l) F_rᵀ = F_r Γ F_rᵀ. Let
M = F_rᵀ Σ_r⁻¹ F_r (symmetric, M1 = 0). The D - 1 rows of F_r are independent and
orthogonal to 1, so every u ∈ 1^⊥ is u = F_rᵀ a for some a, and
M Γ u = F_rᵀ Σ_r⁻¹ (F_r Γ F_rᵀ) a = F_rᵀ a = u, while M Γ 1 = 0. So MΓ = G, the
orthogonal projector onto 1^⊥, and ΓM = (MΓ)ᵀ = G. Then MΓ and ΓM are symmetric,
ΓMΓ = GΓ = Γ and MΓM = GM = M (M's columns lie in 1^⊥): the four Penrose conditions,
so M = Γ⁺ = Ω. Deleting column r of F_r leaves I_{D-1}, so deleting row and column r
of M leaves Σ_r⁻¹. The partial correlations and variances of the alr coordinates are
-(Σ_r⁻¹)_ij / √((Σ_r⁻¹)_ii (Σ_r⁻¹)_jj) and 1/(Σ_r⁻¹)_ii, i.e. ρ_ij and π_i. ∎

In residual terms (the proposition as Erb states it): span{log(x_k/x_r) : k ≠ i, r}
is the space of log-contrasts among the parts other than i, which does not depend on
r; and log(x_i/x_r) - log(x_i/x_r') = log(x_r'/x_r) lies in it. So the residual of
log(x_i/x_r) regressed on the other log-ratios is one and the same random variable
for every r ≠ i: its variance is π_i, and the correlation of the residuals of i and j
(each also adjusted for the other) is ρ_ij. The same argument gives
Ω = V Σ_ilr⁻¹ Vᵀ for every orthonormal ilr basis V (basis independence).

**Stable closed form.** Γ + c11ᵀ (any c > 0) equals Γ on 1^⊥ and has eigenvalue cD
on 1/√D, so it is positive definite and (Γ + c11ᵀ)⁻¹ = Ω + 11ᵀ/(cD²), i.e.

    Ω = (Γ + c11ᵀ)⁻¹ - 11ᵀ/(cD²)      (c = 1/D: Ω = (Γ + 11ᵀ/D)⁻¹ - 11ᵀ/D).

It is computed by a Cholesky factorization; the default c = tr(Γ)/(D(D-1)) puts the
added eigenvalue at the mean non-zero eigenvalue of Γ (the result does not depend on
c), and the result is projected with G to make Ω1 = 0 exact up to rounding.

**Given a subset S** (a subcomposition; Erb 2020: the measure is subcompositionally
incoherent): the partial correlation of i and j given the parts S is the one computed
on the subcomposition {i, j} ∪ S. With r ∈ S, T = S \ {r} and A = Σ_r, it is the
correlation of the residual covariance R = A_UU - A_UT A_TT⁻¹ A_TU (U the parts not in
S); the partial variance of i given S is R_ii. By the proposition, any r ∈ S gives the
same values.

**Normalization route** (Erb 2020, "equivalence with normalization-based approaches
when the normalizing variables are controlled for"): with y = l - (wᵀl)1, Σ_k w_k = 1
and normalizing set R = supp(w), the ordinary partial correlation of y_i and y_j
(i, j ∉ R) given all other y equals ρ_ij, and the partial variance of y_i equals π_i:
for i ∉ R, span{y_k : k ≠ i} is again the log-contrasts among the parts other than i.
:func:`normalized_partial_correlations` computes this independently, as a cross-check.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg

from ..errors import DataError
from ._inputs import (Parts, check_for_statistics, out_square, out_vector, part_positions,
                      read_parts)
from .covariance import centring_matrix, check_ddof, clr_cov_values

_EPS = np.finfo(np.float64).eps


def _rank_tol(D: int) -> float:
    return max(1e-12, 10.0 * D * _EPS)


def _describe_null(gamma: np.ndarray, parts: pd.Index) -> str:
    """Name what makes Γ singular on 1^⊥: proportional pairs, constant clr parts, or
    the log-contrast that does not vary."""
    d = np.diag(gamma)
    scale = max(d.max(), np.finfo(float).tiny)
    T = d[:, None] + d[None, :] - 2.0 * gamma
    tol = _rank_tol(len(parts)) * scale
    pairs = [(parts[i], parts[j]) for i in range(len(parts)) for j in range(i)
             if T[i, j] <= tol]
    if pairs:
        return ("these parts are proportional (their log-ratio is constant across "
                "samples): " + ", ".join(f"{a}/{b}" for a, b in pairs[:8]))
    flat = [str(parts[k]) for k in np.flatnonzero(d <= tol)]
    if flat:
        return f"these parts have constant clr (x_i / g(x) never varies): {flat}"
    c = np.trace(gamma) / (len(parts) * (len(parts) - 1)) or 1.0
    w, V = np.linalg.eigh(gamma + c)
    v = V[:, 0] / np.abs(V[:, 0]).max()
    big = np.argsort(-np.abs(v))[:6]
    terms = " ".join(f"{v[k]:+.2f}·log({parts[k]})" for k in big if abs(v[k]) > 1e-3)
    return f"the log-contrast {terms} is (nearly) constant across samples"


def clr_precision_values(gamma: np.ndarray, parts: pd.Index, c: float | None = None,
                         n: int | None = None) -> np.ndarray:
    """Ω = (Γ + c11ᵀ)⁻¹ - 11ᵀ/(cD²) for a (D, D) clr covariance, after checking that
    Γ has rank D - 1 (``DataError`` naming the cause otherwise). ``n``: the number
    of samples behind a plain (unshrunk) Γ, for the "too few samples" message."""
    D = gamma.shape[0]
    if n is not None and n < D:
        raise DataError(
            f"{n} samples are too few for the partial correlations of {D} parts: the clr "
            f"covariance has rank at most {n - 1} < D - 1 = {D - 1}, so the plain "
            "estimator is singular. Use shrinkage='basis' (Jin, Notredame & Erb 2022), "
            "'ledoit-wolf' or 'oas', or condition on fewer parts with given=[...]")
    if not np.trace(gamma) > 0:
        raise DataError("the clr covariance is zero: every sample has the same "
                        "composition")
    c = np.trace(gamma) / (D * (D - 1)) if c is None else float(c)
    if not c > 0:
        raise ValueError(f"c must be positive; got {c}")
    w = np.linalg.eigvalsh(gamma)  # w[0] ≈ 0 belongs to 1; the rest must be > 0
    if w[1] <= _rank_tol(D) * w[-1]:
        raise DataError("the clr covariance is singular (rank < D - 1), so partial "
                        "correlations given all other parts are undefined: "
                        + _describe_null(gamma, parts))
    A = gamma + c  # Γ + c11ᵀ
    inv = linalg.cho_solve(linalg.cho_factor(A, lower=True), np.eye(D))
    Gm = centring_matrix(D)
    omega = Gm @ (inv - 1.0 / (c * D * D)) @ Gm
    return (omega + omega.T) / 2


def clr_precision(gamma: Any, c: float | None = None) -> Any:
    """The clr precision Ω = Γ⁺ of a clr covariance Γ (D, D), by the closed form
    Ω = (Γ + c11ᵀ)⁻¹ - 11ᵀ/(cD²) (module doc). DataFrame in, DataFrame out."""
    labels = gamma.index if isinstance(gamma, pd.DataFrame) else None
    G = np.asarray(gamma, dtype=np.float64)
    if G.ndim != 2 or G.shape[0] != G.shape[1] or G.shape[0] < 2:
        raise DataError(f"gamma must be a square (D, D) matrix, D >= 2; got {G.shape}")
    scale = np.abs(G).max() if G.size else 0.0
    if not np.all(np.isfinite(G)) or np.abs(G - G.T).max() > 1e-10 * scale \
            or np.abs(G.sum(axis=1)).max() > 1e-8 * scale:
        raise DataError("gamma is not a clr covariance: it must be finite, symmetric "
                        "and have rows summing to 0")
    parts = labels if labels is not None else pd.RangeIndex(G.shape[0])
    omega = clr_precision_values(G, parts, c)
    return pd.DataFrame(omega, index=labels, columns=labels) if labels is not None \
        else omega


def _correlation(K: np.ndarray, sign: float) -> np.ndarray:
    d = np.sqrt(np.diag(K))
    out = sign * K / np.outer(d, d)
    np.fill_diagonal(out, 1.0)
    return np.clip(out, -1.0, 1.0)


def _given_stats(gamma: np.ndarray, P: Parts, given: Any) -> tuple[list[int], np.ndarray,
                                                                    np.ndarray]:
    """Partial correlations and variances of the parts U not in S, given S."""
    S = part_positions(P, given, what="given part")
    U = [k for k in range(P.D) if k not in S]
    if not S or not U:
        raise DataError("given must name at least one part and leave at least one out")
    r, T = S[0], S[1:]
    # alr covariance with reference r: A_ab = Γ_ab - Γ_ar - Γ_rb + Γ_rr
    A = gamma - gamma[:, [r]] - gamma[[r], :] + gamma[r, r]
    R = A[np.ix_(U, U)]
    if T:
        ATT = A[np.ix_(T, T)]
        try:
            cf = linalg.cho_factor(ATT, lower=True)
        except linalg.LinAlgError:
            Gs = centring_matrix(len(S))  # clr covariance of the subcomposition S
            raise DataError("the given parts are degenerate among themselves: "
                            + _describe_null(Gs @ gamma[np.ix_(S, S)] @ Gs,
                                             P.parts[S])) from None
        ATU = A[np.ix_(T, U)]
        R = R - ATU.T @ linalg.cho_solve(cf, ATU)
        R = (R + R.T) / 2
    dR, dA = np.diag(R), np.diag(A)[U]
    bad = [str(P.parts[U[k]]) for k in np.flatnonzero(dR <= _rank_tol(P.D) * dA)]
    if bad:
        raise DataError(f"parts {bad} are (numerically) determined by the given parts "
                        f"{[str(P.parts[k]) for k in S]}: their partial variance is 0")
    return U, _correlation(R, 1.0), dR


def _partial_stats(X: Any, given: Any, shrinkage: str | None, ddof: int
                   ) -> tuple[Parts, list[int], np.ndarray, np.ndarray, dict]:
    P = read_parts(X)
    check_for_statistics(P)
    gamma, info = clr_cov_values(P, ddof, shrinkage)
    if given is None:
        omega = clr_precision_values(gamma, P.parts, n=P.n if shrinkage is None else None)
        return P, list(range(P.D)), _correlation(omega, -1.0), 1.0 / np.diag(omega), info
    U, pcor, pvar = _given_stats(gamma, P, given)
    return P, U, pcor, pvar, info


def _need_three_parts(P: Parts) -> None:
    """ρ_ij needs a reference part r ∉ {i, j}: with D = 2 the formula gives +1 for any
    data (Ω has rank 1), which is not a correlation of anything."""
    if P.D < 3:
        raise DataError(
            f"partial correlations between parts need at least 3 parts (a reference "
            f"part besides i and j); got {P.D}: {[str(p) for p in P.parts]}. With two "
            "parts, describe their relation by var log(x_1/x_2) (variation_matrix, or "
            "partial_variances, which equal it here)")


def partial_correlations(X: Any, given: Any = None, *, shrinkage: str | None = None,
                         ddof: int = 1) -> Any:
    """Compositional partial correlations ρ_ij = -Ω_ij / √(Ω_ii Ω_jj) (module doc).

    X: (n, D) strictly positive parts, rows = samples (DataFrame, or array); D >= 3
        (with two parts ρ_12 is undefined: ``DataError``).
    given: None — each pair given all the other parts; or a part / list of parts S —
        each pair of the remaining parts given S only (the subcomposition {i, j} ∪ S).
    shrinkage: None (sample clr covariance; needs n >= D and a clr covariance of rank
        D - 1, else ``DataError``), or "basis" (Schäfer-Strimmer on the log basis,
        Jin, Notredame & Erb 2022), "ledoit-wolf" or "oas" — usable when D > n.
    ddof: divisor n - ddof of the covariance (partial correlations do not depend on it).

    With shrinkage and ``given``, the covariance is shrunk once, on all D parts.
    Returns a (D, D) DataFrame labelled by the parts (unit diagonal), or (|U|, |U|) for
    the parts U not in ``given``; numpy in, numpy out. With shrinkage, the DataFrame's
    ``.attrs`` hold the intensity.
    """
    if given is None:
        _need_three_parts(read_parts(X))
    P, U, pcor, _, info = _partial_stats(X, given, shrinkage, ddof)
    out = out_square(pcor, P, P.parts[U])
    if hasattr(out, "attrs"):
        out.attrs.update(info)
    return out


def partial_variances(X: Any, given: Any = None, *, shrinkage: str | None = None,
                      ddof: int = 1) -> Any:
    """Compositional partial variances π_i = 1/Ω_ii: the residual variance of
    log(x_i / x_r) regressed on the log-ratios of all other parts to x_r, the same for
    every reference r ≠ i (module doc). With ``given`` = S: the residual variance of
    log(x_i / x_r) given the parts S only (r ∈ S).

    Arguments as in :func:`partial_correlations`; scales with 1/(n - ddof). Returns a
    Series labelled by the parts (numpy in, numpy out).
    """
    P, U, _, pvar, info = _partial_stats(X, given, shrinkage, ddof)
    out = out_vector(pvar, P, P.parts[U], name="partial_variance")
    if hasattr(out, "attrs"):
        out.attrs.update(info)
    return out


def _weights(P: Parts, normalizer: Any) -> np.ndarray:
    if normalizer is None:
        return np.full(P.D, 1.0 / P.D)
    if isinstance(normalizer, (dict, pd.Series)):
        items = dict(normalizer)
        w = np.zeros(P.D)
        for k, v in zip(part_positions(P, list(items), what="normalizer part"),
                        items.values()):
            w[k] = float(v)
    else:
        pos = part_positions(P, normalizer, what="normalizer part")
        w = np.zeros(P.D)
        w[pos] = 1.0 / len(pos)
    if not np.all(np.isfinite(w)) or abs(w.sum()) < 1e-12:
        raise DataError("normalizer weights must be finite with a non-zero sum")
    return w / w.sum()


def normalized_partial_correlations(X: Any, normalizer: Any = None, ddof: int = 1
                                    ) -> tuple[Any, Any]:
    """Partial correlations and variances after a log-linear normalization, the
    cross-check route of Erb (2020) (module doc, "Normalization route").

    y = log x - (wᵀ log x) 1, with weights w summing to 1 on the normalizing set R:
    ``normalizer`` is a part (alr: w = e_r), a list of parts (their geometric mean, as
    in effective library-size normalizations), a dict/Series of weights, or None for
    the clr (w = 1/D on every part). One part r ∈ R is dropped (wᵀy = 0 makes the y_R
    linearly dependent) and the ordinary precision K of the other D - 1 coordinates
    gives -K_ij/√(K_ii K_jj) and 1/K_ii, reported for the parts outside R, where they
    equal the compositional ρ_ij and π_i. A part that is constant across samples (a
    spike-in of known amount) is accepted here when it is in R. For the clr (R = all
    parts) the Moore-Penrose inverse of cov(clr) is taken instead
    (``numpy.linalg.pinv``), which cross-checks the closed form. Returns
    (DataFrame, Series) labelled by the parts reported (numpy in, numpy out).
    """
    P = read_parts(X)
    w = _weights(P, normalizer)
    if np.all(np.abs(w) > 0):
        _need_three_parts(P)   # the clr route reports pairs among all D parts
    check_for_statistics(P, allow=set(np.flatnonzero(w).tolist()))
    check_ddof(P, ddof)
    l = np.log(P.values)
    y = l - (l @ w)[:, None]
    yc = y - y.mean(axis=0)
    inside = np.abs(w) > 0
    if inside.all():
        if np.ptp(w) > 1e-15:
            raise DataError("a normalizer with weight on every part leaves no part to "
                            "compare, unless it is the clr (equal weights)")
        K = np.linalg.pinv(yc.T @ yc / (P.n - ddof), hermitian=True)
        keep = report = list(range(P.D))
    else:
        r = int(np.argmax(np.abs(w)))
        keep = [k for k in range(P.D) if k != r]
        C = yc[:, keep].T @ yc[:, keep] / (P.n - ddof)
        try:
            K = linalg.cho_solve(linalg.cho_factor(C, lower=True), np.eye(len(keep)))
        except linalg.LinAlgError:
            raise DataError("the normalized log-abundances are collinear: "
                            + _describe_null(clr_cov_values(P, ddof)[0], P.parts)) from None
        report = [k for k in keep if not inside[k]]
    sel = [keep.index(k) for k in report]
    Ksel = K[np.ix_(sel, sel)]
    labels = P.parts[report]
    return (out_square(_correlation(Ksel, -1.0), P, labels),
            out_vector(1.0 / np.diag(Ksel), P, labels, name="partial_variance"))


def multiple_r_squared(X: Any, reference: Any, ddof: int = 1) -> Any:
    """R²_i(r) = 1 - π_i / var(log(x_i / x_r)) for every part i ≠ r: the squared
    multiple correlation of log(x_i/x_r) with the other log-ratios to x_r.

    Unlike π_i and ρ_ij this depends on the reference r (Erb 2020, journal version):
    the residual variance π_i is r-free but the total variance var(log(x_i/x_r)) is
    not. Returns a Series over the parts other than r (numpy in, numpy out).
    """
    P = read_parts(X)
    check_for_statistics(P)
    (r,) = part_positions(P, reference, what="reference part")
    gamma, _ = clr_cov_values(P, ddof)
    pvar = 1.0 / np.diag(clr_precision_values(gamma, P.parts, n=P.n))
    d = np.diag(gamma)
    var_lr = d + d[r] - 2.0 * gamma[:, r]
    others = [k for k in range(P.D) if k != r]
    r2 = 1.0 - pvar[others] / var_lr[others]
    return out_vector(r2, P, P.parts[others], name=f"R2_ref_{P.parts[r]}")
