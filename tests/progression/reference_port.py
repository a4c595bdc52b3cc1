"""An independent, deliberately naive port of the official TADPOLE evaluation rules
(``evalOneSubmission.py`` / ``MAUC.py`` as described in
shared/research/forests_tadpole.md §B.3–B.4), written from the formulas with plain
Python loops — a cross-check for :mod:`progression.metrics`, not a copy of the code.

Inputs: D4 with ``Diagnosis`` as 0/1/2 (NaN missing) and datetime dates; forecast with
``Forecast Date`` as datetimes (first of the month).
"""
from __future__ import annotations

import math


def _a_value(pairs, zero, one):
    pts = [(lab, p[zero]) for lab, p in pairs if lab in (zero, one)]
    pts = sorted(pts, key=lambda x: x[1])          # Python's sort is stable
    n0 = n1 = 0
    s = 0
    for rank, (lab, _) in enumerate(pts, start=1):
        if lab == zero:
            n0 += 1
            s += rank
        else:
            n1 += 1
    return (s - n0 * (n0 + 1) / 2.0) / float(n0 * n1)


def mauc(pairs, c=3):
    total = 0.0
    for i in range(c):
        for j in range(i + 1, c):
            total += (_a_value(pairs, i, j) + _a_value(pairs, j, i)) / 2.0
    return total * (2 / float(c * (c - 1)))


def bca(est, true, c=3):
    vals = []
    for k in range(c):
        tp = sum(1 for e, t in zip(est, true) if e == k and t == k)
        tn = sum(1 for e, t in zip(est, true) if e != k and t != k)
        fp = sum(1 for e, t in zip(est, true) if e == k and t != k)
        fn = sum(1 for e, t in zip(est, true) if e != k and t == k)
        sens = 0.5 if tp + fn == 0 else tp / (tp + fn)
        spec = 0.5 if tn + fp == 0 else tn / (tn + fp)
        vals.append(0.5 * (sens + spec))
    return sum(vals) / len(vals)


def _closest(rows, when):
    """Index of the row whose month start is closest to ``when``; earliest on ties."""
    best, best_gap = None, None
    for k, r in enumerate(rows):
        gap = abs((when - r["Forecast Date"]).total_seconds())
        if best is None or gap < best_gap or (gap == best_gap and
                                              r["Forecast Date"] < rows[best]["Forecast Date"]):
            best, best_gap = k, gap
    return best


def evaluate(d4, forecast):
    rows_by_rid = {}
    for r in forecast.to_dict("records"):
        rows_by_rid.setdefault(r["RID"], []).append(r)
    pairs, hard, truth_dx = [], [], []
    adas, vents = [], []
    for s in d4.to_dict("records"):
        rows = rows_by_rid[s["RID"]]
        fc = rows[_closest(rows, s["CognitiveAssessmentDate"])] \
            if not _isnan(s["CognitiveAssessmentDate"]) else None
        if not _isnan(s["Diagnosis"]):
            p = [fc["CN relative probability"], fc["MCI relative probability"],
                 fc["AD relative probability"]]
            mean = (p[0] + p[1] + p[2]) / 3
            p = [v / mean for v in p]
            pairs.append((int(s["Diagnosis"]), p))
            hard.append(max(range(3), key=lambda k: (p[k], -k)))
            truth_dx.append(int(s["Diagnosis"]))
        if not _isnan(s["ADAS13"]):
            adas.append((s["ADAS13"], fc["ADAS13"], fc["ADAS13 50% CI lower"],
                         fc["ADAS13 50% CI upper"]))
        if not _isnan(s["Ventricles"]):
            fs = rows[_closest(rows, s["ScanDate"])]
            vents.append((s["Ventricles"], fs["Ventricles_ICV"],
                          fs["Ventricles_ICV 50% CI lower"], fs["Ventricles_ICV 50% CI upper"]))
    out = {"mAUC": mauc(pairs), "BCA": bca(hard, truth_dx)}
    for name, rows in (("adas", adas), ("vents", vents)):
        n = len(rows)
        out[f"{name}MAE"] = sum(abs(e - t) for t, e, _, _ in rows) / n
        w = [1 / (u - lo) for _, _, lo, u in rows]
        out[f"{name}WES"] = sum(c * abs(e - t) for c, (t, e, _, _) in zip(w, rows)) / sum(w)
        cov = sum(1 for t, _, lo, u in rows if lo < t < u) / n
        out[f"{name}CPA"] = abs(cov - 0.5)
    return out


def _isnan(v):
    try:
        return v is None or (isinstance(v, float) and math.isnan(v)) or v != v
    except TypeError:
        return False
