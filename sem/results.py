"""``SEMResults``: estimates, standard errors, fit measures and a lavaan-like summary."""
from __future__ import annotations

import functools
import warnings
from functools import cached_property

import numpy as np
import pandas as pd

from . import fit_measures as _fm
from .defined import defined_estimates
from .diagnostics import (check_residual_type, check_score_method,
                          check_standardized_residual_fit, factor_scores,
                          moment_jacobian, residual_moments, rsquare_of,
                          standardized_table)
from .errors import (BoundaryWarning, ConvergenceWarning, DataError, SpecificationError,
                     check_count)
from .estimation import apply_in_chunks, cached_jit, compiled
from .inference import intervals, invert_information, invert_information_many, wald_table
from .jaxconfig import jnp
from .saturated import baseline_loglik, block_loglik, column_roles, unrestricted
from .partable import exogenous_params
from .standardized import covariates, std_function, std_kind


def _information_kind(information, missing, spec, se="standard"):
    # lavaan: expected for complete data, observed under FIML and for MLR (robust)
    kind = information or ("observed" if missing == "ml" or se == "robust" else "expected")
    if kind not in ("expected", "observed"):
        raise ValueError("information must be 'expected' or 'observed'")
    if spec.problem.has_defvars:
        kind = "observed"
    return kind


def batched_information(spec, stacked, opts, information, missing, se="standard",
                        chunk=None):
    """Information matrices of many fits, batched (``chunk`` data sets per call)."""
    kind = _information_kind(information, missing, spec, se)
    theta = np.stack([o.theta for o in opts])
    if kind == "observed":
        H = apply_in_chunks(compiled(spec.problem, "hessian_many"), theta, stacked, chunk)
        return list(-H)
    return list(apply_in_chunks(compiled(spec.problem, "expected_many"), theta, stacked,
                                chunk))


def information_matrix(problem, theta, summary: dict, kind: str) -> np.ndarray:
    """The information at θ of one data set (its likelihood summary): minus the
    Hessian of the log-likelihood (``kind`` "observed") or the expected information."""
    jd = {k: np.asarray(v) for k, v in summary.items()}
    th = jnp.asarray(theta)
    if kind == "observed":
        return -np.asarray(compiled(problem, "hessian")(th, jd))
    return np.asarray(compiled(problem, "expected")(th, jd))


def robust_covariance(problem, theta, data: dict, bread_inv: np.ndarray):
    """The Huber–White sandwich from the per-case scores s_i of ``data``: (the meat
    B = Σ w_i s_i s_iᵀ, I⁻¹ B I⁻¹) with ``bread_inv`` = I⁻¹."""
    jd = {k: jnp.asarray(v) for k, v in data.items()}
    s = np.asarray(compiled(problem, "scores")(jnp.asarray(theta), jd))
    meat = (s * np.asarray(data["w"])[:, None]).T @ s
    return meat, bread_inv @ meat @ bread_inv


def estimates_table(pt: pd.DataFrame, theta, cov, reported, level: float = 0.95,
                    columns=("lhs", "op", "rhs", "label")) -> pd.DataFrame:
    """lavaan's ``parameterEstimates`` without the standardized columns: every row of
    the parameter table (its ``columns``), est, se (0 for fixed rows and for the θ
    entries not ``reported``: fixed covariates' moments), z, p-value and interval; the
    defined parameters (``:=``) last, with delta-method SEs (in group 0 where
    ``columns`` has a group)."""
    rows = pt[pt["op"] != ":="]
    free = rows["free"].to_numpy() - 1
    est = np.where(free >= 0, np.asarray(theta)[np.maximum(free, 0)],
                   rows["ustart"].fillna(0.0).to_numpy())
    sd = np.sqrt(np.maximum(np.diag(cov), 0))
    shown = np.r_[reported, False][np.where(free >= 0, free, -1)]
    se = np.where((free >= 0) & shown, sd[np.maximum(free, 0)], 0.0)
    tab = pd.DataFrame({c: rows[c].to_numpy() for c in columns} | {"est": est, "se": se})
    d = defined_estimates(pt, theta, cov)
    if d is not None:
        d = d.assign(group=0) if "group" in columns else d
        tab = pd.concat([tab, d[tab.columns]], ignore_index=True)
    w = wald_table(tab["est"], tab["se"], level)
    w.loc[tab["se"].to_numpy() == 0, ["z", "pvalue"]] = np.nan
    return pd.concat([tab, w], axis=1)


