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
* the rest of lavaan's default set: fmin = T/(2N); NNFI = TLI; RFI = (T_b/df_b −
  T/df)/(T_b/df_b) (1 where negative); PNFI = (df/df_b)·NFI; IFI = (T_b − T)/(T_b −
  df); RNI = 1 − (T − df)/(T_b − df_b) (CFI untruncated); P(RMSEA ≥ .08), the "not
  close" p-value P(χ²_df(λ) ≤ T) with λ = N·df·.08²; Hoelter's critical N,
  CN_α = χ²_df,1−α / (T/N) + 1; McDonald's MFI = exp(−½ (T − df)/N); ECVI = (T +
  2q)/N; and, per group and weighted by n_g/N, the residual summaries (``residual_
  measures``: RMR, SRMR (Bentler), CRMR, SRMR (Mplus), each with and without the
  means) and Jöreskog's GFI with AGFI and PGFI

Under missing values (FIML), ℓ₁ and the sample moments come from the unrestricted
model fitted by FIML (``sem.saturated``), as lavaan's h1, and ℓ_b from the independence
model fitted by FIML, which factorises over variables.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .starts import sample_moments


#: lavaan's ``rmsea.close.h0`` and ``rmsea.notclose.h0``, and its RMSEA interval level
RMSEA_CLOSE, RMSEA_NOTCLOSE, RMSEA_LEVEL = 0.05, 0.08, 0.90


def _ncx2_sf(x: float, df: int, nc: float) -> float:
    """P(χ²_df(nc) > x). ``scipy.stats`` distributions spend ~140 µs a call in argument
    checks (three calls were a tenth of a warm fit), so the p-values go through
    ``scipy.special`` (``chdtrc``: χ² survival, exact); the non-central survival is
    1 − ``chndtr``, with ``stats.ncx2.sf`` where that falls below 1e-8 and the
    difference would lose its relative accuracy."""
    p = 1.0 - float(special.chndtr(x, df, nc))
    return p if p > 1e-8 else float(stats.ncx2.sf(x, df, nc))


def _ncx2_cdf(x: float, df: float, nc: float) -> float:
    """P(χ²_df(nc) ≤ x), lavaan's "not close" p-value (``scipy.special.chndtr``)."""
    return float(special.chndtr(x, df, nc))


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


def _rms(*parts, count: int) -> float:
    return float(math.sqrt(sum(float(np.sum(np.square(x))) for x in parts) / count))


def residual_measures(S, Sigma, ybar=None, mu=None) -> dict:
    """lavaan's residual summaries of one group: sample moments S, ȳ (biased
    covariances; the unrestricted FIML estimates under missing values) against the
    model's Σ̂, μ̂ (``ybar``/``mu`` None: no mean structure), as
    ``lav_residuals_summary`` and ``lav_fit_srmr_mplus``:

    * rmr: √(mean of (s_ij − σ̂_ij)² over i ≤ j), with the mean residuals (ȳ_i − μ̂_i)²
      in the sum and the count;
    * srmr_bentler: the residuals divided by √(s_ii s_jj), the means' by √s_ii;
    * crmr: correlation residuals r_ij − ρ̂_ij over i < j (the zero diagonal is
      summed but not counted), the means' as srmr_bentler's (lavaan rescales the
      implied means by the sample SDs here too);
    * srmr_mplus: the correlation residuals over i < j, ((s_ii − σ̂_ii)/s_ii)² and the
      means' ȳ_i/√s_ii − μ̂_i/√σ̂_ii, over p(p + 1)/2 (+ p) terms.

    Each ``*_nomean`` leaves the means out; without a mean structure both are equal."""
    S, Sigma = np.asarray(S, dtype=float), np.asarray(Sigma, dtype=float)
    p = S.shape[0]
    il = np.tril_indices(p)
    off = np.tril_indices(p, -1)
    R = S - Sigma
    d, ds = np.sqrt(np.diag(S)), np.sqrt(np.diag(Sigma))
    std = R / np.outer(d, d)
    cor = S / np.outer(d, d) - Sigma / np.outer(ds, ds)
    dvar = np.diag(R) / np.diag(S)
    ncov = len(il[0])
    out = {"rmr_nomean": _rms(R[il], count=ncov),
           "srmr_bentler_nomean": _rms(std[il], count=ncov),
           "crmr_nomean": _rms(cor[off], count=ncov - p) if p > 1 else np.nan,
           "srmr_mplus_nomean": _rms(cor[off], dvar, count=ncov)}
    means = ybar is not None and mu is not None
    if means:
        ybar, mu = np.asarray(ybar, dtype=float), np.asarray(mu, dtype=float)
        e = ybar - mu
        out["rmr"] = _rms(R[il], e, count=ncov + p)
        out["srmr_bentler"] = _rms(std[il], e / d, count=ncov + p)
        out["crmr"] = _rms(cor[off], e / d, count=ncov)
        out["srmr_mplus"] = _rms(cor[off], dvar, ybar / d - mu / ds, count=ncov + p)
    else:
        for k in ("rmr", "srmr_bentler", "crmr", "srmr_mplus"):
            out[k] = out[k + "_nomean"]
    out["srmr"] = out["srmr_bentler"]
    return out


