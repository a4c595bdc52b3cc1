"""A growth-mixture forecaster: ``trajmix`` latent classes of trajectories, carried
forward from each subject's class membership posterior.

For each target y (ADAS13; Ventricles_ICV in % of ICV) a K-class growth mixture is
fitted with :class:`trajmix.GrowthMixture` on the long table of training visits (of the
subjects with at least one value of each target; missing values are masked, FIML), time
t = years since the subject's first visit (Muthén & Shedden 1999; Liu & Perera 2022):

    y_ij | class k = Λ(t_ij; γ_k) η_i + ε_ij,  η_i ~ N(α_k, Ψ_k),  ε_ij ~ N(0, θ_k),
    P(class k) = π_ik = softmax_k(G_k · (1, x_i))  (x_i the ``gating`` covariates).

**Forecast** for subject i from its history y_i (observed visits o, loadings Λ_o), per
class k, with Σ_ik = Λ_o Ψ_k Λ_oᵀ + θ_k I:

* posterior class probability p_ik ∝ π_ik N(y_i; Λ_o α_k, Σ_ik) (Bayes' rule — the
  same quantity as ``GrowthMixtureResults.posterior``, recomputed here so that new
  histories can be scored without refitting);
* conditional growth factors η_i | y_i, k ~ N(η̂_ik, V_ik), η̂_ik = α_k + Ψ_kΛ_oᵀΣ_ik⁻¹
  (y_i − Λ_oα_k), V_ik = Ψ_k − Ψ_kΛ_oᵀΣ_ik⁻¹Λ_oΨ_k (this form needs no Ψ_k⁻¹, so a
  variance estimated at 0 is harmless);
* the predictive distribution at a future time t* is the mixture
  Σ_k p_ik N(λ*ᵀη̂_ik, λ*ᵀV_ikλ* + θ_k), λ* = Λ(t*; γ_k). Its median is the point
  forecast and its quartiles the 50% interval (found by bisection on the mixture CDF);
  ADAS13 is clipped to [0, 85] and Ventricles_ICV at 0.

A subject with no value of a target is forecast from the prior (p_ik = π_ik, η ~
N(α_k, Ψ_k)); one visit is a valid history. Diagnosis: the shared rule of
:mod:`.diagnosis`, fed with draws from the two mixtures (class, then normal). Time is
extrapolated linearly past the training follow-up (the default ``"linear"`` curve); a
``"bilinear_spline"`` needs its knot inside the observed times.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import log_softmax, ndtr, ndtri

from sem.errors import ConvergenceWarning, DataError
from sem.estimation import seed_to_int
from sem.jaxconfig import jnp

from ..longitudinal import pad, subjects_of
from ..schema import ID
from .base import Forecaster, ForecastGrid, Prediction, first_visit
from .diagnosis import MarkerDiagnosis, stratified_draws

TARGETS = ("ADAS13", "Ventricles_ICV")
SCALE = {"ADAS13": 1.0, "Ventricles_ICV": 100.0}
BOUNDS = {"ADAS13": (0.0, 85.0), "Ventricles_ICV": (0.0, np.inf)}
LOG2PI = np.log(2 * np.pi)


class GrowthMixtureForecaster(Forecaster):
    """trajmix growth mixtures per target (module docstring).

    Parameters: ``curve`` (a :mod:`trajmix.curves` name), ``n_classes``, ``gating``
    (subject covariates of class membership, e.g. ``("APOE4",)``; a missing value takes
    the training mean), ``n_starts`` (trajmix's multi-start), ``n_draws`` (predictive
    draws for the diagnosis rule, a Latin hypercube: :mod:`.diagnosis`), ``seed``. Fitted: ``results_`` (the
    ``GrowthMixtureResults`` per target), ``classes_`` (per target: ``alpha`` (K, q),
    ``psi`` (K, q, q), ``theta`` (K,), ``nl`` (K, m), ``gate`` (K, 1 + p_g)),
    ``classifier_``, ``gating_fill_``.
    """

    required_columns = ("AGE",)

    def __init__(self, curve: str = "linear", n_classes: int = 2, gating=(),
                 n_starts: int = 8, n_draws: int = 64, seed: int = 0):
        self.curve = curve
        self.n_classes = n_classes
        self.gating = gating
        self.n_starts = n_starts
        self.n_draws = n_draws
        self.seed = seed

    # -- fitting ----------------------------------------------------------------------
    def _covariates(self, frame: pd.DataFrame, rids, fill=None) -> np.ndarray:
        """Gating covariates (n, p_g) of subjects ``rids`` from their first visit;
        missing values take ``fill`` (the training means)."""
        gating = list(self.gating or ())
        if not gating:
            return np.zeros((len(rids), 0))
        absent = [c for c in gating if c not in frame.columns]
        if absent:
            raise DataError(f"GrowthMixtureForecaster: gating covariate(s) {absent} not in "
                            "the table")
        X = frame.groupby(ID, sort=False)[gating].first().reindex(rids).to_numpy(float)
        return X if fill is None else np.where(np.isnan(X), fill, X)

    def _fit(self, data):
        from trajmix import GrowthMixture

        gating = list(self.gating or ())
        rids = subjects_of(data)
        X = self._covariates(data, rids)
        self.gating_fill_ = np.nanmean(X, axis=0) if gating else np.zeros(0)
        X = pd.DataFrame(np.where(np.isnan(X), self.gating_fill_, X), index=rids,
                         columns=gating)
        # both targets are fitted on the same subjects and visits (a missing value is
        # masked), so the two fits share one compiled program (trajmix compiles per
        # data shape): the subjects with at least one value of each target
        has = data.groupby(ID, sort=False)[list(TARGETS)].count().min(axis=1) > 0
        rows = data[data[ID].isin(has.index[has])]
        if rows[ID].nunique() < 5 * self.n_classes:
            raise DataError(f"GrowthMixtureForecaster: fewer than {5 * self.n_classes} "
                            f"training subjects with values of both {list(TARGETS)}")
        self.results_, self.classes_ = {}, {}
        for target in TARGETS:
            long = pd.DataFrame({ID: rows[ID].to_numpy(), "t": rows["YEARS_BL"].to_numpy(),
                                 "y": rows[target].to_numpy() * SCALE[target]})
            for c in gating:
                long[c] = X[c].reindex(long[ID]).to_numpy()
            model = GrowthMixture(self.curve, self.n_classes, gating=gating or None)
            res = model.fit(long, id=ID, time="t", outcome="y", n_starts=self.n_starts,
                            seed=seed_to_int(self.seed), se="none", warn=False)
            problems = ([] if res.converged else [f"not converged ({res.opt.message})"]) \
                + res.boundary
            if problems:
                warnings.warn(f"GrowthMixtureForecaster, {target}: " + "; ".join(problems),
                              ConvergenceWarning, stacklevel=3)
            self.results_[target] = res
            self.classes_[target] = _unpack(model, res.theta)
        self.classifier_ = MarkerDiagnosis().fit(data, "GrowthMixtureForecaster")

    # -- the posterior from a history ------------------------------------------------------
    def _curve(self):
        return self.results_[TARGETS[0]].model.curve

    def class_posterior(self, history: pd.DataFrame, target: str):
        """For the subjects of a prepared ``history``: log class probabilities (n, K),
        conditional growth-factor means η̂ (n, K, q) and covariances V (n, K, q, q)
        (module docstring), and the subject ids."""
        P = self.classes_[target]
        vals, obs, _, rids = pad(history, [target, "YEARS_BL"])
        y = vals[..., 0] * SCALE[target]
        m = obs[..., 0] & obs[..., 1]
        t = np.where(m, vals[..., 1], 0.0)
        X = self._covariates(history, rids, self.gating_fill_)
        logp = log_softmax(np.column_stack([np.ones(len(rids)), X]) @ P["gate"].T, axis=1)
        n, J = y.shape
        K, q = P["alpha"].shape
        eta, V = np.empty((n, K, q)), np.empty((n, K, q, q))
        mf, nobs = m.astype(float), m.sum(axis=1)
        for k in range(K):
            Lam = np.asarray(self._curve().loadings(t, P["nl"][k], P["alpha"][k], xp=np)) \
                * mf[..., None]                                           # (n, J, q)
            psi = P["psi"][k]
            LP = Lam @ psi                                                # (n, J, q)
            S = LP @ np.swapaxes(Lam, 1, 2) + P["theta"][k] * np.eye(J)
            C = np.linalg.cholesky(S)
            r = (y - Lam @ P["alpha"][k]) * mf
            z = np.linalg.solve(C, r[..., None])[..., 0]                  # C⁻¹ r
            W = np.linalg.solve(C, LP)                                    # C⁻¹ Λ Ψ
            logdet = 2 * np.log(np.diagonal(C, axis1=1, axis2=2)).sum(axis=1) \
                - (J - nobs) * np.log(P["theta"][k])                      # padded: var θ
            logp[:, k] += -0.5 * (nobs * LOG2PI + logdet + (z * z).sum(axis=1))
            eta[:, k] = P["alpha"][k] + np.einsum("njq,nj->nq", W, z)
            V[:, k] = psi - np.swapaxes(W, 1, 2) @ W
        logp -= np.logaddexp.reduce(logp, axis=1, keepdims=True)
        return logp, eta, V, rids

    def _predictive(self, history, target, tf):
        """Mixture weights (n, K), means and sds (n, M, K) at times ``tf`` (n, M)."""
        P = self.classes_[target]
        logp, eta, V, _ = self.class_posterior(history, target)
        K = logp.shape[1]
        mean, sd = np.empty(tf.shape + (K,)), np.empty(tf.shape + (K,))
        for k in range(K):
            lam = np.asarray(self._curve().loadings(tf, P["nl"][k], P["alpha"][k], xp=np))
            mean[..., k] = np.einsum("nmq,nq->nm", lam, eta[:, k])
            var = np.einsum("nmq,nqr,nmr->nm", lam, V[:, k], lam) + P["theta"][k]
            sd[..., k] = np.sqrt(np.maximum(var, 1e-12))
        return np.exp(logp), mean, sd

    def _predict(self, history, grid: ForecastGrid) -> Prediction:
        rids = subjects_of(history)
        first = history.groupby(ID, sort=False)["EXAMDATE"].min().loc[rids]
        tf = grid.years_after(first)
        design = stratified_draws(self.n_draws, 2 * len(TARGETS), seed_to_int(self.seed))
        out, draws = {}, {}
        for j, target in enumerate(TARGETS):
            w, mean, sd = self._predictive(history, target, tf)
            q = mixture_quantiles(w, mean, sd, (0.5, 0.25, 0.75))
            lo, hi = (b * SCALE[target] for b in BOUNDS[target])
            out[target] = np.clip(q, lo, hi) / SCALE[target]
            # draw d: class by inverse CDF of p_i at u_d, then a normal deviate z_d
            u, z = design[:, 2 * j], ndtri(design[:, 2 * j + 1])
            k = np.minimum((u[:, None, None] > np.cumsum(w, axis=1)[None]).sum(axis=2),
                           w.shape[1] - 1)                                 # (D, n)
            pick = np.take_along_axis(mean[None], k[:, :, None, None], axis=3)[..., 0]
            spread = np.take_along_axis(sd[None], k[:, :, None, None], axis=3)[..., 0]
            draws[target] = (pick + spread * z[:, None, None]) / SCALE[target]
        ages = first_visit(history)["AGE_BL"].to_numpy(float)[:, None] + tf
        probs = self.classifier_.predict(draws["ADAS13"], draws["Ventricles_ICV"], ages)
        return Prediction(rids, probs, out["ADAS13"], out["Ventricles_ICV"])


def _unpack(model, theta) -> dict:
    """Class parameters of a fitted trajmix model as numpy arrays."""
    lay = model.layout
    th = jnp.asarray(theta)
    parts = [lay.unpack_class(th, k) for k in range(lay.K)]
    L = np.stack([np.asarray(p["L"]) for p in parts])
    return {"alpha": np.stack([np.asarray(p["alpha"]) for p in parts]),
            "psi": L @ np.swapaxes(L, 1, 2),
            "theta": np.array([float(p["theta"]) for p in parts]),
            "nl": np.stack([np.asarray(p["nl"]) for p in parts]),
            "gate": np.asarray(lay.gate(th))}


def mixture_quantiles(w, mean, sd, probs, iters: int = 60) -> np.ndarray:
    """Quantiles of Σ_k w_k N(mean_k, sd_k²) by bisection on the CDF: ``w`` (n, K),
    ``mean``/``sd`` (n, M, K) → (n, M, len(probs)). The bracket [min(mean − 8 sd),
    max(mean + 8 sd)] holds every quantile in (10⁻¹⁵, 1 − 10⁻¹⁵); 60 halvings leave
    less than 10⁻¹⁶ of its width."""
    lo0 = (mean - 8 * sd).min(axis=-1)
    hi0 = (mean + 8 * sd).max(axis=-1)
    out = []
    for p in probs:
        lo, hi = lo0.copy(), hi0.copy()
        for _ in range(iters):
            mid = 0.5 * (lo + hi)
            cdf = np.sum(w[:, None, :] * ndtr((mid[..., None] - mean) / sd), axis=-1)
            below = cdf < p
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        out.append(0.5 * (lo + hi))
    return np.stack(out, axis=-1)
