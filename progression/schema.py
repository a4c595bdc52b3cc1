"""The three tables of a TADPOLE-style forecast, their exact column names and checks.

* **Longitudinal table** (one row per visit; TADPOLE's ``TADPOLE_D1_D2.csv`` names):
  ``RID`` (subject), ``EXAMDATE`` (``YYYY-MM-DD``), ``DX`` (diagnosis), the targets
  ``ADAS13`` and ``Ventricles`` (mm³) with ``ICV`` (intracranial volume, mm³),
  demographics ``AGE`` (age at the subject's *baseline* visit, as in ADNIMERGE),
  ``PTGENDER``, ``PTEDUCAT``, ``APOE4`` (number of ε4 alleles) and biomarkers
  (``Hippocampus``, ``WholeBrain``, ``FDG``, ``ABETA``, ``TAU``, ``MMSE``, ``CDRSB`` ...).
  :func:`prepare_longitudinal` checks it and adds ``ICV_bl``, ``Ventricles_ICV``
  (= Ventricles / ICV_bl, the challenge's target) and the subject's age at each visit.
* **Forecast table** (the challenge's submission, one row per subject × month):
  :data:`FORECAST_COLUMNS`, with ``Forecast Date`` a ``YYYY-MM`` string.
* **Evaluation table** D4 (one row per follow-up visit): :data:`D4_COLUMNS`, dates
  ``YYYY-MM-DD``, ``Diagnosis`` CN / MCI / AD, ``Ventricles`` already divided by ICV.

Sources: the TADPOLE submission template and evaluation scripts (Marinescu et al.,
"TADPOLE Challenge: Prediction of Longitudinal Evolution in Alzheimer's Disease",
arXiv:1805.03909, and "Results after 1 Year Follow-up", MELBA 2021:019).
Every problem raises :class:`sem.errors.DataError` naming the column, subject or value.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sem.errors import DataError

# --- names -------------------------------------------------------------------------
DX_LABELS = ("CN", "MCI", "AD")
"""Diagnosis classes in the challenge's order (probability columns, 0 / 1 / 2)."""

# Spellings of a diagnosis in ADNI/TADPOLE tables → the challenge's label. ``DX`` in
# TADPOLE_D1_D2.csv is "NL", "MCI", "Dementia" or a change "MCI to Dementia" (the
# current diagnosis is the last word); ``DX_bl`` uses CN / SMC / EMCI / LMCI / AD.
DX_SYNONYMS = {
    "CN": "CN", "NL": "CN", "NORMAL": "CN", "CONTROL": "CN", "SMC": "CN",
    "MCI": "MCI", "EMCI": "MCI", "LMCI": "MCI",
    "AD": "AD", "DEMENTIA": "AD",
}
# DXCHANGE codes (ADNIMERGE): 1,7,9 → CN; 2,4,8 → MCI; 3,5,6 → AD.
DXCHANGE_CODES = {1: "CN", 2: "MCI", 3: "AD", 4: "MCI", 5: "AD", 6: "AD",
                  7: "CN", 8: "MCI", 9: "CN"}

ID, DATE = "RID", "EXAMDATE"
TARGETS = ("ADAS13", "Ventricles")
DEMOGRAPHICS = ("AGE", "PTGENDER", "PTEDUCAT", "APOE4")
BIOMARKERS = ("ADAS13", "MMSE", "CDRSB", "Ventricles", "Hippocampus", "WholeBrain",
              "FDG", "ABETA", "TAU")
LONGITUDINAL_CORE = (ID, DATE, "DX", "ADAS13", "Ventricles", "ICV", "AGE", "PTGENDER",
                     "APOE4")
"""Columns every longitudinal table should have (``check_longitudinal`` demands
``RID`` and ``EXAMDATE`` always, the rest where a forecaster uses them)."""

FORECAST_COLUMNS = (
    "RID", "Forecast Month", "Forecast Date",
    "CN relative probability", "MCI relative probability", "AD relative probability",
    "ADAS13", "ADAS13 50% CI lower", "ADAS13 50% CI upper",
    "Ventricles_ICV", "Ventricles_ICV 50% CI lower", "Ventricles_ICV 50% CI upper",
)
PROB_COLUMNS = FORECAST_COLUMNS[3:6]
ADAS_COLUMNS = FORECAST_COLUMNS[6:9]
VENTS_COLUMNS = FORECAST_COLUMNS[9:12]

D4_COLUMNS = ("RID", "CognitiveAssessmentDate", "Diagnosis", "ADAS13", "ScanDate",
              "Ventricles")

CHALLENGE_START = "2018-01"
CHALLENGE_MONTHS = 60


# --- small parsers -----------------------------------------------------------------
def ids(values, limit: int = 10) -> str:
    """Subject ids for a message: ``[3, 17, 25 ...]`` (plain Python values)."""
    vals = [v.item() if hasattr(v, "item") else v for v in list(values)]
    return "[" + ", ".join(map(str, vals[:limit])) + (" ..." if len(vals) > limit else "") + "]"