def gfi(S, Sigma, ybar=None, mu=None, *, x=(), patterns=None) -> float:
    """Jöreskog's GFI as lavaan computes it for ML (``lav_fit_gfi``): 1 − e'Ve / s'Vs
    with s the sample moments (ȳ, vech S), e = s − (μ̂, vech Σ̂) and V the normal-theory
    information of the moments at the model's Σ̂ (lavaan's structured h1 expected
    information): ½ tr((Σ̂⁻¹(S − Σ̂))²) + (ȳ − μ̂)'Σ̂⁻¹(ȳ − μ̂) over ½ tr((Σ̂⁻¹S)²) +
    ȳ'Σ̂⁻¹ȳ (``ybar``/``mu`` None: no mean structure). V has no rows for the moments
    of fixed covariates (``x``, their positions: only s changes, their residuals
    being 0). Under missing values s are lavaan's sample statistics
    (``sem.starts.sample_moments``: available-case means, pairwise covariances) and
    V the expected information of the missingness ``patterns`` (their case weights
    (P,) and observed masks (P, p)): Σ_P n_P times the above with Σ̂_oo⁻¹, padded with
    zeros, for Σ̂⁻¹."""
    S, Sigma = np.asarray(S, dtype=float), np.asarray(Sigma, dtype=float)
    p = S.shape[0]
    means = ybar is not None and mu is not None
    x = list(x)
    R = S - Sigma
    Sv = S.copy()
    Sv[np.ix_(x, x)] = 0.0                     # no information on the covariates' moments
    if means:
        ybar = np.asarray(ybar, dtype=float)
        e, yv = ybar - np.asarray(mu, dtype=float), ybar.copy()
        yv[x] = 0.0
    if patterns is None:
        patterns = (np.ones(1), np.ones((1, p), bool))
    t1 = t2 = 0.0
    for w, o in zip(*patterns):
        K = np.zeros((p, p))
        K[np.ix_(o, o)] = np.linalg.inv(Sigma[np.ix_(o, o)])
        Kr, Ks = K @ R, K @ Sv
        t1 += w * (0.5 * np.sum(Kr * Kr.T) + (e @ K @ e if means else 0.0))
        t2 += w * (0.5 * np.sum(Ks * Ks.T) + (yv @ K @ yv if means else 0.0))
    return float(1.0 - t1 / t2)


def group_measures(data: dict, h1, Sigma, mu, *, x=()) -> dict:
    """``residual_measures`` and ``gfi`` of one group's prepared ``data``: ``h1`` its
    unrestricted moments (S, ȳ), Σ̂, μ̂ the model's (``mu`` None without a mean
    structure), ``x`` the fixed covariates' positions."""
    S, ybar = h1
    ybar = ybar if mu is not None else None
    out = residual_measures(S, Sigma, ybar, mu)
    w = np.asarray(data["w"], dtype=float)
    weights = np.asarray(data["onehot"], dtype=float).T @ w
    patterns = np.asarray(data["patterns"], dtype=bool)
    if not patterns[weights > 0].all():           # missing values: lavaan's statistics
        S, ybar_s = sample_moments(data)
        ybar = ybar_s if mu is not None else None
    out["gfi"] = gfi(S, Sigma, ybar, mu, x=x, patterns=(weights, patterns))
    return out


