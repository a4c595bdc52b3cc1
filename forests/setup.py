"""From a node model and a data frame to what every tree of a fit shares.

The frame is prepared once (``model.prepare``, the likelihood-model protocol of
``sem.protocol``); every node, candidate child and out-of-bag evaluation is that one
prepared data set under another case-weight vector, so compiled code is reused from
node to node and tree to tree. The full-sample fit, through the same batched fitter,
is the warm start of every root.

Compiled code depends on the number of cases, so the frame is padded to the next size
of the ladder 64, 96, 128, 192, 256, 384, … (2^j and 1.5·2^j) with copies of its
first row that get weight 0 everywhere: data sets of similar size share compiled code
(a forest's trees, a Boruta run's forests, a test suite), at most a third of the
per-case work is spent on padding, and results are those of the unpadded data.
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

from .covariates import NUMERIC, encode_covariates
from .fitting import NodeFitter


@dataclass
class Shared:
    model: object
    frame: pd.DataFrame            # the data as given (index reset), n rows
    n: int                         # cases; arrays below have padded_size(n) rows
    data: dict
    problem: object
    fitter: NodeFitter
    covariates: list
    param_names: list
    root_u: np.ndarray
    root_h0: np.ndarray
    root_converged: bool


def padded_size(n: int) -> int:
    """The smallest of 64, 96, 128, 192, 256, 384, … that holds n."""
    size = 64
    while size < n:
        size = size * 3 // 2 if size & (size - 1) == 0 else size * 4 // 3
    return size


def model_variables(model) -> tuple:
    return tuple(getattr(model, "observed", ()) or ())


def default_covariates(model, frame: pd.DataFrame) -> list:
    used = set(model_variables(model))
    if not used:
        raise SpecificationError("covariates=None needs a model that names its variables "
                                 "(an `observed` attribute); pass covariates=[...]")
    return [c for c in frame.columns if c not in used]


def covariate_names(model, frame: pd.DataFrame, covariates) -> list:
    """The covariates as a list of column names: None → every non-model column; a
    single name (a string) → that column, not its characters."""
    if covariates is None:
        return default_covariates(model, frame)
    if isinstance(covariates, str):
        return [covariates]
    return list(covariates)


def _check_protocol(model):
    for attr in ("prepare", "problem", "start"):
        if not callable(getattr(model, attr, None)):
            raise SpecificationError(
                f"the node model {type(model).__name__} has no `{attr}` method; it must "
                "follow the likelihood-model protocol of sem.protocol (prepare, problem, "
                "start)")


def _prepare_rows(model, frame, options):
    data = model.prepare(frame, **options)
    data = dict(getattr(data, "arrays", data))   # trajmix wraps its arrays
    n = np.asarray(data["w"]).shape[0]
    if n != len(frame):
        vars_ = [v for v in model_variables(model) if v in frame.columns]
        empty = frame[vars_].isna().all(axis=1) if vars_ else None
        if empty is not None and empty.any() and n == len(frame) - int(empty.sum()):
            rows = np.nonzero(empty.to_numpy())[0][:5].tolist()
            raise DataError(f"{int(empty.sum())} rows have no observed value on the model's "
                            f"variables (rows {rows}, ...); drop them before growing a "
                            "tree so that covariates and outcomes stay aligned")
        raise DataError(f"the node model kept {n} of {len(frame)} rows; a tree needs one "
                        "case per row")
    return data


def prepare(model, frame: pd.DataFrame, options: dict | None, *, pad: bool = True):
    """``model.prepare`` of the frame padded to ``padded_size`` rows (padding weight 0).
    Returns the frame (index reset), the prepared padded data, and the data of the
    unpadded frame (for start values)."""
    _check_protocol(model)
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(frame).__name__}")
    if len(frame) == 0:
        raise DataError("the data have no rows")
    frame = frame.reset_index(drop=True)
    options = dict(options or {})
    n = len(frame)
    exact = _prepare_rows(model, frame, options)
    extra = padded_size(n) - n if pad else 0
    if not extra:
        return frame, exact, exact
    padded = pd.concat([frame, frame.iloc[np.zeros(extra, dtype=int)]], ignore_index=True)
    opts = dict(options)
    if opts.get("weights") is not None:
        opts["weights"] = np.r_[np.asarray(opts["weights"], float), np.zeros(extra)]
    data = dict(_prepare_rows(model, padded, opts))
    w = np.array(data["w"], dtype=float)
    w[n:] = 0.0
    data["w"] = w
    return frame, data, exact


def pad_covariates(covs, size: int):
    """Covariate codes padded with missing values to ``size`` cases."""
    for c in covs:
        extra = size - c.values.shape[0]
        if extra > 0:
            fill = np.full(extra, np.nan if c.kind == NUMERIC else -1, dtype=c.values.dtype)
            c.values = np.r_[c.values, fill]
    return covs


def setup(model, frame, covariates, *, prepare_options=None, n_starts: int = 1,
          seed: int = 0, max_iter: int = 500, sequential: bool = False) -> Shared:
    frame, data, exact = prepare(model, frame, prepare_options)
    n = len(frame)
    names = covariate_names(model, frame, covariates)
    covs = encode_covariates(frame, names, model_variables=model_variables(model))
    pad_covariates(covs, np.asarray(data["w"]).shape[0])
    problem = model.problem(data)
    fitter = NodeFitter(problem, data, max_iter=max_iter, sequential=sequential)
    theta0 = np.asarray(model.start(exact), dtype=float)
    starts = random_starts(theta0, n_starts, seed, positive=problem.positive)
    w = np.asarray(data["w"], float)
    U = np.stack([fitter.u_of(t) for t in starts])
    H0 = fitter.jacobi_h0(U[0], w) if getattr(problem, "precondition", False) else None
    for _ in range(4):          # resume fits that hit the iteration limit
        fb = fitter.fit(np.tile(w, (len(U), 1)), U, H0)
        if fb.converged.any() or not np.any(fb.status == 2):
            break
        U = fb.u
    best = int(np.argmax(np.where(fb.converged, fb.llf, -np.inf) if fb.converged.any()
                         else fb.llf))
    fb = fitter.fit(w[None], fb.u[best][None], fb.h0[best][None])
    converged = bool(fb.converged[0])
    inv = invert_information(fb.info[0])
    if np.isfinite(fb.llf[0]) and inv.singular:
        bad = [problem.param_names[i] for i in inv.null_params]
        raise SpecificationError(
            "the node model's information matrix is singular at the full-sample estimate, "
            f"so the model is not identified; parameters involved: {bad}")
    if not converged:
        warnings.warn("the node model did not converge on the full sample "
                      f"({STATUS.get(int(fb.status[0]), 'not finite')}); trees start "
                      "from this estimate", ConvergenceWarning, stacklevel=3)
    return Shared(model, frame, n, data, problem, fitter, covs, list(problem.param_names),
                  fb.u[0], fb.h0[0], converged)
