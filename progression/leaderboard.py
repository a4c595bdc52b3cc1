"""The challenge's leaderboard: scores of several forecasts and their ranks.

Ranking rule of the live leaderboard (``evalAllSubmissionsLive.py`` of the TADPOLE
repository; Marinescu et al., MELBA 2021:019, section 4): per task the entries are
ranked with ``scipy.stats.rankdata(method="average")`` — by −mAUC, by ADAS13 MAE and by
Ventricles MAE —, entries whose score is NaN left unranked; the overall rank is the
average-method rank of the sum of the three task ranks (NaN if any is missing). BCA,
WES and CPA get ranks of their own (higher BCA better, lower WES and CPA better) that do
not enter the overall rank. Rows are sorted by overall rank, then by the mAUC rank.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from .metrics import METRIC_KEYS, evaluate_forecast

#: metric → (rank column, sign: +1 if smaller is better)
RANKED = {"mAUC": ("RANK MAUC", -1), "adasMAE": ("RANK ADAS", 1),
          "ventsMAE": ("RANK VENTS", 1)}
SIDE_RANKS = {"BCA": ("RANK BCA", -1), "adasWES": ("RANK ADAS WES", 1),
              "adasCPA": ("RANK ADAS CPA", 1), "ventsWES": ("RANK VENTS WES", 1),
              "ventsCPA": ("RANK VENTS CPA", 1)}


def _rank(values, sign) -> np.ndarray:
    v = np.asarray(values, float)
    out = np.full(len(v), np.nan)
    ok = np.isfinite(v)
    if ok.any():
        out[ok] = rankdata(sign * v[ok], method="average")
    return out


def rank_table(scores) -> pd.DataFrame:
    """Ranks for a table of scores: rows are entries (index = name), columns the keys
    of :func:`progression.metrics.evaluate_forecast` (a dict name → score dict also
    works). Returns the scores with ``RANK``, the three task ranks and the side ranks,
    sorted by ``RANK`` then ``RANK MAUC``."""
    df = pd.DataFrame(scores).T if isinstance(scores, dict) else scores.copy()
    missing = [k for k in METRIC_KEYS if k not in df.columns]
    if missing:
        raise ValueError(f"scores lack {missing}")
    df = df.loc[:, list(METRIC_KEYS)].astype(float)
    for key, (col, sign) in {**RANKED, **SIDE_RANKS}.items():
        df[col] = _rank(df[key], sign)
    total = df["RANK MAUC"] + df["RANK ADAS"] + df["RANK VENTS"]
    df["RANK"] = _rank(total, 1)
    order = ["RANK", "RANK MAUC", "mAUC", "BCA", "RANK ADAS", "adasMAE", "adasWES",
             "adasCPA", "RANK VENTS", "ventsMAE", "ventsWES", "ventsCPA"]
    rest = [c for c in df.columns if c not in order]
    df = df.loc[:, order + rest]
    return df.sort_values(["RANK", "RANK MAUC"], kind="stable", na_position="last")


def leaderboard(d4: pd.DataFrame, forecasts: dict, **options) -> pd.DataFrame:
    """Evaluate every forecast table of ``forecasts`` (name → table) against ``d4`` with
    :func:`evaluate_forecast` (``options`` passed on) and rank them."""
    scores = {name: evaluate_forecast(d4, f, **options) for name, f in forecasts.items()}
    return rank_table(scores)


def format_leaderboard(table: pd.DataFrame, *, vents_percent: bool = True) -> str:
    """A text table in the challenge's layout (ventricle scores in % of ICV)."""
    t = table.copy()
    if vents_percent:
        for c in ("ventsMAE", "ventsWES"):
            t[c] = t[c] * 100
    cols = {"RANK": "{:.1f}", "mAUC": "{:.3f}", "BCA": "{:.3f}", "adasMAE": "{:.2f}",
            "adasWES": "{:.2f}", "adasCPA": "{:.2f}", "ventsMAE": "{:.3f}",
            "ventsWES": "{:.3f}", "ventsCPA": "{:.2f}"}
    out = t.loc[:, list(cols)].copy()
    for c, fmt in cols.items():
        out[c] = [("-" if not np.isfinite(v) else fmt.format(v)) for v in t[c]]
    return out.to_string()
