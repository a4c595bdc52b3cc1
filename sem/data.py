"""Data frames → padded arrays, masks and missingness patterns, with clear errors.

A prepared data set is a dict of arrays (a JAX pytree), so that many data sets of the
same shape can be stacked and ``vmap``-ped:

* ``Y``        (n, p)  values, 0 where missing;
* ``obs``      (n, p)  True where observed;
* ``onehot``   (n, P)  membership of each case in its missingness pattern;
* ``patterns`` (P, p)  the distinct patterns (padded with complete patterns of no case);
* ``w``        (n,)    case weights (1; bootstrap counts; 0 for padding rows);
* ``defvals``  (n, d)  definition-variable values (only when the model has some).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataError, SpecificationError

MISSING_OPTIONS = ("error", "ml", "listwise")


def check_columns(data: pd.DataFrame, names, what="variable") -> None:
    """Raise if a name is not a column; list the columns that exist."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [v for v in names if v not in data.columns]
    if missing:
        cols = ", ".join(map(str, data.columns[:40]))
        more = " ..." if len(data.columns) > 40 else ""
        raise SpecificationError(
            f"{what}{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} of "
            f"the model not found in the data; the columns are: {cols}{more}")
    if not data.columns.is_unique:
        dup = [v for v in names if int((data.columns == v).sum()) > 1]
        if dup:
            many = len(dup) > 1
            raise DataError(f"column{'s' if many else ''} {', '.join(map(repr, dup))} "
                            f"appear{'' if many else 's'} more than once in the data; "
                            "rename or drop the copies")


def numeric_block(data: pd.DataFrame, names, *, allow_missing: bool,
                  what: str = "column", allow_constant: bool = False) -> np.ndarray:
    """Columns as a float array; reject non-numeric, infinite, all-missing, constant."""
    names = list(names)
    dtypes = data.dtypes
    if names and data.columns.is_unique and all(
            v in dtypes.index and dtypes[v].kind in "fiu" for v in names):
        # the common case, column by column (fit_many prepares thousands of frames;
        # ``data[names]`` builds a frame first and costs three times as much)
        X = np.column_stack([data[v].to_numpy(dtype=float, na_value=np.nan)
                             for v in names])
        nan = np.isnan(X)
        with np.errstate(invalid="ignore"):
            spread = np.nanmax(X, 0) - np.nanmin(X, 0) if not nan.all(0).any() else None
        if (np.isfinite(X) | nan).all() and spread is not None and (
                allow_missing or not nan.any()) and (allow_constant or (spread > 0).all()):
            return X
    out = np.empty((len(data), len(names)))
    for j, v in enumerate(names):
        col = data[v]
        if col.dtype == bool:
            col = col.astype(float)
        if not pd.api.types.is_numeric_dtype(col):
            bad = col[pd.to_numeric(col, errors="coerce").isna() & col.notna()]
            if len(bad):
                raise DataError(
                    f"{what} '{v}' is not numeric (dtype {col.dtype}, e.g. value "
                    f"{bad.iloc[0]!r}); recode it as numbers first")
            raise DataError(       # numbers stored as text or categories
                f"{what} '{v}' is not numeric (dtype {col.dtype}, though its values "
                "read as numbers); convert it first, e.g. with .astype(float)")
        x = col.to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(x).any():
            rows = np.nonzero(np.isinf(x))[0][:5].tolist()
            raise DataError(f"{what} '{v}' has infinite values (rows {rows})")
        if np.isnan(x).all():
            raise DataError(f"{what} '{v}' is entirely missing")
        if np.isnan(x).any() and not allow_missing:
            n_bad = int(np.isnan(x).sum())
            raise DataError(
                f"{what} '{v}' has {n_bad} missing value{'s' if n_bad > 1 else ''}; use "
                "missing='ml' (full-information ML) or missing='listwise'")
        finite = x[~np.isnan(x)]
        if finite.size > 1 and np.ptp(finite) == 0 and not allow_constant:
            raise DataError(f"{what} '{v}' is constant ({finite[0]:g}); it carries no "
                            "information for a covariance model")
        out[:, j] = x
    return out


