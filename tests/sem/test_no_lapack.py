"""The compiled likelihoods and optimizers contain no LAPACK custom call: batched
LAPACK kernels can deadlock jaxlib 0.10's CPU runtime on 2 cores (sem/jaxconfig.py,
sem/linalg.py). Each batched program is lowered (not run) and its text searched."""
import numpy as np
import pytest

from sem import Model
from sem.estimation import compiled
from sem.jaxconfig import jnp
from tests.conftest import HS_MODEL


def _lowered_text(problem, data, kind="many"):
    D = 3
    stacked = {k: jnp.asarray(np.broadcast_to(v, (D,) + np.shape(v))) for k, v in data.items()}
    k = problem.n_params
    if kind == "many":
        fn = compiled(problem, "many", gtol=1e-8, polish=False, batch_size=None)
        args = (jnp.zeros((D, 2, k)), stacked, jnp.zeros((k, k)), 5)   # 5: max_iter
    else:
        fn = compiled(problem, kind)
        args = (jnp.zeros((D, k)) + 0.5, stacked)
    return fn.lower(*args).as_text()


def _assert_no_lapack(text):
    hits = sorted({line.split("@")[1].split("(")[0] for line in text.splitlines()
                   if "custom_call" in line and "@" in line})
    assert not [h for h in hits if "lapack" in h.lower()], hits


@pytest.mark.parametrize("missing", ["error", "ml"])
def test_sem_fits_and_hessians_have_no_lapack(hs, hs_missing, missing):
    m = Model(HS_MODEL)
    data = m.prepare(hs if missing == "error" else hs_missing, missing=missing)
    prob = m.problem(data)
    for kind in ("many", "hessian_many"):
        _assert_no_lapack(_lowered_text(prob, data, kind))


def test_cyclic_model_has_no_lapack():
    rng = np.random.default_rng(0)
    import pandas as pd

    df = pd.DataFrame(rng.normal(size=(200, 4)), columns=["a", "b", "c", "d"])
    m = Model("a ~ b\nb ~ c\nc ~ a\nd ~ a")
    data = m.prepare(df)
    _assert_no_lapack(_lowered_text(m.problem(data), data))


def test_growth_mixture_fit_has_no_lapack():
    from trajmix import GrowthMixture
    from trajmix.datasets import load

    df = load("liu_perera_moe_example")
    gm = GrowthMixture("bilinear_spline", 2, gating=["gx1"], experts=["ex1"])
    gd = gm.prepare(df, y=[f"Y{j}" for j in range(1, 11)], t=[f"T{j}" for j in range(1, 11)])
    prob = gm.problem()
    _assert_no_lapack(_lowered_text(prob, gd.arrays))
    _assert_no_lapack(_lowered_text(prob, gd.arrays, "hessian_many"))


def test_the_check_sees_a_lapack_call():
    import jax

    text = jax.jit(jax.vmap(jnp.linalg.cholesky)).lower(jnp.eye(3)[None].repeat(2, 0)).as_text()
    with pytest.raises(AssertionError):
        _assert_no_lapack(text)
