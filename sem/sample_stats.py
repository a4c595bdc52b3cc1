"""Fitting from summary statistics: lavaan's ``sample.cov``, ``sample.mean`` and
``sample.nobs`` (``Model.fit(sample_cov=..., sample_nobs=...)``), and lavaan's helpers
``getCov`` (``get_cov``) and ``cor2cov``.

A Gaussian SEM fitted by maximum likelihood to complete data depends on the data only
through N, the sample means and the (biased, divisor N) covariance matrix. So a fit from
the moments is the fit to *a* data set of N cases with exactly those moments:
``moments_frame`` builds one, deterministically, and the fit, its standard errors
(expected or observed information), fit measures, residuals and modification indices are
then the ordinary complete-data ones. Its cases are Y = ȳ + √N Q Lᵀ with S = L Lᵀ the
Cholesky factor and Q the first p non-constant columns of the orthonormal DCT-II basis
(Q[i, k] = √(2/N) cos(π k (2i + 1) / 2N), k = 1..p): QᵀQ = I and every column sums to
zero, so the cases' mean is ȳ and their covariance S to rounding. Anything that needs
more than the first two moments (robust standard errors and the scaled test, factor
scores of the cases, the bootstrap) is refused for such a fit.

As lavaan (``sample.cov.rescale = TRUE``), the covariance given is taken as the
unbiased one (divisor N − 1) and multiplied by (N − 1)/N; ``rescale=False`` takes it
as the ML (divisor N) covariance. Checked against lavaan 0.6.14: the stability of
alienation model of lavaan's tutorial (Wheaton et al. 1977; the lower triangle, N =
932) and the HS CFA from its moments with a mean structure
(``tests/sem/test_sample_stats.py``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataError, SpecificationError


def get_cov(x, names, *, lower: bool = True, diagonal: bool = True,
            sds=None) -> pd.DataFrame:
    """A full covariance (or correlation) matrix from its lower (or upper) triangle,
    as lavaan's ``getCov``: ``x`` is a string of numbers (blank or comma separated,
    over any lines) or a sequence; ``diagonal=False``: the triangle without the
    diagonal, which is then 1 (a correlation matrix); ``sds``: standard deviations
    that turn a correlation matrix into a covariance matrix."""
    names = [str(v) for v in names]
    p = len(names)
    if len(set(names)) != p:
        raise SpecificationError(f"get_cov: the names repeat: {names}")
    if isinstance(x, str):
        try:
            vals = [float(v) for v in x.replace(",", " ").split()]
        except ValueError as e:
            raise DataError(f"get_cov: {e}") from None
    else:
        vals = [float(v) for v in np.ravel(np.asarray(x, dtype=float))]
    need = p * (p + 1) // 2 if diagonal else p * (p - 1) // 2
    if len(vals) != need:
        raise DataError(f"get_cov: {len(vals)} numbers for {p} variables; the "
                        f"{'lower' if lower else 'upper'} triangle "
                        f"{'with' if diagonal else 'without'} the diagonal has {need}")
    M = np.eye(p)
    # numpy's triangle indices run row by row, the order in which lavaan reads them
    rows, cols = (np.tril_indices(p, 0 if diagonal else -1) if lower
                  else np.triu_indices(p, 0 if diagonal else 1))
    M[rows, cols] = vals
    M[cols, rows] = vals
    out = pd.DataFrame(M, index=names, columns=names)
    return out if sds is None else cor2cov(out, sds)


def cor2cov(R, sds, names=None) -> pd.DataFrame:
    """Covariance matrix from a correlation matrix and standard deviations (lavaan's
    ``cor2cov``): D R D with D = diag(sds)."""
    if isinstance(R, pd.DataFrame):
        names = list(R.columns) if names is None else list(names)
        R = R.to_numpy(dtype=float)
    R = np.asarray(R, dtype=float)
    sds = np.asarray(sds, dtype=float).ravel()
    if R.ndim != 2 or R.shape[0] != R.shape[1] or len(sds) != R.shape[0]:
        raise DataError(f"cor2cov: a square correlation matrix and one standard deviation "
                        f"per variable are needed, got {R.shape} and {len(sds)}")
    if not (np.isfinite(sds).all() and (sds > 0).all()):
        raise DataError(f"cor2cov: standard deviations must be positive, got {sds.tolist()}")
    if names is None:
        names = [f"V{i + 1}" for i in range(len(sds))]
    return pd.DataFrame(R * np.outer(sds, sds), index=names, columns=names)


def check_moments(cov, mean, nobs, names) -> tuple[np.ndarray, np.ndarray | None, int]:
    """The model's variables' block of ``cov`` (a labelled square DataFrame), their
    means (a labelled Series, or None) and N, checked: clear errors name the variable
    or the entry at fault."""
    if not isinstance(cov, pd.DataFrame):
        raise DataError("sample_cov must be a DataFrame whose index and columns are the "
                        "variable names (sem.get_cov builds one from a lower triangle)")
    if list(cov.index) != list(cov.columns):
        raise DataError("sample_cov: its index and columns must be the same variable "
                        "names in the same order")
    missing = [v for v in names if v not in cov.columns]
    if missing:
        raise SpecificationError(f"variables {missing} of the model are not in sample_cov; "
                                 f"it has: {', '.join(map(str, cov.columns))}")
    S = cov.loc[names, names].to_numpy(dtype=float)
    if not np.isfinite(S).all():
        bad = [(names[i], names[j]) for i, j in zip(*np.nonzero(~np.isfinite(S))) if i <= j]
        raise DataError(f"sample_cov has missing or infinite entries at {bad}")
    asym = np.abs(S - S.T) > 1e-10 * np.maximum(1.0, np.abs(S))
    if asym.any():
        i, j = (int(a[0]) for a in np.nonzero(np.triu(asym)))
        raise DataError(f"sample_cov is not symmetric: ({names[i]}, {names[j]}) is "
                        f"{S[i, j]:g} but ({names[j]}, {names[i]}) is {S[j, i]:g}")
    d = np.diag(S)
    if (d <= 0).any():
        raise DataError(f"sample_cov: variables {[names[i] for i in np.flatnonzero(d <= 0)]} "
                        "have a variance that is not positive")
    ev, vec = np.linalg.eigh(S / np.sqrt(np.outer(d, d)))
    if ev[0] < 1e-10:
        v = vec[:, 0]
        involved = [names[i] for i in np.argsort(-np.abs(v)) if abs(v[i]) > 0.1]
        raise DataError("sample_cov is not positive definite (smallest eigenvalue of the "
                        f"correlation matrix {ev[0]:.2e}): the variables {involved} are "
                        "linearly dependent")
    if isinstance(nobs, (bool, np.bool_)) or not float(nobs).is_integer():
        raise DataError(f"sample_nobs must be a whole number of cases, got {nobs!r}")
    N = int(nobs)
    if N <= len(names):
        raise DataError(f"sample_nobs = {N} must exceed the number of variables "
                        f"({len(names)})")
    m = None
    if mean is not None:
        if not isinstance(mean, pd.Series):
            raise DataError("sample_mean must be a Series indexed by the variable names")
        gone = [v for v in names if v not in mean.index]
        if gone:
            raise SpecificationError(f"variables {gone} of the model are not in sample_mean")
        m = mean.loc[names].to_numpy(dtype=float)
        if not np.isfinite(m).all():
            raise DataError(f"sample_mean is missing or infinite for "
                            f"{[v for v, x in zip(names, m) if not np.isfinite(x)]}")
    return S, m, N


def moments_frame(S: np.ndarray, mean, N: int, names, *, rescale: bool = True
                  ) -> pd.DataFrame:
    """N cases whose means are ``mean`` (0 if None) and whose covariance (divisor N)
    is S · (N − 1)/N (``rescale``, lavaan's default) or S (see the module)."""
    p = len(names)
    S_ml = S * (N - 1) / N if rescale else S
    L = np.linalg.cholesky(S_ml)
    i = np.arange(N)[:, None] + 0.5
    Q = np.sqrt(2.0 / N) * np.cos(np.pi * np.arange(1, p + 1)[None, :] * i / N)
    Y = np.sqrt(N) * Q @ L.T
    Y -= Y.mean(axis=0)                      # zero to rounding already; exactly now
    Y += np.zeros(p) if mean is None else mean
    return pd.DataFrame(Y, columns=list(names))
