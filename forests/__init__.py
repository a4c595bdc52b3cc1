"""forests — SEM trees and SEM forests for covariate screening.

``SEMTree`` grows one structural equation model tree (Brandmaier et al. 2013) by
naive likelihood ratios (with the maxLR correction), the fair split-half method or
score-based tests (Arnold, Voelkle & Brandmaier 2021); ``SEMForest`` grows many on
resampled data and measures permutation variable importance, case proximity, Boruta's
shadow-feature test and partial dependence (Brandmaier et al. 2016). The node model is
anything that follows ``sem.protocol``. See docs/forests.md.
"""
from sem import jaxconfig  # noqa: F401

from .boruta import BorutaResult
from .forest import SEMForest
from .tree import SEMTree

__all__ = ["SEMTree", "SEMForest", "BorutaResult"]
__version__ = "0.1.0"
