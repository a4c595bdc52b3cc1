"""``SEMTree``: a structural equation model tree (Brandmaier, von Oertzen, McArdle &
Lindenberger 2013, Psychological Methods 18(1), 71–86).

Recursive partitioning of the sample by covariates such that the node model's
parameters differ as much as possible between the two sides of each split. The node
model is anything that follows the likelihood-model protocol of ``sem.protocol``: a
lavaan-syntax ``sem.Model`` or a single-class trajmix growth model.

>>> tree = SEMTree(Model(lgcm, meanstructure=True), covariates=["P1", "Noise"]).fit(df)
>>> tree.root_split_
'P1'
>>> print(tree)
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from sem.errors import SpecificationError

from .grow import METHODS, GrowContext, Settings, grow, new_tree
from .report import tree_text
from .setup import setup


def settings_from(est, mtry=None) -> Settings:
    if est.method not in METHODS:
        raise SpecificationError(f"method must be one of {METHODS}, got {est.method!r}")
    if est.information not in ("observed", "opg"):
        raise SpecificationError("information must be 'observed' or 'opg', got "
                                 f"{est.information!r}")
    if not 0 < est.trim < 0.5:
        raise SpecificationError(f"trim must lie in (0, 0.5), got {est.trim}")
    if not 0 <= est.alpha <= 1:
        raise SpecificationError(f"alpha must lie in [0, 1], got {est.alpha}")
    for name in ("min_N", "min_bucket", "max_depth", "max_split_points"):
        v = getattr(est, name)
        if v is not None and v < (0 if name == "max_depth" else 1):
            raise SpecificationError(f"{name} must be positive, got {v}")
    return Settings(method=est.method, alpha=est.alpha, bonferroni=est.bonferroni,
                    min_N=est.min_N, min_bucket=est.min_bucket, max_depth=est.max_depth,
                    use_maxlr=est.use_maxlr, trim=est.trim, information=est.information,
                    max_split_points=est.max_split_points,
                    exhaustive_levels=est.exhaustive_levels, mtry=mtry,
                    max_iter=est.max_iter)


class SEMTree(BaseEstimator):
    """A SEM tree.

    Parameters
    ----------
    model : a likelihood model (``sem.Model``, a trajmix growth model).
    covariates : columns to split on; None: every column that is not a model variable.
    method : "naive" (likelihood ratio of every split; semtree's default), "score"
        (score-based tests, one fit per node), "fair" or "fair3" (two- and three-stage
        split-half selection).
    alpha : a node splits when its (adjusted) p-value is at most ``alpha``.
    bonferroni : multiply each node's p-value by the number of covariates tested.
    min_N, min_bucket, max_depth : semtree's size and depth limits; defaults
        min_N = max(20, 5k), min_bucket = max(10, min_N / 2) for k parameters.
    use_maxlr : with ``method="naive"``, test each covariate by its maximal LR over the
        trimmed split points with the maxLR null distribution.
    trim : trimming π of the maxLM / maxLR statistics (strucchange's ``from``).
    information : per-case information for the score tests: "observed" (−Hessian/N)
        or "opg" (outer product of the scores).
    max_split_points : at most this many (quantile-spaced) split points per numeric
        covariate and node (naive and fair); None: all.
    exhaustive_levels : unordered covariates with more levels use ordered splits.
    seed : randomness of the fair method's halves (an int).
    n_starts : starts of the full-sample fit.
    prepare_options : keyword arguments of ``model.prepare`` (e.g. missing="ml").
    """

    def __init__(self, model, covariates=None, *, method="naive", alpha=0.05,
                 bonferroni=False, min_N=None, min_bucket=None, max_depth=None,
                 use_maxlr=False, trim=0.15, information="observed",
                 max_split_points=None, exhaustive_levels=10, seed=0, n_starts=1,
                 prepare_options=None, max_iter=500):
        self.model = model
        self.covariates = covariates
        self.method = method
        self.alpha = alpha
        self.bonferroni = bonferroni
        self.min_N = min_N
        self.min_bucket = min_bucket
        self.max_depth = max_depth
        self.use_maxlr = use_maxlr
        self.trim = trim
        self.information = information
        self.max_split_points = max_split_points
        self.exhaustive_levels = exhaustive_levels
        self.seed = seed
        self.n_starts = n_starts
        self.prepare_options = prepare_options
        self.max_iter = max_iter

    def fit(self, data: pd.DataFrame, *, sequential: bool = False):
        """Grow the tree on ``data`` (a DataFrame holding the model's variables and the
        covariates). ``sequential=True`` refits candidate splits one at a time instead
        of in batches (the same tree, slower; for benchmarks)."""
        settings = settings_from(self)
        shared = setup(self.model, data, self.covariates,
                       prepare_options=self.prepare_options, n_starts=self.n_starts,
                       seed=self.seed, max_iter=self.max_iter, sequential=sequential)
        ctx = GrowContext.build(shared.fitter, shared.covariates, settings,
                                shared.root_u, shared.root_h0)
        base = np.asarray(shared.data["w"], dtype=float)
        tree = new_tree(base, int(self.seed), shared.param_names)
        grow(ctx, [tree])
        self._store(shared, ctx, tree)
        return self

    def _store(self, shared, ctx, tree):
        self.tree_ = tree
        self.settings_ = ctx.settings
        self.covariates_ = [c.name for c in shared.covariates]
        self.covariate_kinds_ = {c.name: c.kind for c in shared.covariates}
        self._covs = {c.name: c for c in shared.covariates}
        self.param_names_ = list(shared.param_names)
        self.n_fits_ = shared.fitter.n_fits
        root = tree.root
        self.root_split_ = root.rule.covariate if root.rule is not None else None
        self.n_leaves_ = len(tree.leaves)
        self.depth_ = tree.depth
        self.notes_ = list(tree.notes)

    # -- results ----------------------------------------------------------------------
    def _check(self):
        if not hasattr(self, "tree_"):
            raise AttributeError("this SEMTree is not fitted yet; call fit(data)")

    @property
    def nodes_(self) -> pd.DataFrame:
        """One row per node: size, split, test, p-values and estimates."""
        self._check()
        return self.tree_.node_table()

    @property
    def leaf_params_(self) -> pd.DataFrame:
        """Parameter estimates of the leaves (one row per leaf, indexed by node id)."""
        self._check()
        ids = [nd.id for nd in self.tree_.leaves]
        return self.tree_.params(ids).set_index(pd.Index(ids, name="node"))

    def tests(self, node: int = 0) -> pd.DataFrame:
        """The test of every covariate tried at a node (the root by default)."""
        self._check()
        nd = self.tree_.nodes[node]
        return pd.DataFrame([dict(covariate=t.covariate, test=t.test,
                                  statistic=t.statistic, p=t.p,
                                  split=t.rule.describe() if t.rule else "",
                                  candidates=t.n_candidates, note=t.note)
                             for t in nd.tests])

    def _encode(self, data: pd.DataFrame) -> dict:
        out = {}
        for name in self.tree_.split_covariates():
            if name not in data.columns:
                raise SpecificationError(f"covariate '{name}' (used by a split) is not a "
                                         "column of the data")
            out[name] = self._covs[name].encode(data[name])
        if not out:
            out["_"] = np.zeros(len(data))
        return out

    def apply(self, data: pd.DataFrame) -> np.ndarray:
        """The node reached by every row (a leaf, or the internal node where a case
        missing a split covariate stops)."""
        self._check()
        return self.tree_.route(self._encode(data))

    def predict(self, data: pd.DataFrame) -> pd.DataFrame:
        """The parameter estimates of the node each row reaches (one row per case)."""
        ids = self.apply(data)
        out = self.tree_.params(ids)
        out.index = data.index
        return out

    def to_text(self, estimates: bool = True) -> str:
        self._check()
        s = self.settings_
        title = (f"SEM tree ({s.method}{', maxLR' if s.use_maxlr else ''}): "
                 f"{self.n_leaves_} leaves, depth {self.depth_}, alpha = {s.alpha:g}"
                 f"{', Bonferroni' if s.bonferroni else ''}, min_N = {s.min_N:g}, "
                 f"min_bucket = {s.min_bucket:g}")
        return tree_text(self.tree_, estimates=estimates, title=title)

    def __str__(self) -> str:
        return self.to_text() if hasattr(self, "tree_") else self.__repr__()
