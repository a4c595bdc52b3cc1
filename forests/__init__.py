"""forests — SEM trees and SEM forests for covariate screening."""
from sem import jaxconfig  # noqa: F401

__version__ = "0.1.0"
