"""sem — the JAX core of trajmix: lavaan model syntax, implied moments, Gaussian
likelihoods (ML, FIML, definition variables), estimation, inference and fit indices.

Every model in trajmix is a pure function from a parameter vector to per-case
log-likelihood contributions; estimation and inference are written once, here.
"""
from . import jaxconfig  # noqa: F401  (float64 and the XLA workaround, first)
from .errors import (BoundaryWarning, ConvergenceWarning, DataError, DataWarning,
                     SpecificationError)
from .compare import lrt
from .model import Model, growth
from .partable import build_partable
from .results import SEMResults
from .sample_stats import cor2cov, get_cov

__all__ = ["Model", "growth", "SEMResults", "lrt", "build_partable", "get_cov", "cor2cov",
           "SpecificationError", "DataError", "ConvergenceWarning", "BoundaryWarning",
           "DataWarning"]
__version__ = "0.1.0"
