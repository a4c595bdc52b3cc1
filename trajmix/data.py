"""Longitudinal data → padded arrays plus a mask.

Wide format has one row per person with outcomes ``Y1..YJ`` and that person's own
measurement times ``T1..TJ``; long format has one row per visit (``id``, ``time``,
outcome, covariates). Both become

* ``Y``    (n, J)  outcomes, 0 where missing or padded;
* ``T``    (n, J)  times (definition variables), 0 where padded;
* ``mask`` (n, J)  True where an outcome is observed;
* ``Xg``   (n, p_g) gating covariates, ``Xe`` (n, p_e) expert covariates;
* ``Z``    (n, J, p_z) time-varying covariates (0 where padded);
* ``w``    (n,)    case weights.

People with different numbers of visits or missing outcomes are the normal case:
the likelihood uses only the observed entries (full-information ML through the mask).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sem.data import check_columns, check_weights, numeric_block
from sem.errors import DataError, SpecificationError


@dataclass
class GrowthData:
    arrays: dict
    ids: np.ndarray
    y_names: list = field(default_factory=list)
    gating: list = field(default_factory=list)
    experts: list = field(default_factory=list)
    tvc: list = field(default_factory=list)

    @property
    def n(self) -> int:
        return self.arrays["Y"].shape[0]

    @property
    def J(self) -> int:
        return self.arrays["Y"].shape[1]


def _covariates(df: pd.DataFrame, names, role: str, sample: bool = True) -> np.ndarray:
    """Covariates, complete; ``sample=False`` (persons to classify with a fitted
    model, perhaps one) skips the checks that concern a sample: constant or
    collinear columns."""
    if not names:
        return np.zeros((len(df), 0))
    check_columns(df, names, what=f"{role} covariate")
    X = numeric_block(df, names, allow_missing=True, what=f"{role} covariate",
                      allow_constant=not sample)
    bad = np.isnan(X)
    if bad.any():
        j = int(np.nonzero(bad.any(0))[0][0])
        rows = np.nonzero(bad[:, j])[0]
        raise DataError(
            f"{role} covariate '{names[j]}' is missing for {len(rows)} persons (rows "
            f"{rows[:5].tolist()}{' ...' if len(rows) > 5 else ''}); covariates must be "
            "complete: impute them or drop those persons")
    if not sample:
        return X
    Xc = np.column_stack([np.ones(len(X)), X])
    sv = np.linalg.svd(Xc - np.r_[0, X.mean(0)] * (np.arange(Xc.shape[1]) > 0),
                       compute_uv=False)
    if sv[-1] < 1e-8 * sv[0]:
        _, _, vt = np.linalg.svd(X - X.mean(0))
        v = vt[-1]
        inv = [names[i] for i in np.argsort(-np.abs(v)) if abs(v[i]) > 0.1]
        raise DataError(f"{role} covariates {inv} are collinear; drop one of them")
    return X


def _plain(v):
    """A person's id or a value as Python writes it in a message: 3, not np.int64(3)."""
    return v.item() if isinstance(v, np.generic) else v


def _check_times(T: np.ndarray, mask: np.ndarray, ids, t_names=None) -> None:
    obs_t = np.where(mask, T, np.nan)
    if np.isnan(T[mask]).any():
        i = int(np.nonzero(np.isnan(T) & mask)[0][0])
        raise DataError(f"person {_plain(ids[i])!r} has an observed outcome without a "
                        "measurement time")
    for i in range(T.shape[0]):
        t = obs_t[i][~np.isnan(obs_t[i])]
        if t.size > 1 and np.any(np.diff(t) <= 0):
            raise DataError(
                f"times are not increasing for person {_plain(ids[i])!r}: "
                f"{np.round(t, 4).tolist()}"
                + (f" (columns {t_names})" if t_names else ""))


def _finish(Y, T, mask, ids, Xg, Xe, Z, weights) -> dict:
    empty = ~mask.any(1)
    if empty.any():
        bad = [_plain(ids[i]) for i in np.nonzero(empty)[0][:10]]
        raise DataError(f"{int(empty.sum())} persons have no observed outcome (ids {bad}); "
                        "drop them first")
    w = np.ones(len(Y)) if weights is None else check_weights(weights, len(Y), "person")
    return dict(Y=np.where(mask, Y, 0.0), T=np.where(mask, np.nan_to_num(T), 0.0),
                mask=mask, Xg=Xg, Xe=Xe, Z=np.where(mask[..., None], np.nan_to_num(Z), 0.0),
                w=w)


