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
* ``group_equal`` makes a kind of parameter equal across groups: "loadings",
  "intercepts", "means" (latent), "residuals" (observed residual variances),
  "residual.covariances", "lv.variances", "lv.covariances", "regressions".

The parameter table holds every group's rows (column ``group``, 1-based) with one
global numbering of the free parameters; each group's RAM reads its entries of the
global θ, and the log-likelihood is the sum of the groups' (``MultiGroupProblem``, a
problem of the shared engine: the optimiser, the information matrices and their
inversion are ``sem``'s own). Fit measures follow lavaan's multi-group definitions:
χ², df and the baseline summed over groups, RMSEA and its interval scaled by √G,
SRMR the groups' SRMR weighted by their sizes. Checked against lavaan 0.6.14 on the
Holzinger–Swineford CFA by school: configural, metric and scalar invariance
(``tests/sem/test_multigroup.py``).

Not (yet) supported with groups: defined parameters (``:=``), definition variables,
per-group labels (``c(a, b)*x``), robust standard errors.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from . import data as _data
from . import fit_measures as _fm
from .errors import DataError, SpecificationError
from .estimation import compiled, maximize
from .inference import invert_information, wald_table
from .jaxconfig import jnp
from .partable import _key, build_partable
from .problem import SEMProblem
from .ram import RAM
from .saturated import baseline_loglik, block_loglik, column_roles, unrestricted
from .standardized import std_function
from .starts import sample_moments, start_values, table_rows

GROUP_EQUAL = ("loadings", "intercepts", "means", "residuals", "residual.covariances",
               "lv.variances", "lv.covariances", "regressions")


def _kind(op: str, lhs: str, rhs: str, lv: set) -> str | None:
    """The ``group_equal`` kind of a parameter table row."""
    if op == "=~":
        return "loadings"
    if op == "~":
        return "regressions"
    if op == "~1":
        return "means" if lhs in lv else "intercepts"
    if op == "~~":
        both_lv = lhs in lv and rhs in lv
        if lhs == rhs:
            return "lv.variances" if both_lv else "residuals"
        return "lv.covariances" if both_lv else "residual.covariances"
    return None


def group_partable(syntax: str, n_groups: int, group_equal=(), **options):
    """The multiple-group parameter table (every group's rows, column ``group``) and
    the variables."""
    bad = sorted(set(group_equal) - set(GROUP_EQUAL))
    if bad:
        raise SpecificationError(f"group_equal may contain {list(GROUP_EQUAL)}, not {bad}")
    pt1, vars_ = build_partable(syntax, meanstructure=True, **options)
    if (pt1["op"] == ":=").any():
        raise NotImplementedError("defined parameters (:=) with groups")
    if vars_.data_cols:
        raise NotImplementedError("definition variables with groups")
    lv = set(vars_.lv)
    equal = set(group_equal)
    free_lv_means = "intercepts" in equal and "means" not in equal
    # lavaan: with std_lv and equal loadings, the latent variances that std_lv fixes
    # at 1 stay fixed in the first group only (unless lv.variances are equal too)
    free_lv_vars = (bool(options.get("std_lv")) and "loadings" in equal
                    and "lv.variances" not in equal)
    shared: dict = {}                      # label or (kind, row key) -> free number
    rows, k = [], 0
    for g in range(n_groups):
        for r in pt1.to_dict("records"):
            r = dict(r, group=g + 1)
            kind = _kind(r["op"], r["lhs"], r["rhs"], lv)
            is_free = r["free"] > 0
            if (not is_free and g > 0 and free_lv_means and r["op"] == "~1"
                    and r["lhs"] in lv):
                is_free = True             # latent means free after the first group
                r["ustart"] = np.nan
            if (not is_free and g > 0 and free_lv_vars and kind == "lv.variances"
                    and r["lhs"] == r["rhs"] and not r["user"]):
                is_free = True             # std_lv's unit variances: first group only
                r["ustart"] = np.nan
            if not is_free:
                r["free"] = 0
            else:
                if r["label"]:
                    key = ("label", r["label"])
                elif kind in equal and not r["exo"]:
                    key = (kind, _key(r["lhs"], r["op"], r["rhs"]))
                else:
                    key = None
                if key is not None and key in shared:
                    r["free"] = shared[key]
                else:
                    k += 1
                    r["free"] = k
                    if key is not None:
                        shared[key] = k
            rows.append(r)
    pt = pd.DataFrame(rows)
    pt["id"] = np.arange(1, len(pt) + 1)
    return pt, vars_


