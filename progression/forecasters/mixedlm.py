"""A linear mixed model with random intercepts and slopes (statsmodels ``MixedLM``).

For each target y (ADAS13; Ventricles_ICV, modelled in percent of ICV):

    y_ij = x_ijᵀβ + b_i0 + b_i1·t_ij + ε_ij,   b_i ~ N(0, D), ε_ij ~ N(0, σ²),

t_ij the years since the subject's first visit, x_ij = (1, t, AGE − 73, APOE4, t·APOE4,
t·(AGE − 73)) (Laird & Ware 1982), fitted by REML. A subject's forecast at time t*
is x*ᵀβ̂ + z*ᵀb̂_i with z* = (1, t*) and the best linear unbiased predictor
b̂_i = (D⁻¹ + ZᵢᵀZᵢ/σ²)⁻¹ Zᵢᵀ(yᵢ − Xᵢβ̂)/σ² from its history (so a subject need not have
been in the training data, and one visit is enough); the 50% interval is
± Φ⁻¹(0.75)·√(z*ᵀVᵢz* + x*ᵀCov(β̂)x* + σ²), Vᵢ = (D⁻¹ + ZᵢᵀZᵢ/σ²)⁻¹.
Diagnosis: the shared rule of :mod:`.diagnosis` (a multinomial logistic regression of
DX on ADAS13, Ventricles_ICV and age, averaged over draws from the two predictive
distributions).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.special import ndtri
from scipy.stats import norm
from statsmodels.tools.sm_exceptions import ConvergenceWarning as SMConvergenceWarning

from sem.errors import ConvergenceWarning, DataError

from ..longitudinal import subjects_of
from ..schema import ID, ids
from .base import Forecaster, ForecastGrid, Prediction, first_visit
from .diagnosis import MarkerDiagnosis, stratified_draws

SCALE = {"ADAS13": 1.0, "Ventricles_ICV": 100.0}
Q75 = norm.ppf(0.75)


def _fixed(t, age, apoe):
    a = age - 73.0
    return np.stack([np.ones_like(t), t, a, apoe, t * apoe, t * a], axis=-1)


class MixedLMForecaster(Forecaster):
    """Linear mixed model per target with random intercept and slope (module
    docstring). ``n_draws`` predictive draws (a Latin hypercube, see
    :mod:`.diagnosis`) feed the diagnosis classifier; ``seed`` fixes them. Fitted: ``results_`` (statsmodels results per target),
    ``converged_`` (per target), ``classifier_`` (:class:`.diagnosis.MarkerDiagnosis`)."""

    required_columns = ("AGE",)

    def __init__(self, n_draws: int = 64, seed: int = 0):
        self.n_draws = n_draws
        self.seed = seed

    def _design(self, data):
        apoe = data["APOE4"].fillna(self.apoe_mean_).to_numpy(float) \
            if "APOE4" in data.columns else np.full(len(data), self.apoe_mean_)
        t = data["YEARS_BL"].to_numpy(float)
        return _fixed(t, data["AGE_BL"].to_numpy(float), apoe), np.stack(
            [np.ones_like(t), t], axis=1)

    def _fit(self, data):
        self.apoe_mean_ = float(data["APOE4"].mean()) if "APOE4" in data.columns else 0.0
        if data["AGE_BL"].isna().any():
            raise DataError("MixedLMForecaster: AGE is missing for RID "
                            f"{ids(sorted(set(data.loc[data['AGE_BL'].isna(), ID])))}")
        X, Z = self._design(data)
        self.results_, self.converged_ = {}, {}
        for target, scale in SCALE.items():
            y = data[target].to_numpy(float) * scale
            ok = np.isfinite(y)
            if ok.sum() < 10:
                raise DataError(f"MixedLMForecaster: fewer than 10 training values of {target}")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = sm.MixedLM(y[ok], X[ok], groups=data.loc[ok, ID].to_numpy(),
                                 exog_re=Z[ok]).fit(reml=True)
            bad = [w for w in caught if issubclass(w.category, SMConvergenceWarning)]
            self.results_[target] = res
            self.converged_[target] = bool(res.converged) and not bad
            if not self.converged_[target]:
                warnings.warn(f"MixedLMForecaster: the {target} model did not converge "
                              f"({bad[0].message if bad else 'optimizer'})",
                              ConvergenceWarning, stacklevel=3)
        self.classifier_ = MarkerDiagnosis().fit(data, "MixedLMForecaster")

    def _blup(self, history, target, X, Z, rids):
        """Per subject: b̂ (n, 2) and its conditional covariance V (n, 2, 2)."""
        res = self.results_[target]
        beta = np.asarray(res.fe_params)
        D = np.asarray(res.cov_re)
        s2 = float(res.scale)
        y = history[target].to_numpy(float) * SCALE[target]
        ok = np.isfinite(y)
        r = np.where(ok, y - X @ beta, 0.0)
        Zo = np.where(ok[:, None], Z, 0.0)
        g = pd.Index(rids).get_indexer(history[ID])
        n = len(rids)
        ZtZ = np.zeros((n, 2, 2))
        np.add.at(ZtZ, g, Zo[:, :, None] * Zo[:, None, :])
        Ztr = np.zeros((n, 2))
        np.add.at(Ztr, g, Zo * r[:, None])
        V = np.linalg.inv(np.linalg.inv(D)[None] + ZtZ / s2)
        return np.einsum("nij,nj->ni", V, Ztr / s2), V, beta, res, s2

    def _predict(self, history, grid: ForecastGrid) -> Prediction:
        rids = subjects_of(history)
        X, Z = self._design(history)
        fv = first_visit(history)
        first = history.groupby(ID, sort=False)["EXAMDATE"].min().loc[rids]
        tf = grid.years_after(first)                                  # (n, M)
        apoe = fv["APOE4"].fillna(self.apoe_mean_).to_numpy(float) \
            if "APOE4" in fv.columns else np.full(len(rids), self.apoe_mean_)
        age = fv["AGE_BL"].to_numpy(float)
        Xf = _fixed(tf, age[:, None] + 0 * tf, apoe[:, None] + 0 * tf)  # (n, M, 6)
        Zf = np.stack([np.ones_like(tf), tf], axis=-1)                 # (n, M, 2)
        out, sds = {}, {}
        for target, scale in SCALE.items():
            b, V, beta, res, s2 = self._blup(history, target, X, Z, rids)
            mean = Xf @ beta + np.einsum("nmj,nj->nm", Zf, b)
            cov_fe = np.asarray(res.cov_params())[:len(beta), :len(beta)]
            var = (np.einsum("nmi,nij,nmj->nm", Zf, V, Zf)
                   + np.einsum("nmi,ij,nmj->nm", Xf, cov_fe, Xf) + s2)
            sd = np.sqrt(var)
            out[target] = np.stack([mean, mean - Q75 * sd, mean + Q75 * sd], -1) / scale
            sds[target] = sd / scale
        z = ndtri(stratified_draws(self.n_draws, 2, self.seed))[:, :, None, None]
        probs = self.classifier_.predict(
            out["ADAS13"][..., 0] + sds["ADAS13"] * z[:, 0],
            out["Ventricles_ICV"][..., 0] + sds["Ventricles_ICV"] * z[:, 1],
            age[:, None] + tf)
        return Prediction(rids, probs, out["ADAS13"], out["Ventricles_ICV"])
