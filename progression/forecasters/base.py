"""The one interface of every forecaster, and the forecast table it returns.

A forecaster is a scikit-learn estimator (``get_params`` / ``set_params`` / ``clone``
work; fitted attributes end in ``_``):

* ``fit(train)`` — ``train`` is a longitudinal table (TADPOLE's D1); returns ``self``;
* ``forecast(subjects=None, months=None)`` — ``subjects`` is the history to forecast
  from (a longitudinal table such as D2 or D3), a list of RIDs of the training table, or
  ``None`` (every training subject); ``months`` is a list of ``YYYY-MM`` months, a count,
  or ``None`` for the challenge's 60 months 2018-01 … 2022-12. Returns the forecast
  table in the challenge's format (:data:`progression.schema.FORECAST_COLUMNS`).

A new forecaster subclasses :class:`Forecaster` and implements two hooks:

* ``_fit(data)`` — ``data`` is the checked table of :func:`prepare_longitudinal`;
* ``_predict(history, grid) -> Prediction`` — ``history`` likewise (one or more visits
  per subject; a single visit is a valid history), ``grid`` the :class:`ForecastGrid`.

Everything else (checks, the table, its column names, dates) is done here once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from sem.errors import DataError

from ..longitudinal import DAYS_PER_YEAR, exam_month, prepare_longitudinal, subjects_of
from ..schema import FORECAST_COLUMNS, ID, ids, month_strings


@dataclass
class ForecastGrid:
    """The months to forecast: ``YYYY-MM`` labels, their first days, and the MATLAB
    benchmarks' month index (months since Jan 2000, Jan 2000 = 1)."""

    months: list

    def __post_init__(self):
        self.months = month_strings(self.months)
        self.dates = pd.DatetimeIndex([pd.Period(m, freq="M").start_time for m in self.months])
        self.exam_month = exam_month(self.dates)

    def __len__(self) -> int:
        return len(self.months)

    def years_after(self, origin) -> np.ndarray:
        """(n, M) years from each ``origin`` date (n,) to each forecast month."""
        origin = pd.DatetimeIndex(origin).to_numpy()
        days = (self.dates.to_numpy()[None, :] - origin[:, None]) / np.timedelta64(1, "D")
        return days / DAYS_PER_YEAR


@dataclass
class Prediction:
    """What ``_predict`` returns, for n subjects and M months.

    ``probs`` (n, M, 3): relative probabilities of CN, MCI, AD; ``adas`` and ``vents``
    (n, M, 3): estimate, 50% interval lower and upper bound (Ventricles_ICV units)."""

    rids: np.ndarray
    probs: np.ndarray
    adas: np.ndarray
    vents: np.ndarray


def forecast_table(pred: Prediction, grid: ForecastGrid, who: str = "forecaster") -> pd.DataFrame:
    """The challenge's forecast table from a :class:`Prediction` (rows: subject-major,
    months in order). Any non-finite number is an error naming the subjects."""
    n, M = len(pred.rids), len(grid)
    for name, arr in (("probabilities", pred.probs), ("ADAS13", pred.adas),
                      ("Ventricles_ICV", pred.vents)):
        arr = np.asarray(arr, dtype=float)
        if arr.shape != (n, M, 3):
            raise ValueError(f"{who}: {name} has shape {arr.shape}, expected {(n, M, 3)}")
        bad = ~np.isfinite(arr).all(axis=(1, 2))
        if bad.any():
            raise DataError(f"{who} produced non-finite {name} for RID "
                            f"{ids(np.asarray(pred.rids)[bad])}")
    cols = [np.repeat(np.asarray(pred.rids), M), np.tile(np.arange(1, M + 1), n),
            np.tile(np.asarray(grid.months, dtype=object), n)]
    for arr in (pred.probs, pred.adas, pred.vents):
        a = np.asarray(arr, dtype=float).reshape(n * M, 3)
        cols += [a[:, 0], a[:, 1], a[:, 2]]
    return pd.DataFrame(dict(zip(FORECAST_COLUMNS, cols)))


class Forecaster(BaseEstimator):
    """Base class (module docstring). Subclasses list their parameters in ``__init__``
    (scikit-learn's rule: store them unchanged) and implement ``_fit``/``_predict``."""

    #: columns the forecaster needs in the training table besides RID and EXAMDATE
    required_columns: tuple = ()

    def fit(self, train: pd.DataFrame, y=None) -> "Forecaster":
        data = prepare_longitudinal(train, require=self.required_columns,
                                    what="training table")
        if len(data) == 0:
            raise DataError("the training table has no rows")
        self._fit(data)
        self.history_ = data
        self.n_subjects_ = int(data[ID].nunique())
        return self

    def forecast(self, subjects=None, months=None) -> pd.DataFrame:
        check_is_fitted(self, "history_")
        history = self._history(subjects)
        grid = ForecastGrid(months)
        pred = self._predict(history, grid)
        return forecast_table(pred, grid, type(self).__name__)

    # -- hooks -----------------------------------------------------------------------
    def _fit(self, data: pd.DataFrame) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, history: pd.DataFrame, grid: ForecastGrid) -> Prediction:  # pragma: no cover
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------
    def _history(self, subjects) -> pd.DataFrame:
        if subjects is None:
            return self.history_
        if isinstance(subjects, pd.DataFrame):
            h = prepare_longitudinal(subjects, require=self.required_columns,
                                     what="history table")
            if len(h) == 0:
                raise DataError("the history table has no rows")
            return h
        rids = list(pd.unique(np.atleast_1d(np.asarray(subjects, dtype=object))))
        known = set(self.history_[ID])
        unknown = [r for r in rids if r not in known]
        if unknown:
            raise DataError(f"RID {ids(unknown)} not in the training table; pass their "
                            "visits as a table to forecast(subjects=...)")
        h = self.history_[self.history_[ID].isin(rids)]
        order = pd.Index(rids)
        return h.iloc[np.argsort(order.get_indexer(h[ID]), kind="stable")].reset_index(drop=True)


# --- helpers shared by forecasters ------------------------------------------------------
def last_observed(history: pd.DataFrame, column: str, *, valid=None):
    """Per subject (in :func:`subjects_of` order) the last value of ``column`` that is
    present (and satisfies ``valid``), its date, and whether one exists."""
    rids = subjects_of(history)
    ok = history[column].notna()
    if valid is not None:
        ok &= valid(history[column])
    sub = history.loc[ok, [ID, "EXAMDATE", column]].groupby(ID, sort=False).tail(1)
    sub = sub.set_index(ID).reindex(rids)
    return sub[column].to_numpy(), sub["EXAMDATE"].to_numpy(), sub[column].notna().to_numpy()


def first_visit(history: pd.DataFrame) -> pd.DataFrame:
    """One row per subject (its first visit), in :func:`subjects_of` order."""
    return history.groupby(ID, sort=False).head(1).set_index(ID).loc[subjects_of(history)]


def interval(est, half) -> np.ndarray:
    """Stack estimate ± half-width into (…, 3)."""
    est = np.asarray(est, dtype=float)
    half = np.broadcast_to(np.asarray(half, dtype=float), est.shape)
    return np.stack([est, est - half, est + half], axis=-1)
