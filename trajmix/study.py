"""Monte Carlo simulation studies of growth mixtures.

A study is a grid of conditions × R replications. For each condition a *population*
function returns the data-generating model, its parameter vector θ and the keyword
arguments of ``trajmix.simulate``; the R data sets are drawn, and fitted together in
**one batched computation** (``GrowthMixture.fit_many``: replications × starts under
``vmap``, in chunks if asked), their classes matched to the population's by Hungarian
assignment. Conditions are mapped over an ``executor`` — any
``concurrent.futures.Executor``, e.g. ``dask.distributed.Client(...).get_executor()``
for a cluster — or run in this process.

Per parameter, over the R replications (converged or not: nothing is dropped silently;
the summary uses the converged ones and reports their share):

* relative bias (mean θ̂ − θ)/θ (absolute bias where θ = 0);
* empirical SE sd(θ̂), mean of the estimated SEs, RMSE √mean(θ̂ − θ)²;
* coverage of the nominal 95 % Wald interval θ̂ ± 1.96 ŝ (or, with ``n_boot``, of
  each replication's bootstrap percentile interval);

and per condition the convergence rate and the mean adjusted Rand index between modal
and true classes (Hubert & Arabie 1985), over the converged replications. A condition
none of whose replications converged keeps its rows (``n_used`` 0, ``conv_rate`` 0,
the measures NaN). Definitions as in Liu & Perera's simulation
studies (research notes §3.3).

Every condition's replication-level results are saved (CSV, with the condition and its
seed in ``study.json``) as soon as it finishes, so an interrupted study resumes without
recomputing anything, and the same seed reproduces the same numbers.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sem.errors import SpecificationError

from .simulate import simulate



class StudyError(RuntimeError):
    """A condition failed; the finished conditions are kept on disk."""


def _condition_key(cond: dict) -> str:
    return hashlib.sha1(json.dumps(cond, sort_keys=True, default=str).encode()).hexdigest()[:12]


def paper_population(cond: dict):
    """Liu & Perera's two-class bilinear-spline mixture of experts, with the factors a
    condition may change (defaults in brackets, from the paper's demo population):
    ``n`` [500], ``J`` occasions [10], ``knots`` [(3.5, 5.5)], ``theta`` residual
    variance [1.0], ``mixing`` share of class 1 at x_g = 0 [0.5], ``variant``
    ["full"], ``jitter`` of the times [0.25], ``p_missing`` MCAR share [0].

    Returns (model, θ, simulate keyword arguments)."""
    from .simulate import liu_perera_population, population_theta

    variant = cond.get("variant", "full")
    model, _ = liu_perera_population(variant)
    J = int(cond.get("J", 10))
    knots = tuple(cond.get("knots", (3.5, 5.5)))
    theta_e = float(cond.get("theta", 1.0))
    mixing = float(cond.get("mixing", 0.5))
    if not 0 < mixing < 1:
        raise SpecificationError(f"condition {cond}: mixing proportion {mixing} must lie "
                                 "strictly between 0 and 1")
    if theta_e <= 0:
        raise SpecificationError(f"condition {cond}: the residual variance must be > 0")
    jitter = float(cond.get("jitter", 0.25))
    if not 0 <= jitter < 0.5:
        raise SpecificationError(f"condition {cond}: jitter {jitter} must lie in [0, 0.5) "
                                 "(occasions are one time unit apart; a larger jitter "
                                 "lets neighbouring occasions swap)")
    for g in knots:
        if not 0 < g < J - 1:
            raise SpecificationError(f"condition {cond}: knot {g} lies outside the time "
                                     f"range (0, {J - 1})")
    Psi_tot = np.array([[25, 1.5, 1.5], [1.5, 1, .3], [1.5, .3, 1]])
    Phi = np.array([[1, .3], [.3, 1]])
    B1 = np.array([[0.8849, 1.3274], [0.1770, 0.2655], [0.1770, 0.2655]])
    classes = []
    for slope2, g, B in [(-2.6, knots[0], B1), (-3.4, knots[1], B1 * np.sqrt(2))]:
        c = dict(mean=[100.0, -5.0, slope2], knot=g, theta=theta_e)
        if model.experts:
            c.update(beta=B, mux=np.zeros(2), phi=Phi, psi=Psi_tot - B @ Phi @ B.T)
        else:
            c["psi"] = Psi_tot
        classes.append(c)
    b0 = np.log((1 - mixing) / mixing)
    gate = (np.array([[b0, np.log(1.5), np.log(1.7)]]) if model.gating
            else np.array([[b0]]))
    theta = population_theta(model, classes, gate)
    sim = dict(J=J, jitter=jitter,
               missing="mcar" if cond.get("p_missing", 0) else None,
               p_missing=float(cond.get("p_missing", 0.0)))
    return model, theta, sim


def _truth(model, theta, sim, n_big=20000, seed=0):
    """Reported parameters of the population (class shares over a large sample)."""
    from .results import GrowthMixtureResults  # noqa: F401  (report machinery)
    from .report import report_function, report_spec
    from sem.jaxconfig import jnp

    big = simulate(model, theta, n_big, seed=seed, **sim)
    J = sim["J"]
    gd = model.prepare(big, y=[f"Y{j}" for j in range(1, J + 1)],
                       t=[f"T{j}" for j in range(1, J + 1)])
    g = report_function(model.layout, model.curve, model.problem().class_prior)
    val = np.asarray(g(jnp.asarray(theta), {k: jnp.asarray(v) for k, v in gd.arrays.items()}))
    names = [r["name"] for r in report_spec(model.layout, model.curve, dict(
        experts=model.experts, gating=model.gating, tvc=model._tvc_names(), outcome="y"))]
    return pd.Series(val, index=names)


def run_condition(population, cond: dict, n_rep: int, seed: int, n_starts: int = 3,
                  chunk: int | None = None, data_starts: int = 1,
                  max_iter: int = 3000, se: str = "standard", n_boot: int = 0
                  ) -> pd.DataFrame:
    """All replications of one condition, fitted in one batched call; one row per
    replication × parameter (est, se, lower, upper, converged, ari). ``se``:
    "standard" (observed information) or "robust" (sandwich), as in
    ``GrowthMixture.fit``. The interval [lower, upper] is the 95 % Wald interval, or
    with ``n_boot`` > 0 the percentile interval of that many bootstrap draws of each
    replication (``GrowthMixtureResults.bootstrap``; a replication whose draws fail
    counts as not converged)."""
    from sklearn.metrics import adjusted_rand_score

    model, theta, sim = population(cond)
    n = int(cond.get("n", 500))
    ss = np.random.SeedSequence(seed)
    seeds = [int(s.generate_state(1)[0]) for s in ss.spawn(n_rep)]
    sets = [simulate(model, theta, n, seed=s, **sim) for s in seeds]
    J = sim["J"]
    y, t = [f"Y{j}" for j in range(1, J + 1)], [f"T{j}" for j in range(1, J + 1)]
    # starts as in the authors' scripts: the population values × U(0.9, 1.1), plus
    # data-driven ones (k-means), so that the study measures the estimator, not luck
    gds = [model.prepare(d, y=y, t=t) for d in sets]
    rng = np.random.default_rng(seed)
    starts = []
    for i, gd in enumerate(gds):
        pop = [theta * rng.uniform(0.9, 1.1, theta.shape) for _ in range(n_starts)]
        data = list(model.starts(gd, data_starts, seeds[i])) if data_starts else []
        starts.append(np.stack(pop + data))
    try:
        fits = model.fit_many(gds, starts=np.stack(starts), reference=theta, chunk=chunk,
                              max_iter=max_iter, se=se, warn=False)
    except Exception as e:                      # every replication counts as failed
        raise StudyError(f"condition {cond}: fitting failed ({type(e).__name__}: {e})") from e
    rows = []
    for r, (fit, df, s) in enumerate(zip(fits, sets, seeds)):
        ari = adjusted_rand_score(df["class"], fit.classes.to_numpy())
        ok = fit.converged and np.all(np.isfinite(fit.bse.to_numpy()))
        ci = fit.conf_int()
        if n_boot:
            try:
                draws = fit.bootstrap(n_boot, seed=s, chunk=chunk and min(chunk, n_boot))
                ci = fit.conf_int(bootstrap=draws)
            except SpecificationError:       # too few draws converged: counted, kept
                ok = False
        for name, est, se, lo, hi in zip(fit.param_names, fit.params.to_numpy(),
                                         fit.bse.to_numpy(), ci["lower"].to_numpy(),
                                         ci["upper"].to_numpy()):
            rows.append(dict(rep=r, seed=s, param=name, est=est, se=se, lower=lo,
                             upper=hi, interval="percentile" if n_boot else "wald",
                             converged=ok, ari=ari, llf=fit.llf))
    return pd.DataFrame(rows)


def summarize(reps: pd.DataFrame, truth: pd.Series, level: float = 0.95) -> pd.DataFrame:
    """Per-parameter performance measures from replication-level results."""
    from scipy import stats

    q = stats.norm.ppf(0.5 + level / 2)
    conv_mask = reps["converged"].astype(bool)
    out = []
    # every parameter gets a row, even when no replication converged (a condition
    # whose fits all failed must show up with conv_rate 0, not vanish)
    for name, g_all in reps.groupby("param", sort=False):
        g = g_all[g_all["converged"].astype(bool).to_numpy()]
        th = truth[name]
        e, s = g["est"].to_numpy(), g["se"].to_numpy()
        if not len(e):
            out.append(dict(param=name, true=th, mean=np.nan, rel_bias=np.nan,
                            bias=np.nan, emp_se=np.nan, mean_se=np.nan, rmse=np.nan,
                            coverage=np.nan, n_used=0))
            continue
        bias = e.mean() - th
        stored = "lower" in g and g["lower"].notna().all()
        if stored and level == 0.95:         # each replication's own 95 % interval
            cover = np.mean((g["lower"].to_numpy() <= th) & (th <= g["upper"].to_numpy()))
        elif stored and "interval" in g and (g["interval"] == "percentile").any():
            raise ValueError("bootstrap intervals were stored at 95 %; a study scores "
                             f"another level ({level}) only with Wald intervals")
        else:                                # Wald at ``level``
            cover = np.mean(np.abs(e - th) <= q * s)
        out.append(dict(param=name, true=th, mean=e.mean(),
                        rel_bias=bias / th if th != 0 else np.nan, bias=bias,
                        emp_se=e.std(ddof=1) if len(e) > 1 else np.nan, mean_se=s.mean(),
                        rmse=np.sqrt(np.mean((e - th) ** 2)),
                        coverage=cover, n_used=len(e)))
    res = pd.DataFrame(out)
    n_rep = reps["rep"].nunique()
    conv = reps[conv_mask]
    res["conv_rate"] = conv["rep"].nunique() / n_rep if n_rep else np.nan
    # like every other measure, over the converged replications
    res["ari"] = (conv.groupby("rep")["ari"].first().mean() if len(conv) else np.nan)
    return res


def _worker(args):
    population, cond, n_rep, seed, n_starts, chunk, data_starts, max_iter, se, n_boot = args
    reps = run_condition(population, cond, n_rep, seed, n_starts, chunk, data_starts,
                         max_iter, se, n_boot)
    model, theta, sim = population(cond)
    return reps, _truth(model, theta, sim, seed=seed)


@dataclass
class SimulationStudy:
    """A grid of ``conditions`` (a DataFrame or a list of dicts) × ``n_rep``
    replications; ``population(condition) -> (model, θ, simulate kwargs)``
    (default ``paper_population``). ``path``: a folder where results are saved and from
    which an interrupted study resumes. ``se``: the standard errors whose intervals are
    scored, "standard" (observed information) or "robust" (sandwich); ``n_boot`` > 0
    scores percentile intervals of that many bootstrap draws per replication instead
    (slow: every replication is refitted ``n_boot`` times)."""

    conditions: list
    n_rep: int = 200
    population: object = paper_population
    seed: int = 0
    n_starts: int = 3
    data_starts: int = 1
    chunk: int | None = None
    max_iter: int = 3000
    se: str = "standard"
    n_boot: int = 0
    path: str | None = None
    progress: bool = True
    results_: pd.DataFrame | None = field(default=None, init=False)

    def __post_init__(self):
        if isinstance(self.conditions, pd.DataFrame):
            self.conditions = self.conditions.to_dict("records")
        self.conditions = [dict(c) for c in self.conditions]
        if not self.conditions:
            raise SpecificationError("a study needs at least one condition")
        for c in self.conditions:          # fail before any work: cannot be simulated
            self.population(c)
        ss = np.random.SeedSequence(self.seed)
        self.seeds = [int(s.generate_state(1)[0]) for s in ss.spawn(len(self.conditions))]

    # -- persistence ------------------------------------------------------------------
    def _file(self, i):
        return os.path.join(self.path, f"condition_{i:03d}_{_condition_key(self.conditions[i])}.csv")

    def _save_meta(self):
        os.makedirs(self.path, exist_ok=True)
        meta = dict(conditions=self.conditions, seeds=self.seeds, n_rep=self.n_rep,
                    seed=self.seed, n_starts=self.n_starts, data_starts=self.data_starts,
                    se=self.se, n_boot=self.n_boot)
        with open(os.path.join(self.path, "study.json"), "w") as f:
            json.dump(meta, f, indent=1, default=str)

    def _load(self, i):
        if self.path and os.path.exists(self._file(i)):
            d = pd.read_csv(self._file(i))
            truth = d.drop_duplicates("param").set_index("param")["true"]
            return d.drop(columns="true"), truth
        return None

    def _store(self, i, reps, truth):
        if self.path:
            d = reps.assign(true=reps["param"].map(truth))
            d.to_csv(self._file(i) + ".tmp", index=False)
            os.replace(self._file(i) + ".tmp", self._file(i))

    # -- running ------------------------------------------------------------------------
    def run(self, executor=None) -> pd.DataFrame:
        """Run (or resume) the study; returns the summary table (one row per
        condition × parameter) and keeps it as ``results_``."""
        from tqdm.auto import tqdm

        if self.path:
            self._save_meta()
        done, todo = {}, []
        for i in range(len(self.conditions)):
            got = self._load(i)
            if got is not None:
                done[i] = got
            else:
                todo.append(i)
        args = {i: (self.population, self.conditions[i], self.n_rep, self.seeds[i],
                    self.n_starts, self.chunk, self.data_starts, self.max_iter, self.se,
                    self.n_boot)
                for i in todo}
        bar = tqdm(total=len(self.conditions), initial=len(done), desc="conditions",
                   disable=not self.progress)
        failure = None
        if executor is None:
            for i in todo:
                try:
                    done[i] = _worker(args[i])
                except Exception as e:
                    failure = (i, e)
                    break
                self._store(i, *done[i])
                bar.update()
        else:
            futures = {executor.submit(_worker, args[i]): i for i in todo}
            from concurrent.futures import as_completed

            for fut in _as_completed(futures, as_completed):
                i = futures[fut]
                try:
                    done[i] = fut.result()
                except Exception as e:
                    failure = failure or (i, e)
                    continue
                self._store(i, *done[i])
                bar.update()
        bar.close()
        if failure is not None:
            i, e = failure
            raise StudyError(f"condition {i} {self.conditions[i]} failed "
                             f"({type(e).__name__}: {e}); {len(done)} finished conditions "
                             f"are kept{' in ' + self.path if self.path else ''}") from e
        tables = []
        for i in sorted(done):
            reps, truth = done[i]
            s = summarize(reps, truth)
            for k, v in self.conditions[i].items():
                s.insert(0, k, str(v) if isinstance(v, (list, tuple)) else v)
            s.insert(0, "condition", i)
            tables.append(s)
        self.results_ = pd.concat(tables, ignore_index=True)
        if self.path:
            self.results_.to_csv(os.path.join(self.path, "summary.csv"), index=False)
        return self.results_


def _as_completed(futures, as_completed):
    """``concurrent.futures.as_completed``, or the futures in order for executors whose
    futures it does not accept (dask's are accepted by ``distributed.as_completed``)."""
    try:
        return as_completed(futures)
    except TypeError:  # pragma: no cover
        return list(futures)
