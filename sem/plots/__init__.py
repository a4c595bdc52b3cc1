"""Plots for the ``sem`` package (matplotlib, imported lazily).

Functions live in submodules by topic: ``sem.plots.compositional``,
``sem.plots.graphs``, ``sem.plots.fit``.
"""
from __future__ import annotations


def pyplot():
    """matplotlib.pyplot, imported on first use (a headless backend if no display)."""
    import os

    import matplotlib

    if not os.environ.get("DISPLAY") and matplotlib.get_backend().lower() not in ("agg",):
        try:
            matplotlib.use("Agg")
        except Exception:  # pragma: no cover
            pass
    import matplotlib.pyplot as plt

    return plt
