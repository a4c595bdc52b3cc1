"""Shared fixtures. Reference outputs of R packages live in tests/data (see the
scripts there); the tests never call R."""
from __future__ import annotations

from pathlib import Path

import os

import pandas as pd
import pytest
from hypothesis import settings

# The suite is compile-bound (docs/design.md, Conventions): XLA's backend (LLVM)
# optimisation level 0 compiles its programs ~20 % faster and runs them a little slower,
# a good trade for tests that compile hundreds of model structures and run each a few
# times (tests/trajmix + test_multigroup: 289 -> 232 s; the whole suite on 2 workers,
# 2-core VM: 487 -> 373 s). Results change only at rounding
# level, as between two machines: no fast-math at any level, but fused multiply-adds and
# summation order may differ (HS CFA: 1e-15 relative; a mixture of experts, whose BFGS
# path then differs by rounding: estimates within 2e-6 relative, the log-likelihood
# within 1e-11). Examples and benchmarks run at XLA's default level (2) outside the
# tests; TRAJMIX_TEST_XLA_OPT=default keeps the default here too.
_OPT = os.environ.get("TRAJMIX_TEST_XLA_OPT", "0")
if _OPT != "default" and "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + f" --xla_backend_optimization_level={_OPT}").strip()

import sem  # noqa: E402,F401  (jax configuration before anything else touches jax)

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


@pytest.hookimpl(optionalhook=True)     # plain pytest, without pytest-xdist, too
def pytest_xdist_auto_num_workers(config):
    """Workers for ``make test`` (``pytest -n auto``): one per core this process may
    run on, at most 4. The suite is compile-bound and a single pytest process keeps
    about 1.3 of 2 cores busy (2 workers: 673 -> 373 s on a 2-core VM); every worker
    compiles the programs its files need on its own, so more workers add compiling
    and memory faster than they save time. A worker peaks near 4.6 GB (resident), so
    there is also one worker per 6 GB of memory at most."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        cores = os.cpu_count() or 1
    try:
        gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (AttributeError, ValueError, OSError):  # pragma: no cover
        gb = 24.0
    return max(1, min(cores, 4, int(gb // 6)))


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
