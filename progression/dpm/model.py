"""The progression model as an estimation problem for the shared engine, its arrays,
start values and the fitting procedure.

:class:`ProgressionProblem` follows the likelihood-model protocol of
:mod:`sem.protocol` (``n_params``, ``param_names``, ``positive``, ``cache_key``,
``loglik``, ``loglik_cases``), so :func:`sem.estimation.maximize` fits it with batched
BFGS and analytic gradients. Data are padded to bucketed shapes (subjects to a multiple
of 64, visits to a multiple of 4; padding subjects have weight 0) so that data sets of
similar size share one compiled program.

**Fitting in rounds** (:func:`fit`). Inside the objective each subject's quadrature
centre is reached by ten Newton steps (the last three differentiated) from a stored starting point (so
the objective is continuous in θ). With six, BFGS could settle where the steps had not
reached the modes, and the rounds cycled between two optima (on a 1000-subject cohort
ℓ alternated by 0.05 for seven rounds, 2.7 below the optimum ten steps reach in two
rounds; as a ``scan`` the extra steps cost run time only, no compile time). The
estimation runs in rounds of at most ``round_iter`` BFGS iterations; between rounds the
stored points are moved to the modes
at the current estimate (Newton to convergence, outside the objective), so the steps
inside start next to their answer. It stops when, after a converged round and a
refresh, the Newton decrement gᵀVg/2 of the refreshed objective (g its gradient, V the
inverse average information) predicts less than 10⁻³ further gain in ℓ — usually after
the first round from a good start — or when refreshing the points no longer changes the
round's optimum by more than max(``tol``·(1 + |ℓ|), 0.02) (:func:`_rounds` says why the
floor); the fit counts as converged when it stopped so and, in addition, the final
decrement is below 10⁻³ or BFGS converged. (Line searches may fail near the optimum
where the stored points make the objective flat to round-off.) For large cohorts a random subsample is fitted first, and its estimate and average
information per subject (outer product of the exact per-subject scores) start the full
fit — BFGS then needs a few dozen iterations instead of hundreds.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sem.errors import DataError
from sem.estimation import maximize, to_theta, to_unconstrained
from sem.inference import invert_information
from sem.jaxconfig import jax, jnp

from ..longitudinal import pad
from ..schema import DX_LABELS, ID, ids
from .likelihood import Layout, agq_case, gauss_hermite, posterior, subject_view
from .start import refine, start_values

class ProgressionProblem:
    """θ → per-subject adaptive Gauss–Hermite log-likelihoods (:mod:`.likelihood`)."""

    def __init__(self, layout: Layout, markers, covariates, points: int = 1,
                 iters: int = 10):
        self.layout = layout
        self.points = int(points)
        self.iters = int(iters)
        self.nodes, self.logw = (jnp.asarray(a) for a in gauss_hermite(self.points))
        self.param_names = layout.names(markers, covariates)
        self.n_params = layout.n_params
        self.positive = np.asarray(layout.positive(), dtype=bool)

    def cache_key(self):
        return ("progression-dpm", self.layout.K, self.layout.q, self.points, self.iters)

    def loglik_cases(self, theta, data):
        lay, z, lw, k = self.layout, self.nodes, self.logw, self.iters
        return jax.vmap(lambda d: agq_case(theta, d, lay, z, lw, k))(subject_view(data))

    def loglik(self, theta, data):
        return jnp.sum(data["w"] * self.loglik_cases(theta, data))


@dataclass
class Scaler:
    """Per-biomarker centring and scaling (training mean and sd)."""

    mean: np.ndarray
    sd: np.ndarray

    @classmethod
    def fit(cls, frame: pd.DataFrame, markers) -> "Scaler":
        X = frame.loc[:, list(markers)].to_numpy(float)
        n = np.sum(np.isfinite(X), axis=0)
        few = [m for m, k in zip(markers, n) if k < 3]
        if few:
            raise DataError(f"progression model: biomarker(s) {few} have fewer than three "
                            "values in the training table")
        sd = np.nanstd(X, axis=0)
        if np.any(~(sd > 0)):
            raise DataError(f"progression model: biomarker(s) "
                            f"{[m for m, s in zip(markers, sd) if not s > 0]} do not vary")
        return cls(np.nanmean(X, axis=0), sd)


def _bucket(n: int, size: int) -> int:
    return max(size, int(np.ceil(n / size)) * size)


def make_arrays(frame: pd.DataFrame, markers, covariates, scaler: Scaler, age_ref: float,
                cov_fill, *, bucket: bool = True) -> tuple[dict, np.ndarray]:
    """Padded arrays of the model (dict of numpy arrays) and the subject ids.

    Keys: ``t`` (n, T) age − the subject's mean visit age ā; ``abar`` (n,) ā − age_ref;
    ``Y``/``obs`` (n, T, K) z-scored biomarkers and their mask; ``dx``/``dxobs`` (n, T)
    diagnosis 0/1/2 and its mask; ``x`` (n, q) covariates (a missing value or column
    takes the training mean ``cov_fill``); ``w`` (n,) weights (0 for padding); ``vis``
    (n, T) real visits; ``bhat`` (n, 2) and ``L`` (n, 2, 2)
    the quadrature centres and scales (set by :func:`refresh_nodes`).
    """
    f = frame.copy()
    for m in markers:                     # absent from this table (D3): all missing
        if m not in f.columns:
            f[m] = np.nan
    f["_dx"] = f["DX"].map({lab: k for k, lab in enumerate(DX_LABELS)})
    cols = list(markers) + ["AGE_VISIT", "_dx"]
    vals, obs, vmask, rids = pad(f, cols)
    K = len(markers)
    Y = (vals[..., :K] - scaler.mean) / scaler.sd
    Yobs = obs[..., :K]
    age_ok = obs[..., K]
    lacking = vmask & ~age_ok
    if lacking.any():
        raise DataError("progression model: AGE is missing for RID "
                        f"{ids(rids[lacking.any(axis=1)])}")
    age = np.where(vmask, vals[..., K], 0.0)
    abar = age.sum(axis=1) / np.maximum(vmask.sum(axis=1), 1)
    t = np.where(vmask, age - abar[:, None], 0.0)
    dx = np.where(obs[..., K + 1], vals[..., K + 1], 0).astype(np.int32)
    first = frame.groupby(ID, sort=False).head(1).set_index(ID).reindex(rids)
    if covariates:
        x = first.reindex(columns=list(covariates)).to_numpy(float)   # absent → fill
        x = np.where(np.isnan(x), np.asarray(cov_fill, float), x)
    else:
        x = np.zeros((len(rids), 0))
    n, T = t.shape
    N = _bucket(n, 64) if bucket else n
    Tp = _bucket(T, 4) if bucket else T

    def grow(a, fill):
        out = np.full((N, Tp) + a.shape[2:], fill, dtype=a.dtype)
        out[:n, :T] = a
        return out

    data = {"t": grow(t, 0.0), "abar": np.concatenate([abar - age_ref, np.zeros(N - n)]),
            "Y": grow(np.where(Yobs, Y, 0.0), 0.0),
            "obs": grow(Yobs, False), "dx": grow(dx, 0), "dxobs": grow(obs[..., K + 1], False),
            "vis": grow(vmask, False),
            "x": np.vstack([x, np.zeros((N - n, x.shape[1]))]),
            "w": np.concatenate([np.ones(n), np.zeros(N - n)]),
            "bhat": np.zeros((N, 2)), "L": np.tile(np.eye(2), (N, 1, 1))}
    return data, rids


# --- fitting ---------------------------------------------------------------------------------
_POSTERIOR: dict = {}


def refresh_nodes(layout: Layout, theta, data: dict, iters: int = 30, *,
                  search: bool = False):
    """Move the quadrature centres to the posterior modes at θ (Newton iterations from
    the current centres; with ``search`` also from fixed points, keeping the best mode:
    :func:`.likelihood.posterior`) and the scales to the curvature there. Returns the
    new data and the largest gradient norm left at a mode.

    Fitting tracks each subject's mode from its stored point (``search=False``): with
    the search inside the start-value alternations, stages jumped to far modes under
    the crude first parameters and BFGS then needed hundreds more iterations.
    Forecasting searches (a new subject has no stored point)."""
    if layout not in _POSTERIOR:     # iterations and search are traced: one compile
        _POSTERIOR[layout] = jax.jit(lambda th, d, it, sr: posterior(th, d, layout, it, sr))
    b, _, L, gnorm = _POSTERIOR[layout](jnp.asarray(theta),
                                         {k: jnp.asarray(v) for k, v in data.items()},
                                         jnp.asarray(int(iters)), jnp.asarray(bool(search)))
    out = dict(data)
    out["bhat"], out["L"] = np.asarray(b), np.asarray(L)
    g = np.asarray(gnorm)[np.asarray(data["w"]) > 0]
    return out, float(g.max()) if g.size else 0.0


def take_subjects(data: dict, idx) -> dict:
    """Subjects ``idx`` of padded arrays, padded again to a bucketed size."""
    N = int(np.ceil(len(idx) / 64)) * 64
    full = np.concatenate([idx, np.full(N - len(idx), idx[0])])
    out = {k: np.asarray(v)[full] for k, v in data.items()}
    out["w"] = np.where(np.arange(N) < len(idx), out["w"], 0.0)
    return out


_SCORES: dict = {}


def scores(problem, theta, data) -> np.ndarray:
    """Exact per-subject scores s_i = ∂ℓ_i/∂u (n, k) in the engine's unconstrained
    coordinates u: reverse mode per subject under ``vmap`` (memory of one gradient of ℓ;
    compiles faster than forward mode over all k parameters). The jitted function is
    cached per model structure — a fresh ``jax.jit`` per call would compile the
    adaptive-quadrature likelihood again, 10–20 s each time on a 2-core CPU."""
    key = problem.cache_key()
    fn = _SCORES.get(key)
    if fn is None:
        lay, z, lw, k = problem.layout, problem.nodes, problem.logw, problem.iters

        def one(u, d):
            return agq_case(to_theta(problem, u), d, lay, z, lw, k)

        fn = _SCORES[key] = jax.jit(lambda u, d: jax.vmap(jax.grad(one), in_axes=(None, 0))(
            u, subject_view(d)))
    u = jnp.asarray(to_unconstrained(problem, theta))
    return np.asarray(fn(u, {k: jnp.asarray(v) for k, v in data.items()}))


def _inverse_average(S, w) -> np.ndarray | None:
    info = (S * w[:, None]).T @ S / w.sum()
    info = 0.5 * (info + info.T)
    inv = invert_information(info + 1e-10 * np.trace(info) * np.eye(len(info)))
    if inv.singular or not np.all(np.isfinite(inv.cov)):
        return None
    return inv.cov


def inverse_information(problem, theta, data) -> np.ndarray | None:
    """Σw·(Σ_i w_i s_i s_iᵀ)⁻¹, s_i the exact per-subject scores (:func:`scores`): the
    inverse average information per subject, a guess of the inverse Hessian of the
    engine's objective −ℓ/Σw (None if singular)."""
    return _inverse_average(scores(problem, theta, data), np.asarray(data["w"]))


