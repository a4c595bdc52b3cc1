"""Partial dependence of a model parameter on a covariate (Friedman 2001; semtree's
``partialDependence``).

For every grid value v the covariate is set to v for all cases, every case is routed
through every tree and takes the estimates of the node it reaches; the curve is the
average over cases and trees,

    PD_θ(v) = (1 / nT) Σ_t Σ_i θ̂_{node_t(x_i with x_c = v)}.

It shows how a parameter (a mean slope, a variance) changes with a covariate, the
other covariates held at their observed values.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sem.errors import SpecificationError

from .covariates import NUMERIC


def default_grid(cov, n_points: int = 20) -> list:
    obs = cov.values[~cov.missing]
    if cov.kind == NUMERIC:
        grid = np.unique(np.quantile(obs, np.linspace(0, 1, n_points)))
        return grid.tolist()
    return [cov.levels[c] for c in np.unique(obs)]


def partial_dependence(forest, covariate: str, parameter=None, grid=None, data=None):
    """DataFrame indexed by the grid values, one column per parameter (or the one
    asked for)."""
    if covariate not in forest.covariates_:
        raise SpecificationError(f"covariate '{covariate}' is not a covariate of the "
                                 f"forest ({forest.covariates_})")
    names = forest.param_names_
    if parameter is not None:
        params = [parameter] if isinstance(parameter, str) else list(parameter)
        bad = [p for p in params if p not in names]
        if bad:
            raise SpecificationError(f"parameter {bad} not in the model; its parameters "
                                     f"are {names}")
    else:
        params = names
    cov = forest._covs[covariate]
    values = forest._values(data)
    n = len(next(iter(values.values())))
    grid = default_grid(cov) if grid is None else list(grid)
    thetas = [np.stack([nd.theta for nd in t.nodes]) for t in forest.trees_]
    rows = []
    for v in grid:
        code = cov.encode(pd.Series([v] * n))
        if cov.kind != NUMERIC and code[0] < 0:
            raise SpecificationError(f"'{v}' is not a level of covariate '{covariate}'")
        vals = dict(values, **{covariate: code})
        mean = np.mean([th[t.route(vals)].mean(0) for t, th in zip(forest.trees_, thetas)],
                       axis=0)
        rows.append(mean)
    out = pd.DataFrame(rows, columns=names, index=pd.Index(grid, name=covariate))
    return out[params]
