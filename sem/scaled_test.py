"""The Yuan–Bentler scaled χ² of robust (MLR) fits, with lavaan's "scaled" fit indices.

lavaan's ``estimator = "MLR"`` reports, beside the ML χ² T, the scaled statistic
T / c with the Mplus variant of the Yuan–Bentler correction (Asparouhov & Muthén 2005):

    c = [tr(I₁⁻¹ B₁) − tr(I₀⁻¹ B₀)] / df,

I the observed information and B = Σ_i w_i s_i s_iᵀ the cross-products of the per-case
scores, of the unrestricted model (1: free μ and Σ, fitted by FIML where values are
missing) and of the model (0). Both traces are invariant to the parametrisation at the
optimum, so the unrestricted model is taken in its Cholesky form (``sem.saturated``),
or with complete data in closed form from Mardia's kurtosis (see
``_trace_unrestricted``).
Without a mean structure the model's saturated means add tr(Σ̂⁻¹ S) to its trace (the
means' block of the information is separate at the optimum; lavaan fits MLR with a
mean structure). The baseline (independence) model's trace has a closed form: per
variable 1 + ½ (m₄/σ⁴ − 1), m₄ the fourth central moment (available cases), plus the
saturated block of the exogenous covariates. Exogenous covariates enter the model's
and the unrestricted trace alike.

The scaled indices put T/c and T_b/c_b (and their df) into the ML formulas: cfi, tli,
nfi, rmsea with its 90 % interval and P(RMSEA ≤ .05) (lavaan's ``*.scaled``; its
``*.robust`` versions of Brosseau-Liard, Savalei & Li are not computed). Checked
against lavaan 0.6.14 on the HS CFA (complete and FIML) and a path model with
exogenous covariates (``tests/sem/test_scaled_test.py``).
"""
from __future__ import annotations

import numpy as np

from .saturated import column_block, complete_moments, unrestricted_derivatives


def _trace_unrestricted(data: dict) -> float:
    """tr(I⁻¹ B) of the unrestricted normal model at its (FIML) optimum.

    Complete data in closed form: the means give p and the covariances
    ½ (b₂ − p), b₂ = mean of q_i², q_i = d_iᵀ S⁻¹ d_i (Mardia's multivariate
    kurtosis; under normality b₂ → p(p + 2) and the trace → the p + p(p + 1)/2
    parameters). With missing values the scores and the Hessian of the Cholesky form
    by JAX."""
    p = data["Y"].shape[1]
    if p == 0:
        return 0.0
    w = np.asarray(data["w"], dtype=float)
    if np.all(data["obs"]):
        S, mu = complete_moments(data)
        d = np.asarray(data["Y"], dtype=float) - mu
        q = np.einsum("ij,ij->i", d @ np.linalg.inv(S), d)
        return float(p + 0.5 * (w @ q ** 2 / w.sum() - p))
    s, H, _ = unrestricted_derivatives(data)
    return float(np.trace(np.linalg.solve(-H, (s * w[:, None]).T @ s)))


def _trace_independence(data: dict, cols) -> float:
    """tr(I⁻¹ B) of independent normals (free means and variances) for ``cols``."""
    tr = 0.0
    for j in cols:
        o = data["obs"][:, j]
        w, y = data["w"][o], data["Y"][o, j]
        d = y - w @ y / w.sum()
        v = w @ d ** 2 / w.sum()
        tr += 1.0 + 0.5 * ((w @ d ** 4 / w.sum()) / v ** 2 - 1.0)
    return float(tr)


def scaling_factors(res, ycols, xblock, df: int, dfb: int) -> tuple[float, float]:
    """(c, c_b): the model's and the baseline's Yuan–Bentler (Mplus) scaling factors
    for the robust fit ``res`` (``ycols`` the baseline's independent columns,
    ``xblock`` its saturated block of covariates; ``df``, ``dfb`` the two models'
    degrees of freedom)."""
    tr0 = float(np.trace(res._bread_inv @ res._meat))
    if not res.spec.problem.meanstructure:
        Sigma = np.asarray(res.implied()[0])
        tr0 += float(np.trace(np.linalg.solve(Sigma, complete_moments(res.data)[0])))
    return group_scaling_factors([res.data], tr0, ycols, xblock, df, dfb)


def group_scaling_factors(datas, tr0: float, ycols, xblock, df: int,
                          dfb: int) -> tuple[float, float]:
    """(c, c_b) from the model's trace ``tr0`` = tr(I⁻¹ B) and the data of each group:
    the unrestricted and the baseline traces are sums over the groups (each group has
    its own unrestricted and independence model), as lavaan's
    ``lav_test_yuan_bentler_mplus_trace``; with one group, ``[data]``."""
    tr1 = trb = 0.0
    for d in datas:
        tr1 += _trace_unrestricted(d)
        trb += _trace_independence(d, ycols)
        if len(xblock):
            trb += _trace_unrestricted(column_block(d, xblock))
    c = (tr1 - tr0) / df if df > 0 else np.nan
    cb = (tr1 - trb) / dfb if dfb > 0 else np.nan
    return c, cb
