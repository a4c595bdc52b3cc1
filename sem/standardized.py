"""Standardized solutions (lavaan's ``std.lv``, ``std.all``, ``std.nox``) as functions
of θ.

With v the model-implied total variances of all variables and ψ the diagonal of S
(the residual variances), lavaan 0.6 standardizes

* ``f =~ y``     λ √v_f / √v_y          (std.lv: λ √v_f)
* ``y ~ x``      β √v_x / √v_y          (std.lv: scaled by the latent sds only)
* ``a ~~ a``     ψ_a / v_a
* ``a ~~ b``     ψ_ab / √(ψ_a ψ_b)      (a residual correlation)
* ``a ~ 1``      μ_a / √v_a

and recomputes defined parameters from the standardized values. ``std.nox`` is
``std.all`` with the exogenous observed covariates (lavaan's ``ov.x``, fixed or free)
left on their own scale: their standard deviations and residual scales taken as 1, so
a regression on a covariate is β / √v_y and the covariates' (co)variances stay raw.
Because the functions
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


#: the standardized solutions lavaan names, and the ``kind`` of ``std_function``
KINDS = {"std.lv": "lv", "std.all": "all", "std.nox": "nox"}


def std_function(pt: pd.DataFrame, ram, kind: str = "all", x=()):
    """g(θ) → standardized value of every row of ``pt`` (defined rows included);
    ``kind`` "lv", "all" or "nox" (then ``x`` names the exogenous covariates)."""
    idx = {v: i for i, v in enumerate(ram.names)}
    is_x = np.isin(np.array(ram.names, dtype=object), list(x))
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
        elif kind == "nox":
            sd = jnp.where(is_x, 1.0, sd)
            psi = jnp.where(is_x, 1.0, psi)
        est = jnp.where(free >= 0, theta[np.maximum(free, 0)], fixed)
        sd_l, sd_r = sd[lhs], sd[rhs]
        out = jnp.where(
            op == "=~", est * sd_l / sd_r,
            jnp.where(op == "~", est * sd_r / sd_l,
                      jnp.where(op == "~1", est / sd_l,
                                jnp.where(lhs == rhs, est / (sd_l * sd_l),
                                          est / _residual_scale(psi, lhs, rhs, kind, is_lv)))))
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


def _residual_scale(psi, lhs, rhs, kind, is_lv):
    """The scale of a (residual) covariance: √(ψ_a ψ_b); under std.lv the latent
    variables' residual standard deviations and 1 for observed ones (lavaan's: a
    disturbance covariance textual ~~ x9 is 0.157 there, 0.139 by the total SD)."""
    if kind == "lv":
        rl = jnp.where(is_lv, _safe_sqrt(psi), 1.0)
        return rl[lhs] * rl[rhs]
    return _safe_sqrt(psi[lhs] * psi[rhs])


def group_std_function(pt: pd.DataFrame, rams, kind: str = "all", x=()):
    """g(θ) → the standardized value of every row of a multiple-group table (rows
    ordered by group, the defined ones last, as ``sem.grouptable``): each group's
    ``std_function`` with its RAM, and a defined parameter from the standardized
    values of the parameters it names (each free parameter at its first row), as
    lavaan's. Written in JAX, so the standardized solution's SEs follow by the delta
    method (``MultiGroupResults.standardized_solution``)."""
    rows = pt[pt["op"] != ":="]
    parts = [std_function(rows[rows["group"] == g + 1], ram, kind, x)
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


def std_kind(type_: str) -> str:
    """``std_function``'s kind for lavaan's ``standardizedSolution(type=)`` name."""
    if type_ not in KINDS:
        raise ValueError(f"type must be one of {sorted(KINDS)}, got {type_!r}")
    return KINDS[type_]


def covariates(vars_) -> list:
    """lavaan's ``ov.x``: the exogenous observed covariates, fixed or free."""
    return list(vars_.ov_x) + [v for v in vars_.ov_x_free if v not in vars_.ov_x]
