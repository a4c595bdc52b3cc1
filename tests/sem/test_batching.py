"""``sem.batching.map_chunks``: chunks of one shape, pieces on host threads, the same
results as one call."""
from __future__ import annotations

import multiprocessing as mp
import threading

import numpy as np
import pytest

from sem import Model
from sem.batching import MIN_PIECE, host_threads, map_chunks
from sem.jaxconfig import jax, jnp


def _square_rows(X, seen):
    @jax.jit
    def f(x):
        return {"sq": x ** 2, "sum": jnp.sum(x, axis=1)}

    def fn(idx):
        seen.append((len(idx), threading.get_ident()))
        return f(jnp.asarray(X[idx]))
    return fn


@pytest.mark.parametrize("D,chunk,threads", [(50, None, 1), (50, None, 2), (50, 20, 2),
                                             (7, None, 4), (101, None, 3)])
def test_pieces_give_the_one_call_result(D, chunk, threads):
    X = np.random.default_rng(D).normal(size=(D, 3))
    seen = []
    out = map_chunks(_square_rows(X, seen), D, chunk, threads=threads)
    np.testing.assert_array_equal(out["sq"], X ** 2)
    np.testing.assert_array_equal(out["sum"], X.sum(axis=1))
    # every piece has one length (no recompilation), pieces are never below MIN_PIECE
    # unless the whole chunk is, and a chunk bounds the data sets in flight
    lengths = {n for n, _ in seen}
    assert len(lengths) == 1
    n = lengths.pop()
    assert n <= (chunk or D)
    assert n >= min(MIN_PIECE, chunk or D)


def test_pieces_run_on_several_threads():
    X = np.arange(64.0)[:, None]
    seen = []
    map_chunks(_square_rows(X, seen), 64, threads=2)
    assert len(seen) == 2 and seen[0][0] == seen[1][0] == 32


def test_pieces_round_up_to_a_multiple():
    X = np.arange(40.0)[:, None]
    seen = []
    out = map_chunks(_square_rows(X, seen), 40, threads=2, multiple=3)
    assert {n for n, _ in seen} == {21}
    np.testing.assert_array_equal(out["sq"], X ** 2)


def test_host_threads_setting(monkeypatch):
    monkeypatch.setenv("TRAJMIX_HOST_THREADS", "3")
    assert host_threads() == 3
    monkeypatch.setenv("TRAJMIX_HOST_THREADS", "0")
    assert host_threads() == 1
    monkeypatch.setenv("TRAJMIX_HOST_THREADS", "two")
    with pytest.raises(ValueError, match="TRAJMIX_HOST_THREADS"):
        host_threads()
    monkeypatch.delenv("TRAJMIX_HOST_THREADS")
    assert 1 <= host_threads() <= 8


def test_fit_many_on_threads_equals_one_thread(hs, monkeypatch):
    rng = np.random.default_rng(5)
    frames = [hs.iloc[rng.integers(0, len(hs), len(hs))].reset_index(drop=True)
              for _ in range(40)]
    m = Model("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9")
    monkeypatch.setenv("TRAJMIX_HOST_THREADS", "1")
    one = m.fit_many(frames)
    monkeypatch.setenv("TRAJMIX_HOST_THREADS", "2")
    two = m.fit_many(frames)
    for a, b in zip(one, two):
        assert a.converged and b.converged
        np.testing.assert_allclose(b.params, a.params, rtol=0, atol=1e-12)
        np.testing.assert_allclose(b.bse, a.bse, rtol=0, atol=1e-12)


def test_sample_moments_in_pieces_equal_frame_by_frame(monkeypatch):
    from sem.starts import sample_moments, sample_moments_many

    monkeypatch.setenv("TRAJMIX_HOST_THREADS", "2")
    rng = np.random.default_rng(3)
    Y = rng.normal(size=(37, 50, 4)) + 1e3         # 37 frames: two pieces, one padded
    datas = [dict(Y=y, obs=np.ones(y.shape, bool), w=np.ones(len(y))) for y in Y]
    stacked = {k: np.stack([d[k] for d in datas]) for k in datas[0]}
    S, mu = sample_moments_many(stacked, datas)
    for d, s, m in zip(datas, S, mu):
        s1, m1 = sample_moments(d)
        np.testing.assert_allclose(s, s1, rtol=1e-10)
        np.testing.assert_allclose(m, m1, rtol=1e-14)


def test_threads_only_for_small_fits(monkeypatch):
    from sem.batching import SMALL_WORK, threads_for

    monkeypatch.setenv("TRAJMIX_HOST_THREADS", "2")
    assert threads_for(1, 21) == 2                  # a summarised CFA
    assert threads_for(SMALL_WORK, 1) == 2
    assert threads_for(500, 47) == 1                # a mixture on 500 persons


def test_the_pool_is_kept_and_a_nested_call_runs_in_its_piece():
    """The piece threads are one process-wide pool; a batched call made from inside a
    piece runs in that piece's thread (it would otherwise wait on the pool it fills)."""
    inner = []

    def fn(idx):
        X = np.arange(64.0)[:, None]
        seen = []
        map_chunks(_square_rows(X, seen), 64, threads=2)
        inner.append({t for _, t in seen} == {threading.get_ident()})
        return np.asarray(idx, dtype=float)[:, None]

    before = {t.ident for t in threading.enumerate()}
    out = map_chunks(fn, 64, threads=2)
    np.testing.assert_array_equal(out[:, 0], np.arange(64.0))
    assert inner == [True, True]
    map_chunks(fn, 64, threads=2)
    started = {t.ident for t in threading.enumerate()} - before
    assert len(started) <= 2                        # no new threads on the second call


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(),
                    reason="the trap needs fork: without it (Windows) no child inherits "
                           "the pool, and sem.batching registers no at-fork hook")
def test_a_forked_child_gets_pieces_of_its_own():
    """A child made by fork inherits the pool without its threads: it must start its
    own, not wait for ever (a timeout catches the hang)."""
    import warnings
    map_chunks(_slow_rows, 64, threads=2)    # both pool threads started, now idle
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # JAX warns that fork and threads mix badly
        ctx = mp.get_context("fork")
        with ctx.Pool(1) as pool:
            got = pool.apply_async(_sum_in_pieces).get(timeout=60)
    assert got == sum(range(64))


def _slow_rows(idx):
    import time

    time.sleep(0.2)
    return np.asarray(idx, dtype=float)


def _sum_in_pieces():
    out = map_chunks(lambda idx: np.asarray(idx, dtype=float), 64, threads=2)
    return int(out.sum())
