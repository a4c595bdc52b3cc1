"""Diagnosis from forecast biomarkers: the calibrated rule shared by the model-based
forecasters (mixed model, growth mixture).

A forecaster that predicts ADAS13 and Ventricles_ICV but not the diagnosis turns its
predictive distribution into CN / MCI / AD probabilities with one rule:

* **fit**: a multinomial logistic regression of DX on the features
  (ADAS13 / 10, 100 · Ventricles_ICV, (age − 73) / 10) over all training visits that
  have the three values (scikit-learn ``LogisticRegression``, L2 penalty C = 1 — the
  features are on unit-ish scales, so the penalty hardly acts);
* **predict**: P(DX = c | history) = E[P(DX = c | ADAS13*, Ventricles_ICV*, age)]
  over the predictive distribution of the two markers, estimated by averaging the
  classifier's probabilities over ``D`` joint draws (ADAS13*, Ventricles_ICV*).

The draws are a **Latin hypercube** design shared by all subjects and months
(:func:`stratified_draws`): D stratified uniforms per coordinate, (j + ½)/D, each column
in its own fixed random order. The estimate is deterministic, has far less Monte Carlo
error than independent draws, and the forecast for a month does not depend on which other
months or subjects are requested.

Averaging over draws rather than plugging in the point forecast keeps the probabilities
calibrated when the forecast is uncertain (far horizons): a plug-in at the median would
give overconfident 0/1-like probabilities. The rule is calibrated on training visits, so
it inherits the training cohort's diagnosis mix.
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from sem.errors import DataError

from ..schema import DX_LABELS


def stratified_draws(n_draws: int, n_dims: int, seed) -> np.ndarray:
    """(n_draws, n_dims) Latin hypercube on (0, 1): column c holds (π_c(j) + ½)/D for
    j = 0..D−1 with π_c a permutation drawn from ``seed`` (McKay, Beckman & Conover
    1979). Map a column through Φ⁻¹ for normal draws."""
    rng = np.random.default_rng(seed)
    base = (np.arange(n_draws) + 0.5) / n_draws
    return np.stack([rng.permutation(base) for _ in range(n_dims)], axis=1)


def features(adas, vents, age) -> np.ndarray:
    """(N, 3) classifier features from flat arrays (module docstring)."""
    return np.column_stack([np.asarray(adas, float).ravel() / 10,
                            np.asarray(vents, float).ravel() * 100,
                            (np.asarray(age, float).ravel() - 73) / 10])


class MarkerDiagnosis:
    """The rule of the module docstring. ``fit(data)`` on a prepared longitudinal table;
    ``predict(adas, vents, ages)`` with draws ``adas``/``vents`` (D, n, M) and ages
    (n, M) returns (n, M, 3) probabilities of CN, MCI, AD."""

    def fit(self, data, who: str = "forecaster") -> "MarkerDiagnosis":
        rows = data[["ADAS13", "Ventricles_ICV", "AGE_VISIT", "DX"]].dropna()
        if rows["DX"].nunique() < 2:
            raise DataError(f"{who}: fewer than two diagnoses among training visits with "
                            "ADAS13, Ventricles_ICV and AGE")
        y = rows["DX"].map({lab: k for k, lab in enumerate(DX_LABELS)}).to_numpy(int)
        self.classifier_ = LogisticRegression(max_iter=2000).fit(
            features(rows["ADAS13"], rows["Ventricles_ICV"], rows["AGE_VISIT"]), y)
        return self

    def predict(self, adas, vents, ages) -> np.ndarray:
        adas, vents = np.asarray(adas, float), np.asarray(vents, float)
        D, n, M = adas.shape
        age = np.broadcast_to(np.asarray(ages, float), (D, n, M))
        p = self.classifier_.predict_proba(features(adas, vents, age))
        full = np.zeros((p.shape[0], 3))
        full[:, self.classifier_.classes_] = p
        return full.reshape(D, n, M, 3).mean(axis=0)
