"""Designs of semtree's vignettes and tests, regenerated (never copied): see
/work/shared/research/forests_tadpole.md, part A."""
from __future__ import annotations

import pytest

import sem  # noqa: F401

from forests.designs import lgcm_syntax, vignette_data  # noqa: F401  (re-exported)

# semtree's linear growth model: five occasions, loadings 0..4, one residual variance
LGCM = lgcm_syntax()


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
