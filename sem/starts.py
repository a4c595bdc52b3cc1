"""lavaan-style starting values from the sample moments.

* loadings: an instrumental-variable ratio in the spirit of lavaan's ``fabin``: for a
  factor with marker m, λ_j = median_k s_jk / s_mk over the other indicators k;
  with ``std_lv``, λ_j = √(½ s_jj);
* factor variances: mean over indicators k ≠ m of s_mk / λ_k (≥ 0.05, lavaan's
  default for latent variances);
* residual variances ½ s_jj (lavaan); regressions and covariances 0;
* intercepts at the sample means, latent means 0, except free latent means whose
  indicators' intercepts are fixed (growth models): the least-squares fit of the
  indicators' means on the loadings; exogenous covariates at their sample
  (co)variances and means;
* a user's ``start(v)*x`` or fixed value always wins.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from .batching import map_chunks
from .data import centred_moments


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


def complete_and_unweighted(stacked: dict) -> bool:
    """Every stacked data set complete, with equal case weights (no padding rows)."""
    w = stacked["w"]
    return bool(stacked["obs"].all() and (w == w[:, :1]).all())


def sample_moments_many(stacked: dict, datas: list) -> tuple[np.ndarray, np.ndarray]:
    """``sample_moments`` of many data sets, stacked: (D, p, p) and (D, p). ``stacked``
    is their ``sem.data.stack`` and ``datas`` the data sets themselves; one vectorised
    pass when all are complete and equally weighted (``complete_and_unweighted``):
    then they are the biased moments of the likelihood's summary as well."""
    Y = stacked["Y"]
    if complete_and_unweighted(stacked):
        return map_chunks(lambda idx: _centred_moments(Y, idx), Y.shape[0])
    S, mu = zip(*(sample_moments(d) for d in datas))
    return np.stack(S), np.stack(mu)


#: data sets per block of ``_centred_moments``: a block's centred copy stays in cache
MOMENT_BLOCK = 32


