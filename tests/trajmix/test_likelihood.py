"""The mixture likelihood against an independent numpy/scipy evaluation: per person,
the full J_i × J_i covariance of the observed outcomes (no Woodbury), scipy's
multivariate normal, and a log-sum-exp over classes written out."""
import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp, softmax

from sem.jaxconfig import jnp
from trajmix import GrowthMixture
from trajmix.simulate import liu_perera_population, simulate

Y10 = [f"Y{j}" for j in range(1, 11)]
T10 = [f"T{j}" for j in range(1, 11)]


def reference_loglik(model, theta, arrays):
    """Independent evaluation of every person's log-likelihood."""
    lay, curve = model.layout, model.curve
    Y, T, M = arrays["Y"], arrays["T"], arrays["mask"]
    Xg, Xe, Z = arrays["Xg"], arrays["Xe"], arrays["Z"]
    n = len(Y)
    G = np.zeros((lay.K, 1 + lay.pg))
    if lay.K > 1:
        G[1:] = np.asarray(lay.get(theta, "gate", None)).reshape(lay.K - 1, -1)
    logpi = np.log(softmax(np.column_stack([np.ones(n), Xg]) @ G.T, axis=1))
    out = np.zeros((n, lay.K))
    for k in range(lay.K):
        p = {a: np.asarray(b) for a, b in lay.unpack_class(jnp.asarray(theta), k).items()}
        Psi = p["L"] @ p["L"].T
        for i in range(n):
            o = M[i]
            t = T[i, o]
            if curve.name == "bilinear_spline":
                g = p["nl"][0]
                Lam = np.column_stack([np.ones_like(t), t - g, np.abs(t - g)])
            else:
                Lam = np.asarray(curve.loadings(jnp.asarray(t), jnp.asarray(p["nl"]),
                                                jnp.asarray(p["alpha"])))
            eta = p["alpha"] + (p["beta"] @ Xe[i] if lay.pe else 0)
            mean = Lam @ eta + (Z[i, o] @ p["kappa"] if lay.pz else 0)
            S = Lam @ Psi @ Lam.T + p["theta"] * np.eye(o.sum())
            ll = stats.multivariate_normal(mean, S).logpdf(Y[i, o])
            if lay.pe and lay.joint:
                Phi = p["Lphi"] @ p["Lphi"].T
                ll += stats.multivariate_normal(p["mux"], Phi).logpdf(Xe[i])
            out[i, k] = ll
    return logsumexp(out + logpi, axis=1)


@pytest.mark.parametrize("likelihood", ["joint", "conditional"])
def test_experts_likelihoods_equal_independent_evaluation(likelihood):
    pop, theta = liu_perera_population("full")
    df = simulate(pop, theta, 60, seed=3, missing="mcar", p_missing=0.2)
    model = GrowthMixture("bilinear_spline", 2, gating=["gx1", "gx2"],
                          experts=["ex1", "ex2"], experts_likelihood=likelihood)
    gd = model.prepare(df, y=Y10, t=T10)
    th = model.start(gd) * 1.03                 # any admissible point
    ours = np.asarray(model.problem().loglik_cases(
        jnp.asarray(th), {k: jnp.asarray(v) for k, v in gd.arrays.items()}))
    np.testing.assert_allclose(ours, reference_loglik(model, th, gd.arrays), rtol=1e-11,
                               atol=1e-9)


def test_joint_minus_conditional_is_log_density_of_experts_for_one_class():
    pop, theta = liu_perera_population("expert", n_classes=2)
    df = simulate(pop, theta, 40, seed=4)
    a = GrowthMixture("bilinear_spline", 1, experts=["ex1", "ex2"])
    b = GrowthMixture("bilinear_spline", 1, experts=["ex1", "ex2"],
                      experts_likelihood="conditional")
    gd = a.prepare(df, y=Y10, t=T10)
    th_a = a.start(gd)
    lay = a.layout
    mux = np.asarray(lay.get(th_a, "mux", 0))
    Lphi = np.zeros((2, 2))
    Lphi[lay.tri_e] = np.asarray(lay.get(th_a, "phi", 0))
    jd = {k: jnp.asarray(v) for k, v in gd.arrays.items()}
    # conditional layout has no mux/phi blocks: rebuild its theta block by block
    th_b = np.concatenate([th_a[bl.start:bl.start + bl.size] for bl in lay.blocks
                           if bl.name not in ("mux", "phi")])
    diff = (np.asarray(a.problem().loglik_cases(jnp.asarray(th_a), jd))
            - np.asarray(b.problem().loglik_cases(jnp.asarray(th_b), jd)))
    ref = stats.multivariate_normal(mux, Lphi @ Lphi.T).logpdf(gd.arrays["Xe"])
    np.testing.assert_allclose(diff, ref, rtol=1e-11)


@pytest.mark.parametrize("curve", ["linear", "quadratic", "negative_exponential",
                                   "jenss_bayley"])
def test_other_curves_equal_independent_evaluation(curve):
    rng = np.random.default_rng(5)
    n = 30
    T = np.arange(6.0) + rng.uniform(-0.2, 0.2, (n, 6))
    df = {f"Y{j + 1}": 10 + 2 * T[:, j] + rng.normal(size=n) for j in range(6)}
    df.update({f"T{j + 1}": T[:, j] for j in range(6)})
    import pandas as pd
    df = pd.DataFrame(df)
    model = GrowthMixture(curve, 2)
    gd = model.prepare(df, y=[f"Y{j}" for j in range(1, 7)], t=[f"T{j}" for j in range(1, 7)])
    th = model.start(gd, seed=1)
    if model.layout.m:
        for k in range(2):
            b = model.layout.find("nl", k)
            th[b.start] = 0.3 if curve == "negative_exponential" else -0.3
    ours = np.asarray(model.problem().loglik_cases(
        jnp.asarray(th), {k: jnp.asarray(v) for k, v in gd.arrays.items()}))
    np.testing.assert_allclose(ours, reference_loglik(model, th, gd.arrays), rtol=1e-10)


def test_gradient_agrees_with_finite_differences(liu):
    import jax
    model = GrowthMixture("bilinear_spline", 2, gating=["gx1", "gx2"],
                          experts=["ex1", "ex2"])
    gd = model.prepare(liu.iloc[:80], y=Y10, t=T10)
    prob = model.problem()
    jd = {k: jnp.asarray(v) for k, v in gd.arrays.items()}
    th = model.start(gd)
    g = np.asarray(jax.grad(prob.loglik)(jnp.asarray(th), jd))
    f = jax.jit(prob.loglik)
    h = 1e-6 * (1 + np.abs(th))
    fd = np.array([(float(f(jnp.asarray(th + h[i] * e), jd))
                    - float(f(jnp.asarray(th - h[i] * e), jd))) / (2 * h[i])
                   for i, e in enumerate(np.eye(len(th)))])
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-4)
