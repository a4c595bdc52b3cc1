"""The TADPOLE challenge's metrics, computed exactly as its official evaluation code.

``evaluate_forecast(d4, forecast)`` follows ``evaluation/evalOneSubmission.py`` of the
challenge (Marinescu et al., MELBA 2021:019, Table 3; PRIME 2019, PMC7315046, Table 3);
``variant="d4"`` follows the final-evaluation script ``evalOneSubmissionD4.py``.
With N_d rows of D4 that have a diagnosis, N rows with a target value M_i, forecast
M̂_i and 50% interval [L_i, U_i]:

* **Relative probabilities** are normalised per row, p_c ← p_c / ((p_CN+p_MCI+p_AD)/3)
  (``"d4"``: divided by the plain sum). Negative values are *not* clipped (the code does
  not, although the challenge's web page says so).
* **mAUC** (Hand & Till 2001, *Machine Learning* 45:171, eqs. 3 and 7): for classes
  i ≠ j take the rows labelled i or j, order them by p_i with a **stable** sort (ties
  keep D4 row order and get consecutive *ordinal* ranks, not averaged ones: Python's
  ``sorted`` in the official ``MAUC.py``), S_i the rank sum of the class-i rows,
  A(i|j) = (S_i − n_i(n_i+1)/2) / (n_i n_j); Â(i,j) = (A(i|j)+A(j|i))/2;
  mAUC = 2/(c(c−1)) Σ_{i<j} Â(i,j), c = 3. On tie-free data this equals scikit-learn's
  ``roc_auc_score(multi_class="ovo")``; with ties (0/1 forecasts) it does not. A class
  absent from D4 makes A undefined (the official code divides by zero).
* **BCA**: hard class = argmax (the first maximum wins: CN on a tie); for each class c,
  one versus the rest, BCA_c = ½(TP/(TP+FN) + TN/(TN+FP)) with a ratio set to 0.5 when
  its denominator is 0; BCA = mean_c BCA_c. (An earlier version of the script averaged
  over class *pairs*; the final one, used for the published results, is one-vs-rest.)
* **MAE** = (1/N) Σ |M̂_i − M_i|.
* **WES** = Σ C_i |M̂_i − M_i| / Σ C_i with C_i = 1/(U_i − L_i). A zero-width interval
  gives C_i = ∞ and WES = NaN in the reference (warned here); ``"d4"`` uses
  C_i = 1/|U_i − L_i| and equal weights when any width is zero.
* **CPA** = |ACP − 0.5|, ACP = #{i : L_i < M_i < U_i} / N — strict inequalities, so a
  truth on a bound is not covered.
* NaN targets in D4 are dropped per target (diagnosis, ADAS13, ventricles separately).
* ``"d4"`` only: all point forecasts exactly 0 → that target's scores are NaN; ventricle
  MAE or WES above 20 (volumes not divided by ICV) → NaN; NaN MAE → NaN WES and CPA.

Dates: :mod:`progression.matching`. Inputs: :func:`progression.schema.check_d4`,
:func:`progression.schema.check_forecast`.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from sem.errors import DataError

from .matching import (MATCHED_ADAS, MATCHED_PROBS, MATCHED_VENTS, check_complete,
                       match_forecast)
from .schema import DX_LABELS, check_d4, check_forecast, ids

METRIC_KEYS = ("mAUC", "BCA", "adasMAE", "ventsMAE", "adasWES", "ventsWES", "adasCPA",
               "ventsCPA")
VARIANTS = {"reference": 60, "d4": 48}


# --- diagnosis ---------------------------------------------------------------------------
def normalise_probabilities(p, variant: str = "reference") -> np.ndarray:
    """Rows of relative probabilities (n, 3) divided by their mean (``"reference"``)
    or by their sum (``"d4"``), in the official code's order of operations."""
    p = np.asarray(p, dtype=float)
    total = p[:, 0] + p[:, 1] + p[:, 2]
    scale = total / 3 if variant == "reference" else total
    return p / scale[:, None]