def moment_count(p: int, means: bool) -> int:
    """The sample moments of p variables as lavaan counts them for AGFI and PGFI (the
    covariates' included): p(p + 1)/2, and p means with a mean structure."""
    return p * (p + 1) // 2 + (p if means else 0)


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
    out["nnfi"] = out["tli"]
    out.update(incremental(T, df, Tb, dfb))
    if df > 0:
        out["rmsea"] = math.sqrt(groups * max(T - df, 0.0) / (N * df))
        out["rmsea.ci.lower"], out["rmsea.ci.upper"] = rmsea_ci(T, df, N, groups=groups)
        out["rmsea.pvalue"] = _ncx2_sf(T, df, N * df * RMSEA_CLOSE ** 2 / groups)
        out["rmsea.notclose.pvalue"] = _ncx2_cdf(
            T, df, N * df * RMSEA_NOTCLOSE ** 2 / groups)
    else:
        out["rmsea"] = 0.0 if df == 0 else np.nan
        out["rmsea.ci.lower"] = out["rmsea.ci.upper"] = out["rmsea.pvalue"] = np.nan
        out["rmsea.notclose.pvalue"] = np.nan
    return out


def incremental(T: float, df: float, Tb: float, dfb: float) -> dict:
    """NFI, RFI, PNFI, IFI and RNI with lavaan's conventions at the edges
    (``lav_fit_nfi`` ... ``lav_fit_rni``: NaN where the baseline has fewer df than the
    model or a zero statistic, 1 for a saturated model or a negative RFI)."""
    out = {}
    if df > dfb or Tb == 0:
        out["nfi"] = np.nan
    else:
        out["nfi"] = (Tb - T) / Tb if df > 0 else 1.0
    if df > dfb:
        out["rfi"] = np.nan
    elif df > 0 and dfb > 0:
        t1, t2 = Tb / dfb - T / df, Tb / dfb
        out["rfi"] = 1.0 if t1 < 0 or t2 < 0 else t1 / t2
    else:
        out["rfi"] = 1.0
    out["pnfi"] = (df / dfb) * (Tb - T) / Tb if dfb > 0 and Tb > 0 else np.nan
    t2 = Tb - df                          # R's all.equal(t2, 0): |t2| within 1.5e-8
    out["ifi"] = 1.0 if t2 < 0 else ((Tb - T) / t2 if abs(t2) > 1.5e-8 else np.nan)
    t2 = Tb - dfb
    out["rni"] = 1.0 - (T - df) / t2 if abs(t2) > 1.5e-8 else np.nan
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
        out["rmsea.pvalue.scaled"] = _ncx2_sf(T, c * df,
                                              N * c * df * RMSEA_CLOSE ** 2 / groups)
        out["rmsea.notclose.pvalue.scaled"] = _ncx2_cdf(
            T, c * df, N * c * df * RMSEA_NOTCLOSE ** 2 / groups)
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
    out["nnfi.robust"] = out["tli.robust"]
    out["rni.robust"] = 1.0 - t1 / tb1 if abs(tb1) > 1.5e-8 else np.nan
    if df > 0 and np.isfinite(c):
        out["rmsea.robust"] = math.sqrt(groups * max(t1, 0.0) / (N * df))
        lo, up = rmsea_ci(T / c, df, N, groups=groups)
        out["rmsea.ci.lower.robust"] = math.sqrt(c) * lo
        out["rmsea.ci.upper.robust"] = math.sqrt(c) * up
        out["rmsea.pvalue.robust"] = _ncx2_sf(T / c, df,
                                              N * df * RMSEA_CLOSE ** 2 / (c * groups))
        out["rmsea.notclose.pvalue.robust"] = _ncx2_cdf(
            T / c, df, N * df * RMSEA_NOTCLOSE ** 2 / (c * groups))
    else:
        out["rmsea.robust"] = 0.0 if df == 0 else np.nan
        out["rmsea.ci.lower.robust"] = out["rmsea.ci.upper.robust"] = np.nan
        out["rmsea.pvalue.robust"] = out["rmsea.notclose.pvalue.robust"] = np.nan
    if not (np.isfinite(c) and np.isfinite(cb)):
        out["cfi.robust"] = out["tli.robust"] = np.nan
        out["nnfi.robust"] = out["rni.robust"] = np.nan
    return out


