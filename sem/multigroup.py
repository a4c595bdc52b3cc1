"""Multiple-group SEMs: lavaan's ``group=`` and ``group.equal=``.

``Model(syntax).fit(data, group="school", group_equal=("loadings", "intercepts"))``
fits the model in every group at once (groups in their order of first appearance, as
lavaan). As in lavaan:

* a mean structure is always present: intercepts free in every group, latent means
  fixed at 0, except that with equal intercepts (and no equal ``means``) the latent
  means are free in every group after the first; with ``std_lv=True`` and equal
  loadings (and no equal ``lv.variances``) the latent variances are fixed at 1 in the
  first group only;
* under FIML with ``fixed_x``, rows missing a covariate are dropped (DataWarning);
* a label (``a*x2``) names one parameter in all groups (an equality across groups);
  per-group modifiers ``c(a1, a2)*x2`` give each group its label (``c(a, a)``: one
  parameter) and ``c(1, NA)*x2`` its value (NA: free), one element per group;
* ``group_equal`` makes a kind of parameter equal across groups: "loadings",
  "intercepts", "means" (latent), "residuals" (observed residual variances),
  "residual.covariances", "lv.variances", "lv.covariances", "regressions". A
  parameter the user labels differently per group is exempt, and so are those named
  in ``group_partial`` (lavaan's ``group.partial``: ``("x3 ~ 1", "visual =~ x2")``);
  one whose counterpart in another group is fixed is fixed at that value
  (``sem.grouptable``);
* defined parameters (``:=``) and ``==`` constraints use the labels of any group; the
  defined ones come last in ``estimates`` with group 0 (delta-method SEs), and
  ``wald_test`` is lavaan's ``lavTestWald``;
* ``se="robust"`` (lavaan's ``estimator = "MLR"``): the sandwich I⁻¹ B I⁻¹ with the
  observed information and B from every group's per-case scores (complete data and
  FIML), and the Yuan–Bentler (Mplus) scaled test: c = [Σ_g tr(I₁g⁻¹ B₁g) −
  tr(I⁻¹ B)] / df, the unrestricted (and baseline) traces summed over the groups
  (``sem.scaled_test.group_scaling_factors``); ``sem.lrt`` then gives the
  Satorra–Bentler scaled difference;
* ``modindices()``: every group's candidates, each freed in its group alone, scored on
  the summed likelihood (``sem.modindices.group_modification_indices``).

The parameter table holds every group's rows (column ``group``, 1-based) with one
global numbering of the free parameters (``sem.grouptable``); each group's RAM reads
its entries of the global θ, and the log-likelihood is the sum of the groups'
(``MultiGroupProblem``, a problem of the shared engine: the optimiser, the
information matrices and their inversion are ``sem``'s own). Fit measures follow
lavaan's multi-group definitions: χ², df and the baseline summed over groups, RMSEA
and its interval scaled by √G (the scaled RMSEA too), SRMR the groups' SRMR weighted by
their sizes. Checked against lavaan 0.6.14 on the Holzinger–Swineford CFA by school
(``tests/sem/test_multigroup.py``; ``tests/data/make_lavaan_reference.R``):
configural, metric and scalar invariance and their anova, complete and FIML;
per-group labels overriding equal loadings with defined parameters, ``c(a, a)``,
values per group (configural and metric); partial scalar invariance
(``group_partial``); ``lavTestWald`` (ML and MLR); MLR metric
invariance (complete, FIML) and the MLR anova; modification indices (metric, and
configural under FIML).

As one group's results, with the one-group code (``sem.results``' shared
functions): ``rsquare`` (a column per group), ``residuals(type)`` ({group label:
the one-group result}), ``predict(data=None, method)`` (factor scores with the group
column, in the data's row order and index; each case with its group's parameters),
``standardized_solution()`` (delta-method SEs of ``group_std_function``) and
``se="none"`` (estimates only, NaN SEs). Equal to lavaan 0.6.14's
``lavInspect(fit, "r2")``, ``residuals`` (standardized ones too, for complete data),
``lavPredict`` (matched by ``lavInspect(fit, "case.idx")``) and ``standardizedSolution``
for metric invariance (complete and FIML), the scalar model, a latent regression and
labels with ``:=`` (``tests/data/lavaan_mg_{r2,residuals,resid_standardized,
factor_scores,std}.csv``).

Definition variables (``data.t1*y1``) work with groups as in one group: each case's
matrices from its own row; fit measures are then the log-likelihood, AIC and BIC
only, and R², residuals, modification indices and factor scores are refused.
"""
from __future__ import annotations

