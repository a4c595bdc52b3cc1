"""Maximum likelihood for any model that gives a log-likelihood of a parameter vector.

The engine knows nothing about SEMs or mixtures. A *problem* is an object with

* ``n_params`` and ``param_names``;
* ``loglik(theta, data) -> scalar`` — the (case-weighted) total, pure and jittable;
* ``loglik_cases(theta, data) -> (n,)`` — per-case contributions (unweighted);
* ``positive`` — a boolean array: parameters kept positive by θ = exp(u);
* ``cache_key()`` — hashable; problems with equal keys share compiled code;
* optionally ``summarize(data) -> data`` — data-only quantities (sufficient
  statistics) computed once per data set before the optimiser's loop, and
  ``summary_keys`` — the keys of that dict ``loglik`` reads (the pooled solver of
  ``maximize_many`` gathers only those for each slot at each iteration). Such a
  problem's ``loglik``, information and Hessian accept the summary in place of the
  data (``summarize_one``, ``summarize_many``, ``summarize_weighted``: computed once
  and given to every later call).

``data`` is a dict of arrays whose first axis is the case axis (key ``w`` holds case
weights). The optimiser minimises f(u) = −loglik(θ(u)) / Σw in unconstrained
coordinates u, over a batch of starts (one compiled call, ``vmap``) and, in
``maximize_many``, over a batch of data sets as well: bootstrap draws, simulation
replications or candidate splits of a tree node never recompile.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .jaxconfig import jax, jnp
from .batching import map_chunks, threads_for
from .optimize import STATUS, OptResult, bfgs, bfgs_pool, newton_polish

_COMPILED: dict = {}
_CACHES: list[dict] = [_COMPILED]


def to_unconstrained(problem, theta):
    """θ → u: the log of the parameters kept positive, elementwise over the last axis
    (any leading axes: one start, (S, k) starts or (D, S, k))."""
    pos = np.asarray(problem.positive)
    theta = np.asarray(theta, dtype=float)
    if not pos.any():
        return theta
    return np.where(pos, np.log(np.maximum(np.where(pos, theta, 1.0), 1e-8)), theta)


def to_theta(problem, u):
    pos = np.asarray(problem.positive)
    if not pos.any():
        return u
    return jnp.where(pos, jnp.exp(u), u)


def _objective(problem):
    """f(u, data, n) = −loglik(θ(u), data) / n, the mean negative log-likelihood (n the
    total case weight, taken from the data before ``summarize``)."""
    def f(u, data, n):
        return -problem.loglik(to_theta(problem, u), data) / n
    return f


def _summarizer(problem):
    """data → what the optimiser's loop needs: the problem's ``summarize`` (identity
    without one), cut to its ``summary_keys`` where the problem names them (the pooled
    solver gathers that dict for every slot at every iteration)."""
    summarize = getattr(problem, "summarize", lambda d: d)
    keys = getattr(problem, "summary_keys", None)
    if not keys:
        return summarize
    return lambda d: {k: v for k, v in summarize(d).items() if k in keys}


def _solver(problem, gtol, polish):
    """BFGS from one start. ``max_iter`` is an argument of the compiled program, not a
    constant in it: fits with another iteration limit reuse the program."""
    f = _objective(problem)
    summarize = _summarizer(problem)

    def solve_one(u0, data, H0, max_iter):
        n = jnp.sum(data["w"])
        data = summarize(data)
        fg = jax.value_and_grad(lambda u: f(u, data, n))
        res = bfgs(fg, u0, H0=H0, max_iter=max_iter, gtol=gtol)
        if polish:          # exact-Newton steps, kept if they do not raise f
            u = newton_polish(lambda u: f(u, data, n), res.x)
            fu, gu = fg(u)
            keep = jnp.isfinite(fu) & (fu <= res.fun)
            u = jnp.where(keep, u, res.x)
            gu = jnp.where(keep, gu, res.grad)
            fu = jnp.where(keep, fu, res.fun)
            status = jnp.where((res.status > 1) & (jnp.max(jnp.abs(gu)) <= gtol), 0,
                               res.status)
            res = res._replace(x=u, fun=fu, grad=gu, status=status)
        return res

    return solve_one


def _pool_solver(problem, slots, h0_per_set, gtol, polish):
    """D data sets × S starts (U0 (D, S, k)) as D·S tasks of ``bfgs_pool``, ``slots``
    side by side: each data set is summarized once, and a slot gathers its task's
    summary at every iteration."""
    if polish:
        raise ValueError("polish=True needs batch_size=None")
    f = _objective(problem)
    summarize = _summarizer(problem)

    def run(U0, data, H0, max_iter):
        D, S, k = U0.shape
        n = jnp.sum(data["w"], axis=1)
        compact = jax.vmap(summarize)(data)
        of = jnp.repeat(jnp.arange(D), S)                  # task → data set

        def fg(u, t):
            d = jax.tree_util.tree_map(lambda a: a[of[t]], compact)
            return jax.value_and_grad(f)(u, d, n[of[t]])

        H = jnp.repeat(H0, S, axis=0) if h0_per_set else H0
        res = bfgs_pool(fg, U0.reshape(D * S, k), H, slots, max_iter=max_iter, gtol=gtol)
        return OptResult(*(a.reshape((D, S) + a.shape[1:]) for a in res))

    return run


#: case-gradients ``fd_hessian`` (case-tangents ``case_jacobian``) evaluates side by side
#: (about 2.4 kB of intermediates per case and gradient for the mixture of experts: ~1 GB)
FD_CASE_BUDGET = 400_000


def _side_by_side(count: int, data) -> int:
    """How many of ``count`` per-case derivative passes run at once within
    ``FD_CASE_BUDGET`` (n = the cases of ``data["w"]``, static at trace time)."""
    return max(1, min(count, FD_CASE_BUDGET // max(int(np.shape(data["w"])[0]), 1)))


def fd_hessian(f, rel_step: float = 6e-6):
    """Hessian of a scalar f(θ, data) by central differences of its exact gradient,
    H_ij ≈ [g_j(θ + h_i e_i) − g_j(θ − h_i e_i)] / (2 h_i), h_i = rel_step (1 + |θ_i|),
    symmetrised. The 2k gradients run as one ``vmap``. Its error is O(h²) — about 1e-9
    relative on a 47-parameter mixture of experts, far below any reported digit — and it
    compiles in half the time of forward-over-reverse ``jax.hessian``, which matters
    when every model structure is compiled anew.

    The 2k gradients run at most ``FD_CASE_BUDGET // n`` at a time (``lax.map`` in
    batches; n the cases of ``data["w"]``): all 94 of a 47-parameter mixture at once
    held 94 gradients' intermediates, 19 GB at n = 100 000."""
    g = jax.grad(f)

    def H(theta, data):
        h = rel_step * (1.0 + jnp.abs(theta))
        E = jnp.diag(h)
        k = theta.shape[0]
        G = jax.lax.map(lambda e: g(theta + e, data), jnp.concatenate([E, -E]),
                        batch_size=_side_by_side(2 * k, data))
        Hm = (G[:k] - G[k:]) / (2.0 * h[:, None])
        return 0.5 * (Hm + Hm.T)

    return H