def parse_dates(values, column: str, fmt: str, rid=None, *,
                allow_missing=False) -> pd.Series:
    """Parse date strings of format ``fmt``; a value that does not parse is an error
    naming the column, the value and (if given, ``rid`` aligned with ``values``) the
    subject."""
    s = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
    else:
        out = pd.to_datetime(s.astype("string"), format=fmt, errors="coerce")
    bad = out.isna() & (s.notna() if allow_missing else True)
    if bad.any():
        where = np.nonzero(bad.to_numpy())[0][:5]
        shown = []
        for i in where:
            who = f"RID {_plain(pd.Series(rid).iloc[i])}: " if rid is not None else f"row {i}: "
            shown.append(f"{who}{s.iloc[i]!r}")
        raise DataError(
            f"column '{column}' has {int(bad.sum())} date(s) that do not parse as {fmt} "
            f"({'; '.join(shown)}{' ...' if bad.sum() > 5 else ''})")
    return out


def normalise_dx(values, column: str = "DX", rid=None) -> pd.Series:
    """Map diagnosis spellings to CN / MCI / AD (missing stays missing).

    Accepts the challenge's labels, TADPOLE's ``DX`` strings ("NL", "Dementia",
    "MCI to Dementia": the current diagnosis is the last word), ``DX_bl`` codes and the
    integer classes 0 / 1 / 2. Anything else is an error naming the label."""
    s = pd.Series(values).reset_index(drop=True)
    out = pd.Series(pd.NA, index=s.index, dtype="object")
    isnum = s.map(lambda v: isinstance(v, (int, float, np.integer, np.floating))
                  and not isinstance(v, bool))
    num = pd.to_numeric(s.where(isnum), errors="coerce")
    ints = num.notna() & num.isin([0, 1, 2])
    out[ints] = num[ints].astype(int).map(dict(enumerate(DX_LABELS)))
    strs = s.map(lambda v: isinstance(v, str))
    last = s[strs].str.strip().str.split().str[-1].str.upper()
    mapped = last.map(DX_SYNONYMS)
    out[strs] = mapped
    empty = strs & s.map(lambda v: isinstance(v, str) and not v.strip())
    unknown = out.isna() & s.notna() & ~empty & ~(isnum & num.isna())
    if unknown.any():
        labels = sorted({str(v) for v in s[unknown]})
        who = ""
        if rid is not None:
            rids = sorted(set(pd.Series(rid).reset_index(drop=True)[unknown].tolist()))
            who = f" (RID {ids(rids, 5)})"
        raise DataError(
            f"column '{column}' has unknown diagnosis label(s) {labels}{who}; expected "
            f"CN / MCI / AD (or NL, Dementia, 'MCI to Dementia', EMCI, LMCI, SMC, 0/1/2)")
    return out.where(out.notna(), np.nan)


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def forecast_months(start: str = CHALLENGE_START, n: int = CHALLENGE_MONTHS) -> list[str]:
    """``n`` consecutive months as ``YYYY-MM`` strings from ``start`` (the challenge:
    2018-01 … 2022-12)."""
    first = pd.Period(start, freq="M")
    return [str(first + k) for k in range(int(n))]


def month_strings(months) -> list[str]:
    """Normalise ``months`` (None, an int count, ``YYYY-MM`` strings, dates, Periods)
    to a list of ``YYYY-MM`` strings."""
    if months is None:
        return forecast_months()
    if isinstance(months, (int, np.integer)):
        return forecast_months(n=int(months))
    vals = list(months)
    if not vals:
        raise DataError("no forecast months given")
    out = []
    for v in vals:
        try:
            out.append(str(pd.Period(v, freq="M")))
        except (ValueError, TypeError):
            raise DataError(f"forecast month {v!r} is not a month (expected YYYY-MM)") from None
    if len(set(out)) != len(out):
        raise DataError("forecast months repeat")
    return out


def numeric(df: pd.DataFrame, column: str) -> np.ndarray:
    """A column as floats; non-numeric entries are an error naming the column."""
    col = df[column]
    if col.dtype == object or pd.api.types.is_string_dtype(col):
        conv = pd.to_numeric(col, errors="coerce")
        bad = conv.isna() & col.notna()
        if bad.any():
            raise DataError(f"column '{column}' is not numeric (e.g. {col[bad].iloc[0]!r})")
        col = conv
    x = col.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(x).any():
        raise DataError(f"column '{column}' has infinite values")
    return x


