"""``SEMResults``: estimates, standard errors, fit measures and a lavaan-like summary."""
from __future__ import annotations

import functools
import warnings
from functools import cached_property

import numpy as np
import pandas as pd

from . import fit_measures as _fm
from .defined import defined_estimates
from .errors import BoundaryWarning, ConvergenceWarning, DataError, SpecificationError
from .estimation import apply_in_chunks, cached_jit, compiled
from .inference import (delta_method, intervals, invert_information,
                        invert_information_many, sandwich, wald_table)
from .jaxconfig import jnp
from .saturated import (baseline_loglik, block_loglik, column_roles, unrestricted,
                        unrestricted_variances)
from .standardized import std_function


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
            th = self.theta
            jd = {kk: np.asarray(v) for kk, v in self._summary.items()}
            if self.information == "observed":
                info = -np.asarray(compiled(prob, "hessian")(th, jd))
            else:
                info = np.asarray(compiled(prob, "expected")(th, jd))
        self.info_matrix = info
        inv = invert_information(info) if inverted is None else inverted
        self.identified = not inv.singular
        self.null_params = [spec.names[i] for i in inv.null_params]
        cov = inv.cov
        if self.se_type == "robust":
            jd = {kk: jnp.asarray(v) for kk, v in self.data.items()}
            s = np.asarray(compiled(prob, "scores")(jnp.asarray(self.theta), jd))
            w = np.asarray(self.data["w"])
            # the sandwich's parts, kept for the scaled test (``sem.scaled_test``)
            self._bread_inv, self._meat = cov, (s * w[:, None]).T @ s
            cov = sandwich(cov, s, w)
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
        rows = pt[pt["op"] != ":="]
        free = rows["free"].to_numpy() - 1
        est = np.where(free >= 0, self.theta[np.maximum(free, 0)],
                       rows["ustart"].fillna(0.0).to_numpy())
        sd = np.sqrt(np.maximum(np.diag(self.cov_theta), 0))
        reported = np.r_[self.spec.reported, False]
        se = np.where((free >= 0) & reported[np.where(free >= 0, free, -1)],
                      sd[np.maximum(free, 0)], 0.0)
        tab = pd.DataFrame({"lhs": rows["lhs"].to_numpy(), "op": rows["op"].to_numpy(),
                            "rhs": rows["rhs"].to_numpy(), "label": rows["label"].to_numpy(),
                            "est": est, "se": se})
        d = defined_estimates(pt, self.theta, self.cov_theta)
        if d is not None:
            tab = pd.concat([tab, d], ignore_index=True)
        w = wald_table(tab["est"], tab["se"], self.level)
        w.loc[tab["se"].to_numpy() == 0, ["z", "pvalue"]] = np.nan
        tab = pd.concat([tab, w], axis=1)
        th = jnp.asarray(self.theta)
        tab["std.lv"] = np.asarray(self._jit("std.lv", lambda: std_function(
            pt, self.spec.ram, "lv"))(th))
        tab["std.all"] = np.asarray(self._jit("std.all", lambda: std_function(
            pt, self.spec.ram, "all"))(th))
        return tab

    def _jit(self, name, make):
        """A jitted function of θ for this model structure, compiled once."""
        return cached_jit(("sem-results", name, self.spec.problem.cache_key()), make)

    def _implied_all(self):
        return self._jit("implied_all", lambda: self.spec.ram.implied_all)(
            jnp.asarray(self.theta))

    def standardized_solution(self) -> pd.DataFrame:
        """lavaan's ``standardizedSolution``: std.all with delta-method SEs."""
        g = std_function(self.spec.pt, self.spec.ram, "all")
        return standardized_table(g, self.theta, self.cov_theta,
                                  self.estimates[["lhs", "op", "rhs", "label"]], self.level)

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
            k = self.n_params
            return pd.Series({"npar": k, "logl": self.llf, "aic": -2 * self.llf + 2 * k,
                              "bic": -2 * self.llf + k * np.log(self.nobs)})
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
        out = _fm.compute(llf=self.llf, ll_sat=ll_sat, ll_base=ll_base,
                          npar=self.n_params, n_moments=n_mom, npar_base=npar_base,
                          N=self.nobs, S=S, Sigma=np.asarray(Sigma),
                          ybar=ybar if means else None, mu=mu)
        if self.se_type == "robust":         # lavaan's MLR: the Yuan-Bentler scaled test
            from .scaled_test import model_moments, robust_measures, scaling_factors

            df, dfb = out["df"], out["baseline.df"]
            xblock = sorted(xcols + xfree)
            c, cb = scaling_factors(self, ycols, xblock, df, dfb)
            out.update(_fm.scaled(out["chisq"], df, out["baseline.chisq"], dfb,
                                  self.nobs, c, cb))
            # and its *.robust indices (FIML: Zhang & Savalei's corrected statistics)
            out.update(robust_measures(
                out, [d], lambda: [model_moments(spec.problem, self.theta, d)],
                self.missing, ycols, xblock, fixed_x=bool(xcols)))
        return pd.Series(out)

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
        covariates)."""
        if self.spec.problem.has_defvars:
            raise NotImplementedError("residuals with definition variables (each case "
                                      "has its own implied moments)")
        check_residual_type(type)
        Sigma, mu = self.implied()
        std = None
        if type == "standardized":
            prob = self.spec.problem
            jd = {k: np.asarray(v) for k, v in self._summary.items()}
            delta = np.asarray(compiled(prob, "moment_jacobian")(jnp.asarray(self.theta), jd))
            std = (delta, self.cov_theta)
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


# -- shared by the one-group and the multiple-group results (``sem.multigroup``) -------
def standardized_table(fun, theta, cov, base: pd.DataFrame, level: float = 0.95
                       ) -> pd.DataFrame:
    """``base`` (the rows' lhs, op, rhs, ...) with est.std = ``fun``(θ̂) and its
    delta-method SEs, z, p-value and interval (lavaan's ``standardizedSolution``). SEs
    below 1e-12 are 0 (as lavaan's, for rows fixed by the standardization); without
    standard errors (``se="none"``: a NaN covariance) they are NaN."""
    val, c, _ = delta_method(fun, theta, cov)
    se = np.sqrt(np.maximum(np.diag(c), 0))
    se = np.where(np.isfinite(se) & (se > 1e-12), se, 0.0)
    if np.isnan(cov).all():
        se = np.full_like(se, np.nan)
    base = base.reset_index(drop=True).copy()
    base["est.std"] = val
    base["se"] = se
    w = wald_table(val, se, level)
    w.loc[se == 0, ["z", "pvalue"]] = np.nan
    return pd.concat([base, w], axis=1)


def rsquare_of(ram, C, S) -> pd.Series:
    """R² of every endogenous variable (one with a directed effect into it) of a RAM,
    observed first, then latent: 1 − S_ii / C_ii, with C the implied covariance of all
    variables and S the residual (co)variances."""
    endo = sorted(set(ram.A.rows.tolist()))
    C, S = np.asarray(C), np.asarray(S)
    return pd.Series([1.0 - S[i, i] / C[i, i] for i in endo],
                     index=[ram.names[i] for i in endo], name="r2")


RESIDUAL_TYPES = {"raw": "raw", "cor": "cor.bollen", "cor.bollen": "cor.bollen",
                  "normalized": "normalized", "standardized": "standardized"}


def _gamma_nt(S: np.ndarray) -> np.ndarray:
    """Normal-theory Cov(√N s) of the covariances, vech row by row as
    ``SEMProblem.moment_vector`` (np.tril_indices): Γ_ab,cd = S_ac S_bd + S_ad S_bc."""
    a, b = np.tril_indices(S.shape[0])
    return S[np.ix_(a, a)] * S[np.ix_(b, b)] + S[np.ix_(a, b)] * S[np.ix_(b, a)]


def standardized_residual_se(S, ybar, Sigma, mu, delta, cov_theta, N,
                             meanstructure: bool):
    """Standard errors of the raw residuals s − σ(θ̂) (lavaan's ``type =
    "standardized"``, Ogasawara 2001 after Bentler & Dijkstra 1985): linearised,
    r = Q (s − σ₀) with Q = I − Δ A₀⁻¹ Δᵀ A₁, so ACOV(r) = Q (Γ_S / N) Qᵀ. Δ is the
    moments' Jacobian at θ̂ (``moment_vector`` order: vech Σ row by row, then μ), A₀⁻¹ =
    N Cov(θ̂) the inverse unit information, A₁ the unit information of the saturated
    model at the implied moments (Γ_Σ̂⁻¹ and Σ̂⁻¹: lavaan's default "structured"
    h1 information) and Γ_S the normal-theory ACOV of the sample moments at S (lavaan's
    "unstructured"). Returns (p, p) for the covariances and (p,) for the means (NaN
    where the variance is not positive). Equal to lavaan 0.6.14's on the HS CFA
    (``tests/sem/test_compare.py``)."""
    p = S.shape[0]
    G_S, W = _gamma_nt(S), np.linalg.inv(_gamma_nt(Sigma))
    if meanstructure:
        G_S = np.block([[G_S, np.zeros((len(G_S), p))], [np.zeros((p, len(G_S))), S]])
        W = np.block([[W, np.zeros((len(W), p))],
                      [np.zeros((p, len(W))), np.linalg.inv(Sigma)]])
    Q = np.eye(len(G_S)) - delta @ (N * cov_theta) @ delta.T @ W
    v = np.einsum("ij,jk,ik->i", Q, G_S / N, Q)
    v = np.where(v > 0, v, np.nan)
    r, c = np.tril_indices(p)
    V = np.zeros((p, p))
    V[r, c] = V[c, r] = v[:len(r)]
    return np.sqrt(V), (np.sqrt(v[len(r):]) if meanstructure else None)


def check_residual_type(type) -> None:
    if type not in RESIDUAL_TYPES:
        raise ValueError(f"type must be one of {sorted(RESIDUAL_TYPES)}, got {type!r}")


def residual_moments(data: dict, Sigma, mu, ov, type: str, meanstructure: bool,
                     fixed_x: bool, standardize=None) -> dict:
    """The residuals of ``SEMResults.residuals`` from the data of one group and its
    implied Σ̂, μ̂: {"type", "cov"[, "mean"]}. ``standardize``: for type
    "standardized", (Δ, Cov(θ̂)) of ``standardized_residual_se``."""
    check_residual_type(type)
    kind = RESIDUAL_TYPES[type]
    if kind == "standardized" and (standardize is None or fixed_x
                                   or data["patterns"].shape[0] > 1):
        raise NotImplementedError(
            "standardized residuals are computed for complete data without fixed "
            "covariates in one group; use type='normalized' or 'cor'")
    _, S, ybar, _ = unrestricted(data)
    Sigma, mu = np.asarray(Sigma), np.asarray(mu)
    R, m = S - Sigma, ybar - mu
    if kind == "cor.bollen":
        ds, dm = np.sqrt(np.diag(S)), np.sqrt(np.diag(Sigma))
        R = S / np.outer(ds, ds) - Sigma / np.outer(dm, dm)
        m = m / ds
    elif kind == "normalized":       # over the sample moments' own SEs
        if fixed_x:
            raise NotImplementedError(
                "normalized residuals with fixed covariates (fixed_x=True): lavaan "
                "takes their SEs conditional on the covariates; use type='raw' or "
                "'cor', or fixed_x=False")
        vm, vS = unrestricted_variances(data)
        R, m = R / np.sqrt(vS), m / np.sqrt(vm)
    elif kind == "standardized":
        seS, sem = standardized_residual_se(S, ybar, Sigma, mu, *standardize,
                                            float(np.sum(data["w"])), meanstructure)
        # as lavaan: a residual that is zero to 1e-5 (a variance the model
        # reproduces exactly) is reported as it is, not over its zero SE
        R = np.where(np.abs(R) < 1e-5, R, R / seS)
        if meanstructure:
            m = np.where(np.abs(m) < 1e-5, m, m / sem)
    out = {"type": kind, "cov": pd.DataFrame(R, index=ov, columns=ov)}
    if meanstructure:
        out["mean"] = pd.Series(m, index=ov)
    return out


def check_score_method(method) -> None:
    if method not in ("regression", "Bartlett"):
        raise ValueError(f"method must be 'regression' or 'Bartlett', got {method!r}")


def factor_scores(d: dict, ram, vars_, matrices, C, m, meanstructure: bool,
                  method: str) -> np.ndarray:
    """The factor scores of ``SEMResults.predict`` (n, latent variables) of the cases
    of ``d`` (one group's data) from the RAM's ``matrices`` (A, S, m) and the implied
    moments C, m of all its variables at θ̂."""
    check_score_method(method)
    C, m = np.asarray(C), np.asarray(m)
    k = ram.n_ov
    A, Smat, _ = (np.asarray(a) for a in matrices)
    if not meanstructure:
        # saturated means: the observed ones are the sample's, and the latent ones
        # those the exogenous covariates' sample means imply through the model
        # (lavaan's; 0 without covariates)
        mu_y = d["w"] @ d["Y"] / d["w"].sum()
        ov = list(vars_.ov)
        m0 = np.zeros(A.shape[0])
        for v in tuple(vars_.ov_x) + tuple(vars_.ov_x_free):
            m0[ov.index(v)] = mu_y[ov.index(v)]
        m = np.linalg.solve(np.eye(A.shape[0]) - A, m0)
    mu_y = m[:k] if meanstructure else mu_y
    if method == "Bartlett":
        # the measurement part: the indicators' loadings Λ and residual
        # covariances Θ (covariates, which load on nothing, drop out of it)
        ind = np.isin(list(vars_.ov), list(vars_.ov_ind))
        if (A[:k, :k][ind].any() or Smat[:k, k:][ind].any()):
            raise NotImplementedError(
                "Bartlett scores need a measurement model: indicators that no "
                "observed variable predicts and that share no covariance with a "
                "latent variable")
        Lam, Theta = np.where(ind[:, None], A[:k, k:], 0.0), Smat[:k, :k]
    out = np.zeros((d["Y"].shape[0], len(vars_.lv)))
    pid = d["onehot"].argmax(1)
    for P, o in enumerate(d["patterns"]):
        rows = pid == P
        if not rows.any():
            continue
        dev = d["Y"][rows][:, o] - mu_y[o]
        if method == "regression":
            B = np.linalg.solve(C[:k, :k][np.ix_(o, o)], C[k:, :k][:, o].T).T
            out[rows] = m[k:] + dev @ B.T
            continue
        o = o & ind                            # the case's observed indicators
        dev = d["Y"][rows][:, o] - mu_y[o]
        seen = np.abs(Lam[o]).sum(0) > 0       # factors with an observed indicator
        L = Lam[o][:, seen]
        try:
            TiL = np.linalg.solve(Theta[np.ix_(o, o)], L)
            W = np.linalg.solve(L.T @ TiL, TiL.T)
        except np.linalg.LinAlgError:
            raise SpecificationError(
                "Bartlett scores need positive definite residual covariances of the "
                "indicators (a residual variance fixed at 0, e.g. of a single "
                "indicator, makes Θ singular); use method='regression'") from None
        out[np.ix_(rows, seen)] = m[k:][seen] + dev @ W.T
        out[np.ix_(rows, ~seen)] = np.nan
    return out