def _centred_moments(Y: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Biased covariances (len(idx), p, p) and means of the data sets ``Y[idx]``, over
    (D, p, n) (contiguous when Y is ``prepare_many``'s transposed view), in blocks of
    ``MOMENT_BLOCK`` data sets centred into one reused buffer (``centred_moments``)."""
    Z = np.swapaxes(Y, 1, 2)
    S = np.empty((len(idx), Z.shape[1], Z.shape[1]))
    mu = np.empty((len(idx), Z.shape[1]))
    buf = np.empty((min(MOMENT_BLOCK, len(idx)),) + Z.shape[1:])
    for lo in range(0, len(idx), MOMENT_BLOCK):
        hi = min(lo + MOMENT_BLOCK, len(idx))
        i, j = idx[lo], idx[hi - 1]
        # map_chunks' pieces are runs of consecutive data sets (but the padded last)
        block = Z[i:j + 1] if j - i == hi - 1 - lo else Z[idx[lo:hi]]
        centred_moments(block, mu[lo:hi], S[lo:hi], buf[:hi - lo])
    return S, mu


def check_start(start, k: int, order: str = "param_names") -> np.ndarray:
    """A user's start vector: ``k`` finite numbers in the order ``order`` names, else a
    ``SpecificationError`` (a wrong length failed deep in numpy, NaN gave a fit at
    −inf)."""
    from .errors import SpecificationError

    try:
        theta = np.asarray(start, dtype=float)
    except (TypeError, ValueError):
        theta = np.asarray([np.nan])
    if theta.shape != (k,) or not np.all(np.isfinite(theta)):
        raise SpecificationError(f"start must be {k} finite numbers, one per parameter "
                                 f"({order}), got shape {theta.shape}"
                                 + ("" if theta.shape != (k,) else " with non-finite values"))
    return theta


def table_rows(pt: pd.DataFrame) -> list:
    """The table's rows (without defined parameters) as records with attributes,
    computed once per model: ``fit_many`` needs start values for every data set.
    ``SimpleNamespace``, not ``itertuples``' rows, whose class pandas makes on the fly
    and ``pickle`` cannot find (a fitted model and its results pickle)."""
    return [SimpleNamespace(**r) for r in pt.to_dict("records") if r["op"] != ":="]


def nanmedian_rows(a: np.ndarray) -> np.ndarray:
    """Row medians of a (D, m) ignoring NaN (NaN for an all-NaN row), as
    ``np.nanmedian(a, axis=1)``. numpy's small-array path goes through masked arrays,
    0.8 ms a call, which was a fifth of a warm single fit of a three-factor CFA; this
    is a sort and two picks."""
    a = np.asarray(a, dtype=float)
    s = np.sort(a, axis=1)                                  # NaN sort last
    k = np.sum(~np.isnan(a), axis=1)
    rows = np.arange(a.shape[0])
    lo, hi = np.maximum((k - 1) // 2, 0), k // 2
    return np.where(k > 0, 0.5 * (s[rows, lo] + s[rows, hi]), np.nan)


def start_values(pt, vars_, S: np.ndarray, mu: np.ndarray, std_lv: bool) -> np.ndarray:
    """``pt``: the parameter table, or its ``table_rows``. ``S`` (p, p) and ``mu`` (p,)
    give θ (k,); a stack ``S`` (D, p, p), ``mu`` (D, p) gives (D, k) in one pass
    (``fit_many`` needs start values for thousands of data sets)."""
    S, mu = np.asarray(S, dtype=float), np.asarray(mu, dtype=float)
    if S.ndim == 2:
        return start_values(pt, vars_, S[None], mu[None], std_lv)[0]
    rows = table_rows(pt) if isinstance(pt, pd.DataFrame) else pt
    ov_idx = {v: i for i, v in enumerate(vars_.ov)}
    x_free = set(vars_.ov_x_free)
    D = S.shape[0]
    k = max((int(r.free) for r in rows), default=0)
    theta = np.zeros((D, k))
    done = np.zeros(k, dtype=bool)
    loadings: dict[str, dict[str, np.ndarray]] = {}

    def s(a, b):
        return S[:, ov_idx[a], ov_idx[b]]

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
                lam[j] = np.full(D, r.ustart if np.isfinite(r.ustart) else 1.0)
            elif j not in ov_idx:
                lam[j] = np.ones(D)
            elif std_lv or marker is None:
                lam[j] = np.sqrt(np.maximum(0.5 * s(j, j), 1e-4))
            else:
                others = [o for o in obs if o not in (j, marker)]
                smm = s(marker, marker)
                fallback = np.where(np.abs(smm) > 0, np.clip(
                    s(j, marker) / np.where(smm != 0, smm, 1.0) * 2, -10, 10), 1.0)
                if others:
                    den = np.stack([s(marker, o) for o in others], axis=1)
                    num = np.stack([s(j, o) for o in others], axis=1)
                    ok = np.abs(den) > 1e-8
                    ratios = np.where(ok, num / np.where(ok, den, 1.0), np.nan)
                    med = nanmedian_rows(ratios)         # all-NaN rows: the fallback
                    lam[j] = np.where(ok.any(axis=1), np.clip(med, -10, 10), fallback)
                else:
                    lam[j] = fallback
        loadings[f] = lam

    lv_means = _latent_means(rows, loadings, mu, ov_idx)
    for r in rows:
        p = int(r.free) - 1
        if p < 0 or done[p]:
            continue
        v = 0.0
        if np.isfinite(r.start):
            v = r.start
        elif r.op == "=~":
            v = loadings[r.lhs][r.rhs]
        elif r.op == "~1":
            v = mu[:, ov_idx[r.lhs]] if r.lhs in ov_idx else lv_means.get(r.lhs, 0.0)
        elif r.op == "~~":
            a, b = r.lhs, r.rhs
            if a in ov_idx and b in ov_idx:
                if r.exo or (a in x_free and b in x_free):   # covariates: sample values
                    v = s(a, b)
                elif a == b:
                    v = 0.5 * s(a, a)
            elif a == b:
                v = _factor_variance(loadings.get(a, {}), s, ov_idx)
        theta[:, p] = v
        done[p] = True
    return theta


def _latent_means(rows, loadings, mu, ov_idx) -> dict:
    """Starts of the free latent means where observed intercepts are fixed (a growth
    model, ``sem.growth``): the least-squares κ of ȳ_j − ν_j ≈ Σ_f λ_jf κ_f over the
    observed indicators j whose intercept is fixed (ν_j its value), with the start
    loadings, per data set. (lavaan 0.6.14 starts them at 0, ~58 away on the ECLS-K
    reading scores; from there BFGS spends its first iterations on the means.) {} when
    no latent mean is free."""
    free = [r.lhs for r in rows if r.op == "~1" and r.free > 0 and r.lhs not in ov_idx
            and r.lhs in loadings]
    nu = {r.lhs: r.ustart for r in rows
          if r.op == "~1" and r.free == 0 and r.lhs in ov_idx and np.isfinite(r.ustart)}
    inds = [j for j in ov_idx if j in nu and any(j in loadings[f] for f in free)]
    if not free or not inds:
        return {}
    D = mu.shape[0]
    A = np.stack([np.stack([np.broadcast_to(loadings[f].get(j, 0.0), (D,)) for f in free],
                           axis=-1) for j in inds], axis=1)                  # (D, m, q)
    b = np.stack([mu[:, ov_idx[j]] - nu[j] for j in inds], axis=1)          # (D, m)
    kappa = np.einsum("dqm,dm->dq", np.linalg.pinv(A), b)
    kappa = np.where(np.isfinite(kappa), kappa, 0.0)
    return {f: kappa[:, i] for i, f in enumerate(free)}


def _factor_variance(lam, s, ov_idx):
    """Mean over pairs of indicators of s_ab / (λ_a λ_b), at least 0.05 (lavaan's
    floor for latent variances); 0.05 with fewer than two usable indicators. (A
    loading within 1e-8 of zero in some data sets only drops that pair there.)"""
    obs = [j for j in lam if j in ov_idx]
    vals, used = 0.0, 0
    for a in range(len(obs)):
        for b in range(a + 1, len(obs)):
            ja, jb = obs[a], obs[b]
            ok = (np.abs(lam[ja]) > 1e-8) & (np.abs(lam[jb]) > 1e-8)
            den = np.where(ok, lam[ja] * lam[jb], 1.0)
            vals = vals + np.where(ok, s(ja, jb) / den, 0.0)
            used = used + ok
    v = vals / np.maximum(used, 1)
    return np.where((used >= 1) & (v > 0.05), v, 0.05)
