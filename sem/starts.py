"""lavaan-style starting values from the sample moments.

* loadings: an instrumental-variable ratio in the spirit of lavaan's ``fabin``: for a
  factor with marker m, λ_j = median_k s_jk / s_mk over the other indicators k;
  with ``std_lv``, λ_j = √(½ s_jj);
* factor variances: mean over indicators k ≠ m of s_mk / λ_k (≥ 0.05, lavaan's
  default for latent variances);
* residual variances ½ s_jj (lavaan); regressions and covariances 0;
* intercepts at the sample means, latent means 0; exogenous covariates at their
  sample (co)variances and means;
* a user's ``start(v)*x`` or fixed value always wins.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def sample_moments(data: dict) -> tuple[np.ndarray, np.ndarray]:
    """Available-case means and pairwise covariances of the prepared data."""
    Y = np.where(data["obs"], data["Y"], np.nan)
    df = pd.DataFrame(Y)
    w = data["w"]
    if np.allclose(w, w[0]) and np.isfinite(Y).all():
        mu = Y.mean(0)
        S = np.cov(Y, rowvar=False, bias=True)
    else:
        mu = df.mean().to_numpy()
        S = df.cov(min_periods=2).to_numpy() * (len(df) - 1) / len(df)
    S = np.where(np.isfinite(S), S, 0.0)
    return np.atleast_2d(S), mu


def table_rows(pt: pd.DataFrame) -> list:
    """The table's rows (without defined parameters) as tuples, computed once per model:
    ``fit_many`` needs start values for every data set."""
    return [r for r in pt.itertuples() if r.op != ":="]


def start_values(pt, vars_, S: np.ndarray, mu: np.ndarray, std_lv: bool) -> np.ndarray:
    """``pt``: the parameter table, or its ``table_rows``."""
    rows = table_rows(pt) if isinstance(pt, pd.DataFrame) else pt
    ov_idx = {v: i for i, v in enumerate(vars_.ov)}
    k = max((int(r.free) for r in rows), default=0)
    theta = np.zeros(k)
    done = np.zeros(k, dtype=bool)
    loadings: dict[str, dict[str, float]] = {}

    # loadings first (factor variances use them)
    for f in vars_.lv:
        ind = [r for r in rows if r.op == "=~" and r.lhs == f]
        obs = [r.rhs for r in ind if r.rhs in ov_idx]
        marker = next((r.rhs for r in ind
                       if r.free == 0 and r.rhs in ov_idx and r.ustart == 1), None)
        lam = {}
        for r in ind:
            j = r.rhs
            if r.free == 0:
                lam[j] = r.ustart if np.isfinite(r.ustart) else 1.0
            elif j not in ov_idx:
                lam[j] = 1.0
            elif std_lv or marker is None:
                lam[j] = np.sqrt(max(0.5 * S[ov_idx[j], ov_idx[j]], 1e-4))
            else:
                others = [o for o in obs if o not in (j, marker)]
                m = ov_idx[marker]
                ratios = [S[ov_idx[j], ov_idx[o]] / S[m, ov_idx[o]] for o in others
                          if abs(S[m, ov_idx[o]]) > 1e-8]
                if ratios:
                    lam[j] = float(np.clip(np.median(ratios), -10, 10))
                elif abs(S[m, m]) > 0:
                    lam[j] = float(np.clip(S[ov_idx[j], m] / S[m, m] * 2, -10, 10))
                else:
                    lam[j] = 1.0
        loadings[f] = lam

    for r in rows:
        p = int(r.free) - 1
        if p < 0 or done[p]:
            continue
        v = None
        if np.isfinite(r.start):
            v = r.start
        elif r.op == "=~":
            v = loadings[r.lhs][r.rhs]
        elif r.op == "~":
            v = 0.0
        elif r.op == "~1":
            v = mu[ov_idx[r.lhs]] if r.lhs in ov_idx else 0.0
        elif r.op == "~~":
            a, b = r.lhs, r.rhs
            if a in ov_idx and b in ov_idx:
                if r.exo:
                    v = S[ov_idx[a], ov_idx[b]]
                elif a == b:
                    v = 0.5 * S[ov_idx[a], ov_idx[a]]
                else:
                    v = 0.0
            elif a == b:
                v = _factor_variance(a, loadings.get(a, {}), S, ov_idx)
            else:
                v = 0.0
        theta[p] = v
        done[p] = True
    return theta


def _factor_variance(f, lam, S, ov_idx):
    obs = [j for j in lam if j in ov_idx and abs(lam[j]) > 1e-8]
    if len(obs) >= 2:
        vals = []
        for a in range(len(obs)):
            for b in range(a + 1, len(obs)):
                ja, jb = obs[a], obs[b]
                vals.append(S[ov_idx[ja], ov_idx[jb]] / (lam[ja] * lam[jb]))
        v = float(np.mean(vals))
        return v if v > 0.05 else 0.05
    return 0.05