def patterns_of(obs: np.ndarray):
    """Distinct missingness patterns (rows of ``obs``) and each case's pattern."""
    if obs.all():
        return np.ones((1, obs.shape[1]), bool), np.zeros(obs.shape[0], int)
    pats, inv = np.unique(obs, axis=0, return_inverse=True)
    # complete pattern first when present (a stable, readable order)
    order = np.argsort(-pats.sum(1), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return pats[order], rank[np.asarray(inv).ravel()]


def check_weights(weights, n: int, unit: str = "row") -> np.ndarray:
    """Case weights: one finite, non-negative number per ``unit`` (n of them), not all
    0; a ``DataError`` saying which are not. (Unchecked, a negative weight gave a
    "log-likelihood" of the wrong sign and a negative N without a word.)"""
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError) as e:
        raise DataError(f"weights must be numbers, one per {unit} ({e})") from None
    if w.ndim != 1 or len(w) != n:
        raise DataError(f"weights must have one value per {unit} ({n}), got shape "
                        f"{w.shape}")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        rows = np.nonzero(bad)[0]
        raise DataError(f"weights must be finite and >= 0; {len(rows)} are not ({unit}s "
                        f"{rows[:5].tolist()}{' ...' if len(rows) > 5 else ''})")
    if not w.sum() > 0:
        raise DataError("the weights are all 0")
    return w


def prepare(data: pd.DataFrame, names, *, missing: str = "error", defvars=(),
            weights=None) -> dict:
    """DataFrame → the array dict described in the module docstring."""
    if missing not in MISSING_OPTIONS:
        raise ValueError(f"missing must be one of {MISSING_OPTIONS}, got {missing!r}")
    check_columns(data, list(names))
    if weights is not None:
        weights = check_weights(weights, len(data))
    if defvars:
        check_columns(data, list(defvars), what="definition variable")
    Y = numeric_block(data, names, allow_missing=missing != "error")
    D = numeric_block(data, defvars, allow_missing=False, allow_constant=True,
                      what="definition variable") if defvars else None
    w = np.ones(len(Y)) if weights is None else weights
    obs = ~np.isnan(Y)
    if missing == "listwise":
        keep = obs.all(1)
        if not keep.any():
            raise DataError("no row is complete on the model's variables; listwise "
                            "deletion leaves nothing (use missing='ml')")
        Y, obs, w = Y[keep], obs[keep], w[keep]
        D = D[keep] if D is not None else None
    empty = ~obs.any(1)
    if empty.any():
        # a case with nothing observed contributes nothing: drop it, as lavaan does
        Y, obs, w = Y[~empty], obs[~empty], w[~empty]
        D = D[~empty] if D is not None else None
    n, p = Y.shape
    if n <= p and D is None:
        raise DataError(f"{n} usable rows for {p} variables: a covariance model needs more "
                        "rows than variables")
    pats, pid = patterns_of(obs)
    onehot = np.zeros((n, len(pats)))
    onehot[np.arange(n), pid] = 1.0
    out = dict(Y=np.where(obs, Y, 0.0), obs=obs, onehot=onehot, patterns=pats, w=w)
    if D is not None:
        out["defvals"] = D
    return out


def check_sample_covariance(d: dict, names) -> None:
    """Complete data: the sample covariance must be positive definite."""
    if d["patterns"].shape[0] != 1 or "defvals" in d:
        return
    Y, w = d["Y"], d["w"]
    mu = np.average(Y, axis=0, weights=w)
    S = ((Y - mu) * w[:, None]).T @ (Y - mu) / w.sum()
    ev, vec = np.linalg.eigh(S / np.sqrt(np.outer(np.diag(S), np.diag(S))))
    if ev[0] < 1e-10:
        v = vec[:, 0]
        involved = [names[i] for i in np.argsort(-np.abs(v)) if abs(v[i]) > 0.1]
        raise DataError(
            "the sample covariance matrix is not positive definite (smallest eigenvalue "
            f"of the correlation matrix {ev[0]:.2e}): the variables {involved} are "
            "linearly dependent; drop one of them")


def pad_patterns(datasets: list[dict]) -> list[dict]:
    """Give every data set the same number of patterns (and rows) so they stack."""
    P = max(d["patterns"].shape[0] for d in datasets)
    n = max(d["Y"].shape[0] for d in datasets)
    out = []
    for d in datasets:
        d = dict(d)
        k = P - d["patterns"].shape[0]
        if k:
            p = d["patterns"].shape[1]
            d["patterns"] = np.vstack([d["patterns"], np.ones((k, p), dtype=bool)])
            d["onehot"] = np.hstack([d["onehot"], np.zeros((d["onehot"].shape[0], k))])
        extra = n - d["Y"].shape[0]
        if extra:
            # padding rows: weight 0, observed in the first pattern, values 0
            for key in ("Y", "obs", "onehot") + (("defvals",) if "defvals" in d else ()):
                pad = np.zeros((extra,) + d[key].shape[1:], dtype=d[key].dtype)
                if key == "obs":
                    pad[:] = d["patterns"][0]
                if key == "onehot":
                    pad[:, 0] = 1.0
                d[key] = np.concatenate([d[key], pad])
            d["w"] = np.concatenate([d["w"], np.zeros(extra)])
        out.append(d)
    return out


