"""Batched calls over many data sets: in chunks of one shape, on several host threads.

``map_chunks`` is the one loop behind every batched call of the estimation engine
(summaries, log-likelihoods and information matrices of D data sets, the solve of
``maximize_many``):

* **Chunks of one shape.** The D data sets go ``chunk`` at a time; the last chunk is
  padded by wrapping around, so every call has one shape and nothing recompiles.
* **Host threads on a CPU.** One XLA CPU executable runs its small kernels one after
  another on one core, so a batched call of small fits uses one core however many the
  machine has (``threads_for``: larger kernels XLA shares between cores itself).
  ``map_chunks`` cuts each chunk into ``host_threads()`` pieces and runs them at once
  from a thread pool: JAX releases the GIL while a program runs, and two programs run
  side by side. On the 2-core machine, 1000 bootstrap refits of the
  Holzinger–Swineford CFA: the pooled solve 95–97 ms in one call, 60 ms as two pieces on
  two threads. A chunk is cut into pieces (not run several chunks at a time), so the
  memory in flight stays one chunk's.

  This is safe from the XLA CPU deadlock that ``sem.jaxconfig`` describes: that needs
  kernels that block on XLA's own intra-op pool (batched LAPACK), which the compiled
  likelihoods do not call (``tests/sem/test_no_lapack.py``); the threads here are
  callers outside that pool.

``TRAJMIX_HOST_THREADS`` sets the number of threads (1 switches threading off); by
default it is the cores this process may use, at most 8, and 1 off the CPU (an
accelerator runs a whole chunk at once).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .jaxconfig import jax

#: the smallest piece worth a thread of its own (data sets)
MIN_PIECE = 16

#: per-data-set work (cases x parameters) up to which XLA runs a batched program's
#: kernels on one core: where ``sem.estimation.default_batch_size`` reaches its cap
#: of 32 slots
SMALL_WORK = 6_250


def host_threads() -> int:
    """Host threads that run pieces of one batched call at once (see the module)."""
    env = os.environ.get("TRAJMIX_HOST_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"TRAJMIX_HOST_THREADS must be an integer, got {env!r}") from None
    if jax.default_backend() != "cpu":
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def threads_for(n_cases: int, n_params: int) -> int:
    """``host_threads()`` for a batched XLA call over data sets of ``n_cases`` cases
    (rows of the data or of its summary) and ``n_params`` parameters, or 1 where they
    are larger than ``SMALL_WORK``: XLA's own intra-op threads already share the
    larger kernels between the cores, and pieces on host threads ran 6-15 % slower
    (trajmix's mixture tests, 500 persons x 47 parameters). numpy pieces (moments,
    inversions) use ``host_threads()`` directly."""
    return host_threads() if n_cases * n_params <= SMALL_WORK else 1


_POOL: dict = {}
_POOL_LOCK = threading.Lock()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOL.clear)


def _executor(threads: int) -> ThreadPoolExecutor:
    """One process-wide pool per thread count, started on first use: a fresh pool per
    call started two threads each time, ~0.4 ms, a dozen times per ``fit_many``.

    Two traps, both handled: a call made from inside a piece (a nested batched call)
    runs in the caller's thread (``map_chunks``), so a piece never waits on a pool it
    occupies; and a child made by ``fork`` inherits the pools without their threads
    (work sent there would wait for ever), so the child forgets them and starts its
    own."""
    with _POOL_LOCK:
        ex = _POOL.get(threads)
        if ex is None:
            ex = _POOL[threads] = ThreadPoolExecutor(threads, "trajmix-piece")
        return ex


def chunks(D: int, chunk: int):
    """(lo, hi, idx) for D items ``chunk`` at a time; idx always has ``chunk`` entries
    (the last chunk is padded by wrapping around), so every call has one shape."""
    for lo in range(0, D, chunk):
        yield lo, min(lo + chunk, D), np.arange(lo, lo + chunk) % D


def map_chunks(fn, D: int, chunk: int | None = None, *, threads: int | None = None,
               multiple: int = 1):
    """``fn(idx)`` over D data sets → the pytree of its outputs (leading axis D) as
    numpy arrays, concatenated on the host.

    ``fn`` takes the indices ``idx`` of one piece (always of one length) and returns a
    pytree of arrays whose leading axis runs over ``idx``. ``chunk`` bounds the data
    sets in flight (None: all D); each chunk is cut into ``threads`` pieces (default
    ``host_threads()``, none smaller than ``MIN_PIECE``) run at once, their length
    rounded up to a ``multiple`` (the device count of a sharded call)."""
    chunk = D if chunk is None else max(1, min(int(chunk), D))
    threads = host_threads() if threads is None else max(1, int(threads))
    threads = max(1, min(threads, chunk // MIN_PIECE))
    piece = -(-chunk // threads)
    piece = -(-piece // multiple) * multiple

    def one(span):
        lo, hi, idx = span
        out = jax.device_get(fn(idx))
        return jax.tree_util.tree_map(lambda a: np.asarray(a)[:hi - lo], out)

    spans = list(chunks(D, piece))
    nested = threading.current_thread().name.startswith("trajmix-piece")
    if threads == 1 or len(spans) == 1 or nested:
        parts = [one(s) for s in spans]
    else:
        parts = list(_executor(threads).map(one, spans))
    return jax.tree_util.tree_map(lambda *a: np.concatenate(a), *parts)

