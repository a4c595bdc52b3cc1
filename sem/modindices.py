"""Modification indices: univariate score tests of fixed-to-zero parameters (lavaan's
``modindices``).

For a fitted model θ̂ and candidate parameters c fixed at 0, with ℓ the total
log-likelihood and I the information of the model extended by the candidates (all of
them, at θ* = (θ̂, 0)):

    g_c = ∂ℓ/∂θ_c(θ*),    V_c = I_cc − I_cf I_ff⁻¹ I_fc   (the c-th diagonal only),
    MI_c = g_c² / V_c,    EPC_c = g_c / V_c,

one χ²(1) score test per candidate (each freed alone, the free parameters re-fitted to
first order). The information is the expected one, lavaan's default for ``modindices``.
The standardized EPCs scale EPC with the current model's variances: ``sepc.lv`` by the
latent standard deviations, ``sepc.all`` by all of them (in both, a (residual)
covariance by the residual standard deviations, lavaan's ``cov.std = TRUE``: of an
endogenous latent variable too), ``sepc.nox`` as ``sepc.all`` but not by the standard
deviation of an exogenous covariate.

**Candidates** are lavaan's "full" parameter table less the model's free parameters:
the loading of every latent on every observed variable that is not an exogenous
covariate (fixed or, with ``fixed_x=False``, free: lavaan's ov.x either way); the
(co)variances among those observed variables and among the latent variables; and, in
a model with regressions, every regression among the variables that take part in one
(no self-loops, no indicator on a factor). Fixed
parameters are freed in place (a marker loading, which is then not identified, gets
no test and is dropped, as lavaan's ``na.remove``: lavaan's rule, unit-information
V < ε^(1/3)). ``add=`` (lavaan syntax, e.g. "x7 ~ x1") adds candidates.

Two deliberate differences from lavaan 0.6.14, both in ``tests/sem/test_modindices.py``:
regressions *of* the exogenous covariates (``ageyr ~ visual``) and the covariates'
fixed moments (MI ≈ 0) are not candidates, since under ``fixed_x`` the likelihood is
conditional on the covariates and neither is a parameter of it (lavaan's values for
the former also depend on how it folds the fixed moments in); and a residual
covariance that lavaan drops as unidentified but that is identified (``x4 ~~ x7`` in
``x4 ~ x1 + ageyr; x7 ~ x4``: freeing it lowers χ² by 1.52) gets its test (1.356).
Every value the two share agrees to lavaan's printed digits (HS CFA, PD, an orthogonal
CFA, FIML, a MIMIC model, a path model).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import SpecificationError
from .estimation import cached_jit
from .jaxconfig import jax, jnp
from .partable import _key, build_partable
from .problem import SEMProblem
from .ram import RAM

COLUMNS = ["lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"]


def _default_candidates(pt: pd.DataFrame, vars_) -> list[tuple[str, str, str]]:
    """lavaan's "full" table of parameters that could be free (see the module):
    loadings of every latent on every observed non-covariate; (co)variances among the
    observed non-covariates, among the exogenous covariates and among the latent
    variables; with regressions in the model, every regression among the variables
    that take part in one (no self-loops, no indicator on its own kind of factor)."""
    # the covariates are lavaan's ov.x with fixed_x=False too (their moments free)
    ox = set(vars_.ov_x) | set(vars_.ov_x_free)
    ov_nox = [v for v in vars_.ov if v not in ox]

    def pairs(names):
        return [(a, "~~", b) for i, a in enumerate(names) for b in names[i:]]

    out = [(f, "=~", v) for f in vars_.lv for v in ov_nox]
    out += pairs(ov_nox) + pairs(list(vars_.lv))
    reg = pt[pt["op"] == "~"]
    if len(reg):
        eqs = list(dict.fromkeys(list(reg["lhs"]) + list(reg["rhs"])))
        # regressions of the covariates: candidates where their moments are free
        # (fixed_x=False); under fixed_x not parameters of the conditional likelihood
        ind, lv, fx = set(vars_.ov_ind), set(vars_.lv), set(vars_.ov_x)
        out += [(y, "~", x) for y in eqs for x in eqs
                if y != x and not (y in ind and x in lv) and y not in fx]
    return out


def _parsed_candidates(add: str, vars_) -> list[tuple[str, str, str]]:
    pt, _ = build_partable(add, auto_fix_first=False, fixed_x=False)
    known = set(vars_.ov) | set(vars_.lv)
    user = pt[pt["user"] == 1]
    out = []
    for r in user.itertuples():
        if r.op not in ("=~", "~", "~~"):
            raise SpecificationError(f"modindices: add= takes '=~', '~' and '~~' "
                                     f"parameters, not '{r.lhs} {r.op} {r.rhs}'")
        unknown = sorted({r.lhs, r.rhs} - known)
        if unknown:
            raise SpecificationError(f"modindices: add= names {unknown}, which the "
                                     f"model does not have (its variables: "
                                     f"{sorted(known)})")
        out.append((r.lhs, r.op, r.rhs))
    return out


def modification_indices(res, add: str | None = None, sort: bool = False,
                         minimum: float = 0.0) -> pd.DataFrame:
    """lavaan's ``modindices(fit)`` for ``SEMResults`` ``res`` (see the module)."""
    spec = res.spec
    if spec.problem.has_defvars:
        raise NotImplementedError("modification indices with definition variables")
    if spec.problem.positive.any():
        raise NotImplementedError("modification indices with positive_variances=True")
    pt, vars_ = spec.pt, spec.vars
    cand = _default_candidates(pt, vars_)
    if add:
        cand += _parsed_candidates(add, vars_)
    k = int(pt["free"].max() or 0)
    pos = {_key(r.lhs, r.op, r.rhs): i for i, r in enumerate(pt.itertuples())}
    ext = pt[pt["op"] != ":="].copy()
    exo = ~np.asarray(spec.reported, bool)       # the covariates' moments (fixed_x)
    rows, cidx, value, new = [], [], [], []
    for lhs, op, rhs in dict.fromkeys(cand):
        key = _key(lhs, op, rhs)
        i = pos.get(key)
        if i is not None:
            r = pt.iloc[i]
            if r["free"] > 0 and not exo[r["free"] - 1]:
                continue                           # a free parameter of the model
            lhs, rhs = r["lhs"], r["rhs"]          # the model's own orientation
            if r["free"] > 0:                      # an exogenous moment: fixed in lavaan
                rows.append((lhs, op, rhs))
                cidx.append(int(r["free"]) - 1)
                continue
            value.append(float(r["ustart"]) if np.isfinite(r["ustart"]) else 0.0)
            ext.loc[ext.index[i], ["free", "ustart"]] = [k + 1 + len(new), np.nan]
        else:
            value.append(0.0)
            ext.loc[len(pt) + 10_000 + len(new)] = dict(
                ext.iloc[0].to_dict(), lhs=lhs, op=op, rhs=rhs, user=0, label="",
                free=k + 1 + len(new), ustart=np.nan, exo=0, data="", start=np.nan)
        new.append(len(rows))
        rows.append((lhs, op, rhs))
        cidx.append(k + len(new) - 1)
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    ext = ext.reset_index(drop=True)
    ram = RAM.from_partable(ext, vars_, spec.problem.meanstructure)
    m = len(new)
    prob = SEMProblem(ram, list(spec.names) + [f"mi{j}" for j in range(m)],
                      np.zeros(k + m, bool), meanstructure=spec.problem.meanstructure,
                      has_defvars=False)
    theta = jnp.asarray(np.r_[res.theta, value])
    data = {kk: jnp.asarray(v) for kk, v in res._summary.items()}
    key = ("sem-modindices", prob.cache_key())
    fns = cached_jit(key, lambda: lambda t, d: (jax.grad(prob.loglik)(t, d),
                                                prob.expected_information(t, d)))
    g, info = (np.asarray(a) for a in fns(theta, data))
    f = np.nonzero(~exo)[0]
    c = np.asarray(cidx)
    Ifc = info[np.ix_(f, c)]
    V = np.diag(info)[c] - np.einsum("ij,ij->j", Ifc, np.linalg.solve(info[np.ix_(f, f)],
                                                                     Ifc))
    gc = g[c]
    # lavaan's rule: a unit-information V below eps^(1/3) means the candidate is not
    # identified if freed (a marker loading, a covariance equivalent to a regression)
    ok = V / res.nobs >= np.finfo(float).eps ** (1 / 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(ok, gc ** 2 / V, np.nan)
        epc = np.where(ok, gc / V, np.nan)
    tab = pd.DataFrame(rows, columns=["lhs", "op", "rhs"])
    tab["mi"], tab["epc"] = mi, epc
    # a candidate that would leave the model unidentified has no test (V = 0):
    # dropped, as lavaan's na.remove
    tab = tab[np.isfinite(mi)].reset_index(drop=True)
    _standardize(tab, res, spec)
    tab = tab[COLUMNS]
    if minimum > 0:
        tab = tab[tab["mi"] >= minimum]
    if sort:
        tab = tab.sort_values("mi", ascending=False, kind="stable")
    return tab.reset_index(drop=True)


def _standardize(tab: pd.DataFrame, res, spec) -> None:
    """sepc.lv, sepc.all, sepc.nox of each EPC with the fitted model's variances."""
    C, _ = res._implied_all()
    _, S, _ = spec.ram.matrices(jnp.asarray(res.theta))
    C, S = np.asarray(C), np.asarray(S)
    idx = {v: i for i, v in enumerate(spec.ram.names)}
    sd = np.sqrt(np.maximum(np.diag(C), 0.0))
    psi = np.diag(S)
    lv = set(spec.vars.lv)
    ox = set(spec.vars.ov_x) | set(spec.vars.ov_x_free)     # free ones too, as lavaan
    out = {"sepc.lv": [], "sepc.all": [], "sepc.nox": []}
    for r in tab.itertuples():
        a, b, e = idx[r.lhs], idx[r.rhs], r.epc
        sdl = {v: (sd[idx[v]] if v in lv else 1.0) for v in (r.lhs, r.rhs)}
        if r.op == "=~":
            lv_, all_ = e * sd[a], e * sd[a] / sd[b]
            nox = all_
        elif r.op == "~":
            lv_ = e * sdl[r.rhs] / sdl[r.lhs]
            all_ = e * sd[b] / sd[a]
            nox = e / sd[a] if r.rhs in ox else all_
        else:
            # a (residual) covariance: as sepc.all, by the residual standard deviations
            # of the latent variables it joins (lavaan's cov.std), observed ones by 1
            rl = {v: (np.sqrt(psi[idx[v]]) if v in lv else 1.0) for v in (r.lhs, r.rhs)}
            lv_ = e / (rl[r.lhs] * rl[r.rhs]) if rl[r.lhs] * rl[r.rhs] > 0 else np.nan
            all_ = e / np.sqrt(psi[a] * psi[b]) if psi[a] * psi[b] > 0 else np.nan
            nox = all_
        out["sepc.lv"].append(lv_)
        out["sepc.all"].append(all_)
        out["sepc.nox"].append(nox)
    for c, v in out.items():
        tab[c] = v
