"""Mean and median ensembles, the challenge's best entries ("ConsensusMean",
"ConsensusMedian": Marinescu et al., MELBA 2021:019, section 6).

Per subject and month, every column of the forecast — the three relative probabilities
(each member's first normalised to sum to 1, so that no member weighs more for using
another scale), the ADAS13 and Ventricles_ICV estimates and both bounds of their 50%
intervals — is the mean (or median) over members. :func:`combine_forecasts` combines
forecast tables directly (for example submissions read from files);
:class:`MeanEnsemble` and :class:`MedianEnsemble` are forecasters over member
forecasters.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from sem.errors import DataError

from ..schema import FORECAST_COLUMNS
from .base import Forecaster, ForecastGrid, Prediction

KEYS = ["RID", "Forecast Date"]


def combine_forecasts(forecasts, how: str = "mean") -> pd.DataFrame:
    """Combine forecast tables (a list, or a dict name → table) by ``how`` = "mean"
    or "median". All tables must cover the same subjects and months."""
    if how not in ("mean", "median"):
        raise ValueError("how must be 'mean' or 'median'")
    tables = list(forecasts.values()) if isinstance(forecasts, dict) else list(forecasts)
    if not tables:
        raise DataError("combine_forecasts: no forecasts given")
    ref = tables[0].loc[:, KEYS + ["Forecast Month"]].reset_index(drop=True)
    stacks = []
    for k, t in enumerate(tables):
        missing = [c for c in FORECAST_COLUMNS if c not in t.columns]
        if missing:
            raise DataError(f"combine_forecasts: forecast {k} lacks columns {missing}")
        merged = ref[KEYS].merge(t, on=KEYS, how="left", validate="one_to_one")
        if merged[list(FORECAST_COLUMNS[3:])].isna().any().any() or len(t) != len(ref):
            raise DataError(f"combine_forecasts: forecast {k} does not cover the same "
                            "subjects and months as the first one")
        vals = np.array(merged.loc[:, list(FORECAST_COLUMNS[3:])], dtype=float)
        p = vals[:, :3]
        vals[:, :3] = p / p.sum(axis=1, keepdims=True)
        stacks.append(vals)
    arr = np.stack(stacks)
    comb = arr.mean(axis=0) if how == "mean" else np.median(arr, axis=0)
    out = ref.copy()
    for k, c in enumerate(FORECAST_COLUMNS[3:]):
        out[c] = comb[:, k]
    return out.loc[:, list(FORECAST_COLUMNS)]


class _Ensemble(Forecaster):
    how = "mean"

    def __init__(self, members=(), prefit: bool = False):
        self.members = members
        self.prefit = prefit

    def _items(self):
        items = list(self.members.items()) if isinstance(self.members, dict) else [
            (type(m).__name__ + (f"_{k}" if k else ""), m) for k, m in enumerate(self.members)]
        if not items:
            raise DataError(f"{type(self).__name__} needs at least one member")
        return items

    def fit(self, train, y=None):
        items = self._items()
        self.members_ = [(name, m if self.prefit else clone(m).fit(train)) for name, m in items]
        return super().fit(train)

    def _fit(self, data):
        pass

    def forecast(self, subjects=None, months=None) -> pd.DataFrame:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "members_")
        tables = [m.forecast(subjects, months) for _, m in self.members_]
        return combine_forecasts(tables, self.how)

    def _predict(self, history, grid: ForecastGrid) -> Prediction:  # pragma: no cover
        raise NotImplementedError("ensembles combine their members' forecast tables")


class MeanEnsemble(_Ensemble):
    """Per-month mean of the members' forecasts (``members``: forecasters, a list or a
    dict name → forecaster; ``prefit=True`` uses them as already fitted)."""

    how = "mean"


class MedianEnsemble(_Ensemble):
    """Per-month median of the members' forecasts (see :class:`MeanEnsemble`)."""

    how = "median"