from functools import cached_property
from types import SimpleNamespace

import numpy as np
import pandas as pd

from . import data as _data
from . import fit_measures as _fm
from .diagnostics import (check_residual_type, check_score_method,
                          check_standardized_residual_fit, factor_scores,
                          moment_jacobian, residual_moments, rsquare_of,
                          standardized_table)
from .errors import DataError, SpecificationError
from .estimation import cached_jit, maximize, random_starts
from .grouptable import group_partable, param_names
from .initial_hessian import information_H0
from .partable import exogenous_params, model_key
from .inference import intervals, invert_information
from .jaxconfig import jnp
from .problem import SEMProblem
from .ram import RAM
from .results import (_information_kind, check_se, estimates_table, information_matrix,
                      robust_covariance)
from .saturated import baseline_loglik, block_loglik, column_roles, unrestricted
from .scaled_test import (free_rows, group_scaling_factors, model_moments,
                          robust_measures, trace_factors)
from .standardized import covariates, group_std_function, std_kind
from .starts import check_start, sample_moments, start_values, table_rows


class MultiGroupProblem:
    """Σ_g ℓ_g(θ): the groups' SEM problems on one global θ. Data dicts carry each
    group's arrays under keys "g:name" (plus the concatenated case weights "w"), so
    they stay flat dicts of arrays for the engine."""

    def __init__(self, problems, param_names):
        self.problems = list(problems)
        self.param_names = list(param_names)
        self.n_params = len(self.param_names)
        self.positive = np.zeros(self.n_params, bool)
        self.meanstructure = True
        self.has_defvars = any(p.has_defvars for p in self.problems)
        self._cache_key = ("sem-multigroup",) + tuple(p.cache_key() for p in problems)

    def cache_key(self):
        return self._cache_key

    @staticmethod
    def group(data: dict, g: int) -> dict:
        pre = f"{g}:"
        return {k[len(pre):]: v for k, v in data.items() if k.startswith(pre)}

    @staticmethod
    def join(groups) -> dict:
        out = {f"{g}:{k}": v for g, d in enumerate(groups) for k, v in d.items()}
        out["w"] = np.concatenate([np.asarray(d["w"]) for d in groups])
        return out

    def summarize(self, data):
        out = {f"{g}:{k}": v for g, p in enumerate(self.problems)
               for k, v in p.summarize(self.group(data, g)).items()}
        out["w"] = data["w"]
        return out

    summary_keys = None

    def loglik(self, theta, data):
        return sum(p.loglik(theta, self.group(data, g)) for g, p in enumerate(self.problems))

    def loglik_cases(self, theta, data):
        """Every case's contribution, the groups' cases one after the other (as the
        weights "w"): the per-case scores of the robust standard errors."""
        return jnp.concatenate([p.loglik_cases(theta, self.group(data, g))
                                for g, p in enumerate(self.problems)])

    def expected_information(self, theta, data):
        return sum(p.expected_information(theta, self.group(data, g))
                   for g, p in enumerate(self.problems))


