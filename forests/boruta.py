"""Boruta's all-relevant feature selection for SEM forests (Kursa & Rudnicki 2010,
Journal of Statistical Software 36(11); semtree's ``boruta``).

A covariate is *relevant* when it is more important than an irrelevant covariate of the
same distribution could be by chance. Each run appends a "shadow" copy of every
remaining covariate with its values permuted (so it keeps its type and distribution but
loses any association), grows a forest on covariates + shadows, and records a **hit**
for covariate c when VI_c exceeds the maximum (``quantile`` = 1; or another quantile)
of the shadows' importances. Under H0 (c no better than a shadow) the hits after r runs
are Binomial(r, ½); after every run, with m the number of undecided covariates,

    confirmed  if P(X ≥ hits) < α/m,      rejected  if P(X ≤ hits) < α/m

(Bonferroni, as Boruta's ``mcAdj``). Rejected covariates and their shadows leave the
later runs. Runs stop when nothing is undecided or after ``max_runs``. The mean
shadow maximum is the importance cut-off drawn by ``forests.plots.plot_importance``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sem.errors import SpecificationError, check_count

from .setup import covariate_names

CONFIRMED, REJECTED, TENTATIVE = "confirmed", "rejected", "tentative"


@dataclass
class BorutaResult:
    table: pd.DataFrame          # per covariate: importance, hits, runs, decision
    history: pd.DataFrame        # per run: covariate importances and shadow summaries
    alpha: float

    @property
    def decision(self) -> pd.Series:
        return self.table["decision"]

    @property
    def selected(self) -> list:
        """Confirmed covariates, most important first."""
        t = self.table[self.table["decision"] == CONFIRMED]
        return t.sort_values("importance", ascending=False).index.tolist()

    @property
    def threshold(self) -> float:
        """Mean over runs of the shadows' maximal importance."""
        return float(self.history["shadow_max"].mean())

    def rough_fix(self) -> "BorutaResult":
        """Decide the tentative covariates as R's ``Boruta::TentativeRoughFix`` does:
        confirmed when the covariate's median importance over the runs exceeds the
        median over the runs of the shadows' maximal importance, rejected otherwise.
        The returned result's table marks them in a boolean column ``rough_fix``. A
        weaker decision than the binomial test: use it when the runs ran out."""
        t = self.table.copy()
        cut = float(np.median(self.history["shadow_max"]))
        tentative = t["decision"] == TENTATIVE
        t["rough_fix"] = tentative
        t.loc[tentative, "decision"] = np.where(
            t.loc[tentative, "median_importance"] > cut, CONFIRMED, REJECTED)
        return BorutaResult(t, self.history, self.alpha)

    def __str__(self) -> str:
        t = self.table.sort_values("importance", ascending=False)
        lines = [f"Boruta ({len(self.history)} runs, alpha = {self.alpha:g}; shadow "
                 f"maximum {self.threshold:.4g}):"]
        for name, r in t.iterrows():
            lines.append(f"  {name:<24} {r['importance']:>12.4g}  hits {int(r['hits']):>3}"
                         f"/{int(r['runs']):<3} {r['decision']}")
        return "\n".join(lines)


def _shadow_name(name, taken):
    out = f"shadow_{name}"
    while out in taken:
        out = "_" + out
    return out


def boruta(forest, data=None, *, max_runs: int = 30, alpha: float = 0.05,
           quantile: float = 1.0, n_trees=None, seed=None, progress: bool = False):
    """Run Boruta with forests configured like ``forest`` (its settings, executor and
    node model); ``data`` defaults to the forest's training data (an unfitted forest
    needs ``data``)."""
    check_count(max_runs, "max_runs")
    if n_trees is not None:
        check_count(n_trees, "n_trees")
    if not 0 < alpha < 1:
        raise SpecificationError(f"alpha must lie in (0, 1), got {alpha!r}")
    if data is None:
        if not hasattr(forest, "trees_"):
            raise AttributeError("boruta() of an unfitted forest needs data=")
        frame = forest._shared.frame
    else:
        frame = data.reset_index(drop=True)
    if hasattr(forest, "covariates_"):
        names = list(forest.covariates_)
    else:
        names = covariate_names(forest.model, frame, forest.covariates)
    decision = {c: TENTATIVE for c in names}
    hits = dict.fromkeys(names, 0)
    runs = dict.fromkeys(names, 0)
    seen = {c: [] for c in names}
    history = []
    base_seed = forest.seed if seed is None else seed
    ss = np.random.SeedSequence(int(base_seed) + 0xB0)
    for run, child in enumerate(ss.spawn(max_runs), start=1):
        active = [c for c in names if decision[c] != REJECTED]
        if not any(decision[c] == TENTATIVE for c in active):
            break
        rng = np.random.default_rng(child)
        shadows = {}
        aug = frame.copy()
        for c in active:
            s = _shadow_name(c, set(aug.columns))
            # permute through pandas so that the shadow keeps the column's dtype: an
            # ordered Categorical stays ordered (with its category order); through
            # numpy it became an unordered covariate, tested over 2^(L-1) - 1
            # bipartitions instead of L - 1 ordered splits
            perm = rng.permutation(len(frame))
            aug[s] = frame[c].iloc[perm].set_axis(aug.index)
            shadows[c] = s
        # a new forest with the same settings (and the same executor: no deep copy)
        params = dict(forest.get_params(deep=False),
                      covariates=active + list(shadows.values()), importance=True,
                      progress=progress, seed=int(rng.integers(2**31)))
        if n_trees:
            params["n_trees"] = n_trees
        f = type(forest)(**params)
        f.fit(aug)
        vi = f.variable_importance_.fillna(0.0)
        shadow_vi = vi[list(shadows.values())].to_numpy()
        cut = float(np.quantile(shadow_vi, quantile))
        row = {"run": run, "shadow_max": float(shadow_vi.max()),
               "shadow_mean": float(shadow_vi.mean()), "shadow_min": float(shadow_vi.min()),
               "shadow_cut": cut}
        for c in active:
            row[c] = float(vi[c])
            seen[c].append(float(vi[c]))
            runs[c] += 1
            hits[c] += int(vi[c] > cut)
        history.append(row)
        undecided = [c for c in active if decision[c] == TENTATIVE]
        m = max(len(undecided), 1)
        for c in undecided:
            p_hi = stats.binom.sf(hits[c] - 1, runs[c], 0.5)     # P(X >= hits)
            p_lo = stats.binom.cdf(hits[c], runs[c], 0.5)        # P(X <= hits)
            if p_hi < alpha / m:
                decision[c] = CONFIRMED
            elif p_lo < alpha / m:
                decision[c] = REJECTED
    table = pd.DataFrame({
        "importance": [np.mean(seen[c]) if seen[c] else np.nan for c in names],
        "median_importance": [np.median(seen[c]) if seen[c] else np.nan for c in names],
        "hits": [hits[c] for c in names], "runs": [runs[c] for c in names],
        "decision": [decision[c] for c in names]},
        index=pd.Index(names, name="covariate"))
    return BorutaResult(table, pd.DataFrame(history).set_index("run"), alpha)