def from_wide(df: pd.DataFrame, y, t, *, gating=(), experts=(), tvc=(), id=None,
              weights=None, sample: bool = True) -> GrowthData:
    """Wide data: outcome columns ``y`` and time columns ``t`` (same length J);
    ``tvc`` is a list of lists, one list of J columns per time-varying covariate.
    ``sample=False``: persons to classify, without the checks that concern a sample
    (constant outcome or covariate columns)."""
    y, t = list(y), list(t)
    if len(y) != len(t):
        raise SpecificationError(f"{len(y)} outcome columns but {len(t)} time columns")
    check_columns(df, y + t, what="column")
    Y = numeric_block(df, y, allow_missing=True, what="outcome", allow_constant=not sample)
    T = numeric_block(df, t, allow_missing=True, what="time", allow_constant=True)
    mask = ~np.isnan(Y)
    ids = df[id].to_numpy() if id else np.arange(len(df))
    if id:
        dup = pd.Series(ids).duplicated(keep=False).to_numpy()
        if dup.any():
            raise DataError(f"id column '{id}' repeats {sorted(set(ids[dup].tolist()))[:5]}"
                            ": wide data hold one row per person (use long data, id=, "
                            "time=, outcome=, for one row per visit)")
    _check_times(T, mask, ids, t)
    Z = np.zeros(Y.shape + (len(tvc),))
    for k, cols in enumerate(tvc):
        cols = list(cols)
        if len(cols) != len(y):
            raise SpecificationError(f"time-varying covariate {k + 1} has {len(cols)} "
                                     f"columns; it needs one per occasion ({len(y)})")
        check_columns(df, cols, what="time-varying covariate")
        z = numeric_block(df, cols, allow_missing=True, what="time-varying covariate",
                          allow_constant=True)
        if (np.isnan(z) & mask).any():
            j = int(np.nonzero((np.isnan(z) & mask).any(0))[0][0])
            raise DataError(f"time-varying covariate '{cols[j]}' is missing where the "
                            "outcome is observed")
        Z[..., k] = z
    arrays = _finish(Y, T, mask, ids, _covariates(df, list(gating), "gating", sample),
                     _covariates(df, list(experts), "expert", sample), Z, weights)
    return GrowthData(arrays, ids, y, list(gating), list(experts),
                      [c[0] for c in tvc])


def from_long(df: pd.DataFrame, id: str, time: str, outcome: str, *, gating=(),
              experts=(), tvc=(), weights=None, sample: bool = True) -> GrowthData:
    """Long data (one row per visit); persons are padded to the most visits.
    ``sample`` as in ``from_wide``."""
    check_columns(df, [id, time, outcome] + list(gating) + list(experts) + list(tvc))
    if df[id].isna().any():
        rows = np.nonzero(df[id].isna().to_numpy())[0]
        raise DataError(f"id column '{id}' is missing in {len(rows)} rows (rows "
                        f"{rows[:5].tolist()}{' ...' if len(rows) > 5 else ''}); every "
                        "visit needs the person's id")
    # a visit without the outcome adds nothing to the likelihood: dropped before the
    # checks, so that its time (or a time-varying covariate) may be missing too
    seen = df[outcome].notna()
    if not seen.all():
        none = ~seen.groupby(df[id]).any()
        if none.any():
            bad = none[none].index.tolist()
            raise DataError(f"{len(bad)} persons have no observed outcome (ids "
                            f"{bad[:10]}); drop them first")
        df = df[seen]
    d = df.sort_values([id, time], kind="stable")
    y = numeric_block(d, [outcome], allow_missing=True, what="outcome",
                      allow_constant=not sample)[:, 0]
    t = numeric_block(d, [time], allow_missing=False, what="time", allow_constant=True)[:, 0]
    z = numeric_block(d, list(tvc), allow_missing=False, what="time-varying covariate",
                      allow_constant=True) if tvc else np.zeros((len(d), 0))
    pid = d[id].to_numpy()
    ids, start, counts = np.unique(pid, return_index=True, return_counts=True)
    order = np.argsort(start)
    ids, start, counts = ids[order], start[order], counts[order]
    dup = d.duplicated([id, time])
    if dup.any():
        r = d[dup].iloc[0]
        raise DataError(f"person {_plain(r[id])!r} has two visits at time "
                        f"{_plain(r[time])!r}")
    n, J = len(ids), int(counts.max())
    Y = np.full((n, J), np.nan)
    T = np.zeros((n, J))
    Z = np.zeros((n, J, len(tvc)))
    for i, (s, c) in enumerate(zip(start, counts)):
        Y[i, :c] = y[s:s + c]
        T[i, :c] = t[s:s + c]
        Z[i, :c] = z[s:s + c]
    mask = ~np.isnan(Y)
    first = d.groupby(id, sort=False).head(1).set_index(id).loc[ids]
    for c in list(gating) + list(experts):
        if d.groupby(id)[c].nunique(dropna=False).max() > 1:
            raise DataError(f"covariate '{c}' changes within persons; time-invariant "
                            "covariates must be constant per person (use tvc= otherwise)")
    arrays = _finish(Y, T, mask, ids, _covariates(first, list(gating), "gating", sample),
                     _covariates(first, list(experts), "expert", sample), Z, weights)
    return GrowthData(arrays, ids, [outcome], list(gating), list(experts), list(tvc))


def stack(datas: list[GrowthData]) -> dict:
    """Stack same-shaped prepared data sets along a new leading axis."""
    shapes = {k: v.shape for k, v in datas[0].arrays.items()}
    for d in datas[1:]:
        for k, v in d.arrays.items():
            if v.shape != shapes[k]:
                raise DataError(f"data sets differ in shape ({k}: {v.shape} vs "
                                f"{shapes[k]}); fit_many needs same-shaped data sets")
    return {k: np.stack([d.arrays[k] for d in datas]) for k in shapes}