def check_se(se) -> None:
    if se not in ("standard", "robust", "none"):
        raise ValueError(f"se must be 'standard', 'robust' or 'none', got {se!r}")


class DeferredInference:
    """The information matrices of many fits and their inverses, computed in one
    batched call (``batched_information``, ``invert_information_many``) when the first
    of the fits' results needs them.

    ``fit_many`` gives every result ``(batch, i)``: a simulation or bootstrap that
    reads only ``params`` skips the information matrices (a third of ``fit_many``'s
    time on 1000 HS CFA frames), and a loop reading every result's ``bse`` pays for
    one batched computation, as before. statsmodels computes ``bse`` on first access
    too. The summaries of the data are released once computed."""

    def __init__(self, spec, work, opts, information, missing, se, chunk=None):
        self._args = (spec, work, opts, information, missing, se)
        self._chunk = chunk
        self._out = None

    def get(self, i: int):
        """(information, its ``Inverted``) of fit ``i``."""
        if self._out is None:
            infos = batched_information(*self._args, chunk=self._chunk)
            self._out = (infos, invert_information_many(infos))
            self._args = None
        return self._out[0][i], self._out[1][i]


@functools.lru_cache(maxsize=None)
def _no_cov(k: int) -> np.ndarray:
    """The (k, k) NaN covariance of a fit without standard errors, one read-only array
    shared by every such result (``fit_many(se="none")`` makes thousands)."""
    a = np.full((k, k), np.nan)
    a.setflags(write=False)
    return a