def column_values(data: pd.DataFrame, loc: int):
    """The values of the column at position ``loc`` as stored: an ndarray, or an
    extension array.

    pandas builds a ``Series`` for every ``data[name]``, about 30 µs each with pandas
    3; ``fit_many`` reads nine columns of each of a thousand bootstrap frames, where
    that alone cost 0.3 ms per frame (more than the fit). ``_get_column_array`` returns
    the stored array without the ``Series`` (pandas 1.3 to 3.x; private, so the public
    path stays as the fallback, and ``tests/sem/test_prepare_many.py`` checks both)."""
    get = getattr(data, "_get_column_array", None)
    if get is not None:
        try:
            return get(loc)
        except Exception:  # noqa: BLE001 - any change of the private API: public path
            pass
    return data.iloc[:, loc].array


def frame_columns(data: pd.DataFrame, locs: np.ndarray) -> list:
    """The stored values of the columns at positions ``locs`` (an int array), each as
    a row (1, n) where pandas keeps it in a numpy block, read from the blocks at once.

    A column of a numpy-backed block is row ``blklocs[j]`` of block ``blknos[j]``.
    Frames read from files or resampled by ``iloc`` keep each column in a block of its
    own, whose (1, n) values are the row itself: no view is made (on 1000 HS bootstrap
    frames of nine columns 1 ms, where a view per column took 5-9 and ``column_values``,
    a call chain per column, 8-9). A block of several columns (a frame built from one
    2-D array) gives views of its rows. The caller must check that every item is an
    ndarray of shape (1, n), as ``_stack_complete`` does: an extension array's column
    is not. Any change of pandas' private BlockManager (``_mgr.blocks``, ``blknos``,
    ``blklocs``: pandas 1.3 to 3.x) falls back to ``column_values``."""
    try:
        mgr = data._mgr
        blocks = mgr.blocks
        rows = [blocks[b].values for b in mgr.blknos[locs].tolist()]
        if any(len(r) != 1 for r in rows):       # a block of several columns
            rows = [r[j:j + 1] for r, j in zip(rows, mgr.blklocs[locs].tolist())]
        return rows
    except Exception:  # noqa: BLE001 - a change of pandas' internals: the public path
        return [_as_row(column_values(data, j)) for j in locs.tolist()]


def _as_row(values):
    """A 1-D ndarray as a (1, n) row; anything else as it is (it fails the check)."""
    return values[None] if isinstance(values, np.ndarray) and values.ndim == 1 else values


#: frames joined, summarised and checked at a time by ``_stack_complete`` (a block
#: stays in cache)
STACK_BLOCK = 32


def centred_moments(Zt: np.ndarray, mu: np.ndarray, S: np.ndarray, buf: np.ndarray):
    """Means ``mu`` (b, p) and biased covariances ``S`` (b, p, p) of b complete data
    sets ``Zt`` (b, p, n), written into the arrays given: the data are centred into
    ``buf`` (b, p, n), so that the product reads them from cache when the caller works
    in blocks (1000 HS frames, 301 x 9, on one thread: 10.2 ms centring all at once,
    a 22 MB temporary, 6.3 ms in blocks of 32)."""
    np.mean(Zt, axis=2, out=mu)
    np.subtract(Zt, mu[:, :, None], out=buf)
    np.matmul(buf, np.swapaxes(buf, 1, 2), out=S)
    S /= Zt.shape[2]


