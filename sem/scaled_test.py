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
nfi, rmsea with its 90 % interval and P(RMSEA ≤ .05) (lavaan's ``*.scaled``). Checked
against lavaan 0.6.14 on the HS CFA (complete and FIML) and a path model with
exogenous covariates (``tests/sem/test_scaled_test.py``).

lavaan's ``*.robust`` indices (``robust_measures``, formulas in
``sem.fit_measures.robust``) use the non-centrality T − c·df instead: with complete
data T, T_b the ML statistics and c, c_b the factors above (Brosseau-Liard, Savalei &
Li 2012; Brosseau-Liard & Savalei 2014); with ``missing="ml"`` Zhang & Savalei's (2023)
FIML-corrected T̃, c̃ (``fiml_corrected``), as lavaan 0.6.14 for every FIML fit.
Both for one and several groups (block-diagonal over the groups), equal to lavaan
0.6.14's on the HS CFA, PoliticalDemocracy, the path model and HS by school (metric),
complete and FIML; FIML with fixed covariates is NaN (see ``robust_measures``).
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import block_diag

from .diagnostics import moment_jacobian
from .fit_measures import robust
from .jaxconfig import jnp
from .linalg import vech_indices
from .saturated import (column_block, complete_moments, unrestricted,
                        unrestricted_derivatives)


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


def _h1_scores_complete(data: dict):
    """(A, B) of the unrestricted normal model at its optimum for complete data, in
    σ = (μ, vech Σ): A = n·diag(S⁻¹, ½ Dᵀ(S⁻¹ ⊗ S⁻¹)D) its information (observed and
    expected agree there) and B = Σ_i w_i s_i s_iᵀ, the per-case scores s_i =
    (S⁻¹d_i, z_r z_c − (S⁻¹)_rc halved on the diagonal) with z = S⁻¹d_i."""
    S, _ = complete_moments(data)
    Y, w = np.asarray(data["Y"], dtype=float), np.asarray(data["w"], dtype=float)
    n, p = w.sum(), Y.shape[1]
    d = Y - (w @ Y) / n
    K = np.linalg.inv(S)
    z = d @ K
    r, c = vech_indices(p)
    half = np.where(r == c, 0.5, 1.0)
    s = np.hstack([z, (z[:, r] * z[:, c] - K[r, c]) * half])
    return _complete_information(K, n), (s * w[:, None]).T @ s


def free_rows(pt) -> int:
    """The free parameters of a (group) parameter table before equality constraints,
    as lavaan counts them for ``scaling.factor.h0``: every free row, shared labels
    not merged, the fixed covariates' moments (``exo``) left out."""
    return int(((pt["free"] > 0) & (pt["exo"] == 0)).sum())


def trace_factors(datas, c: float, df: int, npar: int, x=(),
                  meanstructure: bool = True) -> tuple[float, float]:
    """lavaan's ``scaling.factor.h1`` and ``scaling.factor.h0`` of an MLR fit
    (``lav_test_yuan_bentler``): the unrestricted model's trace tr(A⁻¹B) over its
    sample moments, summed over the groups, and the model's trace over ``npar``, the
    free parameters before equality constraints (lavaan's count: PD's labels a, b,
    c leave 28 parameters of 31 free rows, and h0 is over 31). Like lavaan, the
    unrestricted information and scores lose the rows of the fixed covariates'
    moments (``x``, their positions: their means and covariances among them) and,
    without a mean structure, of the means, before A is inverted; the model's trace
    is then the unrestricted one less c·df (c = (tr₁ − tr₀)/df)."""
    tr1, ndat, xs = 0.0, 0, set(x)
    for d in datas:
        p = d["Y"].shape[1]
        if np.all(d["obs"]):
            A, B = _h1_scores_complete(d)
        else:
            _, _, A, B, _ = _h1_parts(d)
        r, cc = vech_indices(p)
        keep = ([j for j in range(p) if j not in xs] if meanstructure else []) + [
            p + a for a in range(len(r)) if not (r[a] in xs and cc[a] in xs)]
        tr1 += float(np.trace(np.linalg.solve(A[np.ix_(keep, keep)],
                                              B[np.ix_(keep, keep)])))
        ndat += len(keep)
    return tr1 / ndat, (tr1 - c * df) / npar


# -- lavaan's *.robust measures ------------------------------------------------------

def _moment_order(p: int) -> np.ndarray:
    """Rows of the model's moment Jacobian (``SEMProblem.moment_vector``: Σ's lower
    triangle row by row, then μ) in the order σ = (μ, vech Σ), vech column-major as
    ``sem.linalg.vech_indices``."""
    tr, tc = np.tril_indices(p)
    pos = {(i, j): k for k, (i, j) in enumerate(zip(tr, tc))}
    r, c = vech_indices(p)
    return np.r_[len(tr) + np.arange(p), [pos[i, j] for i, j in zip(r, c)]]