def check_group_column(data, group: str, where: str = "",
                       absent=SpecificationError) -> None:
    """``data`` a DataFrame with the column ``group``, never missing (``where``
    prefixes the messages; ``absent`` is the error of a column that is not there)."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{where}data must be a DataFrame with the group column '{group}'")
    if group not in data.columns:
        raise absent(f"{where}the group column '{group}' is not in the data; the columns "
                     f"are: {', '.join(map(str, data.columns))}")
    if data[group].isna().any():
        raise DataError(f"{where}the group column '{group}' is missing in "
                        f"{int(data[group].isna().sum())} rows")


def group_problem(pt: pd.DataFrame, vars_, n_groups: int):
    """(each group's RAM, the ``MultiGroupProblem``) of a multiple-group table."""
    names = param_names(pt)
    k = len(names)
    rams = [RAM.from_partable(pt[pt["group"] == g + 1], vars_, True)
            for g in range(n_groups)]
    problems = [SEMProblem(r, names, np.zeros(k, bool), meanstructure=True,
                           has_defvars=bool(vars_.data_cols)) for r in rams]
    return rams, MultiGroupProblem(problems, names)


def fit_groups(model, data: pd.DataFrame, group: str, group_equal=(), group_partial=(), *,
               missing: str = "error", information=None, se: str = "standard",
               max_iter: int = 2000, weights=None, start=None, n_starts: int = 1,
               seed=0):
    """``Model.fit(data, group=...)``: see the module. ``weights`` (one per row of
    ``data``), ``start`` (θ in ``param_names`` order) and ``n_starts``/``seed`` (the
    start and jittered copies, ``sem.estimation.random_starts``) as in one group."""
    check_se(se)
    check_group_column(data, group)
    if weights is not None:
        weights = _data.check_weights(weights, len(data))
    labels = list(pd.unique(data[group]))
    if len(labels) < 2:
        raise DataError(f"group column '{group}' has a single value {labels}; fit "
                        "without group= instead")
    if isinstance(group_equal, str):       # one kind; "" none, as lavaan's
        group_equal = (group_equal,) if group_equal else ()
    pt, vars_ = group_partable(model.syntax, len(labels), group_equal, group_partial,
                               **model.options)
    ov = list(vars_.ov)
    # FIML with fixed_x: rows missing a covariate are dropped, with a DataWarning, as
    # in one group (and lavaan: the likelihood is conditional on the covariates)
    from .model import _complete_on_covariates, _warn_dropped

    # rows numbered by position, so that factor scores go back to the data's order
    index, data = data.index, data.reset_index(drop=True)
    data, weights, dropped = _complete_on_covariates(vars_.ov_x, data, weights, missing)
    _warn_dropped([dropped], vars_.ov_x)
    datas, rows = [], []
    for lab in labels:
        inside = (data[group] == lab).to_numpy()
        sub = data[inside]
        try:
            d = _data.prepare(sub, ov, missing=missing, defvars=vars_.data_cols,
                              weights=None if weights is None else weights[inside])
        except (DataError, SpecificationError) as e:
            raise type(e)(f"group {lab!r}: {e}") from None
        if missing != "ml":
            _data.check_sample_covariance(d, ov)
        datas.append(d)
        rows.append(_prepared_rows(sub, ov, missing, d))
    names = param_names(pt)
    k = len(names)
    parts = [pt[pt["group"] == g + 1] for g in range(len(labels))]
    rams, prob = group_problem(pt, vars_, len(labels))
    joined = prob.join(datas)
    # starts: each group's lavaan-style start, averaged over the groups that share
    if start is not None:
        theta0 = check_start(start, k)
    else:
        total, count = np.zeros(k), np.zeros(k)
        for p, d in zip(parts, datas):
            S, mu = sample_moments(d)
            t = start_values(table_rows(p), vars_, S, mu, model.options["std_lv"])
            used = np.unique(p.loc[p["free"] > 0, "free"].to_numpy() - 1)
            total[used] += t[used]
            count[used] += 1
        theta0 = total / np.maximum(count, 1)
    for lab, ram in zip(labels, rams):
        try:
            ram.check_nonsingular(theta0)
        except SpecificationError as e:
            raise SpecificationError(f"group {lab!r}: {e}") from None
    starts = random_starts(theta0, n_starts, seed, positive=prob.positive)
    # the groups' summaries, once: the first inverse Hessian's information and the
    # standard errors' take them (one compiled program for both)
    summary = prob.summarize(joined)
    opt = maximize(prob, joined, starts, max_iter=max_iter,
                   H0=information_H0(prob, theta0, summary))
    res = MultiGroupResults(model, pt, vars_, labels, rams, prob, joined, datas, opt,
                            information, missing, se, summary=summary)
    res.group_var, res._rows, res._index = group, rows, index
    return res


def _prepared_rows(sub: pd.DataFrame, ov, missing: str, d: dict) -> np.ndarray:
    """The positions (``sub``'s index) of the rows that ``sem.data.prepare`` kept in
    ``d``: those observing some variable, and, under listwise deletion, all."""
    obs = sub[list(ov)].notna().to_numpy()
    keep = obs.all(1) if missing == "listwise" else obs.any(1)
    out = sub.index.to_numpy()[keep]
    if len(out) != d["Y"].shape[0]:       # prepare's row rules changed: fail loudly
        raise RuntimeError("rows kept by sem.data.prepare not reproduced")
    return out


class MultiGroupResults:
    """A multiple-group fit: ``params``, ``bse``, ``estimates`` (with a ``group``
    column; defined parameters in group 0), ``llf``, ``fit_measures`` (with the scaled
    test for ``se="robust"``), ``aic``, ``bic``, ``nobs``, ``wald_test``;
    ``sem.lrt`` compares nested multiple-group fits (invariance testing)."""

    def __init__(self, model, pt, vars_, labels, rams, problem, data, datas, opt,
                 information, missing, se="standard", summary=None):
        self.model, self.pt, self.groups = model, pt, labels
        self._rams, self.problem, self.data, self._datas = rams, problem, data, datas
        self.opt, self.missing, self.se_type = opt, missing, se
        # what sem.lrt and sem.compare.wald_test read of a fit
        self.spec = SimpleNamespace(vars=vars_, pt=pt, problem=problem)
        self.information = _information_kind(information, missing, self.spec, se)
        self.theta = np.asarray(opt.theta, dtype=float)
        self.converged = bool(opt.converged)
        self.nobs = float(sum(np.sum(d["w"]) for d in datas))
        self.group_nobs = [float(np.sum(d["w"])) for d in datas]
        if se == "none":      # estimates only
            self.cov_theta = np.full((len(self.theta),) * 2, np.nan)
            self.identified = True
        else:
            self._vcov(problem, problem.summarize(data) if summary is None else summary)
        # the covariates' moments (fixed_x): one likelihood block per group
        xcols = column_roles(vars_)[0]
        self._ll_x = sum(block_loglik(d, xcols) for d in datas) if xcols else 0.0
        self.llf = float(opt.llf) - self._ll_x

    def _vcov(self, problem, summary):
        info = information_matrix(problem, self.theta, summary, self.information)
        inv = invert_information(info)
        self.identified = not inv.singular
        self.cov_theta = inv.cov
        if self.se_type == "robust":     # the sandwich from every group's case scores
            self._bread_inv = inv.cov
            self._meat, self.cov_theta = robust_covariance(problem, self.theta,
                                                           self.data, inv.cov)

    @property
    def params(self) -> pd.Series:
        return pd.Series(self.theta, index=self.problem.param_names)

    @property
    def bse(self) -> pd.Series:
        return pd.Series(np.sqrt(np.maximum(np.diag(self.cov_theta), 0)),
                         index=self.problem.param_names)

    @cached_property
    def estimates(self) -> pd.DataFrame:
        """lavaan's ``parameterEstimates(fit, standardized=TRUE)`` with ``group``; the
        defined parameters (``:=``) last, in group 0."""
        tab = estimates_table(self.pt, self.theta, self.cov_theta, ~self._exo,
                              columns=("lhs", "op", "rhs", "group", "label"))
        for kind in ("lv", "all"):
            tab[f"std.{kind}"] = self._standardized(kind)
        tab["std.nox"] = (self._standardized("nox") if covariates(self.spec.vars)
                          else tab["std.all"])
        return tab

    def _standardized(self, kind: str) -> np.ndarray:
        """std.lv, std.all or std.nox of every row, group by group; a defined parameter
        from the standardized values of the parameters (each at its first row), as
        lavaan's (``sem.standardized.group_std_function``)."""
        x = covariates(self.spec.vars)
        return np.asarray(cached_jit(
            ("sem-groups-std", kind, self._key),
            lambda: group_std_function(self.pt, self._rams, kind, x))(
            jnp.asarray(self.theta)))

    def standardized_solution(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002
        """lavaan's ``standardizedSolution(fit, type=)``: "std.all" (default),
        "std.lv" or "std.nox" of every row (with ``group``; the defined parameters
        last, in group 0) and its delta-method SEs
        (``sem.diagnostics.standardized_table``)."""
        kind = std_kind(type)
        return standardized_table(
            group_std_function(self.pt, self._rams, kind, covariates(self.spec.vars)),
            self.theta, self.cov_theta,
            self.estimates[["lhs", "op", "rhs", "group", "label"]],
            key=("sem-groups-std", type, self._key), exo=self._exo)

    def _moments(self, g: int):
        """Group ``g``'s RAM matrices (A, S, m) and implied moments of all variables."""
        th = jnp.asarray(self.theta)
        ram = self._rams[g]
        return ram.matrices(th), ram.implied_all(th)

    @property
    def rsquare(self) -> pd.DataFrame:
        """R² of every endogenous variable (observed first, then latent), one column
        per group (lavaan's ``lavInspect(fit, "r2")``, a vector per group)."""
        self._refuse_defvars("R²")
        cols = []
        for g, ram in enumerate(self._rams):
            (_, S, _), (C, _) = self._moments(g)
            cols.append(rsquare_of(ram, C, S))
        return pd.concat(cols, axis=1, keys=self.groups)

    def residuals(self, type: str = "raw") -> dict:
        """lavaan's ``residuals(fit, type=)``, group by group: {group label: the
        one-group result's {"type", "cov", "mean"}} (``SEMResults.residuals``; "raw",
        "cor" (cor.bollen), "normalized" or "standardized"; S and ȳ each group's
        unrestricted, FIML under missing values).

        "standardized" (complete data, no fixed covariates): group g's raw residuals
        over the SEs of ``standardized_residual_se`` with Δ_g the Jacobian of group g's
        moments in the global θ and Cov(θ̂) of all groups' parameters. That is lavaan's
        formula, Q_g = I − w_g Δ_g A₀⁻¹ Δ_gᵀ A₁,g with the group weight w_g = N_g / N and
        A₀⁻¹ = N Cov(θ̂), so w_g A₀⁻¹ = N_g Cov(θ̂): the one-group function with N_g.
        (Like lavaan's, it keeps only group g's own sample moments in the linearised
        residual: the other groups' moments also move θ̂ through the equal parameters,
        a term both leave out.) Equal to lavaan 0.6.14's, tests/sem/test_multigroup.py."""
        check_residual_type(type)
        self._refuse_defvars("residuals")
        ov = list(self.spec.vars.ov)
        theta = jnp.asarray(self.theta)
        out = {}
        for prob, lab, ram, d in zip(self.problem.problems, self.groups, self._rams,
                                     self._datas):
            Sigma, mu = ram.implied(theta)

            def std(prob=prob, d=d):
                check_standardized_residual_fit(self.information, self.se_type)
                return moment_jacobian(prob, self.theta, prob.summarize(d)), self.cov_theta

            out[lab] = residual_moments(d, Sigma, mu, ov, type, True,
                                        bool(self.spec.vars.ov_x), std)
        return out

    def predict(self, data: pd.DataFrame | None = None,
                method: str = "regression") -> pd.DataFrame:
        """Factor scores (lavaan's ``lavPredict``; ``SEMResults.predict``), each case
        scored with its group's parameters: a DataFrame with the group column (named as
        the group variable, holding its labels) and one column per latent variable, in
        the rows' order in the data (their index kept). ``data=None``: the fitted cases;
        otherwise a DataFrame with the group column, whose labels must be the fit's
        (cases observing none of the model's variables are left out, as lavaan's)."""
        check_score_method(method)
        self._refuse_defvars("factor scores")
        vars_ = self.spec.vars
        if not vars_.lv:
            raise SpecificationError("the model has no latent variables to score")
        gv = self.group_var
        if data is None:
            datas, rows, index = self._datas, self._rows, self._index
        else:
            check_group_column(data, gv, "predict(data): ", DataError)
            unknown = [v for v in pd.unique(data[gv]) if v not in self.groups]
            if unknown:
                raise DataError(f"predict(data): group value(s) {unknown} of '{gv}' are not "
                                f"groups of the fit ({self.groups})")
            index, frame = data.index, data.reset_index(drop=True)
            datas, rows = [], []
            for lab in self.groups:
                sub = frame[frame[gv] == lab]
                if sub.empty:
                    datas.append(None)
                    rows.append(np.zeros(0, int))
                    continue
                try:
                    d = _data.prepare(sub, list(vars_.ov), missing="ml")
                except (DataError, SpecificationError) as e:
                    raise type(e)(f"predict(data), group {lab!r}: {e}") from None
                datas.append(d)
                rows.append(_prepared_rows(sub, vars_.ov, "ml", d))
        parts = []
        for g, (lab, d, r) in enumerate(zip(self.groups, datas, rows)):
            if d is None:
                continue
            mats, (C, m) = self._moments(g)
            sc = factor_scores(d, self._rams[g], vars_, mats, C, m, True, method)
            part = pd.DataFrame(sc, columns=list(vars_.lv))
            part.insert(0, gv, [lab] * len(part))
            part["_row"] = r
            parts.append(part)
        out = pd.concat(parts, ignore_index=True).sort_values("_row", kind="stable")
        out.index = index[out["_row"].to_numpy()]
        return out.drop(columns="_row")

    @cached_property
    def fit_measures(self) -> pd.Series:
        if self.problem.has_defvars:     # no saturated model to compare with
            return _fm.likelihood_only(self.llf, self.n_params, self.nobs)
        # as the one-group baseline: the covariances among free exogenous covariates
        # (fixed_x=False) stay in it, a saturated block in every group
        xcols, xfree, ycols = column_roles(self.spec.vars)
        p, px, q, G = len(self.spec.vars.ov), len(xcols), len(xfree), len(self.groups)
        ll_sat = ll_base = 0.0
        residuals = []
        th = jnp.asarray(self.theta)
        for ram, d in zip(self._rams, self._datas):
            ls, S, ybar, _ = unrestricted(d)
            ll_sat += ls
            ll_base += baseline_loglik(d, ycols, xfree)
            Sigma, mu = (np.asarray(a) for a in ram.implied(th))
            residuals.append((float(np.sum(d["w"])),
                              _fm.group_measures(d, (S, ybar), Sigma, mu, x=xcols)))
        ll_sat -= self._ll_x
        n_mom = G * (p * (p + 1) // 2 - px * (px + 1) // 2 + (p - px))
        out = _fm.compute(llf=self.llf, ll_sat=ll_sat, ll_base=ll_base,
                          npar=self.n_params, n_moments=n_mom,
                          npar_base=G * (2 * (p - px) + q * (q - 1) // 2), N=self.nobs,
                          residuals=residuals, nel=G * _fm.moment_count(p, True),
                          groups=G)
        robust = self.se_type == "robust"
        if robust:                       # lavaan's MLR: the Yuan-Bentler scaled test
            df, dfb = out["df"], out["baseline.df"]
            tr0 = float(np.trace(self._bread_inv @ self._meat))
            c, cb = group_scaling_factors(self._datas, tr0, ycols, sorted(xcols + xfree),
                                          df, dfb)
            out.update(_fm.scaled(out["chisq"], df, out["baseline.chisq"], dfb,
                                  self.nobs, c, cb, groups=G))
            out["scaling.factor.h1"], out["scaling.factor.h0"] = trace_factors(
                self._datas, c, df, free_rows(self.pt), xcols)
        if robust or self.missing == "ml":
            # the *.robust indices of MLR, and of every FIML fit (as lavaan: Zhang &
            # Savalei's corrected statistics)
            out.update(robust_measures(
                out, self._datas, lambda: [
                    model_moments(prob, self.theta, d)
                    for prob, d in zip(self.problem.problems, self._datas)],
                self.missing, ycols, sorted(xcols + xfree), groups=G,
                fixed_x=bool(xcols), sandwich=robust))
        return _fm.ordered(out)

    def _refuse_defvars(self, what: str) -> None:
        """With definition variables every case has its own implied moments: what
        compares a group's moments with the model's is not defined (as in one group)."""
        if self.problem.has_defvars:
            raise NotImplementedError(f"{what} with definition variables (each case has "
                                      "its own implied moments)")

    @cached_property
    def _key(self) -> tuple:
        """The model structure (``sem.partable.model_key``)."""
        return model_key(self.problem, self.pt)

    @property
    def _exo(self) -> np.ndarray:
        """The θ entries that are fixed covariates' moments (not reported)."""
        return exogenous_params(self.pt, len(self.theta))

    @property
    def n_params(self) -> int:
        return int((~self._exo).sum())

    aic = _fm.measure("aic")
    bic = _fm.measure("bic")

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals of the free parameters (columns lower, upper)."""
        return intervals(self.params, self.bse, alpha)

    def wald_test(self, constraints: str) -> dict:
        """lavaan's ``lavTestWald(fit, constraints)`` on labels of any group and defined
        parameters, e.g. ``"a1 == a2"`` (``sem.compare.wald_test``)."""
        from .compare import wald_test

        return wald_test(self, constraints)

    def bollen_stine(self, n_boot: int = 1000, *, seed=0, chunk=None):
        """Not for several groups yet (lavaan transforms and resamples each group)."""
        raise NotImplementedError("the Bollen-Stine bootstrap of a multiple-group fit "
                                  "(one group only so far)")

    def score_test(self) -> dict:
        """lavaan's ``lavTestScore(fit)``: score tests of the equality constraints
        (``group_equal``, shared labels), all released ("test": X2, df, pvalue) and
        one by one ("uni": a row per constraint, named "lhs op rhs [group]"), from
        the expected information (``sem.score_test``)."""
        self._refuse_defvars("score tests")
        from .score_test import score_tests

        def problem_of(table):
            return group_problem(table, self.spec.vars, len(self.groups))[1]

        def label(r):
            return f"{r.lhs} {r.op} {r.rhs}".strip() + f" [{self.groups[int(r.group) - 1]}]"

        return score_tests(self.pt, problem_of, self.theta,
                           self.problem.summarize(self.data), self.nobs, label)

    def modindices(self, add: str | None = None, sort: bool = False,
                   minimum: float = 0.0) -> pd.DataFrame:
        """lavaan's ``modindices``: every group's candidates with a ``group`` column
        (``sem.modindices.group_modification_indices``)."""
        self._refuse_defvars("modification indices")
        from .modindices import group_modification_indices

        return group_modification_indices(self, add=add, sort=sort, minimum=minimum)

    def summary(self) -> str:
        """Print (and return) the fit and each group's estimates, as lavaan's summary
        prints them group by group (the defined parameters after them)."""
        fm = self.fit_measures
        lines = [f"trajmix/sem multiple groups ({len(self.groups)}): "
                 f"{'ended normally' if self.converged else 'did NOT converge'}",
                 "  Number of observations per group: " + ", ".join(
                     f"{g} {n:g}" for g, n in zip(self.groups, self.group_nobs))]
        if "chisq" in fm:       # not with definition variables
            lines.append(f"  Test statistic {fm['chisq']:.3f}, df {int(fm['df'])}, "
                         f"P-value {fm['pvalue']:.3f}")
        if self.se_type == "robust" and "chisq.scaled" in fm:
            lines.append(f"  Scaled test statistic (Yuan-Bentler) "
                         f"{fm['chisq.scaled']:.3f}, scaling factor "
                         f"{fm['chisq.scaling.factor']:.3f}, P-value "
                         f"{fm['pvalue.scaled']:.3f}")
        if "cfi" in fm:
            lines.append(f"  CFI {fm['cfi']:.3f}  TLI {fm['tli']:.3f}  "
                         f"RMSEA {fm['rmsea']:.3f}  SRMR {fm['srmr']:.3f}")
        lines += [f"  Loglikelihood {fm['logl']:.3f}  AIC {fm['aic']:.3f}  "
                  f"BIC {fm['bic']:.3f}",
                  f"  Standard errors: {self.se_type}"]
        tab = self.estimates
        cols = ["lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "std.all"]
        parts = [(f"Group {g + 1} [{lab}]:", tab[tab["group"] == g + 1])
                 for g, lab in enumerate(self.groups)]
        parts.append(("Defined parameters:", tab[tab["group"] == 0]))
        for title, part in parts:
            if len(part):
                lines += ["", title, part[cols].to_string(
                    index=False, float_format=lambda v: f"{v:.3f}")]
        text = "\n".join(lines)
        print(text)
        return text

    def __repr__(self):
        return (f"<MultiGroupResults: {len(self.groups)} groups {self.groups}, "
                f"{self.n_params} parameters, logl {self.llf:.3f}, "
                f"converged={self.converged}>")