def decrement(problem, theta, data) -> tuple[float, np.ndarray | None]:
    """Predicted gain n·gᵀVg/2 in ℓ of a Newton step, with g = −Σ_i w_i s_i / n the
    gradient of −ℓ/n and V the inverse average information, both from the same
    per-subject scores. Returns the gain (∞ if V is singular) and V."""
    w = np.asarray(data["w"])
    S = scores(problem, theta, data)
    V = _inverse_average(S, w)
    if V is None:
        return np.inf, None
    n = float(w.sum())
    g = -(w @ S) / n
    return float(n * g @ V @ g / 2), V


@dataclass
class FitResult:
    theta: np.ndarray
    llf: float
    converged: bool
    message: str
    rounds: int
    n_iter: int
    grad_max: float
    data: dict            # with the final quadrature nodes


#: rounds have settled when the optimum moves by less than this in ℓ (see _rounds)
SETTLE_LLF = 0.02


def _rounds(problem, data, theta, *, H0, max_rounds, max_iter, round_iter, tol,
            curvature=None, gain: float = 1e-3):
    """BFGS rounds with refreshed mode-search starting points (module docstring).

    After each round the stored points move to the modes at the new estimate. A round
    whose BFGS converged is followed by the Newton decrement of the refreshed objective
    (:func:`decrement`, from exact per-subject scores): below ``gain`` the rounds have
    **settled** — another round would gain less than that in ℓ — and the inverse
    average information found on the way starts the next round otherwise. After a round
    that ran out of iterations, ``curvature(θ)`` (if given) supplies a fresh initial
    inverse Hessian.

    Also settled: two consecutive round optima within max(tol·(1 + |ℓ|),
    :data:`SETTLE_LLF`) in ℓ. The absolute floor exists because the objective depends a
    little on the stored points (ten Newton steps from them): near the optimum the
    rounds can enter a 2-cycle whose ℓ alternates by ~0.01 (seen on a 300-subject
    cohort: the parameters moved by under 1% of their standard errors, in the weakly
    determined CSF curve). An ℓ change of δ moves θ by at most √(2δ) standard errors in
    the quadratic approximation, 0.2 for δ = 0.02.

    Returns the last round's optimum, the refreshed data, the number of rounds and
    BFGS iterations, whether it settled, and the last decrement (∞ if none was
    computed at the final estimate) with its inverse information."""
    n_iter, opt, settled, r, last = 0, None, False, 0, None
    dec, V = np.inf, None
    data, _ = refresh_nodes(problem.layout, theta, data)
    for r in range(1, max_rounds + 1):
        if n_iter >= max_iter:
            break
        # every round gets the same budget: the engine compiles one program per
        # iteration limit, so a shorter last round would compile the fit again
        opt = maximize(problem, data, np.asarray(theta)[None, :], max_iter=round_iter,
                       H0=H0)
        n_iter += opt.n_iter
        theta = opt.theta
        data, _ = refresh_nodes(problem.layout, theta, data)
        dec, V = np.inf, None
        if opt.converged:
            dec, V = decrement(problem, theta, data)
            if dec < gain:
                settled = True
                break
            H0 = H0 if V is None else V
        elif opt.status == 2 and curvature is not None:
            fresh = curvature(theta)
            H0 = H0 if fresh is None else fresh
        if last is not None and abs(opt.llf - last) <= max(tol * (1 + abs(opt.llf)),
                                                            SETTLE_LLF):
            settled = True
            break
        last = opt.llf
    return opt, data, r, n_iter, settled, dec, V


