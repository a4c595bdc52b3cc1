"""Results of a growth-mixture fit: estimates, SEs, posteriors, class summaries."""
from __future__ import annotations

import warnings
from functools import cached_property

import numpy as np
import pandas as pd

from sem.errors import BoundaryWarning, ConvergenceWarning, SpecificationError, check_count
from sem.estimation import apply_in_chunks, cached_jit, compiled
from sem.inference import intervals, invert_information, sandwich, wald_table
from sem.jaxconfig import jax, jnp

from .report import estimates_table, report_function, report_spec


def batched_information(prob, stacked, opts, chunk: int | None = None):
    """Observed information matrices of many fits, batched (``chunk`` per call)."""
    theta = np.stack([o.theta for o in opts])
    return list(-apply_in_chunks(compiled(prob, "hessian_many"), theta, stacked, chunk))


class GrowthMixtureResults:
    """``params``, ``bse``, ``conf_int()``, ``llf``, ``aic``, ``bic``, ``n_params``,
    ``estimates``, ``posterior``, ``converged`` and more (statsmodels-like)."""

    def __init__(self, model, gdata, problem, opt, *, se="standard", order="auto",
                 info=None, level=0.95):
        self.model, self.data, self.problem, self.opt = model, gdata, problem, opt
        self.level, self.se_type = level, se
        arrays = gdata.arrays
        self._jdata = {k: jnp.asarray(v) for k, v in arrays.items()}
        self.theta = model.canonical(np.asarray(opt.theta, dtype=float), arrays, order)
        self.llf = float(opt.llf)
        self.converged = bool(opt.converged)
        self.nobs = float(np.sum(arrays["w"]))
        self.n_params = int(problem.n_params)
        self._rows = report_spec(model.layout, model.curve, dict(
            experts=model.experts, gating=model.gating, tvc=model._tvc_names(),
            outcome="y"))
        self._vcov(info)

    @cached_property
    def _g(self):
        """g(θ, data): the reported parameters (``trajmix.report``)."""
        return report_function(self.model.layout, self.model.curve,
                               self.problem.class_prior)

    def __getstate__(self):
        # ``_g`` is a closure, which pickle cannot store; it is rebuilt on first use
        state = dict(self.__dict__)
        state.pop("_g", None)
        return state

    # -- inference ------------------------------------------------------------------
    def _vcov(self, info):
        k = self.n_params
        if self.se_type == "none":
            self.cov_theta = np.full((k, k), np.nan)
            self.identified, self.null_params = True, []
            return
        if info is None:
            info = -np.asarray(compiled(self.problem, "hessian")(jnp.asarray(self.theta),
                                                                  self._jdata))
        inv = invert_information(info)
        self.information_matrix = info
        self.identified = not inv.singular
        self.null_params = [self.problem.param_names[i] for i in inv.null_params]
        cov = inv.cov
        if self.se_type == "robust":
            s = np.asarray(compiled(self.problem, "scores")(jnp.asarray(self.theta),
                                                            self._jdata))
            cov = sandwich(cov, s, np.asarray(self.data.arrays["w"]))
        elif self.se_type != "standard":
            raise ValueError("se must be 'standard', 'robust' or 'none'")
        self.cov_theta = cov

    @cached_property
    def _reported(self):
        """Reported parameters and their delta-method covariance J Cov(θ) Jᵀ."""
        g = self._g
        fn = cached_jit(("trajmix-report", self.problem.cache_key()),
                        lambda: lambda th, d: (g(th, d), jax.jacfwd(g)(th, d)))
        val, J = fn(jnp.asarray(self.theta), self._jdata)
        J = np.asarray(J)
        return np.asarray(val), J @ self.cov_theta @ J.T

    @property
    def param_names(self) -> list[str]:
        return [r["name"] for r in self._rows]

    @property
    def params(self) -> pd.Series:
        return pd.Series(self._reported[0], index=self.param_names, name="est")

    @property
    def bse(self) -> pd.Series:
        return pd.Series(np.sqrt(np.maximum(np.diag(self._reported[1]), 0)),
                         index=self.param_names, name="se")

    def cov_params(self) -> pd.DataFrame:
        return pd.DataFrame(self._reported[1], index=self.param_names,
                            columns=self.param_names)

    def conf_int(self, alpha: float = 0.05, bootstrap: pd.DataFrame | None = None
                 ) -> pd.DataFrame:
        """Wald intervals est ± z·se; with ``bootstrap`` (the draws of
        ``self.bootstrap()``) percentile intervals of its converged draws."""
        return intervals(self.params, self.bse, alpha, bootstrap)

    def bootstrap(self, n_boot: int = 1000, *, seed=0, chunk: int | None = None,
                  max_iter: int = 3000) -> pd.DataFrame:
        """Nonparametric bootstrap of the reported parameters (as OpenMx's
        ``mxBootstrap``): persons are resampled with replacement as frequency weights
        and every draw is refitted in one batched call (``maximize_weighted``, ``chunk``
        draws at a time), started at this fit's estimate; each draw's classes are then
        matched to this fit's (Hungarian assignment, ``trajmix.labels``), so a draw
        whose labels switched is relabelled, not lost. Returns one row per draw: the
        reported parameters, ``llf`` and ``converged`` (non-converged draws are kept
        and flagged). ``conf_int(bootstrap=draws)`` gives percentile intervals; the
        draws' standard deviations are bootstrap SEs."""
        from sem.estimation import (bootstrap_weights, maximize_weighted, seed_to_int,
                                    weighted_stack)

        from .labels import match_to_reference

        if check_count(n_boot, "n_boot") < 2:
            raise SpecificationError(f"n_boot must be at least 2, got {n_boot}")
        arrays = self.data.arrays
        n = np.shape(arrays["w"])[0]
        rng = np.random.default_rng(seed_to_int(seed))
        W = bootstrap_weights(rng, n, n_boot)
        opts = maximize_weighted(self.problem, arrays, W, self.theta, chunk=chunk,
                                 max_iter=max_iter)
        se = np.sqrt(np.diag(self.cov_theta)) if self.se_type != "none" else None
        theta = np.stack([match_to_reference(self.model, o.theta, self.theta, se)
                          for o in opts])
        g = self._g
        fn = cached_jit(("trajmix-report-many", self.problem.cache_key()),
                        lambda: jax.vmap(g))
        val = apply_in_chunks(fn, theta, weighted_stack(arrays, W), chunk)
        out = pd.DataFrame(val, columns=self.param_names)
        out["llf"] = [o.llf for o in opts]
        out["converged"] = [o.converged for o in opts]
        return out

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(wald_table(self.params, self.bse)["pvalue"].to_numpy(),
                         index=self.param_names)

    @cached_property
    def estimates(self) -> pd.DataFrame:
        """A lavaan-style table: class, block, lhs, op, rhs, name, est, se, z, pvalue,
        ci.lower, ci.upper."""
        return estimates_table(self._rows, self.params, self.bse, self.level)

    # -- information criteria -------------------------------------------------------
    @property
    def aic(self) -> float:
        return -2 * self.llf + 2 * self.n_params

    @property
    def bic(self) -> float:
        return -2 * self.llf + self.n_params * np.log(self.nobs)

    @property
    def sabic(self) -> float:
        return -2 * self.llf + self.n_params * np.log((self.nobs + 2) / 24)

    # -- classes --------------------------------------------------------------------
    @cached_property
    def posterior(self) -> pd.DataFrame:
        """Posterior class probabilities p_ik ∝ π_ik f_k(y_i) (persons × classes)."""
        prob = self.problem
        fn = cached_jit(("trajmix-posterior", prob.cache_key()), lambda: prob.posterior)
        P = np.asarray(fn(jnp.asarray(self.theta), self._jdata))
        return pd.DataFrame(P, index=self.data.ids,
                            columns=[f"class{k + 1}" for k in range(P.shape[1])])

    def predict_proba(self, data: pd.DataFrame, y=None, t=None, *, id=None, time=None,
                      outcome=None) -> pd.DataFrame:
        """Posterior class probabilities of *new* persons under the fitted model
        (flexmix's ``posterior(newdata=)``, lcmm's ``predictClass``): their outcomes,
        times and covariates in the layout the model was fitted on (wide ``y``, ``t``
        or long ``id``, ``time``, ``outcome``). Any number of persons, one included;
        the fitted θ is not changed. On the fitted data it equals ``posterior``."""
        gd = self.model.prepare(data, y, t, id=id, time=time, outcome=outcome,
                                sample=False)
        prob = self.problem
        fn = cached_jit(("trajmix-posterior", prob.cache_key()), lambda: prob.posterior)
        P = np.asarray(fn(jnp.asarray(self.theta),
                          {k: jnp.asarray(v) for k, v in gd.arrays.items()}))
        return pd.DataFrame(P, index=gd.ids,
                            columns=[f"class{k + 1}" for k in range(P.shape[1])])

    def predict(self, data: pd.DataFrame, y=None, t=None, **long) -> pd.Series:
        """Modal class (1..K) of new persons (``predict_proba``'s arguments)."""
        P = self.predict_proba(data, y, t, **long)
        return pd.Series(P.to_numpy().argmax(1) + 1, index=P.index, name="class")

    @property
    def classes(self) -> pd.Series:
        """Modal class of each person (1..K)."""
        return pd.Series(self.posterior.to_numpy().argmax(1) + 1, index=self.data.ids,
                         name="class")

    @property
    def entropy(self) -> float:
        """Relative entropy 1 − Σ_ik −p_ik log p_ik / (N log K) (1 = perfect separation)."""
        K = self.model.n_classes
        if K == 1:
            return 1.0
        P = np.clip(self.posterior.to_numpy(), 1e-300, 1)
        w = self.data.arrays["w"]
        return float(1 - np.sum(w[:, None] * -P * np.log(P)) / (w.sum() * np.log(K)))

    @property
    def class_shares(self) -> pd.Series:
        return self.params[[f"c{k + 1}.share" for k in range(self.model.n_classes)]]

    @property
    def start_llfs(self) -> np.ndarray:
        """Final log-likelihood of every start, best first."""
        return np.sort(self.opt.start_llfs)[::-1]

    @property
    def replicated(self) -> int:
        """Number of starts that reached the best log-likelihood (within 1e-3)."""
        return self.opt.replication()

    # -- admissibility ----------------------------------------------------------------
    @property
    def boundary(self) -> list[str]:
        """Reasons the solution lies on the boundary: a class that (almost) empties, a
        growth-factor covariance that is singular."""
        out = []
        share = self.posterior.to_numpy().mean(0)
        for k, s in enumerate(share):
            if s < 0.01:
                out.append(f"class {k + 1} holds {s:.1%} of the persons")
        lay = self.model.layout
        for k in range(lay.K):
            L = np.asarray(lay.unpack_class(jnp.asarray(self.theta), k)["L"])
            ev = np.linalg.eigvalsh(L @ L.T)
            if ev[0] < 1e-8 * max(ev[-1], 1e-300):
                out.append(f"class {k + 1}'s growth-factor covariance is singular")
        return out

    def _warn(self):
        if not self.converged:
            warnings.warn(f"the optimizer did not converge ({self.opt.message})",
                          ConvergenceWarning, stacklevel=3)
        if self.boundary:
            warnings.warn("boundary solution: " + "; ".join(self.boundary),
                          BoundaryWarning, stacklevel=3)
        if not self.identified:
            warnings.warn("the information matrix is singular; parameters involved: "
                          f"{self.null_params}", UserWarning, stacklevel=3)

    # -- trajectories -----------------------------------------------------------------
    def trajectories(self, times=None) -> pd.DataFrame:
        """Class mean trajectories (``GrowthMixture.class_curve``: with joint experts
        at each class's own covariate means, the curve of the reported ``mean_orig``
        means; time-varying covariates at 0)."""
        arrays = self.data.arrays
        if times is None:
            obs = arrays["T"][arrays["mask"]]
            times = np.linspace(obs.min(), obs.max(), 50)
        out = {"time": np.asarray(times)}
        for k in range(self.model.layout.K):
            out[f"class{k + 1}"] = self.model.class_curve(self.theta, arrays, k, times)
        return pd.DataFrame(out)

    def summary(self) -> str:
        from .summary import render

        text = render(self)
        print(text)
        return text

    def __repr__(self):
        return (f"<GrowthMixtureResults K={self.model.n_classes} logL={self.llf:.3f} "
                f"BIC={self.bic:.3f} converged={self.converged}>")
