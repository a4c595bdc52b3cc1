"""progression — TADPOLE-style disease-progression forecasts and the challenge's metrics.

* :mod:`.schema` — the longitudinal, forecast and D4 tables (the challenge's names);
* :mod:`.cohort` — a synthetic TADPOLE-like cohort with D1/D2/D3/D4 splits;
* :mod:`.forecasters` — the three challenge benchmarks, a linear mixed model, a
  ``trajmix`` growth mixture, gradient boosting, the disease progression model (JAX)
  and mean/median ensembles, all with ``fit(train)`` / ``forecast(subjects, months)``;
* :mod:`.metrics` — ``evaluate_forecast(d4, forecast)``, exactly as the official
  evaluation; :mod:`.leaderboard` — the challenge's ranking; :mod:`.plots`;
* :mod:`.tadpole` — reading the real TADPOLE files (ADNI access needed).
"""
from sem import jaxconfig  # noqa: F401

from .cohort import Cohort, simulate_cohort
from .forecasters import (Forecaster, GradientBoostingForecaster, GrowthMixtureForecaster,
                          LastVisitBenchmark, MeanEnsemble, MedianEnsemble,
                          MixedEffectsBenchmark, MixedLMForecaster, ProgressionModel,
                          SVMBenchmark, combine_forecasts)
from .leaderboard import leaderboard, rank_table
from .metrics import evaluate_forecast

__all__ = ["Cohort", "simulate_cohort", "Forecaster", "LastVisitBenchmark",
           "MixedEffectsBenchmark", "SVMBenchmark", "MixedLMForecaster",
           "GrowthMixtureForecaster", "GradientBoostingForecaster", "ProgressionModel", "MeanEnsemble",
           "MedianEnsemble", "combine_forecasts", "evaluate_forecast", "leaderboard",
           "rank_table"]
__version__ = "0.1.0"