class MultiGroupProblem:
    """Σ_g ℓ_g(θ): the groups' SEM problems on one global θ. Data dicts carry each
    group's arrays under keys "g:name" (plus the concatenated case weights "w"), so
    they stay flat dicts of arrays for the engine."""

    def __init__(self, problems, param_names):
        self.problems = list(problems)
        self.param_names = list(param_names)
        self.n_params = len(self.param_names)
        self.positive = np.zeros(self.n_params, bool)
        self.meanstructure, self.has_defvars = True, False
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

    def expected_information(self, theta, data):
        return sum(p.expected_information(theta, self.group(data, g))
                   for g, p in enumerate(self.problems))


def fit_groups(model, data: pd.DataFrame, group: str, group_equal=(), *,
               missing: str = "error", information=None, max_iter: int = 2000):
    """``Model.fit(data, group=...)``: see the module."""
    if not isinstance(data, pd.DataFrame):
        raise DataError("data must be a DataFrame with the group column")
    if group not in data.columns:
        raise SpecificationError(f"group column '{group}' is not in the data; the "
                                 f"columns are: {', '.join(map(str, data.columns))}")
    if data[group].isna().any():
        raise DataError(f"group column '{group}' is missing in "
                        f"{int(data[group].isna().sum())} rows")
    labels = list(pd.unique(data[group]))
    if len(labels) < 2:
        raise DataError(f"group column '{group}' has a single value {labels}; fit "
                        "without group= instead")
    if isinstance(group_equal, str):
        group_equal = (group_equal,)
    pt, vars_ = group_partable(model.syntax, len(labels), group_equal, **model.options)
    ov = list(vars_.ov)
    # FIML with fixed_x: rows missing a covariate are dropped, with a DataWarning, as
    # in one group (and lavaan: the likelihood is conditional on the covariates)
    from .model import _complete_on_covariates, _warn_dropped

    data, _, dropped = _complete_on_covariates(vars_.ov_x, data, None, missing)
    _warn_dropped([dropped], vars_.ov_x)
    datas = []
    for lab in labels:
        try:
            d = _data.prepare(data[data[group] == lab], ov, missing=missing)
        except (DataError, SpecificationError) as e:
            raise type(e)(f"group {lab!r}: {e}") from None
        if missing != "ml":
            _data.check_sample_covariance(d, ov)
        datas.append(d)
    names = _names(pt)
    k = len(names)
    parts = [pt[pt["group"] == g + 1] for g in range(len(labels))]
    rams = [RAM.from_partable(p, vars_, True) for p in parts]
    problems = [SEMProblem(r, names, np.zeros(k, bool), meanstructure=True,
                           has_defvars=False) for r in rams]
    prob = MultiGroupProblem(problems, names)
    joined = prob.join(datas)
    # starts: each group's lavaan-style start, averaged over the groups that share
    total, count = np.zeros(k), np.zeros(k)
    for p, d in zip(parts, datas):
        S, mu = sample_moments(d)
        t = start_values(table_rows(p), vars_, S, mu, model.options["std_lv"])
        used = np.unique(p.loc[p["free"] > 0, "free"].to_numpy() - 1)
        total[used] += t[used]
        count[used] += 1
    theta0 = total / np.maximum(count, 1)
    opt = maximize(prob, joined, theta0[None], max_iter=max_iter)
    return MultiGroupResults(model, pt, vars_, labels, rams, prob, joined, datas, opt,
                             information or ("observed" if missing == "ml" else "expected"),
                             missing)


