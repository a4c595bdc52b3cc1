"""Parameter recovery from data simulated from known populations."""
import numpy as np
import pytest

from trajmix import GrowthMixture
from trajmix.simulate import liu_perera_population, population_theta, simulate

Y10 = [f"Y{j}" for j in range(1, 11)]
T10 = [f"T{j}" for j in range(1, 11)]


def within(res, truth, z=4.0):
    for name, v in truth.items():
        est, se = res.params[name], res.bse[name]
        assert abs(est - v) <= z * se, f"{name}: {est:.4f} (se {se:.4f}) vs {v}"


def test_bilinear_spline_full_moe_two_classes_n500():
    """The issue's design: two classes, knots 3.5 and 5.5, 10 occasions, n = 500."""
    pop, theta = liu_perera_population("full")
    df = simulate(pop, theta, 500, seed=11)
    res = pop.fit(df, y=Y10, t=T10, n_starts=8, seed=0)
    assert res.converged
    within(res, {"c1.knot": 3.5, "c2.knot": 5.5, "c1.theta": 1.0, "c2.theta": 1.0,
                 "c1.mean_orig.eta0": 100, "c1.mean_orig.eta1": -5,
                 "c1.mean_orig.eta2": -2.6, "c2.mean_orig.eta2": -3.4,
                 "gate.c2.gx1": np.log(1.5), "gate.c2.gx2": np.log(1.7),
                 "c1.beta_orig.eta0~ex1": 0.8849, "c2.beta_orig.eta0~ex2": 1.8773})
    acc = (res.classes.to_numpy() == df["class"].to_numpy()).mean()
    assert acc > 0.85


def test_fit_many_matches_single_fits_and_reference_labels():
    pop, theta = liu_perera_population("full")
    sets = [simulate(pop, theta, 500, seed=s) for s in (21, 22, 23)]
    many = pop.fit_many(sets, y=Y10, t=T10, n_starts=4, seed=0, reference=theta)
    assert all(r.converged for r in many)
    assert [list(r.params.index) for r in many][0] == list(many[2].params.index)
    for r in many:                                   # classes matched to the population
        assert r.params["c1.knot"] == pytest.approx(3.5, abs=0.2)
        assert r.params["c2.knot"] == pytest.approx(5.5, abs=0.2)
    one = pop.fit(sets[1], y=Y10, t=T10, n_starts=4, seed=0)
    assert many[1].llf == pytest.approx(one.llf, abs=1e-4)
    np.testing.assert_allclose(many[1].bse["c1.knot"], one.bse["c1.knot"], rtol=1e-5)


@pytest.mark.parametrize("curve, classes", [
    ("linear", dict(mean=[10.0, 2.0], psi=[[4, .3], [.3, .5]], theta=1.0)),
    ("quadratic", dict(mean=[10.0, 2.0, -0.2], psi=np.diag([4, .5, .01]), theta=1.0)),
    ("negative_exponential", dict(mean=[10.0, 20.0], nl=[0.4], psi=[[4, 1], [1, 9]],
                                  theta=1.0)),
    ("jenss_bayley", dict(mean=[10.0, 3.0, -8.0], nl=[-0.5], psi=np.diag([4, .3, 2.]),
                          theta=1.0)),
])
def test_single_class_curves_recover(curve, classes):
    model = GrowthMixture(curve, 1)
    theta = population_theta(model, [classes])
    df = simulate(model, theta, 800, J=8, seed=5, missing="mcar", p_missing=0.1)
    res = model.fit(df, y=[f"Y{j}" for j in range(1, 9)], t=[f"T{j}" for j in range(1, 9)],
                    n_starts=3)
    assert res.converged
    truth = {f"c1.alpha.{f}": v for f, v in zip(model.curve.factors, classes["mean"])}
    truth["c1.theta"] = 1.0
    if model.layout.m:
        truth[f"c1.{model.curve.nonlinear[0]}"] = classes["nl"][0]
    within(res, truth)


def test_time_varying_covariate_in_a_mixture():
    model = GrowthMixture("linear", 2, tvc={"z": [f"z{j}" for j in range(1, 7)]})
    theta = population_theta(model, [
        dict(mean=[10.0, 1.0], psi=[[2, .2], [.2, .3]], theta=1.0, kappa=[0.5]),
        dict(mean=[20.0, 3.0], psi=[[2, .2], [.2, .3]], theta=1.0, kappa=[1.5])],
        gating=[[0.0]])
    df = simulate(model, theta, 600, J=6, seed=9)
    res = model.fit(df, y=[f"Y{j}" for j in range(1, 7)], t=[f"T{j}" for j in range(1, 7)],
                    n_starts=4)
    within(res, {"c1.kappa.z": 0.5, "c2.kappa.z": 1.5, "c1.alpha.eta1": 1.0,
                 "c2.alpha.eta1": 3.0})


def test_random_knot():
    model = GrowthMixture("bilinear_spline", 1, random_knot=True)
    theta = population_theta(model, [dict(mean=[50.0, 5.0, 1.5], knot=4.0, theta=1.0,
                                          psi=np.diag([9.0, 0.5, 0.2, 0.3]))])
    df = simulate(model, theta, 800, seed=13)
    res = model.fit(df, y=Y10, t=T10, n_starts=3)
    assert res.converged
    within(res, {"c1.knot": 4.0, "c1.alpha_orig.eta1": 5.0, "c1.alpha_orig.eta2": 1.5},
           z=5.0)
    assert res.params["c1.psi.d_knot~~d_knot"] > 0


def test_trajectories_are_the_class_marginal_means_in_the_joint_model():
    """With joint experts, class k's mean trajectory is Λ(t) (α_k + B_k μx_k): at
    t = 0 it equals the reported original-scale mean ``mean_orig.eta0`` and at the
    knot η0 + γ η1. It used to be drawn at the pooled sample mean of x_e, which is
    no class's mean when the classes differ in their covariates."""
    model = GrowthMixture("bilinear_spline", 2, experts=["ex1"])
    B = np.array([[2.0], [0.4], [0.2]])
    theta = population_theta(model, [
        dict(mean=[100.0, -5.0, -2.6], knot=3.5, theta=1.0, psi=np.diag([9.0, .5, .5]),
             beta=B, mux=[-1.0], phi=[[1.0]]),
        dict(mean=[100.0, -5.0, -3.4], knot=5.5, theta=1.0, psi=np.diag([9.0, .5, .5]),
             beta=B, mux=[1.5], phi=[[1.0]])], gating=[[0.0]])
    df = simulate(model, theta, 300, seed=2)
    res = model.fit(df, y=Y10, t=T10, start=theta, se="none", warn=False)
    p = res.params
    for k in (1, 2):
        g = p[f"c{k}.knot"]
        tr = res.trajectories(times=[0.0, g])[f"class{k}"].to_numpy()
        eta0, eta1 = p[f"c{k}.mean_orig.eta0"], p[f"c{k}.mean_orig.eta1"]
        np.testing.assert_allclose(tr, [eta0, eta0 + g * eta1], rtol=1e-12)
    # the two classes' covariate means are far apart: the pooled mean is neither
    assert abs(p["c2.mux.ex1"] - p["c1.mux.ex1"]) > 2


def test_posterior_of_new_persons():
    """``predict_proba`` scores persons the model was not fitted on: on the fitted data
    it is ``posterior``; one person alone gets the same row (a person's posterior
    depends on θ and that person only); long data equal wide; and the modal classes
    of a fresh sample from the population recover its true classes. Independent
    check of one row: π_k f_k(y) / Σ_j π_j f_j(y) with scipy's normal density of the
    person's implied moments."""
    from scipy import stats

    from sem.errors import SpecificationError
    from sem.jaxconfig import jnp

    pop, theta = liu_perera_population("full")
    df = simulate(pop, theta, 300, seed=5)
    res = pop.fit(df, y=Y10, t=T10, start=theta, se="none", warn=False)
    P = res.predict_proba(df, y=Y10, t=T10)
    np.testing.assert_allclose(P.to_numpy(), res.posterior.to_numpy(), rtol=1e-10,
                               atol=1e-14)
    one = res.predict_proba(df.iloc[[7]], y=Y10, t=T10)
    np.testing.assert_allclose(one.to_numpy()[0], P.to_numpy()[7], rtol=1e-10)
    long = df.iloc[:20].assign(pid=range(20)).melt(
        id_vars=["pid", "gx1", "gx2", "ex1", "ex2"], value_vars=Y10, var_name="occ",
        value_name="y")
    long["t"] = df.iloc[:20][T10].to_numpy().ravel(order="F")
    P_long = res.predict_proba(long, id="pid", time="t", outcome="y")
    np.testing.assert_allclose(P_long.to_numpy(), P.to_numpy()[:20], rtol=1e-10)
    fresh = simulate(pop, theta, 400, seed=6)
    acc = (res.predict(fresh, y=Y10, t=T10).to_numpy() == fresh["class"].to_numpy()).mean()
    assert acc > 0.85
    # row 7 by hand: π_k(x_g) N(y; Λ(α + B x_e), Λ L Lᵀ Λᵀ + θ I) N(x_e; μx_k, Φ_k)
    lay, curve = pop.layout, pop.curve
    th = jnp.asarray(res.theta)
    row = df.iloc[7]
    y, t = row[Y10].to_numpy(float), row[T10].to_numpy(float)
    xg, xe = row[["gx1", "gx2"]].to_numpy(float), row[["ex1", "ex2"]].to_numpy(float)
    logits = np.asarray(lay.gate(th)) @ np.r_[1.0, xg]
    terms = []
    for k in range(lay.K):
        p = lay.unpack_class(th, k)
        Lam = np.asarray(curve.loadings(jnp.asarray(t)[None], p["nl"], p["alpha"]))[0]
        eta = np.asarray(p["alpha"]) + np.asarray(p["beta"]) @ xe
        L = np.asarray(p["L"])
        cov = Lam @ L @ L.T @ Lam.T + float(p["theta"]) * np.eye(len(y))
        Lphi = np.asarray(p["Lphi"])
        terms.append(logits[k] + stats.multivariate_normal(Lam @ eta, cov).logpdf(y)
                     + stats.multivariate_normal(np.asarray(p["mux"]),
                                                 Lphi @ Lphi.T).logpdf(xe))
    terms = np.array(terms)
    np.testing.assert_allclose(np.exp(terms - np.logaddexp.reduce(terms)),
                               P.to_numpy()[7], rtol=1e-9)
    with pytest.raises(SpecificationError, match="Y3"):
        res.predict_proba(df.drop(columns="Y3"), y=Y10, t=T10)


def test_order_share_ranks_by_the_weighted_share():
    """``order="share"`` puts the largest class first by the share the results report,
    the *weighted* mean prior; it used to rank by the unweighted mean."""
    from sem.jaxconfig import jnp

    pop, theta = liu_perera_population("full")
    df = simulate(pop, theta, 400, seed=9)
    prob = pop.problem()
    plain = pop.prepare(df, y=Y10, t=T10).arrays
    prior = np.asarray(prob.class_prior(jnp.asarray(theta), plain))
    unweighted = prior.mean(0)
    small = int(np.argmin(unweighted))                 # weight the smaller class's persons
    w = np.where(prior.argmax(1) == small, 6.0, 0.2)
    arrays = pop.prepare(df, y=Y10, t=T10, weights=w).arrays
    weighted = w @ prior / w.sum()
    assert np.argmax(weighted) == small != np.argmax(unweighted)
    th = pop.canonical(np.asarray(theta), arrays, "share")
    after = w @ np.asarray(prob.class_prior(jnp.asarray(th), arrays)) / w.sum()
    np.testing.assert_allclose(after, np.sort(weighted)[::-1], rtol=1e-12)


def test_class_order_of_expert_models_uses_the_class_mean_curves():
    """The canonical order of a non-spline curve ranks the class mean curves at the
    median time; with joint experts a class's mean curve is at its own covariate
    means (as ``trajectories``), not at x = 0, where these two classes rank the
    other way round."""
    model = GrowthMixture("linear", 2, experts=["ex1"])
    B = np.array([[-1.0], [0.0]])
    theta = population_theta(model, [
        dict(mean=[10.0, 1.0], theta=1.0, psi=np.diag([1.0, 0.1]), beta=B, mux=[-5.0],
             phi=[[1.0]]),
        dict(mean=[12.0, 1.0], theta=1.0, psi=np.diag([1.0, 0.1]), beta=B, mux=[5.0],
             phi=[[1.0]])], gating=[[0.0]])
    df = simulate(model, theta, 50, seed=1)
    arrays = model.prepare(df, y=Y10, t=T10).arrays
    tm = float(np.median(arrays["T"][arrays["mask"]]))
    levels = model.class_levels(np.asarray(theta), arrays)
    # by hand: the linear mean curve η0 + η1 t at tm with η = α + B μx:
    # class 1 (10 + 5) + tm, class 2 (12 − 5) + tm; at x = 0 they would be 10 and 12
    np.testing.assert_allclose(levels, [15.0 + tm, 7.0 + tm], rtol=1e-12)
    res = model.fit(df, y=Y10, t=T10, start=theta, se="none", warn=False)
    traj = res.trajectories(times=[tm])
    np.testing.assert_allclose(
        model.class_levels(res.theta, arrays),
        [traj[f"class{k + 1}"].iloc[0] for k in range(2)], rtol=1e-12)
    assert np.all(np.diff(model.class_levels(res.theta, arrays)) >= 0)   # canonical
