"""What a fitted model's moments say beyond its estimates, for one group's data and
RAM: lavaan's standardized solution with delta-method SEs (``standardized_table``), R²
(``rsquare_of``), residuals raw, cor, normalized and standardized
(``residual_moments``), and factor scores (``factor_scores``). Shared by the one-group
``SEMResults`` and the multiple-group ``MultiGroupResults`` (``sem.multigroup``), which
call them group by group."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import SpecificationError
from .estimation import compiled
from .inference import delta_method, wald_table
from .jaxconfig import jnp
from .saturated import unrestricted, unrestricted_variances

def standardized_table(fun, theta, cov, base: pd.DataFrame, level: float = 0.95,
                       key=None, exo=None) -> pd.DataFrame:
    """``base`` (the rows' lhs, op, rhs, ...) with est.std = ``fun``(θ̂) and its
    delta-method SEs, z, p-value and interval (lavaan's ``standardizedSolution``). SEs
    below 1e-12 are 0 (as lavaan's, for rows fixed by the standardization); without
    standard errors (``se="none"``: a NaN covariance) they are NaN. ``key``: the model
    structure, under which ``fun`` and its Jacobian compile once (``delta_method``).

    ``exo`` marks the θ entries that are fixed covariates' moments (``fixed_x``): the
    likelihood is conditional on the covariates, so their moments are constants, as in
    lavaan, and their rows and columns of ``cov`` are zeroed. θ carries them as
    parameters of the joint likelihood, with sampling variances of their own and
    covariances with the regressions that a standardized value depending on a
    covariate's variance would otherwise pick up (a path model's std.all SEs: 0.2247
    where lavaan has 0.2236)."""
    if exo is not None and np.any(exo):
        cov = np.array(cov, dtype=float)
        cov[exo, :] = 0.0
        cov[:, exo] = 0.0
    val, c, _ = delta_method(fun, theta, cov, key)
    se = np.sqrt(np.maximum(np.diag(c), 0))
    se = np.where(np.isfinite(se) & (se > 1e-12), se, 0.0)
    if np.isnan(cov).all():
        se = np.full_like(se, np.nan)
    base = base.reset_index(drop=True).copy()
    base["est.std"] = val
    base["se"] = se
    w = wald_table(val, se, level)
    w.loc[se == 0, ["z", "pvalue"]] = np.nan
    return pd.concat([base, w], axis=1)


def rsquare_of(ram, C, S) -> pd.Series:
    """R² of every endogenous variable (one with a directed effect into it) of a RAM,
    observed first, then latent: 1 − S_ii / C_ii, with C the implied covariance of all
    variables and S the residual (co)variances."""
    endo = sorted(set(ram.A.rows.tolist()))
    C, S = np.asarray(C), np.asarray(S)
    return pd.Series([1.0 - S[i, i] / C[i, i] for i in endo],
                     index=[ram.names[i] for i in endo], name="r2")


RESIDUAL_TYPES = {"raw": "raw", "cor": "cor.bollen", "cor.bollen": "cor.bollen",
                  "normalized": "normalized", "standardized": "standardized"}


def _gamma_nt(S: np.ndarray) -> np.ndarray:
    """Normal-theory Cov(√N s) of the covariances, vech row by row as
    ``SEMProblem.moment_vector`` (np.tril_indices): Γ_ab,cd = S_ac S_bd + S_ad S_bc."""
    a, b = np.tril_indices(S.shape[0])
    return S[np.ix_(a, a)] * S[np.ix_(b, b)] + S[np.ix_(a, b)] * S[np.ix_(b, a)]


def standardized_residual_se(S, ybar, Sigma, mu, delta, cov_theta, N,
                             meanstructure: bool):
    """Standard errors of the raw residuals s − σ(θ̂) (lavaan's ``type =
    "standardized"``, Ogasawara 2001 after Bentler & Dijkstra 1985): linearised,
    r = Q (s − σ₀) with Q = I − Δ A₀⁻¹ Δᵀ A₁, so ACOV(r) = Q (Γ_S / N) Qᵀ. Δ is the
    moments' Jacobian at θ̂ (``moment_vector`` order: vech Σ row by row, then μ), A₀⁻¹ =
    N Cov(θ̂) the inverse unit information, A₁ the unit information of the saturated
    model at the implied moments (Γ_Σ̂⁻¹ and Σ̂⁻¹: lavaan's default "structured"
    h1 information) and Γ_S the normal-theory ACOV of the sample moments at S (lavaan's
    "unstructured"). Returns (p, p) for the covariances and (p,) for the means (NaN
    where the variance is not positive). Equal to lavaan 0.6.14's on the HS CFA
    (``tests/sem/test_compare.py``)."""
    p = S.shape[0]
    G_S, W = _gamma_nt(S), np.linalg.inv(_gamma_nt(Sigma))
    if meanstructure:
        G_S = np.block([[G_S, np.zeros((len(G_S), p))], [np.zeros((p, len(G_S))), S]])
        W = np.block([[W, np.zeros((len(W), p))],
                      [np.zeros((p, len(W))), np.linalg.inv(Sigma)]])
    Q = np.eye(len(G_S)) - delta @ (N * cov_theta) @ delta.T @ W
    v = np.einsum("ij,jk,ik->i", Q, G_S / N, Q)
    v = np.where(v > 0, v, np.nan)
    r, c = np.tril_indices(p)
    V = np.zeros((p, p))
    V[r, c] = V[c, r] = v[:len(r)]
    return np.sqrt(V), (np.sqrt(v[len(r):]) if meanstructure else None)


def moment_jacobian(problem, theta, summary: dict) -> np.ndarray:
    """Δ = ∂(vech Σ, μ)/∂θ at θ (``moment_vector`` order) of one group's problem."""
    jd = {k: np.asarray(v) for k, v in summary.items()}
    return np.asarray(compiled(problem, "moment_jacobian")(jnp.asarray(theta), jd))


def check_standardized_residual_fit(information: str, se_type: str) -> None:
    """Standardized residuals take Cov(θ̂) as the inverse expected information (A₀⁻¹ of
    ``standardized_residual_se``; lavaan's is never robust and forces the h1-based
    information): refuse a fit whose Cov(θ̂) is another (the sandwich, the observed
    information) or absent, rather than divide by the wrong SEs."""
    if se_type != "standard" or information != "expected":
        raise NotImplementedError(
            "standardized residuals need a fit with se='standard' and "
            f"information='expected' (this one: se={se_type!r}, "
            f"information={information!r}); use type='normalized' or 'cor'")


def check_residual_type(type) -> None:
    if type not in RESIDUAL_TYPES:
        raise ValueError(f"type must be one of {sorted(RESIDUAL_TYPES)}, got {type!r}")


def residual_moments(data: dict, Sigma, mu, ov, type: str, meanstructure: bool,
                     fixed_x: bool, standardize=None) -> dict:
    """The residuals of ``SEMResults.residuals`` from the data of one group and its
    implied Σ̂, μ̂: {"type", "cov"[, "mean"]}. ``standardize``: for type
    "standardized", a function returning (Δ, Cov(θ̂)) of ``standardized_residual_se``,
    called only once the data qualify (the Jacobian compiles; the caller's checks of
    the fit run inside it)."""
    check_residual_type(type)
    kind = RESIDUAL_TYPES[type]
    if kind == "standardized" and (standardize is None or fixed_x
                                   or data["patterns"].shape[0] > 1):
        raise NotImplementedError(
            "standardized residuals are computed for complete data without fixed "
            "covariates; use type='normalized' or 'cor'")
    _, S, ybar, _ = unrestricted(data)
    Sigma, mu = np.asarray(Sigma), np.asarray(mu)
    R, m = S - Sigma, ybar - mu
    if kind == "cor.bollen":
        ds, dm = np.sqrt(np.diag(S)), np.sqrt(np.diag(Sigma))
        R = S / np.outer(ds, ds) - Sigma / np.outer(dm, dm)
        m = m / ds
    elif kind == "normalized":       # over the sample moments' own SEs
        if fixed_x:
            raise NotImplementedError(
                "normalized residuals with fixed covariates (fixed_x=True): lavaan "
                "takes their SEs conditional on the covariates; use type='raw' or "
                "'cor', or fixed_x=False")
        vm, vS = unrestricted_variances(data)
        R, m = R / np.sqrt(vS), m / np.sqrt(vm)
    elif kind == "standardized":
        seS, sem = standardized_residual_se(S, ybar, Sigma, mu, *standardize(),
                                            float(np.sum(data["w"])), meanstructure)
        # as lavaan: a residual that is zero to 1e-5 (a variance the model
        # reproduces exactly) is reported as it is, not over its zero SE
        R = np.where(np.abs(R) < 1e-5, R, R / seS)
        if meanstructure:
            m = np.where(np.abs(m) < 1e-5, m, m / sem)
    out = {"type": kind, "cov": pd.DataFrame(R, index=ov, columns=ov)}
    if meanstructure:
        out["mean"] = pd.Series(m, index=ov)
    return out


def check_score_method(method) -> None:
    if method not in ("regression", "Bartlett"):
        raise ValueError(f"method must be 'regression' or 'Bartlett', got {method!r}")


def factor_scores(d: dict, ram, vars_, matrices, C, m, meanstructure: bool,
                  method: str) -> np.ndarray:
    """The factor scores of ``SEMResults.predict`` (n, latent variables) of the cases
    of ``d`` (one group's data) from the RAM's ``matrices`` (A, S, m) and the implied
    moments C, m of all its variables at θ̂."""
    check_score_method(method)
    C, m = np.asarray(C), np.asarray(m)
    k = ram.n_ov
    A, Smat, _ = (np.asarray(a) for a in matrices)
    if not meanstructure:
        # saturated means: the observed ones are the sample's, and the latent ones
        # those the exogenous covariates' sample means imply through the model
        # (lavaan's; 0 without covariates)
        mu_y = d["w"] @ d["Y"] / d["w"].sum()
        ov = list(vars_.ov)
        m0 = np.zeros(A.shape[0])
        for v in tuple(vars_.ov_x) + tuple(vars_.ov_x_free):
            m0[ov.index(v)] = mu_y[ov.index(v)]
        m = np.linalg.solve(np.eye(A.shape[0]) - A, m0)
    mu_y = m[:k] if meanstructure else mu_y
    if method == "Bartlett":
        # the measurement part: the indicators' loadings Λ and residual
        # covariances Θ (covariates, which load on nothing, drop out of it)
        ind = np.isin(list(vars_.ov), list(vars_.ov_ind))
        if (A[:k, :k][ind].any() or Smat[:k, k:][ind].any()):
            raise NotImplementedError(
                "Bartlett scores need a measurement model: indicators that no "
                "observed variable predicts and that share no covariance with a "
                "latent variable")
        Lam, Theta = np.where(ind[:, None], A[:k, k:], 0.0), Smat[:k, :k]
    out = np.zeros((d["Y"].shape[0], len(vars_.lv)))
    pid = d["onehot"].argmax(1)
    for P, o in enumerate(d["patterns"]):
        rows = pid == P
        if not rows.any():
            continue
        dev = d["Y"][rows][:, o] - mu_y[o]
        if method == "regression":
            B = np.linalg.solve(C[:k, :k][np.ix_(o, o)], C[k:, :k][:, o].T).T
            out[rows] = m[k:] + dev @ B.T
            continue
        o = o & ind                            # the case's observed indicators
        dev = d["Y"][rows][:, o] - mu_y[o]
        seen = np.abs(Lam[o]).sum(0) > 0       # factors with an observed indicator
        L = Lam[o][:, seen]
        try:
            TiL = np.linalg.solve(Theta[np.ix_(o, o)], L)
            W = np.linalg.solve(L.T @ TiL, TiL.T)
        except np.linalg.LinAlgError:
            raise SpecificationError(
                "Bartlett scores need positive definite residual covariances of the "
                "indicators (a residual variance fixed at 0, e.g. of a single "
                "indicator, makes Θ singular); use method='regression'") from None
        out[np.ix_(rows, seen)] = m[k:][seen] + dev @ W.T
        out[np.ix_(rows, ~seen)] = np.nan
    return out
