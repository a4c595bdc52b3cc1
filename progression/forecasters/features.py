"""History features as of each visit, and (earlier visit → later visit) training pairs.

For every visit i and biomarker m, over the subject's visits up to and including i:
``m_last`` (last observed value), ``m_slope`` (least-squares slope per year, from
cumulative sums Σt, Σy, Σt², Σty over observed values; missing with fewer than two),
``m_min``, ``m_max``, ``m_since`` (years since it was last observed); and per visit
``n_visits``, ``years_bl``, ``age``, ``dx_last`` (0/1/2), ``dx_bl``, ``male``,
``educ``, ``apoe4``. All computed with grouped cumulative operations (no loop over
subjects). These are the "augmented" longitudinal summaries (slopes, minima, maxima)
the TADPOLE meta-analysis linked to better forecasts (Marinescu et al., MELBA
2021:019, section 7).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import DX_LABELS, ID

MARKERS = ("ADAS13", "Ventricles_ICV", "MMSE", "CDRSB", "Hippocampus", "WholeBrain",
           "FDG", "ABETA", "TAU")


def history_features(df: pd.DataFrame, markers=MARKERS) -> pd.DataFrame:
    """Features (module docstring) as of each row of a prepared longitudinal table."""
    g = df[ID]
    t = df["YEARS_BL"].to_numpy(float)
    out = {}
    for m in markers:
        # an absent biomarker (a cross-sectional D3 table has no FDG, CSF ...) gives
        # missing features, so that every table yields the same columns
        y = df[m].to_numpy(float) if m in df.columns else np.full(len(df), np.nan)
        obs = np.isfinite(y)
        o = obs.astype(float)
        yy = np.where(obs, y, 0.0)
        cs = lambda v: pd.Series(v).groupby(g.to_numpy()).cumsum().to_numpy()  # noqa: E731
        n, St, Sy = cs(o), cs(t * o), cs(yy)
        Stt, Sty = cs(t * t * o), cs(t * yy)
        den = n * Stt - St * St
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = np.where((n >= 2) & (den > 1e-9), (n * Sty - St * Sy) / den, np.nan)
        s = pd.Series(np.where(obs, y, np.nan))
        out[f"{m}_last"] = s.groupby(g.to_numpy()).ffill().to_numpy()
        out[f"{m}_slope"] = slope
        out[f"{m}_min"] = s.groupby(g.to_numpy()).cummin().groupby(g.to_numpy()).ffill().to_numpy()
        out[f"{m}_max"] = s.groupby(g.to_numpy()).cummax().groupby(g.to_numpy()).ffill().to_numpy()
        when = pd.Series(np.where(obs, t, np.nan)).groupby(g.to_numpy()).ffill().to_numpy()
        out[f"{m}_since"] = t - when
    code = df["DX"].map({lab: k for k, lab in enumerate(DX_LABELS)}).astype(float)
    out["dx_last"] = code.groupby(g.to_numpy()).ffill().to_numpy()
    out["dx_bl"] = code.groupby(g.to_numpy()).transform(
        lambda x: x.dropna().iloc[0] if x.notna().any() else np.nan).to_numpy()
    out["n_visits"] = df.groupby(ID, sort=False).cumcount().to_numpy() + 1.0
    out["years_bl"] = t
    out["age"] = df["AGE_VISIT"].to_numpy(float) if "AGE_VISIT" in df else np.nan
    out["male"] = (df["PTGENDER"].astype("string").str.lower() == "male").astype(float).to_numpy() \
        if "PTGENDER" in df else np.nan
    out["educ"] = df["PTEDUCAT"].to_numpy(float) if "PTEDUCAT" in df else np.nan
    out["apoe4"] = df["APOE4"].to_numpy(float) if "APOE4" in df else np.nan
    return pd.DataFrame(out, index=df.index)


def pairs(df: pd.DataFrame, max_horizon: float = 6.0):
    """Row indices (i, j) of every pair of visits of one subject with i earlier than j
    and at most ``max_horizon`` years apart (``df`` sorted by subject and date)."""
    size = df.groupby(ID, sort=False)[ID].transform("size").to_numpy()
    pos = df.groupby(ID, sort=False).cumcount().to_numpy()
    later = size - pos - 1
    i = np.repeat(np.arange(len(df)), later)
    start = np.repeat(np.cumsum(later) - later, later)
    j = i + np.arange(len(i)) - start + 1
    t = df["YEARS_BL"].to_numpy(float)
    keep = t[j] - t[i] <= max_horizon
    return i[keep], j[keep]
