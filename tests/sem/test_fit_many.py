"""Many data sets and many starts in one compiled call."""
import numpy as np
import pandas as pd
import pytest

from sem import Model
from sem.errors import SpecificationError
from sem.estimation import _COMPILED
from tests.conftest import HS_MODEL


def simulate_cfa(n, seed):
    rng = np.random.default_rng(seed)
    lam = np.array([[1, 0], [0.8, 0], [0.6, 0], [0, 1], [0, 1.2], [0, 0.7]])
    Phi = np.array([[1.0, 0.4], [0.4, 0.8]])
    Theta = np.diag([0.5, 0.4, 0.6, 0.3, 0.5, 0.4])
    Sigma = lam @ Phi @ lam.T + Theta
    Y = rng.multivariate_normal(np.zeros(6), Sigma, n)
    return pd.DataFrame(Y, columns=[f"y{i}" for i in range(1, 7)])


CFA = "f =~ y1 + y2 + y3; g =~ y4 + y5 + y6"


def test_parameters_are_recovered_from_a_known_population():
    res = Model(CFA).fit(simulate_cfa(20000, 1))
    truth = {"f=~y2": 0.8, "f=~y3": 0.6, "g=~y5": 1.2, "g=~y6": 0.7, "f~~f": 1.0,
             "g~~g": 0.8, "f~~g": 0.4, "y1~~y1": 0.5, "y4~~y4": 0.3}
    for k, v in truth.items():
        assert abs(res.params[k] - v) < 4 * res.bse[k], k


def test_another_iteration_limit_reuses_the_compiled_solver():
    """``max_iter`` is an argument of the compiled BFGS, not a constant in it: a fit
    stopped early (a non-convergence check, a smoke run) compiles nothing new."""
    import warnings

    from sem.errors import ConvergenceWarning
    from sem.estimation import compiled

    m, d = Model(CFA), simulate_cfa(300, 2)
    full = m.fit(d)
    solver = compiled(full.spec.problem, "starts", gtol=1e-8, polish=False)
    programs = solver._cache_size()
    assert programs >= 1                          # the fit above compiled it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        short = m.fit(d, max_iter=3)
    assert not short.converged and short.opt.n_iter == 3
    assert full.converged and full.opt.n_iter > 3
    assert solver._cache_size() == programs


def test_fit_many_equals_single_fits_and_does_not_recompile():
    m = Model(CFA)
    data = [simulate_cfa(300, s) for s in range(6)]
    many = m.fit_many(data)
    n_compiled = len(_COMPILED)
    again = m.fit_many([simulate_cfa(300, s) for s in range(10, 16)])
    assert len(_COMPILED) == n_compiled          # same shapes: nothing new compiled
    for d, r in zip(data[:2], many[:2]):
        one = m.fit(d)
        np.testing.assert_allclose(r.params, one.params, atol=1e-6)
        np.testing.assert_allclose(r.bse, one.bse, atol=1e-6)
        assert r.llf == pytest.approx(one.llf, abs=1e-6)
        assert r.nobs == one.nobs == 300 and r.aic == pytest.approx(one.aic, abs=1e-5)
        assert type(r.opt.status) is int and type(r.opt.converged) is bool
    assert all(r.converged for r in many + again)
    assert list(many[0].params.index) == list(many[3].params.index)
    # estimates only: the same estimates, no information matrices
    est = m.fit_many(data, se="none")
    np.testing.assert_array_equal(est[4].params, many[4].params)
    assert est[4].bse.isna().all() and est[4].llf == many[4].llf
    assert est[4].nobs == 300
    with pytest.raises(ValueError, match="read-only"):   # shared by the results
        est[4].cov_theta[0, 0] = 1.0


