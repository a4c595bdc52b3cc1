"""Split rules and the candidate splits of a node (semtree's conventions).

A split sends a case **right** when its rule is true and **left** otherwise; a case
missing the covariate goes to neither child (it stays in the node, semtree's default):

* numeric ``x > c`` with c the midpoint between consecutive distinct values observed in
  the node (Brandmaier et al. 2013);
* ordered ``x > level`` after each observed level but the last;
* unordered ``x ∈ S``: all 2^(L−1) − 1 bipartitions of the L observed levels, S the
  smaller side (with ties, the side holding the first level). Above ``exhaustive``
  levels (default 10, i.e. 511 bipartitions) only the L − 1 splits along a given level
  order are tried (the order of the levels' mean scores on their first principal
  direction, computed by the caller; a heuristic, documented in docs/forests.md).

Candidates leaving fewer than ``min_bucket`` (weighted) cases on either side are not
generated, so they cost nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .covariates import CATEGORICAL, NUMERIC, ORDERED, Covariate


@dataclass(frozen=True)
class SplitRule:
    covariate: str
    kind: str
    threshold: float | None = None        # numeric: x > threshold; ordered: code > threshold
    subset: tuple = ()                    # categorical: codes going right
    labels: tuple = ()                    # labels of ``subset`` / of the ordered level

    def goes_right(self, values: np.ndarray) -> np.ndarray:
        """True where the rule holds (missing values: False; see ``observed``)."""
        if self.kind == NUMERIC:
            with np.errstate(invalid="ignore"):
                return values > self.threshold
        if self.kind == ORDERED:
            return values > self.threshold
        top = max(int(values.max(initial=0)), max(self.subset, default=0)) + 2
        member = np.zeros(top, dtype=bool)
        member[list(self.subset)] = True
        return member[np.where(values >= 0, values, top - 1)]

    @staticmethod
    def observed(values: np.ndarray) -> np.ndarray:
        if values.dtype.kind == "f":
            return ~np.isnan(values)
        return values >= 0

    def describe(self) -> str:
        if self.kind == NUMERIC:
            return f"{self.covariate} > {self.threshold:.4g}"
        if self.kind == ORDERED:
            return f"{self.covariate} > {self.labels[0]}"
        return f"{self.covariate} in {{{', '.join(map(str, self.labels))}}}"

    def describe_left(self) -> str:
        if self.kind == NUMERIC:
            return f"{self.covariate} <= {self.threshold:.4g}"
        if self.kind == ORDERED:
            return f"{self.covariate} <= {self.labels[0]}"
        return f"{self.covariate} not in {{{', '.join(map(str, self.labels))}}}"


@dataclass
class Candidates:
    """The candidate splits of one covariate in one node."""

    covariate: Covariate
    rules: list

    def __len__(self) -> int:
        return len(self.rules)

    def right_masks(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """(C, n) bool: cases each candidate sends right (before node membership)."""
        rules = self.rules[lo:hi]
        x = self.covariate.values
        if not rules:
            return np.zeros((0, x.shape[0]), dtype=bool)
        kind = self.covariate.kind
        if kind in (NUMERIC, ORDERED):
            t = np.array([r.threshold for r in rules], dtype=float)
            xs = np.where(SplitRule.observed(x), x, -np.inf).astype(float)
            return xs[None, :] > t[:, None]
        L = max(len(self.covariate.levels), 1)
        member = np.zeros((len(rules), L + 1), dtype=bool)
        for i, r in enumerate(rules):
            member[i, list(r.subset)] = True
        return member[:, np.where(x >= 0, x, L)]


def _midpoints(v: np.ndarray) -> np.ndarray:
    mid = (v[1:] + v[:-1]) / 2.0
    # midpoints of values one ulp apart round onto the lower value; keep the split valid
    return np.where(mid < v[1:], mid, v[:-1])


def _valid_cuts(values: np.ndarray, w: np.ndarray, min_bucket: float):
    """Distinct observed values (sorted), and for each cut after value j whether both
    sides hold at least ``min_bucket`` weight."""
    uniq, inv = np.unique(values, return_inverse=True)
    wsum = np.bincount(inv.ravel(), weights=w, minlength=uniq.size)
    left = np.cumsum(wsum)[:-1]
    total = wsum.sum()
    ok = (left >= min_bucket) & (total - left >= min_bucket)
    return uniq, ok, left / total


def numeric_candidates(cov: Covariate, w: np.ndarray, min_bucket: float,
                       max_points: int | None = None) -> Candidates:
    sel = (w > 0) & SplitRule.observed(cov.values)
    if sel.sum() < 2:
        return Candidates(cov, [])
    uniq, ok, _ = _valid_cuts(cov.values[sel], w[sel], min_bucket)
    cuts = _midpoints(uniq)[ok]
    if max_points is not None and cuts.size > max_points:
        cuts = cuts[np.unique(np.linspace(0, cuts.size - 1, max_points).round().astype(int))]
    return Candidates(cov, [SplitRule(cov.name, NUMERIC, float(c)) for c in cuts])


def ordered_candidates(cov: Covariate, w: np.ndarray, min_bucket: float) -> Candidates:
    sel = (w > 0) & (cov.values >= 0)
    if sel.sum() < 2:
        return Candidates(cov, [])
    uniq, ok, _ = _valid_cuts(cov.values[sel], w[sel], min_bucket)
    return Candidates(cov, [SplitRule(cov.name, ORDERED, float(c),
                                      labels=(cov.label(c),))
                            for c, good in zip(uniq[:-1], ok) if good])


def _smaller(a, b, first):
    if len(a) != len(b):
        return a if len(a) < len(b) else b
    return a if first in a else b


def bipartitions(levels, order=None, exhaustive: int = 10):
    """Subsets S (the side going right) of the observed ``levels``: all 2^(L−1) − 1
    bipartitions when L ≤ ``exhaustive``, else the L − 1 splits along ``order``."""
    levels = list(levels)
    L = len(levels)
    if L < 2:
        return []
    if L > exhaustive:
        order = list(order) if order is not None else levels
        return [tuple(sorted(_smaller(order[:i], order[i:], levels[0])))
                for i in range(1, L)]
    out = []
    for size in range(1, L // 2 + 1):
        for S in combinations(levels, size):
            if 2 * size == L and levels[0] not in S:
                continue
            out.append(tuple(S))
    return out


def categorical_candidates(cov: Covariate, w: np.ndarray, min_bucket: float, *,
                           order=None, exhaustive: int = 10) -> Candidates:
    sel = (w > 0) & (cov.values >= 0)
    codes = cov.values[sel]
    if codes.size < 2:
        return Candidates(cov, [])
    counts = np.bincount(codes, weights=w[sel], minlength=max(len(cov.levels), 1))
    levels = [int(c) for c in np.nonzero(counts > 0)[0]]
    total = counts.sum()
    rules = []
    for S in bipartitions(levels, order, exhaustive):
        right = counts[list(S)].sum()
        if right >= min_bucket and total - right >= min_bucket:
            rules.append(SplitRule(cov.name, CATEGORICAL, subset=tuple(S),
                                   labels=tuple(cov.label(c) for c in S)))
    return Candidates(cov, rules)


def candidates(cov: Covariate, w: np.ndarray, min_bucket: float, *,
               max_points: int | None = None, order=None,
               exhaustive: int = 10) -> Candidates:
    """All candidate splits of ``cov`` in the node with case weights ``w``."""
    if cov.kind == NUMERIC:
        return numeric_candidates(cov, w, min_bucket, max_points)
    if cov.kind == ORDERED:
        return ordered_candidates(cov, w, min_bucket)
    return categorical_candidates(cov, w, min_bucket, order=order, exhaustive=exhaustive)
