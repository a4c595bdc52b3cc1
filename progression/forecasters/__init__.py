"""Forecasters with one scikit-learn-style interface (see :mod:`.base`)."""
from .base import Forecaster, ForecastGrid, Prediction, forecast_table
from .benchmarks import LastVisitBenchmark, MixedEffectsBenchmark, SVMBenchmark

__all__ = ["Forecaster", "ForecastGrid", "Prediction", "forecast_table",
           "LastVisitBenchmark", "MixedEffectsBenchmark", "SVMBenchmark"]
