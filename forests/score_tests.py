"""Score-based split tests (Arnold, Voelkle & Brandmaier 2021; Zeileis & Hornik 2007;
Merkle & Zeileis 2013; Merkle, Fan & Zeileis 2014).

One model fit per node, no refit per split. With per-case scores s_i = ∂ℓ_i/∂θ at the
node's estimate θ̂, case weights w_i, N = Σ w_i and the per-case information Î (the
observed −∇²ℓ/N, or the outer product of the scores Σ w_i s_i s_iᵀ/N), order the cases
by the covariate and form the decorrelated cumulative score process

    CSP(t_j) = N^{-1/2} Î^{-1/2} Σ_{i ≤ j} w_(i) s_(i),   t_j = Σ_{i ≤ j} w_(i) / N,

which under H0 (parameter stability along the covariate) converges to a k-dimensional
Brownian bridge (the total is 0 at the estimate; we subtract t_j × total to remove the
optimiser's round-off). The statistics (semtree 0.10 defaults):

* **maxLM** (numeric covariate): T = max_j ‖CSP(t_j)‖² / (t_j(1 − t_j)) over split
  points j between distinct covariate values with t_j ∈ [π, 1 − π] (π = ``trim``,
  0.15) and at least ``min_bucket`` cases on each side; p from the supLM distribution
  (``forests.pvalues``). The split is the midpoint at the maximising j. A numeric
  covariate with at most 10 distinct values in the node is tested like an ordered one
  (no trimming; its exact null distribution over its few split points).
* **maxLMo** (ordered): the same statistic at the category boundaries that leave
  ``min_bucket`` cases on each side; p by simulation for those boundaries.
* **LM** (unordered, L levels): with d_l = N^{-1/2} Î^{-1/2} Σ_{i in level l} w_i s_i
  and f_l = N_l / N, T = Σ_l ‖d_l‖² / f_l ~ χ²_{k(L−1)}. The split proposed is the
  bipartition S maximising the binary statistic ‖d_S‖² / (f_S(1 − f_S)).

All functions take the decorrelated, N^{-1/2}-scaled scores ``z`` (n, k) of the node's
cases and never refit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import pvalues
from .candidates import SplitRule, _midpoints, bipartitions
from .covariates import CATEGORICAL, FEW_VALUES, NUMERIC, Covariate


@dataclass
class CovariateTest:
    """The best split of one covariate at one node, with its test."""

    covariate: str
    test: str                  # maxLM | maxLMo | LM | LR | maxLR
    statistic: float
    logp: float                # log p-value (unadjusted)
    rule: SplitRule | None
    n_candidates: int = 0
    contributions: np.ndarray | None = None   # per-parameter parts of a score statistic
    note: str = ""

    @property
    def p(self) -> float:
        return pvalues.to_p(self.logp)


def decorrelate(scores: np.ndarray, w: np.ndarray, info: np.ndarray | None,
                rtol: float = 1e-10):
    """z_i = N^{-1/2} Î^{-1/2} s_i for the cases with w_i > 0 (n, k), or None when Î is
    not positive definite. ``info`` None: the outer-product (OPG) estimate."""
    N = w.sum()
    if info is None:
        info = (scores * w[:, None]).T @ scores / N
    info = 0.5 * (info + info.T)
    if not np.all(np.isfinite(info)) or not np.all(np.isfinite(scores[w > 0])):
        return None
    lam, V = np.linalg.eigh(info)
    if lam[0] <= rtol * max(lam[-1], 1e-300):
        return None
    root_inv = (V / np.sqrt(lam)) @ V.T
    return (scores @ root_inv) / np.sqrt(N)


def _process(z, w, order):
    """Centred cumulative process along ``order`` and the cumulative weight share."""
    zw = z[order] * w[order, None]
    cum = np.cumsum(zw, axis=0)
    tw = np.cumsum(w[order])
    t = tw / tw[-1]
    return cum - t[:, None] * cum[-1], t, tw


def _boundary_test(cov: Covariate, z, w, order, min_bucket, trim, few):
    x = cov.values[order]
    cum, t, tw = _process(z, w, order)
    last = np.r_[x[1:] != x[:-1], False]          # last case of each distinct value
    ok = last & (tw >= min_bucket) & (tw[-1] - tw >= min_bucket)
    if not few:
        ok &= (t >= trim - 1e-12) & (t <= 1 - trim + 1e-12)
    idx = np.nonzero(ok)[0]
    k = z.shape[1]
    test = "maxLMo" if few else "maxLM"
    if idx.size == 0:
        return CovariateTest(cov.name, test, np.nan, 0.0, None,
                             note="no split point leaves min_bucket cases on each side")
    tt = t[idx]
    stat = np.einsum("jk,jk->j", cum[idx], cum[idx]) / (tt * (1 - tt))
    b = int(np.argmax(stat))
    j = idx[b]
    T = float(stat[b])
    contrib = cum[j] ** 2 / (tt[b] * (1 - tt[b]))
    if few:
        logp = pvalues.max_lmo_logp(T, k, tt)
    else:
        logp = pvalues.sup_lm_logp(T, k, trim)
    if cov.kind == NUMERIC:
        cut = float(_midpoints(np.array([x[j], x[j + 1]]))[0])
        rule = SplitRule(cov.name, NUMERIC, cut)
    else:
        rule = SplitRule(cov.name, cov.kind, float(x[j]), labels=(cov.label(x[j]),))
    return CovariateTest(cov.name, test, T, logp, rule, int(idx.size), contrib)


def level_order(d: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Order of levels by their mean score d_l/f_l projected on the first principal
    direction of Σ_l d_l d_lᵀ / f_l (the heuristic used above ``exhaustive`` levels)."""
    M = (d / f[:, None]).T @ d
    _, V = np.linalg.eigh(0.5 * (M + M.T))
    return np.argsort((d / f[:, None]) @ V[:, -1], kind="stable")


