"""Forecasters with one scikit-learn-style interface (see :mod:`.base`)."""
from .base import Forecaster, ForecastGrid, Prediction, forecast_table
from .benchmarks import LastVisitBenchmark, MixedEffectsBenchmark, SVMBenchmark
from .boosting import GradientBoostingForecaster
from .dpm import ProgressionModel
from .ensemble import MeanEnsemble, MedianEnsemble, combine_forecasts
from .mixedlm import MixedLMForecaster
from .mixture import GrowthMixtureForecaster

__all__ = ["Forecaster", "ForecastGrid", "Prediction", "forecast_table",
           "LastVisitBenchmark", "MixedEffectsBenchmark", "SVMBenchmark",
           "MixedLMForecaster", "GrowthMixtureForecaster", "GradientBoostingForecaster",
           "ProgressionModel", "MeanEnsemble", "MedianEnsemble", "combine_forecasts"]
