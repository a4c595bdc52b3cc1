"""The progression model's likelihood against independent computations: its gradient
against central finite differences and against differentiating every Newton step, its
adaptive quadrature against a dense grid integral of the same joint density."""
from __future__ import annotations

import numpy as np
import pytest

from progression import ProgressionModel, simulate_cohort
from progression.dpm.likelihood import (Layout, agq_case, gauss_hermite, log_joint,
                                        subject_view)
from progression.dpm.model import (ProgressionProblem, Scaler, make_arrays, refresh_nodes)
from progression.dpm.start import start_values
from progression.longitudinal import prepare_longitudinal
from progression.schema import ID
from sem.jaxconfig import jax, jnp


@pytest.fixture(scope="module")
def setup():
    d1 = prepare_longitudinal(simulate_cohort(48, seed=3).d1)
    markers = ProgressionModel()._choose_markers(d1)
    scaler = Scaler.fit(d1, markers)
    age_ref = float(np.round(d1.groupby(ID).head(1)["AGE_BL"].mean(), 1))
    fill = np.array([d1.groupby(ID).head(1)["APOE4"].mean()])
    data, rids = make_arrays(d1, markers, ["APOE4"], scaler, age_ref, fill, bucket=False)
    problem = ProgressionProblem(Layout(len(markers), 1), markers, ["APOE4"])
    theta, data["bhat"] = start_values(data, len(rids), problem.layout)
    data, _ = refresh_nodes(problem.layout, theta, data)
    # away from the stored modes: the Newton steps inside the objective have work to do
    rng = np.random.default_rng(0)
    theta = theta * (1 + 0.05 * rng.standard_normal(theta.shape))
    jd = {k: jnp.asarray(v) for k, v in data.items()}
    return problem, jnp.asarray(theta), jd


def _total(problem, diff_steps):
    lay, z, lw, k = problem.layout, problem.nodes, problem.logw, problem.iters

    def f(theta, data):
        ll = jax.vmap(lambda d: agq_case(theta, d, lay, z, lw, k, diff_steps))(
            subject_view(data))
        return jnp.sum(data["w"] * ll)
    return f


def test_gradient_equals_finite_differences(setup):
    problem, theta, data = setup
    f = jax.jit(problem.loglik)
    g = np.asarray(jax.jit(jax.grad(problem.loglik))(theta, data))
    th = np.asarray(theta)
    fd = np.empty_like(th)
    for i in range(th.size):
        h = 1e-5 * (1 + abs(th[i]))
        e = np.zeros_like(th)
        e[i] = h
        fd[i] = (float(f(theta + e, data)) - float(f(theta - e, data))) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5 * np.abs(g).max())


def test_differentiating_the_last_steps_gives_the_exact_gradient(setup):
    """The default differentiates 3 of the 10 Newton steps; differentiating all 10 gives
    the gradient of the same function."""
    problem, theta, data = setup
    v3, g3 = jax.jit(jax.value_and_grad(_total(problem, 3)))(theta, data)
    v10, g10 = jax.jit(jax.value_and_grad(_total(problem, 10)))(theta, data)
    assert float(v3) == pytest.approx(float(v10), rel=1e-13)
    np.testing.assert_allclose(np.asarray(g3), np.asarray(g10), rtol=1e-7,
                               atol=1e-7 * float(jnp.abs(g10).max()))


def test_quadrature_converges_to_the_dense_integral(setup):
    """Adaptive Gauss–Hermite with 21 nodes per dimension equals log ∫ p(y_i, b) db by
    a 0.04-spaced grid over [−7, 7]² (a different rule, no adaptation; 0.02 gives the
    same to 1e-12) to 1e-6. (The errors of 1, 5, 9, 15, 21 nodes on these subjects: 3e-2,
    7e-4, 5e-5, 2e-6, 3e-7; the Laplace approximation's is the largest.)"""
    problem, theta, data = setup
    lay = problem.layout
    z, lw = (jnp.asarray(a) for a in gauss_hermite(21))
    P = lay.unpack(theta)
    grid = np.arange(-7.0, 7.0 + 1e-9, 0.04)
    B = jnp.asarray(np.stack(np.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2))
    view = subject_view(data)
    agq_one = jax.jit(lambda d: agq_case(theta, d, lay, z, lw))
    dense_one = jax.jit(lambda d: jax.scipy.special.logsumexp(
        jax.vmap(lambda b: log_joint(b, P, d))(B)) + 2 * np.log(0.04))
    for i in (0, 7, 23):
        d = {k: v[i] for k, v in view.items()}
        agq, dense = float(agq_one(d)), float(dense_one(d))
        assert agq == pytest.approx(dense, abs=1e-6), i