def test_standard_errors_of_fit_many_are_computed_together_on_first_use(monkeypatch):
    """fit_many's results compute their information matrices on first use, all in
    one batched call, and equal the single fits' (expected and robust)."""
    import sem.results as results

    calls = []
    real = results.batched_information
    monkeypatch.setattr(results, "batched_information",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    m = Model(CFA)
    data = [simulate_cfa(200, s) for s in range(4)]
    many = m.fit_many(data)
    assert calls == []                           # estimates only so far
    assert many[2].identified and not many[2].null_params
    assert calls == [1]
    for d, r in zip(data, many):                 # one batch served all
        one = m.fit(d)
        np.testing.assert_allclose(r.bse, one.bse, atol=1e-6)
        np.testing.assert_allclose(r.info_matrix, one.info_matrix, rtol=1e-6)
        np.testing.assert_allclose(r.estimates["se"], one.estimates["se"], atol=1e-6)
    assert calls == [1]
    robust = m.fit_many(data[:2], se="robust")
    one = m.fit(data[1], se="robust")
    np.testing.assert_allclose(robust[1].bse, one.bse, atol=1e-6)
    assert robust[1].fit_measures["chisq.scaled"] == pytest.approx(
        one.fit_measures["chisq.scaled"], abs=1e-6)
    with pytest.raises(AttributeError, match="no_such"):
        robust[0].no_such
    # a bad se is refused before any fitting
    with pytest.raises(ValueError, match="se must be"):
        m.fit_many(data, se="robst")


def test_fit_many_starts_near_a_pilot_fit_only_where_that_is_better():
    """The pilot start (the estimate of the data sets' mean moments) serves data sets
    of the same population; one on another scale keeps its own start, and every fit
    equals the data set's own single fit. With missing values the pilot is the first
    data set."""
    m = Model(CFA)
    data = [simulate_cfa(300, s) for s in range(20, 26)]
    data[2] = data[2] * 10.0                       # variances 100 times larger
    spec = m._spec(False)
    from sem.data import prepare_many
    from sem.starts import sample_moments_many, start_values
    stacked, prepped = prepare_many(data, spec.vars.ov)
    S, mu = sample_moments_many(stacked, prepped)
    theta0 = start_values(spec.rows, spec.vars, S, mu, False)
    work = spec.problem.summary_of_moments(S, mu, stacked["w"].sum(axis=1))
    for w in (work, stacked):             # the centre, then the first data set; that
        starts, H0 = m._pilot_starts(spec, w, theta0, 2000, None)
        np.testing.assert_array_equal(starts[2], theta0[2])
        assert not np.array_equal(starts[1], theta0[1]) and H0 is None
    # one population: all start at the centre's estimate, with its inverse Hessian
    same = [0, 1, 3, 4, 5]
    centre = {k: v[same] for k, v in work.items()}
    starts, H0 = m._pilot_starts(spec, centre, theta0[same], 2000, None)
    assert H0 is not None and (starts == starts[0]).all()
    first = m.fit(data[0]).theta
    assert np.abs(starts[0] - first).max() > 1e-3
    many = m.fit_many(data)
    for d, r in zip(data, many):
        one = m.fit(d)
        np.testing.assert_allclose(r.params, one.params, rtol=1e-6, atol=1e-6)
        assert r.llf == pytest.approx(one.llf, abs=1e-6)


def test_fit_many_with_missing_values_pads_patterns(hs_missing):
    m = Model(HS_MODEL)
    parts = [hs_missing.iloc[:150], hs_missing.iloc[150:]]
    many = m.fit_many(parts, missing="ml")
    one = m.fit(parts[1], missing="ml")
    np.testing.assert_allclose(many[1].params, one.params, atol=1e-5)
    np.testing.assert_allclose(many[1].bse, one.bse, atol=1e-5)


def test_bootstrap_by_case_weights(hs):
    m = Model(HS_MODEL)
    boot = m.bootstrap(hs, n_boot=60, seed=3)
    assert boot.shape == (60, 22) and boot["converged"].all()
    se = boot.drop(columns="converged").std()
    fit = m.fit(hs)
    # bootstrap and normal-theory SEs agree roughly for this well-behaved model
    ratio = (se / fit.bse)[["textual=~x5", "textual=~x6", "x4~~x4"]]
    assert ((ratio > 0.6) & (ratio < 1.6)).all()
    # percentile intervals of the draws
    ci = fit.conf_int(alpha=0.1, bootstrap=boot)
    assert ci.loc["x4~~x4", "lower"] == pytest.approx(boot["x4~~x4"].quantile(0.05))
    assert (ci["lower"] < fit.params).all() and (fit.params < ci["upper"]).all()
    with pytest.raises(SpecificationError, match="converged bootstrap draws"):
        fit.conf_int(bootstrap=boot.head(20))        # 95 % needs at least 40 draws
    # a weight vector of counts equals fitting the resampled rows
    rng = np.random.default_rng(3)
    idx = rng.integers(0, len(hs), len(hs))
    w = np.bincount(idx, minlength=len(hs))
    a = m.fit(hs, weights=w)
    b = m.fit(hs.iloc[idx])
    np.testing.assert_allclose(a.params, b.params, atol=1e-6)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "100"])
