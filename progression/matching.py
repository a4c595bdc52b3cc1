"""Matching forecast months to evaluation visits, as the official TADPOLE evaluation does.

For every D4 row (a follow-up visit of subject ``RID``) the evaluation takes

* the diagnosis and ADAS13 forecasts from the subject's forecast row whose
  ``Forecast Date`` — read as the *first day* of that month — is closest to
  ``CognitiveAssessmentDate``;
* the Ventricles_ICV forecast from the row closest to ``ScanDate`` (it may be another
  month).

A date exactly midway between two month starts (day 16 of a 30-day month, day 15 of a
28-day February) is a tie; the official code breaks it with numpy's unstable default
``argsort``, whose choice depends on the numpy build. Here the **earlier** month wins,
always, and the tie is reported (columns ``cog_tie`` / ``scan_tie``).

Completeness (``evalOneSubmission.py``): every D4 subject needs forecasts, at least 60
months of them (``evalOneSubmissionD4.py``: 48). Unlike the official script, which
prints a warning per subject and then fails, the error here names every missing subject
and every missing month.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sem.errors import DataError

from .schema import ADAS_COLUMNS, PROB_COLUMNS, VENTS_COLUMNS, _plain, ids

#: columns of :func:`match_forecast` holding the matched forecasts (the ADAS13 estimate
#: is renamed so that it does not overwrite D4's true ADAS13)
MATCHED_ADAS = ("ADAS13 forecast",) + ADAS_COLUMNS[1:]
MATCHED_PROBS = PROB_COLUMNS
MATCHED_VENTS = VENTS_COLUMNS


def check_complete(d4: pd.DataFrame, forecast: pd.DataFrame, min_months: int) -> None:
    """Raise a :class:`DataError` naming the D4 subjects without forecasts and those
    with fewer than ``min_months`` months (listing the months they lack)."""
    counts = forecast.groupby("RID")["Forecast Date"].nunique()
    rids = pd.unique(d4["RID"])
    absent = [r for r in rids if r not in counts.index]
    short = [r for r in rids if r in counts.index and counts[r] < min_months]
    if not absent and not short:
        return
    parts = []
    if absent:
        parts.append(f"{len(absent)} D4 subject(s) have no forecast: RID "
                     f"{ids(absent, 20)}")
        have = {str(_plain(r)) for r in counts.index}
        if any(str(_plain(r)) in have for r in absent):
            parts[-1] += (f" (the two tables write RID differently: D4 as "
                         f"{d4['RID'].dtype}, the forecast as {forecast['RID'].dtype}, "
                          "e.g. text against numbers; convert one of them)")
    if short:
        months = pd.DatetimeIndex(sorted(forecast["Forecast Date"].unique()))
        lines = []
        for r in short[:10]:
            have = set(forecast.loc[forecast["RID"] == r, "Forecast Date"])
            lacking = [f"{m:%Y-%m}" for m in months if m not in have]
            lines.append(f"RID {_plain(r)} has {counts[r]} month(s)"
                         + (f", lacks {lacking[:12]}{' ...' if len(lacking) > 12 else ''}"
                            if lacking else ""))
        parts.append(f"{len(short)} subject(s) have fewer than {min_months} forecast "
                     f"months: " + "; ".join(lines) + (" ..." if len(short) > 10 else ""))
    raise DataError("Submission was incomplete: " + ". ".join(parts))


def _nearest(d4: pd.DataFrame, forecast: pd.DataFrame, date_col: str):
    """Index (into ``forecast``) of the month closest to each D4 row's ``date_col``,
    earliest month on ties; −1 where the date is missing. Also returns the tie flags."""
    left = pd.DataFrame({"row": np.arange(len(d4)), "RID": d4["RID"].to_numpy(),
                         "when": d4[date_col].to_numpy()})
    left = left[left["when"].notna()]
    right = pd.DataFrame({"RID": forecast["RID"].to_numpy(),
                          "month": forecast["Forecast Date"].to_numpy(),
                          "frow": np.arange(len(forecast))})
    m = left.merge(right, on="RID", how="inner")
    m["gap"] = (m["when"] - m["month"]).abs()
    m = m.sort_values(["row", "gap", "month"], kind="stable")
    first = m.drop_duplicates("row", keep="first")
    second = m[m.duplicated("row", keep="first")].drop_duplicates("row", keep="first")
    idx = np.full(len(d4), -1)
    idx[first["row"].to_numpy()] = first["frow"].to_numpy()
    tie = np.zeros(len(d4), bool)
    gap1 = pd.Series(first["gap"].to_numpy(), index=first["row"].to_numpy())
    gap2 = pd.Series(second["gap"].to_numpy(), index=second["row"].to_numpy())
    both = gap1.index.intersection(gap2.index)
    tie[both] = (gap1[both] == gap2[both]).to_numpy()
    return idx, tie


def match_forecast(d4: pd.DataFrame, forecast: pd.DataFrame) -> pd.DataFrame:
    """One row per D4 row (same order) with the matched forecasts.

    Inputs are the *checked* tables (:func:`progression.schema.check_d4`,
    :func:`progression.schema.check_forecast`). Columns: the D4 columns, then
    ``cog_month`` / ``scan_month`` (the matched months), the three relative
    probabilities, ``ADAS13 forecast`` and its bounds from the cognitive month,
    Ventricles_ICV and its bounds from the scan month (:data:`MATCHED_ADAS` …), and the
    tie flags.
    """
    ci, ctie = _nearest(d4, forecast, "CognitiveAssessmentDate")
    si, stie = _nearest(d4, forecast, "ScanDate")
    out = d4.copy()

    def take(idx, cols):
        vals = forecast.loc[:, list(cols)].to_numpy(dtype=float)
        got = np.full((len(idx), len(cols)), np.nan)
        ok = idx >= 0
        got[ok] = vals[idx[ok]]
        return got

    months = forecast["Forecast Date"].to_numpy()
    out["cog_month"] = pd.Series(np.where(ci >= 0, months[np.maximum(ci, 0)],
                                          np.datetime64("NaT")))
    out["scan_month"] = pd.Series(np.where(si >= 0, months[np.maximum(si, 0)],
                                           np.datetime64("NaT")))
    for cols, names, idx in ((PROB_COLUMNS, MATCHED_PROBS, ci),
                             (ADAS_COLUMNS, MATCHED_ADAS, ci),
                             (VENTS_COLUMNS, MATCHED_VENTS, si)):
        got = take(idx, cols)
        for k, c in enumerate(names):
            out[c] = got[:, k]
    out["cog_tie"] = ctie
    out["scan_tie"] = stie
    return out
