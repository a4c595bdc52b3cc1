"""Designs of semtree's vignettes and tests, regenerated (never copied): see
/work/shared/research/forests_tadpole.md, part A."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sem  # noqa: F401

# semtree's linear growth model: five occasions, loadings 0..4, one residual variance
LGCM = """
i =~ 1*X1 + 1*X2 + 1*X3 + 1*X4 + 1*X5
s =~ 0*X1 + 1*X2 + 2*X3 + 3*X4 + 4*X5
X1 ~~ r*X1
X2 ~~ r*X2
X3 ~~ r*X3
X4 ~~ r*X4
X5 ~~ r*X5
i ~ 1
s ~ 1
X1 ~ 0*1
X2 ~ 0*1
X3 ~ 0*1
X4 ~ 0*1
X5 ~ 0*1
"""


def vignette_data(n: int = 1000, seed: int = 23) -> pd.DataFrame:
    """semtree's forest vignette: intercept ~ N(10, 4²), slope ~ N(3, 1.2²), a binary
    predictor P1 adding 5 to the slope, residual sd 0.08, a binary noise predictor."""
    rng = np.random.default_rng(seed)
    icept = rng.normal(10, 4, n)
    slope = rng.normal(3, 1.2, n)
    p1 = rng.integers(0, 2, n)
    x = (np.outer(slope + 5 * p1, np.arange(5)) + icept[:, None]
         + rng.normal(0, 0.08, (n, 5)))
    df = pd.DataFrame(x, columns=[f"X{j}" for j in range(1, 6)])
    df["P1"] = pd.Categorical(p1)
    df["Noise"] = pd.Categorical(rng.integers(0, 2, n))
    return df


@pytest.fixture(scope="session")
def lgcm():
    return sem.Model(LGCM, meanstructure=True)


@pytest.fixture(scope="session")
def vignette():
    return vignette_data()


@pytest.fixture(scope="session")
def univariate():
    # semtree's tests use lavaan's "x ~~ x"; the label avoids a sem start-value bug
    # (see the report of issue #6) and the mean makes the node model x ~ N(mu, v)
    return sem.Model("x ~~ v*x", meanstructure=True)
