"""Likelihood-ratio split selection: naive (with the maxLR correction) and fair.

**Naive** (Brandmaier et al. 2013): for every candidate split of every covariate the
two children are fitted independently and

    LR = 2 [ℓ(θ̂_left) + ℓ(θ̂_right) − ℓ(θ̂_node)]  ~  χ²_k under H0 (one split point).

Cases missing the covariate take part in neither child, so the baseline ℓ(θ̂_node) is
refitted on the cases observed on that covariate (semtree's ``missingDataModel``).
A candidate whose child fits do not converge is skipped (and counted). The best split
maximises LR over all covariates and split points (ties: the first covariate).

**maxLR** (``use_maxlr``; Arnold, Voelkle & Brandmaier 2021): maximising LR over many
split points inflates it. Each covariate's statistic becomes the maximum LR over its
split points inside the trimmed range t ∈ [π, 1 − π] of the left share t (numeric),
or over its category boundaries (ordered, and numeric with ≤ 10 values), with the
matching null distribution (supLM, maxLMo; ``forests.pvalues``), or for an unordered
covariate with L levels the χ²_{k(L−1)} bound of the full L-group test. The covariate
with the smallest p-value wins (semtree corrects only the winner's p-value; testing
every covariate with its own null removes the bias towards covariates with many split
points as well).

**Fair** (Brandmaier et al. 2013, §"Selection bias"): the node's cases are split at
random into halves. Phase I finds each covariate's best split point on the first half;
phase II evaluates each of those splits once on the second half and picks the largest
LR, with p from χ²_k and Bonferroni over the covariates carried into phase II.
**fair3** adds phase III, re-searching the split points of the chosen covariate on all
of the node's cases; unlike semtree it keeps the number of comparisons of phase II
(semtree resets it to 0, so ``bonferroni=TRUE`` made every split significant).

All candidate children of all nodes of a tree level are fitted in batches of weight
vectors (``forests.fitting.NodeFitter``), warm-started at the node's estimate.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import pvalues
from .candidates import Candidates, SplitRule, candidates
from .covariates import CATEGORICAL, FEW_VALUES, NUMERIC, Covariate
from .score_tests import CovariateTest, decorrelate, level_order

ROWS = 4096          # weight vectors held in memory at once


@dataclass
class LRJob:
    """Scan the candidate splits of one covariate on the cases with weights ``w``."""

    cov: Covariate
    w: np.ndarray                 # node (or half-node) weights, before dropping missing
    u0: np.ndarray
    h0: np.ndarray
    base_llf: float | None = None  # the node's ℓ when it used exactly these cases
    rules: list | None = None      # None: all candidates on w
    # results
    w_obs: np.ndarray | None = None
    cands: Candidates | None = None
    llf0: float = np.nan
    lr: np.ndarray = field(default_factory=lambda: np.zeros(0))
    t_left: np.ndarray = field(default_factory=lambda: np.zeros(0))
    n_failed: int = 0


def _prepare(ctx, job: LRJob):
    s = ctx.settings
    obs = SplitRule.observed(job.cov.values)
    job.w_obs = job.w * obs
    if job.rules is not None:
        job.cands = Candidates(job.cov, list(job.rules))
        return
    order = None
    if job.cov.kind == CATEGORICAL and _n_levels(job.cov, job.w_obs) > s.exhaustive_levels:
        order = _categorical_order(ctx, job)
    job.cands = candidates(job.cov, job.w_obs, s.min_bucket, max_points=s.max_split_points,
                           order=order, exhaustive=s.exhaustive_levels)


def _n_levels(cov, w):
    return np.unique(cov.values[(w > 0) & (cov.values >= 0)]).size


def _categorical_order(ctx, job):
    S = ctx.fitter.scores(job.u0[None], job.w_obs[None])[0]
    z = decorrelate(S, job.w_obs, None)
    if z is None:
        return None
    sel = job.w_obs > 0
    codes = job.cov.values[sel]
    L = int(codes.max()) + 1
    d = np.zeros((L, z.shape[1]))
    np.add.at(d, codes, z[sel] * job.w_obs[sel, None])
    f = np.bincount(codes, weights=job.w_obs[sel], minlength=L)
    lev = np.nonzero(f > 0)[0]
    return [int(c) for c in lev[level_order(d[lev], f[lev] / f.sum())]]


def lr_scan(ctx, jobs: list[LRJob]) -> list[LRJob]:
    """Fit the baseline (where needed) and both children of every candidate of every
    job, in batches; fills ``llf0``, ``lr`` (NaN where a child did not converge) and
    ``t_left`` (the left child's share of the weight)."""
    rows_w, rows_u, rows_h, owners = [], [], [], []
    results: dict = {}

    def flush():
        if not rows_w:
            return
        fb = ctx.fitter.fit(np.stack(rows_w), np.stack(rows_u), np.stack(rows_h))
        for i, key in enumerate(owners):
            results[key] = (fb.llf[i], fb.converged[i])
        rows_w.clear(), rows_u.clear(), rows_h.clear(), owners.clear()

    for j, job in enumerate(jobs):
        _prepare(ctx, job)
        need_base = job.base_llf is None or bool(np.any(job.w_obs != job.w))
        if need_base:
            rows_w.append(job.w_obs), rows_u.append(job.u0), rows_h.append(job.h0)
            owners.append((j, -1, 0))
        C = len(job.cands)
        for lo in range(0, C, ROWS // 2):
            R = job.cands.right_masks(lo, min(C, lo + ROWS // 2))
            for c in range(R.shape[0]):
                for side, mask in ((0, ~R[c]), (1, R[c])):
                    rows_w.append(job.w_obs * mask), rows_u.append(job.u0)
                    rows_h.append(job.h0), owners.append((j, lo + c, side))
                if len(rows_w) >= ROWS:
                    flush()
            wl = (job.w_obs[None, :] * ~R).sum(1)
            job.t_left = np.r_[job.t_left, wl / max(job.w_obs.sum(), 1e-300)]
    flush()
    for j, job in enumerate(jobs):
        if (j, -1, 0) in results:
            llf0, ok0 = results[(j, -1, 0)]
            job.llf0 = llf0 if ok0 else np.nan
        else:
            job.llf0 = job.base_llf
        C = len(job.cands)
        lr = np.full(C, np.nan)
        failed = 0
        for c in range(C):
            (ll_l, ok_l), (ll_r, ok_r) = results[(j, c, 0)], results[(j, c, 1)]
            if ok_l and ok_r:
                lr[c] = 2.0 * (ll_l + ll_r - job.llf0)
            else:
                failed += 1
        job.lr, job.n_failed = lr, failed
    return jobs


def _few(cov: Covariate, w: np.ndarray) -> bool:
    if cov.kind != NUMERIC:
        return True
    return np.unique(cov.values[(w > 0) & ~np.isnan(cov.values)]).size <= FEW_VALUES


def lr_test(ctx, job: LRJob, use_maxlr: bool) -> CovariateTest:
    """The covariate's best split and its p-value from a scanned job."""
    k, s = ctx.k, ctx.settings
    name = job.cov.name
    note = f"{job.n_failed} candidate splits skipped (child model did not converge)" \
        if job.n_failed else ""
    valid = np.isfinite(job.lr)
    if not np.isfinite(job.llf0):
        return CovariateTest(name, "LR", np.nan, 0.0, None,
                             note="the node model did not converge on the cases "
                                  "observed on this covariate")
    if not valid.any():
        return CovariateTest(name, "LR", np.nan, 0.0, None, len(job.cands),
                             note=note or "no candidate split leaves min_bucket cases on "
                                          "each side")
    if not use_maxlr:
        b = int(np.nanargmax(np.where(valid, job.lr, -np.inf)))
        lr = float(job.lr[b])
        return CovariateTest(name, "LR", lr, pvalues.chi2_logp(lr, k), job.cands.rules[b],
                             int(valid.sum()), note=note)
    few = _few(job.cov, job.w_obs)
    if job.cov.kind == CATEGORICAL:
        window = valid
    elif few:
        window = valid
    else:
        window = valid & (job.t_left >= s.trim - 1e-12) & (job.t_left <= 1 - s.trim + 1e-12)
    if not window.any():
        return CovariateTest(name, "maxLR", np.nan, 0.0, None, int(valid.sum()),
                             note="no valid split point inside the trimmed range")
    b = int(np.argmax(np.where(window, job.lr, -np.inf)))
    lr = float(job.lr[b])
    if job.cov.kind == CATEGORICAL:
        L = _n_levels(job.cov, job.w_obs)
        logp = pvalues.chi2_logp(lr, k * (L - 1))
    elif few:
        logp = pvalues.max_lmo_logp(lr, k, job.t_left[window])
    else:
        logp = pvalues.sup_lm_logp(lr, k, s.trim)
    return CovariateTest(name, "maxLR", lr, logp, job.cands.rules[b], int(window.sum()),
                         note=note)


# -- the searches --------------------------------------------------------------------
def naive_search(ctx, items):
    """Tests of every (node, covariate) pair by the naive LR (or maxLR)."""
    jobs, owners = [], []
    for item in items:
        for c in item.covariates:
            jobs.append(LRJob(ctx.covariates[c], item.w, item.node.u, item.node.h0,
                              base_llf=item.node.llf))
            owners.append(item)
    lr_scan(ctx, jobs)
    out = {id(item): [] for item in items}
    for job, item in zip(jobs, owners):
        out[id(item)].append(lr_test(ctx, job, ctx.settings.use_maxlr))
    return [(out[id(item)], len(item.covariates), None) for item in items]


def fair_search(ctx, items, three: bool = False):
    """Two-stage (and three-stage) fair selection; returns per item the phase-II tests
    (statistic LR on the second half), the number of comparisons, and the phase-III
    rule of fair3."""
    halves = {}
    jobs1, own1 = [], []
    for item in items:
        h1 = item.rng.random(item.w.shape[0]) > 0.5
        halves[id(item)] = (item.w * h1, item.w * ~h1)
        for c in item.covariates:
            jobs1.append(LRJob(ctx.covariates[c], halves[id(item)][0], item.node.u,
                               item.node.h0))
            own1.append((item, c))
    lr_scan(ctx, jobs1)
    jobs2, own2 = [], []
    for job, (item, c) in zip(jobs1, own1):
        if np.isfinite(job.lr).any():
            b = int(np.nanargmax(np.where(np.isfinite(job.lr), job.lr, -np.inf)))
            jobs2.append(LRJob(job.cov, halves[id(item)][1], item.node.u, item.node.h0,
                               rules=[job.cands.rules[b]]))
            own2.append(item)
    lr_scan(ctx, jobs2)
    tests = {id(item): [] for item in items}
    for job, item in zip(jobs2, own2):
        lr = float(job.lr[0]) if job.lr.size and np.isfinite(job.lr[0]) else np.nan
        logp = pvalues.chi2_logp(lr, ctx.k) if np.isfinite(lr) else 0.0
        rule = job.cands.rules[0] if np.isfinite(lr) else None
        tests[id(item)].append(CovariateTest(job.cov.name, "LR", lr, logp, rule, 1))
    out = []
    jobs3, own3 = [], []
    for item in items:
        t = tests[id(item)]
        n_comp = max(len(t), 1)
        out.append([t, n_comp, None])
        if three:
            best = _best_by_statistic(t)
            if best is not None:
                cov = next(c for c in ctx.covariates if c.name == best.covariate)
                jobs3.append(LRJob(cov, item.w, item.node.u, item.node.h0,
                                   base_llf=item.node.llf))
                own3.append(len(out) - 1)
    if three and jobs3:
        lr_scan(ctx, jobs3)
        for job, pos in zip(jobs3, own3):
            full = lr_test(ctx, job, False)
            out[pos][2] = full.rule
    return [tuple(o) for o in out]


def _best_by_statistic(tests):
    ok = [t for t in tests if t.rule is not None and np.isfinite(t.statistic)]
    return max(ok, key=lambda t: t.statistic) if ok else None
