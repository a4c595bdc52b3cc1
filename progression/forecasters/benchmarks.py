"""The TADPOLE challenge's three benchmark forecasters, as the organisers specified them.

Re-implemented from the description of the official scripts (``evaluation/`` of the
TADPOLE repository: ``TADPOLE_BenchmarkLastVisit.py``, ``TADPOLE_BenchmarkMixedEffects.m``
and ``…MixedEffectsAPOE.m``, ``TADPOLE_Benchmark_SVM.py``; Marinescu et al., MELBA
2021:019, section 5.2). Each forecasts the same way for every month except the
mixed-effects model, which follows a line in age.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.svm import SVC, SVR

from sem.errors import DataError

from ..longitudinal import subjects_of
from ..schema import DX_LABELS, ID, ids
from .base import Forecaster, Prediction, first_visit, interval, last_observed

DX_ONEHOT = {"CN": (1.0, 0.0, 0.0), "MCI": (0.0, 1.0, 0.0), "AD": (0.0, 0.0, 1.0)}
UNKNOWN_DX = (0.33, 0.33, 0.34)


def _repeat(values, M):
    """(n, k) → (n, M, k): the same forecast every month."""
    v = np.asarray(values, dtype=float)
    return np.repeat(v[:, None, :], M, axis=1)


class LastVisitBenchmark(Forecaster):
    """BenchmarkLastVisit: the most recent value, the same for all months.

    * diagnosis: the last recorded DX as probability 1 (CN → [1, 0, 0] …); none recorded
      → [0.33, 0.33, 0.34];
    * ADAS13: the last score **above 0** (the script treats 0 as missing), interval
      [max(0, a − 1), a + 1]; none → 12 with [2, 22];
    * Ventricles_ICV: the last Ventricles / ICV_bl, interval ± the ICV-scaled equivalent
      of 1000 mm³; none → the equivalent of 25 000 ± 20 000 mm³. The scale is the slope
      of a least-squares line of Ventricles_ICV on Ventricles over the training visits
      (``np.polyfit``), as in the script; forecasts are rounded to 9 decimals.
    """

    def _fit(self, data):
        v = data["Ventricles"].to_numpy(float)
        r = data["Ventricles_ICV"].to_numpy(float)
        ok = (v > 0) & (data["ICV_bl"].to_numpy(float) > 0) & np.isfinite(r)
        if ok.sum() < 2:
            raise DataError("LastVisitBenchmark needs Ventricles and ICV at two or more "
                            "training visits (to convert mm³ margins to ICV units)")
        line = np.poly1d(np.polyfit(v[ok], r[ok], 1))
        self.vents_typical_ = float(line(25000))
        self.vents_broad_margin_ = float(abs(line(20000) - line(-20000)) / 2)
        self.vents_margin_ = float(abs(line(1000) - line(-1000)) / 2)

    def _predict(self, history, grid):
        M = len(grid)
        dx, _, has_dx = last_observed(history, "DX")
        probs = np.array([DX_ONEHOT.get(d, UNKNOWN_DX) if h else UNKNOWN_DX
                          for d, h in zip(dx, has_dx)])
        a, _, has_a = last_observed(history, "ADAS13", valid=lambda x: x > 0)
        adas = np.where(has_a[:, None],
                        np.stack([a, np.maximum(0, a - 1), a + 1], axis=1),
                        np.array([12.0, 2.0, 22.0]))
        v, _, has_v = last_observed(history, "Ventricles_ICV", valid=lambda x: x > 0)
        vents = np.where(has_v[:, None], interval(v, self.vents_margin_),
                         interval(np.full(len(v), self.vents_typical_),
                                  self.vents_broad_margin_))
        vents = np.around(1e9 * vents, 0) / 1e9
        return Prediction(subjects_of(history), _repeat(probs, M), _repeat(adas, M),
                          _repeat(vents, M))


class MixedEffectsBenchmark(Forecaster):
    """BenchmarkMixedEffects (and BenchmarkME-APOE with ``apoe=True``).

    Per target y (ADAS13, Ventricles_ICV), over all training visits with y present,
    ordinary least squares on ``[1, age, one dummy per subject]`` — subject intercepts
    without shrinkage — where age at a visit = AGE(baseline) + (exam month − the
    subject's first exam month)/12 (months since Jan 2000). The APOE variant has two age
    slopes, age·1[APOE4 = 0] and age·1[APOE4 > 0]. The script solves with
    ``pinv(XᵀX)Xᵀy``; the slopes and every ``β0 + u_i`` are the same as the within-
    subject estimator used here (Frisch–Waugh–Lovell), which needs no n × n matrix.
    Forecast: the subject's line at the forecast months' ages, interval ±1 (ADAS13) and
    ±0.05 (Ventricles_ICV). Diagnosis: Gaussian likelihoods of the forecast ADAS13 under
    N(mean, sd²) of the CN, MCI and AD training visits (sd with n − 1), normalised.

    A subject absent from training gets its intercept from its own history (the same
    formula); one with no value of a target gets the mean intercept.
    """

    required_columns = ("AGE",)

    def __init__(self, apoe: bool = False):
        self.apoe = apoe

    def _design(self, data):
        first = data.groupby(ID, sort=False)["EXAM_MONTH"].transform("min")
        age = (data["AGE_BL"] + (data["EXAM_MONTH"] - first) / 12).to_numpy(float)
        return self._slopes_x(age, data)

    def _slopes_x(self, age, data):
        if not self.apoe:
            return age[:, None]
        if "APOE4" not in data.columns:
            raise DataError("MixedEffectsBenchmark(apoe=True) needs column 'APOE4'")
        carrier = data["APOE4"].to_numpy(float) > 0
        return np.stack([age * ~carrier, age * carrier], axis=1)

    def _fit(self, data):
        X = self._design(data)
        self.slopes_, self.intercepts_ = {}, {}
        for target in ("ADAS13", "Ventricles_ICV"):
            y = data[target].to_numpy(float)
            ok = np.isfinite(y) & np.isfinite(X).all(axis=1)
            g = data.loc[ok, ID].to_numpy()
            Xo, yo = X[ok], y[ok]
            if len(yo) == 0:
                raise DataError(f"MixedEffectsBenchmark: no training visit has {target}")
            Xd = Xo - pd.DataFrame(Xo).groupby(g).transform("mean").to_numpy()
            yd = yo - pd.Series(yo).groupby(g).transform("mean").to_numpy()
            beta = np.linalg.lstsq(Xd, yd, rcond=None)[0]
            self.slopes_[target] = beta
            self.intercepts_[target] = pd.Series(yo - Xo @ beta).groupby(g).mean()
        stats = {}
        for lab in DX_LABELS:
            a = data.loc[(data["DX"] == lab) & data["ADAS13"].notna(), "ADAS13"]
            if len(a) < 2:
                raise DataError(f"MixedEffectsBenchmark: fewer than two training visits "
                                f"with DX {lab} and ADAS13")
            stats[lab] = (float(a.mean()), float(a.std(ddof=1)))
        self.adas_by_dx_ = stats

    def _predict(self, history, grid):
        rids = subjects_of(history)
        fv = first_visit(history)
        if fv["AGE_BL"].isna().any():
            raise DataError(f"MixedEffectsBenchmark: AGE missing for RID "
                            f"{ids(fv.index[fv['AGE_BL'].isna()])}")
        first = history.groupby(ID, sort=False)["EXAM_MONTH"].min().loc[rids].to_numpy()
        ages = fv["AGE_BL"].to_numpy(float)[:, None] + (grid.exam_month[None, :]
                                                        - first[:, None]) / 12
        Xh = self._design(history)
        out = {}
        for target, half in (("ADAS13", 1.0), ("Ventricles_ICV", 0.05)):
            beta = self.slopes_[target]
            known = self.intercepts_[target]
            y = history[target].to_numpy(float)
            ok = np.isfinite(y)
            own = pd.Series(y[ok] - Xh[ok] @ beta).groupby(history.loc[ok, ID].to_numpy()).mean()
            c = known.reindex(rids)
            c = c.fillna(own.reindex(rids)).fillna(known.mean()).to_numpy()
            Xf = np.stack([self._slopes_x(ages[:, m], fv) for m in range(len(grid))], axis=1)
            out[target] = interval(c[:, None] + Xf @ beta, half)
        lik = np.stack([norm.pdf(out["ADAS13"][..., 0], *self.adas_by_dx_[lab])
                        for lab in DX_LABELS], axis=-1)
        total = lik.sum(axis=-1, keepdims=True)
        probs = np.where(total > 0, lik / np.where(total > 0, total, 1), 1 / 3)
        return Prediction(rids, probs, out["ADAS13"], out["Ventricles_ICV"])


def _platt_svc(seed):
    """``SVC(kernel="linear", probability=True)`` (libsvm's internal Platt scaling), as
    the benchmark script has it; scikit-learn deprecated ``probability`` in 1.9, so where
    it is gone the documented replacement — sigmoid calibration of the same SVC by
    ``CalibratedClassifierCV(..., ensemble=False)`` — is used."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return _QuietSVC(kernel="linear", probability=True, random_state=seed)
    except TypeError:  # pragma: no cover - scikit-learn >= 1.11
        from sklearn.calibration import CalibratedClassifierCV

        return CalibratedClassifierCV(SVC(kernel="linear", random_state=seed),
                                      method="sigmoid", ensemble=False)


class _QuietSVC(SVC):
    def fit(self, X, y, sample_weight=None):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return super().fit(X, y, sample_weight=sample_weight)


class SVMBenchmark(Forecaster):
    """BenchmarkSVM: linear support vector machines from one visit to the next.

    Features of a visit: ADAS13, Ventricles, ICV_bl, Ventricles_ICV, each missing value
    replaced by the training mean, then z-scored (numpy's ``nanstd``, n denominator).
    Targets: the *next* visit's diagnosis (``SVC(kernel="linear", probability=True)``),
    ADAS13 and Ventricles_ICV (z-scored, ``SVR(kernel="linear")``); a pair is used when
    the next visit has that target. The forecast, from each subject's last visit, is the
    same for every month; intervals ±1 (ADAS13) and ±0.05 (Ventricles_ICV), lower bounds
    clipped at 0. (The script says "+ APOE" in a comment but does not use it.)
    ``seed`` fixes the Platt-scaling folds of ``SVC`` (the script leaves them random).
    """

    FEATURES = ("ADAS13", "Ventricles", "ICV_bl", "Ventricles_ICV")

    def __init__(self, seed: int = 0):
        self.seed = seed

    def _features(self, data):
        X = data.loc[:, list(self.FEATURES)].to_numpy(float)
        X = np.where(np.isnan(X), self.feature_mean_, X)
        return (X - self.feature_mean_) / self.feature_sd_

    def _fit(self, data):
        X = data.loc[:, list(self.FEATURES)].to_numpy(float)
        self.feature_mean_ = np.nanmean(X, axis=0)
        sd = np.nanstd(X, axis=0)
        if not np.all(np.isfinite(self.feature_mean_)) or np.any(~(sd > 0)):
            raise DataError(f"SVMBenchmark needs varying values of {list(self.FEATURES)}")
        self.feature_sd_ = sd
        Z = self._features(data)
        nxt = data.groupby(ID, sort=False)[["DX", "ADAS13", "Ventricles_ICV"]].shift(-1)
        dx = nxt["DX"].map({lab: k for k, lab in enumerate(DX_LABELS)})
        ok = dx.notna().to_numpy()
        if dx[ok].nunique() < 2:
            raise DataError("SVMBenchmark: fewer than two diagnoses among next visits")
        self.classifier_ = _platt_svc(self.seed).fit(Z[ok], dx[ok].astype(int).to_numpy())
        self.regressors_ = {}
        for target in ("ADAS13", "Ventricles_ICV"):
            y = nxt[target].to_numpy(float)
            ok = np.isfinite(y)
            if ok.sum() < 2:
                raise DataError(f"SVMBenchmark: no next-visit values of {target}")
            m, s = np.nanmean(y[ok]), np.nanstd(y[ok])
            reg = SVR(kernel="linear").fit(Z[ok], (y[ok] - m) / s)
            self.regressors_[target] = (reg, m, s)

    def _predict(self, history, grid):
        M = len(grid)
        last = history.groupby(ID, sort=False).tail(1)
        Z = self._features(last)
        p = np.zeros((len(last), 3))
        p[:, self.classifier_.classes_] = self.classifier_.predict_proba(Z)
        out = {}
        for target, half in (("ADAS13", 1.0), ("Ventricles_ICV", 0.05)):
            reg, m, s = self.regressors_[target]
            est = interval(reg.predict(Z) * s + m, half)
            est[:, 1] = np.maximum(est[:, 1], 0)
            out[target] = est
        return Prediction(last[ID].to_numpy(), _repeat(p, M), _repeat(out["ADAS13"], M),
                          _repeat(out["Ventricles_ICV"], M))