def compute(*, llf: float, ll_sat: float, ll_base: float, npar: int, n_moments: int,
            npar_base: int, N: float, residuals, nel: int, groups: int = 1) -> dict:
    """lavaan's default fit measures (ML) from the log-likelihoods of the model, the
    unrestricted and the baseline model, and the groups' ``residuals``: (n_g,
    ``residual_measures`` of the group), weighted by n_g/N as lavaan's; ``nel`` the
    sample moments of all groups (``moment_count``)."""
    T = 2 * (ll_sat - llf)
    df = n_moments - npar
    Tb = 2 * (ll_sat - ll_base)
    dfb = n_moments - npar_base
    out = {"npar": npar, "fmin": T / (2 * N), "ntotal": N, "logl": llf,
           "unrestricted.logl": ll_sat, "chisq": T, "df": df,
           "pvalue": float(special.chdtrc(df, T)) if df > 0 else np.nan,
           "baseline.chisq": Tb, "baseline.df": dfb,
           "baseline.pvalue": float(special.chdtrc(dfb, Tb)) if dfb > 0 else np.nan}
    out.update(test_indices(T, df, Tb, dfb, N, groups))
    out["aic"] = -2 * llf + 2 * npar
    out["bic"] = -2 * llf + npar * math.log(N)
    out["bic2"] = -2 * llf + npar * math.log((N + 2) / 24)
    out.update({"rmsea.ci.level": RMSEA_LEVEL, "rmsea.close.h0": RMSEA_CLOSE,
                "rmsea.notclose.h0": RMSEA_NOTCLOSE})
    for n_g, res in residuals:
        for k, v in res.items():
            out[k] = out.get(k, 0.0) + n_g / N * v
    gfi = out["gfi"]
    out["agfi"] = 1.0 - nel / df * (1.0 - gfi) if df > 0 else 1.0
    out["pgfi"] = df / nel * gfi
    for alpha, key in ((0.05, "cn_05"), (0.01, "cn_01")):
        out[key] = hoelter(T, df, N, alpha)
    out["mfi"] = math.exp(-0.5 * (T - df) / N)
    out["ecvi"] = T / N + 2 * npar / N
    return out


def hoelter(T: float, df: int, N: float, alpha: float) -> float:
    """Hoelter's critical N: the sample size at which T would be significant at
    ``alpha``, χ²_df,1−α / (T/N) + 1 (lavaan's ``lav_fit_cn``; NaN for a saturated
    model that fits exactly)."""
    if df == 0 and T < np.finfo(float).eps:
        return np.nan
    q = float(special.chdtri(df, alpha)) if df > 0 else 0.0
    with np.errstate(divide="ignore"):
        return float(np.float64(q) / (T / N) + 1.0)


#: lavaan 0.6.14's order of ``fitMeasures(fit)`` (ML and MLR); ``ordered`` follows it
ORDER = """npar fmin chisq df pvalue chisq.scaled df.scaled pvalue.scaled
chisq.scaling.factor baseline.chisq baseline.df baseline.pvalue baseline.chisq.scaled
baseline.df.scaled baseline.pvalue.scaled baseline.chisq.scaling.factor cfi tli
cfi.scaled tli.scaled cfi.robust tli.robust nnfi rfi nfi pnfi ifi rni nnfi.scaled
rfi.scaled nfi.scaled pnfi.scaled ifi.scaled rni.scaled nnfi.robust rni.robust logl
unrestricted.logl aic bic ntotal bic2 scaling.factor.h1 scaling.factor.h0 rmsea
rmsea.ci.lower rmsea.ci.upper rmsea.ci.level rmsea.pvalue rmsea.close.h0
rmsea.notclose.pvalue rmsea.notclose.h0 rmsea.scaled rmsea.ci.lower.scaled
rmsea.ci.upper.scaled rmsea.pvalue.scaled rmsea.notclose.pvalue.scaled rmsea.robust
rmsea.ci.lower.robust rmsea.ci.upper.robust rmsea.pvalue.robust
rmsea.notclose.pvalue.robust rmr rmr_nomean srmr srmr_bentler srmr_bentler_nomean crmr
crmr_nomean srmr_mplus srmr_mplus_nomean cn_05 cn_01 gfi agfi pgfi mfi ecvi""".split()


def ordered(out: dict) -> pd.Series:
    """The measures as a Series in lavaan's order (any others after them)."""
    rank = {k: i for i, k in enumerate(ORDER)}
    return pd.Series({k: out[k] for k in sorted(out, key=lambda k: rank.get(k, len(rank)))})