def case_jacobian(f):
    """∂f(θ, data)_i/∂θ (n, k) of a per-case function, by forward mode: the k tangents
    run at most ``FD_CASE_BUDGET // n`` at a time (``jax.jacfwd`` runs all k side by
    side: several GB for a 47-parameter mixture at n = 100 000)."""
    def J(theta, data):
        k = theta.shape[0]
        cols = jax.lax.map(lambda e: jax.jvp(lambda t: f(t, data), (theta,), (e,))[1],
                           jnp.eye(k, dtype=theta.dtype), batch_size=_side_by_side(k, data))
        return cols.T

    return J


def _hessian(problem):
    """Exact (``jax.hessian``) unless the problem asks for ``hessian = "fd"``."""
    if getattr(problem, "hessian", "exact") == "fd":
        return fd_hessian(problem.loglik)
    return jax.hessian(problem.loglik)


def compiled(problem, kind: str, **options):
    """Jitted, cached entry points: 'starts' (S starts, one data set), 'many' (D data
    sets × S starts), 'loglik' (and 'loglik_many': m points in each of D data sets),
    'cases', 'hessian',
    'scores'."""
    key = (problem.cache_key(), kind, tuple(sorted(options.items())))
    fn = _COMPILED.get(key)
    if fn is not None:
        return fn
    if kind in ("starts", "many"):
        opts = dict(options)
        batch = opts.pop("batch_size", None)
        per_set = opts.pop("h0_per_set", False)
        over_starts = jax.vmap(_solver(problem, **opts), in_axes=(0, None, None, None))
        if kind == "starts":
            fn = over_starts
        elif batch is None:
            # all side by side (an accelerator): one vmap, in lockstep
            fn = jax.vmap(over_starts, in_axes=(0, 0, 0 if per_set else None, None))
        else:
            # a CPU: ``batch`` slots, each refilled as soon as its fit stops
            fn = _pool_solver(problem, batch, per_set, **opts)
    elif kind == "summarize_many":
        fn = jax.vmap(_summarizer(problem))
    elif kind == "summarize_weighted":     # one data set, D weight vectors (D, n)
        summarize = _summarizer(problem)
        fn = jax.vmap(lambda d, W: summarize(dict(d, w=W)), in_axes=(None, 0))
    elif kind == "loglik":
        fn = problem.loglik
    elif kind == "loglik_many":    # D data sets, m points each: θ (D, m, k) → (D, m)
        fn = jax.vmap(jax.vmap(problem.loglik, in_axes=(0, None)))
    elif kind == "cases":
        fn = problem.loglik_cases
    elif kind == "hessian":
        fn = _hessian(problem)
    elif kind == "hessian_many":
        fn = jax.vmap(_hessian(problem))
    elif kind == "expected":
        fn = problem.expected_information
    elif kind == "expected_many":
        fn = jax.vmap(problem.expected_information)
    elif kind == "moment_jacobian":
        fn = jax.jacfwd(problem.moment_vector)
    elif kind == "scores":     # forward mode: k passes, where reverse mode needs n
        fn = case_jacobian(problem.loglik_cases)
    elif kind == "scores_many":
        fn = jax.vmap(case_jacobian(problem.loglik_cases))
    else:  # pragma: no cover
        raise ValueError(kind)
    fn = jax.jit(fn)
    _COMPILED[key] = fn
    return fn


