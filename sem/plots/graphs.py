"""Drawing mixed graphs: directed edges as solid arrows, bidirected edges as dashed,
curved double arrows (the usual path-diagram convention for correlated errors).

>>> from sem.graphs import MixedGraph
>>> from sem.plots.graphs import plot_mixed_graph
>>> ax = plot_mixed_graph(MixedGraph([(0, 1), (1, 2), (2, 0)], [(0, 2)]))
"""
from __future__ import annotations

import numpy as np

from . import pyplot


def _circle_layout(n):
    if n == 1:
        return np.zeros((1, 2))
    t = np.pi / 2 - 2 * np.pi * np.arange(n) / n
    return np.c_[np.cos(t), np.sin(t)]


def plot_mixed_graph(g, ax=None, *, pos=None, Lambda=None, Omega=None,
                     node_radius: float = 0.13, title: str | None = None,
                     directed_color: str = "black", bidirected_color: str = "tab:red"):
    """Draw the mixed graph ``g`` on ``ax`` (a new figure if None); returns the axes.

    pos : {node: (x, y)}; default: nodes on a circle in node order, the first on top.
    Lambda, Omega : optional n×n matrices; their entries label the directed and the
        bidirected edges (e.g. estimates from ``g.matrices_from_fit(results)``).
    Opposite directed edges (2-cycles) are drawn as two arcs so both stay visible.
    """
    from matplotlib.patches import Circle, FancyArrowPatch

    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    xy = _circle_layout(g.n) if pos is None else np.array([pos[v] for v in g.nodes],
                                                           dtype=float)
    dset = set(g._D)

    def endpoints(i, j):
        a, b = xy[i], xy[j]
        d = b - a
        u = d / max(np.linalg.norm(d), 1e-12)
        return a + node_radius * u, b - node_radius * u

    def label(i, j, text, rad, color):
        a, b = xy[i], xy[j]
        mid = (a + b) / 2
        d = b - a
        normal = np.array([d[1], -d[0]])
        ax.text(*(mid + rad * 0.5 * normal), text, fontsize=8, color=color,
                ha="center", va="center",
                bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))

    for i, j in g._D:
        rad = 0.2 if (j, i) in dset else 0.0
        p, q = endpoints(i, j)
        ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>", mutation_scale=14,
                                     connectionstyle=f"arc3,rad={rad}", lw=1.4,
                                     color=directed_color, shrinkA=0, shrinkB=0,
                                     zorder=2))
        if Lambda is not None:
            label(i, j, f"{np.asarray(Lambda)[i, j]:.2f}", rad, directed_color)
    for i, j in g._B:
        rad = -0.45
        p, q = endpoints(i, j)
        ax.add_patch(FancyArrowPatch(p, q, arrowstyle="<|-|>", mutation_scale=12,
                                     connectionstyle=f"arc3,rad={rad}", lw=1.2,
                                     linestyle="--", color=bidirected_color,
                                     shrinkA=0, shrinkB=0, zorder=1))
        if Omega is not None:
            label(i, j, f"{np.asarray(Omega)[i, j]:.2f}", rad, bidirected_color)
    for k, v in enumerate(g.nodes):
        ax.add_patch(Circle(xy[k], node_radius, fc="white", ec="black", lw=1.2, zorder=3))
        ax.text(*xy[k], str(v), ha="center", va="center", fontsize=10, zorder=4)
    pad = 3 * node_radius
    ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
    ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
