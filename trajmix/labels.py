"""Label switching: match the classes of a fit to a reference (Hungarian assignment).

A mixture's likelihood is invariant to permuting its classes, so estimates from
different data sets (simulation replications, bootstrap draws) are comparable only after
their classes are matched. Each class is summarised by its class-specific parameters
(factor intercepts, nonlinear parameters, log residual variance); the permutation
minimising the summed squared distance to the reference classes is found by the
Hungarian algorithm (``scipy.optimize.linear_sum_assignment``; Kuhn 1955).

Distances are in units of the reference's standard errors where it has them (a fit
matched by its bootstrap draws, or the first of ``fit_many``'s data sets), else in units
of the reference's spread across classes (a population θ). The spread is the wrong unit
for an *estimated* reference: a feature on which its classes differ by little (residual
variances 1.00 and 1.10) gets a tiny scale, and its sampling noise then outweighs
intercepts four SEs apart — bootstrap draws of a well-separated two-class model were
swapped that way before SEs were used.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from .problem import canonical_signs, permute_classes


def class_features(layout, theta) -> np.ndarray:
    rows = []
    for k in range(layout.K):
        f = [np.ravel(layout.get(theta, "alpha", k))]
        if layout.m:
            f.append(np.ravel(layout.get(theta, "nl", k)))
        f.append(np.atleast_1d(layout.get(theta, "logtheta", k)))
        rows.append(np.concatenate([np.asarray(v, dtype=float) for v in f]))
    return np.stack(rows)


def best_permutation(layout, theta, reference, reference_se=None) -> np.ndarray:
    A, B = class_features(layout, theta), class_features(layout, reference)
    # features on which the reference classes differ (a feature equal in every
    # reference class, like a common θ, says nothing about labels)
    spread = B.std(0)
    keep = spread > 1e-8 * (np.abs(B).mean(0) + 1.0)
    if not keep.any():
        return np.arange(layout.K)
    unit = spread[keep]                      # the same for every reference class
    if reference_se is not None:
        S = class_features(layout, np.asarray(reference_se, dtype=float))[:, None, keep]
        if np.all(np.isfinite(S)) and np.all(S > 0):
            unit = S                         # reference class j's own SEs
    d = (A[None, :, keep] - B[:, None, keep]) / unit
    cost = (d ** 2).sum(-1)                                            # ref j × fit k
    _, cols = linear_sum_assignment(cost)
    return cols                           # new class j = old class cols[j]


def match_to_reference(model, theta, reference, reference_se=None) -> np.ndarray:
    """θ with its classes permuted to match ``reference``'s; ``reference_se``: the
    standard errors of the reference θ (its raw parameters), the unit of distance."""
    lay = model.layout
    theta = canonical_signs(lay, theta)
    if lay.K == 1:
        return theta
    return permute_classes(lay, theta, best_permutation(lay, theta, reference,
                                                        reference_se))
