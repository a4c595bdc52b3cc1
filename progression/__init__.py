"""progression — TADPOLE-style disease-progression forecasts and the challenge's metrics."""
from sem import jaxconfig  # noqa: F401

__version__ = "0.1.0"