def test_counts_must_be_positive_integers(hs, bad):
    """n_boot, n_starts and max_iter: a clear error naming the argument (0 draws
    failed deep in the batching, 2.5 silently drew 2, n_starts=0 silently ran one)."""
    m = Model(HS_MODEL)
    with pytest.raises(ValueError, match="n_boot must be a positive integer"):
        m.bootstrap(hs, n_boot=bad)
    for name in ("n_starts", "max_iter"):
        with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
            m.fit(hs, **{name: bad})
        with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
            m.fit_many([hs, hs], **{name: bad})


def test_multiple_starts_keep_the_best(hs):
    res = Model(HS_MODEL).fit(hs, n_starts=8, seed=1)
    assert res.opt.replication() >= 2
    assert res.llf == pytest.approx(-3737.745, abs=1e-3)


def test_batched_start_values_equal_one_at_a_time(hs):
    """``start_values`` on a stack of moments equals it data set by data set, including
    the fallbacks: a marker covariance of zero (no usable ratio) and a negative
    factor-variance estimate (floored at 0.05)."""
    from sem.data import stack
    from sem.starts import sample_moments, sample_moments_many, start_values

    m = Model(HS_MODEL)
    spec = m._spec(False)
    frames = [hs.sample(len(hs), replace=True, random_state=s).reset_index(drop=True)
              for s in range(4)]
    prepped = [m.prepare(f) for f in frames]
    S, mu = sample_moments_many(stack(prepped), prepped)
    S[1, 0, 1:3] = S[1, 1:3, 0] = 0.0        # x1 (marker) uncorrelated with x2, x3
    S[2, 3, 4:6] = S[2, 4:6, 3] = -0.2       # textual: negative covariances
    many = start_values(spec.rows, spec.vars, S, mu, False)
    for i, d in enumerate(prepped):
        S1, mu1 = sample_moments(d)
        if i in (1, 2):
            S1 = S[i]
        np.testing.assert_allclose(many[i], start_values(spec.rows, spec.vars, S1, mu1,
                                                         False), rtol=1e-12)
    assert many[2][spec.names.index("textual~~textual")] == 0.05


def test_stacked_moments_equal_numpy_frame_by_frame():
    """The blocked moments of complete stacks (``_centred_moments``: blocks of 32 data
    sets centred into a reused buffer, pieces on threads, a padded last piece) equal
    ``np.cov(bias=True)`` and the mean of each data set, for 75 data sets (two full
    blocks and a partial one) and for a single one."""
    from sem.data import prepare_many
    from sem.starts import sample_moments_many

    rng = np.random.default_rng(3)
    names = list("abcd")
    for D in (75, 1):
        frames = [pd.DataFrame(rng.normal(size=(40, 4)) * [1, 2, 3, 1e3] + [0, 5, -7, 1e4],
                               columns=names) for _ in range(D)]
        stacked, prepped = prepare_many(frames, names)
        S, mu = sample_moments_many(stacked, prepped)
        assert S.shape == (D, 4, 4) and mu.shape == (D, 4)
        for i, f in enumerate(frames):
            x = f.to_numpy()
            np.testing.assert_allclose(S[i], np.cov(x, rowvar=False, bias=True),
                                       rtol=1e-12)
            np.testing.assert_allclose(mu[i], x.mean(0), rtol=1e-13)


