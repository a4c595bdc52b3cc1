"""trajmix — growth curves, mixture-of-experts growth models, simulation studies."""
from sem import jaxconfig  # noqa: F401  (float64 and the XLA workaround, first)

from .enumerate import enumerate_classes
from .mixture import GrowthMixture
from .results import GrowthMixtureResults
from .simulate import population_theta, simulate

__all__ = ["GrowthMixture", "GrowthMixtureResults", "enumerate_classes", "simulate",
           "population_theta"]
__version__ = "0.1.0"