def summarize_many(problem, stacked: dict, chunk: int | None = None) -> dict:
    """D stacked data sets → their summaries, computed once for every later batched
    call on them (start log-likelihoods, the solve, the information matrices): the
    problem's ``summarize`` cut to its ``summary_keys``, with ``w`` the total case
    weight of each data set as its one entry (D, 1), so that Σw is unchanged. A problem
    without ``summary_keys`` gets its data back. The batched kinds of ``compiled``
    take either (``summarize`` leaves a summary as it is); per-case kinds ('cases',
    'scores') need the data.

    On 1000 Holzinger–Swineford frames the summaries take 45-65 ms, and ``fit_many``
    computed them four times over before it summarized once."""
    if not getattr(problem, "summary_keys", None):
        return stacked
    fn = compiled(problem, "summarize_many")
    return _summaries(lambda idx: fn(_rows(stacked, idx)), stacked["w"], chunk)


def summarize_one(problem, data: dict) -> dict:
    """One data set's summary, as ``summarize_many`` gives it for many (eagerly, no
    compilation): ``Model.fit`` fits complete and FIML data from it, so the compiled
    solver and information of a model serve every sample size, and ``fit_many``'s
    pilot fit reuses them."""
    if not getattr(problem, "summary_keys", None):
        return data
    out = {k: np.asarray(v) for k, v in
           _summarizer(problem)({k: jnp.asarray(v) for k, v in data.items()}).items()}
    out["w"] = np.asarray([np.sum(data["w"])], dtype=float)
    return out


def summarize_weighted(problem, data: dict, W, chunk: int | None = None) -> dict:
    """``summarize_many`` of one data set under D case-weight vectors ``W`` (D, n),
    with the data shared rather than copied D times: ``sem.likelihoods.pattern_stats``
    centres the data at a data-only mean, so the weighted moments of all D vectors
    are products of W with the shared data (1000 bootstrap draws of the
    Holzinger–Swineford data: 14 ms, against 49 ms with the data centred at each
    draw's own mean, and 67-85 ms for ``summarize_many`` of stacked copies). A problem
    without ``summary_keys`` gets ``weighted_stack(data, W)``."""
    if not getattr(problem, "summary_keys", None):
        return weighted_stack(data, W)
    W = np.asarray(W, dtype=float) * np.asarray(data["w"])[None, :]
    fn = compiled(problem, "summarize_weighted")
    jd = {k: np.asarray(v) for k, v in data.items()}
    return _summaries(lambda idx: fn(jd, W[idx]), W, chunk)


def _summaries(fn, w, chunk):
    """``fn(idx)`` over the D data sets (``map_chunks``; a summary's work is a few
    products per case), with ``w`` (D, n) replaced by its row totals (D, 1)."""
    w = np.asarray(w, dtype=float)
    out = map_chunks(fn, w.shape[0], chunk, threads=threads_for(w.shape[1], 1))
    out["w"] = w.sum(axis=1, keepdims=True)
    return out


