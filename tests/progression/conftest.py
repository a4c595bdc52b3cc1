"""Shared fixtures: a small synthetic cohort, hand-made D4 and forecast tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.schema import FORECAST_COLUMNS, forecast_months

MONTHS = forecast_months()


def make_forecast(rids, probs, adas, vents, months=MONTHS) -> pd.DataFrame:
    """A forecast table with the same values for every month: ``probs`` (n, 3),
    ``adas``/``vents`` (n, 3) as estimate, lower, upper."""
    n, M = len(rids), len(months)
    rows = {c: [] for c in FORECAST_COLUMNS}
    for i, rid in enumerate(rids):
        for m, month in enumerate(months):
            vals = [rid, m + 1, month, *probs[i], *adas[i], *vents[i]]
            for c, v in zip(FORECAST_COLUMNS, vals):
                rows[c].append(v)
    assert len(rows["RID"]) == n * M
    return pd.DataFrame(rows)


def make_d4(rids, dx, adas, vents, cog="2018-06-03", scan="2018-06-10") -> pd.DataFrame:
    n = len(rids)
    return pd.DataFrame({
        "RID": list(rids),
        "CognitiveAssessmentDate": [cog] * n if isinstance(cog, str) else list(cog),
        "Diagnosis": list(dx), "ADAS13": list(adas),
        "ScanDate": [scan] * n if isinstance(scan, str) else list(scan),
        "Ventricles": list(vents)})


@pytest.fixture(scope="session")
def small_cohort():
    from progression.cohort import simulate_cohort
    return simulate_cohort(240, seed=11)


@pytest.fixture
def perfect():
    """Six subjects, forecasts equal to the truth, intervals strictly around it."""
    rids = [1, 2, 3, 4, 5, 6]
    labels = ["CN", "MCI", "AD", "CN", "MCI", "AD"]
    adas = np.array([8.0, 15.0, 30.0, 10.0, 18.0, 35.0])
    vents = np.array([0.02, 0.025, 0.04, 0.018, 0.03, 0.045])
    probs = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    fc = make_forecast(rids, probs, np.stack([adas, adas - 1, adas + 1], 1),
                       np.stack([vents, vents - 0.001, vents + 0.001], 1))
    return make_d4(rids, labels, adas, vents), fc
