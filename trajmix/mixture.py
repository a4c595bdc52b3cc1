"""``GrowthMixture``: mixture-of-experts nonlinear growth models (Liu & Perera 2022).

>>> from trajmix import GrowthMixture
>>> m = GrowthMixture(curve="bilinear_spline", n_classes=2,
...                   gating=["gx1", "gx2"], experts=["ex1", "ex2"])
>>> res = m.fit(df, y=[f"Y{j}" for j in range(1, 11)], t=[f"T{j}" for j in range(1, 11)])

The four variants of the paper are chosen by arguments: no covariates (finite mixture),
``gating`` only, ``experts`` only, or both (full mixture of experts). ``n_classes=1`` is
a single-class latent growth curve model (with experts: a growth model with
time-invariant covariates). Estimation is direct maximum likelihood, as OpenMx does it,
from many starts in one compiled call.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sem.errors import SpecificationError, check_count
from sem.estimation import maximize, maximize_many, seed_to_int
from sem.starts import check_start

from . import data as _data
from .curves import get_curve
from .layout import Layout
from .problem import GrowthProblem, canonical_signs, permute_classes
from .starts import PseudoFactors, class_start, gating_start, kmeans

#: what a start vector (``fit(start=)``, a θ in ``init``) lists: the internal θ of
#: ``GrowthMixtureResults.theta``, not the reported ``params``
THETA_ORDER = "GrowthMixtureResults.theta"

EXPERT_LIKELIHOODS = ("joint", "conditional")
ORDERS = ("auto", "share", "none")


def _names(v, what: str) -> list:
    """A list of column names; a single name given as a string is one name (not a
    sequence of one-letter names)."""
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    try:
        out = list(v)
    except TypeError:
        raise SpecificationError(f"{what} must be a list of column names, got "
                                 f"{v!r}") from None
    bad = [x for x in out if not isinstance(x, str)]
    if bad:
        raise SpecificationError(f"{what} must be column names (strings), got {bad!r}")
    dup = sorted({x for x in out if out.count(x) > 1})
    if dup:
        raise SpecificationError(f"{what} lists {dup} more than once")
    return out


class GrowthMixture:
    """A K-class mixture of growth curves with gating and expert covariates.

    Parameters
    ----------
    curve : "linear", "quadratic", "negative_exponential", "jenss_bayley" or
        "bilinear_spline" (see ``trajmix.curves``).
    n_classes : K.
    gating : covariates of class membership (multinomial logit).
    experts : covariates that explain within-class differences in the growth factors.
    experts_likelihood : "joint" (default; the paper's model: the expert covariates get
        a class-specific normal distribution and enter the likelihood with the outcomes)
        or "conditional" (the classic mixture of experts: p(y | x) = Σ_k π_k(x) f_k(y | x)).
        The two log-likelihoods differ by log f(x_e), so their logL, AIC and BIC are not
        comparable with each other (nor a joint model's with a model without experts).
    tvc : time-varying covariates with direct effects on the outcome: for wide data a
        dict {name: [column at each occasion]}, for long data a list of column names.
    random_knot : let the nonlinear parameter (knot, rate) vary across persons
        (linearised, nlpsem's "intrinsic" model).
    invariant : blocks shared by all classes: any of "psi" (growth-factor covariance)
        and "theta" (residual variance).
    """

    def __init__(self, curve: str = "bilinear_spline", n_classes: int = 2, gating=None,
                 experts=None, experts_likelihood: str = "joint", tvc=None,
                 random_knot: bool = False, invariant=()):
        if experts_likelihood not in EXPERT_LIKELIHOODS:
            raise SpecificationError(
                f"experts_likelihood must be one of {EXPERT_LIKELIHOODS}, "
                f"got {experts_likelihood!r}")
        check_count(n_classes, "n_classes")
        gating, experts = _names(gating, "gating"), _names(experts, "experts")
        invariant = _names(invariant, "invariant")
        bad = set(invariant) - {"psi", "theta"}
        if bad:
            raise SpecificationError(f"invariant may contain 'psi' and 'theta', not {bad}")
        self.curve = get_curve(curve, random_knot)
        self.n_classes = int(n_classes)
        self.gating = list(gating or [])
        self.experts = list(experts or [])
        self.experts_likelihood = experts_likelihood
        self.tvc = tvc
        self.invariant = tuple(invariant)
        if self.n_classes == 1 and self.gating:
            raise SpecificationError("gating covariates need at least two classes")
        m = len(self.curve.nonlinear)
        self.layout = Layout(K=self.n_classes, q=self.curve.q, m=m, pg=len(self.gating),
                             pe=len(self.experts), pz=len(self._tvc_names()),
                             joint=experts_likelihood == "joint", invariant=self.invariant,
                             q_mean=len(self.curve.factors))

    def _tvc_names(self):
        if not self.tvc:
            return []
        return list(self.tvc) if not isinstance(self.tvc, dict) else list(self.tvc.keys())

    def get_params(self, deep=True) -> dict:
        return dict(curve=self.curve.name, n_classes=self.n_classes, gating=self.gating,
                    experts=self.experts, experts_likelihood=self.experts_likelihood,
                    tvc=self.tvc, random_knot=self.curve.random, invariant=self.invariant)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if v)
        return f"GrowthMixture({args})"

    # -- data ---------------------------------------------------------------------
    def prepare(self, data: pd.DataFrame, y=None, t=None, *, id=None, time=None,
                outcome=None, weights=None, sample: bool = True) -> _data.GrowthData:
        """Wide (``y``, ``t`` lists of columns) or long (``id``, ``time``, ``outcome``).
        ``sample=False``: persons to classify with a fitted model (any number, even
        one), without the checks that concern a sample to fit."""
        if y is not None or t is not None:
            if y is None or t is None:
                raise SpecificationError("wide data need both y=[...] and t=[...]")
            tvc = list(self.tvc.values()) if isinstance(self.tvc, dict) else []
            if self.tvc and not isinstance(self.tvc, dict):
                raise SpecificationError("for wide data give tvc as {name: [columns]}")
            gd = _data.from_wide(data, y, t, gating=self.gating, experts=self.experts,
                                 tvc=tvc, id=id, weights=weights, sample=sample)
            gd.tvc = self._tvc_names()
        elif time is not None and outcome is not None and id is not None:
            gd = _data.from_long(data, id, time, outcome, gating=self.gating,
                                 experts=self.experts, tvc=self._tvc_names(),
                                 weights=weights, sample=sample)
        else:
            raise SpecificationError("give y=[...] and t=[...] (wide data) or id=, time= "
                                     "and outcome= (long data)")
        need = self.curve.q + 1
        if sample and gd.J < need:
            raise SpecificationError(
                f"the {self.curve.name} curve has {self.curve.q} growth factors and needs at "
                f"least {need} occasions; the data have {gd.J}")
        # every class needs more persons than growth factors, or its growth-factor
        # covariance cannot be estimated (and a fit would report a 'converged'
        # degenerate solution)
        n_used = int(np.sum(np.asarray(gd.arrays["w"]) > 0))
        if sample and n_used < self.n_classes * need:
            raise _data.DataError(
                f"{n_used} persons are too few for {self.n_classes} class"
                f"{'es' if self.n_classes > 1 else ''} of the {self.curve.name} curve: each "
                f"class needs at least {need} persons ({self.curve.q} growth factors + 1), "
                f"so at least {self.n_classes * need} in all")
        return gd

    def problem(self, data=None) -> GrowthProblem:
        names = self.layout.names(self.curve.factor_names, self.curve.nonlinear,
                                  self.experts, self.gating, self._tvc_names())
        return GrowthProblem(self.layout, self.curve, self.layout.joint, names)

    # -- start values --------------------------------------------------------------
    def _pack(self, parts: list[dict], gate) -> np.ndarray:
        lay = self.layout
        theta = np.zeros(lay.size)
        for b in lay.blocks:
            k = 0 if b.cls is None else b.cls
            p = parts[k] if b.name != "gate" else None
            if b.name == "alpha":
                v = p["alpha"]
            elif b.name == "nl":
                v = p["nl"]
            elif b.name == "psi":
                v = p["L"][lay.tri]
            elif b.name == "logtheta":
                v = np.log(p["theta"]) if b.cls is not None else np.log(
                    np.mean([q["theta"] for q in parts]))
            elif b.name == "beta":
                v = p["beta"]
            elif b.name == "mux":
                v = p["mux"]
            elif b.name == "phi":
                v = p["phi"][lay.tri_e]
            elif b.name == "kappa":
                v = p["kappa"]
            else:
                v = gate
            theta[b.start:b.start + b.size] = np.ravel(v)
        return theta

    START_FEATURES = ("outcomes", "factors", "factors+nl", "random")

    def start(self, data, seed=0, n_init: int = 10, pseudo=None,
              features: str = "outcomes") -> np.ndarray:
        """Data-driven start values: provisional classes from k-means on ``features``
        ("outcomes", "factors", "factors+nl"; see ``PseudoFactors.features``) or a
        random partition ("random"), then per-class moments."""
        arrays = data.arrays if isinstance(data, _data.GrowthData) else data
        pf = pseudo or PseudoFactors(self.curve, arrays)
        K, n = self.n_classes, arrays["Y"].shape[0]
        seed = seed_to_int(seed)
        if K == 1:
            labels = np.zeros(n, dtype=int)
        elif features == "random":
            labels = np.random.default_rng(seed).integers(0, K, n)
        else:
            labels = kmeans(pf.features(features, arrays), K, seed, n_init=n_init)
        parts = []
        for k in range(K):
            members = labels == k
            if members.sum() < self.curve.q + 2:
                members = np.ones_like(members)
            parts.append(class_start(pf, arrays, members, experts=bool(self.experts),
                                     joint=self.layout.joint, pz=self.layout.pz))
        gate = gating_start(labels, arrays["Xg"], K)
        return self._pack(parts, gate)

    def starts(self, data, n_starts: int, seed=0) -> np.ndarray:
        """``n_starts`` start vectors, cycling through the provisional-class strategies
        of ``start`` (the first round with 10 k-means restarts each); starts after the
        first round are also jittered by U(0.9, 1.1).

        Different strategies find different optima: on the ECLS-K math data the
        2-class spline's best optimum (−2LL 31134.6) is reached from k-means on the
        growth factors, the runner-up (31135.2) from the outcomes or random
        partitions, and k-means on factors with the person's knot lands in a local
        maximum (31170.4), as the published nlpsem 0.4 fit did."""
        arrays = data.arrays if isinstance(data, _data.GrowthData) else data
        pf = PseudoFactors(self.curve, arrays)
        seed = seed_to_int(seed)
        rng = np.random.default_rng(seed)
        kinds = self.START_FEATURES
        out = []
        for s in range(n_starts):
            first = s < len(kinds)
            th = self.start(arrays, seed + 7919 * s, n_init=10 if first else 1, pseudo=pf,
                            features=kinds[s % len(kinds)])
            out.append(th if first else th * rng.uniform(0.9, 1.1, th.shape))
        return np.stack(out)

    def embed(self, result, arrays=None) -> np.ndarray:
        """θ of this model that reproduces a nested fit ``result`` (same curve and
        number of classes, a subset of the covariates): shared blocks are copied
        (gating and expert coefficients matched by covariate name), new gating slopes
        and expert effects start at 0, and the covariates' class distributions are
        copied when the expert covariates are the same, else start at the
        posterior-weighted class moments of the covariates. Fitting the finite mixture
        first and starting the covariate models here is what the authors' OpenMx code
        does; since the nested model's optimum is then reachable, adding covariates
        can never lower the log-likelihood (comparing like with like: a joint experts
        model's log-likelihood includes log f(x_e))."""
        other = result.model
        if other.curve != self.curve or other.n_classes != self.n_classes:
            raise SpecificationError("embed needs a fit with the same curve and classes")
        extra = {"gating": sorted(set(other.gating) - set(self.gating)),
                 "experts": sorted(set(other.experts) - set(self.experts))}
        if any(extra.values()) or other._tvc_names() != self._tvc_names():
            raise SpecificationError(
                "embed needs a nested fit: its covariates must be a subset of this "
                f"model's (it has {', '.join(f'{k} {v}' for k, v in extra.items() if v)}"
                f"{'; different time-varying covariates' if other._tvc_names() != self._tvc_names() else ''})")
        if other.experts and other.experts_likelihood != self.experts_likelihood:
            raise SpecificationError(
                f"embed: the fit's experts_likelihood is {other.experts_likelihood!r}, "
                f"this model's {self.experts_likelihood!r}")
        if set(self.invariant) - set(other.invariant):
            raise SpecificationError(
                f"embed: this model shares {sorted(set(self.invariant) - set(other.invariant))} "
                "across classes, the fit does not")
        arrays = result.data.arrays if arrays is None else arrays
        lay, olay = self.layout, other.layout
        theta = np.zeros(lay.size)
        oth = np.asarray(result.theta, dtype=float)
        post = result.posterior.to_numpy()
        same_x = olay.joint and set(other.experts) == set(self.experts) and lay.pe > 0
        xi = [other.experts.index(x) for x in self.experts] if same_x else []
        for b in lay.blocks:
            sl = slice(b.start, b.start + b.size)
            ob = olay.find(b.name, b.cls if b.cls is not None else 0)
            if b.name == "gate":
                G = np.zeros((lay.K - 1, 1 + lay.pg))
                og = oth[ob.start:ob.start + ob.size].reshape(olay.K - 1, -1)
                G[:, 0] = og[:, 0]
                for j, name in enumerate(self.gating):
                    if name in other.gating:
                        G[:, 1 + j] = og[:, 1 + other.gating.index(name)]
                theta[sl] = G.ravel()
            elif b.name == "beta":
                B = np.zeros(b.shape)
                if ob is not None:
                    oB = oth[ob.start:ob.start + ob.size].reshape(ob.shape)
                    for j, name in enumerate(self.experts):
                        if name in other.experts:
                            B[:, j] = oB[:, other.experts.index(name)]
                theta[sl] = B.ravel()
            elif b.name == "mux" and same_x:
                theta[sl] = oth[ob.start:ob.start + ob.size][xi]
            elif b.name == "phi" and same_x:
                oL = np.zeros((olay.pe, olay.pe))
                oL[olay.tri_e] = oth[ob.start:ob.start + ob.size]
                Phi = (oL @ oL.T)[np.ix_(xi, xi)]
                theta[sl] = np.linalg.cholesky(Phi)[lay.tri_e]
            elif b.name in ("mux", "phi"):
                w = post[:, b.cls] / post[:, b.cls].sum()
                X = arrays["Xe"]
                mu = w @ X
                if b.name == "mux":
                    theta[sl] = mu
                else:
                    S = ((X - mu) * w[:, None]).T @ (X - mu)
                    theta[sl] = np.linalg.cholesky(S + 1e-9 * np.eye(len(mu)))[lay.tri_e]
            elif ob is not None and ob.size == b.size:
                theta[sl] = oth[ob.start:ob.start + ob.size]
        return theta

    def _check_start(self, arrays, theta):
        if self.layout.m:
            T = np.where(arrays["mask"], arrays["T"], np.nan)
            for k in range(self.n_classes):
                self.curve.check_nonlinear(np.asarray(
                    self.layout.get(theta, "nl", k)), T)

    # -- fitting -------------------------------------------------------------------
    def fit(self, data: pd.DataFrame, y=None, t=None, *, id=None, time=None, outcome=None,
            n_starts: int = 20, seed=0, max_iter: int = 3000, se: str = "standard",
            start=None, init=None, weights=None, order: str = "auto",
            warn: bool = True):
        """Maximum likelihood from ``n_starts`` starts in one compiled call.

        Returns ``GrowthMixtureResults``. ``start`` replaces the data-driven starts by
        the given θ (one or a stack); ``init`` adds starts to them: a θ, or the results
        of a nested model (e.g. the finite mixture before the gating model; see
        ``embed``). ``order`` fixes the class labels: "auto" (ascending knot for the
        spline, else ascending class level), "share" (largest class first) or "none".
        """
        from .results import GrowthMixtureResults

        _check_fit_options(n_starts if start is None else 1, se, order, max_iter)
        gd = self.prepare(data, y, t, id=id, time=time, outcome=outcome, weights=weights)
        prob = self.problem()
        if start is not None:
            # one θ or a stack of them, each n_params finite numbers (THETA_ORDER)
            starts = np.atleast_2d(np.asarray(start, dtype=object))
            starts = np.stack([check_start(th, prob.n_params, THETA_ORDER)
                               for th in starts])
            for th in starts:
                self._check_start(gd.arrays, th)
        else:
            starts = self.starts(gd, n_starts, seed)
        if init is not None:
            extra = [self.embed(r, gd.arrays) if hasattr(r, "posterior") else
                     check_start(r, prob.n_params, THETA_ORDER)
                     for r in (init if isinstance(init, (list, tuple)) else [init])]
            starts = np.vstack([np.atleast_2d(e) for e in extra] + [starts])
        opt = maximize(prob, gd.arrays, starts, max_iter=max_iter)
        res = GrowthMixtureResults(self, gd, prob, opt, se=se, order=order)
        if warn:
            res._warn()
        return res

    def fit_many(self, datasets, y=None, t=None, *, id=None, time=None, outcome=None,
                 n_starts: int = 5, seed=0, max_iter: int = 3000, se: str = "standard",
                 reference=None, starts=None, chunk: int | None = None,
                 warn: bool = True):
        """Fit same-shaped data sets in one batched call (data sets × starts).

        ``datasets``: data frames (prepared with the column arguments) or prepared
        ``GrowthData``.

        Returns one result per data set with identical parameter names: classes are
        matched to the first data set's (distances in units of its SEs), or to a
        population given as ``reference`` (a parameter vector θ of this model, e.g.
        ``trajmix.simulate``'s truth; distances in units of its classes' spread).
        ``starts`` (data sets, starts, k) replaces the data-driven starts.
        """
        from .labels import match_to_reference
        from .results import GrowthMixtureResults, batched_information

        _check_fit_options(n_starts if starts is None else 1, se, "none", max_iter)
        gds = [d if isinstance(d, _data.GrowthData) else
               self.prepare(d, y, t, id=id, time=time, outcome=outcome) for d in datasets]
        stacked = _data.stack(gds)
        prob = self.problem()
        seed = seed_to_int(seed)
        if starts is not None:
            S = np.asarray(starts, dtype=float)
            if S.ndim != 3 or S.shape[0] != len(gds) or S.shape[2] != self.layout.size:
                raise SpecificationError(f"starts must be (data sets, starts, "
                                         f"{self.layout.size}), got {S.shape}")
        else:
            S = np.stack([self.starts(g, n_starts, seed + 1000 * i)
                          for i, g in enumerate(gds)])
        opts = maximize_many(prob, stacked, S, max_iter=max_iter, chunk=chunk)
        ref = None if reference is None else np.asarray(reference, dtype=float)
        ref_se = None
        if ref is None:      # the first data set's fit; its SEs are the unit of distance
            r0 = GrowthMixtureResults(self, gds[0], prob, opts[0],
                                      se="none" if se == "none" else "standard")
            ref = r0.theta
            ref_se = np.sqrt(np.diag(r0.cov_theta)) if se != "none" else None
        results = []
        for o in opts:
            o.theta = match_to_reference(self, o.theta, ref, ref_se)
            results.append(o)
        infos = (batched_information(prob, stacked, results, chunk=chunk)
                 if se != "none" else None)
        out = [GrowthMixtureResults(self, g, prob, o, se=se, order="none",
                                    info=None if infos is None else infos[i])
               for i, (g, o) in enumerate(zip(gds, results))]
        if warn:
            from sem.errors import ConvergenceWarning
            import warnings

            bad = sum(not r.converged for r in out)
            if bad:
                warnings.warn(f"{bad} of {len(out)} fits did not converge",
                              ConvergenceWarning, stacklevel=2)
        return out

    # -- helpers used by results -----------------------------------------------------
    def canonical(self, theta: np.ndarray, arrays: dict, order: str) -> np.ndarray:
        theta = canonical_signs(self.layout, theta)
        K = self.n_classes
        if K == 1 or order == "none":
            return theta
        if order == "share":
            from sem.jaxconfig import jnp

            prob = self.problem()
            # the reported share: the weighted mean prior (``trajmix.report``)
            prior = np.asarray(prob.class_prior(jnp.asarray(theta), arrays))
            w = np.asarray(arrays["w"], dtype=float)
            perm = np.argsort(-(w @ prior) / w.sum(), kind="stable")
        else:
            perm = np.argsort(self.class_levels(theta, arrays), kind="stable")
        return permute_classes(self.layout, theta, perm)

    def class_levels(self, theta, arrays) -> np.ndarray:
        """The key of the canonical order: knot (spline) or the class mean curve's
        value at the median observed time (``class_curve``)."""
        lay = self.layout
        if self.curve.name == "bilinear_spline":
            return np.array([float(lay.get(theta, "nl", k)[0]) for k in range(lay.K)])
        tm = float(np.median(arrays["T"][arrays["mask"]]))
        return np.array([float(self.class_curve(theta, arrays, k, [tm])[0])
                         for k in range(lay.K)])

    def class_curve(self, theta, arrays, k: int, times) -> np.ndarray:
        """Class k's mean trajectory at ``times``: with expert covariates in the joint
        model at the class's own covariate means μx_k (its marginal mean curve, the
        curve of the reported ``mean_orig`` means), in the conditional model at the
        weighted sample means of the covariates; time-varying covariates at 0."""
        from sem.jaxconfig import jnp

        lay = self.layout
        p = lay.unpack_class(jnp.asarray(theta), k)
        eta = p["alpha"]
        if lay.pe:
            w = np.asarray(arrays["w"], dtype=float)
            x = p["mux"] if lay.joint else jnp.asarray((w @ arrays["Xe"]) / w.sum())
            eta = eta + p["beta"] @ x
        return np.asarray(self.curve.mean_curve(jnp.asarray(np.asarray(times, float)),
                                                p["nl"], eta))


def _check_fit_options(n_starts, se, order, max_iter) -> None:
    """Refuse bad fitting options before any work (a typo would otherwise be found
    only after the fit, or silently ignored)."""
    check_count(n_starts, "n_starts")
    if se not in ("standard", "robust", "none"):
        raise SpecificationError(f"se must be 'standard', 'robust' or 'none', got {se!r}")
    if order not in ORDERS:
        raise SpecificationError(f"order must be one of {ORDERS}, got {order!r}")
    check_count(max_iter, "max_iter")
