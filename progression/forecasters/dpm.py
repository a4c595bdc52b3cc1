"""The disease progression model as a forecaster (JAX; see :mod:`progression.dpm`).

Latent disease time with a subject-specific shift and pace, one monotone sigmoid per
biomarker and an ordinal diagnosis model, fitted jointly over all biomarkers by
maximum (Laplace-approximate marginal) likelihood with the project's engine
(:func:`sem.estimation.maximize`). Forecasts integrate over each subject's posterior
(:mod:`progression.dpm.predict`): the point forecast is the predictive median, the 50%
interval its quartiles, the diagnosis probabilities the posterior mean of the ordinal
model's probabilities.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sem.errors import ConvergenceWarning, DataError
from sem.estimation import seed_to_int
from sem.inference import invert_information, wald_table

from ..dpm.likelihood import Layout
from ..dpm.model import (ProgressionProblem, Scaler, fit, make_arrays, refresh_nodes,
                         scores)
from ..dpm.predict import predictive
from ..longitudinal import subjects_of
from ..schema import ID
from .base import Forecaster, ForecastGrid, Prediction, first_visit

DEFAULT_MARKERS = ("ADAS13", "Ventricles_ICV", "MMSE", "CDRSB", "Hippocampus",
                   "WholeBrain", "FDG", "ABETA", "TAU")
TARGETS = ("ADAS13", "Ventricles_ICV")
BOUNDS = {"ADAS13": (0.0, 85.0), "Ventricles_ICV": (0.0, 1.0)}


class ProgressionModel(Forecaster):
    """Disease progression model (latent time, sigmoid trajectories), forecasting by
    its posterior predictive distribution.

    Parameters: ``markers`` (biomarker columns modelled jointly; default those of
    :data:`DEFAULT_MARKERS` present with at least three values — ADAS13 and
    Ventricles_ICV are required), ``covariates`` (subject covariates of pace and stage),
    ``points`` (Gauss–Hermite nodes per dimension; 1 = Laplace), ``n_draws`` (posterior
    draws per subject), ``max_iter`` (BFGS iterations in all; rounds of 200 run until
    it is reached, so 200 means one round), ``subsample`` (above 1.5 times this many
    subjects, a random subsample of this size is fitted first and its estimate and
    information start the full fit), ``seed``.

    Fitted: ``params_`` (estimates by name, on the z-scored biomarker scale), ``llf_``,
    ``converged_``, ``fit_result_`` (rounds, iterations, message), ``markers_``,
    ``scaler_``, ``age_ref_``. ``summary()`` adds standard errors from the empirical
    information (outer product of exact per-subject scores).
    """

    required_columns = ("AGE",)

    def __init__(self, markers=None, covariates=("APOE4",), points: int = 1,
                 n_draws: int = 128, max_iter: int = 2000, subsample: int = 600,
                 seed: int = 0):
        self.markers = markers
        self.subsample = subsample
        self.covariates = covariates
        self.points = points
        self.n_draws = n_draws
        self.max_iter = max_iter
        self.seed = seed

    # -- fitting ------------------------------------------------------------------------
    def _choose_markers(self, data):
        if self.markers is not None:
            missing = [m for m in self.markers if m not in data.columns]
            if missing:
                raise DataError(f"ProgressionModel: biomarker column(s) {missing} not in "
                                "the training table")
            markers = list(self.markers)
        else:
            markers = [m for m in DEFAULT_MARKERS
                       if m in data.columns and data[m].notna().sum() >= 3]
        for t in TARGETS:
            if t not in markers:
                raise DataError(f"ProgressionModel needs biomarker {t} (a target of the "
                                "forecast) with values in the training table")
        return markers

    def _fit(self, data):
        markers = self._choose_markers(data)
        covs = list(self.covariates or ())
        absent = [c for c in covs if c not in data.columns]
        if absent:
            raise DataError(f"ProgressionModel: covariate column(s) {absent} not in the "
                            "training table")
        self.markers_, self.covariates_ = markers, covs
        self.scaler_ = Scaler.fit(data, markers)
        fv = data.groupby(ID, sort=False).head(1)
        self.age_ref_ = float(np.round(fv["AGE_BL"].mean(), 1))
        self.cov_fill_ = fv[covs].mean().to_numpy(float) if covs else np.zeros(0)
        self.layout_ = Layout(len(markers), len(covs))
        arrays, rids = make_arrays(data, markers, covs, self.scaler_, self.age_ref_,
                                   self.cov_fill_)
        problem = ProgressionProblem(self.layout_, markers, covs, self.points)
        res = fit(problem, arrays, len(rids), subsample=self.subsample,
                  seed=seed_to_int(self.seed), max_iter=self.max_iter)
        self.fit_result_ = res
        self.params_ = pd.Series(res.theta, index=problem.param_names)
        self.llf_ = res.llf
        self.converged_ = res.converged
        self._problem, self._arrays = problem, res.data
        if not self.converged_:
            warnings.warn(f"ProgressionModel did not converge ({res.message}, max |gradient| "
                          f"{res.grad_max:.2g}); forecasts use the last estimate",
                          ConvergenceWarning, stacklevel=3)

    # -- inference ----------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors from the empirical (outer-product-of-scores)
        observed information Σ_i s_i s_iᵀ, s_i = ∂ℓ_i/∂θ exact by automatic
        differentiation; Wald z, p-values and 95% intervals."""
        theta = self.params_.to_numpy()
        S = scores(self._problem, theta, self._arrays)       # ∂ℓ_i/∂u, u = log θ if θ > 0
        S = np.where(self._problem.positive, S / theta, S)    # chain rule: ∂ℓ_i/∂θ
        w = np.asarray(self._arrays["w"])
        info = (S * w[:, None]).T @ S
        inv = invert_information(info)
        se = np.sqrt(np.clip(np.diag(inv.cov), 0, None))
        out = pd.DataFrame({"est": self.params_.to_numpy(), "se": se},
                           index=self.params_.index)
        return pd.concat([out, wald_table(out["est"], out["se"]).set_index(out.index)], axis=1)

    def subject_effects(self, history: pd.DataFrame | None = None) -> pd.DataFrame:
        """Per subject: posterior mode of the pace exp(ξ) and of the stage δ at the
        subject's mean visit age, with posterior sds (Laplace), from ``history``
        (default: the training table)."""
        h = self.history_ if history is None else self._history(history)
        b, L, rids, arrays = self._posterior(h)
        P = self.layout_.unpack(self.params_.to_numpy())
        x = arrays["x"][:len(rids)]
        cov = L @ np.swapaxes(L, 1, 2)
        abar = arrays["abar"][:len(rids)]
        xi = x @ P["g_xi"] + P["sd_xi"] * b[:, 0]
        delta = P["g_age"] * abar + x @ P["g_delta"] + P["sd_delta"] * b[:, 1]
        return pd.DataFrame({ID: rids, "pace": np.exp(xi), "stage": delta,
                             "mean_age": abar + self.age_ref_,
                             "sd_log_pace": P["sd_xi"] * np.sqrt(cov[:, 0, 0]),
                             "sd_stage": P["sd_delta"] * np.sqrt(cov[:, 1, 1])})

    def stages(self, history: pd.DataFrame | None = None) -> pd.DataFrame:
        """Each visit's estimated disease time (posterior mode)."""
        h = self.history_ if history is None else self._history(history)
        eff = self.subject_effects(h).set_index(ID)
        e = eff.loc[h[ID]]
        out = h[[ID, "EXAMDATE"]].copy()
        out["stage"] = (e["pace"].to_numpy() * (h["AGE_VISIT"].to_numpy()
                                                - e["mean_age"].to_numpy())
                        + e["stage"].to_numpy())
        return out

    # -- forecasting --------------------------------------------------------------------
    def _posterior(self, history):
        arrays, rids = make_arrays(history, self.markers_, self.covariates_, self.scaler_,
                                   self.age_ref_, self.cov_fill_)
        n = len(rids)
        arrays, gmax = refresh_nodes(self.layout_, self.params_.to_numpy(), arrays, 60,
                                     search=True)
        if gmax > 1e-4:
            warnings.warn(f"ProgressionModel: a posterior mode search did not settle (max "
                          f"|gradient| {gmax:.2g})", ConvergenceWarning, stacklevel=3)
        return arrays["bhat"][:n], arrays["L"][:n], rids, arrays

    def _predict(self, history, grid: ForecastGrid) -> Prediction:
        b, L, rids, arrays = self._posterior(history)
        n = len(rids)
        fv = first_visit(history)
        first_date = history.groupby(ID, sort=False)["EXAMDATE"].min().loc[rids]
        ages = (fv["AGE_BL"].to_numpy(float)[:, None] + grid.years_after(first_date)
                - self.age_ref_)
        sub = {k: np.asarray(v)[:n] for k, v in arrays.items()}
        targets = [self.markers_.index(t) for t in TARGETS]
        probs, q = predictive(self.params_.to_numpy(), sub, b, L, ages, self.layout_,
                              targets, [BOUNDS[t] for t in TARGETS], self.scaler_,
                              n_draws=self.n_draws, seed=seed_to_int(self.seed))
        return Prediction(np.asarray(subjects_of(history)), probs, q[:, :, 0, :],
                          q[:, :, 1, :])
