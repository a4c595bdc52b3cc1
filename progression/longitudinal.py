"""The longitudinal table: checks, derived columns and padded arrays.

:func:`prepare_longitudinal` turns a TADPOLE-style visit table into the frame every
forecaster works on (sorted by ``RID`` and ``EXAMDATE``) with these columns added:

* ``DX`` mapped to CN / MCI / AD (see :func:`progression.schema.normalise_dx`);
* ``ICV_bl``: the subject's baseline intracranial volume (TADPOLE's own ``ICV_bl`` if
  given, else the ICV of the subject's first visit that has one);
* ``Ventricles_ICV`` = Ventricles / ICV_bl (the challenge's ventricle target);
* ``AGE_BL`` (AGE at the first visit; in TADPOLE ``AGE`` is the baseline age on every
  row), ``YEARS_BL`` (years since the subject's first visit in this table) and
  ``AGE_VISIT``, the age at the visit: AGE + TADPOLE's ``Years_bl`` (or
  ``Month_bl`` / 12, years since the *ADNI* baseline) where the table has them, else
  AGE_BL + YEARS_BL. A history that holds only later visits (D3 is each subject's
  last visit) would otherwise date every visit to the ADNI baseline age;
* ``EXAM_MONTH``: months since Jan 2000 (Jan 2000 = 1), the MATLAB benchmarks' clock.

:func:`pad` stacks visits into ``(subjects, max visits)`` arrays with a mask, the
layout of every jitted likelihood in the project.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sem.errors import DataError

from .schema import DATE, ID, ids, normalise_dx, numeric, parse_dates, require_columns

DAYS_PER_YEAR = 365.25
NUMERIC = ("ADAS13", "MMSE", "CDRSB", "Ventricles", "Hippocampus", "WholeBrain",
           "Entorhinal", "Fusiform", "MidTemp", "ICV", "ICV_bl", "FDG", "ABETA", "TAU",
           "PTAU", "AV45", "AGE", "PTEDUCAT", "APOE4")


def exam_month(dates: pd.Series) -> np.ndarray:
    """Months since January 2000 with January 2000 = 1 (``(year−2000)·12 + month``)."""
    d = pd.DatetimeIndex(dates)
    return ((d.year - 2000) * 12 + d.month).to_numpy(dtype=float)


def prepare_longitudinal(data: pd.DataFrame, *, require=(), icv: str = "raise",
                         what: str = "longitudinal table") -> pd.DataFrame:
    """Check a visit table and add the derived columns (module docstring).

    ``require``: further columns that must exist (a forecaster's inputs).
    ``icv``: what to do with a subject that has Ventricles but no ICV at any visit —
    ``"raise"`` (a :class:`DataError` naming the subjects) or ``"drop"`` (their
    ``Ventricles_ICV`` becomes missing, with a warning).
    """
    require_columns(data, (ID, DATE) + tuple(require), what)
    if icv not in ("raise", "drop"):
        raise ValueError("icv must be 'raise' or 'drop'")
    df = data.reset_index(drop=True).copy()
    if df[ID].isna().any():
        raise DataError(f"{what}: column '{ID}' has missing values")
    df[DATE] = parse_dates(df[DATE], DATE, "%Y-%m-%d", rid=df[ID])
    if "DX" in df.columns:
        df["DX"] = normalise_dx(df["DX"], "DX", rid=df[ID])
    else:
        df["DX"] = np.nan
    for c in NUMERIC:
        if c in df.columns:
            df[c] = numeric(df, c)
    df = df.sort_values([ID, DATE], kind="stable").reset_index(drop=True)
    first = df.groupby(ID, sort=False)[DATE].transform("min")
    df["YEARS_BL"] = (df[DATE] - first).dt.days.to_numpy() / DAYS_PER_YEAR
    df["EXAM_MONTH"] = exam_month(df[DATE])
    if "AGE" in df.columns:
        df["AGE_BL"] = df.groupby(ID, sort=False)["AGE"].transform("first")
        age = df["AGE_BL"] + df["YEARS_BL"]
        since_adni = _years_since_adni_baseline(df)
        if since_adni is not None:
            age = (df["AGE"] + since_adni).fillna(age)
        df["AGE_VISIT"] = age
    _add_icv(df, icv, what)
    return df


def _years_since_adni_baseline(df: pd.DataFrame):
    """TADPOLE's ``Years_bl`` (else ``Month_bl`` / 12) as numbers, or None."""
    for col, scale in (("Years_bl", 1.0), ("Month_bl", 12.0)):
        if col in df.columns:
            return pd.to_numeric(df[col], errors="coerce") / scale
    return None


def _add_icv(df: pd.DataFrame, icv: str, what: str) -> None:
    if "Ventricles" not in df.columns:
        df["Ventricles"] = np.nan
    has_icv = [c for c in ("ICV_bl", "ICV") if c in df.columns]
    if not has_icv:
        if df["Ventricles"].notna().any():
            raise DataError(f"{what} has 'Ventricles' but neither 'ICV' nor 'ICV_bl': the "
                            "target Ventricles_ICV = Ventricles / ICV_bl needs one of them")
        df["ICV_bl"] = np.nan
    else:
        base = df.groupby(ID, sort=False)["ICV"].transform("first") \
            if "ICV" in df.columns else pd.Series(np.nan, index=df.index)
        if "ICV_bl" in df.columns:
            given = df.groupby(ID, sort=False)["ICV_bl"].transform("first")
            base = given.fillna(base)
        df["ICV_bl"] = base.to_numpy()
    orphan = df["Ventricles"].notna() & df["ICV_bl"].isna()
    if orphan.any():
        rids = sorted(set(df.loc[orphan, ID].tolist()))
        msg = (f"{what}: RID {ids(rids)} "
               "ha(s) Ventricles but no ICV at any visit, so Ventricles_ICV = "
               "Ventricles / ICV_bl cannot be formed")
        if icv == "raise":
            raise DataError(msg + " (pass icv='drop' to treat those volumes as missing)")
        warnings.warn(msg + "; treated as missing", UserWarning, stacklevel=3)
    df["Ventricles_ICV"] = df["Ventricles"] / df["ICV_bl"]


def subjects_of(df: pd.DataFrame) -> np.ndarray:
    """Subject ids in order of first appearance (the frame is sorted by RID)."""
    return pd.unique(df[ID])


def pad(df: pd.DataFrame, columns, *, subjects=None, fill: float = 0.0):
    """Visits as padded arrays.

    Returns ``(values, observed, visit_mask, subjects)``: ``values`` (n, T, p) with
    ``fill`` where missing, ``observed`` (n, T, p) True where a value exists,
    ``visit_mask`` (n, T) True for real visits, ``subjects`` (n,) ids. ``subjects``
    fixes the order (ids absent from ``df`` get no visits).
    """
    ids = subjects_of(df) if subjects is None else np.asarray(subjects)
    pos = pd.Index(ids).get_indexer(df[ID])
    keep = pos >= 0
    pos = pos[keep]
    sub = df.loc[keep]
    rank = sub.groupby(ID, sort=False).cumcount().to_numpy()
    n = len(ids)
    T = int(rank.max()) + 1 if len(rank) else 1
    cols = list(columns)
    vals = np.full((n, T, len(cols)), np.nan)
    if cols:
        vals[pos, rank] = sub[cols].to_numpy(dtype=float, na_value=np.nan)
    mask = np.zeros((n, T), bool)
    mask[pos, rank] = True
    obs = ~np.isnan(vals)
    return np.where(obs, vals, fill), obs, mask, ids
