"""Likelihood-ratio (χ² difference) tests of nested models: lavaan's ``anova`` /
``lavTestLRT``.

For models fitted to the same data, sorted by their degrees of freedom, each row after
the first tests the model against the previous one (the less restricted):
Δχ² = χ²_k − χ²_{k−1}, Δdf = df_k − df_{k−1}, p = P(χ²_Δdf > Δχ²), and the RMSEA of
the difference √(max(Δχ² − Δdf, 0) / (Δdf · N)) (lavaan 0.6's column).

Robust fits (``se="robust"``, lavaan's MLR) get the Satorra–Bentler (2001) scaled
difference, lavaan's default for them: with c_k the scaling factors
(``sem.scaled_test``), Δχ²_s = (χ²_k − χ²_{k−1}) / [(df_k c_k − df_{k−1} c_{k−1}) / Δdf]
on Δdf degrees of freedom (no RMSEA column, as lavaan). The "Chisq" column holds the
ML statistics. The scaled difference can come out negative for nearly equal models
(a known weakness of the 2001 test); its p-value is then NaN.

Checked against lavaan 0.6.14's ``anova`` (``tests/sem/test_compare.py``). Nesting
itself is the user's claim, as in lavaan: the test is only valid if it holds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from .errors import SpecificationError


def lrt(*fits, **named_fits) -> pd.DataFrame:
    """χ² difference tests of nested ``SEMResults`` (positional ones are named
    "model 1", "model 2", ...; keyword ones by their keyword). Returns lavaan's
    ``anova`` table: Df, AIC, BIC, Chisq, Chisq diff, RMSEA, Df diff, Pr(>Chisq)."""
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
        rmsea = np.sqrt(np.maximum(dchi - ddf, 0.0) / (ddf * first.nobs))
        p = np.where((ddf > 0) & (dchi >= 0), special.chdtrc(
            np.where(ddf > 0, ddf, 1.0), np.maximum(dchi, 0.0)), np.nan)
    tab["Chisq diff"] = dchi
    if not scaled:
        tab["RMSEA"] = np.where(ddf > 0, rmsea, np.nan)
    tab["Df diff"] = ddf
    tab["Pr(>Chisq)"] = p
    tab.iloc[0, 4:] = np.nan
    return tab
