"""Likelihood-ratio (χ² difference) tests of nested models: lavaan's ``anova`` /
``lavTestLRT``.

For models fitted to the same data, sorted by their degrees of freedom, each row after
the first tests the model against the previous one (the less restricted):
Δχ² = χ²_k − χ²_{k−1}, Δdf = df_k − df_{k−1}, p = P(χ²_Δdf > Δχ²), and the RMSEA of
the difference √(max(Δχ² − Δdf, 0) / (Δdf · N)) (lavaan 0.6's column; times √G for
G groups).

Robust fits (``se="robust"``, lavaan's MLR) get the Satorra–Bentler (2001) scaled
difference, lavaan's default for them: with c_k the scaling factors
(``sem.scaled_test``), Δχ²_s = (χ²_k − χ²_{k−1}) / [(df_k c_k − df_{k−1} c_{k−1}) / Δdf]
on Δdf degrees of freedom (no RMSEA column, as lavaan). The "Chisq" column holds the
ML statistics. The scaled difference can come out negative for nearly equal models
(a known weakness of the 2001 test); its p-value is then 1, as lavaan's.

Checked against lavaan 0.6.14's ``anova`` (``tests/sem/test_compare.py``). Nesting
itself is the user's claim, as in lavaan: the test is only valid if it holds.

``wald_test`` is lavaan's ``lavTestWald``: constraints on one fit's labelled parameters.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from .errors import SpecificationError


def lrt(*fits, **named_fits) -> pd.DataFrame:
    """χ² difference tests of nested ``SEMResults`` (positional ones are named
    "model 1", "model 2", ...; keyword ones by their keyword). Returns lavaan's
    ``anova`` table: Df, AIC, BIC, Chisq, Chisq diff, RMSEA, Df diff, Pr(>Chisq).
    Fits with definition variables have no χ²: the table then has npar, AIC, BIC,
    −2LL, −2LL diff, Df diff, Pr(>Chisq) (``_deviance_test``)."""
    models = {f"model {i + 1}": f for i, f in enumerate(fits)}
    models.update(named_fits)
    if len(models) < 2:
        raise ValueError("lrt needs at least two fitted models")
    first_name, first = next(iter(models.items()))
    robust = {name: getattr(f, "se_type", None) == "robust" for name, f in models.items()}
    if len(set(robust.values())) > 1:
        raise ValueError(f"robust fits {[n for n, r in robust.items() if r]} and standard "
                         f"fits {[n for n, r in robust.items() if not r]} cannot be "
                         "compared: fit all with se='robust' (a scaled difference test) "
                         "or all with se='standard'")
    for name, f in models.items():
        if not f.converged:
            raise ValueError(f"{name} did not converge; its χ² is not a test statistic")
        if set(f.spec.vars.ov) != set(first.spec.vars.ov):
            raise SpecificationError(
                f"{name} and {first_name} model different observed variables "
                f"({sorted(f.spec.vars.ov)} against {sorted(first.spec.vars.ov)}): "
                "nested models share their data")
        if f.nobs != first.nobs:
            raise ValueError(f"{name} was fitted to {f.nobs:g} cases and {first_name} to "
                             f"{first.nobs:g}: nested models are fitted to the same data")
    fm = {name: f.fit_measures for name, f in models.items()}
    if not all("chisq" in m for m in fm.values()):
        return _deviance_test(models, fm, robust)
    order = sorted(models, key=lambda name: fm[name]["df"])      # stable, as lavaan
    tab = pd.DataFrame({"Df": [fm[m]["df"] for m in order],
                        "AIC": [fm[m]["aic"] for m in order],
                        "BIC": [fm[m]["bic"] for m in order],
                        "Chisq": [fm[m]["chisq"] for m in order]}, index=order)
    dchi = tab["Chisq"].diff().to_numpy()
    ddf = tab["Df"].diff().to_numpy()
    scaled = all(robust.values())
    if scaled:      # Satorra-Bentler (2001): the difference over its own scaling
        cdf = tab["Df"].to_numpy() * [fm[m]["chisq.scaling.factor"] for m in order]
        with np.errstate(divide="ignore", invalid="ignore"):
            dchi = dchi / (np.diff(cdf, prepend=np.nan) / ddf)
    with np.errstate(divide="ignore", invalid="ignore"):
        # multiple groups: √G times the one-group formula, as lavaan's
        G = len(getattr(first, "groups", ())) or 1
        rmsea = np.sqrt(G * np.maximum(dchi - ddf, 0.0) / (ddf * first.nobs))
        p = _difference_pvalues(dchi, ddf)
    tab["Chisq diff"] = dchi
    if not scaled:
        tab["RMSEA"] = np.where(ddf > 0, rmsea, np.nan)
    tab["Df diff"] = ddf
    tab["Pr(>Chisq)"] = p
    tab.iloc[0, 4:] = np.nan
    return tab


def _difference_pvalues(stat, ddf) -> np.ndarray:
    """P(χ²_ddf > stat) of each difference (negative statistics as 0; NaN where the
    models do not differ in df, as the first row)."""
    with np.errstate(invalid="ignore"):
        return np.where(ddf > 0, special.chdtrc(np.where(ddf > 0, ddf, 1.0),
                                                np.maximum(stat, 0.0)), np.nan)


def _deviance_test(models: dict, fm: dict, robust: dict) -> pd.DataFrame:
    """The likelihood-ratio test of nested fits that have no saturated model to give a
    χ² (definition variables: each case its own moments), as OpenMx's ``mxCompare``:
    −2 log L, its difference and the difference in free parameters; the model with the
    most parameters first."""
    if any(robust.values()):
        raise NotImplementedError("a scaled difference test of fits with definition "
                                  "variables (no saturated model): fit with "
                                  "se='standard'")
    order = sorted(models, key=lambda name: -fm[name]["npar"])
    tab = pd.DataFrame({"npar": [fm[m]["npar"] for m in order],
                        "AIC": [fm[m]["aic"] for m in order],
                        "BIC": [fm[m]["bic"] for m in order],
                        "-2LL": [-2.0 * fm[m]["logl"] for m in order]}, index=order)
    d2ll = tab["-2LL"].diff().to_numpy()
    ddf = -tab["npar"].diff().to_numpy()
    tab["-2LL diff"], tab["Df diff"] = d2ll, ddf
    tab["Pr(>Chisq)"] = _difference_pvalues(d2ll, ddf)
    tab.iloc[0, 4:] = np.nan
    return tab


def wald_test(fit, constraints: str) -> dict:
    """lavaan's ``lavTestWald``: a Wald test of constraints on the labelled parameters
    of one fit, ``"a == d; b == e"`` (one per line or ``;``; each side an expression in
    the labels and defined parameters). With r(θ) = lhs − rhs and R = ∂r/∂θ,
    W = r(θ̂)ᵀ (R V Rᵀ)⁻¹ r(θ̂) on as many df as constraints, V the fit's covariance of
    θ̂ (robust for ``se="robust"``, as lavaan's). Returns {stat, df, pvalue, se}."""
    from .defined import defined_function
    from .jaxconfig import jax, jnp
    from .partable import expression_names

    parts = [c.strip() for line in str(constraints).splitlines()
             for c in line.split(";") if c.strip()]
    if not parts:
        raise SpecificationError("wald_test needs at least one constraint, e.g. 'a == b'")
    pt = fit.spec.pt
    known = set(pt.loc[pt["label"] != "", "label"]) | set(pt.loc[pt["op"] == ":=", "lhs"])
    diffs = []
    for c in parts:
        if c.count("==") != 1:
            raise SpecificationError(f"constraint '{c}' must have the form 'lhs == rhs'")
        lhs, rhs = (x.strip() for x in c.split("=="))
        unknown = sorted({n for side in (lhs, rhs) for n in expression_names(side)} - known)
        if unknown:
            raise SpecificationError(
                f"constraint '{c}' names {unknown}, which are not labels or defined "
                f"parameters of the model (its labels: {sorted(known)})")
        diffs.append(f"({lhs}) - ({rhs})")
    if getattr(fit, "se_type", None) == "none":
        raise ValueError("the fit has no covariance of its estimates (se='none')")
    names, g = defined_function(pt, diffs)
    th = jnp.asarray(fit.theta)
    r = np.asarray(g(th))[len(names):]
    R = np.asarray(jax.jacfwd(g)(th))[len(names):]
    V = R @ np.asarray(fit.cov_theta) @ R.T
    try:
        stat = float(r @ np.linalg.solve(V, r))
    except np.linalg.LinAlgError:
        raise SpecificationError("the constraints are redundant (their covariance R V Rᵀ "
                                 "is singular): drop the ones implied by others") from None
    df = len(diffs)
    return {"stat": stat, "df": df, "pvalue": float(special.chdtrc(df, stat)),
            "se": fit.se_type}
