"""Compositional data: log-ratio transforms and compositional partial correlations.

A composition table has rows = samples and columns = parts (amounts or proportions,
strictly positive; only ratios between parts carry information). Pandas in, pandas
out; numpy in, numpy out.

- transforms: :func:`closure`, :func:`clr`, :func:`alr`, :func:`ilr` and inverses,
  :func:`helmert_basis`, :func:`sbp_basis`
- second moments: :func:`clr_covariance` (optionally shrunk), :func:`variation_matrix`,
  :func:`proportionality`
- partial association (Erb 2020): :func:`partial_correlations`,
  :func:`partial_variances` (given all other parts or a subset), :func:`clr_precision`,
  the cross-check :func:`normalized_partial_correlations`, :func:`multiple_r_squared`
- zeros: :func:`multiplicative_replacement` (opt-in; zeros are otherwise an error)

See docs/compositional.md for the mathematics and a worked example.
"""
from .covariance import clr_covariance, proportionality, variation_matrix
from .partial import (clr_precision, multiple_r_squared, normalized_partial_correlations,
                      partial_correlations, partial_variances)
from .shrinkage import schafer_strimmer_covariance
from .transforms import (alr, alr_inv, closure, clr, clr_inv, helmert_basis, ilr, ilr_inv,
                         sbp_basis)
from .zeros import multiplicative_replacement

__all__ = [
    "closure", "clr", "clr_inv", "alr", "alr_inv", "ilr", "ilr_inv", "helmert_basis",
    "sbp_basis", "clr_covariance", "variation_matrix", "proportionality",
    "clr_precision", "partial_correlations", "partial_variances",
    "normalized_partial_correlations", "multiple_r_squared",
    "schafer_strimmer_covariance", "multiplicative_replacement",
]
