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
(co)variances among those observed variables and among the latent variables; with a
mean structure their intercepts and the latent means (a growth model's intercepts,
fixed at 0, are the usual large ones; sepc.all divides by the implied standard
deviation); and, in
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

With groups (``group_modification_indices``) every group has its own candidates, each
freed in its group alone, scored on the likelihood summed over the groups (so with
equal loadings a marker loading freed in one group is identified and tested, as
lavaan's); checked against lavaan on HS by school (``tests/sem/test_multigroup.py``).
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
from .standardized import covariates

COLUMNS = ["lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"]


def _default_candidates(pt: pd.DataFrame, vars_) -> list[tuple[str, str, str]]:
    """lavaan's "full" table of parameters that could be free (see the module):
    loadings of every latent on every observed non-covariate; (co)variances among the
    observed non-covariates, among the exogenous covariates and among the latent
    variables; with regressions in the model, every regression among the variables
    that take part in one (no self-loops, no indicator on its own kind of factor)."""
    # the covariates are lavaan's ov.x with fixed_x=False too (their moments free)
    ox = set(covariates(vars_))
    ov_nox = [v for v in vars_.ov if v not in ox]

    def pairs(names):
        return [(a, "~~", b) for i, a in enumerate(names) for b in names[i:]]

    out = [(f, "=~", v) for f in vars_.lv for v in ov_nox]
    out += pairs(ov_nox) + pairs(list(vars_.lv))
    if (pt["op"] == "~1").any():
        # with a mean structure the intercepts and latent means too: those fixed are
        # tested (a growth model's observed intercepts); a latent mean beside free
        # intercepts is not identified and is dropped
        out += [(v, "~1", "") for v in ov_nox + list(vars_.lv)]
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


def _extend(pt: pd.DataFrame, vars_, cand, exo: np.ndarray, k0: int):
    """The table ``pt`` (one group's rows, no ``:=``) with the candidates freed: fixed
    rows in place, the others appended, numbered from ``k0 + 1``. Returns (the
    extended table, the candidates (lhs, op, rhs), their indices into the extended θ,
    the values of the new entries). An exogenous moment (``exo``, a free entry of θ
    that lavaan holds fixed) is tested at its own index."""
    pos = {_key(r.lhs, r.op, r.rhs): i for i, r in enumerate(pt.itertuples())}
    ext = pt.copy()
    rows, cidx, value = [], [], []
    for lhs, op, rhs in dict.fromkeys(cand):
        i = pos.get(_key(lhs, op, rhs))
        k = k0 + len(value)
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
            ext.loc[ext.index[i], ["free", "ustart"]] = [k + 1, np.nan]
        else:
            value.append(0.0)
            ext.loc[len(pt) + 10_000 + k] = dict(
                ext.iloc[0].to_dict(), lhs=lhs, op=op, rhs=rhs, user=0, label="",
                free=k + 1, ustart=np.nan, exo=0, data="", start=np.nan)
        rows.append((lhs, op, rhs))
        cidx.append(k)
    return ext.reset_index(drop=True), rows, cidx, value


def _score_tests(prob, theta, data: dict, exo: np.ndarray, cidx, nobs: float):
    """(MI, EPC) of the candidates ``cidx`` of the extended problem ``prob`` at
    ``theta`` = (θ̂, candidate values); NaN for one not identified if freed."""
    key = ("sem-modindices", prob.cache_key())
    fns = cached_jit(key, lambda: lambda t, d: (jax.grad(prob.loglik)(t, d),
                                                prob.expected_information(t, d)))
    g, info = (np.asarray(a) for a in fns(jnp.asarray(theta),
                                          {kk: jnp.asarray(v) for kk, v in data.items()}))
    f = np.nonzero(~exo)[0]
    c = np.asarray(cidx)
    Ifc = info[np.ix_(f, c)]
    V = np.diag(info)[c] - np.einsum("ij,ij->j", Ifc, np.linalg.solve(info[np.ix_(f, f)],
                                                                     Ifc))
    gc = g[c]
    # lavaan's rule: a unit-information V below eps^(1/3) means the candidate is not
    # identified if freed (a marker loading, a covariance equivalent to a regression)
    ok = V / nobs >= np.finfo(float).eps ** (1 / 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, gc ** 2 / V, np.nan), np.where(ok, gc / V, np.nan)


def _finish(tab: pd.DataFrame, sort: bool, minimum: float) -> pd.DataFrame:
    """Drop the candidates without a test (lavaan's na.remove), then ``minimum`` and
    ``sort``."""
    tab = tab[np.isfinite(tab["mi"])]
    if minimum > 0:
        tab = tab[tab["mi"] >= minimum]
    if sort:
        tab = tab.sort_values("mi", ascending=False, kind="stable")
    return tab.reset_index(drop=True)


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
    exo = ~np.asarray(spec.reported, bool)       # the covariates' moments (fixed_x)
    ext, rows, cidx, value = _extend(pt[pt["op"] != ":="], vars_, cand, exo, k)
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    ram = RAM.from_partable(ext, vars_, spec.problem.meanstructure)
    m = len(value)
    prob = SEMProblem(ram, list(spec.names) + [f"mi{j}" for j in range(m)],
                      np.zeros(k + m, bool), meanstructure=spec.problem.meanstructure,
                      has_defvars=False)
    mi, epc = _score_tests(prob, np.r_[res.theta, value], res._summary, exo, cidx,
                           res.nobs)
    tab = pd.DataFrame(rows, columns=["lhs", "op", "rhs"])
    tab["mi"], tab["epc"] = mi, epc
    C, _ = res._implied_all()
    _, S, _ = spec.ram.matrices(jnp.asarray(res.theta))
    _standardize(tab, C, S, spec.ram.names, vars_)
    return _finish(tab[COLUMNS], sort, minimum)


def group_modification_indices(res, add: str | None = None, sort: bool = False,
                               minimum: float = 0.0) -> pd.DataFrame:
    """``modindices`` of a multiple-group fit (``MultiGroupResults``): every group's
    candidates (as one group's, each freed in its group alone), scored on the summed
    likelihood of all groups; a column ``group``. Equality constraints across groups
    are not candidates (lavaan's ``lavTestScore`` tests those)."""
    from .multigroup import MultiGroupProblem

    pt, vars_ = res.pt[res.pt["op"] != ":="], res.spec.vars
    k = len(res.theta)
    exo = res._exo                        # the covariates' moments (fixed_x)
    exts, rows, cidx, value, groups = [], [], [], [], []
    for g in range(len(res.groups)):
        pg = pt[pt["group"] == g + 1].reset_index(drop=True)
        cand = _default_candidates(pg, vars_)
        if add:
            cand += _parsed_candidates(add, vars_)
        ext, r, c, v = _extend(pg, vars_, cand, exo, k + len(value))
        exts.append(ext)
        rows += r
        cidx += c
        value += v
        groups += [g + 1] * len(r)
    if not rows:
        return pd.DataFrame(columns=COLUMNS[:3] + ["group"] + COLUMNS[3:])
    names = list(res.problem.param_names) + [f"mi{j}" for j in range(len(value))]
    zero = np.zeros(len(names), bool)
    prob = MultiGroupProblem([SEMProblem(RAM.from_partable(e, vars_, True), names, zero,
                                         meanstructure=True, has_defvars=False)
                              for e in exts], names)
    summ = prob.summarize(res.data)
    mi, epc = _score_tests(prob, np.r_[res.theta, value], summ, exo, cidx, res.nobs)
    tab = pd.DataFrame(rows, columns=["lhs", "op", "rhs"])
    tab["group"], tab["mi"], tab["epc"] = groups, mi, epc
    th = jnp.asarray(res.theta)
    parts = []
    for g, ram in enumerate(res._rams):
        part = tab[tab["group"] == g + 1].copy()
        C, _ = ram.implied_all(th)
        _, S, _ = ram.matrices(th)
        _standardize(part, C, S, ram.names, vars_)
        parts.append(part)
    return _finish(pd.concat(parts)[COLUMNS[:3] + ["group"] + COLUMNS[3:]], sort, minimum)


def _standardize(tab: pd.DataFrame, C, S, names, vars_) -> None:
    """sepc.lv, sepc.all, sepc.nox of each EPC with the fitted model's variances (C the
    implied covariances of all variables ``names``, S the (residual) covariances)."""
    C, S = np.asarray(C), np.asarray(S)
    idx = {v: i for i, v in enumerate(names)}
    sd = np.sqrt(np.maximum(np.diag(C), 0.0))
    psi = np.diag(S)
    lv = set(vars_.lv)
    ox = set(covariates(vars_))                     # free ones too, as lavaan
    out = {"sepc.lv": [], "sepc.all": [], "sepc.nox": []}
    for r in tab.itertuples():
        if r.op == "~1":
            # an intercept or mean: by the variable's model-implied standard deviation
            # (sepc.lv: latent means only)
            s_ = sd[idx[r.lhs]]
            out["sepc.lv"].append(r.epc / s_ if r.lhs in lv else r.epc)
            out["sepc.all"].append(r.epc / s_)
            out["sepc.nox"].append(r.epc / s_)
            continue
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
