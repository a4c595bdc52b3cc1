"""Plots of compositional partial correlations (matplotlib and networkx, imported
lazily; headless-safe through :func:`sem.plots.pyplot`).

Both functions take the (D, D) matrix returned by
:func:`sem.compositional.partial_correlations` (a DataFrame labelled by the parts, or
an array) and return the matplotlib Figure.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import pyplot


def _square(pcor: Any) -> pd.DataFrame:
    M = pcor if isinstance(pcor, pd.DataFrame) else pd.DataFrame(np.asarray(pcor, float))
    if M.shape[0] != M.shape[1] or M.shape[0] < 2:
        raise ValueError(f"expected a square (D, D) matrix with D >= 2; got {M.shape}")
    return M


def _axes(ax: Any, size: tuple[float, float]):
    if ax is None:
        fig, ax = pyplot().subplots(figsize=size)
        return fig, ax
    return ax.figure, ax


def partial_correlation_heatmap(pcor: Any, *, ax: Any = None, annotate: bool = True,
                                digits: int = 2, cmap: str = "RdBu_r",
                                title: str = "Compositional partial correlations") -> Any:
    """Heatmap of a (D, D) partial-correlation matrix on the fixed scale [-1, 1]
    (diagonal blanked), optionally annotated with the values. Returns the Figure."""
    M = _square(pcor)
    D = M.shape[0]
    fig, ax = _axes(ax, (1.0 + 0.55 * D, 0.6 + 0.5 * D))
    vals = M.to_numpy(dtype=float).copy()
    np.fill_diagonal(vals, np.nan)
    im = ax.imshow(vals, cmap=cmap, vmin=-1.0, vmax=1.0)
    labels = [str(c) for c in M.columns]
    ax.set_xticks(range(D), labels, rotation=90)
    ax.set_yticks(range(D), labels)
    if annotate:
        for i in range(D):
            for j in range(D):
                if i != j:
                    v = vals[i, j]
                    ax.text(j, i, f"{v:.{digits}f}", ha="center", va="center",
                            fontsize=7, color="white" if abs(v) > 0.6 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="partial correlation")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def strongest_pairs(pcor: Any, top: int | None = None,
                    threshold: float | None = None) -> pd.DataFrame:
    """The pairs i < j ordered by |ρ_ij|, as a DataFrame (part_i, part_j, pcor): the
    ``top`` strongest, or those with |ρ| >= ``threshold`` (both: whichever is fewer;
    neither: the D strongest)."""
    M = _square(pcor)
    iu = np.triu_indices(M.shape[0], 1)
    cols = M.columns
    pairs = pd.DataFrame({"part_i": cols[iu[0]], "part_j": cols[iu[1]],
                          "pcor": M.to_numpy(dtype=float)[iu]})
    pairs = pairs.reindex(pairs["pcor"].abs().sort_values(ascending=False).index)
    if threshold is not None:
        pairs = pairs[pairs["pcor"].abs() >= threshold]
    if top is None and threshold is None:
        top = M.shape[0]
    return (pairs if top is None else pairs.head(top)).reset_index(drop=True)


def partial_correlation_graph(pcor: Any, *, top: int | None = None,
                              threshold: float | None = None, variances: Any = None,
                              layout: str = "circular", seed: int = 0, ax: Any = None,
                              title: str = "Strongest partial correlations") -> Any:
    """Graph of the strongest partial correlations: one node per part, one edge per
    pair from :func:`strongest_pairs` (width ∝ |ρ|, red positive, blue negative,
    labelled with ρ). ``variances`` (per part, e.g. partial variances) scale the node
    sizes. ``layout``: "circular" (deterministic), "spring" or "kamada-kawai"
    (``seed`` fixes the spring layout). Returns the Figure."""
    import networkx as nx

    M = _square(pcor)
    pairs = strongest_pairs(M, top, threshold)
    g = nx.Graph()
    g.add_nodes_from(M.columns)
    for a, b, v in pairs.itertuples(index=False):
        g.add_edge(a, b, weight=abs(v), pcor=v)
    if layout == "circular":
        pos = nx.circular_layout(g)
    elif layout == "spring":
        pos = nx.spring_layout(g, seed=seed)
    elif layout == "kamada-kawai":
        pos = nx.kamada_kawai_layout(g)
    else:
        raise ValueError(f"unknown layout {layout!r}: circular, spring or kamada-kawai")
    fig, ax = _axes(ax, (6.5, 6.0))
    sizes = 900.0
    if variances is not None:
        v = pd.Series(variances).reindex(M.columns).to_numpy(dtype=float)
        sizes = 300.0 + 1500.0 * np.sqrt(v / np.nanmax(v))
    edges = list(g.edges(data=True))
    if edges:
        nx.draw_networkx_edges(
            g, pos, ax=ax, edgelist=[(a, b) for a, b, _ in edges],
            width=[1.0 + 6.0 * d["weight"] for *_, d in edges],
            edge_color=["#b2182b" if d["pcor"] > 0 else "#2166ac" for *_, d in edges])
        nx.draw_networkx_edge_labels(
            g, pos, ax=ax, font_size=7,
            edge_labels={(a, b): f"{d['pcor']:.2f}" for a, b, d in edges})
    nodes = nx.draw_networkx_nodes(g, pos, ax=ax, node_size=sizes, node_color="#dddddd",
                                   edgecolors="#444444")
    nodes.set_zorder(3)
    for text in nx.draw_networkx_labels(g, pos, ax=ax, font_size=9).values():
        text.set_zorder(4)
    ax.text(0.0, 0.0, "red: positive, blue: negative; width ∝ |ρ|",
            transform=ax.transAxes, fontsize=8, color="#444444")
    ax.set_title(title)
    ax.set_axis_off()
    fig.tight_layout()
    return fig
