"""Permutation variable importance on out-of-bag data (Brandmaier, Prindle, McArdle &
Lindenberger 2016, Psychological Methods 21(4), 566–582; Breiman 2001).

For tree t with out-of-bag cases O_t, every case is routed to a node and scored by
that node's model with its parameters fixed (no refit):

    D_t = −2 Σ_{i ∈ O_t} ℓ_i(θ̂_{node_t(i)}).

A case missing a split covariate stops at that internal node and is scored by its
model (semtree's ``evaluateTree``). For each covariate c used by tree t, the values of
c are permuted among the out-of-bag cases (one permutation; seeded per tree and
covariate), the cases routed again, and

    VI_{t,c} = D_{t,c}^{perm} − D_t   (> 0: the covariate's splits carry information).

A covariate that tree t does not use has VI_{t,c} = NA. Aggregation over trees
(``aggregate``) by the mean (semtree's default) or the median (semtree issue #93),
over the trees that use the covariate (``omit_na=True``, semtree's default) or with NA
counted as 0; ``scale="relative_baseline"`` reports 100 · VI_{t,c} / |D_t| (semtree's
``relative.baseline`` divides by D_t itself; the deviance of continuous data is
negative whenever the densities exceed 1 — small-scale outcomes such as Ventricles /
ICV — and dividing by it would flip the sign of every importance).

The log-likelihood of every case under every node of a tree is one batched evaluation
(nodes × cases), so the permutations themselves only re-route cases.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sem.errors import SpecificationError

AGGREGATES = ("mean", "median")
SCALES = ("absolute", "relative_baseline")


def node_logliks(fitter, trees) -> list:
    """Per tree, the (n_nodes, n) case log-likelihoods under every node's estimate
    (evaluated with the node's training weights, which matter only for data-derived
    parts of a model such as a saturated mean)."""
    U = np.concatenate([np.stack([nd.u for nd in t.nodes]) for t in trees])
    W = np.concatenate([np.stack([t.base_weights * nd.mask for nd in t.nodes])
                        for t in trees])
    W = np.where(W.sum(1, keepdims=True) > 0, W, 1.0)
    LL = fitter.loglik_cases(U, W * fitter.w0[None, :])
    out, lo = [], 0
    for t in trees:
        out.append(LL[lo:lo + len(t.nodes)])
        lo += len(t.nodes)
    return out


def _deviance(LL, at, rows, w0):
    ll = LL[at[rows], rows]
    return float(-2.0 * np.sum(w0[rows] * np.where(np.isfinite(ll), ll, np.nan)))


def tree_importance(tree, LL, covariates: dict, names: list, w0: np.ndarray, seed):
    """(D_t, {covariate: VI_{t,c}}) for one tree on its out-of-bag cases."""
    rows = np.nonzero(tree.oob & (w0 > 0))[0]
    vi = {c: np.nan for c in names}
    if rows.size == 0:
        return np.nan, vi
    values = {c: covariates[c] for c in tree.split_covariates()} or \
        {"_": np.zeros(w0.shape[0])}
    D0 = _deviance(LL, tree.route(values), rows, w0)
    for j, c in enumerate(names):
        if c not in values:
            continue
        rng = np.random.default_rng([int(seed), tree.seed, j])
        x = values[c].copy()
        x[rows] = x[rows][rng.permutation(rows.size)]
        at = tree.route(dict(values, **{c: x}))
        vi[c] = _deviance(LL, at, rows, w0) - D0
    return D0, vi


def permutation_importance(fitter, trees, covariates: dict, names: list, seed=0,
                           chunk: int = 20):
    """Per-tree importances (trees × covariates DataFrame) and baseline deviances."""
    rows, base = [], []
    for lo in range(0, len(trees), chunk):
        part = trees[lo:lo + chunk]
        for t, LL in zip(part, node_logliks(fitter, part)):
            D0, vi = tree_importance(t, LL, covariates, names, fitter.w0, seed)
            rows.append(vi)
            base.append(D0)
    idx = pd.RangeIndex(len(trees), name="tree")
    return pd.DataFrame(rows, index=idx, columns=names), pd.Series(base, index=idx,
                                                                   name="deviance")


def aggregate(per_tree: pd.DataFrame, baseline: pd.Series, how: str = "mean",
              scale: str = "absolute", omit_na: bool = True) -> pd.Series:
    """Forest importance of every covariate from the per-tree importances."""
    if how not in AGGREGATES:
        raise SpecificationError(f"aggregate must be one of {AGGREGATES}, got {how!r}")
    if scale not in SCALES:
        raise SpecificationError(f"scale must be one of {SCALES}, got {scale!r}")
    vi = per_tree
    if scale == "relative_baseline":
        vi = 100.0 * vi.div(baseline.abs(), axis=0)   # |D_t|: keeps the sign of VI
    if not omit_na:
        vi = vi.fillna(0.0)
    out = vi.mean(axis=0) if how == "mean" else vi.median(axis=0)
    out.name = "importance"
    out.index.name = "covariate"
    return out