def a_value(labels, probs, zero: int, one: int, *, ties: str = "ordinal") -> float:
    """Hand & Till's A(zero|one) (their eq. 3) with the official rank rule.

    ``ties="ordinal"``: stable sort by p_zero, ranks 1..n in that order (the official
    ``MAUC.py``); ``"average"``: tied scores share their mean rank (the Mann–Whitney
    form, which equals the area under the ROC curve).
    """
    labels = np.asarray(labels)
    sel = (labels == zero) | (labels == one)
    keys = np.asarray(probs, dtype=float)[sel, zero]
    lab = labels[sel]
    n0 = int(np.sum(lab == zero))
    n1 = int(np.sum(lab == one))
    if n0 == 0 or n1 == 0:
        raise ZeroDivisionError(f"class {zero if n0 == 0 else one} has no rows")
    if ties == "ordinal":
        ranks = np.empty(len(keys))
        ranks[np.argsort(keys, kind="stable")] = np.arange(1, len(keys) + 1)
    elif ties == "average":
        ranks = rankdata(keys, method="average")
    else:
        raise ValueError("ties must be 'ordinal' or 'average'")
    s = float(ranks[lab == zero].sum())
    return (s - n0 * (n0 + 1) / 2.0) / float(n0 * n1)


def mauc(labels, probs, *, num_classes: int = 3, ties: str = "ordinal") -> float:
    """Hand & Till's multiclass AUC (their eq. 7), summed in the official order."""
    total = 0.0
    for i in range(num_classes):
        for j in range(i + 1, num_classes):
            total += (a_value(labels, probs, i, j, ties=ties)
                      + a_value(labels, probs, j, i, ties=ties)) / 2.0
    return total * (2 / float(num_classes * (num_classes - 1)))


def bca(estimated, true, num_classes: int = 3) -> float:
    """Balanced classification accuracy, one class versus the rest, averaged."""
    est = np.asarray(estimated)
    tru = np.asarray(true)
    out = []
    for c in range(num_classes):
        tp = np.sum((est == c) & (tru == c))
        tn = np.sum((est != c) & (tru != c))
        fp = np.sum((est == c) & (tru != c))
        fn = np.sum((est != c) & (tru == c))
        sens = 0.5 if tp + fn == 0 else (1.0 * tp) / (tp + fn)
        spec = 0.5 if tn + fp == 0 else (1.0 * tn) / (tn + fp)
        out.append(0.5 * (sens + spec))
    return float(np.mean(out))


# --- continuous targets --------------------------------------------------------------------
def mae(estimate, true) -> float:
    return float(np.mean(np.abs(np.asarray(estimate) - np.asarray(true))))


