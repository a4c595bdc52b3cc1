"""Shared fixtures. Reference outputs of R packages live in tests/data (see the
scripts there); the tests never call R."""
from __future__ import annotations

from pathlib import Path

import os

import pandas as pd
import pytest
from hypothesis import settings

import sem  # noqa: F401  (jax configuration before anything else touches jax)

# Property tests draw their examples from a seed fixed per test, so the README's test
# command gives the same verdict on every run (a random draw once failed a tolerance
# in CI's place); HYPOTHESIS_PROFILE=explore draws fresh examples each run.
settings.register_profile("reproducible", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "reproducible"))

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "examples"


def load_example(name: str):
    """Import ``examples/<name>.py`` as a module (examples are scripts, not a package),
    so a test runs its ``main`` in this process and shares its compiled functions."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def reference(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, keep_default_na=True)


def _map_count() -> tuple[int, int]:
    """(memory maps of this process, the kernel's limit); (0, 1) where /proc is absent."""
    try:
        with open("/proc/self/maps") as f:
            used = sum(1 for _ in f)
        with open("/proc/sys/vm/max_map_count") as f:
            return used, int(f.read())
    except OSError:
        return 0, 1


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Free the compiled programs after a test module once the process holds half the
    memory maps Linux allows: the whole suite compiles enough programs to exhaust
    vm.max_map_count and crash XLA (sem.estimation.clear_compiled). Clearing after every
    module instead made each module recompile JAX's eager operations and the programs
    it shares with earlier modules: ~10 % of the suite's time."""
    yield
    used, limit = _map_count()
    if used > limit // 2 or os.environ.get("TRAJMIX_CLEAR_EACH_MODULE") == "1":
        from sem.estimation import clear_compiled

        clear_compiled()


@pytest.fixture(scope="session")
def hs():
    from sem.datasets import load
    return load("HolzingerSwineford1939")


@pytest.fixture(scope="session")
def pol_dem():
    from sem.datasets import load
    return load("PoliticalDemocracy")


@pytest.fixture(scope="session")
def hs_missing():
    from sem.datasets import load
    return load("HolzingerSwineford1939_missing")


HS_MODEL = "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9"
PD_MODEL = """
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"""