def fit(problem: ProgressionProblem, data: dict, n: int, *, subsample: int, seed: int,
        refine_rounds: int = 4, max_rounds: int = 12, max_iter: int = 3000,
        round_iter: int = 200, tol: float = 1e-6) -> FitResult:
    """Maximum likelihood in rounds (module docstring) for ``n`` real subjects.

    Start values (:mod:`.start`) are computed on a random subsample of ``subsample``
    subjects when there are more than 1.5 times as many, else on all; the average
    information per subject there (:func:`inverse_information`) is every round's initial
    inverse Hessian. A subsample is fitted to convergence before the whole data set,
    which then starts at the subsample's estimate with the information there.
    """
    lay = problem.layout
    if n > 1.5 * subsample:
        pick = np.sort(np.random.default_rng(seed).choice(n, subsample, replace=False))
        small, n_small = take_subjects(data, pick), subsample
    else:
        small, n_small = data, n
    theta, small["bhat"] = start_values(small, n_small, lay)
    theta, small = refine(lay, theta, small, n_small,
                          lambda th, d: refresh_nodes(lay, th, d)[0], refine_rounds)
    H0 = inverse_information(problem, theta, small)
    n_first = 0

    def curvature(th):
        return inverse_information(problem, th, small)

    if n_small < n:
        opt, small, _, n_first, _, _, V = _rounds(problem, small, theta, H0=H0,
                                                  max_rounds=max_rounds, max_iter=max_iter,
                                                  round_iter=round_iter, tol=tol,
                                                  curvature=curvature)
        theta = opt.theta
        H0 = V if V is not None else inverse_information(problem, theta, small)
        data = dict(data)
        data["bhat"] = np.zeros_like(data["bhat"])
        data, _ = refresh_nodes(lay, theta, data, 60)
    else:
        data = small
    opt, data, rounds, n_iter, settled, dec, _ = _rounds(
        problem, data, theta, H0=H0, max_rounds=max_rounds, max_iter=max_iter,
        round_iter=round_iter, tol=tol, curvature=curvature if small is data else None)
    if not np.isfinite(dec):
        dec, _ = decrement(problem, opt.theta, data)
    converged = bool(settled and (opt.converged or dec < 1e-3))
    # the decrement uses the outer-product information, which overstates the gain in
    # weakly determined directions: after a 2-cycle settled by SETTLE_LLF it can read
    # ~1 while another round gains ~0.01
    message = (f"{'converged' if converged else 'not converged'}: BFGS {opt.message}; "
               f"rounds {'settled' if settled else 'still moving'} after {rounds}; "
               f"predicted further gain {dec:.1e}")
    return FitResult(opt.theta, opt.llf, converged, message, rounds, n_first + n_iter,
                     opt.grad_max, data)