def apply_in_chunks(fn, theta, stacked: dict, chunk: int | None = None) -> np.ndarray:
    """``fn(theta[d], data[d])`` batched over the leading axis of D data sets
    (``map_chunks``: ``chunk`` at a time, one shape, pieces on host threads)."""
    theta = np.asarray(theta)
    threads = threads_for(np.shape(stacked["w"])[1], theta.shape[-1])
    return map_chunks(lambda idx: fn(theta[idx], _rows(stacked, idx)),
                      theta.shape[0], chunk, threads=threads)


def _rows(stacked: dict, idx) -> dict:
    """The data sets ``idx`` of a stacked dict, as numpy arrays for a jitted call.

    Compiled functions take numpy arguments straight (jit's C++ dispatch moves them,
    ~5 µs a call); ``jnp.asarray`` first costs ~15 µs an array and ``jnp.zeros`` ~38 µs
    in jax 0.10, about 0.6 ms of a 4.8 ms warm fit. So arrays bound for a jitted call
    stay numpy throughout ``sem``."""
    return {k: np.asarray(v)[idx] for k, v in stacked.items()}


def clear_compiled() -> None:
    """Release every compiled program (trajmix's caches and JAX's own).

    Each XLA CPU executable holds about three memory maps; a process that compiles
    thousands of programs (a long test session, a study over many data shapes) reaches
    Linux's ``vm.max_map_count`` (65 530) and the next compilation dies with a
    segmentation fault inside LLVM. The test suite calls this after a module once the
    process holds half the maps the kernel allows (``tests/conftest.py``)."""
    import gc

    for cache in _CACHES:
        cache.clear()
    jax.clear_caches()
    gc.collect()


def register_cache(cache: dict) -> dict:
    """Have ``clear_compiled`` empty another package's dict of jitted functions."""
    _CACHES.append(cache)
    return cache


def cached_jit(key, make):
    """A jitted function built by ``make()`` once per hashable ``key`` (for functions
    of a model other than the problem's own kinds, e.g. a report map and its Jacobian)."""
    fn = _COMPILED.get(key)
    if fn is None:
        fn = _COMPILED[key] = jax.jit(make())
    return fn


@dataclass
class Optimum:
    """Best of several starts for one data set."""

    theta: np.ndarray
    llf: float
    status: int
    n_iter: int
    converged: bool
    start_llfs: np.ndarray        # final log-likelihood of every start
    start_status: np.ndarray
    grad_max: float

    @property
    def message(self) -> str:
        return STATUS[int(self.status)]

    def replication(self, tol: float = 1e-3) -> int:
        """How many starts reached the best log-likelihood (within ``tol``)."""
        ok = np.isfinite(self.start_llfs)
        return int(np.sum(ok & (self.start_llfs >= self.llf - tol)))


