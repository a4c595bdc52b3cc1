"""Label switching: match the classes of a fit to a reference (Hungarian assignment).

A mixture's likelihood is invariant to permuting its classes, so estimates from
different data sets (simulation replications, bootstrap draws) are comparable only after
their classes are matched. Each class is summarised by its class-specific parameters
(factor intercepts, nonlinear parameters, log residual variance); the permutation
minimising the summed squared distance to the reference classes, scaled by the
reference's spread across classes, is found by the Hungarian algorithm
(``scipy.optimize.linear_sum_assignment``; Kuhn 1955).
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


def best_permutation(layout, theta, reference) -> np.ndarray:
    A, B = class_features(layout, theta), class_features(layout, reference)
    # features on which the reference classes differ, scaled by that spread (a feature
    # equal in every reference class, like a common θ, says nothing about labels)
    scale = B.std(0)
    keep = scale > 1e-8 * (np.abs(B).mean(0) + 1.0)
    if not keep.any():
        return np.arange(layout.K)
    d = (A[None, :, keep] - B[:, None, keep]) / scale[keep]
    cost = (d ** 2).sum(-1)                                            # ref j × fit k
    _, cols = linear_sum_assignment(cost)
    return cols                           # new class j = old class cols[j]


def match_to_reference(model, theta, reference) -> np.ndarray:
    lay = model.layout
    theta = canonical_signs(lay, theta)
    if lay.K == 1:
        return theta
    return permute_classes(lay, theta, best_permutation(lay, theta, reference))
