"""Reading compositions in and writing results out: validation with messages that name
the rows and parts at fault, and labelled (pandas) or plain (numpy) outputs.

A composition table has shape (n, D): rows are samples, columns are parts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError

_SHOW = 8  # how many offending cells a message lists before "and k more"


@dataclass(frozen=True)
class Parts:
    """A validated composition table.

    values: (n, D) float64 array; rows: n row labels; parts: D part labels;
    kind: "frame", "series", "array2d" or "array1d" (what came in, so the same kind
    goes out).
    """
    values: np.ndarray
    rows: pd.Index
    parts: pd.Index
    kind: str

    @property
    def n(self) -> int:
        return self.values.shape[0]

    @property
    def D(self) -> int:
        return self.values.shape[1]


def _where(mask: np.ndarray, rows: pd.Index, parts: pd.Index) -> str:
    """'row r1 (p1, p2); row r2 (p3) ...' for the True cells of an (n, D) mask."""
    bad = np.flatnonzero(mask.any(axis=1))
    items = [f"row {rows[i]!r} ({', '.join(str(parts[j]) for j in np.flatnonzero(mask[i]))})"
             for i in bad[:_SHOW]]
    more = f"; and {len(bad) - _SHOW} more rows" if len(bad) > _SHOW else ""
    return "; ".join(items) + more


def _to_table(X: Any, name: str) -> Parts:
    """Any accepted input as an (n, D) float64 table, remembering its kind."""
    if isinstance(X, pd.DataFrame):
        nonnum = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if nonnum:
            raise DataError(f"{name}: values must be numeric; non-numeric columns "
                            f"{nonnum!r}")
        return Parts(X.to_numpy(dtype=np.float64, na_value=np.nan, copy=True), X.index,
                     X.columns, "frame")
    if isinstance(X, pd.Series):
        row = pd.Index([X.name if X.name is not None else 0])
        return Parts(X.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)[None, :], row,
                     X.index, "series")
    try:
        arr = np.array(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: cannot read the values as numbers ({exc})") from None
    if arr.ndim not in (1, 2):
        raise DataError(f"{name}: expected a 1-D composition or a 2-D (samples, parts) "
                        f"table; got an array of shape {arr.shape}")
    kind = "array1d" if arr.ndim == 1 else "array2d"
    arr = np.atleast_2d(arr)
    return Parts(arr, pd.RangeIndex(arr.shape[0]), pd.RangeIndex(arr.shape[1]), kind)


def _check_shape_and_finite(P: Parts, name: str, min_parts: int) -> None:
    if P.D < min_parts:
        got = f"{P.D} ({', '.join(map(str, P.parts))})" if P.D else "0"
        raise DataError(f"{name}: a composition needs at least {min_parts} parts; "
                        f"got {got}")
    if P.n == 0:
        raise DataError(f"{name}: no samples (0 rows)")
    if not P.parts.is_unique:
        dup = sorted({str(p) for p in P.parts[P.parts.duplicated()]})
        raise DataError(f"{name}: duplicated part labels {dup}")
    nan = np.isnan(P.values)
    if nan.any():
        raise DataError(f"{name}: missing values (NaN) at {_where(nan, P.rows, P.parts)}; "
                        "drop or impute those samples first")
    inf = np.isinf(P.values)
    if inf.any():
        raise DataError(f"{name}: infinite values at {_where(inf, P.rows, P.parts)}")


def read_parts(X: Any, *, name: str = "X", positive: bool = True,
               min_parts: int = 2) -> Parts:
    """Validate a composition table and return it as :class:`Parts`.

    Accepts a DataFrame (rows = samples, columns = parts), a Series (one composition,
    labelled by part), a 2-D array (n, D) or a 1-D array (D,). Raises ``DataError``
    naming the rows and parts at fault for: non-numeric columns, NaN or infinite
    values, negative values, zeros (when ``positive``), fewer than ``min_parts``
    parts, no rows, duplicated part labels.
    """
    P = _to_table(X, name)
    _check_shape_and_finite(P, name, min_parts)
    neg = P.values < 0
    if neg.any():
        raise DataError(f"{name}: negative parts at {_where(neg, P.rows, P.parts)}; the "
                        "parts of a composition are amounts or proportions, never negative")
    zero = P.values == 0
    if positive and zero.any():
        raise DataError(
            f"{name}: zero parts at {_where(zero, P.rows, P.parts)}; log-ratios need "
            "strictly positive parts. To replace zeros explicitly, use "
            "sem.compositional.multiplicative_replacement(X, detection_limit=...)")
    return P


def read_real(Y: Any, *, name: str = "Y") -> Parts:
    """Validate a table of real coordinates (log-ratios): finite numbers, any sign."""
    P = _to_table(Y, name)
    _check_shape_and_finite(P, name, 1)
    return P


def check_for_statistics(P: Parts, *, name: str = "X", allow: Any = ()) -> None:
    """Extra checks before estimating a covariance: at least two samples and no
    part that is constant across samples (a constant column is almost always a
    placeholder, e.g. every value set to a detection limit), except at the positions
    in ``allow``."""
    if P.n < 2:
        raise DataError(f"{name}: at least two samples are needed to estimate a "
                        f"covariance; got {P.n}")
    const = [j for j in np.flatnonzero(np.ptp(P.values, axis=0) == 0) if j not in allow]
    if const:
        desc = ", ".join(f"{P.parts[j]!s} (= {P.values[0, j]:g})" for j in const[:_SHOW])
        raise DataError(
            f"{name}: constant parts {desc}: every sample has the same value. A part "
            "filled with one value (a detection limit, a placeholder) carries no "
            "information; drop it. If it is a known constant amount (a spike-in), use "
            "it as the normalizer: normalized_partial_correlations(X, normalizer=...)")


def part_positions(P: Parts, which: Any, *, what: str = "part") -> list[int]:
    """Positions of parts given by label or integer position (one or a list)."""
    items = list(which) if isinstance(which, (list, tuple, pd.Index, np.ndarray, set)) \
        else [which]
    labels = list(P.parts)
    out = []
    for it in items:
        if it in labels:
            out.append(labels.index(it))
        elif isinstance(it, (int, np.integer)) and not isinstance(it, bool) \
                and -P.D <= it < P.D:
            out.append(int(it) % P.D)
        else:
            raise DataError(f"unknown {what} {it!r}; parts are {labels}")
    if len(set(out)) != len(out):
        raise DataError(f"{what}s listed twice: {items!r}")
    return out


def out_table(values: np.ndarray, P: Parts, columns: Any = None, *,
              rows: Any = None) -> Any:
    """An (n, k) result in the kind that came in: DataFrame (index = rows),
    Series (one composition) or numpy array."""
    columns = P.parts if columns is None else columns
    rows = P.rows if rows is None else rows
    if P.kind == "frame":
        return pd.DataFrame(values, index=rows, columns=columns)
    if P.kind == "series":
        return pd.Series(values[0], index=columns, name=rows[0])
    return values[0] if P.kind == "array1d" else values


def out_square(values: np.ndarray, P: Parts, labels: Any = None) -> Any:
    """A (k, k) part-by-part result: DataFrame labelled by parts for pandas input,
    numpy array otherwise."""
    labels = P.parts if labels is None else labels
    if P.kind in ("frame", "series"):
        return pd.DataFrame(values, index=labels, columns=labels)
    return values


def out_vector(values: np.ndarray, P: Parts, labels: Any = None, name: str = "") -> Any:
    """A per-part result: Series labelled by parts for pandas input, numpy otherwise."""
    labels = P.parts if labels is None else labels
    if P.kind in ("frame", "series"):
        return pd.Series(values, index=labels, name=name or None)
    return values
