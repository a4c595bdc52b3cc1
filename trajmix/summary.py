"""A text summary of a growth-mixture fit (Mplus/lavaan-like layout)."""
from __future__ import annotations

import numpy as np

_BLOCK_TITLES = {
    "intercepts": "Growth-factor intercepts",
    "nonlinear": "Nonlinear parameters",
    "psi": "Growth-factor (residual) covariances",
    "residual": "Residual variance",
    "experts": "Expert network (growth factors ~ covariates)",
    "covariates": "Expert covariates (class-specific distribution)",
    "tvc": "Time-varying covariates",
    "original: intercepts": "Original scale: intercepts",
    "original: marginal means": "Original scale: growth-factor means",
    "original: psi": "Original scale: growth-factor covariances",
    "original: experts": "Original scale: expert network",
    "class share": "Class share",
    "gating": "Gating network (multinomial logit vs class 1)",
}


def _num(x, w=10, d=3):
    return " " * w if x is None or not np.isfinite(x) else f"{x:{w}.{d}f}"


def render(res) -> str:
    m = res.model
    out = [f"trajmix GrowthMixture: {m.curve.name}, {m.n_classes} class"
           f"{'es' if m.n_classes > 1 else ''}"
           + (f", gating {m.gating}" if m.gating else "")
           + (f", experts {m.experts} ({m.experts_likelihood})" if m.experts else ""),
           "",
           f"  {'Optimizer':<40}{'BFGS, ' + res.opt.message:>30}",
           f"  {'Starts reaching the best logL':<40}{res.replicated:>30}",
           f"  {'Number of persons':<40}{res.nobs:>30g}",
           f"  {'Number of free parameters':<40}{res.n_params:>30}",
           "",
           f"  {'Log-likelihood':<40}{res.llf:>30.3f}",
           f"  {'AIC':<40}{res.aic:>30.3f}",
           f"  {'BIC':<40}{res.bic:>30.3f}",
           f"  {'Sample-size adjusted BIC':<40}{res.sabic:>30.3f}",
           f"  {'Entropy':<40}{res.entropy:>30.3f}"]
    if not res.converged:
        out.append("  WARNING: the optimizer did NOT converge")
    for b in res.boundary:
        out.append(f"  WARNING: boundary solution: {b}")
    tab = res.estimates
    head = f"{'':34}{'Estimate':>10}{'Std.Err':>10}{'z-value':>10}{'P(>|z|)':>10}"
    for k in sorted(tab["class"].unique()):
        sub = tab[tab["class"] == k]
        out += ["", f"Class {k}:"]
        for block, rows in sub.groupby("block", sort=False):
            out += [f"  {_BLOCK_TITLES.get(block, block)}:", head]
            for r in rows.itertuples():
                name = f"{r.lhs} {r.op} {r.rhs}".strip() if r.op not in ("~1", ":=", "share",
                                                                         "mean") else r.lhs
                out.append(f"    {name:<30}{_num(r.est)}{_num(r.se)}{_num(r.z)}"
                           f"{_num(r.pvalue)}")
    return "\n".join(out)
