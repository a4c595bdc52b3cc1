"""Likelihoods and moments against independent numpy/scipy computations."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sem import Model
from sem.estimation import compiled
from sem.jaxconfig import jnp
from tests.conftest import HS_MODEL, PD_MODEL


def test_implied_moments_equal_plain_numpy(pol_dem):
    m = Model(PD_MODEL, meanstructure=True)
    d = m.prepare(pol_dem)
    spec = m._spec_for(d)
    theta = m.start(d) + 0.01
    A, S, mvec = (np.asarray(x) for x in spec.ram.matrices(jnp.asarray(theta)))
    n = A.shape[0]
    B = np.linalg.inv(np.eye(n) - A)          # the explicit inverse, as a reference
    F = np.eye(n)[: spec.ram.n_ov]
    Sigma_ref, mu_ref = F @ B @ S @ B.T @ F.T, F @ B @ mvec
    Sigma, mu = (np.asarray(x) for x in spec.ram.implied(jnp.asarray(theta)))
    np.testing.assert_allclose(Sigma, Sigma_ref, atol=1e-12)
    np.testing.assert_allclose(mu, mu_ref, atol=1e-12)


@pytest.mark.parametrize("syntax, block, latent_depth", [
    (HS_MODEL, True, 0),                               # a CFA
    (PD_MODEL, True, 2),                               # latent regressions, y ~~ y
    ("f1 =~ y1 + y2 + y3; f2 =~ y4 + y5 + y6; f1 ~ f2; f2 ~ f1", True, None),  # a cycle
    (HS_MODEL + "; visual ~ x10", False, None),        # an observed predictor (MIMIC)
    ("y1 ~ y2 + x1; y2 ~ x2", False, None),            # a path model
    ("f =~ y1 + y2 + y3; y1 ~~ f", False, None),       # an observed-latent covariance
])
def test_latent_block_moments_equal_plain_numpy(syntax, block, latent_depth):
    """``RAM.implied`` in its latent-block form (Σ = S_oo + B_ol S_ll B_olᵀ) and in the
    general one, against F (I − A)⁻¹ S (I − A)⁻ᵀ Fᵀ by an explicit inverse, at random
    parameter values, with and without a mean structure."""
    for means in (False, True):
        ram = Model(syntax)._spec(means).ram
        assert (ram.latent_block, ram.latent_depth) == (block, latent_depth)
        theta = np.random.default_rng(2).normal(scale=0.4, size=ram.n_par)
        A, S, mvec = (np.asarray(x) for x in ram.matrices(jnp.asarray(theta)))
        B = np.linalg.inv(np.eye(A.shape[0]) - A)
        F = np.eye(A.shape[0])[: ram.n_ov]
        Sigma, mu = (np.asarray(x) for x in ram.implied(jnp.asarray(theta)))
        np.testing.assert_allclose(Sigma, F @ B @ S @ B.T @ F.T, atol=1e-12)
        np.testing.assert_allclose(mu, F @ B @ mvec, atol=1e-12)


@pytest.mark.parametrize("syntax, depth", [
    ("x1 ~~ x2; x2 ~~ x3", 0),                         # no directed path: B = I
    (HS_MODEL, 1),                                     # B = I + A
    (PD_MODEL, 3),                                     # Horner's rule, three steps
])
def test_inverse_of_I_minus_A_by_horner_equals_numpy(syntax, depth):
    """(I − A)⁻¹ of a recursive model by Horner's rule (started at I + A) against the
    explicit inverse, at random parameter values, for path lengths 0, 1 and 3."""
    ram = Model(syntax)._spec(True).ram
    assert ram.depth == depth
    theta = np.random.default_rng(1).normal(size=ram.n_par)
    A = np.asarray(ram.matrices(jnp.asarray(theta))[0])
    B = np.asarray(ram.inverse_I_minus_A(jnp.asarray(A)))
    np.testing.assert_allclose(B, np.linalg.inv(np.eye(A.shape[0]) - A), atol=1e-12)


@pytest.mark.parametrize("syntax, means", [
    (PD_MODEL, True),                                  # regressions, equal loadings
    (HS_MODEL + "; visual ~~ 1*textual", False),       # a fixed covariance
    ("y1 ~ y2 + x1; y2 ~ y1 + x2; y1 ~~ y2; y1 ~ 0.5*x2", True),   # a feedback loop
])
def test_moment_jacobian_in_closed_form_equals_jacfwd(syntax, means):
    """``RAM.jacobian_terms`` (outer products of B's and C's columns), summed, against
    forward-mode autodiff through the matrix products, at a point off the optimum."""
    import jax

    m = Model(syntax, meanstructure=means)
    ram = m._spec(means).ram
    rng = np.random.default_rng(4)
    theta = jnp.asarray(0.3 + 0.2 * rng.random(ram.n_par))
    _, P, Q, T, dmu = ram.jacobian_terms(theta)
    dS = (P[:, None, :] * Q[None, :, :]) @ T
    rS, rmu = jax.jacfwd(ram.implied)(theta)
    np.testing.assert_allclose(np.asarray(dS), np.asarray(rS), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(dmu), np.asarray(rmu), rtol=1e-12, atol=1e-12)
    assert np.abs(np.asarray(rS)).max() > 0.1


def test_expected_information_equals_its_definition(hs_missing):
    """The expected information from rank-one Jacobian terms against its definition,
    Σ_P n_P [½ tr(K_P ∂_aΣ K_P ∂_bΣ) + ∂_aμᵀ K_P ∂_bμ], in numpy with the Jacobian of
    ``jax.jacfwd``, for FIML (many patterns) with a mean structure."""
    import jax

    from sem.likelihoods import with_stats

    m = Model(HS_MODEL, meanstructure=True)
    d = m.prepare(hs_missing, missing="ml")
    prob = m._spec(True).problem
    theta = jnp.asarray(m.fit(hs_missing, missing="ml").theta * 1.05)
    got = np.asarray(prob.expected_information(theta, d))
    Sigma, _ = (np.asarray(x) for x in prob.ram.implied(theta))
    dS, dmu = (np.asarray(x) for x in jax.jacfwd(prob.ram.implied)(theta))
    stats = with_stats({k: jnp.asarray(v) for k, v in d.items()})
    ref = np.zeros_like(got)
    for o, n in zip(d["patterns"], np.asarray(stats["nP"])):
        K = np.zeros_like(Sigma)
        K[np.ix_(o, o)] = np.linalg.inv(Sigma[np.ix_(o, o)])
        KdS = np.einsum("ij,jka->ika", K, dS)
        ref += n * (0.5 * np.einsum("ija,jib->ab", KdS, KdS) + dmu.T @ K @ dmu)
    assert len(d["patterns"]) > 3
    np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-9)


def test_pattern_statistics_equal_numpy_weighted_moments(hs_missing):
    """Per-pattern weighted counts, means and biased covariances (centred at a data-only
    mean and corrected) against numpy, one pattern at a time, on data shifted by 10⁴
    so that a careless formula would cancel."""
    from sem.likelihoods import pattern_stats

    shifted = hs_missing.copy()
    xs = [f"x{i}" for i in range(1, 10)]
    shifted[xs] = shifted[xs] + 1e4
    d = Model(HS_MODEL).prepare(shifted, missing="ml")
    w = np.random.default_rng(2).integers(0, 4, len(d["w"])).astype(float)
    nP, mean, cov = (np.asarray(x) for x in pattern_stats(
        jnp.asarray(d["Y"]), jnp.asarray(d["onehot"]), jnp.asarray(w)))
    pid = d["onehot"].argmax(1)
    for P, o in enumerate(d["patterns"]):
        rows = pid == P
        Y, wp = d["Y"][rows][:, o], w[rows]
        assert nP[P] == wp.sum()
        if wp.sum() == 0:
            continue
        mu = wp @ Y / wp.sum()
        S = ((Y - mu) * wp[:, None]).T @ (Y - mu) / wp.sum()
        np.testing.assert_allclose(mean[P][o], mu, rtol=1e-13)
        np.testing.assert_allclose(cov[P][np.ix_(o, o)], S, rtol=1e-9, atol=1e-9)


def test_fiml_cases_equal_scipy_on_observed_subsets(hs_missing):
    m = Model(HS_MODEL, meanstructure=True)
    d = m.prepare(hs_missing, missing="ml")
    prob = m.problem(d)
    theta = m.start(d)
    Sigma, mu = (np.asarray(x) for x in prob.ram.implied(jnp.asarray(theta)))
    ll = np.asarray(prob.loglik_cases(jnp.asarray(theta), {k: jnp.asarray(v) for k, v in d.items()}))
    Y = np.where(d["obs"], d["Y"], np.nan)
    for i in range(0, len(Y), 7):
        o = d["obs"][i]
        ref = stats.multivariate_normal(mu[o], Sigma[np.ix_(o, o)]).logpdf(Y[i, o])
        assert ll[i] == pytest.approx(ref, abs=1e-10)
    total = float(prob.loglik(jnp.asarray(theta), {k: jnp.asarray(v) for k, v in d.items()}))
    assert total == pytest.approx(ll.sum(), rel=1e-12)


def test_gradient_agrees_with_finite_differences(hs_missing):
    m = Model(HS_MODEL, meanstructure=True)
    d = m.prepare(hs_missing, missing="ml")
    prob = m.problem(d)
    jd = {k: jnp.asarray(v) for k, v in d.items()}
    theta = m.start(d) * 1.05
    import jax
    g = np.asarray(jax.jit(jax.grad(prob.loglik))(jnp.asarray(theta), jd))
    f = jax.jit(prob.loglik)
    h = 1e-6
    fd = np.array([(float(f(jnp.asarray(theta + h * e), jd))
                    - float(f(jnp.asarray(theta - h * e), jd))) / (2 * h)
                   for e in np.eye(len(theta))])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-5)


def test_scores_sum_to_gradient_and_vanish_at_optimum(hs):
    res = Model(HS_MODEL).fit(hs)
    prob = res.spec.problem
    jd = {k: jnp.asarray(v) for k, v in res.data.items()}
    s = np.asarray(compiled(prob, "scores")(jnp.asarray(res.theta), jd))
    assert s.shape == (301, 21)
    np.testing.assert_allclose(s.sum(0), 0.0, atol=1e-5)


def test_definition_variables_equal_fixed_loadings_when_times_are_common():
    rng = np.random.default_rng(3)
    n, T = 400, np.array([0.0, 1.0, 2.0, 3.0])
    eta = rng.multivariate_normal([10, 2], [[4, 0.5], [0.5, 1]], n)
    Y = eta[:, :1] + eta[:, 1:] * T + rng.normal(0, 1, (n, 4))
    df = pd.DataFrame(Y, columns=[f"y{j}" for j in range(4)])
    for j in range(4):
        df[f"t{j}"] = T[j]
    common = ("i =~ 1*y0 + 1*y1 + 1*y2 + 1*y3\n s =~ 0*y0 + 1*y1 + 2*y2 + 3*y3\n"
              "i ~ 1; s ~ 1; y0 ~ 0*1; y1 ~ 0*1; y2 ~ 0*1; y3 ~ 0*1\n"
              "y0 ~~ e*y0; y1 ~~ e*y1; y2 ~~ e*y2; y3 ~~ e*y3")
    defvar = common.replace("0*y0 + 1*y1 + 2*y2 + 3*y3",
                            "data.t0*y0 + data.t1*y1 + data.t2*y2 + data.t3*y3")
    a = Model(common, meanstructure=True).fit(df)
    b = Model(defvar).fit(df)
    assert b.spec.problem.has_defvars
    assert b.llf == pytest.approx(a.llf, abs=1e-6)
    np.testing.assert_allclose(b.params.to_numpy(), a.params.to_numpy(), atol=1e-5)
    np.testing.assert_allclose(b.bse.to_numpy(), a.bse.to_numpy(), rtol=1e-4)


def test_definition_variables_individual_times_recover_growth():
    rng = np.random.default_rng(4)
    n = 600
    T = np.arange(5.0) + rng.uniform(-0.3, 0.3, (n, 5))
    T[:, 0] = 0
    eta = rng.multivariate_normal([50, 3], [[9, 0.6], [0.6, 0.5]], n)
    Y = eta[:, :1] + eta[:, 1:] * T + rng.normal(0, 1.0, (n, 5))
    Y[rng.random((n, 5)) < 0.1] = np.nan      # missing outcomes: FIML through the mask
    Y[:, 0] = np.where(np.isnan(Y).all(1), 50.0, Y[:, 0])
    df = pd.DataFrame(Y, columns=[f"y{j}" for j in range(5)])
    for j in range(5):
        df[f"t{j}"] = T[:, j]
    syntax = ("i =~ " + " + ".join(f"1*y{j}" for j in range(5)) + "\n"
              "s =~ " + " + ".join(f"data.t{j}*y{j}" for j in range(5)) + "\n"
              "i ~ 1; s ~ 1\n" + "\n".join(f"y{j} ~ 0*1; y{j} ~~ e*y{j}" for j in range(5)))
    res = Model(syntax).fit(df, missing="ml")
    est = res.params
    assert est["i~1"] == pytest.approx(50, abs=0.4)
    assert est["s~1"] == pytest.approx(3, abs=0.1)
    assert est["e"] == pytest.approx(1.0, abs=0.1)
    assert est["s~~s"] == pytest.approx(0.5, abs=0.1)
    z = (est["s~1"] - 3) / res.bse["s~1"]
    assert abs(z) < 4


def test_closed_form_derivatives_equal_autodiff_through_the_factorisation(hs_missing):
    """``mvn_loglik_total`` is differentiated by its closed form (a custom JVP); it must
    equal JAX's derivative through the Cholesky loop — first and second order, in Σ, μ
    and the sufficient statistics — and give zeros, not NaN, where Σ is not PD."""
    import jax

    from sem.likelihoods import _total, _total_parts, with_stats

    m = Model(HS_MODEL, meanstructure=True)
    d = with_stats({k: jnp.asarray(v) for k, v in m.prepare(hs_missing, missing="ml").items()})
    prob = m.problem(d)
    Sigma, mu = prob.ram.implied(jnp.asarray(m.start(d) * 1.05))
    args = (Sigma, mu, d["nP"], d["ybarP"], d["SP"], d["patterns"].astype(float))
    assert args[5].shape[0] > 1                      # several missingness patterns

    def ref(*a):
        return _total_parts(*a)[0]

    def sym(G):          # Cholesky reads one triangle: compare along symmetric directions
        return 0.5 * (G + np.swapaxes(G, -1, -2)) if G.shape[-2:] == (9, 9) else G

    # S_P is zero on a pattern's missing coordinates by construction; there the masked
    # matrix the reference factorises has an identity block, so its derivative in those
    # (never-varying) entries differs and means nothing
    o = np.asarray(args[5])
    keep = [1.0, 1.0, 1.0, 1.0, o[:, :, None] * o[:, None, :]]
    g_new = jax.jit(jax.grad(_total, argnums=(0, 1, 2, 3, 4)))(*args)
    g_ref = jax.jit(jax.grad(ref, argnums=(0, 1, 2, 3, 4)))(*args)
    for i in range(5):                               # Σ, μ, n_P, ȳ_P, S_P
        np.testing.assert_allclose(sym(np.asarray(g_new[i])) * keep[i],
                                   sym(np.asarray(g_ref[i])) * keep[i], rtol=1e-9, atol=1e-9)
    # second order: along two random symmetric directions of Σ and one of μ
    rng = np.random.default_rng(0)
    E = [jnp.asarray(sym(rng.normal(size=(9, 9)))) for _ in range(2)]
    e = jnp.asarray(rng.normal(size=9))

    def along(fn):
        return lambda s: fn(args[0] + s[0] * E[0] + s[1] * E[1], args[1] + s[2] * e, *args[2:])

    s0 = jnp.zeros(3)
    np.testing.assert_allclose(jax.jit(jax.hessian(along(_total)))(s0),
                               jax.jit(jax.jacrev(jax.jacrev(along(ref))))(s0), rtol=1e-8)
    bad = (args[0] - 10.0 * jnp.eye(9),) + args[1:]
    v, g = jax.jit(jax.value_and_grad(_total))(*bad)
    assert float(v) == -np.inf and np.all(np.asarray(g) == 0.0)


def test_finite_difference_hessian_in_batches_equals_the_exact_one(monkeypatch):
    """``fd_hessian`` runs its 2k gradients ``FD_CASE_BUDGET // n`` at a time (memory at
    n = 100 000); batched with a remainder it equals ``jax.hessian``."""
    import jax

    import sem.estimation as est

    rng = np.random.default_rng(1)
    X = jnp.asarray(rng.normal(size=(10, 4)))
    data = {"X": X, "w": jnp.ones(10)}

    def f(theta, d):
        return jnp.sum(d["w"] * jnp.log1p(jnp.exp(d["X"] @ theta)) - 0.1 * theta @ theta)

    theta = jnp.asarray([0.3, -0.2, 0.5, 0.1])
    exact = np.asarray(jax.hessian(f)(theta, data))
    for budget in (30, 10, 10**6):                 # batches of 3 (8 = 3+3+2), 1, all
        monkeypatch.setattr(est, "FD_CASE_BUDGET", budget)
        np.testing.assert_allclose(np.asarray(est.fd_hessian(f)(theta, data)), exact,
                                   rtol=1e-7, atol=1e-9)


def test_case_jacobian_in_batches_equals_jacfwd(monkeypatch):
    import jax

    import sem.estimation as est

    rng = np.random.default_rng(2)
    data = {"X": jnp.asarray(rng.normal(size=(10, 4))), "w": jnp.ones(10)}

    def f(theta, d):
        return jnp.log1p(jnp.exp(d["X"] @ theta)) * theta[0]

    theta = jnp.asarray([0.3, -0.2, 0.5, 0.1])
    ref = np.asarray(jax.jacfwd(f)(theta, data))
    for budget in (30, 10, 10**6):                 # tangents 3 at a time, 1, all 4
        monkeypatch.setattr(est, "FD_CASE_BUDGET", budget)
        np.testing.assert_allclose(np.asarray(est.case_jacobian(f)(theta, data)), ref,
                                   rtol=1e-13, atol=1e-13)