def _stack_complete(frames, names):
    """(Y, S, mu): the (D, n, p) values of complete, finite, non-constant numeric
    columns and their sample moments (biased covariances (D, p, p), means (D, p)),
    or None when any frame needs ``prepare``'s checks (and its error messages).

    Y is the transposed view of a C-contiguous (D, p, n) array, so the moments run
    over contiguous memory (on 1000 HS bootstrap frames, 301 x 9: checking a (D, n, p)
    array of stride p took 36 ms, this layout 16 ms). Every consumer takes the view as
    an (n, p) array (a jitted call copies it).

    The columns' positions are looked up once for all frames with equal column
    labels (one ``Index.equals`` per frame); the D·p columns (rows, ``frame_columns``)
    are gathered into one list, checked as a whole (type, dtype kind, length: three
    set comprehensions) and joined ``STACK_BLOCK`` frames at a time by
    ``np.concatenate``, each block's moments computed while it is in cache (the
    moments in a pass of their own, after the join, read the 22 MB of 1000 HS frames
    back from memory: 4-6 ms more per call of ``fit_many``). The values are checked
    through their moments: a value that is not finite makes its column's mean NaN or
    infinite, and a constant column's centred values are zero but for the round-off
    of its mean (at most n ε |mean| each), so a variance at or below (n ε mean)² marks
    it. Both checks err on the safe side (a sum that overflows, a column whose spread
    is 1e-14 of its mean): such frames go to ``prepare``, which decides exactly. This
    took the separate checks' two passes (``isfinite``, a comparison with the first
    value) out of the loop."""
    if not frames or not all(isinstance(f, pd.DataFrame) for f in frames):
        return None
    n, p = len(frames[0]), len(names)      # every column's length is checked below
    if n <= p:
        return None
    arrays = []
    cols = locs = None
    for f in frames:
        if f.columns is not cols and not (cols is not None and f.columns.equals(cols)):
            cols = f.columns
            if not cols.is_unique or any(v not in cols for v in names):
                return None
            locs = np.array([cols.get_loc(v) for v in names])
        arrays.extend(frame_columns(f, locs))
    if ({type(x) for x in arrays} != {np.ndarray}
            or not {x.dtype.kind for x in arrays} <= set("fiu")
            or {x.shape for x in arrays} != {(1, n)}):
        return None
    D = len(frames)
    Yt, S, mu = np.empty((D, p, n)), np.empty((D, p, p)), np.empty((D, p))
    buf = np.empty((min(STACK_BLOCK, D), p, n))
    with np.errstate(invalid="ignore", over="ignore"):
        for lo in range(0, D, STACK_BLOCK):
            hi = min(lo + STACK_BLOCK, D)
            block = Yt[lo:hi]
            np.concatenate(arrays[lo * p:hi * p], out=block.reshape(-1, n))
            centred_moments(block, mu[lo:hi], S[lo:hi], buf[:hi - lo])
        var = np.diagonal(S, axis1=1, axis2=2)
        if (not (np.isfinite(mu).all() and np.isfinite(S).all())
                or (var <= np.square(n * np.finfo(float).eps * mu)).any()):
            return None
    return Yt.transpose(0, 2, 1), S, mu


def prepare_many(frames, names, *, missing: str = "error", defvars=(),
                 weights=None, moments: bool = False) -> tuple:
    """Many DataFrames → (the stacked array dict, each data set's own dict), and with
    ``moments=True`` a third item: the complete data sets' sample moments (biased
    covariances (D, p, p), means (D, p)) computed as they were read, or None.

    Complete numeric frames of one length (bootstrap draws, simulated replications)
    are read straight into one (D, n, p) array and checked at once; every other list
    goes through ``prepare`` frame by frame, whose errors are raised with the index of
    the data set at fault."""
    if missing not in MISSING_OPTIONS:
        raise ValueError(f"missing must be one of {MISSING_OPTIONS}, got {missing!r}")
    frames = list(frames)
    if not frames:
        raise DataError("fit_many needs at least one data set")
    read = None
    if not defvars and (weights is None or all(w is None for w in weights)):
        read = _stack_complete(frames, list(names))
    if read is not None:
        Y = read[0]
        D, n, p = Y.shape
        stacked = dict(Y=Y, obs=np.ones((D, n, p), bool), onehot=np.ones((D, n, 1)),
                       patterns=np.ones((D, 1, p), bool), w=np.ones((D, n)))
        out = stacked, [{k: v[i] for k, v in stacked.items()} for i in range(D)]
        return out + (read[1:],) if moments else out
    ws = weights if weights is not None else [None] * len(frames)
    prepped = []
    for i, (f, w) in enumerate(zip(frames, ws)):
        try:
            prepped.append(prepare(f, names, missing=missing, defvars=defvars, weights=w))
        except (DataError, SpecificationError) as e:
            raise type(e)(f"data set {i}: {e}") from None
    out = stack(pad_patterns(prepped)), prepped
    return out + (None,) if moments else out


def stack(datasets: list[dict]) -> dict:
    """Stack same-shaped data dicts along a new leading axis."""
    return {k: np.stack([d[k] for d in datasets]) for k in datasets[0]}
