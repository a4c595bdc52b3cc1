"""``SEMForest``: an ensemble of SEM trees on resampled data (Brandmaier, Prindle,
McArdle & Lindenberger 2016), in scikit-learn style.

Each tree grows on a subsample of round(0.632·N) cases drawn without replacement
(semtree's default) or on a bootstrap sample (counts as case weights), with ``mtry``
covariates drawn afresh at every node (the random-subspace step of random forests,
Breiman 2001). Trees grow to ``min_N`` / ``min_bucket`` / ``max_depth`` (``alpha=1``,
semtree's forest default). Tree t draws everything from its own seed (the t-th word of
``SeedSequence(seed).generate_state``), so a forest is reproducible whatever runs it: trees grow batched in this
process, or in tasks on any ``concurrent.futures.Executor`` (a process pool, the
``client.get_executor()`` of a dask.distributed cluster).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from sem.errors import SpecificationError, check_count
from sem.estimation import bootstrap_weights

from . import importance as _imp
from .covariates import encode_covariates
from .fitting import NodeFitter
from .grow import GrowContext, grow, new_tree
from .setup import pad_covariates, prepare, setup
from .tree import settings_from

SAMPLING = ("subsample", "bootstrap")


def tree_seeds(seed, n_trees: int) -> np.ndarray:
    return np.random.SeedSequence(int(seed)).generate_state(n_trees, dtype=np.uint32)


def base_weights(n: int, seed: int, sampling: str, fraction: float) -> np.ndarray:
    rng = np.random.default_rng([int(seed), 0xB007])
    if sampling == "bootstrap":
        return bootstrap_weights(rng, n, 1)[0]
    w = np.zeros(n)
    w[rng.choice(n, size=int(round(fraction * n)), replace=False)] = 1.0
    return w


def tree_weights(n: int, size: int, seed: int, sampling: str, fraction: float):
    """In-bag weights of one tree over the n cases, padded with zeros to ``size``."""
    return np.r_[base_weights(n, seed, sampling, fraction), np.zeros(size - n)]


def grow_task(payload: dict) -> list:
    """Grow some trees of a forest (runs in a worker: prepares the data itself)."""
    model = payload["model"]
    frame, data, _ = prepare(model, payload["frame"], payload["prepare_options"])
    problem = model.problem(data)
    fitter = NodeFitter(problem, data, max_iter=payload["settings"].max_iter)
    w0 = np.asarray(data["w"], float)
    covs = pad_covariates(encode_covariates(frame, payload["covariates"]), len(w0))
    ctx = GrowContext.build(fitter, covs, payload["settings"], payload["root_u"],
                            payload["root_h0"])
    trees = [new_tree(w0 * tree_weights(len(frame), len(w0), s, payload["sampling"],
                                        payload["fraction"]), s, problem.param_names)
             for s in payload["seeds"]]
    return grow(ctx, trees)


class SEMForest(BaseEstimator):
    """A forest of SEM trees.

    Parameters (besides those of ``SEMTree``)
    ----------
    n_trees : number of trees.
    mtry : covariates drawn at every node (all if mtry >= their number).
    sampling : "subsample" (round(sample_fraction·N) cases without replacement) or
        "bootstrap".
    method, use_maxlr, alpha : semtree's forest defaults: naive LR with the maxLR
        correction, alpha = 1 (grow to the size limits).
    executor : a ``concurrent.futures.Executor``; trees then grow in tasks of
        ``trees_per_task`` trees.
    importance : compute permutation importance at fit (``variable_importance_``),
        aggregated by ``aggregate`` ("mean"/"median") on ``scale``
        ("absolute"/"relative_baseline").
    progress : a tqdm progress bar over trees.

    Fitted attributes: ``trees_`` (``TreeStructure`` list), ``covariates_``,
    ``variable_importance_`` (Series), ``importance_per_tree_`` (trees × covariates),
    ``baseline_deviance_`` (OOB −2ℓ per tree), ``inbag_`` (trees × cases weights).
    """

    def __init__(self, model, covariates=None, *, n_trees=100, method="naive",
                 use_maxlr=True, mtry=2, sampling="subsample", sample_fraction=0.632,
                 alpha=1.0, bonferroni=False, min_N=None, min_bucket=None, max_depth=None,
                 trim=0.15, information="observed", max_split_points=None,
                 exhaustive_levels=10, seed=0, executor=None, trees_per_task=10,
                 importance=True, aggregate="mean", scale="absolute", progress=True,
                 n_starts=1, prepare_options=None, max_iter=500):
        self.model = model
        self.covariates = covariates
        self.n_trees = n_trees
        self.method = method
        self.use_maxlr = use_maxlr
        self.mtry = mtry
        self.sampling = sampling
        self.sample_fraction = sample_fraction
        self.alpha = alpha
        self.bonferroni = bonferroni
        self.min_N = min_N
        self.min_bucket = min_bucket
        self.max_depth = max_depth
        self.trim = trim
        self.information = information
        self.max_split_points = max_split_points
        self.exhaustive_levels = exhaustive_levels
        self.seed = seed
        self.executor = executor
        self.trees_per_task = trees_per_task
        self.importance = importance
        self.aggregate = aggregate
        self.scale = scale
        self.progress = progress
        self.n_starts = n_starts
        self.prepare_options = prepare_options
        self.max_iter = max_iter

    # -- fitting --------------------------------------------------------------------
    def _check_params(self, n_cov: int):
        check_count(self.n_trees, "n_trees")
        if self.sampling not in SAMPLING:
            raise SpecificationError(f"sampling must be one of {SAMPLING}, got "
                                     f"{self.sampling!r}")
        if not 0 < self.sample_fraction < 1:
            raise SpecificationError("sample_fraction must lie in (0, 1), got "
                                     f"{self.sample_fraction}")
        mtry = self.mtry
        if mtry is not None:
            check_count(mtry, "mtry")
            if mtry > n_cov:
                warnings.warn(f"mtry = {mtry} exceeds the {n_cov} covariates; every node "
                              "tries all of them", UserWarning, stacklevel=3)
                mtry = None
        return mtry

    def fit(self, data: pd.DataFrame, *, sequential: bool = False):
        """Grow the forest and, if ``importance``, compute variable importance."""
        shared = setup(self.model, data, self.covariates,
                       prepare_options=self.prepare_options, n_starts=self.n_starts,
                       seed=self.seed, max_iter=self.max_iter, sequential=sequential)
        mtry = self._check_params(len(shared.covariates))
        settings = settings_from(self, mtry=mtry)
        n, size = shared.n, shared.fitter.n
        seeds = [int(s) for s in tree_seeds(self.seed, int(self.n_trees))]
        payload = dict(model=self.model, frame=shared.frame, settings=settings,
                       covariates=[c.name for c in shared.covariates],
                       prepare_options=self.prepare_options, root_u=shared.root_u,
                       root_h0=shared.root_h0, sampling=self.sampling,
                       fraction=self.sample_fraction)
        per = max(1, int(self.trees_per_task or 10))
        groups = [seeds[i:i + per] for i in range(0, len(seeds), per)]
        bar = _bar(len(seeds), self.progress, "trees")
        trees = []
        if self.executor is None:
            ctx = GrowContext.build(shared.fitter, shared.covariates, settings,
                                    shared.root_u, shared.root_h0)
            w0 = shared.fitter.w0
            for group in groups:
                batch = [new_tree(w0 * tree_weights(n, size, s, self.sampling,
                                                    self.sample_fraction), s,
                                  shared.param_names) for s in group]
                trees.extend(grow(ctx, batch))
                bar.update(len(group))
        else:
            futures = [self.executor.submit(grow_task, dict(payload, seeds=g))
                       for g in groups]
            for fut in futures:
                trees.extend(fut.result())
                bar.update(len(trees) - bar.n)
        bar.close()
        self._store(shared, settings, trees)
        if self.importance:
            self.compute_importance()
        return self

    def _store(self, shared, settings, trees):
        self.trees_ = trees
        self.settings_ = settings
        self.covariates_ = [c.name for c in shared.covariates]
        self.covariate_kinds_ = {c.name: c.kind for c in shared.covariates}
        self.param_names_ = list(shared.param_names)
        self.inbag_ = np.stack([t.base_weights[:shared.n] for t in trees])
        self.n_fits_ = shared.fitter.n_fits
        self._shared = shared
        self._covs = {c.name: c for c in shared.covariates}

    def _check(self):
        if not hasattr(self, "trees_"):
            raise AttributeError("this SEMForest is not fitted yet; call fit(data)")

    # -- importance -----------------------------------------------------------------
    def compute_importance(self, seed=None):
        """Permutation importance of every covariate on each tree's out-of-bag cases
        (sets ``importance_per_tree_``, ``baseline_deviance_``,
        ``variable_importance_``)."""
        self._check()
        values = {c: cov.values for c, cov in self._covs.items()}
        seed = self.seed if seed is None else seed
        vi, base = _imp.permutation_importance(self._shared.fitter, self.trees_, values,
                                               self.covariates_, seed)
        self.importance_per_tree_, self.baseline_deviance_ = vi, base
        if not any(t.split_covariates() for t in self.trees_):
            s = self.settings_.resolve(self._shared.fitter.k)
            n_in = float(np.median(self.inbag_.sum(1)))
            warnings.warn(
                f"no tree of the forest split, so every variable importance is NaN: "
                f"each tree grows on about {n_in:g} cases (min_N = {s.min_N:g}, "
                f"min_bucket = {s.min_bucket:g}); lower min_N / min_bucket, use more "
                "data, or check alpha", UserWarning, stacklevel=2)
        self.variable_importance_ = _imp.aggregate(vi, base, self.aggregate, self.scale)
        return self.variable_importance_

    def variable_importance(self, aggregate: str = "mean", scale: str = "absolute",
                    omit_na: bool = True) -> pd.Series:
        """Importance aggregated another way (mean/median; absolute or relative to
        each tree's baseline deviance, in %)."""
        if not hasattr(self, "importance_per_tree_"):
            self.compute_importance()
        return _imp.aggregate(self.importance_per_tree_, self.baseline_deviance_,
                              aggregate, scale, omit_na)

    def oob_deviance(self) -> pd.Series:
        """Out-of-bag −2 log-likelihood of every tree."""
        if not hasattr(self, "baseline_deviance_"):
            self.compute_importance()
        return self.baseline_deviance_

    # -- other outputs --------------------------------------------------------------
    def _values(self, data=None) -> dict:
        """Coded covariates of ``data`` (default: the training cases, unpadded)."""
        if data is None:
            n = self._shared.n
            return {c: cov.values[:n] for c, cov in self._covs.items()}
        missing = [c for c in self.covariates_ if c not in data.columns]
        if missing:
            raise SpecificationError(f"covariates {missing} are not columns of the data")
        return {c: cov.encode(data[c]) for c, cov in self._covs.items()}

    def apply(self, data=None) -> np.ndarray:
        """Node id reached by every case in every tree (cases × trees)."""
        self._check()
        values = self._values(data)
        return np.stack([t.route(values) for t in self.trees_], axis=1)

    def proximity(self, data=None) -> pd.DataFrame:
        """Case proximity: the share of trees in which two cases reach the same node."""
        from .proximity import proximity
        self._check()
        index = (self._shared.frame if data is None else data).index
        return pd.DataFrame(proximity(self.apply(data)), index=index, columns=index)

    def predict(self, data=None) -> pd.DataFrame:
        """Each case's parameter estimates averaged over the trees."""
        ids = self.apply(data)
        theta = np.mean([np.stack([nd.theta for nd in t.nodes])[ids[:, j]]
                         for j, t in enumerate(self.trees_)], axis=0)
        index = (self._shared.frame if data is None else data).index
        return pd.DataFrame(theta, columns=self.param_names_, index=index)

    def partial_dependence(self, covariate: str, parameter=None, grid=None, data=None):
        """Forest-averaged parameter estimates with ``covariate`` set to each grid value."""
        from .dependence import partial_dependence
        self._check()
        return partial_dependence(self, covariate, parameter, grid, data)

    def boruta(self, data=None, **options):
        """Boruta's shadow-feature test of every covariate (``forests.boruta.boruta``;
        options ``max_runs``, ``alpha``, ``quantile``, ``n_trees``, ``seed``)."""
        from .boruta import boruta
        return boruta(self, data, **options)


def _bar(total: int, on: bool, unit: str):
    if on:
        from tqdm.auto import tqdm
        return tqdm(total=total, unit=unit, desc="SEM forest")

    class _Null:
        n = 0

        def update(self, k):
            self.n += k

        def close(self):
            pass
    return _Null()