def wes(estimate, lower, upper, true, *, variant: str = "reference") -> float:
    """Weighted error score, weights 1/(U − L) (module docstring for ``"d4"``)."""
    err = np.abs(np.asarray(estimate) - np.asarray(true))
    width = np.asarray(upper, dtype=float) - np.asarray(lower, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if variant == "reference":
            c = 1 / width
        elif np.all(np.abs(width) != 0) and not np.all(np.isnan(upper)):
            c = 1.0 / np.abs(width)
            c[np.isnan(c)] = 0
        else:
            c = np.ones(len(width))
        return float(np.sum(c * err) / np.sum(c))


def coverage(lower, upper, true) -> float:
    """Actual coverage probability #{L < M < U}/N (strict)."""
    true = np.asarray(true)
    return float(np.sum((np.asarray(lower) < true) & (np.asarray(upper) > true))
                 / true.shape[0])


def cpa(lower, upper, true) -> float:
    """Coverage probability accuracy |ACP − 0.5| for 50% intervals."""
    return float(np.abs(coverage(lower, upper, true) - 0.5))


# --- the whole evaluation ------------------------------------------------------------------
def evaluate_forecast(d4: pd.DataFrame, forecast: pd.DataFrame, *,
                      variant: str = "reference", on_undefined: str = "raise",
                      check_units: bool = True) -> dict:
    """Score a forecast table against a D4 table (both in the challenge's formats).

    Returns ``{"mAUC", "BCA", "adasMAE", "ventsMAE", "adasWES", "ventsWES", "adasCPA",
    "ventsCPA"}`` as floats. ``variant``: ``"reference"`` (``evalOneSubmission.py``) or
    ``"d4"`` (``evalOneSubmissionD4.py``). ``on_undefined``: when a diagnosis class is
    absent from D4 mAUC is undefined — ``"raise"`` (a :class:`DataError`, as the
    official code fails) or ``"nan"`` (NaN with a warning, the other scores still
    computed). A target with no value in D4 scores NaN, with a warning.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {list(VARIANTS)}")
    if on_undefined not in ("raise", "nan"):
        raise ValueError("on_undefined must be 'raise' or 'nan'")
    d = check_d4(d4, check_units=check_units)
    f = check_forecast(forecast)
    check_complete(d, f, VARIANTS[variant])
    m = match_forecast(d, f)
    out = dict.fromkeys(METRIC_KEYS, np.nan)
    out.update(_diagnosis_scores(m, variant, on_undefined))
    for name, cols, truth in (("adas", MATCHED_ADAS, "ADAS13"),
                              ("vents", MATCHED_VENTS, "Ventricles")):
        out.update(_target_scores(m, name, cols, truth, variant))
    return {k: float(out[k]) for k in METRIC_KEYS}


def _diagnosis_scores(m: pd.DataFrame, variant: str, on_undefined: str) -> dict:
    keep = m["Diagnosis"].notna().to_numpy()
    if not keep.any():
        warnings.warn("no D4 row has a Diagnosis: mAUC and BCA are NaN", UserWarning,
                      stacklevel=3)
        return {}
    labels = m.loc[keep, "Diagnosis"].to_numpy().astype(int)
    p = normalise_probabilities(m.loc[keep, list(MATCHED_PROBS)].to_numpy(), variant)
    hard = np.argmax(p, axis=1)
    res = {"BCA": bca(hard, labels)}
    absent = [DX_LABELS[c] for c in range(3) if not np.any(labels == c)]
    if absent:
        msg = (f"mAUC is undefined: no D4 row has Diagnosis {absent} (Hand & Till's "
               "A(i|j) needs rows of both classes of every pair)")
        if on_undefined == "raise":
            raise DataError(msg + "; pass on_undefined='nan' to get the other scores")
        warnings.warn(msg + "; mAUC is NaN", UserWarning, stacklevel=3)
        res["mAUC"] = np.nan
    else:
        res["mAUC"] = mauc(labels, p)
    return res


def _target_scores(m: pd.DataFrame, name: str, cols, truth: str, variant: str) -> dict:
    keep = m[truth].notna().to_numpy()
    if not keep.any():
        warnings.warn(f"no D4 row has {truth}: {name}MAE/WES/CPA are NaN", UserWarning,
                      stacklevel=3)
        return {}
    t = m.loc[keep, truth].to_numpy(dtype=float)
    est, lo, up = (m.loc[keep, c].to_numpy(dtype=float) for c in cols)
    if variant == "d4" and np.all(est == 0):
        est = np.full_like(est, np.nan)
    width = up - lo
    if variant == "reference" and np.any(width <= 0):
        rids = sorted(set(m.loc[keep, "RID"][width <= 0].tolist()))
        warnings.warn(
            f"{truth}: 50% intervals of zero or negative width for RID {ids(rids)}: the "
            "reference weight 1/(U−L) is infinite or negative, so WES is "
            f"{'NaN' if np.any(width == 0) else 'distorted'} (variant='d4' uses |U−L| "
            "and equal weights when a width is 0)", UserWarning, stacklevel=3)
    res = {f"{name}MAE": mae(est, t), f"{name}WES": wes(est, lo, up, t, variant=variant),
           f"{name}CPA": cpa(lo, up, t)}
    if variant == "d4":
        if name == "vents" and (res["ventsMAE"] > 20 or res["ventsWES"] > 20):
            res["ventsMAE"] = res["ventsWES"] = np.nan
        if np.isnan(res[f"{name}MAE"]):
            res[f"{name}WES"] = res[f"{name}CPA"] = np.nan
    return res
