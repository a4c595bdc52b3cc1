"""The parameters users read, as a jittable function of θ (delta-method SEs).

Per class: growth-factor intercepts α (estimated space), the nonlinear parameters,
the residual growth-factor covariance Ψ = L Lᵀ, the residual variance θ, expert
regressions B, the covariates' means μx and covariance Φ, time-varying-covariate effects
κ; for the bilinear spline also the original-scale quantities F α, F B, F Ψ Fᵀ (F = F(γ),
``trajmix.curves``) and, in the joint experts model, the class's marginal growth-factor
means F(α + B μx) (nlpsem's ``mueta``). Gating coefficients as estimated, and each
class's share (the mean prior probability, π̄_k = Σ_i w_i π_ik / Σ_i w_i).
"""
from __future__ import annotations

import numpy as np

from sem.jaxconfig import jnp


def _vech(M, tri):
    return M[tri]


def report_spec(layout, curve, names: dict):
    """Row metadata (class, block, lhs, op, rhs, name) of the reported vector."""
    f_est = list(curve.factor_names)
    f_orig = list(curve.original_names)
    fm_est = f_est[:layout.q_mean]
    fm_orig = f_orig[:layout.q_mean]
    xe, xg, z = names["experts"], names["gating"], names["tvc"]
    y = names["outcome"]
    rows = []

    def add(k, block, lhs, op, rhs, label):
        rows.append(dict(cls=k, block=block, lhs=lhs, op=op, rhs=rhs, name=label))

    orig = curve.name == "bilinear_spline"
    for k in range(layout.K):
        c = f"c{k + 1}"
        for f in fm_est:
            add(k + 1, "intercepts", f, "~1", "", f"{c}.alpha.{f}")
        for v in curve.nonlinear:
            add(k + 1, "nonlinear", v, ":=", "", f"{c}.{v}")
        for i, j in zip(*layout.tri):
            add(k + 1, "psi", f_est[j], "~~", f_est[i], f"{c}.psi.{f_est[j]}~~{f_est[i]}")
        add(k + 1, "residual", y, "~~", y, f"{c}.theta")
        for f in fm_est:
            for x in xe:
                add(k + 1, "experts", f, "~", x, f"{c}.beta.{f}~{x}")
        if layout.joint:
            for x in xe:
                add(k + 1, "covariates", x, "~1", "", f"{c}.mux.{x}")
            for i, j in zip(*layout.tri_e):
                add(k + 1, "covariates", xe[j], "~~", xe[i], f"{c}.phi.{xe[j]}~~{xe[i]}")
        for v in z:
            add(k + 1, "tvc", y, "~", v, f"{c}.kappa.{v}")
        if orig:
            for f in fm_orig:
                add(k + 1, "original: intercepts", f, "~1", "", f"{c}.alpha_orig.{f}")
            if layout.pe and layout.joint:
                for f in fm_orig:
                    add(k + 1, "original: marginal means", f, "mean", "",
                        f"{c}.mean_orig.{f}")
            for i, j in zip(*layout.tri):
                add(k + 1, "original: psi", f_orig[j], "~~", f_orig[i],
                    f"{c}.psi_orig.{f_orig[j]}~~{f_orig[i]}")
            for f in fm_orig:
                for x in xe:
                    add(k + 1, "original: experts", f, "~", x, f"{c}.beta_orig.{f}~{x}")
        add(k + 1, "class share", f"class{k + 1}", "share", "", f"{c}.share")
    for k in range(1, layout.K):
        for v in ["(Intercept)"] + list(xg):
            add(k + 1, "gating", f"class{k + 1}", "~", "1" if v == "(Intercept)" else v,
                f"gate.c{k + 1}.{v}")
    return rows


def report_function(layout, curve, prior_fn):
    """g(θ, data) → the reported vector in the order of ``report_spec``."""
    orig = curve.name == "bilinear_spline"
    qm = layout.q_mean

    def g(theta, data):
        out = []
        prior = prior_fn(theta, data)                                   # n, K
        w = data["w"]
        share = (w @ prior) / jnp.sum(w)
        for k in range(layout.K):
            p = layout.unpack_class(theta, k)
            out.append(p["alpha"][:qm])
            if layout.m:
                out.append(p["nl"])
            Psi = p["L"] @ p["L"].T
            out.append(_vech(Psi.T, layout.tri))
            out.append(jnp.atleast_1d(p["theta"]))
            if layout.pe:
                out.append(p["beta"][:qm].reshape(-1))
                if layout.joint:
                    out.append(p["mux"])
                    Phi = p["Lphi"] @ p["Lphi"].T
                    out.append(_vech(Phi.T, layout.tri_e))
            if layout.pz:
                out.append(p["kappa"])
            if orig:
                F = curve.to_original(p["nl"])
                out.append((F @ p["alpha"])[:qm])
                if layout.pe and layout.joint:
                    out.append((F @ (p["alpha"] + p["beta"] @ p["mux"]))[:qm])
                out.append(_vech((F @ Psi @ F.T).T, layout.tri))
                if layout.pe:
                    out.append((F @ p["beta"])[:qm].reshape(-1))
            out.append(jnp.atleast_1d(share[k]))
        if layout.K > 1:
            out.append(layout.gate(theta)[1:].reshape(-1))
        return jnp.concatenate([jnp.atleast_1d(o) for o in out])

    return g


def estimates_table(rows, est, se, level=0.95):
    from sem.inference import wald_table
    import pandas as pd

    tab = pd.DataFrame(rows).rename(columns={"cls": "class"})
    tab["est"] = np.asarray(est)
    tab["se"] = np.asarray(se)
    w = wald_table(tab["est"], tab["se"], level)
    return pd.concat([tab, w], axis=1)
