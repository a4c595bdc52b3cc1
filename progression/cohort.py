"""A synthetic TADPOLE-like cohort (ADNI data cannot be shipped).

Generative model (every number is a documented default in :data:`BIOMARKER_MODEL` and
the keyword arguments of :func:`simulate_cohort`; units are those of ADNIMERGE):

1. **Subjects.** Sex (55% male), education ~ N(16, 2.8²) years, APOE ε4 alleles
   0/1/2 with probabilities .53/.37/.10, baseline age ~ N(73.5, 7²) clipped to [55, 91],
   intracranial volume ICV ~ N(1.55·10⁶ (men) or 1.38·10⁶ (women), (1.2·10⁵)²) mm³.
2. **Latent disease time** (Jedynak et al. 2012; Schiratti et al. 2017, "leaspy"):
   s_i(t) = s0_i + α_i·t, with t the years since enrolment, the subject's stage at
   enrolment s0_i ~ N(−3 + 1.2·APOE4, 4.5²) and pace α_i = exp(ξ_i), ξ_i ~ N(0, 0.35²);
   the onset (the age at which s = 0) is AGE − s0_i/α_i.
3. **Biomarkers** follow monotone sigmoids of disease time plus normal ageing, a
   subject-specific offset and visit noise:
   y_ijk = base_k + amp_k·σ((s_ij − c_k)/w_k) + age_k·(age_ij − 73) + u_ik + ε_ijk,
   u_ik ~ N(0, τ_k²), ε_ijk ~ N(0, σ_k²), σ the logistic function; volumes
   (Ventricles, Hippocampus, WholeBrain) are then scaled by ICV_i / 1.5·10⁶. The centres
   c_k order the cascade of Jack et al. (2010): CSF Aβ first, then tau, FDG, hippocampus,
   whole brain and ventricles, cognition (ADAS13, MMSE, CDR-SB) last. ADAS13 is kept in
   [0, 85], MMSE rounded into [0, 30], CDR-SB rounded to halves in [0, 18].
4. **Diagnosis from cognition.** A clinician's rating g_ij = CDR-SB mean without
   measurement noise + the subject's CDR-SB offset + N(0, 0.5²) gives CN (g < 0.5), MCI
   (0.5 ≤ g < 4.5) or AD (g ≥ 4.5) — the CDR-SB staging of O'Bryant et al. (2008);
   dementia is absorbing (no reversion from AD), MCI→CN reversions happen through the
   rating noise, as in ADNI. With the defaults roughly 35% / 45% / 20% of subjects are
   CN / MCI / AD at enrolment, about 15% of MCI visits convert to AD by the next annual
   visit and 3–5% of CN visits to MCI (``docs/progression.md`` prints the realised rates).
5. **Visits.** Enrolment dates fall in ADNI's phases (2005–2016); visits at months 0,
   6, 12, (18), 24 and yearly after that, each date jittered by N(0, 15²) days, a
   scheduled visit missed with probability 0.08. **Dropout**: an exponential time with
   yearly hazard 0.05 + 0.05·α_i + 0.10·[AD at enrolment].
6. **Missing modalities.** MRI (Ventricles, Hippocampus, WholeBrain, ICV) at 85% of
   visits (95% at baseline); FDG-PET at baseline (60%) and then every second year (50%);
   CSF Aβ and tau at baseline (50%) and 15% of later visits; each cognitive score and
   the diagnosis missing at 3–5% of visits.
7. **The challenge's splits.** Data are cut at the submission deadline, 2017-11-15.
   **D1** = every visit until then (``d1``, with TADPOLE's ``D1``/``D2`` flags); **D2** =
   the visits of subjects still active (not dropped out, a visit in the last two years);
   **D3** = the last visit of each D2 subject, cross-sectional columns only; **D4** = the
   follow-up visits of D2 subjects in ``[2018-01-01, 2018-01-01 + d4_years)`` (a subject
   returns with probability ``d4_return``), in the challenge's D4 format with
   ``Ventricles`` divided by ICV_bl.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scipy.special import ndtr, ndtri

from sem.errors import check_count
from sem.estimation import seed_to_int

from .schema import forecast_months

# name: (base, amp, centre c, width w, ageing per year, subject sd τ, noise sd σ)
BIOMARKER_MODEL = {
    "ABETA": (1300.0, -650.0, -9.0, 2.0, -5.0, 200.0, 80.0),
    "TAU": (220.0, 180.0, -5.0, 2.0, 1.5, 45.0, 20.0),
    "FDG": (1.30, -0.28, -2.0, 1.8, -0.003, 0.07, 0.04),
    "Hippocampus": (7600.0, -2100.0, -2.5, 2.5, -45.0, 650.0, 150.0),
    "WholeBrain": (1.07e6, -1.1e5, -1.0, 2.5, -3500.0, 6.0e4, 8000.0),
    "Ventricles": (25000.0, 30000.0, 0.0, 2.5, 700.0, 8000.0, 1000.0),
    "ADAS13": (8.0, 45.0, 1.5, 2.5, 0.05, 3.0, 3.0),
    "MMSE": (29.2, -14.0, 2.0, 2.0, -0.02, 0.8, 1.0),
    "CDRSB": (0.0, 12.0, 2.0, 2.2, 0.0, 0.5, 0.6),
}
VOLUMES = ("Ventricles", "Hippocampus", "WholeBrain")
COGNITION = ("ADAS13", "MMSE", "CDRSB")
MRI = ("Ventricles", "Hippocampus", "WholeBrain", "ICV")
D3_COLUMNS = ("RID", "VISCODE", "EXAMDATE", "DX", "AGE", "PTGENDER", "PTEDUCAT", "ADAS13",
              "MMSE", "Ventricles", "Hippocampus", "WholeBrain", "ICV")
DEADLINE = "2017-11-15"
D4_START = "2018-01-01"
SCHEDULE_MONTHS = (0, 6, 12, 18, 24)  # then yearly
DX_THRESHOLDS = (0.5, 4.5)
ENROLMENT = (0.30, 0.50, 0.20)              # CN, MCI, AD at enrolment
APOE_BY_GROUP = ((0.72, 0.25, 0.03), (0.50, 0.39, 0.11), (0.34, 0.47, 0.19))
CN_STAGE = (-12.0, 3.0, -5.2)               # mean, sd, upper truncation
MCI_STAGE = (-4.7, 0.4)                       # uniform
AD_STAGE = (0.9, 1.5, 1.0)                    # offset, gamma shape, scale
AD_ONSET = 0.9                                # stage at which CDR-SB reaches 4.5
DROPOUT = (0.06, 0.35)                        # yearly hazard before / after dementia
PACE = (-0.40, 0.35, 0.10)                    # log pace: mean, sd, per APOE4 allele
RATING_SD = 0.8
DAY = np.timedelta64(1, "D")


@dataclass
class Cohort:
    """A simulated cohort and its challenge splits (module docstring)."""

    d1: pd.DataFrame              # all visits to the deadline (TADPOLE_D1_D2 layout)
    d2: pd.DataFrame              # visits of the subjects to forecast
    d3: pd.DataFrame              # their last visit, cross-sectional columns
    d4: pd.DataFrame              # follow-up visits for evaluation (challenge format)
    subjects: pd.DataFrame        # latent truth per subject (stage, pace, onset, ...)
    future: pd.DataFrame          # every follow-up visit with all its values (truth)
    months: list = field(default_factory=forecast_months)   # the 60 forecast months
    seed: int = 0

    @property
    def d2_subjects(self) -> np.ndarray:
        return pd.unique(self.d2["RID"])

    def summary(self) -> pd.Series:
        """Sizes and the realised diagnosis mix and conversion rates."""
        d1 = self.d1
        bl = d1.groupby("RID").first()
        cur = d1["DX"].astype("string").str.split().str[-1]
        nxt = cur.groupby(d1["RID"]).shift(-1)
        gap = pd.to_datetime(d1["EXAMDATE"]).groupby(d1["RID"]).diff(-1).dt.days.abs() / 365.25
        yearly = gap.between(0.75, 1.25)
        conv = {}
        for a, b in (("NL", "MCI"), ("MCI", "Dementia"), ("MCI", "NL")):
            base = yearly & (cur == a) & nxt.notna()
            conv[f"{a}->{b} per year"] = float(((nxt == b) & base).sum() / max(base.sum(), 1))
        dxbl = bl["DX"].astype("string").str.split().str[-1].value_counts(normalize=True)
        return pd.Series({
            "subjects": d1["RID"].nunique(), "visits": len(d1),
            "visits per subject": len(d1) / d1["RID"].nunique(),
            "D2 subjects": self.d2["RID"].nunique(), "D4 rows": len(self.d4),
            "baseline NL": float(dxbl.get("NL", 0)), "baseline MCI": float(dxbl.get("MCI", 0)),
            "baseline Dementia": float(dxbl.get("Dementia", 0)), **conv})


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _means(s, age, icv):
    """Noise-free biomarker means (n, p) at disease times ``s`` and ages ``age``."""
    out = {}
    for k, (base, amp, c, w, aging, _, _) in BIOMARKER_MODEL.items():
        m = base + amp * sigmoid((s - c) / w) + aging * (age - 73.0)
        out[k] = m * (icv / 1.5e6) if k in VOLUMES else m
    return out


def _measure(rng, s, age, icv, u):
    """Observed values (dict of arrays) at latent ``s``/``age`` for offsets ``u``."""
    mean = _means(s, age, icv)
    vals = {}
    for k, (_, _, _, _, _, _, sd) in BIOMARKER_MODEL.items():
        scale = icv / 1.5e6 if k in VOLUMES else 1.0
        vals[k] = mean[k] + (u[k] + rng.normal(0, sd, s.shape)) * scale
    vals["ADAS13"] = np.round(np.clip(vals["ADAS13"], 0, 85), 2)
    vals["MMSE"] = np.clip(np.round(vals["MMSE"]), 0, 30)
    vals["CDRSB"] = np.clip(np.round(vals["CDRSB"] * 2) / 2, 0, 18)
    vals["Ventricles"] = np.maximum(vals["Ventricles"], 4000.0)
    for k in ("ABETA", "TAU"):
        vals[k] = np.maximum(vals[k], 50.0)
    vals["ICV"] = icv * (1 + rng.normal(0, 0.015, s.shape))
    # the clinician judges the stage with an error of RATING_SD disease-years
    rating = _means(s + rng.normal(0, RATING_SD, s.shape), age, icv)["CDRSB"]
    vals["_dx"] = np.digitize(rating, DX_THRESHOLDS)       # 0 CN, 1 MCI, 2 AD
    return vals


def _subjects(rng, n):
    """Subjects enrolled by diagnostic group, as ADNI recruits them."""
    male = rng.random(n) < 0.55
    age = np.clip(rng.normal(73.5, 7.0, n), 55, 91)
    group = rng.choice(3, size=n, p=ENROLMENT)
    apoe = np.empty(n, int)
    for g in range(3):
        apoe[group == g] = rng.choice(3, size=int(np.sum(group == g)), p=APOE_BY_GROUP[g])
    # CN: N(−8, 3²) truncated above at −4 (inverse-CDF draw); MCI: U(−3.5, 1); AD: 1 + Γ(2, 1.2)
    mu, sd, top = CN_STAGE
    u_cn = rng.random(n) * ndtr((top - mu) / sd)
    s_cn = mu + sd * ndtri(np.clip(u_cn, 1e-12, None))
    s_mci = rng.uniform(*MCI_STAGE, n)
    s_ad = AD_STAGE[0] + rng.gamma(AD_STAGE[1], AD_STAGE[2], n)
    s0 = np.choose(group, [s_cn, s_mci, s_ad])
    pace = np.exp(rng.normal(PACE[0], PACE[1], n) + PACE[2] * apoe)
    icv = rng.normal(np.where(male, 1.55e6, 1.38e6), 1.2e5)
    educ = np.clip(np.round(rng.normal(16, 2.8, n)), 6, 20)
    phase = rng.choice(3, size=n, p=[0.4, 0.45, 0.15])
    lo = pd.to_datetime(["2005-09-01", "2009-09-01", "2013-07-01"]).values[phase]
    span = np.array([700, 1380, 1000])[phase]
    enrol = (lo + (rng.random(n) * span).astype("timedelta64[D]")).astype("datetime64[D]")
    u = {k: rng.normal(0, v[5], n) for k, v in BIOMARKER_MODEL.items()}
    return dict(male=male, apoe=apoe, age=age, s0=s0, pace=pace, icv=icv, educ=educ,
                enrol=enrol, u=u)


def simulate_cohort(n_subjects: int = 1000, *, seed=0, deadline: str = DEADLINE,
                    d4_years: float = 2.0, d4_return: float = 0.7,
                    miss_visit: float = 0.08) -> Cohort:
    """Simulate a cohort and its D1/D2/D3/D4 splits (module docstring).

    ``seed`` is an int or a ``jax.random`` key. Everything is vectorised over subjects,
    so 10 000 subjects take about a second.
    """
    if check_count(n_subjects, "n_subjects") < 10:
        raise ValueError("n_subjects must be at least 10")
    rng = np.random.default_rng(seed_to_int(seed))
    n = int(n_subjects)
    sub = _subjects(rng, n)
    cut = np.datetime64(deadline)
    d4_lo = np.datetime64(D4_START)
    d4_hi = d4_lo + np.timedelta64(int(round(d4_years * 365.25)), "D")
    months = np.array(list(SCHEDULE_MONTHS) + list(range(36, 12 * 14, 12)), float)
    V = len(months)
    # dropout: a background hazard, and a high one once demented
    t_ad = np.maximum(0.0, (AD_ONSET - sub["s0"]) / sub["pace"])
    drop_years = np.minimum(rng.exponential(1.0 / DROPOUT[0], n),
                            t_ad + rng.exponential(1.0 / DROPOUT[1], n))
    # scheduled visit dates (n, V), jittered
    days = months[None, :] * 30.44 + np.where(months[None, :] > 0,
                                              rng.normal(0, 15, (n, V)), 0.0)
    dates = sub["enrol"][:, None] + np.round(days).astype("timedelta64[D]")
    years = days / 365.25
    keep = (years <= drop_years[:, None]) & (dates <= cut)
    keep &= (rng.random((n, V)) >= miss_visit) | (months[None, :] == 0)
    keep &= (months[None, :] != 18) | (rng.random((n, 1)) < 0.5)
    # follow-up (D4) visits: active subjects returning in the D4 window
    last = np.where(keep, dates, np.datetime64("1900-01-01")).max(axis=1)
    enrol_years_at_cut = (cut - sub["enrol"]) / DAY / 365.25
    active = (drop_years > enrol_years_at_cut) & (last >= cut - np.timedelta64(730, "D"))
    back = active & (rng.random(n) < d4_return)
    first_f = d4_lo + (rng.random(n) * 0.6 * ((d4_hi - d4_lo) / DAY)).astype(
        "timedelta64[D]")
    second_f = first_f + np.round(rng.normal(365, 20, n)).astype("timedelta64[D]")
    fdates = np.stack([first_f, second_f], axis=1)
    fkeep = back[:, None] & (fdates < d4_hi)
    fkeep[:, 1] &= rng.random(n) < 0.8
    # one long table of visits: history then follow-up
    all_dates = np.concatenate([dates, fdates], axis=1)
    all_keep = np.concatenate([keep, fkeep], axis=1)
    is_future = np.concatenate([np.zeros((n, V), bool), np.ones((n, 2), bool)], axis=1)
    sched = np.concatenate([months, [-1, -1]])
    i_idx, v_idx = np.nonzero(all_keep)
    t = (all_dates[i_idx, v_idx] - sub["enrol"][i_idx]) / DAY / 365.25
    s = sub["s0"][i_idx] + sub["pace"][i_idx] * t
    age = sub["age"][i_idx] + t
    vals = _measure(rng, s, age, sub["icv"][i_idx], {k: v[i_idx] for k, v in sub["u"].items()})
    visits = _assemble(rng, sub, i_idx, all_dates[i_idx, v_idx], sched[v_idx],
                       is_future[i_idx, v_idx], s, vals)
    return _split(visits, sub, n, active, cut, seed)


def _assemble(rng, sub, i, dates, sched, future, s, vals) -> pd.DataFrame:
    m = len(i)
    df = pd.DataFrame({
        "RID": i + 1, "EXAMDATE": pd.to_datetime(dates), "_future": future,
        "_month": sched, "_s": s,
        "AGE": np.round(sub["age"][i], 1),
        "PTGENDER": np.where(sub["male"][i], "Male", "Female"),
        "PTEDUCAT": sub["educ"][i], "APOE4": sub["apoe"][i].astype(float),
    })
    for k in BIOMARKER_MODEL:
        df[k] = vals[k]
    df["ICV"] = vals["ICV"]
    df["_dx"] = vals["_dx"]
    df = df.sort_values(["RID", "EXAMDATE"], kind="stable").reset_index(drop=True)
    # dementia is absorbing: the running maximum of the AD indicator within a subject
    ad = (df["_dx"] == 2).groupby(df["RID"]).cummax().to_numpy()
    df["_dx"] = np.where(ad, 2, df["_dx"])
    base = df["_month"] == 0
    # missing modalities
    mri = rng.random(m) < np.where(base, 0.95, 0.85)
    for k in MRI:
        df.loc[~mri, k] = np.nan
    df.loc[rng.random(m) < 0.05, "Hippocampus"] = np.nan
    fdg = np.where(base, rng.random(m) < 0.6,
                   (df["_month"] % 24 == 0) & (rng.random(m) < 0.5))
    df.loc[~fdg & (df["_month"] >= 0), "FDG"] = np.nan
    csf = np.where(base, rng.random(m) < 0.5, rng.random(m) < 0.15)
    df.loc[~csf & (df["_month"] >= 0), ["ABETA", "TAU"]] = np.nan
    for k, p in (("ADAS13", 0.05), ("MMSE", 0.03), ("CDRSB", 0.03)):
        df.loc[rng.random(m) < p, k] = np.nan
    df["_dx_obs"] = np.where(rng.random(m) < 0.03, -1, df["_dx"])
    return df


def _tadpole_dx(df: pd.DataFrame) -> pd.Series:
    """TADPOLE's DX strings: NL / MCI / Dementia, 'MCI to Dementia' after a change."""
    names = np.array(["NL", "MCI", "Dementia"])
    code = df["_dx_obs"].to_numpy()
    prev = pd.Series(np.where(code >= 0, code, np.nan)).groupby(df["RID"]).transform(
        lambda x: x.ffill().shift(1)).to_numpy()
    cur = np.where(code >= 0, names[np.maximum(code, 0)], None)
    changed = (code >= 0) & ~np.isnan(prev) & (prev != code)
    out = np.where(changed, np.char.add(np.char.add(
        names[np.nan_to_num(prev, nan=0).astype(int)], " to "),
        names[np.maximum(code, 0)]), cur)
    return pd.Series(out, index=df.index, dtype=object).where(code >= 0, np.nan)


