"""trajmix — growth curves, mixture-of-experts growth models, simulation studies."""
from sem import jaxconfig  # noqa: F401  (float64 and the XLA workaround, first)

from .mixture import GrowthMixture
from .results import GrowthMixtureResults

__all__ = ["GrowthMixture", "GrowthMixtureResults"]
__version__ = "0.1.0"
