"""trajmix — growth curves, mixture-of-experts growth models, simulation studies."""
from sem import jaxconfig  # noqa: F401  (float64 and the XLA workaround, first)

__version__ = "0.1.0"
