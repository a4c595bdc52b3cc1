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


def check_count(value, name: str) -> int:
    """A count argument (``n_starts``, ``max_iter``, ``n_boot``, ``n_trees`` ...): a
    whole number >= 1, not a bool and not a float that would be truncated
    (``n_trees=2.5`` once grew 2 trees without a word); a ``SpecificationError``
    naming the argument otherwise. Returns it as an int."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise SpecificationError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
