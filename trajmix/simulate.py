"""Simulating data sets from a population mixture of experts.

A population is a ``GrowthMixture`` model plus a parameter vector θ of that model
(build θ from original-scale values with ``population_theta``) plus the distributions
of the things the model conditions on: the gating covariates x_g ~ N(0, Σ_g), the
expert covariates (with ``experts_likelihood="joint"`` their class-specific N(μx_k, Φ_k)
is part of θ; with "conditional" they are drawn from N(0, Σ_e)), time-varying
covariates z_ij ~ N(0, 1), measurement times and missingness.

Generation, for person i: x_g; class c_i ~ Multinomial(softmax(β_k0 + β_kᵀ x_g));
x_e | c; growth factors η = α_c + B_c x_e + ζ, ζ ~ N(0, Ψ_c) (estimated space);
times t_ij = s_j + U(−Δ, Δ) for the inner occasions (the first and last fixed, as in the
authors' generator ``getDat``); y_ij = Λ(t_ij; γ_c) η + κ_c z_ij + ε_ij, ε ~ N(0, θ_c).
Missing outcomes: ``missing="mcar"`` deletes each occasion after the first with
probability ``p_missing``; ``"mar"`` makes a person drop out after occasion j with
probability logistic(a + z-score of y_ij), with a calibrated so that the expected share
of missing occasions after the first is ``p_missing`` — missing at random given the
observed past.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from sem.errors import SpecificationError, check_count
from sem.estimation import seed_to_int

from .starts import _to_estimated


def population_theta(model, classes: list[dict], gating=None) -> np.ndarray:
    """θ of ``model`` from original-scale class values.

    Each class dict has ``mean`` (factor intercepts, original scale: for the spline
    the value at t = 0 and the two slopes), ``psi`` (residual factor covariance,
    original scale), ``theta`` (residual variance), and as the model needs them
    ``knot``/``nl`` (nonlinear values), ``beta`` (q × p_e expert effects, original
    scale), ``mux``, ``phi`` (covariate mean and covariance), ``kappa``. ``gating`` is the
    (K − 1) × (1 + p_g) matrix of logit coefficients against class 1.
    """
    lay, curve = model.layout, model.curve
    if len(classes) != lay.K:
        raise SpecificationError(f"{len(classes)} class specifications for {lay.K} classes")
    parts = []
    for k, c in enumerate(classes):
        nl = np.atleast_1d(c.get("knot", c.get("nl", []))).astype(float)
        if lay.m and nl.size != lay.m:
            raise SpecificationError(f"class {k + 1} needs its {curve.nonlinear} value")
        G = _to_estimated(curve, nl[0] if nl.size else 0.0)
        Psi = np.asarray(c["psi"], dtype=float)
        if Psi.shape[0] != lay.q_mean + (1 if curve.random else 0):
            raise SpecificationError(f"class {k + 1}: psi must be {curve.q} × {curve.q}")
        Gq = np.eye(curve.q)
        Gq[:G.shape[0], :G.shape[1]] = G
        ev = np.linalg.eigvalsh(Psi)
        if ev.min() < 0:
            raise SpecificationError(f"class {k + 1}: psi is not positive semi-definite "
                                     f"(smallest eigenvalue {ev.min():.3g})")
        if c["theta"] <= 0:
            raise SpecificationError(f"class {k + 1}: the residual variance must be > 0")
        Ps = Gq @ Psi @ Gq.T
        part = dict(alpha=G @ np.asarray(c["mean"], float), nl=nl,
                    L=np.linalg.cholesky(Ps + 1e-12 * np.eye(curve.q)), theta=c["theta"])
        if lay.pe:
            part["beta"] = G @ np.asarray(c["beta"], float)
            if lay.joint:
                part["mux"] = np.asarray(c.get("mux", np.zeros(lay.pe)), float)
                part["phi"] = np.linalg.cholesky(np.asarray(c.get("phi", np.eye(lay.pe)), float))
        if lay.pz:
            part["kappa"] = np.asarray(c["kappa"], float)
        parts.append(part)
    gate = np.zeros((lay.K - 1, 1 + lay.pg)) if gating is None else np.asarray(gating, float)
    if lay.K > 1 and gate.shape != (lay.K - 1, 1 + lay.pg):
        raise SpecificationError(f"gating must be {(lay.K - 1, 1 + lay.pg)}")
    return model._pack(parts, gate)


def liu_perera_population(variant: str = "full", n_classes: int = 2,
                          curve: str = "bilinear_spline"):
    """The population of Liu & Perera's simulation and demo data (research notes §3.1):
    two classes, knots 3.5 and 5.5, factor means (100, −5, −2.6) and (100, −5, −3.4),
    total factor variances (25, 1, 1) with correlations .3, expert covariates explaining
    13% / 26% of the factor variances, θ = 1, gating logits (0, log 1.5, log 1.7) on two
    covariates correlated .3. Returns (model, θ)."""
    from .mixture import GrowthMixture

    gating = ["gx1", "gx2"] if variant in ("gating", "full") else []
    experts = ["ex1", "ex2"] if variant in ("expert", "full") else []
    model = GrowthMixture(curve, n_classes, gating=gating, experts=experts)
    Psi_tot = np.array([[25, 1.5, 1.5], [1.5, 1, .3], [1.5, .3, 1]])
    Phi = np.array([[1, .3], [.3, 1]])
    B1 = np.array([[0.8849, 1.3274], [0.1770, 0.2655], [0.1770, 0.2655]])
    classes = []
    for k, (slope2, knot, B) in enumerate([(-2.6, 3.5, B1), (-3.4, 5.5, B1 * np.sqrt(2))]):
        c = dict(mean=[100.0, -5.0, slope2], knot=knot, theta=1.0)
        if experts:
            c.update(beta=B, mux=np.zeros(2), phi=Phi, psi=Psi_tot - B @ Phi @ B.T)
        else:
            c["psi"] = Psi_tot
        classes.append(c)
    gate = np.array([[0.0, np.log(1.5), np.log(1.7)]]) if gating else np.zeros((1, 1))
    return model, population_theta(model, classes, gate)


def simulate(model, theta, n: int, *, J: int = 10, times=None, jitter: float = 0.25,
             gating_cov=None, experts_cov=None, missing: str | None = None,
             p_missing: float = 0.0, seed=0, return_classes: bool = True) -> pd.DataFrame:
    """One data set in wide format: Y1..YJ, T1..TJ, covariates, TVC columns and the
    true ``class``.

    With a random nonlinear parameter (``random_knot=True``) the data follow the
    model's own first-order form, the one its likelihood is (``trajmix.curves``): the
    person's deviation δ enters through the derivative loading ∂Λ/∂γ · δ, not as a
    person-specific knot inserted into Λ. Recovery studies of that model are then
    exact; data with truly person-specific knots need a generator of their own."""
    rng = np.random.default_rng(seed_to_int(seed))
    lay, curve = model.layout, model.curve
    theta = np.asarray(theta, dtype=float)
    check_count(n, "n")
    grid = np.arange(J, dtype=float) if times is None else np.asarray(times, float)
    J = len(grid)
    if grid.ndim != 1 or J < 2 or not np.all(np.isfinite(grid)):
        raise SpecificationError(f"times must be a list of at least 2 finite occasions, "
                                 f"got {np.asarray(times).tolist() if times is not None else J}")
    if np.any(np.diff(grid) <= 0):
        raise SpecificationError(f"times must be strictly increasing, got {grid.tolist()}")
    jitter = float(jitter or 0.0)
    if jitter < 0:
        raise SpecificationError(f"jitter must be >= 0, got {jitter}")
    if jitter and J > 2:
        # inner occasions move by U(−Δ, Δ), the first and last stay: neighbours
        # must not be able to swap, or the data would have non-increasing times
        half = np.r_[0.0, np.full(J - 2, jitter), 0.0]
        gap = np.diff(grid) - half[:-1] - half[1:]
        if np.any(gap <= 0):
            j = int(np.argmax(gap <= 0))
            raise SpecificationError(
                f"jitter {jitter:g} lets occasions {j + 1} and {j + 2} (times "
                f"{grid[j]:g} and {grid[j + 1]:g}) swap; use a jitter below "
                f"{(np.diff(grid) / np.maximum(np.sign(half[:-1]) + np.sign(half[1:]), 1)).min():g}")
    T = np.tile(grid, (n, 1))
    if jitter and J > 2:
        T[:, 1:-1] += rng.uniform(-jitter, jitter, (n, J - 2))
    if lay.m:
        for k in range(lay.K):
            g = float(lay.get(theta, "nl", k)[0])
            if curve.name == "bilinear_spline" and not grid[0] < g < grid[-1]:
                raise SpecificationError(
                    f"class {k + 1}'s knot {g:g} lies outside the time range "
                    f"({grid[0]:g}, {grid[-1]:g})")
    Sg = np.eye(lay.pg) * 1.0 if gating_cov is None else np.asarray(gating_cov, float)
    if lay.pg == 2 and gating_cov is None:
        Sg = np.array([[1, .3], [.3, 1]])
    Xg = rng.multivariate_normal(np.zeros(lay.pg), Sg, n) if lay.pg else np.zeros((n, 0))
    if lay.K > 1:
        G = np.vstack([np.zeros((1, 1 + lay.pg)),
                       np.asarray(lay.get(theta, "gate", None)).reshape(lay.K - 1, -1)])
        logits = np.column_stack([np.ones(n), Xg]) @ G.T
        P = np.exp(logits - logits.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        # a cumulative sum that rounds below 1 must not make a class K + 1
        cls = np.minimum((rng.random((n, 1)) > P.cumsum(1)).sum(1), lay.K - 1)
    else:
        cls = np.zeros(n, dtype=int)
    from sem.jaxconfig import jnp

    Xe = np.zeros((n, lay.pe))
    Z = rng.normal(size=(n, J, lay.pz))
    Y = np.zeros((n, J))
    if lay.pe and not lay.joint:
        Se = np.eye(lay.pe) if experts_cov is None else np.asarray(experts_cov, float)
        Xe = rng.multivariate_normal(np.zeros(lay.pe), Se, n)
    for k in range(lay.K):
        idx = np.nonzero(cls == k)[0]
        if not idx.size:
            continue
        p = {kk: np.asarray(v) for kk, v in lay.unpack_class(jnp.asarray(theta), k).items()}
        if lay.pe and lay.joint:
            Lphi = p["Lphi"]
            Xe[idx] = p["mux"] + rng.normal(size=(idx.size, lay.pe)) @ Lphi.T
        eta = p["alpha"] + (Xe[idx] @ p["beta"].T if lay.pe else 0.0)
        eta = eta + rng.normal(size=(idx.size, curve.q)) @ p["L"].T
        Lam = curve.loadings(T[idx], p["nl"], p["alpha"], xp=np)
        Y[idx] = np.einsum("njq,nq->nj", Lam, eta) + rng.normal(
            0, np.sqrt(p["theta"]), (idx.size, J))
        if lay.pz:
            Y[idx] += Z[idx] @ p["kappa"]
    Y = _apply_missing(Y, missing, p_missing, rng)
    out = {f"Y{j + 1}": Y[:, j] for j in range(J)}
    out.update({f"T{j + 1}": T[:, j] for j in range(J)})
    for i, name in enumerate(model.gating):
        out[name] = Xg[:, i]
    for i, name in enumerate(model.experts):
        out[name] = Xe[:, i]
    for i, name in enumerate(model._tvc_names()):
        for j in range(J):
            out[f"{name}{j + 1}"] = Z[:, j, i]
    if return_classes:
        out["class"] = cls + 1
    return pd.DataFrame(out)


def _apply_missing(Y, mechanism, p, rng):
    if not mechanism or p <= 0:
        return Y
    if not 0 < p < 1:
        raise SpecificationError("p_missing must lie in (0, 1)")
    n, J = Y.shape
    Y = Y.copy()
    if mechanism == "mcar":
        drop = rng.random((n, J)) < p
        drop[:, 0] = False
        Y[drop] = np.nan
        return Y
    if mechanism == "mar":
        # dropout after occasion j with probability h_ij = logistic(a + z-score of
        # y_ij): it depends on the observed past only (MAR). The intercept a is solved
        # so that the *expected* share of missing occasions after the first, given
        # these outcomes, is exactly p: person i misses occasion j with probability
        # 1 − Π_{l<j} (1 − h_il).
        zs = (Y - Y.mean(0)) / (Y.std(0) + 1e-12)

        def share(a):
            h = 1.0 / (1.0 + np.exp(-(a + zs[:, :-1])))
            return np.mean(1.0 - np.cumprod(1.0 - h, axis=1)) - p

        a = brentq(share, -60.0, 60.0, xtol=1e-12)
        alive = np.ones(n, dtype=bool)
        for j in range(1, J):
            alive &= rng.random(n) >= 1.0 / (1.0 + np.exp(-(a + zs[:, j - 1])))
            Y[~alive, j] = np.nan
        return Y
    raise SpecificationError("missing must be None, 'mcar' or 'mar'")
