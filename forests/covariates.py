"""Covariates of a tree: their level of measurement and an integer or float coding.

* **numeric** — any numeric column (int, float; bool is treated as a two-level
  categorical). Missing: NaN.
* **ordered** — a ``pandas.Categorical`` with ``ordered=True``; coded 0..L−1 in the
  order of its categories. Missing: −1.
* **categorical** — an unordered ``pandas.Categorical``, strings/objects or booleans;
  coded 0..L−1 over the sorted observed levels. Missing: −1.

A numeric covariate with few distinct values (a 0/1 indicator) stays numeric; its
split points are between its distinct values, and the score test uses the exact null
distribution of a maximum over those few points (``forests.score_tests``), where
semtree warns and suggests an ordered factor.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sem.errors import DataError, SpecificationError

NUMERIC, ORDERED, CATEGORICAL = "numeric", "ordered", "categorical"
FEW_VALUES = 10


@dataclass
class Covariate:
    name: str
    kind: str                       # numeric | ordered | categorical
    values: np.ndarray              # (n,) float (numeric) or int codes (others)
    levels: list = field(default_factory=list)   # labels of the codes (not numeric)

    @property
    def missing(self) -> np.ndarray:
        return np.isnan(self.values) if self.kind == NUMERIC else self.values < 0

    @property
    def has_missing(self) -> bool:
        return bool(self.missing.any())

    def label(self, code) -> str:
        return str(self.levels[int(code)]) if self.levels else f"{code:g}"

    def encode(self, column: pd.Series) -> np.ndarray:
        """Code new data (prediction) with this covariate's levels; unseen levels and
        missing values get the missing code."""
        return _encode(column, self.kind, self.levels, self.name)[0]

    def permuted(self, perm: np.ndarray) -> "Covariate":
        return Covariate(self.name, self.kind, self.values[perm], self.levels)


def kind_of(column: pd.Series) -> str:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return ORDERED if dtype.ordered else CATEGORICAL
    if pd.api.types.is_bool_dtype(dtype):
        return CATEGORICAL
    if pd.api.types.is_numeric_dtype(dtype):
        return NUMERIC
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return CATEGORICAL
    raise DataError(f"covariate '{column.name}' has dtype {dtype}, which cannot be used "
                    "to split a tree: use numbers, an (ordered) pandas Categorical or "
                    "strings")


def _encode(column: pd.Series, kind: str, levels, name: str):
    if kind == NUMERIC:
        x = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(x).any():
            rows = np.nonzero(np.isinf(x))[0][:5].tolist()
            raise DataError(f"covariate '{name}' has infinite values (rows {rows})")
        return x, []
    if levels is None:
        if isinstance(column.dtype, pd.CategoricalDtype):
            levels = list(column.cat.categories)
        else:
            obs = column.dropna().unique().tolist()
            try:
                levels = sorted(obs)
            except TypeError:
                levels = sorted(obs, key=str)
    codes = pd.Categorical(column, categories=levels).codes.astype(np.int64)
    return codes, list(levels)


def encode_covariates(frame: pd.DataFrame, names, *, model_variables=()) -> list[Covariate]:
    """Check and code the covariates; errors and warnings name the covariate.

    Raises ``SpecificationError`` for a name that is not a column or that is one of
    the model's own variables, ``DataError`` for a covariate that is entirely missing
    or of an unusable type. A covariate with a single observed level can never split;
    it is kept (so importances list it) with a warning.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(frame).__name__}")
    names = list(names)
    if not names:
        raise SpecificationError("no covariates given: pass covariates=[...] (columns "
                                 "of the data that are not variables of the model)")
    if len(set(names)) != len(names):
        dup = sorted({v for v in names if names.count(v) > 1})
        raise SpecificationError(f"covariates listed twice: {dup}")
    absent = [v for v in names if v not in frame.columns]
    if absent:
        raise SpecificationError(
            f"covariate{'s' if len(absent) > 1 else ''} {', '.join(map(repr, absent))} "
            f"not found in the data; the columns are: {', '.join(map(str, frame.columns))}")
    clash = [v for v in names if v in set(model_variables)]
    if clash:
        raise SpecificationError(f"covariate{'s' if len(clash) > 1 else ''} {clash} "
                                 "are variables of the node model; a tree cannot split "
                                 "on its own outcomes")
    out = []
    for name in names:
        col = frame[name]
        kind = kind_of(col)
        values, levels = _encode(col, kind, None, name)
        cov = Covariate(str(name), kind, values, levels)
        obs = ~cov.missing
        if not obs.any():
            raise DataError(f"covariate '{name}' is entirely missing; drop it from "
                            "covariates")
        distinct = np.unique(values[obs]).size
        if distinct < 2:
            warnings.warn(f"covariate '{name}' has a single observed level "
                          f"({cov.label(values[obs][0])}); it can never split a node",
                          UserWarning, stacklevel=3)
        out.append(cov)
    return out