def _complete_information(K: np.ndarray, n: float) -> np.ndarray:
    """n·diag(K, ½ Dᵀ(K ⊗ K) D): the complete-data normal information of σ = (μ, vech Σ)
    with K = Σ⁻¹ (D the duplication matrix, vech column-major as ``vech_indices``)."""
    p = K.shape[0]
    r, c = vech_indices(p)
    D = np.zeros((p * p, len(r)))
    D[r * p + c, np.arange(len(r))] = 1.0
    D[c * p + r, np.arange(len(r))] = 1.0
    A = np.zeros((p + len(r),) * 2)
    A[:p, :p] = n * K
    A[p:, p:] = 0.5 * n * D.T @ np.kron(K, K) @ D
    return A


def _h1_parts(data: dict):
    """The unrestricted FIML fit in σ = (μ, vech Σ): (Σ̃, μ̃, W, B, W_c) with W the
    observed information (minus the Hessian of the log-likelihood, all cases), B the
    cross-products of the per-case scores and W_c the complete-data information
    n·diag(Σ̃⁻¹, ½ Dᵀ(Σ̃⁻¹ ⊗ Σ̃⁻¹) D) at (μ̃, Σ̃), D the duplication matrix. The
    Cholesky form's derivatives are carried over by the Jacobian J = ∂σ/∂θ (at the
    optimum the Hessian transforms as J⁻ᵀ H J⁻¹)."""
    _, S, mu, _ = unrestricted(data)
    s, H, J = unrestricted_derivatives(data)
    Ji = np.linalg.inv(J)
    s = s @ Ji
    w = np.asarray(data["w"], dtype=float)
    W = -Ji.T @ H @ Ji
    B = (s * w[:, None]).T @ s
    return S, mu, W, B, _complete_information(np.linalg.inv(S), w.sum())


def _ml_discrepancy(S, m, Sigma, mu) -> float:
    """F_ML(S, m; Σ, μ) = log|Σ| − log|S| + tr(S Σ⁻¹) − p + (m − μ)ᵀ Σ⁻¹ (m − μ)."""
    K = np.linalg.inv(Sigma)
    d = m - mu
    return float(np.linalg.slogdet(Sigma)[1] - np.linalg.slogdet(S)[1]
                 + np.trace(S @ K) - len(m) + d @ K @ d)


def _baseline_moments(data: dict, ycols, xblock):
    """The baseline's FIML estimates (Σ_b, μ_b) and its parameters as columns of a
    selection matrix over σ = (μ, vech Σ): ``ycols`` independent (available-case mean
    and variance), ``xblock`` saturated (its own FIML fit)."""
    p = data["Y"].shape[1]
    r, c = vech_indices(p)
    Sb, mb = np.zeros((p, p)), np.zeros(p)
    for j in ycols:
        o = data["obs"][:, j]
        w, y = data["w"][o], data["Y"][o, j]
        mb[j] = w @ y / w.sum()
        Sb[j, j] = w @ (y - mb[j]) ** 2 / w.sum()
    xb = list(xblock)
    if xb:
        _, Sx, mx, _ = unrestricted(column_block(data, xb))
        Sb[np.ix_(xb, xb)], mb[xb] = Sx, mx
    keep = set(ycols) | set(xb)
    free = [j for j in range(p) if j in keep] + [
        p + a for a in range(len(r))
        if (r[a] == c[a] and r[a] in keep) or (r[a] in xb and c[a] in xb)]
    return Sb, mb, np.eye(p + len(r))[:, free]


def _residual_trace(W, Wc, Gamma, Delta) -> float:
    """k = tr(U W⁻¹ W_c W⁻¹ U Γ), U = W − W Δ (Δᵀ W Δ)⁻¹ Δᵀ W; with P = W⁻¹ U =
    I − Δ (Δᵀ W Δ)⁻¹ Δᵀ W, k = tr(Pᵀ W_c P Γ)."""
    P = np.eye(W.shape[0]) - Delta @ np.linalg.solve(Delta.T @ W @ Delta, Delta.T @ W)
    return float(np.sum((P.T @ Wc @ P) * Gamma.T))


