"""Plots of trees and forests (matplotlib, imported on first use).

Every function takes an optional ``ax`` and returns the matplotlib Axes it drew on.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sem.plots import pyplot

DECISION_COLORS = {"confirmed": "#2c7fb8", "tentative": "#fdae61", "rejected": "#bdbdbd"}


def _ax(ax, size):
    if ax is None:
        _, ax = pyplot().subplots(figsize=size)
    return ax


def _tree_of(tree):
    return getattr(tree, "tree_", tree)


def _layout(tree):
    """x of every node (leaves evenly spaced, parents centred), y = −depth."""
    x = {}
    nxt = [0.0]

    def place(i):
        nd = tree.nodes[i]
        if nd.rule is None:
            x[i] = nxt[0]
            nxt[0] += 1.0
        else:
            place(nd.left)
            place(nd.right)
            x[i] = 0.5 * (x[nd.left] + x[nd.right])

    place(0)
    return x


def plot_tree(tree, *, params=None, ax=None, fontsize: int = 8, digits: int = 3):
    """A tree diagram: each internal node with its split and test, each leaf with N and
    the estimates of ``params`` (default: all parameters)."""
    t = _tree_of(tree)
    pos = _layout(t)
    names = t.param_names if params is None else list(params)
    idx = [t.param_names.index(p) for p in names]
    width = max(len(t.leaves), 1)
    ax = _ax(ax, (max(6, 2.2 * width), 1.8 + 1.6 * (t.depth + 1)))
    for nd in t.nodes:
        if nd.rule is None:
            continue
        for child, label in ((nd.left, "no"), (nd.right, "yes")):
            ax.plot([pos[nd.id], pos[child]], [-nd.depth, -nd.depth - 1], color="0.6",
                    lw=1, zorder=1)
            ax.text((pos[nd.id] + pos[child]) / 2, -nd.depth - 0.5, label,
                    fontsize=fontsize - 1, color="0.4", ha="center", va="center",
                    bbox=dict(fc="white", ec="none", pad=0.5), zorder=2)
    for nd in t.nodes:
        if nd.rule is not None:
            txt = (f"{nd.rule.describe()}\nN = {nd.n:g}\n{nd.test.test} = "
                   f"{nd.test.statistic:.3g}, p = {nd.p:.2g}")
            style = dict(boxstyle="round", fc="#deebf7", ec="#3182bd")
        else:
            est = [f"{names[j]} = {nd.theta[i]:.{digits}g}" for j, i in enumerate(idx)]
            txt = "\n".join([f"N = {nd.n:g}"] + est)
            style = dict(boxstyle="round", fc="#f7f7f7", ec="0.5")
        ax.text(pos[nd.id], -nd.depth, txt, ha="center", va="center", fontsize=fontsize,
                bbox=style, zorder=3)
    ax.set_xlim(-0.7, width - 0.3)
    ax.set_ylim(-t.depth - 0.7, 0.7)
    ax.axis("off")
    return ax


def plot_importance(importance, *, boruta=None, ax=None, sort: bool = True,
                    xlabel: str = "permutation importance (OOB deviance increase)"):
    """Horizontal bars of variable importance (a ``SEMForest`` or a Series). With a
    Boruta result, bars are coloured by its decision and the mean shadow maximum is
    drawn as the screening cut-off."""
    vi = getattr(importance, "variable_importance_", importance)
    vi = pd.Series(vi).fillna(0.0)
    if sort:
        vi = vi.sort_values()
    ax = _ax(ax, (6.5, 0.45 * len(vi) + 1.2))
    colors = ["#2c7fb8"] * len(vi)
    if boruta is not None:
        dec = boruta.decision
        colors = [DECISION_COLORS.get(dec.get(c, ""), "#2c7fb8") for c in vi.index]
    ax.barh(np.arange(len(vi)), vi.to_numpy(), color=colors)
    ax.set_yticks(np.arange(len(vi)), [str(c) for c in vi.index])
    ax.axvline(0, color="0.3", lw=0.8)
    if boruta is not None:
        ax.axvline(boruta.threshold, color="#d7191c", ls="--", lw=1.2,
                   label="Boruta shadow maximum")
        handles = [pyplot().Rectangle((0, 0), 1, 1, color=c) for c in DECISION_COLORS.values()]
        ax.legend(handles + [ax.get_lines()[-1]],
                  list(DECISION_COLORS) + ["shadow maximum"], fontsize=8, loc="lower right")
    ax.set_xlabel(xlabel)
    return ax


def cluster_order(P: np.ndarray) -> np.ndarray:
    """Leaf order of average-linkage clustering on the distance 1 − proximity."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    D = 1.0 - np.asarray(P, float)
    np.fill_diagonal(D, 0.0)
    D = 0.5 * (D + D.T)
    if D.shape[0] < 3:
        return np.arange(D.shape[0])
    return leaves_list(linkage(squareform(D, checks=False), method="average"))


def plot_proximity(P, *, order: bool = True, ax=None, cmap: str = "viridis"):
    """Heatmap of case proximities, cases ordered by hierarchical clustering."""
    M = np.asarray(P, float)
    idx = cluster_order(M) if order else np.arange(M.shape[0])
    ax = _ax(ax, (6, 5))
    im = ax.imshow(M[np.ix_(idx, idx)], cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    pyplot().colorbar(im, ax=ax, label="proximity (share of trees)")
    ax.set_xlabel("case (clustered order)" if order else "case")
    ax.set_ylabel("case (clustered order)" if order else "case")
    return ax


def plot_partial_dependence(pdep: pd.DataFrame, *, ax=None):
    """Partial dependence curves (the output of ``SEMForest.partial_dependence``)."""
    ax = _ax(ax, (6, 4))
    x = pdep.index
    numeric = pd.api.types.is_numeric_dtype(x)
    for col in pdep.columns:
        if numeric:
            ax.plot(x, pdep[col], marker="o", ms=3, label=col)
        else:
            ax.plot(np.arange(len(x)), pdep[col], marker="o", label=col)
    if not numeric:
        ax.set_xticks(np.arange(len(x)), [str(v) for v in x])
    ax.set_xlabel(str(x.name))
    ax.set_ylabel("forest-averaged estimate")
    if len(pdep.columns) > 1:
        ax.legend(fontsize=8)
    return ax


def plot_importance_convergence(forest, *, ax=None):
    """Running mean importance of each covariate against the number of trees."""
    vi = forest.importance_per_tree_
    ax = _ax(ax, (6.5, 4))
    running = vi.expanding().mean()
    for col in running.columns:
        ax.plot(np.arange(1, len(running) + 1), running[col], label=str(col))
    ax.set_xlabel("number of trees")
    ax.set_ylabel("mean importance")
    ax.legend(fontsize=7, ncol=2)
    return ax
