"""Plots of growth-mixture fits (matplotlib, imported lazily).

* ``trajectories``: each class's mean trajectory over a spaghetti plot of persons
  coloured by their modal class;
* ``posterior``: the distribution of each person's largest posterior probability, by
  modal class (how clearly persons are classified);
* ``nonlinear``: the knot (or rate) of every class with its 95 % Wald interval;
* ``enumeration``: AIC, BIC and SABIC against the number of classes.
"""
from __future__ import annotations

import numpy as np

from sem.plots import pyplot


def _colors(K):
    return [f"C{k}" for k in range(K)]


def trajectories(res, ax=None, max_persons: int = 200, seed=0):
    plt = pyplot()
    ax = ax or plt.subplots(figsize=(7, 4.5))[1]
    a = res.data.arrays
    cls = res.classes.to_numpy() - 1
    K = res.model.n_classes
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(cls), min(max_persons, len(cls)), replace=False)
    col = _colors(K)
    for i in idx:
        o = a["mask"][i]
        ax.plot(a["T"][i, o], a["Y"][i, o], color=col[cls[i]], alpha=0.15, lw=0.7)
    tr = res.trajectories()
    share = res.class_shares.to_numpy()
    for k in range(K):
        ax.plot(tr["time"], tr[f"class{k + 1}"], color=col[k], lw=3,
                label=f"class {k + 1} ({share[k]:.0%})")
    ax.set_xlabel("time")
    ax.set_ylabel(", ".join(res.data.y_names[:1]) or "outcome")
    ax.legend(frameon=False)
    ax.set_title(f"{res.model.curve.name}: class mean trajectories")
    return ax


def posterior(res, ax=None):
    plt = pyplot()
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    P = res.posterior.to_numpy()
    modal = P.argmax(1)
    col = _colors(P.shape[1])
    bins = np.linspace(1.0 / P.shape[1], 1.0, 21)
    for k in range(P.shape[1]):
        ax.hist(P[modal == k, k], bins=bins, alpha=0.6, color=col[k],
                label=f"class {k + 1} (n={int((modal == k).sum())})")
    ax.set_xlabel("posterior probability of the modal class")
    ax.set_ylabel("persons")
    ax.set_title(f"classification (entropy {res.entropy:.3f})")
    ax.legend(frameon=False)
    return ax


def nonlinear(res, ax=None):
    plt = pyplot()
    ax = ax or plt.subplots(figsize=(5, 3.5))[1]
    names = res.model.curve.nonlinear
    if not names:
        raise ValueError(f"the {res.model.curve.name} curve has no nonlinear parameter")
    K = res.model.n_classes
    ci = res.conf_int()
    for k in range(K):
        key = f"c{k + 1}.{names[0]}"
        est = res.params[key]
        ax.errorbar(est, k, xerr=[[est - ci.loc[key, "lower"]], [ci.loc[key, "upper"] - est]],
                    fmt="o", color=f"C{k}", capsize=4)
    ax.set_yticks(range(K), [f"class {k + 1}" for k in range(K)])
    ax.set_xlabel(f"{names[0]} (95% CI)")
    return ax


def enumeration(table, ax=None):
    plt = pyplot()
    ax = ax or plt.subplots(figsize=(5, 3.5))[1]
    for c in ("AIC", "BIC", "SABIC"):
        ax.plot(table["K"], table[c], marker="o", label=c)
    ax.set_xlabel("number of classes")
    ax.set_xticks(table["K"])
    ax.legend(frameon=False)
    return ax


def study(results, params=None, by=None, axes=None):
    """Coverage of the 95 % intervals and relative bias by condition (two panels).

    ``results``: ``SimulationStudy.results_``; ``params``: parameters to show
    (default: the knots, residual variances and gating slopes present); ``by``: the
    condition column on the x axis (default: the condition number)."""
    plt = pyplot()
    if params is None:
        params = [p for p in results["param"].unique()
                  if p.endswith((".knot", ".theta")) or (p.startswith("gate.")
                                                         and "Intercept" not in p)]
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 4))
    x = by or "condition"
    for p in params:
        sub = results[results["param"] == p]
        axes[0].plot(sub[x].astype(str), sub["coverage"], marker="o", label=p)
        axes[1].plot(sub[x].astype(str), sub["rel_bias"], marker="o", label=p)
    axes[0].axhspan(0.93, 0.97, color="0.9", zorder=0)
    axes[0].axhline(0.95, color="k", lw=0.8)
    axes[0].set_ylabel("coverage of 95% CI")
    axes[1].axhline(0, color="k", lw=0.8)
    axes[1].set_ylabel("relative bias")
    for ax in axes:
        ax.set_xlabel(x)
    axes[1].legend(frameon=False, fontsize=8)
    return axes