class SEMResults:
    """Results of ``Model.fit`` (statsmodels-like attributes, lavaan-like tables)."""

    #: fitted from summary statistics (``sample_cov``): there are no cases to score
    from_moments = False

    def __init__(self, model, spec, data, opt, *, information=None, se="standard",
                 missing="error", info=None, inverted=None, level=0.95, summary=None,
                 nobs=None, deferred=None):
        self.model, self.spec, self.data, self.opt = model, spec, data, opt
        # the likelihood's statistics (``sem.estimation.summarize_one``) stand in for
        # the data in the information matrices; per-case scores need the data
        self._summary = data if summary is None else summary
        check_se(se)
        self.missing, self.se_type, self.level = missing, se, level
        self.information = _information_kind(information, missing, spec, se)
        self.theta = np.asarray(opt.theta, dtype=float)
        # with fixed.x, lavaan's log-likelihood is conditional on the exogenous
        # covariates: the joint one minus their (saturated) marginal part
        self._ll_x = block_loglik(data, self._xcols) if spec.vars.ov_x else 0.0
        self.llf = float(opt.llf) - self._ll_x
        self.converged = bool(opt.converged)
        # ``fit_many`` passes the totals of all its data sets, summed at once
        self.nobs = float(np.sum(data["w"]) if nobs is None else nobs)
        if deferred is None:
            self._vcov(info, inverted)
        elif se == "none":
            self._vcov(None)
        else:                     # ``_LAZY`` attributes: computed on first use
            self._deferred = deferred

    #: attributes of the inference that a result of ``fit_many`` computes when one of
    #: them is first read (``__getattr__``; then they are plain attributes)
    _LAZY = frozenset({"cov_theta", "identified", "null_params", "info_matrix",
                       "_bread_inv", "_meat"})

    def __getattr__(self, name):
        # only reached where normal lookup fails: a ``_LAZY`` attribute not yet computed
        pending = self.__dict__.get("_deferred") if name in self._LAZY else None
        if pending is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        del self.__dict__["_deferred"]      # no recursion while it is computed
        try:
            self._vcov(*pending[0].get(pending[1]))
        except BaseException:
            self._deferred = pending            # a later read tries again
            raise
        return getattr(self, name)

    @property
    def _xcols(self):
        return column_roles(self.spec.vars)[0]

    # -- inference ------------------------------------------------------------------
    def _vcov(self, info, inverted=None):
        spec, prob = self.spec, self.spec.problem
        k = prob.n_params
        if self.se_type == "none":
            self.cov_theta = _no_cov(k)
            self.identified = True
            self.null_params = []
            return
        if info is None:
            info = information_matrix(prob, self.theta, self._summary, self.information)
        self.info_matrix = info
        inv = invert_information(info) if inverted is None else inverted
        self.identified = not inv.singular
        self.null_params = [spec.names[i] for i in inv.null_params]
        cov = inv.cov
        if self.se_type == "robust":
            # the sandwich's parts, kept for the scaled test (``sem.scaled_test``)
            self._bread_inv = cov
            self._meat, cov = robust_covariance(prob, self.theta, self.data, cov)
        self.cov_theta = cov

    def _warn(self):
        if not self.converged:
            warnings.warn(f"the optimizer did not converge ({self.opt.message}); the "
                          "estimates are not a maximum of the likelihood",
                          ConvergenceWarning, stacklevel=3)
        if not self.identified:
            warnings.warn("the information matrix is singular, so the model may not be "
                          f"identified; parameters involved: {self.null_params}",
                          UserWarning, stacklevel=3)
        bad = self.heywood
        if bad:
            warnings.warn(f"Heywood case: negative variance estimates for {bad}; the "
                          "solution is not admissible", BoundaryWarning, stacklevel=3)

    # -- parameters ----------------------------------------------------------------
    @property
    def param_names(self) -> list[str]:
        return self.spec.param_index.tolist()

    @property
    def params(self) -> pd.Series:
        return pd.Series(self.theta[self.spec.reported], index=self.spec.param_index,
                         name="est")

    @property
    def bse(self) -> pd.Series:
        se = np.sqrt(np.maximum(np.diag(self.cov_theta), 0))[self.spec.reported]
        return pd.Series(se, index=self.spec.param_index, name="se")

    def cov_params(self) -> pd.DataFrame:
        r = self.spec.reported
        return pd.DataFrame(self.cov_theta[np.ix_(r, r)], index=self.param_names,
                            columns=self.param_names)

    def conf_int(self, alpha: float = 0.05, bootstrap: pd.DataFrame | None = None
                 ) -> pd.DataFrame:
        """Wald intervals est ± z·se; with ``bootstrap`` (the draws of
        ``Model.bootstrap``) percentile intervals of its converged draws."""
        return intervals(self.params, self.bse, alpha, bootstrap)

    @property
    def tvalues(self) -> pd.Series:
        return self.params / self.bse

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(wald_table(self.params, self.bse)["pvalue"].to_numpy(),
                         index=self.param_names)

    @property
    def n_params(self) -> int:
        return int(self.spec.reported.sum())

    # -- tables ---------------------------------------------------------------------
    @cached_property
    def estimates(self) -> pd.DataFrame:
        """lavaan's ``parameterEstimates(fit, standardized=TRUE)``."""
        pt = self.spec.pt
        tab = estimates_table(pt, self.theta, self.cov_theta, self.spec.reported,
                              self.level)
        th = jnp.asarray(self.theta)
        tab["std.lv"] = np.asarray(self._jit("std.lv", lambda: std_function(
            pt, self.spec.ram, "lv"))(th))
        tab["std.all"] = np.asarray(self._jit("std.all", lambda: std_function(
            pt, self.spec.ram, "all"))(th))
        x = covariates(self.spec.vars)
        tab["std.nox"] = (np.asarray(self._jit("std.nox", lambda: std_function(
            pt, self.spec.ram, "nox", x))(th)) if x else tab["std.all"])
        return tab

    def _jit(self, name, make):
        """A jitted function of θ for this model structure, compiled once."""
        return cached_jit(("sem-results", name, self.spec.key), make)

    def _implied_all(self):
        return self._jit("implied_all", lambda: self.spec.ram.implied_all)(
            jnp.asarray(self.theta))

    def standardized_solution(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002
        """lavaan's ``standardizedSolution(fit, type=)``: "std.all" (default),
        "std.lv" or "std.nox", with delta-method SEs."""
        kind = std_kind(type)
        g = std_function(self.spec.pt, self.spec.ram, kind, covariates(self.spec.vars))
        return standardized_table(g, self.theta, self.cov_theta,
                                  self.estimates[["lhs", "op", "rhs", "label"]], self.level,
                                  key=(type, self.spec.key),
                                  exo=exogenous_params(self.spec.pt, len(self.theta)))

    @property
    def rsquare(self) -> pd.Series:
        """R² of every endogenous variable (one with a directed effect into it),
        observed first, then latent: 1 − residual variance / model-implied variance
        (lavaan's ``lavInspect(fit, "r2")``). Not with definition variables (each
        case has its own implied variance)."""
        if self.spec.problem.has_defvars:
            raise NotImplementedError("R² with definition variables (the implied "
                                      "variances differ by case)")
        ram = self.spec.ram
        C, _ = self._implied_all()
        _, S, _ = self._jit("matrices", lambda: ram.matrices)(jnp.asarray(self.theta))
        return rsquare_of(ram, C, S)

    def bollen_stine(self, n_boot: int = 1000, *, seed=0, chunk: int | None = None):
        """The Bollen–Stine bootstrap p-value of the χ² test (lavaan's
        ``test = "bollen.stine"``): the data transformed to the model's moments,
        resampled ``n_boot`` times and refitted in one compiled call
        (``sem.bollen_stine``). Returns a dict: chisq, pvalue, n_boot, n_converged and
        boot (the converged draws' statistics)."""
        from .bollen_stine import bollen_stine

        check_count(n_boot, "n_boot")
        return bollen_stine(self, n_boot, seed, chunk)

    def score_test(self) -> dict:
        """lavaan's ``lavTestScore(fit)``: score tests of the equality constraints that
        shared labels make, all released ("test": X2, df, pvalue) and one by one
        ("uni": a row per constraint), from the expected information
        (``sem.score_test``)."""
        spec = self.spec
        if spec.problem.has_defvars:
            raise NotImplementedError("score tests with definition variables (each "
                                      "case has its own implied moments)")
        from .ram import RAM
        from .problem import SEMProblem
        from .score_test import score_tests

        means = spec.problem.meanstructure

        def problem_of(table):
            k = int(table["free"].max())
            return SEMProblem(RAM.from_partable(table, spec.vars, means),
                              [f"x{j}" for j in range(k)], np.zeros(k, bool),
                              meanstructure=means, has_defvars=False)

        return score_tests(spec.pt, problem_of, self.theta, self._summary, self.nobs)

    def wald_test(self, constraints: str) -> dict:
        """lavaan's ``lavTestWald(fit, constraints)``: e.g. ``"a == d; b == e"``
        (``sem.compare.wald_test``)."""
        from .compare import wald_test

        return wald_test(self, constraints)

    def modindices(self, add: str | None = None, sort: bool = False,
                   minimum: float = 0.0) -> pd.DataFrame:
        """Modification indices with expected parameter changes (lavaan's
        ``modindices``): one score test per candidate fixed-to-zero parameter; ``add``
        (lavaan syntax) adds candidates, ``sort`` orders by MI, ``minimum`` drops
        smaller ones. See ``sem.modindices``."""
        from .modindices import modification_indices

        return modification_indices(self, add=add, sort=sort, minimum=minimum)

    # -- admissibility --------------------------------------------------------------
    @property
    def heywood(self) -> list[str]:
        """Variances estimated below zero (free parameters only)."""
        return [f"{r.lhs}~~{r.rhs}" for r in self.spec.rows
                if r.op == "~~" and r.lhs == r.rhs and r.free > 0
                and self.theta[r.free - 1] < 0]

    @property
    def admissible(self) -> bool:
        if self.heywood:
            return False
        lv = list(self.spec.vars.lv)
        if len(lv) > 1:
            C, _ = self._implied_all()
            k = self.spec.ram.n_ov
            ev = np.linalg.eigvalsh(np.asarray(C)[k:, k:])
            return bool(ev.min() > 0)
        return True

    # -- fit measures ---------------------------------------------------------------
    @cached_property
    def fit_measures(self) -> pd.Series:
        spec, d = self.spec, self.data
        if spec.vars.data_cols:
            return _fm.likelihood_only(self.llf, self.n_params, self.nobs)
        # lavaan's baseline keeps the covariances among free exogenous covariates
        # (fixed_x=False): that block is saturated, everything else independent
        xcols, xfree, ycols = column_roles(spec.vars)
        ll_sat, S, ybar, _ = unrestricted(d)
        ll_sat -= self._ll_x
        ll_base = baseline_loglik(d, ycols, xfree)
        p, px, q = len(spec.vars.ov), len(xcols), len(xfree)
        means = spec.problem.meanstructure
        n_mom = p * (p + 1) // 2 - px * (px + 1) // 2 + ((p - px) if means else 0)
        npar_base = (p - px) * (2 if means else 1) + q * (q - 1) // 2
        C, m = (np.asarray(a) for a in self._implied_all())
        k = spec.ram.n_ov
        Sigma = C[:k, :k]
        mu = m[:k] if means else None
        res = _fm.group_measures(d, (S, ybar), Sigma, mu, x=xcols)
        out = _fm.compute(llf=self.llf, ll_sat=ll_sat, ll_base=ll_base,
                          npar=self.n_params, n_moments=n_mom, npar_base=npar_base,
                          N=self.nobs, residuals=[(self.nobs, res)],
                          nel=_fm.moment_count(p, means))
        robust = self.se_type == "robust"
        if robust or self.missing == "ml":
            from .scaled_test import (free_rows, model_moments, robust_measures,
                                      scaling_factors, trace_factors)

            xblock = sorted(xcols + xfree)
            if robust:                 # lavaan's MLR: the Yuan-Bentler scaled test
                df, dfb = out["df"], out["baseline.df"]
                c, cb = scaling_factors(self, ycols, xblock, df, dfb)
                out.update(_fm.scaled(out["chisq"], df, out["baseline.chisq"], dfb,
                                      self.nobs, c, cb))
                out["scaling.factor.h1"], out["scaling.factor.h0"] = trace_factors(
                    [d], c, df, free_rows(spec.pt), xcols,
                    spec.problem.meanstructure)
            # the *.robust indices of MLR, and of every FIML fit (as lavaan: Zhang &
            # Savalei's corrected statistics)
            out.update(robust_measures(
                out, [d], lambda: [model_moments(spec.problem, self.theta, d)],
                self.missing, ycols, xblock, fixed_x=bool(xcols), sandwich=robust))
        return _fm.ordered(out)

    aic = _fm.measure("aic")
    bic = _fm.measure("bic")

    @property
    def df_resid(self) -> float:
        return float(self.fit_measures.get("df", np.nan))

    # -- implied moments and factor scores -----------------------------------------
    def implied(self) -> tuple[pd.DataFrame, pd.Series]:
        Sigma, mu = self.spec.ram.implied(jnp.asarray(self.theta))
        ov = list(self.spec.vars.ov)
        return (pd.DataFrame(np.asarray(Sigma), index=ov, columns=ov),
                pd.Series(np.asarray(mu), index=ov))

    def residuals(self, type: str = "raw") -> dict:
        """lavaan's ``residuals(fit, type=)``: the sample moments less the model's.
        ``"raw"``: S − Σ̂ (and ȳ − μ̂ with a mean structure); ``"cor"``
        (``"cor.bollen"``): the sample correlations less the implied ones, the means as
        (ȳ − μ̂) / sd; ``"normalized"``: raw over the sampling SEs of the sample
        moments under normality (``sem.saturated.unrestricted_variances``). S and ȳ are
        the unrestricted estimates (FIML's under missing values; divisor N). Returns
        {"type", "cov"[, "mean"]}. ``"standardized"``: raw over the SEs of the
        residuals themselves (``standardized_residual_se``; complete data, no fixed
        covariates; a fit with se="standard" and the expected information,
        whose Cov(θ̂) they use: ``check_standardized_residual_fit``)."""
        if self.spec.problem.has_defvars:
            raise NotImplementedError("residuals with definition variables (each case "
                                      "has its own implied moments)")
        check_residual_type(type)
        Sigma, mu = self.implied()

        def std():
            check_standardized_residual_fit(self.information, self.se_type)
            return moment_jacobian(self.spec.problem, self.theta, self._summary), \
                self.cov_theta

        return residual_moments(self.data, Sigma.to_numpy(), mu.to_numpy(),
                                list(Sigma.index), type, self.spec.problem.meanstructure,
                                bool(self.spec.vars.ov_x), std)

    def predict(self, data: pd.DataFrame | None = None,
                method: str = "regression") -> pd.DataFrame:
        """Factor scores from each case's observed variables (lavaan's ``lavPredict``).

        ``"regression"``: η̂ = μ_η + C_ηy Σ_oo⁻¹ (y_o − μ_o). ``"Bartlett"``:
        η̂ = μ_η + (Λ_oᵀ Θ_oo⁻¹ Λ_o)⁻¹ Λ_oᵀ Θ_oo⁻¹ (y_o − μ_o) over the observed
        indicators o, Λ their loadings and Θ their residual covariances (indicators that
        no observed variable predicts; covariates drop out); a factor none of whose
        indicators a case observes gets NaN there, as lavaan's. Without a mean
        structure μ_η is what the covariates' sample means imply (0 without
        covariates). Both equal lavaan 0.6.14's (``tests/sem/test_compare.py``)."""
        spec = self.spec
        if spec.problem.has_defvars:
            raise NotImplementedError("factor scores with definition variables")
        if data is None and self.from_moments:
            raise DataError("this fit is from summary statistics (sample_cov), which "
                            "have no cases to score: give predict(data)")
        check_score_method(method)
        if not spec.vars.lv:
            raise SpecificationError("the model has no latent variables to score")
        d = self.data if data is None else self.model.prepare(
            data, missing="ml" if spec.problem.meanstructure else "error")
        C, m = self._implied_all()
        scores = factor_scores(d, spec.ram, spec.vars,
                               spec.ram.matrices(jnp.asarray(self.theta)), C, m,
                               spec.problem.meanstructure, method)
        return pd.DataFrame(scores, columns=list(spec.vars.lv))

    # -- printing -------------------------------------------------------------------
    def summary(self, standardized: bool = False, rsquare: bool = False) -> str:
        """Print (and return) lavaan's ``summary(fit, standardized=, rsquare=)``."""
        from .summary import render

        text = render(self, standardized, rsquare)
        print(text)
        return text

    def __repr__(self):
        return (f"<SEMResults: {self.n_params} parameters, logl {self.llf:.3f}, "
                f"converged={self.converged}>")
