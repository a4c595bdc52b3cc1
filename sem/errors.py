"""Errors and warnings shared by every package.

``SpecificationError`` and ``DataError`` are ``ValueError`` subclasses so that code that
catches ``ValueError`` keeps working; their messages name the column, variable or
parameter at fault.
"""
from __future__ import annotations


class SpecificationError(ValueError):
    """A model that cannot be built or is not identified."""


class DataError(ValueError):
    """Input data that cannot be used as given."""


class DataWarning(UserWarning):
    """Input data were changed to be usable (e.g. cases dropped), as the message says."""


class ConvergenceWarning(UserWarning):
    """The optimiser stopped before meeting its convergence criteria."""


class BoundaryWarning(UserWarning):
    """An estimate lies on or beyond the boundary of the parameter space
    (a negative variance, a class that empties, a correlation of +/-1)."""
