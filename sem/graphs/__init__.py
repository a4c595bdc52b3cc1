"""Mixed graphs of linear structural equation models, cyclic ones included.

* :class:`MixedGraph` — G = (V, D, B); Σ = (I − Λ)⁻ᵀ Ω (I − Λ)⁻¹ by solves or by the
  one-connection closed form (Adhikari, Gross, Härkönen & Tsigaridas, arXiv
  2210.00239), symbolically and for batches of parameter points;
* :func:`generically_finite_to_one` — Jacobian rank of θ ↦ vech Σ;
* :func:`vanishing_ideal` — polynomials in the Gaussian vanishing ideal, found from the
  closed form's numerators and verified exactly;
* lavaan syntax in and out, and ML fitting of cyclic SEMs through ``sem.Model``.

See ``docs/graphs.md``.
"""
from .. import jaxconfig  # noqa: F401  (float64 and the XLA workaround, first)
from .identifiability import FiniteToOneReport, generically_finite_to_one
from .ideal import vanishing_ideal
from .mixed import MixedGraph

__all__ = ["MixedGraph", "FiniteToOneReport", "generically_finite_to_one",
           "vanishing_ideal"]
