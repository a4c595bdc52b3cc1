"""Fit measures with lavaan's definitions (lavaan 0.6 ``fitMeasures``, ML, N not N − 1).

With ℓ₀ the model's log-likelihood, ℓ₁ the unrestricted (saturated) one, ℓ_b the
baseline (independence) model's, M the number of sample moments and q the number of
free parameters:

* chisq  T = 2(ℓ₁ − ℓ₀),  df = M − q,  pvalue = P(χ²_df > T)
* baseline  T_b = 2(ℓ₁ − ℓ_b),  df_b = M − q_b (free variances, and means)
* CFI = 1 − max(T − df, 0) / max(T − df, T_b − df_b, 0)
* TLI = (T_b/df_b − T/df) / (T_b/df_b − 1);  NFI = (T_b − T)/T_b
* RMSEA = √(max(T − df, 0) / (N df)); 90 % CI from the non-central χ² (non-centrality
  λ with P(χ²_df(λ) ≤ T) = .95 / .05), and P(RMSEA ≤ .05)
* SRMR (Bentler): √(mean over i ≤ j of ((s_ij − σ_ij)/√(s_ii s_jj))²), with the
  standardised mean residuals (ȳ_i − μ_i)/√s_ii added when the model has means
* AIC = −2ℓ₀ + 2q,  BIC = −2ℓ₀ + q log N,  SABIC = −2ℓ₀ + q log((N + 2)/24)

Under missing values (FIML), ℓ₁ and the sample moments come from the unrestricted
model fitted by FIML (``sem.saturated``), as lavaan's h1, and ℓ_b from the independence
model fitted by FIML, which factorises over variables.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize, special, stats


def _ncx2_sf(x: float, df: int, nc: float) -> float:
    """P(χ²_df(nc) > x). ``scipy.stats`` distributions spend ~140 µs a call in argument
    checks (three calls were a tenth of a warm fit), so the p-values go through
    ``scipy.special`` (``chdtrc``: χ² survival, exact); the non-central survival is
    1 − ``chndtr``, with ``stats.ncx2.sf`` where that falls below 1e-8 and the
    difference would lose its relative accuracy."""
    p = 1.0 - float(special.chndtr(x, df, nc))
    return p if p > 1e-8 else float(stats.ncx2.sf(x, df, nc))


def rmsea_ci(T: float, df: int, N: float, level: float = 0.90, groups: int = 1):
    """Lower and upper RMSEA confidence limits (lavaan's ``lav_fit_rmsea_ci``; √G
    times the one-group limits for G ``groups``). ``df`` may be fractional (the scaled
    RMSEA's c·df); below 1 both limits are 0, as lavaan's."""
    if df <= 0 or not np.isfinite(T):
        return np.nan, np.nan
    if df < 1:
        return 0.0, 0.0

    # scipy.special's ufunc: stats.ncx2.cdf costs 0.4 ms a call in argument checks,
    # and the two roots need ~30 calls (half of a warm single fit's time)
    def ncp_for(prob):
        f = lambda lam: special.chndtr(T, df, lam) - prob
        if f(0.0) < 0:
            return 0.0
        hi = max(T, 1.0)
        while f(hi) > 0:
            hi *= 2
        return optimize.brentq(f, 0.0, hi, xtol=1e-12)

    a = (1 - level) / 2
    lo = ncp_for(1 - a)
    up = ncp_for(a)
    return math.sqrt(groups * lo / (N * df)), math.sqrt(groups * up / (N * df))


def srmr(S, Sigma, ybar=None, mu=None) -> float:
    """Bentler's standardised root mean square residual."""
    d = np.sqrt(np.diag(S))
    R = (S - Sigma) / np.outer(d, d)
    il = np.tril_indices(S.shape[0])
    ss, cnt = np.sum(R[il] ** 2), len(il[0])
    if ybar is not None and mu is not None:
        ss += np.sum(((ybar - mu) / d) ** 2)
        cnt += S.shape[0]
    return float(math.sqrt(ss / cnt))


def likelihood_only(llf: float, npar: int, N: float) -> pd.Series:
    """The fit measures of a model without a saturated model to compare with
    (definition variables: every case has its own implied moments): npar, logl, aic,
    bic (one group and several)."""
    return pd.Series({"npar": npar, "logl": llf, "aic": -2 * llf + 2 * npar,
                      "bic": -2 * llf + npar * math.log(N)})


def measure(name: str) -> property:
    """A results property that reads ``fit_measures[name]`` (``SEMResults`` and
    ``MultiGroupResults`` share their ``aic`` and ``bic`` this way)."""
    return property(lambda self: float(self.fit_measures[name]),
                    doc=f"``fit_measures['{name}']``")


def test_indices(T: float, df: int, Tb: float, dfb: int, N: float,
                 groups: int = 1) -> dict:
    """The indices that are functions of the test statistics T, T_b and their df:
    cfi, tli, nfi, rmsea with its 90 % interval and P(RMSEA ≤ .05). With G ``groups``
    the RMSEA and its interval are √G times the one-group ones and P(RMSEA ≤ .05) has
    the non-centrality N·df·.05²/G (lavaan's multiple-group RMSEA)."""
    out = {}
    num = max(T - df, 0.0)
    den = max(T - df, Tb - dfb, 0.0)
    out["cfi"] = 1.0 - num / den if den > 0 else 1.0
    if df > 0 and dfb > 0:
        t1, t2 = Tb / dfb, T / df
        out["tli"] = (t1 - t2) / (t1 - 1.0) if t1 != 1 else 1.0
    else:
        out["tli"] = 1.0
    out["nfi"] = (Tb - T) / Tb if Tb > 0 else np.nan
    if df > 0:
        out["rmsea"] = math.sqrt(groups * max(T - df, 0.0) / (N * df))
        out["rmsea.ci.lower"], out["rmsea.ci.upper"] = rmsea_ci(T, df, N, groups=groups)
        out["rmsea.pvalue"] = _ncx2_sf(T, df, N * df * 0.05 ** 2 / groups)
    else:
        out["rmsea"] = 0.0 if df == 0 else np.nan
        out["rmsea.ci.lower"] = out["rmsea.ci.upper"] = out["rmsea.pvalue"] = np.nan
    return out


def scaled(T: float, df: int, Tb: float, dfb: int, N: float, c: float, cb: float,
           groups: int = 1) -> dict:
    """lavaan's ``*.scaled`` measures from the scaling factors c (model) and c_b
    (baseline): T/c and T_b/c_b in place of T and T_b (``sem.scaled_test``; G
    ``groups`` as in ``test_indices``)."""
    Ts, Tbs = T / c, Tb / cb
    out = {"chisq.scaled": Ts, "df.scaled": df,
           "pvalue.scaled": float(special.chdtrc(df, Ts)) if df > 0 else np.nan,
           "chisq.scaling.factor": c, "baseline.chisq.scaled": Tbs,
           "baseline.df.scaled": dfb,
           "baseline.pvalue.scaled": float(special.chdtrc(dfb, Tbs)) if dfb > 0 else np.nan,
           "baseline.chisq.scaling.factor": cb}
    out.update({f"{k}.scaled": v
                for k, v in test_indices(Ts, df, Tbs, dfb, N, groups).items()})
    # lavaan 0.6.14 takes the scaled RMSEA's interval and P(RMSEA ≤ .05) from the ML
    # statistic T on c·df degrees of freedom (the same point value, T/c on df)
    if df > 0:
        lo, up = rmsea_ci(T, c * df, N, groups=groups)
        out["rmsea.ci.lower.scaled"], out["rmsea.ci.upper.scaled"] = lo, up
        out["rmsea.pvalue.scaled"] = _ncx2_sf(T, c * df, N * c * df * 0.05 ** 2 / groups)
    return out


def robust(T: float, df: int, Tb: float, dfb: int, N: float, c: float, cb: float,
           groups: int = 1) -> dict:
    """lavaan's ``*.robust`` measures (Brosseau-Liard, Savalei & Li 2012 for the RMSEA,
    Brosseau-Liard & Savalei 2014 for CFI and TLI) from a statistic T with scaling
    factor c and the baseline's T_b with c_b: the non-centrality T − c·df (the scaled
    statistic's T/c − df, times c) in place of T − df,

        CFI = 1 − max(T − c·df, 0) / max(T − c·df, T_b − c_b·df_b, 0)
        TLI = 1 − [(T − c·df)/df] / [(T_b − c_b·df_b)/df_b]      (not truncated)
        RMSEA = √(G·max(T − c·df, 0) / (N·df)),

    the 90 % interval √c times that of the scaled T/c on df, and P(RMSEA ≤ .05) from
    T/c on df with non-centrality N·df·.05²/(c·G). Complete data: T, T_b the ML
    statistics and c, c_b the Yuan–Bentler factors; FIML: Zhang & Savalei's T̃, c̃
    (``sem.scaled_test.fiml_corrected``)."""
    out = {}
    t1, tb1 = T - c * df, Tb - cb * dfb
    den = max(t1, tb1, 0.0)
    out["cfi.robust"] = 1.0 - max(t1, 0.0) / den if den > 0 else 1.0
    out["tli.robust"] = (1.0 - (t1 / df) / (tb1 / dfb)
                         if df > 0 and dfb > 0 and tb1 != 0 else 1.0)
    if df > 0 and np.isfinite(c):
        out["rmsea.robust"] = math.sqrt(groups * max(t1, 0.0) / (N * df))
        lo, up = rmsea_ci(T / c, df, N, groups=groups)
        out["rmsea.ci.lower.robust"] = math.sqrt(c) * lo
        out["rmsea.ci.upper.robust"] = math.sqrt(c) * up
        out["rmsea.pvalue.robust"] = _ncx2_sf(T / c, df, N * df * 0.05 ** 2 / (c * groups))
    else:
        out["rmsea.robust"] = 0.0 if df == 0 else np.nan
        out["rmsea.ci.lower.robust"] = out["rmsea.ci.upper.robust"] = np.nan
        out["rmsea.pvalue.robust"] = np.nan
    if not (np.isfinite(c) and np.isfinite(cb)):
        out["cfi.robust"] = out["tli.robust"] = np.nan
    return out


def compute(*, llf: float, ll_sat: float, ll_base: float, npar: int, n_moments: int,
            npar_base: int, N: float, S, Sigma, ybar=None, mu=None,
            groups: int = 1) -> dict:
    T = 2 * (ll_sat - llf)
    df = n_moments - npar
    Tb = 2 * (ll_sat - ll_base)
    dfb = n_moments - npar_base
    out = {"npar": npar, "ntotal": N, "logl": llf, "unrestricted.logl": ll_sat,
           "chisq": T, "df": df,
           "pvalue": float(special.chdtrc(df, T)) if df > 0 else np.nan,
           "baseline.chisq": Tb, "baseline.df": dfb,
           "baseline.pvalue": float(special.chdtrc(dfb, Tb)) if dfb > 0 else np.nan}
    out.update(test_indices(T, df, Tb, dfb, N, groups))
    out["aic"] = -2 * llf + 2 * npar
    out["bic"] = -2 * llf + npar * math.log(N)
    out["bic2"] = -2 * llf + npar * math.log((N + 2) / 24)
    out["srmr"] = srmr(np.asarray(S), np.asarray(Sigma), ybar, mu)
    return out
