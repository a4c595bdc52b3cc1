"""``sem.Model``: a structural equation model written in lavaan syntax.

>>> from sem import Model
>>> fit = Model("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6").fit(data)
>>> fit.summary()

``fit(data, missing="ml")`` uses full-information ML; ``fit_many(list_of_frames)``
fits many data sets of the same shape in one compiled call; ``bootstrap`` refits case-
resampled data as frequency weights in one call.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from . import data as _data
from .diagnostics import moment_jacobian
from .errors import (ConvergenceWarning, DataError, DataWarning, SpecificationError,
                     check_count)
from .estimation import (apply_in_chunks, bootstrap_weights, compiled, maximize,
                         maximize_many, maximize_weighted, random_starts, seed_to_int,
                         summarize_many, summarize_one)
from .initial_hessian import h0_from_information, information_H0
from .jaxconfig import jnp
from .partable import build_partable, model_key
from .problem import SEMProblem
from .ram import RAM
from .starts import (check_start, complete_and_unweighted, sample_moments,
                     sample_moments_many, start_values, table_rows)
from .syntax import parse


@dataclass
class _Spec:
    pt: pd.DataFrame
    vars: object
    ram: RAM
    problem: SEMProblem
    names: list            # name of every θ entry
    reported: np.ndarray   # θ entries that are model parameters (not exo)
    rows: list             # the table's rows as tuples (for start values)
    identified: bool = False   # passed the identification check (no definition vars)

    @cached_property
    def key(self) -> tuple:
        """The model structure (``sem.partable.model_key``)."""
        return model_key(self.problem, self.pt)

    @cached_property
    def param_index(self) -> pd.Index:
        """The reported parameters' names: one (immutable) Index shared by the
        Series of every result; a Series built on a list of names spent 20 of its 28 µs
        building the index, and ``fit_many``'s thousand results read ``params``."""
        return pd.Index([n for n, r in zip(self.names, self.reported) if r])


def _param_names(pt: pd.DataFrame) -> list[str]:
    k = int(pt["free"].max() or 0)
    names = [""] * k
    for r in pt[pt["free"] > 0].itertuples():
        i = r.free - 1
        if names[i]:
            continue
        if r.label:
            names[i] = r.label
        elif r.op == "~1":
            names[i] = f"{r.lhs}~1"
        else:
            names[i] = f"{r.lhs}{r.op}{r.rhs}"
    return names


def _moment_summary(spec, stacked: dict, S, mu):
    """The likelihood's summary of D stacked data sets from their sample moments S
    (D, p, p), mu (D, p) where every data set is complete and equally weighted (the
    moments the starts use are then its statistics: no second pass over the data;
    an eager ``summarize_one`` took a third of a warm single fit), else None."""
    if spec.problem.has_defvars or not complete_and_unweighted(stacked):
        return None
    return spec.problem.summary_of_moments(S, mu, stacked["w"].sum(axis=1))


def _complete_on_covariates(ov_x, data, weights, missing):
    """(data, weights, what was dropped: {} or its rows and columns). Under FIML with
    ``fixed_x`` the rows with a missing exogenous covariate are dropped, as lavaan does
    (its likelihood is conditional on the covariates, which such a row lacks).
    Anything that is not a DataFrame holding every covariate is left to ``prepare``'s
    checks."""
    x = list(ov_x)
    if (missing != "ml" or not x or not isinstance(data, pd.DataFrame)
            or not set(x) <= set(data.columns)):
        return data, weights, {}
    na = data[x].isna().to_numpy()
    miss = na.any(axis=1)
    if not miss.any():
        return data, weights, {}
    cols = [v for v, a in zip(x, na.any(0)) if a]
    if miss.all():
        raise DataError(f"every row misses a value of the exogenous covariate(s) {cols}; "
                        "with fixed_x=True (the likelihood is conditional on them) no row "
                        "is left: use Model(..., fixed_x=False)")
    if weights is not None:
        weights = np.asarray(weights)
        if weights.shape[:1] == miss.shape:    # else ``prepare`` names the mismatch
            weights = weights[~miss]
    return data.loc[~miss], weights, {"rows": int(miss.sum()), "cols": set(cols)}