def _split(visits, sub, n, active, cut, seed) -> Cohort:
    hist = visits[~visits["_future"]].copy()
    fut = visits[visits["_future"]].copy()
    hist["DX"] = _tadpole_dx(hist)
    hist["VISCODE"] = np.where(hist["_month"] == 0, "bl",
                               "m" + hist["_month"].astype(int).astype(str).str.zfill(2))
    d2_rids = set(np.nonzero(active)[0] + 1) & set(hist["RID"])
    hist["D1"] = 1
    hist["D2"] = hist["RID"].isin(d2_rids).astype(int)
    cols = ["RID", "VISCODE", "EXAMDATE", "DX", "AGE", "PTGENDER", "PTEDUCAT", "APOE4",
            "ADAS13", "MMSE", "CDRSB", "Ventricles", "Hippocampus", "WholeBrain", "ICV",
            "FDG", "ABETA", "TAU", "D1", "D2"]
    hist["EXAMDATE"] = hist["EXAMDATE"].dt.strftime("%Y-%m-%d")
    d1 = hist[cols].reset_index(drop=True)
    d2 = d1[d1["D2"] == 1].reset_index(drop=True)
    d3 = d2.groupby("RID", sort=False).tail(1)[list(D3_COLUMNS)].reset_index(drop=True)
    fut = fut[fut["RID"].isin(d2_rids)].reset_index(drop=True)
    icv_bl = d1.groupby("RID")["ICV"].first()
    labels = np.array(["CN", "MCI", "AD"])
    when = fut["EXAMDATE"]
    scan = when + pd.to_timedelta(np.round(np.random.default_rng(
        seed_to_int(seed) + 1).normal(0, 10, len(fut))), unit="D")
    vent = fut["Ventricles"] / fut["RID"].map(icv_bl)
    d4 = pd.DataFrame({
        "RID": fut["RID"].to_numpy(),
        "CognitiveAssessmentDate": when.dt.strftime("%Y-%m-%d"),
        "Diagnosis": np.where(fut["_dx_obs"] >= 0, labels[fut["_dx"].clip(0, 2)], None),
        "ADAS13": fut["ADAS13"].to_numpy(),
        "ScanDate": np.where(vent.notna(), scan.dt.strftime("%Y-%m-%d"), None),
        "Ventricles": vent.to_numpy(),
    })
    d4["Diagnosis"] = d4["Diagnosis"].where(d4["Diagnosis"].notna(), np.nan)
    d4["ScanDate"] = d4["ScanDate"].where(d4["ScanDate"].notna(), np.nan)
    subjects = pd.DataFrame({
        "RID": np.arange(1, n + 1), "stage_bl": sub["s0"], "pace": sub["pace"],
        "onset_age": sub["age"] - sub["s0"] / sub["pace"], "AGE": sub["age"],
        "APOE4": sub["apoe"], "male": sub["male"], "ICV": sub["icv"],
        "enrolment": pd.to_datetime(sub["enrol"]), "D2": np.isin(np.arange(1, n + 1),
                                                                 list(d2_rids))})
    future = fut.drop(columns=["_future", "_month"]).rename(columns={"_s": "stage"})
    return Cohort(d1=d1, d2=d2, d3=d3, d4=d4, subjects=subjects, future=future,
                  seed=seed_to_int(seed))
