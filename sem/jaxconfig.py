"""The one place where trajmix configures JAX.

Every package (``sem``, ``trajmix``, ``forests``, ``progression``) imports this module
first. It does two things, both before JAX creates its CPU backend:

1. **float64** everywhere: ``jax_enable_x64``.
2. **A workaround for an XLA CPU deadlock.** With jaxlib 0.10 on a machine with few
   cores (seen on 2 cores), a jitted function that runs two or more *batched* LAPACK
   kernels at once (``cholesky``, ``solve_triangular`` ... under ``vmap``) can hang
   forever at 0 % CPU. Cause (read off ``gdb`` stacks): the LAPACK FFI kernels split a
   batch with ``jax::ParallelBatchMap`` over XLA's intra-op thread pool and block on a
   counter until the pieces finish; the thunk executor runs independent kernels
   concurrently on the *same* pool, so when every pool thread (2 on a 2-core machine) is
   inside such a kernel, the pieces they scheduled can never run. XLA's
   concurrency-optimised HLO scheduler is what puts the independent kernels side by
   side; ``--xla_cpu_enable_concurrency_optimized_scheduler=false`` removes the overlap,
   and the stall with it, at no measurable cost for our workloads
   (``tests/sem/test_jaxconfig.py`` keeps a subprocess test with a timeout that would
   catch its return). Set ``TRAJMIX_KEEP_XLA_FLAGS=1`` to leave ``XLA_FLAGS`` alone.

   The flag makes the overlap rare, not impossible: the full test suite still hung once
   (FIML under ``vmap``: two batched ``trsm`` kernels side by side, both pool threads
   blocked). So the compiled likelihoods and optimizers call no LAPACK kernel at all:
   ``sem.linalg`` has Cholesky, triangular and general solves as plain XLA loops, and
   ``tests/sem/test_no_lapack.py`` checks the lowered programs for LAPACK custom calls.
   (numpy/scipy code outside JAX, e.g. ``sem.compositional``, is unaffected.)

If JAX's backend was already initialised before trajmix was imported, the flag cannot
take effect any more; a warning says so.
"""
from __future__ import annotations

import os
import warnings
from importlib import metadata

_DEADLOCK_FLAG = "--xla_cpu_enable_concurrency_optimized_scheduler=false"


def _jaxlib_version() -> tuple[int, ...]:
    try:
        v = metadata.version("jaxlib")
    except metadata.PackageNotFoundError:  # pragma: no cover - jax without jaxlib
        return (0,)
    return tuple(int(p) for p in v.split(".")[:3] if p.isdigit())


def _set_xla_flags() -> bool:
    """Add the deadlock workaround to ``XLA_FLAGS``; return True if it is in effect."""
    if os.environ.get("TRAJMIX_KEEP_XLA_FLAGS"):
        return False
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_enable_concurrency_optimized_scheduler" in flags:
        return True
    # Unknown XLA flags abort the process, so only name it for jaxlib that knows it.
    if _jaxlib_version() < (0, 5, 0):
        return False
    os.environ["XLA_FLAGS"] = (flags + " " + _DEADLOCK_FLAG).strip()
    return True


def _backend_initialised() -> bool:
    import sys

    xb = sys.modules.get("jax._src.xla_bridge")
    return bool(getattr(xb, "_backends", None))


_already = _backend_initialised()
XLA_WORKAROUND = _set_xla_flags()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

jax.config.update("jax_enable_x64", True)

# Compiled programs are cached on disk, so a second process (a test run, an example)
# does not compile the same likelihood again. TRAJMIX_COMPILE_CACHE=off disables it.
_cache = os.environ.get("TRAJMIX_COMPILE_CACHE",
                        os.path.join(os.path.expanduser("~"), ".cache", "trajmix", "jax"))
if _cache.lower() != "off":
    try:
        jax.config.update("jax_compilation_cache_dir", _cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    except Exception:  # pragma: no cover - very old jax
        pass

if _already and XLA_WORKAROUND:
    warnings.warn(
        "JAX's backend was initialised before trajmix was imported, so the XLA flag that "
        "prevents a CPU deadlock with batched linear algebra could not be set. Import "
        "trajmix (or sem) before running any JAX computation, or export "
        f"XLA_FLAGS='{_DEADLOCK_FLAG}'.",
        RuntimeWarning,
        stacklevel=2,
    )

__all__ = ["jax", "jnp", "XLA_WORKAROUND"]