def _warn_dropped(dropped: list[dict], ov_x) -> None:
    """One warning for the rows ``_complete_on_covariates`` dropped from each data set."""
    dropped = [d for d in dropped if d]
    if not dropped:
        return
    cols = [v for v in ov_x if any(v in d["cols"] for d in dropped)]
    rows = sum(d["rows"] for d in dropped)
    where = f" of {len(dropped)} data sets" if len(dropped) > 1 else ""
    warnings.warn(
        f"{rows} cases{where} were deleted due to missing values in the exogenous "
        f"covariate(s) {cols}, while fixed_x=True (as lavaan does); "
        "Model(..., fixed_x=False) keeps them, treating the covariates as random",
        DataWarning, stacklevel=3)


class Model:
    """A linear SEM from lavaan model syntax (single group).

    Parameters
    ----------
    model : lavaan model syntax (see ``sem.syntax``).
    meanstructure : add intercepts/means; default False for complete data, True under
        ``missing="ml"`` or with definition variables (as lavaan).
    std_lv : identify factors by fixing their variances to 1 instead of a marker.
    orthogonal : fix covariances among exogenous latent variables to 0.
    fixed_x : treat observed exogenous covariates as fixed at their sample moments.
    positive_variances : estimate variances on the log scale, so none can turn
        negative (lavaan ``bounds = "pos.var"``); default False, as lavaan, so that
        Heywood cases show up and are flagged.
    int_ov_free, int_lv_free : with a mean structure, the observed intercepts free
        (default) or fixed at 0, the latent means fixed at 0 (default) or free
        (lavaan's ``int.ov.free``, ``int.lv.free``; ``growth`` sets both the other way).
    """

    def __init__(self, model: str, *, meanstructure: bool | None = None,
                 std_lv: bool = False, orthogonal: bool = False, fixed_x: bool = True,
                 positive_variances: bool = False, int_ov_free: bool = True,
                 int_lv_free: bool = False):
        self.syntax = model
        self.meanstructure = meanstructure
        self.options = dict(std_lv=std_lv, orthogonal=orthogonal, fixed_x=fixed_x,
                            int_ov_free=bool(int_ov_free), int_lv_free=bool(int_lv_free))
        self.positive_variances = positive_variances
        self._specs: dict[bool, _Spec] = {}
        # parse now: syntax errors surface at construction (a model with per-group
        # modifiers c(...) has no one-group table: fit it with group=)
        stmts = parse(model)
        # as lavaan, an intercept or mean in the syntax (``x ~ 1``) switches the mean
        # structure on unless ``meanstructure=False`` is given
        self._intercepts = any(s.op == "~" and any(t.var == "1" for t in s.terms)
                               for s in stmts)
        if not any(t.n_group_values for s in stmts for t in s.terms):
            self.partable

    # -- specification --------------------------------------------------------------
    def _spec(self, meanstructure: bool) -> _Spec:
        if meanstructure not in self._specs:
            pt, vars_ = build_partable(self.syntax, meanstructure=meanstructure,
                                       **self.options)
            if vars_.data_cols and not meanstructure:
                return self._spec(True)
            ram = RAM.from_partable(pt, vars_, meanstructure)
            names = _param_names(pt)
            k = len(names)
            positive = np.zeros(k, dtype=bool)
            exo = np.zeros(k, dtype=bool)
            for r in pt[pt["free"] > 0].itertuples():
                if r.exo:
                    exo[r.free - 1] = True
                if self.positive_variances and r.op == "~~" and r.lhs == r.rhs:
                    positive[r.free - 1] = True
            problem = SEMProblem(ram, names, positive, meanstructure=meanstructure,
                                 has_defvars=bool(vars_.data_cols))
            self._specs[meanstructure] = _Spec(pt, vars_, ram, problem, names, ~exo,
                                               table_rows(pt))
        return self._specs[meanstructure]

    @cached_property
    def partable(self) -> pd.DataFrame:
        """The parameter table (without a mean structure unless requested)."""
        return self._spec(self._use_means("error")).pt.copy()

    @property
    def observed(self) -> tuple[str, ...]:
        return self._spec(self._use_means("error")).vars.ov

    @property
    def latent(self) -> tuple[str, ...]:
        return self._spec(self._use_means("error")).vars.lv

    def _use_means(self, missing: str) -> bool:
        if self.meanstructure is not None:
            if missing == "ml" and not self.meanstructure:
                raise SpecificationError("missing='ml' needs meanstructure=True")
            return self.meanstructure
        return missing == "ml" or self._intercepts

    # -- data -----------------------------------------------------------------------
    def prepare(self, data: pd.DataFrame, *, missing: str = "error", weights=None):
        """The model's arrays for ``data`` (a dict; see ``sem.data``)."""
        spec = self._spec(self._use_means(missing))
        d = _data.prepare(data, spec.vars.ov, missing=missing,
                          defvars=spec.vars.data_cols, weights=weights)
        if d["patterns"].shape[0] > 1 and not spec.problem.meanstructure:
            raise SpecificationError("missing values need meanstructure=True")
        return d

    def problem(self, data: dict):
        """The estimation problem (θ → log-likelihood) for prepared ``data``."""
        return self._spec_for(data).problem

    def _spec_for(self, data: dict) -> _Spec:
        means = self.meanstructure
        if means is None:
            means = data["patterns"].shape[0] > 1 or not bool(np.all(data["patterns"]))
        return self._spec(bool(means))

    def start(self, data: dict, spec: _Spec | None = None, moments=None) -> np.ndarray:
        """lavaan-style start values for prepared ``data`` (from its sample
        ``moments`` (S, mu) where the caller has them)."""
        spec = spec or self._spec_for(data)
        S, mu = sample_moments(data) if moments is None else moments
        return start_values(spec.rows, spec.vars, S, mu, self.options["std_lv"])

    # -- checks before fitting -----------------------------------------------------
    def _check_identification(self, spec: _Spec, data: dict, theta0: np.ndarray):
        """Raise SpecificationError if the model has more parameters than moments, or
        if the Jacobian of its implied moments at a random point near the start has
        less than full column rank (naming the parameters of the null space).

        Without definition variables the moments depend on θ alone, so the generic
        rank is a property of the model: a model that passed is not checked again
        (the check took 1.2 ms of a 4.5 ms warm fit of the Holzinger–Swineford CFA)."""
        if spec.identified:
            return
        prob = spec.problem
        p = len(spec.vars.ov)
        n_mom = p * (p + 1) // 2 + (p if prob.meanstructure else 0)
        k = prob.n_params
        if not spec.vars.data_cols and k > n_mom:
            raise SpecificationError(
                f"the model has {k} free parameters but the data give only {n_mom} sample "
                f"moments ({p} variables{', with means' if prob.meanstructure else ''}): "
                f"{k - n_mom} more parameters than moments, so it cannot be identified")
        rng = np.random.default_rng(0)
        t = theta0 + rng.normal(0, 0.05, k) * (1 + np.abs(theta0))
        sub = data
        if spec.vars.data_cols:   # the first cases suffice for a generic rank
            m = min(50, data["Y"].shape[0])
            sub = {kk: v[:m] for kk, v in data.items() if kk != "patterns"}
            sub["patterns"] = data["patterns"]
        J = moment_jacobian(prob, t, sub)
        if not np.all(np.isfinite(J)):
            return
        sv = np.linalg.svd(J / np.maximum(np.linalg.norm(J, axis=0), 1e-300),
                           compute_uv=False)
        rank = int(np.sum(sv > 1e-8 * sv[0]))
        if rank < k:
            _, _, vt = np.linalg.svd(J / np.maximum(np.linalg.norm(J, axis=0), 1e-300))
            null = vt[rank:].T
            w = np.sqrt((null ** 2).sum(1))
            bad = [spec.names[i] for i in np.argsort(-w) if w[i] > 0.1]
            raise SpecificationError(
                f"the model is not identified: its {k} parameters span only {rank} "
                f"dimensions of the implied moments. Parameters involved: {bad}. Fix a "
                "loading or a variance (e.g. 1*x), or add equality constraints")
        spec.identified = not spec.vars.data_cols

    # -- fitting --------------------------------------------------------------------
    def fit(self, data: pd.DataFrame | None = None, *, missing: str = "error",
            information=None, se: str = "standard", n_starts: int = 1, seed=0,
            max_iter: int = 2000, weights=None, start=None, warn: bool = True,
            group: str | None = None, group_equal=(), group_partial=(),
            sample_cov: pd.DataFrame | None = None, sample_mean: pd.Series | None = None,
            sample_nobs: int | None = None, sample_cov_rescale: bool = True):
        """Fit by maximum likelihood; returns ``SEMResults``.

        Parameters
        ----------
        data : a DataFrame with a column for every observed variable of the model
            (other columns are ignored); or None with ``sample_cov``.
        sample_cov, sample_mean, sample_nobs : fit from summary statistics instead of
            data, as lavaan's ``sample.cov``, ``sample.mean``, ``sample.nobs``: a
            covariance matrix (a DataFrame labelled by the variables; ``sem.get_cov``
            reads a lower triangle), the means (a Series; needed by a model with a
            mean structure) and N. The covariance is taken as the unbiased one and
            rescaled by (N − 1)/N (``sample_cov_rescale=False``: as the ML one). Robust
            standard errors and factor scores need the data and are refused
            (``sem.sample_stats``).
        missing : "error" (default: any missing value is an error), "ml" (FIML) or
            "listwise".
        information : "expected" (lavaan's default for complete data) or "observed"
            (the default under FIML).
        se : "standard", "robust" (Huber–White sandwich from per-case scores) or "none".
        n_starts : number of starts; the first is the lavaan-style start, the others
            jittered copies (all run in one compiled call).
        seed : an int or a ``jax.random`` key for the jittered starts.
        max_iter : the optimizer's limit on objective evaluations; a fit that reaches
            it has ``converged=False`` and warns.
        weights : case (frequency) weights, one per row.
        start : a parameter vector (in ``param_names`` order) to start from instead of
            the lavaan-style start.
        warn : warn about non-convergence, a singular information matrix and
            Heywood cases (the result records them either way).
        group, group_equal : the column whose values define groups, and the kinds of
            parameters equal across them (lavaan's ``group`` and ``group.equal``;
            ``sem.multigroup``); returns a ``MultiGroupResults``.
        group_partial : parameters exempt from ``group_equal``, as lavaan's
            ``group.partial``: "lhs op rhs" such as "x3 ~ 1" or "visual =~ x2".
        """
        from .results import SEMResults

        check_count(n_starts, "n_starts")
        check_count(max_iter, "max_iter")
        if group is not None:
            from .multigroup import fit_groups

            if any(v is not None for v in (sample_cov, sample_mean, sample_nobs)):
                raise NotImplementedError("multiple groups from summary statistics: "
                                          "fit each group's data with group=")
            res = fit_groups(self, data, group, group_equal, group_partial,
                             missing=missing, information=information, se=se,
                             max_iter=max_iter, weights=weights, start=start,
                             n_starts=n_starts, seed=seed)
            if warn and not res.converged:
                warnings.warn("the optimizer did not converge", ConvergenceWarning,
                              stacklevel=2)
            if warn and not res.identified:
                warnings.warn("the information matrix is singular, so the model may not "
                              "be identified in some group", UserWarning, stacklevel=2)
            return res
        if group_equal or group_partial:
            raise SpecificationError("group_equal and group_partial need group= (the "
                                     "column of the groups)")
        moments = (sample_cov, sample_mean, sample_nobs)
        from_moments = any(v is not None for v in moments)
        # as lavaan, sample means switch the mean structure on (unless it is off)
        means = self._use_means(missing) or (sample_mean is not None
                                             and self.meanstructure is None)
        spec = self._spec(means)
        if from_moments:
            data = self._moments_data(spec, data, *moments, rescale=sample_cov_rescale,
                                      missing=missing, se=se, weights=weights)
        elif not isinstance(data, pd.DataFrame):
            raise DataError("data must be a DataFrame (or give sample_cov and "
                            f"sample_nobs), got {type(data).__name__}")
        ox = spec.vars.ov_x
        data, weights, dropped = _complete_on_covariates(ox, data, weights, missing)
        _warn_dropped([dropped], ox)
        d = self.prepare(data, missing=missing, weights=weights)
        if missing != "ml":
            _data.check_sample_covariance(d, spec.vars.ov)
        S, mu = sample_moments(d)
        theta0 = (self.start(d, spec, (S, mu)) if start is None
                  else check_start(start, spec.problem.n_params))
        spec.ram.check_nonsingular(theta0)
        # the likelihood's statistics: compiled code then serves every sample size
        work = _moment_summary(spec, {k: v[None] for k, v in d.items()}, S[None], mu[None])
        work = (summarize_one(spec.problem, d) if work is None
                else {k: v[0] for k, v in work.items()})
        self._check_identification(spec, work, theta0)
        starts = random_starts(theta0, n_starts, seed, positive=spec.problem.positive)
        opt = maximize(spec.problem, work, starts, max_iter=max_iter,
                       H0=information_H0(spec.problem, theta0, work))
        res = SEMResults(self, spec, d, opt, information=information, se=se,
                         missing=missing, summary=work)
        res.from_moments = from_moments
        if warn:
            res._warn()
        return res

    def _moments_data(self, spec, data, cov, mean, nobs, *, rescale, missing, se,
                      weights):
        """``fit`` from summary statistics: the data set of ``nobs`` cases with
        exactly those moments (``sem.sample_stats``), after the checks."""
        from .sample_stats import check_moments, moments_frame

        if data is not None:
            raise SpecificationError("give data or sample_cov (with sample_nobs), not both")
        if cov is None or nobs is None:
            raise SpecificationError("fitting from summary statistics needs sample_cov "
                                     "and sample_nobs")
        if missing == "ml" or weights is not None or se == "robust":
            raise SpecificationError(
                "from summary statistics there are no cases: missing='ml', case weights "
                "and se='robust' need the data")
        if spec.vars.data_cols:
            raise SpecificationError("definition variables need the data, not sample_cov")
        if spec.problem.meanstructure and mean is None:
            raise SpecificationError("the model has a mean structure (intercepts, or "
                                     "meanstructure=True): give sample_mean as well")
        S, m, N = check_moments(cov, mean, nobs, list(spec.vars.ov))
        return moments_frame(S, m if spec.problem.meanstructure else None, N,
                             list(spec.vars.ov), rescale=rescale)

    def fit_many(self, datasets, *, missing: str = "error", information=None,
                 se: str = "standard", n_starts: int = 1, seed=0, max_iter: int = 2000,
                 weights=None, chunk: int | None = None, warn: bool = True):
        """Fit many data sets of the same variables in one compiled call.

        Returns a list of ``SEMResults`` (one per data set, same parameter names), whose
        ``.params`` can be stacked with ``pd.DataFrame([r.params for r in out])``.
        Standard errors are computed batched as well, for all the results at once when
        the first of them is read (``sem.results.DeferredInference``): estimates alone
        cost no information matrices. The data sets go through one
        compiled program per model structure and batch shape, so a later call with
        as many data sets compiles nothing (and the programs are cached on disk
        across processes).

        Parameters
        ----------
        datasets : a sequence of DataFrames, each with a column for every observed
            variable; an error in one names its position ("data set 3: ...").
        missing, information, n_starts, seed, max_iter, warn : as in ``fit``
            (``warn`` gives one warning that counts the fits that did not converge).
        se : as in ``fit``; "none": no standard errors at all (NaN).
        weights : None, or one weight vector (or None) per data set.
        chunk : at most this many data sets in memory on the device at once (None:
            all); chunks share one compiled program.

        Data sets of one population start from a pilot fit to their mean moments
        (``_pilot_starts``); for case resampling of one data set ``bootstrap`` is
        faster still (case weights on the shared data, no frames to read).
        """
        from .results import DeferredInference, SEMResults, check_se

        check_se(se)
        check_count(n_starts, "n_starts")
        check_count(max_iter, "max_iter")
        spec = self._spec(self._use_means(missing))
        if missing == "ml" and spec.vars.ov_x:
            datasets = list(datasets)
            weights = [None] * len(datasets) if weights is None else list(weights)
            dropped = []
            for i, (f, w) in enumerate(zip(datasets, weights)):
                datasets[i], weights[i], d = _complete_on_covariates(spec.vars.ov_x, f, w,
                                                                     missing)
                dropped.append(d)
            _warn_dropped(dropped, spec.vars.ov_x)
        stacked, prepped, moments = _data.prepare_many(
            datasets, spec.vars.ov, missing=missing, defvars=spec.vars.data_cols,
            weights=weights, moments=True)
        if stacked["patterns"].shape[1] > 1 and not spec.problem.meanstructure:
            raise SpecificationError("missing values need meanstructure=True")
        S, mu = moments if moments is not None else sample_moments_many(stacked, prepped)
        theta0 = start_values(spec.rows, spec.vars, S, mu, self.options["std_lv"])
        spec.ram.check_nonsingular(theta0[0])
        # the likelihood's statistics, once for the starts, the solve and the SEs (the
        # data themselves with definition variables: ``summarize_many`` returns them)
        work = _moment_summary(spec, stacked, S, mu)
        if work is None:
            work = summarize_many(spec.problem, stacked, chunk)
        first = prepped[0] if work is stacked else {k: v[0] for k, v in work.items()}
        self._check_identification(spec, first, theta0[0])
        plain = not (spec.problem.has_defvars or spec.problem.positive.any())
        H0 = None
        if plain and len(prepped) > 1:
            theta0, H0 = self._pilot_starts(spec, work, theta0, max_iter, chunk)
        rng_seed = seed_to_int(seed)
        starts = theta0[:, None, :] if n_starts == 1 else np.stack([
            random_starts(t0, n_starts, rng_seed + i, positive=spec.problem.positive)
            for i, t0 in enumerate(theta0)])
        if plain and H0 is None:
            info0 = apply_in_chunks(compiled(spec.problem, "expected_many"), starts[:, 0],
                                    work, chunk)
            H0 = h0_from_information(spec.problem, info0, work["w"].sum(axis=1))
        opts = maximize_many(spec.problem, work, starts, max_iter=max_iter, chunk=chunk,
                             H0=H0)
        # standard errors: all at once when the first result needs them
        batch = DeferredInference(spec, work, opts, information, missing, se, chunk)
        # the summaries carry each data set's total weight (D, 1); the data their weights
        nobs = np.asarray(work["w"]).sum(axis=1).tolist()
        out = [SEMResults(self, spec, prepped[i], opts[i], information=information,
                          se=se, missing=missing, nobs=nobs[i], deferred=(batch, i))
               for i in range(len(prepped))]
        if warn:
            n_bad = sum(not r.converged for r in out)
            if n_bad:
                warnings.warn(f"{n_bad} of {len(out)} fits did not converge; see "
                              "each result's .converged", ConvergenceWarning, stacklevel=2)
        return out

    def _pilot_starts(self, spec, work, theta0, max_iter, chunk):
        """``fit_many``'s starts: each data set's own lavaan-style start, or the
        estimate of a pilot fit where that has the higher log-likelihood.

        Replications and bootstrap draws of one population then start near their
        optimum. The first pilot is fitted to the data sets' mean moments (complete
        data), the centre of the cloud of estimates: on 1000 HS bootstrap frames BFGS
        takes 29 iterations from the frames' own starts, 22.6 from the first frame's
        estimate and 17.7 from the centre's. Where a data set prefers its own start
        to the centre (another population, or a scale far from the mean), the first
        data set's own fit is tried as well. When every data set starts at one pilot,
        its inverse Hessian (n · I⁻¹ of the pilot's expected information) is BFGS's
        first one for all (k, k); otherwise None (each data set's own information at
        its start is used)."""
        prob = spec.problem
        ll = compiled(prob, "loglik_many")
        best = None
        starts, chosen, pilots = np.array(theta0), np.full(len(theta0), -1), []
        candidates = [{k: v[0] for k, v in work.items()}]       # the first data set
        if "nP" in work and np.shape(work["nP"])[1] == 1:     # complete: the centre
            candidates.insert(0, {k: np.mean(v, axis=0) if k != "patterns" else v[0]
                                  for k, v in work.items()})
        for pdata in candidates:
            pilot = maximize(prob, pdata, theta0[:1], max_iter=max_iter)
            if pilot.converged:
                # both points in one batched call (two calls: 1.5-2.5 ms more per 1000)
                at = apply_in_chunks(ll, np.stack(
                    [theta0, np.broadcast_to(pilot.theta, theta0.shape)], axis=1),
                    work, chunk)
                at = np.where(np.isfinite(at), at, -np.inf)
                best = at[:, 0] if best is None else best
                at = at[:, 1]
                better = at > best
                starts[better], best[better] = pilot.theta, at[better]
                chosen[better] = len(pilots)
                pilots.append((pilot, pdata))
            if (chosen >= 0).all():
                break
        if not pilots or (chosen != chosen[0]).any() or chosen[0] < 0:
            return starts, None
        pilot, pdata = pilots[chosen[0]]
        return starts, information_H0(prob, pilot.theta, pdata)

    def bootstrap(self, data: pd.DataFrame, n_boot: int = 1000, *, seed=0,
                  missing: str = "error", chunk: int | None = None) -> pd.DataFrame:
        """Nonparametric bootstrap: case resampling as frequency weights, all draws in
        one compiled call. Returns the estimates, one row per draw (column
        ``converged``); ``fit(data).conf_int(bootstrap=draws)`` gives percentile
        intervals from them.

        Every draw starts at the full-sample estimate, with the inverse of its observed
        information as BFGS's first inverse Hessian. ``seed`` (an int or a
        ``jax.random`` key) fixes the draws; ``missing`` as in ``fit``; ``chunk`` bounds
        the draws in memory at once."""
        check_count(n_boot, "n_boot")
        spec = self._spec(self._use_means(missing))
        # warm start every draw at the full-sample estimate, with its inverse Hessian
        full = self.fit(data, missing=missing, information="observed", warn=False)
        d = full.data                          # the data as ``prepare`` gives them
        n = d["Y"].shape[0]
        rng = np.random.default_rng(seed_to_int(seed))
        W = bootstrap_weights(rng, n, n_boot)
        theta0 = full.theta
        H0 = None
        if full.identified and not spec.problem.positive.any():
            H0 = np.asarray(full.cov_theta) * full.nobs
        opts = maximize_weighted(spec.problem, d, W, theta0, chunk=chunk, H0=H0)
        # from one stacked array: a frame from a list of 1000 rows took 1.5 ms, this 0.4
        est = pd.DataFrame(np.stack([o.theta[spec.reported] for o in opts]),
                           columns=[n for n, r in zip(spec.names, spec.reported) if r])
        est["converged"] = [o.converged for o in opts]
        return est

    # -- the likelihood-model protocol (sem.protocol) -------------------------------
    def loglik_cases(self, theta, data: dict):
        """Per-case log-likelihood contributions at θ for prepared ``data``."""
        return self.problem(data).loglik_cases(jnp.asarray(theta), data)

    def __repr__(self):
        return f"Model({self.syntax!r})"


def growth(model: str, **options) -> Model:
    """A latent growth model with lavaan's ``growth()`` defaults: a mean structure, the
    observed variables' intercepts fixed at 0 (except exogenous covariates') and the
    latent means free, so that the growth factors' means carry the mean trajectory.
    ``options`` are ``Model``'s and override these three. Their starts: the latent
    means are the least-squares fit of the indicators' means on the (start) loadings.
    """
    for k, v in (("meanstructure", True), ("int_ov_free", False), ("int_lv_free", True)):
        options.setdefault(k, v)
    return Model(model, **options)
