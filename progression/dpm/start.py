"""Start values for the progression model, from a few cheap alternations.

1. **Diagnosis staging.** Each visit's disease time is guessed from the subject's
   diagnoses (CN −6, MCI −2, AD +2, averaged over its visits, centred) plus the years
   since its mean visit age.
2. **Alternations** (``refine`` times), each a hard-EM step on the joint mode:
   given disease times s_ij, every biomarker's sigmoid is fitted by least squares
   (``scipy.optimize.least_squares``), the residual variance split into subject offset
   ω² and visit noise σ² by one-way ANOVA moments, the ordinal diagnosis model fitted
   by maximum likelihood, and the effects' distribution (pace ξ, stage δ regressed on
   the covariates) estimated from the subjects' posterior modes plus their posterior
   variances; then the modes are recomputed under those parameters. Before each fit
   the time axis is re-anchored — s ← (s − μ_δ)/e^{μ_ξ}, with μ the mean stage and log
   pace at the reference covariates — so the constraints E[ξ] = E[δ] = 0 hold.

The result is close to the maximum likelihood estimate, which BFGS then reaches in far
fewer iterations than from the crude first guess.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares, minimize

from ..schema import DX_LABELS
from .likelihood import Layout

DX_STAGE = {"CN": -6.0, "MCI": -2.0, "AD": 2.0}


def _sigmoid_fit(s, age_c, y, p0):
    """Least squares a + h·σ((s − c)/w) + β·age over observed points; p0 = (a, h, c, w, β)."""
    def resid(p):
        return p[0] + p[1] / (1 + np.exp(-(s - p[2]) / np.exp(p[3]))) + p[4] * age_c - y

    x0 = [p0[0], p0[1], p0[2], np.log(np.clip(p0[3], 0.3, 10.0)), p0[4]]
    fit = least_squares(resid, x0, method="trf", max_nfev=100)
    a, h, c, lw, beta = fit.x
    return np.array([a, h, c, float(np.clip(np.exp(lw), 0.2, 15.0)), beta]), fit.fun


def _variance_split(r, groups):
    """σ² (within subjects) and ω² (between) of residuals by ANOVA moments."""
    n = np.bincount(groups)
    ok = n > 0
    tot = np.bincount(groups, weights=r)
    mean_g = np.where(ok, tot / np.maximum(n, 1), 0.0)
    within = np.sum((r - mean_g[groups]) ** 2)
    df_w = max(len(r) - ok.sum(), 1)
    s2 = max(within / df_w, 1e-4)
    nbar = np.mean(n[ok])
    om2 = max(np.var(mean_g[ok]) - s2 / nbar, 0.05 * s2)
    return s2, om2


def _dx_fit(s, dx, p0):
    """ML of the ordinal model (κ₁, log Δ, log λ) given disease times."""
    def nll(p):
        k1, gap, lam = p[0], np.exp(p[1]), np.exp(p[2])
        e1 = lam * (s - k1)
        e2 = e1 - lam * gap
        ls = lambda x: -np.logaddexp(0, -x)  # noqa: E731
        lp = np.stack([ls(-e1), ls(e1) + ls(-e2) + np.log(-np.expm1(-lam * gap)), ls(e2)], 1)
        return -np.sum(lp[np.arange(len(dx)), dx])

    x0 = [p0[0], np.log(p0[1]), np.log(p0[2])]
    res = minimize(nll, x0, method="Nelder-Mead", options={"maxiter": 400, "xatol": 1e-4})
    return np.array([res.x[0], np.exp(res.x[1]), np.exp(res.x[2])])


def initial_stages(data: dict, n: int) -> np.ndarray:
    """Diagnosis-based first guess of the stage δ_i at each subject's mean age."""
    code = np.where(data["dxobs"][:n],
                    np.array([DX_STAGE[k] for k in DX_LABELS])[data["dx"][:n]], np.nan)
    cnt = np.sum(np.isfinite(code), axis=1)
    level = np.where(cnt > 0, np.nansum(code, axis=1) / np.maximum(cnt, 1), np.nan)
    fill = np.nanmean(level) if np.isfinite(level).any() else 0.0
    level = np.where(np.isfinite(level), level, fill)
    return level - level.mean()


