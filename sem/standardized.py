"""Standardized solutions (lavaan's ``std.lv`` and ``std.all``) as functions of θ.

With v the model-implied total variances of all variables and ψ the diagonal of S
(the residual variances), lavaan 0.6 standardizes

* ``f =~ y``     λ √v_f / √v_y          (std.lv: λ √v_f)
* ``y ~ x``      β √v_x / √v_y          (std.lv: scaled by the latent sds only)
* ``a ~~ a``     ψ_a / v_a
* ``a ~~ b``     ψ_ab / √(ψ_a ψ_b)      (a residual correlation)
* ``a ~ 1``      μ_a / √v_a

and recomputes defined parameters from the standardized values. Because the functions
are written in JAX, standard errors of the standardized solution follow by the delta
method (``SEMResults.standardized_solution``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .defined import defined_function
from .jaxconfig import jnp


def _safe_sqrt(x):
    return jnp.sqrt(jnp.where(x > 0, x, jnp.nan))


def std_function(pt: pd.DataFrame, ram, kind: str = "all"):
    """g(θ) → standardized value of every row of ``pt`` (defined rows included)."""
    idx = {v: i for i, v in enumerate(ram.names)}
    rows = pt[pt["op"] != ":="]
    lhs = np.array([idx[v] for v in rows["lhs"]])
    rhs = np.array([idx.get(v, 0) for v in rows["rhs"]])
    op = rows["op"].to_numpy()
    is_lv = np.array([i >= ram.n_ov for i in range(ram.n_var)])
    free = rows["free"].to_numpy() - 1
    fixed = rows["ustart"].fillna(0.0).to_numpy()
    defined = defined_function(pt)

    def g(theta):
        C, _ = ram.implied_all(theta)
        _, S, _ = ram.matrices(theta)
        v = jnp.diagonal(C)
        psi = jnp.diagonal(S)
        sd = _safe_sqrt(v)
        if kind == "lv":
            sd = jnp.where(is_lv, sd, 1.0)
        est = jnp.where(free >= 0, theta[np.maximum(free, 0)], fixed)
        sd_l, sd_r = sd[lhs], sd[rhs]
        out = jnp.where(
            op == "=~", est * sd_l / sd_r,
            jnp.where(op == "~", est * sd_r / sd_l,
                      jnp.where(op == "~1", est / sd_l,
                                jnp.where(lhs == rhs, est / (sd_l * sd_l),
                                          est / _residual_scale(psi, lhs, rhs, sd, kind)))))
        if defined is None:
            return out
        # defined parameters from the standardized values of the labelled rows
        labels = rows["label"].to_numpy()
        names, fn = defined
        lab_free = {}
        for i, lab in enumerate(labels):
            if lab and lab not in lab_free:
                lab_free[lab] = i
        # build a θ-like vector where each labelled parameter holds its std value
        k = theta.shape[0]
        t_std = theta
        for lab, i in lab_free.items():
            p = free[i]
            if p >= 0:
                t_std = t_std.at[p].set(out[i])
        return jnp.concatenate([out, fn(t_std)]) if k else out

    return g


def _residual_scale(psi, lhs, rhs, sd, kind):
    if kind == "lv":
        return sd[lhs] * sd[rhs]
    return _safe_sqrt(psi[lhs] * psi[rhs])


def group_std_function(pt: pd.DataFrame, rams, kind: str = "all"):
    """g(θ) → the standardized value of every row of a multiple-group table (rows
    ordered by group, the defined ones last, as ``sem.grouptable``): each group's
    ``std_function`` with its RAM, and a defined parameter from the standardized
    values of the parameters it names (each free parameter at its first row), as
    lavaan's. Written in JAX, so the standardized solution's SEs follow by the delta
    method (``MultiGroupResults.standardized_solution``)."""
    rows = pt[pt["op"] != ":="]
    parts = [std_function(rows[rows["group"] == g + 1], ram, kind)
             for g, ram in enumerate(rams)]
    defined = defined_function(pt)
    free = rows["free"].to_numpy()
    first = np.unique(free, return_index=True)[1]
    first = first[free[first] > 0]

    def g(theta):
        out = jnp.concatenate([f(theta) for f in parts])
        if defined is None:
            return out
        t_std = theta.at[free[first] - 1].set(out[first])
        return jnp.concatenate([out, defined[1](t_std)])

    return g