def _names(pt) -> list[str]:
    """Parameter names: a label, else lhs op rhs with the group (".g2") unless the
    parameter is shared by all its groups."""
    k = int(pt["free"].max())
    names = [""] * k
    for r in pt[pt["free"] > 0].itertuples():
        i = r.free - 1
        if names[i]:
            continue
        base = r.label or (f"{r.lhs}~1" if r.op == "~1" else f"{r.lhs}{r.op}{r.rhs}")
        names[i] = base if r.label else f"{base}.g{r.group}"
    # a parameter shared across groups by group_equal: no group suffix
    groups_of = pt[pt["free"] > 0].groupby("free")["group"].nunique()
    for f, n in groups_of.items():
        if n > 1 and names[f - 1].endswith(f".g{pt.loc[pt['free'] == f, 'group'].min()}"):
            names[f - 1] = names[f - 1].rsplit(".g", 1)[0]
    return names


class MultiGroupResults:
    """A multiple-group fit: ``params``, ``bse``, ``estimates`` (with a ``group``
    column), ``llf``, ``fit_measures``, ``aic``, ``bic``, ``nobs``; ``sem.lrt``
    compares nested multiple-group fits (invariance testing)."""

    se_type = "standard"

    def __init__(self, model, pt, vars_, labels, rams, problem, data, datas, opt,
                 information, missing):
        self.model, self.pt, self.groups = model, pt, labels
        self._rams, self.problem, self.data, self._datas = rams, problem, data, datas
        self.opt, self.information, self.missing = opt, information, missing
        self.theta = np.asarray(opt.theta, dtype=float)
        self.converged = bool(opt.converged)
        self.nobs = float(sum(np.sum(d["w"]) for d in datas))
        self.group_nobs = [float(np.sum(d["w"])) for d in datas]
        summ = {k: np.asarray(v) for k, v in problem.summarize(data).items()}
        th = jnp.asarray(self.theta)
        if information == "observed":
            info = -np.asarray(compiled(problem, "hessian")(th, summ))
        else:
            info = np.asarray(compiled(problem, "expected")(th, summ))
        inv = invert_information(info)
        self.identified = not inv.singular
        self.cov_theta = inv.cov
        # what sem.lrt reads of a fit
        self.spec = type("Spec", (), {"vars": vars_})()
        # the covariates' moments (fixed_x): one likelihood block per group
        xcols = column_roles(vars_)[0]
        self._xcols = xcols
        self._ll_x = sum(block_loglik(d, xcols) for d in datas) if xcols else 0.0
        self.llf = float(opt.llf) - self._ll_x

    @property
    def params(self) -> pd.Series:
        return pd.Series(self.theta, index=self.problem.param_names)

    @property
    def bse(self) -> pd.Series:
        return pd.Series(np.sqrt(np.maximum(np.diag(self.cov_theta), 0)),
                         index=self.problem.param_names)

    @cached_property
    def estimates(self) -> pd.DataFrame:
        """lavaan's ``parameterEstimates(fit, standardized=TRUE)`` with ``group``."""
        pt = self.pt
        free = pt["free"].to_numpy() - 1
        est = np.where(free >= 0, self.theta[np.maximum(free, 0)],
                       pt["ustart"].fillna(0.0).to_numpy())
        sd = np.sqrt(np.maximum(np.diag(self.cov_theta), 0))
        se = np.where((free >= 0) & (pt["exo"].to_numpy() == 0),
                      sd[np.maximum(free, 0)], 0.0)
        tab = pd.DataFrame({"lhs": pt["lhs"].to_numpy(), "op": pt["op"].to_numpy(),
                            "rhs": pt["rhs"].to_numpy(), "group": pt["group"].to_numpy(),
                            "label": pt["label"].to_numpy(), "est": est, "se": se})
        w = wald_table(tab["est"], tab["se"])
        w.loc[tab["se"].to_numpy() == 0, ["z", "pvalue"]] = np.nan
        tab = pd.concat([tab, w], axis=1)
        th = jnp.asarray(self.theta)
        std = {"std.lv": [], "std.all": []}
        for g, ram in enumerate(self._rams):
            rows = pt[pt["group"] == g + 1]
            for kind in ("lv", "all"):
                std[f"std.{kind}"].append(np.asarray(std_function(rows, ram, kind)(th)))
        for c, v in std.items():
            tab[c] = np.concatenate(v)
        return tab

    @cached_property
    def fit_measures(self) -> pd.Series:
        # as the one-group baseline: the covariances among free exogenous covariates
        # (fixed_x=False) stay in it, a saturated block in every group
        xcols, xfree, ycols = column_roles(self.spec.vars)
        p, px, q, G = len(self.spec.vars.ov), len(xcols), len(xfree), len(self.groups)
        ll_sat = ll_base = 0.0
        srmr = 0.0
        th = jnp.asarray(self.theta)
        for ram, d in zip(self._rams, self._datas):
            ls, S, ybar, _ = unrestricted(d)
            ll_sat += ls
            ll_base += baseline_loglik(d, ycols, xfree)
            Sigma, mu = (np.asarray(a) for a in ram.implied(th))
            srmr += np.sum(d["w"]) / self.nobs * _fm.srmr(S, Sigma, ybar, mu)
        ll_sat -= self._ll_x
        n_mom = G * (p * (p + 1) // 2 - px * (px + 1) // 2 + (p - px))
        out = _fm.compute(llf=self.llf, ll_sat=ll_sat, ll_base=ll_base,
                          npar=len(self.theta) - self._n_exo, n_moments=n_mom,
                          npar_base=G * (2 * (p - px) + q * (q - 1) // 2), N=self.nobs,
                          S=np.eye(1), Sigma=np.eye(1))
        out["srmr"] = srmr
        # lavaan's multiple-group RMSEA: √G times the one-group formula
        T, df = out["chisq"], out["df"]
        if df > 0:
            out["rmsea"] *= np.sqrt(G)
            lo, up = _fm.rmsea_ci(T, df, self.nobs)
            out["rmsea.ci.lower"], out["rmsea.ci.upper"] = lo * np.sqrt(G), up * np.sqrt(G)
            out["rmsea.pvalue"] = _fm._ncx2_sf(T, df, self.nobs * df * 0.05 ** 2 / G)
        return pd.Series(out)

    @property
    def _n_exo(self) -> int:
        exo = self.pt[(self.pt["free"] > 0) & (self.pt["exo"] == 1)]
        return int(exo["free"].nunique())

    @property
    def n_params(self) -> int:
        return len(self.theta) - self._n_exo

    aic = _fm.measure("aic")
    bic = _fm.measure("bic")

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals of the free parameters (columns lower, upper)."""
        from scipy import special

        q = special.ndtri(1 - alpha / 2)
        return pd.DataFrame({"lower": self.params - q * self.bse,
                             "upper": self.params + q * self.bse})

    def summary(self) -> str:
        """Print (and return) the fit and each group's estimates, as lavaan's summary
        prints them group by group."""
        fm = self.fit_measures
        lines = [f"trajmix/sem multiple groups ({len(self.groups)}): "
                 f"{'ended normally' if self.converged else 'did NOT converge'}",
                 "  Number of observations per group: " + ", ".join(
                     f"{g} {n:g}" for g, n in zip(self.groups, self.group_nobs)),
                 f"  Test statistic {fm['chisq']:.3f}, df {int(fm['df'])}, "
                 f"P-value {fm['pvalue']:.3f}",
                 f"  CFI {fm['cfi']:.3f}  TLI {fm['tli']:.3f}  RMSEA {fm['rmsea']:.3f}  "
                 f"SRMR {fm['srmr']:.3f}",
                 f"  Loglikelihood {fm['logl']:.3f}  AIC {fm['aic']:.3f}  "
                 f"BIC {fm['bic']:.3f}"]
        tab = self.estimates
        cols = ["lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "std.all"]
        for g, lab in enumerate(self.groups):
            part = tab[tab["group"] == g + 1][cols]
            lines += ["", f"Group {g + 1} [{lab}]:",
                      part.to_string(index=False, float_format=lambda v: f"{v:.3f}")]
        text = "\n".join(lines)
        print(text)
        return text

    def __repr__(self):
        return (f"<MultiGroupResults: {len(self.groups)} groups {self.groups}, "
                f"{self.n_params} parameters, logl {self.llf:.3f}, "
                f"converged={self.converged}>")
