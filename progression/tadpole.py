"""Reading and writing the challenge's files.

* :func:`load_tadpole_d1d2` — the real ``TADPOLE_D1_D2.csv`` (ADNI data: download it
  from LONI IDA under ADNI's data use agreement; it cannot be shipped). Checked against
  the columns the TADPOLE data dictionary documents (``TADPOLE_D1_D2_Dict.csv``) that this
  package uses, with CSF values given as censoring strings (">1700", "<80") turned into
  their bound, and the UPENNBIOMK9 CSF columns renamed to ABETA / TAU / PTAU when the
  plain names are absent.
* :func:`read_forecast` / :func:`write_forecast` — a submission
  ``TADPOLE_Submission_<Team>.csv`` (checked with :func:`progression.schema.check_forecast`).
* :func:`read_d4` — an evaluation table in D4's format.
"""
from __future__ import annotations

import os
import re

import pandas as pd

from sem.errors import DataError

from .schema import D4_COLUMNS, DXCHANGE_CODES, FORECAST_COLUMNS, check_d4, check_forecast

#: columns of TADPOLE_D1_D2.csv this package relies on (names from its data dictionary)
D1D2_REQUIRED = ("RID", "EXAMDATE", "D1", "D2", "AGE", "PTGENDER", "APOE4", "ADAS13",
                 "Ventricles", "ICV_bl")
D1D2_OPTIONAL = ("DX", "DXCHANGE", "VISCODE", "PTEDUCAT", "MMSE", "CDRSB", "Hippocampus",
                 "WholeBrain", "Entorhinal", "Fusiform", "MidTemp", "ICV", "FDG", "AV45",
                 "ABETA", "TAU", "PTAU", "Years_bl", "Month_bl")
CSF_RENAMES = {"ABETA_UPENNBIOMK9_04_19_17": "ABETA", "TAU_UPENNBIOMK9_04_19_17": "TAU",
               "PTAU_UPENNBIOMK9_04_19_17": "PTAU"}


def _censored_to_number(col: pd.Series) -> pd.Series:
    """'>1700' → 1700, '<80' → 80; other text is an error naming the value."""
    if pd.api.types.is_numeric_dtype(col):
        return col.astype(float)
    s = col.astype("string").str.strip()
    num = pd.to_numeric(s.str.replace(r"^[<>]\s*", "", regex=True), errors="coerce")
    bad = num.isna() & s.notna() & (s != "") & (s != " ")
    if bad.any():
        raise DataError(f"column '{col.name}' has non-numeric values such as "
                        f"{s[bad].iloc[0]!r}")
    return num.astype(float)


def load_tadpole_d1d2(path, *, split: str | None = None) -> pd.DataFrame:
    """Read ``TADPOLE_D1_D2.csv``; ``split`` = "D1" or "D2" keeps the rows flagged so.

    The result is a longitudinal table in this package's format (``DX`` taken from
    TADPOLE's ``DX``, else from ``DXCHANGE`` codes). A missing documented column is a
    :class:`DataError` listing all of them."""
    if not os.path.exists(path):
        raise DataError(f"{path} does not exist. TADPOLE_D1_D2.csv comes from ADNI "
                        "(https://ida.loni.usc.edu, Study Data → Test Data → Tadpole "
                        "Challenge Data) under ADNI's data use agreement")
    df = pd.read_csv(path, low_memory=False)
    df = df.rename(columns={k: v for k, v in CSF_RENAMES.items()
                            if k in df.columns and v not in df.columns})
    missing = [c for c in D1D2_REQUIRED if c not in df.columns]
    if "DX" not in df.columns and "DXCHANGE" not in df.columns:
        missing.append("DX (or DXCHANGE)")
    if missing:
        raise DataError(f"{os.path.basename(str(path))} lacks documented TADPOLE column(s) "
                        f"{missing}; is it TADPOLE_D1_D2.csv?")
    if "DX" not in df.columns:
        df["DX"] = pd.to_numeric(df["DXCHANGE"], errors="coerce").map(DXCHANGE_CODES)
    for c in ("ABETA", "TAU", "PTAU"):
        if c in df.columns:
            df[c] = _censored_to_number(df[c])
    for c in D1D2_REQUIRED[2:] + D1D2_OPTIONAL:
        if c in df.columns and c not in ("PTGENDER", "DX", "DXCHANGE", "VISCODE"):
            df[c] = pd.to_numeric(df[c], errors="coerce") if df[c].dtype == object else df[c]
    if split is not None:
        if split not in ("D1", "D2"):
            raise ValueError("split must be 'D1', 'D2' or None")
        df = df[df[split] == 1]
    keep = [c for c in D1D2_REQUIRED + D1D2_OPTIONAL if c in df.columns]
    return df.loc[:, keep].reset_index(drop=True)


def write_forecast(forecast: pd.DataFrame, path) -> None:
    """Write a forecast table as the challenge's CSV (checked first; ``Forecast Date``
    as ``YYYY-MM``). The name should be ``TADPOLE_Submission_<Team>.csv``."""
    f = check_forecast(forecast)
    f["Forecast Date"] = f["Forecast Date"].dt.strftime("%Y-%m")
    f["Forecast Month"] = pd.to_numeric(f["Forecast Month"]).astype(int)
    name = os.path.basename(str(path))
    if not re.match(r"^TADPOLE_Submission_.+\.csv$", name):
        import warnings

        warnings.warn(f"{name}: the challenge names submissions "
                      "TADPOLE_Submission_<TeamName>.csv", UserWarning, stacklevel=2)
    f.loc[:, list(FORECAST_COLUMNS)].to_csv(path, index=False)


def read_forecast(path) -> pd.DataFrame:
    """Read a submission CSV (``Forecast Date`` kept as text, then checked)."""
    f = pd.read_csv(path, dtype={"Forecast Date": str})
    check_forecast(f)
    return f


def read_d4(path) -> pd.DataFrame:
    """Read an evaluation table in D4's format (dates kept as text, then checked)."""
    d = pd.read_csv(path, dtype={"CognitiveAssessmentDate": str, "ScanDate": str})
    check_d4(d)
    return d.loc[:, list(D4_COLUMNS)]


__all__ = ["load_tadpole_d1d2", "write_forecast", "read_forecast", "read_d4",
           "D1D2_REQUIRED"]
