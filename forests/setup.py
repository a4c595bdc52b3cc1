"""From a node model and a data frame to what every tree of a fit shares.

The frame is prepared once (``model.prepare``, the likelihood-model protocol of
``sem.protocol``); every node, candidate child and out-of-bag evaluation is that one
prepared data set under another case-weight vector, so compiled code is reused from
node to node and tree to tree. The full-sample fit (through the same batched fitter, so no extra compilation) is the
warm start of every root.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sem.errors import ConvergenceWarning, DataError, SpecificationError
from sem.estimation import random_starts
from sem.inference import invert_information
from sem.optimize import STATUS

from .covariates import encode_covariates
from .fitting import NodeFitter


@dataclass
class Shared:
    model: object
    frame: pd.DataFrame
    data: dict
    problem: object
    fitter: NodeFitter
    covariates: list
    param_names: list
    root_u: np.ndarray
    root_h0: np.ndarray
    root_converged: bool


def model_variables(model) -> tuple:
    return tuple(getattr(model, "observed", ()) or ())


def default_covariates(model, frame: pd.DataFrame) -> list:
    used = set(model_variables(model))
    if not used:
        raise SpecificationError("covariates=None needs a model that names its variables "
                                 "(an `observed` attribute); pass covariates=[...]")
    return [c for c in frame.columns if c not in used]


def _check_protocol(model):
    for attr in ("prepare", "problem", "start"):
        if not callable(getattr(model, attr, None)):
            raise SpecificationError(
                f"the node model {type(model).__name__} has no `{attr}` method; it must "
                "follow the likelihood-model protocol of sem.protocol (prepare, problem, "
                "start)")


def prepare(model, frame: pd.DataFrame, options: dict | None):
    """``model.prepare(frame)`` with one case per row of ``frame``."""
    _check_protocol(model)
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(frame).__name__}")
    frame = frame.reset_index(drop=True)
    data = model.prepare(frame, **(options or {}))
    n = np.asarray(data["w"]).shape[0]
    if n != len(frame):
        vars_ = list(model_variables(model))
        empty = frame[vars_].isna().all(axis=1) if vars_ else None
        if empty is not None and empty.any() and n == len(frame) - int(empty.sum()):
            rows = np.nonzero(empty.to_numpy())[0][:5].tolist()
            raise DataError(f"{int(empty.sum())} rows have no observed value on the model's "
                            f"variables (rows {rows}, ...); drop them before growing a "
                            "tree so that covariates and outcomes stay aligned")
        raise DataError(f"the node model kept {n} of {len(frame)} rows; a tree needs one "
                        "case per row")
    return frame, data


def setup(model, frame, covariates, *, prepare_options=None, n_starts: int = 1,
          seed: int = 0, max_iter: int = 500, sequential: bool = False) -> Shared:
    frame, data = prepare(model, frame, prepare_options)
    names = default_covariates(model, frame) if covariates is None else list(covariates)
    covs = encode_covariates(frame, names, model_variables=model_variables(model))
    problem = model.problem(data)
    fitter = NodeFitter(problem, data, max_iter=max_iter, sequential=sequential)
    theta0 = np.asarray(model.start(data), dtype=float)
    starts = random_starts(theta0, n_starts, seed, positive=problem.positive)
    w = np.asarray(data["w"], float)
    U = np.stack([fitter.u_of(t) for t in starts])
    for _ in range(4):          # resume fits that hit the iteration limit
        fb = fitter.fit(np.tile(w, (len(U), 1)), U)
        if fb.converged.any() or not np.any(fb.status == 2):
            break
        U = fb.u
    best = int(np.argmax(np.where(fb.converged, fb.llf, -np.inf) if fb.converged.any()
                         else fb.llf))
    fb = fitter.fit(w[None], fb.u[best][None], fb.h0[best][None])
    converged = bool(fb.converged[0])
    inv = invert_information(fb.info[0])
    if converged and inv.singular:
        bad = [problem.param_names[i] for i in inv.null_params]
        raise SpecificationError(
            "the node model's information matrix is singular at the full-sample estimate, "
            f"so the model is not identified; parameters involved: {bad}")
    if not converged:
        warnings.warn("the node model did not converge on the full sample "
                      f"({STATUS.get(int(fb.status[0]), 'not finite')}); trees start "
                      "from this estimate",
                      ConvergenceWarning, stacklevel=3)
    return Shared(model, frame, data, problem, fitter, covs, list(problem.param_names),
                  fb.u[0], fb.h0[0], converged)