def fiml_corrected(datas, moments, df: int, dfb: int, ycols, xblock,
                   sandwich: bool = True):
    """Zhang & Savalei's (2023) FIML-corrected statistics, as lavaan 0.6.14 computes
    its ``*.robust`` measures under ``missing = "ml"``: (T̃, c̃, T̃_b, c̃_b). Γ, the
    covariance of the unrestricted estimates, is the sandwich W⁻¹ B W⁻¹ for robust
    (MLR) fits (their version 3) and the normal-theory W⁻¹ for ML fits, as lavaan
    (``sandwich``; the FIML HS CFA: CFI 0.92301 and 0.92293 in both).

    ``datas`` the groups' data, ``moments`` per group (Σ(θ̂), μ(θ̂), Δ) with Δ =
    ∂σ_g/∂θ (rows σ = (μ, vech Σ), columns the global θ). With (μ̃_g, Σ̃_g) the
    unrestricted FIML estimates:

    * T̃ = Σ_g n_g F_ML(Σ̃_g, μ̃_g; Σ_g(θ̂), μ_g(θ̂)): the complete-data ML statistic of
      the FIML estimates against the saturated FIML moments (no refit);
    * c̃ = tr(U W⁻¹ W_c W⁻¹ U Γ) / df, block-diagonal over the groups: W the FIML
      observed information of the unrestricted model, W_c its complete-data
      information at (μ̃, Σ̃), Γ = W⁻¹ B W⁻¹ the sandwich covariance of (μ̃, Σ̃),
      U = W − W Δ (Δᵀ W Δ)⁻¹ Δᵀ W;
    * T̃_b, c̃_b the same with the baseline (independence) model at its FIML estimates
      and its Δ_b (the selected means and variances, the covariates' block).

    All information matrices are totals over cases; k is invariant to that scale and
    to the (first-order) parametrisation of the unrestricted model."""
    blocks, T, Tb, Db = [], 0.0, 0.0, []
    for d, (Sigma, mu, Delta) in zip(datas, moments):
        S, m, W, B, Wc = _h1_parts(d)
        n = float(np.sum(d["w"]))
        Sb, mb, sel = _baseline_moments(d, ycols, xblock)
        T += n * _ml_discrepancy(S, m, Sigma, mu)
        Tb += n * _ml_discrepancy(S, m, Sb, mb)
        Wi = np.linalg.inv(W)
        blocks.append((W, Wc, Wi @ B @ Wi if sandwich else Wi))
        Db.append(sel)
    W, Wc, Gamma = (block_diag(*[b[i] for b in blocks]) for i in range(3))
    Delta = np.vstack([mm[2] for mm in moments])
    c = _residual_trace(W, Wc, Gamma, Delta) / df if df > 0 else np.nan
    cb = _residual_trace(W, Wc, Gamma, block_diag(*Db)) / dfb if dfb > 0 else np.nan
    return T, c, Tb, cb


def robust_measures(fm: dict, datas, moments, missing: str, ycols, xblock,
                    groups: int = 1, fixed_x: bool = False,
                    sandwich: bool = True) -> dict:
    """lavaan's ``*.robust`` measures of an MLR fit whose fit measures ``fm`` hold the
    ML and scaled tests (``sem.fit_measures.robust``), or of any fit with
    ``missing="ml"`` (lavaan reports them for every FIML fit, whether or not
    missing values occur). Complete data (MLR): T, T_b with the Yuan–Bentler factors;
    FIML: Zhang & Savalei's T̃, c̃ (``fiml_corrected``, with the sandwich Γ for MLR
    and the normal-theory one for ML: ``sandwich``; ``moments`` a callable giving
    each group's (Σ(θ̂), μ(θ̂), Δ)).

    FIML with fixed covariates (``fixed_x``) gives NaN: lavaan 0.6.14's T̃ and T̃_b
    are ours there but its c̃, c̃_b are not (x4 ~ ageyr + sex; x7 ~ x4 + ageyr on
    hs_missing: c̃ 1.1585 / 1.1989 in lavaan, 1.1404 / 1.1685 with the covariates'
    moments in Δ; 5.22 without them), so its handling of fixed.x in the unrestricted
    information is not reproduced."""
    df, dfb = fm["df"], fm["baseline.df"]
    if missing == "ml" and fixed_x:
        return dict.fromkeys(["cfi.robust", "tli.robust", "nnfi.robust", "rni.robust",
                              "rmsea.robust", "rmsea.ci.lower.robust",
                              "rmsea.ci.upper.robust", "rmsea.pvalue.robust",
                              "rmsea.notclose.pvalue.robust"], np.nan)
    if missing == "ml":
        T, c, Tb, cb = fiml_corrected(datas, moments(), df, dfb, ycols, xblock,
                                      sandwich)
    else:
        T, c = fm["chisq"], fm["chisq.scaling.factor"]
        Tb, cb = fm["baseline.chisq"], fm["baseline.chisq.scaling.factor"]
    return robust(T, df, Tb, dfb, fm["ntotal"], c, cb, groups)


def model_moments(problem, theta, data: dict):
    """(Σ(θ̂), μ(θ̂), Δ) of one group's SEM problem for ``fiml_corrected``."""
    Sigma, mu = (np.asarray(a) for a in problem.ram.implied(jnp.asarray(theta)))
    p = data["Y"].shape[1]
    J = moment_jacobian(problem, theta, data)
    return Sigma[:p, :p], mu[:p], J[_moment_order(p)]