def test_initial_inverse_hessians_from_information():
    """Σw·I⁻¹ where I is usable; zeros (BFGS's scaled identity) where it is not finite,
    singular or indefinite; None for transformed parameters."""
    from types import SimpleNamespace

    from sem.initial_hessian import h0_from_information

    good = np.array([[2.0, 0.5], [0.5, 1.0]])
    info = np.stack([good, [[1.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [0.0, -1.0]],
                     [[np.nan, 0.0], [0.0, 1.0]]])
    H0 = h0_from_information(SimpleNamespace(positive=np.zeros(2, bool)), info,
                             np.full(4, 10.0))
    np.testing.assert_allclose(H0[0], 10 * np.linalg.inv(good))
    assert not H0[1:].any()
    assert h0_from_information(SimpleNamespace(positive=np.array([True, False])), info,
                               np.ones(4)) is None


def test_summaries_stand_in_for_the_data(hs, hs_missing):
    """``fit_many`` and ``bootstrap`` compute each data set's statistics once and
    give them to every batched call in place of the data: the log-likelihood and the
    expected information from a summary equal those from the data, however the
    summary was made (from the moments of complete frames, by ``summarize_many``, or
    from weight vectors over shared data by ``summarize_weighted``)."""
    from sem.data import prepare_many
    from sem.estimation import (bootstrap_weights, compiled, summarize_many,
                                summarize_weighted, weighted_stack)
    from sem.starts import sample_moments_many

    def same(a, b):
        assert set(a) == set(b)
        for k in a:
            np.testing.assert_allclose(np.asarray(a[k], float), np.asarray(b[k], float),
                                       rtol=1e-12, atol=1e-12, err_msg=k)

    m = Model(HS_MODEL, meanstructure=True)
    prob = m._spec(True).problem
    frames = [hs.iloc[np.random.default_rng(s).integers(0, len(hs), len(hs))]
              for s in range(3)]
    stacked, prepped = prepare_many(frames, m._spec(True).vars.ov)
    S, mu = sample_moments_many(stacked, prepped)
    by_moments = prob.summary_of_moments(S, mu, stacked["w"].sum(axis=1))
    same(by_moments, summarize_many(prob, stacked))
    theta = np.stack([m.fit(f).theta for f in frames]) * 1.01
    points = np.stack([theta, theta * 0.98], axis=1)       # loglik_many: (D, m, k)
    for kind, at in (("loglik_many", points), ("expected_many", theta)):
        fn = compiled(prob, kind)
        np.testing.assert_allclose(
            np.asarray(fn(at, {k: np.asarray(v) for k, v in by_moments.items()})),
            np.asarray(fn(at, {k: np.asarray(v) for k, v in stacked.items()})),
            rtol=1e-10)

    # missing values: one summary per pattern; bootstrap weights over shared data
    d = m.prepare(hs_missing, missing="ml")
    W = bootstrap_weights(np.random.default_rng(0), len(d["w"]), 4)
    shared = summarize_weighted(prob, d, W)
    same(shared, summarize_many(prob, weighted_stack(d, W)))
    assert shared["nP"].shape[1] == d["patterns"].shape[0]
    np.testing.assert_allclose(shared["w"][:, 0], W.sum(axis=1))
    th = np.broadcast_to(m.fit(hs_missing, missing="ml").theta, (4, prob.n_params))
    ll = compiled(prob, "loglik_many")
    np.testing.assert_allclose(np.asarray(ll(th[:, None], shared)),
                               np.asarray(ll(th[:, None], weighted_stack(d, W))), rtol=1e-10)
