"""Null distributions of the split statistics, on the log scale.

Every function returns **log p**, so that splits whose p-values underflow (p < 1e-308,
common for a clear split at n = 1000) can still be ranked.

**χ²** (naive likelihood ratio, df = k; LM test of an unordered covariate with L
levels, df = k(L − 1)): scipy's ``chi2.logsf``.

**supLM / maxLR of a numeric covariate** (Andrews 1993; Hansen 1997; Zeileis & Hornik
2007). Under H0 the decorrelated cumulative score process is a k-dimensional Brownian
bridge B(t), and the statistic converges to

    sup_{π ≤ t ≤ 1−π}  ‖B(t)‖² / (t (1 − t)).

Like Andrews' and Hansen's tables (which ``strucchange::supLM`` interpolates), we
take the supremum over an equally spaced grid of 1000 points of t, simulated exactly:
with s = log(t / (1 − t)) the normalised bridge B(t)/√(t(1−t)) is a stationary
Ornstein–Uhlenbeck process with correlation exp(−|s − s'|/2), so the grid values are
an AR(1) recursion. ``n_rep`` replications are simulated once per (k, π) with a fixed
seed, kept in memory and on disk (``$TRAJMIX_CACHE/forests``, default
``~/.cache/trajmix/forests``). Beyond the largest simulated values the p-value
continues with the asymptotic tail of the sup of a squared Bessel process
(DeLong 1981; Estrella 2003),

    P(sup > x) ≈ x f_k(x) [ L (1 − k/x) + 2/x ],   L = 2 log((1 − π)/π),

f_k the χ²_k density, scaled to meet the simulated p-value where they join.
``tests/forests/test_pvalues.py`` checks these p-values against strucchange's
Hansen approximation and Andrews' (1993) critical values.

**maxLMo / maxLR of an ordered covariate** (Merkle, Fan & Zeileis 2014): the maximum
over the category boundaries t_1 < … < t_m only, max_l ‖B(t_l)‖² / (t_l(1 − t_l)).
Its distribution depends on the boundaries, so a bank of ``n_rep`` bridges on a grid of
t in steps of 1/200 is simulated once per k; a p-value takes the maximum over the grid
points nearest the boundaries (strucchange's ``ordL2BB`` simulates per call instead).
Far in the tail, where fewer than 50 simulated maxima exceed the statistic, it
continues with the union bound m · P(χ²_k > x), scaled to join.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from scipy import special, stats

N_REP = 10_000
GRID = 1000          # points of the supLM grid in t (Andrews 1993, Hansen 1997)
BANK_STEP = 200      # the ordinal bank holds t = 1/200, ..., 199/200
_TAIL_COUNT = 50     # switch to the analytic tail beyond this many exceedances
_SUP: dict = {}
_BANK: dict = {}


def _cache_dir() -> Path | None:
    root = os.environ.get("TRAJMIX_CACHE", os.path.join(os.path.expanduser("~"), ".cache",
                                                        "trajmix"))
    if root.lower() == "off":
        return None
    path = Path(root) / "forests"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # pragma: no cover - read-only home
        return None
    return path


def _cached(name: str, make):
    folder = _cache_dir()
    file = folder / f"{name}.npy" if folder else None
    if file is not None and file.exists():
        try:
            return np.load(file)
        except (OSError, ValueError):  # pragma: no cover - a torn file: rebuild
            pass
    arr = make()
    if file is not None:
        tmp = file.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, arr)
        os.replace(tmp, file)
    return arr


# -- χ² ----------------------------------------------------------------------------------
def chi2_logp(x, df):
    """log P(χ²_df > x)."""
    if df <= 0:
        return 0.0
    x = max(float(x), 0.0)
    p = float(special.chdtrc(df, x))
    if p > 1e-280:
        return math.log(p)
    return float(stats.chi2.logsf(x, df))


# -- supLM -------------------------------------------------------------------------------
def _ou_grid(lo: float, hi: float, grid: int) -> np.ndarray:
    """s = logit(t) at the grid points j/grid that lie in [lo, hi]."""
    j = np.arange(1, grid)
    t = j / grid
    t = t[(t >= lo - 1e-12) & (t <= hi + 1e-12)]
    return np.log(t / (1 - t))


def simulate_sup_lm(k: int, trim: float = 0.15, *, n_rep: int = N_REP, grid: int = GRID,
                    seed: int = 20070101) -> np.ndarray:
    """Sorted simulated values of sup ‖B(t)‖²/(t(1−t)) over the grid points in
    [trim, 1 − trim] (an exact AR(1) recursion of the normalised bridge)."""
    s = _ou_grid(trim, 1 - trim, grid)
    rng = np.random.default_rng([seed, k, int(round(trim * 1e6)), grid])
    U = rng.standard_normal((n_rep, k))
    best = np.einsum("rk,rk->r", U, U)
    for ds in np.diff(s):
        rho = math.exp(-ds / 2)
        U = rho * U + math.sqrt(1 - rho * rho) * rng.standard_normal((n_rep, k))
        np.maximum(best, np.einsum("rk,rk->r", U, U), out=best)
    return np.sort(best)


def sup_lm_table(k: int, trim: float = 0.15) -> np.ndarray:
    key = (int(k), round(float(trim), 6))
    if key not in _SUP:
        name = f"suplm_k{key[0]}_trim{key[1]:.6f}_g{GRID}_r{N_REP}"
        _SUP[key] = _cached(name, lambda: simulate_sup_lm(key[0], key[1]))
    return _SUP[key]


def sup_lm_log_tail(x: float, k: int, trim: float) -> float:
    """log of the asymptotic tail x f_k(x) [L(1 − k/x) + 2/x] (valid for x ≫ k)."""
    L = 2 * math.log((1 - trim) / trim)
    lead = (k / 2) * math.log(x) - x / 2 - (k / 2) * math.log(2) - special.gammaln(k / 2)
    return float(lead + math.log(max(L * (1 - k / x) + 2 / x, 1e-300)))


def _join_tail(sims: np.ndarray, x: float, log_tail) -> float:
    """Empirical p-value of ``x`` among ``sims``; beyond the ``_TAIL_COUNT`` largest
    simulated values, the analytic tail scaled to meet it."""
    n = sims.size
    exceed = int(np.count_nonzero(sims >= x))
    if exceed >= _TAIL_COUNT:
        return math.log((exceed + 1) / (n + 1))
    xs = float(np.partition(sims, n - _TAIL_COUNT)[n - _TAIL_COUNT])
    ps = math.log((_TAIL_COUNT + 1) / (n + 1))
    return min(ps, ps + log_tail(max(x, xs)) - log_tail(xs))


def sup_lm_logp(x: float, k: int, trim: float = 0.15) -> float:
    """log p of the supLM (or maxLR) statistic of a numeric covariate."""
    if not np.isfinite(x):
        return -np.inf if x > 0 else 0.0
    return _join_tail(sup_lm_table(k, trim), float(x),
                      lambda v: sup_lm_log_tail(v, k, trim))


# -- maxLMo ------------------------------------------------------------------------------
def _simulate_bank(k: int, n_rep: int = N_REP, seed: int = 20140101) -> np.ndarray:
    """‖B(t_g)‖²/(t_g(1−t_g)) at t_g = g/200, g = 1..199, for n_rep bridges (float32);
    B(t) = W(t) − t W(1) from Gaussian increments."""
    rng = np.random.default_rng([seed, k])
    t = np.arange(1, BANK_STEP) / BANK_STEP
    out = np.empty((n_rep, BANK_STEP - 1), dtype=np.float32)
    for lo in range(0, n_rep, 1000):
        hi = min(lo + 1000, n_rep)
        W = np.cumsum(rng.standard_normal((hi - lo, BANK_STEP, k)), axis=1)
        W /= math.sqrt(BANK_STEP)
        B = W[:, :-1] - t[None, :, None] * W[:, -1:]
        out[lo:hi] = np.einsum("rgk,rgk->rg", B, B) / (t * (1 - t))
    return out


def ordinal_bank(k: int) -> np.ndarray:
    k = int(k)
    if k not in _BANK:
        _BANK[k] = _cached(f"ordbank_k{k}_s{BANK_STEP}_r{N_REP}", lambda: _simulate_bank(k))
    return _BANK[k]


def max_lmo_logp(x: float, k: int, boundaries) -> float:
    """log p of max over the boundaries t_l of ‖B(t_l)‖²/(t_l(1−t_l))."""
    t = np.asarray(boundaries, dtype=float)
    if t.size == 0:
        return 0.0
    if not np.isfinite(x):
        return -np.inf if x > 0 else 0.0
    if t.size == 1:            # a single boundary: exactly χ²_k
        return chi2_logp(x, k)
    g = np.unique(np.clip(np.rint(t * BANK_STEP).astype(int), 1, BANK_STEP - 1)) - 1
    sims = ordinal_bank(k)[:, g].max(axis=1)
    m = t.size
    return _join_tail(sims, float(x), lambda v: math.log(m) + chi2_logp(v, k))


def to_p(logp: float) -> float:
    return float(math.exp(logp)) if np.isfinite(logp) else (0.0 if logp < 0 else 1.0)