def _pick(problem, res, n_obs) -> list[Optimum]:
    """The best start of each data set: ``res`` holds arrays (D, S, ...) on the host
    (``jax.device_get``), ``n_obs`` (D,) the total case weights; picked for all data
    sets in one vectorised pass (``fit_many`` picks thousands)."""
    x, fun, status = np.asarray(res.x), np.asarray(res.fun), np.asarray(res.status)
    n_obs = np.asarray(n_obs, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        llfs = -fun * n_obs[:, None]
    llfs = np.where(np.isfinite(llfs), llfs, -np.inf)
    conv = status <= 1
    # best converged start; if none converged, the best finite one
    pool = np.where(conv.any(axis=1, keepdims=True), np.where(conv, llfs, -np.inf), llfs)
    b = np.argmax(pool, axis=1)
    rows = np.arange(len(b))
    theta = np.asarray(to_theta(problem, x[rows, b]))
    grad_max = np.max(np.abs(np.asarray(res.grad)[rows, b]), axis=-1)
    n_iter = np.asarray(res.n_iter)[rows, b]
    # Python scalars through ``tolist`` (one call per field, not float() per element)
    fields = zip(llfs[rows, b].tolist(), status[rows, b].tolist(), n_iter.tolist(),
                 conv[rows, b].tolist(), grad_max.tolist())
    return [Optimum(theta=theta[i], llf=llf, status=st, n_iter=it, converged=cv,
                    start_llfs=llfs[i], start_status=status[i], grad_max=gm)
            for i, (llf, st, it, cv, gm) in enumerate(fields)]


def _H0(problem, H0):
    k = problem.n_params
    return np.zeros((k, k)) if H0 is None else np.asarray(H0, dtype=float)


def jacobi_H0(problem, theta, data):
    """Diagonal initial inverse Hessian of f = −ℓ/Σw from the exact Hessian at θ.

    For badly scaled problems (a mixture with intercepts near 100 next to gating
    coefficients near 0.5) BFGS from the identity spends most of its iterations
    learning the scales; one Hessian at the first start, shared by all starts, cuts the
    iterations about threefold (47-parameter mixture of experts: 200 → 60)."""
    if np.asarray(problem.positive).any():
        return None
    H = np.asarray(compiled(problem, "hessian")(np.asarray(theta, dtype=float),
                                                 {k: np.asarray(v) for k, v in data.items()}))
    d = np.abs(np.diag(H)) / float(np.sum(data["w"]))
    if not np.all(np.isfinite(d)) or d.max() <= 0:
        return None
    return np.diag(1.0 / np.maximum(d, 1e-8 * d.max()))


def maximize(problem, data: dict, starts, *, max_iter: int = 2000, gtol: float = 1e-8,
             polish: bool = False, H0=None, precondition: bool | None = None) -> Optimum:
    """ML estimate from a batch of starts (S, k) for one data set.

    ``H0``: optional initial inverse Hessian of f(u) = −ℓ/Σw in the unconstrained
    coordinates (for example Σw · I_obs⁻¹ of a related fit). ``precondition`` (default:
    the problem's ``precondition`` attribute) starts every start from the Jacobi
    preconditioner of the first start (``jacobi_H0``)."""
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    if precondition is None:
        precondition = getattr(problem, "precondition", False)
    if H0 is None and precondition:
        H0 = jacobi_H0(problem, starts[0], data)
    U0 = to_unconstrained(problem, starts)
    fn = compiled(problem, "starts", gtol=gtol, polish=polish)
    res = fn(U0, {k: np.asarray(v) for k, v in data.items()}, _H0(problem, H0),
             np.int64(max_iter))
    res = jax.tree_util.tree_map(lambda a: np.asarray(a)[None], jax.device_get(res))
    return _pick(problem, res, [np.sum(data["w"])])[0]


def default_batch_size(n_cases: int, n_params: int):
    """Slots of ``maximize_many``'s pooled solver (fits side by side, each slot
    refilled as soon as its fit stops: ``sem.optimize.bfgs_pool``).

    Side by side pays only while it amortises per-operation overhead; past that the
    working set leaves the cache. On a CPU: about 2·10⁵ / (cases × parameters) at a
    time, at most 32 (measured on 2 cores: 1000 bootstrap refits of the 21-parameter
    CFA on 301 cases take 200-210 ms with 16-31 slots, 250 ms with 64, 360 ms with
    128, and the same from summaries, whose "cases" are one per data set; a
    47-parameter mixture on 500 persons is fastest at 1-8). On an accelerator all fits
    run at once in one ``vmap`` (None), in lockstep."""
    if jax.default_backend() != "cpu":
        return None
    return int(np.clip(200_000 // max(n_cases * n_params, 1), 1, 32))


def _device_sharding():
    """A sharding of the leading (data-set) axis over all local devices, or None on a
    single device."""
    devices = jax.local_devices()
    if len(devices) < 2:
        return None
    mesh = jax.sharding.Mesh(np.array(devices), ("datasets",))
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("datasets"))


def maximize_many(problem, data: dict, starts, *, max_iter: int = 2000,
                  gtol: float = 1e-8, polish: bool = False, chunk: int | None = None,
                  H0=None, precondition: bool | None = None,
                  batch_size: int | None | str = "auto", shard: bool = True
                  ) -> list[Optimum]:
    """ML estimates for D stacked data sets (leading axis D) from starts (D, S, k).

    ``H0``: an initial inverse Hessian of the objective for all data sets (k, k), or one
    per data set (D, k, k) (all zeros: none for that data set).

    ``chunk`` bounds memory: data sets are processed ``chunk`` at a time by the same
    compiled function (the last chunk is padded, so nothing recompiles). With several
    local devices (GPUs) and data sets solved side by side (``batch_size`` None, the
    default on accelerators) each chunk is padded to a multiple of the device count and
    sharded over the devices along the data-set axis (``shard=False``: one device).
    """
    starts = np.asarray(starts, dtype=float)
    D = starts.shape[0]
    if precondition is None:
        precondition = getattr(problem, "precondition", False)
    if H0 is None and precondition:
        H0 = jacobi_H0(problem, starts[0, 0], {k: np.asarray(v)[0] for k, v in data.items()})
    U0 = to_unconstrained(problem, starts)        # elementwise: all (D, S, k) at once
    if batch_size == "auto":
        batch_size = default_batch_size(np.shape(data["w"])[1], problem.n_params)
    per_set = H0 is not None and np.ndim(H0) == 3
    fn = compiled(problem, "many", gtol=gtol, polish=polish, batch_size=batch_size,
                  h0_per_set=per_set)
    sharding = _device_sharding() if shard and batch_size is None else None
    n_dev = 1 if sharding is None else len(sharding.mesh.devices.flat)
    H0 = np.asarray(H0) if per_set else _H0(problem, H0)

    def solve(idx):          # only the piece goes to the device (``chunk`` bounds memory)
        jdata, U = _rows(data, idx), U0[idx]
        h0 = H0[idx] if per_set else H0
        if sharding is not None:
            jdata, U = jax.device_put((jdata, U), sharding)
            if per_set:
                h0 = jax.device_put(h0, sharding)
        return fn(U, jdata, h0, np.int64(max_iter))

    threads = 1 if sharding is not None else threads_for(np.shape(data["w"])[1],
                                                          problem.n_params)
    res = map_chunks(solve, D, chunk, multiple=n_dev, threads=threads)
    return _pick(problem, res, np.asarray(data["w"]).sum(axis=1))


def bootstrap_weights(rng, n: int, n_boot: int) -> np.ndarray:
    """(n_boot, n) case counts of n draws with replacement from n cases: a
    nonparametric bootstrap as frequency weights (one row per draw, from ``rng``)."""
    n_boot = int(n_boot)
    idx = rng.integers(0, n, (n_boot, n))      # the same stream as n_boot draws of n
    idx += np.arange(n_boot)[:, None] * n      # row b's cases counted in bins b·n + i
    return np.bincount(idx.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(float)


def weighted_stack(data: dict, W) -> dict:
    """One data set under D case-weight vectors ``W`` (D, n), stacked as D data sets
    (views, no copies; the data's own weights multiplied in)."""
    W = np.asarray(W, dtype=float)
    stacked = {k: np.broadcast_to(v, (W.shape[0],) + np.shape(v)) for k, v in data.items()}
    stacked["w"] = W * np.asarray(data["w"])[None, :]
    return stacked


def maximize_weighted(problem, data: dict, W, starts, **options) -> list[Optimum]:
    """Fits of one data set under many case-weight vectors ``W`` (D, n) — bootstrap
    counts, or the 0/1 membership of the children of candidate tree splits — in one
    batched call. ``starts`` is (k,), (S, k) or (D, S, k)."""
    W = np.asarray(W, dtype=float)
    D = W.shape[0]
    starts = np.asarray(starts, dtype=float)
    if starts.ndim == 1:
        starts = starts[None, None, :]
    if starts.ndim == 2:
        starts = starts[None]
    starts = np.broadcast_to(starts, (D,) + starts.shape[1:])
    chunk = options.get("chunk")
    return maximize_many(problem, summarize_weighted(problem, data, W, chunk), starts,
                         **options)


def random_starts(theta0, n_starts: int, seed, *, scale: float = 0.25, positive=None):
    """The given start plus ``n_starts − 1`` jittered copies, θ·U(1 − s, 1 + s) + N(0, s²/10)
    (OpenMx ``mxTryHard``'s default perturbation is uniform with location 1, scale .25).
    """
    theta0 = np.asarray(theta0, dtype=float)
    rng = np.random.default_rng(seed_to_int(seed))
    k = theta0.shape[0]
    out = [theta0]
    for _ in range(n_starts - 1):
        mult = rng.uniform(1 - scale, 1 + scale, k)
        add = rng.normal(0, scale / math.sqrt(10), k)
        t = theta0 * mult + add
        if positive is not None:
            t = np.where(positive, np.abs(theta0 * mult) + 1e-3, t)
        out.append(t)
    return np.stack(out)


def seed_to_int(seed) -> int:
    """Accept an int or a ``jax.random`` key (typed, or the legacy uint32 pair)."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    arr = np.asarray(jax.random.key_data(seed) if hasattr(seed, "dtype") and
                     jnp.issubdtype(seed.dtype, jax.dtypes.prng_key) else seed)
    if arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"seed must be an int or a jax.random key, got {seed!r}")
    return int(np.uint64(arr.ravel()[-1]))