def params_from_stages(data, n, layout: Layout, xi, delta, var_xi, var_delta, theta=None):
    """Parameters fitted to given per-subject effects (pace exponent ξ, stage δ) and
    their posterior variances (module docstring, step 2)."""
    K = layout.K
    t, Y, obs, vis = data["t"][:n], data["Y"][:n], data["obs"][:n], data["vis"][:n]
    abar, x = data["abar"][:n], data["x"][:n]
    # re-anchor the time axis at the reference covariates
    Xx = np.column_stack([np.ones(n), x])
    gx = np.linalg.lstsq(Xx, xi, rcond=None)[0]
    Xd = np.column_stack([np.ones(n), abar, x])
    gd = np.linalg.lstsq(Xd, delta, rcond=None)[0]
    k = np.exp(gx[0])
    xi = xi - gx[0]
    delta = (delta - gd[0]) / k
    var_delta = var_delta / k ** 2
    s = np.exp(xi)[:, None] * t + delta[:, None]
    age_c = t + abar[:, None]
    P = None if theta is None else layout.unpack(np.asarray(theta))
    out = np.zeros((7, K))
    groups = np.repeat(np.arange(n), t.shape[1]).reshape(n, -1)
    for j in range(K):
        m = obs[:, :, j] & vis
        sj, aj, yj = s[m], age_c[m], Y[:, :, j][m]
        if P is None:
            lo, hi = np.quantile(yj, [0.05, 0.95])
            sign = np.sign(np.corrcoef(sj, yj)[0, 1]) if np.std(sj) > 0 else 1.0
            sign = sign if sign != 0 else 1.0
            p0 = (lo if sign > 0 else hi, (hi - lo) * sign, float(np.median(sj)), 2.0, 0.0)
        else:
            p0 = ((P["a"][j]), P["h"][j], (P["c"][j] - gd[0]) / k, P["w"][j] / k, P["beta"][j])
        p, r = _sigmoid_fit(sj, aj, yj, p0)
        s2, om2 = _variance_split(r, groups[m])
        out[:, j] = [*p, np.sqrt(s2), np.sqrt(om2)]
    dxm = data["dxobs"][:n] & vis
    dx0 = (-4.0, 4.0, 1.5) if P is None else ((P["kappa1"] - gd[0]) / k, P["gap"] / k,
                                               P["slope"] * k)
    dxp = _dx_fit(s[dxm], data["dx"][:n][dxm], dx0)
    res_xi = xi - Xx[:, 1:] @ gx[1:]
    res_d = delta - Xd[:, 1:] @ (gd[1:] / k)
    sd_xi = float(np.sqrt(np.var(res_xi) + np.mean(var_xi)))
    sd_delta = float(np.sqrt(np.var(res_d) + np.mean(var_delta)))
    theta = np.concatenate([out.ravel(), [max(sd_xi, 0.05), max(sd_delta, 0.5)],
                            gx[1:], [gd[1] / k], gd[2:] / k, dxp])
    return theta


def start_values(data: dict, n: int, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """First guess (step 1): θ₀ and quadrature centres b0 (N, 2)."""
    delta = initial_stages(data, n)
    theta = params_from_stages(data, n, layout, np.zeros(n), delta, np.zeros(n),
                               np.zeros(n))
    return theta, centres(layout, theta, data, n, np.zeros(n), delta)


def centres(layout: Layout, theta, data, n, xi, delta) -> np.ndarray:
    """Standardised effects b (N, 2) that give pace exponents ξ and stages δ."""
    P = layout.unpack(np.asarray(theta))
    x, abar = data["x"][:n], data["abar"][:n]
    b = np.zeros((len(data["w"]), 2))
    b[:n, 0] = (xi - x @ P["g_xi"]) / P["sd_xi"]
    b[:n, 1] = (delta - P["g_age"] * abar - x @ P["g_delta"]) / P["sd_delta"]
    return b


def effects_of(layout: Layout, theta, data, n):
    """Pace exponents ξ, stages δ and their posterior variances from the centres and
    scales stored in ``data`` (``bhat``, ``L``)."""
    P = layout.unpack(np.asarray(theta))
    b, L = data["bhat"][:n], data["L"][:n]
    cov = L @ np.swapaxes(L, 1, 2)
    xi = data["x"][:n] @ P["g_xi"] + P["sd_xi"] * b[:, 0]
    delta = (P["g_age"] * data["abar"][:n] + data["x"][:n] @ P["g_delta"]
             + P["sd_delta"] * b[:, 1])
    return xi, delta, P["sd_xi"] ** 2 * cov[:, 0, 0], P["sd_delta"] ** 2 * cov[:, 1, 1]


def refine(layout: Layout, theta, data, n, refresh, rounds: int = 4):
    """Alternations of step 2; ``refresh(theta, data) -> data`` recomputes modes and
    scales. Returns θ and data with centres at the modes under θ."""
    for _ in range(rounds):
        data = refresh(theta, data)
        xi, delta, vx, vd = effects_of(layout, theta, data, n)
        theta = params_from_stages(data, n, layout, xi, delta, vx, vd, theta)
        data = dict(data)
        data["bhat"] = centres(layout, theta, data, n, *_anchored(layout, theta, data, n,
                                                                   xi, delta))
    return theta, data


def _anchored(layout, theta, data, n, xi, delta):
    """The effects ξ, δ re-expressed on the re-anchored axis of ``theta``: the same
    shift and scale as :func:`params_from_stages` applied."""
    Xx = np.column_stack([np.ones(n), data["x"][:n]])
    gx = np.linalg.lstsq(Xx, xi, rcond=None)[0]
    Xd = np.column_stack([np.ones(n), data["abar"][:n], data["x"][:n]])
    gd = np.linalg.lstsq(Xd, delta, rcond=None)[0]
    k = np.exp(gx[0])
    return xi - gx[0], (delta - gd[0]) / k
