"""Growing trees level by level, many trees at once (Brandmaier et al. 2013, Alg. 1).

At every node: fit the model (warm-started at the parent's estimate), stop if the fit
did not converge, if N ≤ ``min_N`` or the depth reached ``max_depth``; otherwise draw
``mtry`` covariates (forests), find the best split of each (``split_lr`` or
``score_tests``), pick the covariate, Bonferroni-adjust its p-value over the covariates
tested (p·m, capped at 1) if asked, and split unless p > ``alpha``.

Trees grow breadth-first and together: the nodes of one level of every tree in the
batch are fitted in one batched call, all candidate splits of all of them in the
next, so a forest costs a few dozen compiled calls per level rather than one call per
fit. Randomness is drawn per node from ``numpy.random.default_rng([tree seed, node
path])``, so a tree does not depend on which other trees grow beside it (one process,
many, or a dask cluster give the same forest).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from sem.optimize import STATUS

from .candidates import SplitRule
from .nodes import Node, TreeStructure
from .score_tests import CovariateTest, decorrelate, score_test
from .split_lr import fair_search, naive_search

METHODS = ("naive", "score", "fair", "fair3")
SCORE_CHUNK = 64       # nodes whose (n, k) score matrices are held at once


@dataclass(frozen=True)
class Settings:
    """Tree-growing controls (semtree's ``semtree_control`` names in brackets)."""

    method: str = "naive"              # naive | score | fair | fair3   [method]
    alpha: float = 0.05                # split if p <= alpha           [alpha]
    bonferroni: bool = False           # p·m over the m covariates     [bonferroni]
    min_N: float | None = None         # no split if N <= min_N        [min.N]
    min_bucket: float | None = None    # children hold >= min_bucket   [min.bucket]
    max_depth: int | None = None       # root has depth 0              [max.depth]
    use_maxlr: bool = False            # maxLR correction (naive)      [use.maxlr]
    trim: float = 0.15                 # π of supLM / maxLR            [strucchange.from]
    information: str = "observed"      # Î for score tests: observed | opg
    max_split_points: int | None = None  # cap per numeric covariate [chunk.random.samples]
    exhaustive_levels: int = 10        # all bipartitions up to this many levels
    mtry: int | None = None            # covariates drawn per node (forests)
    max_iter: int = 500                # BFGS iterations per node fit

    def resolve(self, k: int) -> "Settings":
        """semtree's defaults: min_N = max(20, 5k), min_bucket = max(10, min_N/2); only
        min_bucket given: min_N = 2·min_bucket."""
        min_N, min_bucket = self.min_N, self.min_bucket
        if min_N is None and min_bucket is not None:
            min_N = 2 * min_bucket
        if min_N is None:
            min_N = max(20, 5 * k)
        if min_bucket is None:
            min_bucket = max(10, min_N / 2)
        return replace(self, min_N=float(min_N), min_bucket=float(min_bucket))


@dataclass
class GrowContext:
    fitter: object
    covariates: list            # forests.covariates.Covariate
    orders: list                # per covariate: all cases sorted by it, missing last
    settings: Settings
    k: int
    root_u: np.ndarray
    root_h0: np.ndarray

    @classmethod
    def build(cls, fitter, covariates, settings, root_u, root_h0):
        orders = []
        for cov in covariates:
            x = cov.values.astype(float)
            x = np.where(SplitRule.observed(cov.values), x, np.inf)
            orders.append(np.argsort(x, kind="stable"))
        k = fitter.k
        return cls(fitter, covariates, orders, settings.resolve(k), k,
                   np.asarray(root_u, float), np.asarray(root_h0, float))


@dataclass
class Item:
    """A node about to be split."""

    tree: TreeStructure
    node: Node
    w: np.ndarray
    covariates: list
    rng: np.random.Generator


def new_tree(base_weights: np.ndarray, seed: int, param_names) -> TreeStructure:
    root = Node(id=0, path=1, depth=0, parent=None, mask=base_weights > 0)
    return TreeStructure([root], list(param_names), np.asarray(base_weights, float),
                         int(seed))


# -- one level ---------------------------------------------------------------------------
def _fit_nodes(ctx: GrowContext, pending):
    k = ctx.k
    W = np.stack([tree.base_weights * nd.mask for tree, nd in pending])
    U0 = np.stack([ctx.root_u if nd.parent is None else tree.nodes[nd.parent].u
                   for tree, nd in pending])
    H0 = np.stack([ctx.root_h0 if nd.parent is None else tree.nodes[nd.parent].h0
                   for tree, nd in pending]).reshape(len(pending), k, k)
    fb = ctx.fitter.fit(W, U0, H0)
    for i, (tree, nd) in enumerate(pending):
        nd.n = float(W[i].sum())
        nd.converged = bool(fb.converged[i])
        nd.status = int(fb.status[i])
        if nd.converged:
            nd.u, nd.theta, nd.llf = fb.u[i], fb.theta[i], float(fb.llf[i])
            nd.info, nd.h0 = fb.info[i], fb.h0[i]
            continue
        why = STATUS.get(nd.status, "not finite") if np.isfinite(fb.llf[i]) else \
            "log-likelihood not finite (e.g. a covariance that is not positive definite)"
        nd.term_reason = f"node model did not converge ({why})"
        parent = tree.nodes[nd.parent] if nd.parent is not None else None
        # keep the parent's estimates for prediction; the split that made it is kept
        nd.u = parent.u if parent is not None else fb.u[i]
        nd.theta = parent.theta if parent is not None else fb.theta[i]
        nd.notes.append(nd.term_reason)
        tree.notes.append(f"node {nd.id} (depth {nd.depth}, N = {nd.n:g}): "
                          f"{nd.term_reason}; not split further, its parent's estimates "
                          "are used")


def _draw_covariates(ctx: GrowContext, rng: np.random.Generator) -> list:
    p = len(ctx.covariates)
    m = ctx.settings.mtry
    if m is None or m >= p:
        return list(range(p))
    return sorted(rng.choice(p, size=m, replace=False).tolist())


def _select(ctx: GrowContext, tests: list):
    ok = [t for t in tests if t.rule is not None and np.isfinite(t.statistic)]
    if not ok:
        return None
    s = ctx.settings
    if s.method in ("fair", "fair3") or (s.method == "naive" and not s.use_maxlr):
        return max(ok, key=lambda t: t.statistic)       # first on ties
    return min(ok, key=lambda t: (t.logp, -t.statistic))


def _decide(ctx: GrowContext, item: Item, tests, n_comp, rule_override):
    nd, s = item.node, ctx.settings
    nd.tests, nd.n_comp = tests, n_comp
    for t in tests:
        if t.note:
            nd.notes.append(f"{t.covariate}: {t.note}")
    best = _select(ctx, tests)
    if best is None:
        nd.term_reason = "no valid split"
        return None
    logp = best.logp + (math.log(n_comp) if s.bonferroni else 0.0)
    p_adj = min(1.0, math.exp(logp)) if np.isfinite(logp) else (0.0 if logp < 0 else 1.0)
    nd.test, nd.p_adjusted = best, p_adj
    if p_adj > s.alpha:
        nd.term_reason = f"not significant (p = {p_adj:.3g} > alpha = {s.alpha:g})"
        return None
    return rule_override or best.rule


def _split(item: Item, rule: SplitRule, x: np.ndarray):
    tree, nd = item.tree, item.node
    obs = SplitRule.observed(x)
    right = rule.goes_right(x) & obs
    masks = (nd.mask & obs & ~right, nd.mask & right)
    if any((tree.base_weights * m).sum() == 0 for m in masks):
        nd.term_reason = "the chosen split leaves a child empty"
        return []
    nd.rule = rule
    kids = []
    for side, m in enumerate(masks):
        child = Node(id=len(tree.nodes), path=2 * nd.path + side, depth=nd.depth + 1,
                     parent=nd.id, mask=m)
        tree.nodes.append(child)
        kids.append((tree, child))
    nd.left, nd.right = kids[0][1].id, kids[1][1].id
    return kids


# -- score-based search ------------------------------------------------------------------
def score_search(ctx: GrowContext, items):
    """Score tests of every (node, covariate) pair; covariates missing for some of the
    node's cases are tested on a refit to the cases observed on them."""
    contexts = []                       # (item, w, u, info, covariate indices)
    refits = []
    for item in items:
        direct = []
        for c in item.covariates:
            obs = SplitRule.observed(ctx.covariates[c].values)
            if np.any(item.w[~obs] > 0):
                refits.append((item, c, item.w * obs))
            else:
                direct.append(c)
        contexts.append((item, item.w, item.node.u, item.node.info, direct))
    tests = {id(item): {} for item in items}
    if refits:
        fb = ctx.fitter.fit(np.stack([r[2] for r in refits]),
                            np.stack([r[0].node.u for r in refits]),
                            np.stack([r[0].node.h0 for r in refits]))
        for i, (item, c, w) in enumerate(refits):
            if fb.converged[i]:
                contexts.append((item, w, fb.u[i], fb.info[i], [c]))
            else:
                tests[id(item)][c] = CovariateTest(
                    ctx.covariates[c].name, "score", np.nan, 0.0, None,
                    note="the node model did not converge on the cases observed on "
                         "this covariate")
    s = ctx.settings
    for lo in range(0, len(contexts), SCORE_CHUNK):
        chunk = contexts[lo:lo + SCORE_CHUNK]
        S = ctx.fitter.scores(np.stack([c[2] for c in chunk]), np.stack([c[1] for c in chunk]))
        for (item, w, _, info, covs), Si in zip(chunk, S):
            z = decorrelate(Si, w, info if s.information == "observed" else None)
            for c in covs:
                cov = ctx.covariates[c]
                if z is None:
                    tests[id(item)][c] = CovariateTest(
                        cov.name, "score", np.nan, 0.0, None,
                        note="information matrix not positive definite")
                    continue
                tests[id(item)][c] = score_test(cov, z, w, ctx.orders[c],
                                                min_bucket=s.min_bucket, trim=s.trim,
                                                exhaustive=s.exhaustive_levels)
    return [([tests[id(item)][c] for c in item.covariates], len(item.covariates), None)
            for item in items]


# -- the loop ----------------------------------------------------------------------------
def grow(ctx: GrowContext, trees: list) -> list:
    """Grow ``trees`` (fresh ``new_tree`` roots) in place, all levels batched."""
    s = ctx.settings
    pending = [(tree, tree.root) for tree in trees]
    while pending:
        _fit_nodes(ctx, pending)
        items = []
        for tree, nd in pending:
            if not nd.converged:
                continue
            if nd.n <= s.min_N:
                nd.term_reason = f"minimum number of cases (N = {nd.n:g} <= min_N = " \
                                 f"{s.min_N:g})"
                continue
            if s.max_depth is not None and nd.depth >= s.max_depth:
                nd.term_reason = f"maximum depth {s.max_depth} reached"
                continue
            rng = np.random.default_rng([tree.seed, nd.path])
            covs = _draw_covariates(ctx, rng)
            items.append(Item(tree, nd, tree.base_weights * nd.mask, covs, rng))
        if not items:
            break
        if s.method == "score":
            results = score_search(ctx, items)
        elif s.method == "naive":
            results = naive_search(ctx, items)
        else:
            results = fair_search(ctx, items, three=s.method == "fair3")
        pending = []
        for item, (tests, n_comp, override) in zip(items, results):
            rule = _decide(ctx, item, tests, n_comp, override)
            if rule is not None:
                x = next(c.values for c in ctx.covariates if c.name == rule.covariate)
                pending.extend(_split(item, rule, x))
    return trees