def lm_test(cov: Covariate, z, w, members, min_bucket, exhaustive=10) -> CovariateTest:
    codes = cov.values[members]
    zw = z[members] * w[members, None]
    N = w[members].sum()
    L_all = max(len(cov.levels), int(codes.max()) + 1)
    d = np.zeros((L_all, z.shape[1]))
    np.add.at(d, codes, zw)
    cnt = np.bincount(codes, weights=w[members], minlength=L_all)
    lev = np.nonzero(cnt > 0)[0]
    d, f = d[lev], cnt[lev] / N
    d = d - f[:, None] * d.sum(0)                 # centre (round-off of the optimiser)
    k = z.shape[1]
    if lev.size < 2:
        return CovariateTest(cov.name, "LM", np.nan, 0.0, None,
                             note="a single observed level")
    T = float(np.sum(np.einsum("lk,lk->l", d, d) / f))
    logp = pvalues.chi2_logp(T, k * (lev.size - 1))
    order = lev[level_order(d, f)] if lev.size > exhaustive else None
    best, rule, n_ok = -np.inf, None, 0
    pos = {int(c): i for i, c in enumerate(lev)}
    for S in bipartitions([int(c) for c in lev], order, exhaustive):
        ii = [pos[c] for c in S]
        fS = f[ii].sum()
        if fS * N < min_bucket or (1 - fS) * N < min_bucket:
            continue
        n_ok += 1
        dS = d[ii].sum(0)
        stat = float(dS @ dS / (fS * (1 - fS)))
        if stat > best:
            best = stat
            rule = SplitRule(cov.name, CATEGORICAL, subset=tuple(S),
                             labels=tuple(cov.label(c) for c in S))
    if rule is None:
        return CovariateTest(cov.name, "LM", T, logp, None,
                             note="no bipartition leaves min_bucket cases on each side")
    return CovariateTest(cov.name, "LM", T, logp, rule, n_ok)


def score_test(cov: Covariate, z: np.ndarray, w: np.ndarray, order: np.ndarray, *,
               min_bucket: float, trim: float = 0.15, exhaustive: int = 10) -> CovariateTest:
    """The score test of one covariate at a node.

    ``z``: decorrelated scaled scores (n, k); ``w``: the node's case weights (0 outside
    the node and where the covariate is missing); ``order``: all cases sorted by the
    covariate (missing last), precomputed once per data set.
    """
    members = order[w[order] > 0]
    if members.size < 2:
        return CovariateTest(cov.name, "LM", np.nan, 0.0, None, note="too few cases")
    if cov.kind == CATEGORICAL:
        return lm_test(cov, z, w, members, min_bucket, exhaustive)
    few = cov.kind != NUMERIC or np.unique(cov.values[members]).size <= FEW_VALUES
    return _boundary_test(cov, z, w, members, min_bucket, trim, few)
