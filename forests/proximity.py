"""Case proximity (Breiman 2001; Brandmaier et al. 2016): the share of trees in which
two cases reach the same node, on all cases (in-bag and out-of-bag, as semtree's
``proximity``). A case missing a split covariate counts as reaching the internal node
where it stops. 1 − proximity is a distance for clustering cases or spotting outliers
(cases with low proximity to all others).
"""
from __future__ import annotations

import numpy as np


def proximity(node_ids: np.ndarray) -> np.ndarray:
    """(n, n) proximity from the node ids (n cases × T trees) of ``SEMForest.apply``."""
    ids = np.asarray(node_ids)
    n, T = ids.shape
    P = np.zeros((n, n))
    for t in range(T):
        col = ids[:, t]
        P += col[:, None] == col[None, :]
    return P / max(T, 1)


def outlier_scores(P: np.ndarray) -> np.ndarray:
    """Breiman's outlyingness: n / Σ_j P_ij² within the whole sample, centred by the
    median and scaled by the median absolute deviation."""
    raw = P.shape[0] / np.maximum((np.asarray(P) ** 2).sum(1), 1e-300)
    med = np.median(raw)
    mad = np.median(np.abs(raw - med)) or 1.0
    return (raw - med) / mad
