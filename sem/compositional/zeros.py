"""Opt-in replacement of zeros before taking log-ratios.

Nothing in :mod:`sem.compositional` replaces zeros silently: a zero part raises
``DataError``. Call :func:`multiplicative_replacement` first when zeros are values
below a detection limit (rounded zeros).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError
from ._inputs import _where, out_table, part_positions, read_parts


def multiplicative_replacement(X: Any, detection_limit: Any = None, *,
                               fraction: float = 0.65, delta: float | None = None) -> Any:
    """Multiplicative replacement of zeros (Martín-Fernández, Barceló-Vidal &
    Pawlowsky-Glahn 2003, Math. Geology 35:253-278).

    In row i with total t_i = Σ_k x_ik and zeros in the set Z_i:

        x'_ij = δ_ij                                  for j ∈ Z_i
        x'_ij = x_ij (1 - Σ_{k∈Z_i} δ_ik / t_i)        otherwise

    so row totals and the ratios between the non-zero parts are kept. The replacement
    value is δ_ij = ``fraction`` · DL_j (65 % of the detection limit, the value those
    authors recommend) when ``detection_limit`` is given, in the units of X: a scalar
    for every part, or a dict/Series by part, or a sequence of length D. Without a
    detection limit, δ_ij = ``delta`` · t_i, with ``delta`` = 1/D² by default (the
    default of scikit-bio's ``multiplicative_replacement``).

    X: (n, D), non-negative, no NaN. Returns the same shape and kind; rows without a
    zero are returned unchanged. Raises ``DataError`` when the replacements would use
    up a row's total, or a part with zeros has no positive detection limit.
    """
    P = read_parts(X, positive=False)
    vals = P.values
    zero = vals == 0
    t = vals.sum(axis=1, keepdims=True)
    if np.any(t[:, 0] <= 0):
        raise DataError(f"X: rows {[P.rows[i] for i in np.flatnonzero(t[:, 0] <= 0)]!r} "
                        "are all zero; nothing can be replaced")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1]; got {fraction}")
    if detection_limit is not None:
        if delta is not None:
            raise ValueError("give detection_limit or delta, not both")
        dl = _limits(P, detection_limit)
        missing = zero & ~(dl > 0)[None, :]
        if missing.any():
            raise DataError(f"X: zeros without a positive detection limit at "
                            f"{_where(missing, P.rows, P.parts)}")
        fill = np.broadcast_to(fraction * dl[None, :], vals.shape)
    else:
        d = 1.0 / P.D**2 if delta is None else float(delta)
        if not 0 < d < 1:
            raise ValueError(f"delta must be in (0, 1); got {delta}")
        fill = np.broadcast_to(d * t, vals.shape)
    used = np.where(zero, fill, 0.0).sum(axis=1, keepdims=True)
    over = used[:, 0] >= t[:, 0]
    if over.any():
        raise DataError(f"X: the replacement values use up the whole total in rows "
                        f"{[P.rows[i] for i in np.flatnonzero(over)]!r}; use a smaller "
                        "detection limit or delta")
    out = np.where(zero, fill, vals * (1.0 - used / t))
    return out_table(out, P)


def _limits(P, detection_limit: Any) -> np.ndarray:
    if np.isscalar(detection_limit):
        return np.full(P.D, float(detection_limit))
    if hasattr(detection_limit, "items"):
        dl = np.zeros(P.D)
        items = dict(detection_limit)
        dl[part_positions(P, list(items), what="detection-limit part")] = \
            np.asarray(list(items.values()), dtype=float)
        return dl
    dl = np.asarray(detection_limit, dtype=float)
    if dl.shape != (P.D,):
        raise DataError(f"detection_limit: one value per part ({P.D}) needed; got shape "
                        f"{dl.shape}")
    return dl