def require_columns(df, names, what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"the {what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise DataError(f"the {what} lacks column(s) {missing}; it has {list(df.columns)[:30]}")


# --- forecast and D4 tables ------------------------------------------------------------
def check_forecast(forecast: pd.DataFrame) -> pd.DataFrame:
    """Validate a forecast table; return a copy with ``Forecast Date`` parsed to the
    first day of its month (as the official evaluation does) and numeric columns.

    Errors (naming the column and subjects): a missing column, a date that is not
    ``YYYY-MM``, a repeated (RID, Forecast Date), a missing or non-finite value, a row
    whose relative probabilities are all zero or sum to ≤ 0 (the evaluation divides by
    their sum). Negative relative probabilities are *not* an error: the official code
    does not clip them (the challenge's web page says it does); they pass unchanged,
    with a warning naming the subjects.
    """
    require_columns(forecast, FORECAST_COLUMNS, "forecast table")
    if len(forecast) == 0:
        raise DataError("the forecast table has no rows")
    f = forecast.loc[:, list(FORECAST_COLUMNS)].reset_index(drop=True).copy()
    rid = f["RID"]
    if rid.isna().any():
        raise DataError("forecast table: column 'RID' has missing values")
    f["Forecast Date"] = parse_dates(f["Forecast Date"], "Forecast Date", "%Y-%m", rid=rid)
    for c in FORECAST_COLUMNS[3:]:
        x = numeric(f, c)
        if np.isnan(x).any():
            bad = sorted(set(rid[np.isnan(x)].tolist()))
            raise DataError(f"forecast table: column '{c}' is missing for RID {ids(bad)}")
        f[c] = x
    dup = f.duplicated(["RID", "Forecast Date"])
    if dup.any():
        r = f.loc[dup].iloc[0]
        raise DataError(f"forecast table: RID {r['RID']} has month "
                        f"{r['Forecast Date']:%Y-%m} more than once")
    p = f.loc[:, list(PROB_COLUMNS)].to_numpy()
    neg = (p < 0).any(axis=1)
    if neg.any():
        rids = sorted(set(f.loc[neg, "RID"].tolist()))
        warnings.warn(
            f"forecast table: negative relative probabilities for RID {ids(rids)}"
            "; they are used as given (the official "
            "evaluation code does not clip them, although the challenge's page says it "
            "sets them to zero)", UserWarning, stacklevel=3)
    bad = p.sum(axis=1) <= 0
    if bad.any():
        rows = f.loc[bad, ["RID", "Forecast Date"]].head(5)
        where = ", ".join(f"RID {r} {d:%Y-%m}" for r, d in rows.itertuples(index=False))
        raise DataError(
            f"forecast table: {int(bad.sum())} row(s) have relative probabilities that are "
            f"all zero or sum to a non-positive number ({where}); the evaluation "
            "normalises each row by its sum")
    return f


def check_d4(d4: pd.DataFrame, *, check_units: bool = True) -> pd.DataFrame:
    """Validate a D4 table; return a copy with parsed dates, ``Diagnosis`` as 0 / 1 / 2
    (NaN where missing) and numeric targets. Row order is kept (it decides mAUC's
    tie order, as in the official code).

    A date is needed only where its target is observed (``CognitiveAssessmentDate``
    for Diagnosis and ADAS13, ``ScanDate`` for Ventricles). With ``check_units`` a
    ``Ventricles`` value above 1 is an error: D4 holds Ventricles / ICV.
    """
    require_columns(d4, D4_COLUMNS, "D4 table")
    if len(d4) == 0:
        raise DataError("the D4 table has no rows: there is nothing to evaluate")
    d = d4.loc[:, list(D4_COLUMNS)].reset_index(drop=True).copy()
    rid = d["RID"]
    if rid.isna().any():
        raise DataError("D4 table: column 'RID' has missing values")
    dx = normalise_dx(d["Diagnosis"], "Diagnosis", rid=rid)
    d["Diagnosis"] = dx.map({lab: k for k, lab in enumerate(DX_LABELS)}).astype(float)
    for c in ("ADAS13", "Ventricles"):
        d[c] = numeric(d, c)
    need_cog = d["Diagnosis"].notna() | d["ADAS13"].notna()
    need_scan = d["Ventricles"].notna()
    for col, need in (("CognitiveAssessmentDate", need_cog), ("ScanDate", need_scan)):
        parsed = parse_dates(d[col], col, "%Y-%m-%d", rid=rid, allow_missing=True)
        miss = parsed.isna() & need
        if miss.any():
            bad = sorted(set(rid[miss].tolist()))
            raise DataError(f"D4 table: '{col}' is missing for RID {ids(bad)} although "
                            "the target measured on that date is present")
        d[col] = parsed
    if check_units and (d["Ventricles"] > 1).any():
        bad = sorted(set(rid[d["Ventricles"] > 1].tolist()))
        raise DataError(
            f"D4 table: 'Ventricles' above 1 for RID {ids(bad)}: D4 holds ventricle volume "
            "divided by intracranial volume (the forecast's Ventricles_ICV); divide the "
            "mm³ volumes by ICV (or pass check_units=False)")
    return d
