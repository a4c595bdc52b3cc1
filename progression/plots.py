"""Plots of forecasts and scores (matplotlib, imported on first use; headless-safe).

* :func:`plot_forecasts` — for chosen subjects, the ADAS13 and Ventricles_ICV history,
  each forecaster's median with its 50% band, and the true follow-up values;
* :func:`plot_leaderboard` — the three ranked scores of a leaderboard as bar charts;
* :func:`plot_progression_curves` — a fitted progression model's biomarker sigmoids
  against disease time, with the training visits at their estimated stages.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sem.plots import pyplot

from .longitudinal import prepare_longitudinal
from .schema import ADAS_COLUMNS, VENTS_COLUMNS, check_d4

TARGETS = (("ADAS13", ADAS_COLUMNS, "ADAS13", "CognitiveAssessmentDate"),
           ("Ventricles_ICV", VENTS_COLUMNS, "Ventricles", "ScanDate"))


def plot_forecasts(history: pd.DataFrame, forecasts, subjects, d4: pd.DataFrame | None = None,
                   *, axes=None):
    """History, forecasts (a table or dict name → table) with 50% bands, and the D4
    truth for each RID in ``subjects``. Returns the figure."""
    plt = pyplot()
    if isinstance(forecasts, pd.DataFrame):
        forecasts = {"forecast": forecasts}
    subjects = list(np.atleast_1d(subjects))
    h = prepare_longitudinal(history)
    truth = check_d4(d4) if d4 is not None else None
    if axes is None:
        fig, axes = plt.subplots(len(subjects), 2, figsize=(10, 3.2 * len(subjects)),
                                 squeeze=False)
    else:
        axes = np.atleast_2d(axes)
        fig = axes.flat[0].figure
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for r, rid in enumerate(subjects):
        hs = h[h["RID"] == rid]
        for c, (target, cols, d4col, datecol) in enumerate(TARGETS):
            ax = axes[r, c]
            ax.plot(hs["EXAMDATE"], hs[target], "ko", ms=4, label="history")
            for k, (name, f) in enumerate(forecasts.items()):
                fs = f[f["RID"] == rid]
                when = pd.to_datetime(fs["Forecast Date"], format="%Y-%m")
                col = colours[k % len(colours)]
                ax.plot(when, fs[cols[0]], color=col, lw=1.5, label=name)
                ax.fill_between(when, fs[cols[1]], fs[cols[2]], color=col, alpha=0.2)
            if truth is not None:
                ts = truth[truth["RID"] == rid]
                ax.plot(ts[datecol], ts[d4col], "r*", ms=10, label="truth (D4)")
            ax.set_title(f"RID {rid}: {target}")
            if r == 0 and c == 0:
                ax.legend(fontsize=7)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def plot_leaderboard(table: pd.DataFrame, *, axes=None):
    """Bar charts of mAUC, ADAS13 MAE and Ventricles MAE (% ICV), entries in overall
    rank order (best at the top). ``table`` from :func:`progression.leaderboard.rank_table`."""
    plt = pyplot()
    t = table.iloc[::-1]
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(12, 0.45 * len(t) + 1.5), sharey=True)
    else:
        fig = axes[0].figure
    names = [f"{n} ({r:.1f})" if np.isfinite(r) else str(n) for n, r in zip(t.index, t["RANK"])]
    for ax, (col, label, scale) in zip(axes, (("mAUC", "mAUC (higher is better)", 1),
                                              ("adasMAE", "ADAS13 MAE", 1),
                                              ("ventsMAE", "Ventricles MAE (% ICV)", 100))):
        ax.barh(names, t[col] * scale, color="tab:blue")
        ax.set_title(label, fontsize=9)
    axes[0].set_ylabel("forecaster (overall rank)")
    fig.tight_layout()
    return fig


def plot_progression_curves(model, *, markers=None, axes=None):
    """A fitted :class:`~progression.forecasters.dpm.ProgressionModel`: each biomarker's
    mean trajectory a + h·σ((s − c)/w) at the reference age against disease time s, and
    the training visits at their estimated stages (z-scored units)."""
    plt = pyplot()
    markers = list(markers or model.markers_)
    P = model.layout_.unpack(model.params_.to_numpy())
    st = model.stages()
    h = model.history_
    if axes is None:
        ncol = 3
        nrow = int(np.ceil(len(markers) / ncol))
        fig, axes = plt.subplots(nrow, ncol, figsize=(4 * ncol, 3 * nrow), squeeze=False)
    else:
        fig = np.atleast_1d(axes).flat[0].figure
    axes = np.atleast_1d(axes).ravel()
    grid = np.linspace(np.nanpercentile(st["stage"], 1), np.nanpercentile(st["stage"], 99), 200)
    for ax, m in zip(axes, markers):
        k = model.markers_.index(m)
        y = (h[m].to_numpy(float) - model.scaler_.mean[k]) / model.scaler_.sd[k]
        ax.plot(st["stage"], y, ".", ms=2, alpha=0.3, color="grey")
        curve = P["a"][k] + P["h"][k] / (1 + np.exp(-(grid - P["c"][k]) / P["w"][k]))
        ax.plot(grid, curve, color="tab:red", lw=2)
        ax.set_title(m)
        ax.set_xlabel("disease time")
    for ax in axes[len(markers):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig
