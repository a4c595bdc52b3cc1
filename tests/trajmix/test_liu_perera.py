"""Agreement with the authors' software on their demo data (research notes §3.4):
Mplus 8.4 log-likelihoods of the four variants and the OpenMx estimates of the full
mixture of experts (Extension_projects@43d2d166 Part 2/OpenMx_demo2.md)."""
import numpy as np
import pytest

from trajmix import GrowthMixture
from tests.trajmix.conftest import T10, Y10

VARIANTS = {
    "finite mixture": (dict(), -10205.472, 23),
    "gating": (dict(gating=["gx1", "gx2"]), -10180.929, 25),
    "expert": (dict(experts=["ex1", "ex2"]), -11480.752, 45),
    "full": (dict(gating=["gx1", "gx2"], experts=["ex1", "ex2"]), -11458.347, 47),
}


@pytest.fixture(scope="module")
def fits(liu):
    return {name: GrowthMixture("bilinear_spline", 2, **kw).fit(liu, y=Y10, t=T10,
                                                                 n_starts=8, seed=0)
            for name, (kw, _, _) in VARIANTS.items()}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_log_likelihoods_and_parameter_counts_equal_mplus(fits, name):
    _, llf, k = VARIANTS[name]
    r = fits[name]
    assert r.converged
    assert r.n_params == k
    assert r.llf == pytest.approx(llf, abs=1e-2)
    assert r.replicated >= 2                     # the best log-likelihood replicated


def test_full_moe_estimates_equal_openmx(fits):
    r = fits["full"]
    est, se = r.params, r.bse
    # OpenMx: knots 3.519 (0.032) and 5.559 (0.049); theta 1.013 / 1.024;
    # gating beta 0.440 (0.124), 0.553 (0.144)
    for name, (e, s) in {"c1.knot": (3.519, 0.032), "c2.knot": (5.559, 0.049),
                         "c1.theta": (1.013, None), "c2.theta": (1.024, None),
                         "gate.c2.gx1": (0.440, 0.124), "gate.c2.gx2": (0.553, 0.144)}.items():
        assert est[name] == pytest.approx(e, abs=1.5e-3), name
        if s is not None:
            assert se[name] == pytest.approx(s, abs=1.5e-3), name
    # Mplus: entropy 0.661, classes 255/245 by modal assignment
    assert r.entropy == pytest.approx(0.661, abs=2e-3)
    assert sorted(np.bincount(r.classes.to_numpy())[1:]) == [245, 255]
    # information criteria as Mplus reports them
    assert r.aic == pytest.approx(23010.695, abs=0.02)
    assert r.bic == pytest.approx(23208.781, abs=0.02)


def test_other_variants_match_mplus_entropy_and_bic(fits):
    assert fits["finite mixture"].bic == pytest.approx(20553.879, abs=0.02)
    assert fits["gating"].bic == pytest.approx(20517.223, abs=0.02)
    assert fits["expert"].bic == pytest.approx(23241.162, abs=0.02)
    assert fits["finite mixture"].entropy == pytest.approx(0.601, abs=2e-3)
    assert fits["gating"].entropy == pytest.approx(0.647, abs=2e-3)
    assert fits["expert"].entropy == pytest.approx(0.628, abs=2e-3)


def test_result_api(fits):
    r = fits["full"]
    assert len(r.params) == len(r.bse) == len(r.conf_int())
    ci = r.conf_int()
    assert (ci["lower"] < r.params).all() and (r.params < ci["upper"]).all()
    assert r.posterior.shape == (500, 2)
    np.testing.assert_allclose(r.posterior.sum(axis=1), 1.0)
    tab = r.estimates
    assert {"class", "lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower",
            "ci.upper"} <= set(tab.columns)
    assert r.class_shares.sum() == pytest.approx(1.0)
    # canonical order: ascending knots
    assert r.params["c1.knot"] < r.params["c2.knot"]
    traj = r.trajectories()
    assert list(traj.columns) == ["time", "class1", "class2"]
    assert "Gating network" in r.summary()


def test_embedding_a_nested_fit_reproduces_its_likelihood(fits):
    """Starting the gating model at the finite mixture's optimum (gating slopes 0)
    gives the finite mixture's log-likelihood: adding covariates cannot lose it."""
    from sem.jaxconfig import jnp

    fmm = fits["finite mixture"]
    gating = fits["gating"].model
    th = gating.embed(fmm, fits["gating"].data.arrays)
    jd = {k: jnp.asarray(v) for k, v in fits["gating"].data.arrays.items()}
    assert float(gating.problem().loglik(jnp.asarray(th), jd)) == pytest.approx(fmm.llf,
                                                                               abs=1e-8)
    assert fits["gating"].llf >= fmm.llf


def test_embedding_an_expert_fit_reproduces_its_likelihood(liu):
    """The expert-network fit embedded in the full model (experts listed in another
    order, a gating covariate added) has the expert fit's log-likelihood: the
    covariates' class distributions are copied and the expert effects matched by name.
    (They used to be re-estimated from the posterior and copied by position.)"""
    from sem.errors import SpecificationError
    from sem.jaxconfig import jnp

    sub = liu.iloc[:150]
    expert = GrowthMixture("bilinear_spline", 2, experts=["ex1", "ex2"])
    r = expert.fit(sub, y=Y10, t=T10, n_starts=1, max_iter=40, se="none", warn=False)
    full = GrowthMixture("bilinear_spline", 2, gating=["gx1"], experts=["ex2", "ex1"])
    gd = full.prepare(sub, y=Y10, t=T10)
    jd = {k: jnp.asarray(v) for k, v in gd.arrays.items()}
    th = full.embed(r, gd.arrays)
    rd = {k: jnp.asarray(v) for k, v in r.data.arrays.items()}
    want = float(expert.problem().loglik(jnp.asarray(r.theta), rd))
    assert float(full.problem().loglik(jnp.asarray(th), jd)) == pytest.approx(want, abs=1e-8)
    assert full.layout.get(th, "beta", 0)[1, 0] == pytest.approx(
        expert.layout.get(r.theta, "beta", 0)[1, 1])
    # not nested: the fit has a covariate this model lacks
    with pytest.raises(SpecificationError, match=r"nested fit.*experts \['ex2'\]"):
        GrowthMixture("bilinear_spline", 2, experts=["ex1"]).embed(r, gd.arrays)
