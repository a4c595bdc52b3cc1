"""Many frames at once (``sem.data.prepare_many``): the fast path for complete frames
gives exactly what ``prepare`` gives frame by frame, and bad frames are named."""
import numpy as np
import pandas as pd
import pytest

from sem import data as sd
from sem.errors import DataError, SpecificationError
from sem.inference import invert_information, invert_information_many, lower_inverse

NAMES = ["a", "b", "c"]


def frames(D=4, n=30, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(D):
        df = pd.DataFrame(rng.normal(size=(n, 3)), columns=NAMES)
        df["label"] = "x"                     # a string column beside (mixed dtypes)
        df["b"] = np.round(df["b"] * 10).astype(int)   # an integer column
        out.append(df)
    return out


def test_fast_path_equals_prepare_frame_by_frame():
    fs = frames()
    stacked, each = sd.prepare_many(fs, NAMES)
    slow = sd.stack([sd.prepare(f, NAMES) for f in fs])
    assert set(stacked) == set(slow)
    for k in slow:
        np.testing.assert_array_equal(stacked[k], slow[k], err_msg=k)
    for i, f in enumerate(fs):
        one = sd.prepare(f, NAMES)
        for k in one:
            np.testing.assert_array_equal(each[i][k], one[k])


def test_fast_path_reads_frames_whose_columns_differ_in_order_and_type():
    """Column positions are looked up again when a frame's labels differ; integer and
    float columns, mixed across frames, are joined as floats; more frames than one
    joined block (``STACK_BLOCK``) are read in order."""
    fs = frames(D=sd.STACK_BLOCK + 5)
    fs[3] = fs[3][["label", "c", "a", "b"]]               # another column order
    fs[4]["b"] = fs[4]["b"].astype(float)                  # float where others are int
    fs[5]["a"] = np.round(fs[5]["a"] * 100).astype(np.int32)
    assert sd._stack_complete(fs, NAMES) is not None         # the fast path takes them
    stacked, each = sd.prepare_many(fs, NAMES)
    assert stacked["Y"].dtype == float and stacked["Y"].shape == (len(fs), 30, 3)
    for i, f in enumerate(fs):
        np.testing.assert_array_equal(stacked["Y"][i], f[NAMES].to_numpy(dtype=float))
        np.testing.assert_array_equal(each[i]["Y"], sd.prepare(f, NAMES)["Y"])


def test_column_values_private_and_public_paths_agree(monkeypatch):
    f = frames(1)[0]
    locs = [f.columns.get_loc(v) for v in NAMES]
    fast = [sd.column_values(f, j) for j in locs]
    monkeypatch.delattr(pd.DataFrame, "_get_column_array", raising=False)
    public = [np.asarray(sd.column_values(f, j)) for j in locs]
    for a, b in zip(fast, public):
        np.testing.assert_array_equal(a, b)


def test_frame_columns_reads_blocks_as_column_values_does():
    """``frame_columns`` (pandas' blocks at once) gives ``column_values``'s arrays as
    (1, n) rows for numpy blocks: a block of one column (a frame read from a file),
    several (one 2-D array), or a mix; extension columns give something that is not a
    row of values, so ``_stack_complete`` leaves such frames to ``prepare``; and a
    change of pandas' internals falls back to the public path."""
    f = frames(1)[0]
    consolidated = pd.DataFrame(f[NAMES].to_numpy(dtype=float), columns=NAMES)
    own_blocks = pd.DataFrame({v: f[v].to_numpy() for v in NAMES}).copy(deep=True)
    own_blocks = pd.concat([own_blocks[[v]] for v in NAMES], axis=1)
    assert len(own_blocks._mgr.blocks) == len(NAMES)         # one block per column
    for df in (f, consolidated, f.iloc[::-1], own_blocks, own_blocks.iloc[::2]):
        locs = np.array([df.columns.get_loc(v) for v in NAMES])
        for a, j in zip(sd.frame_columns(df, locs), locs):
            assert type(a) is np.ndarray and a.shape == (1, len(df))
            np.testing.assert_array_equal(a[0], np.asarray(sd.column_values(df, j)))
    nullable = [g.astype({"a": "Float64"}) for g in frames()]
    assert sd._stack_complete(nullable, NAMES) is None        # prepare reads them
    stacked, _ = sd.prepare_many(nullable, NAMES)
    np.testing.assert_array_equal(stacked["Y"][0], nullable[0][NAMES].to_numpy(float))

    class WithoutBlocks:              # as a frame of a pandas without ``_mgr`` looks
        iloc = f.iloc

    locs = np.array([f.columns.get_loc(v) for v in NAMES])
    for a, j in zip(sd.frame_columns(WithoutBlocks(), locs), locs):
        np.testing.assert_array_equal(np.ravel(a), f.iloc[:, j].to_numpy())


def test_moments_read_with_the_frames_equal_the_sample_moments():
    """``prepare_many(moments=True)`` gives the frames' biased covariances and means,
    computed block by block as they are read (more frames than a block)."""
    from sem.starts import sample_moments

    fs = frames(D=sd.STACK_BLOCK + 7)
    fs[1][NAMES] = fs[1][NAMES] + 1e4         # far from zero: centring matters
    stacked, each, (S, mu) = sd.prepare_many(fs, NAMES, moments=True)
    assert S.shape == (len(fs), 3, 3) and mu.shape == (len(fs), 3)
    for d, s, m in zip(each, S, mu):
        s1, m1 = sample_moments(d)
        np.testing.assert_allclose(s, s1, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(m, m1, rtol=1e-13, atol=1e-14)   # summation order
    fs[2].loc[0, "a"] = np.nan            # missing: no moments from the reader
    assert sd.prepare_many(fs, NAMES, missing="ml", moments=True)[2] is None


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan, "constant", "constant0",
                                 "overflow"])
def test_stack_checks_values_through_their_moments(bad):
    """The fast path checks finite, non-constant values through each block's moments:
    what they flag (or cannot judge: a sum that overflows) goes to ``prepare``, which
    names the data set and the column, or accepts it."""
    fs = frames(D=sd.STACK_BLOCK + 3)
    i = sd.STACK_BLOCK + 1                  # in the second block
    if bad == "constant":
        fs[i]["c"] = 0.1 * 3                # 0.30000000000000004: its mean rounds
    elif bad == "constant0":
        fs[i]["c"] = 0.0
    elif bad == "overflow":
        fs[i]["c"] = np.where(np.arange(30) % 2, 1.7e308, 1e308)   # finite, sum overflows
    else:
        fs[i].loc[4, "c"] = bad
    assert sd._stack_complete(fs, NAMES) is None
    if bad == "overflow":
        stacked, _ = sd.prepare_many(fs, NAMES)               # finite: prepare takes it
        np.testing.assert_array_equal(stacked["Y"][i][:, 2], fs[i]["c"].to_numpy())
        return
    with pytest.raises(DataError, match=f"data set {i}: .*'c'"):
        sd.prepare_many(fs, NAMES)


def test_frames_needing_checks_take_the_slow_path():
    fs = frames()
    fs[2].loc[3, "a"] = np.nan                # missing value: FIML patterns
    stacked, each = sd.prepare_many(fs, NAMES, missing="ml")
    assert stacked["patterns"].shape[1] == 2
    assert not each[2]["obs"][3, 0] and each[0]["obs"].all()
    shorter = frames()
    shorter[1] = shorter[1].iloc[:20]         # another length: padded with weight 0
    stacked, each = sd.prepare_many(shorter, NAMES)
    assert stacked["Y"].shape == (4, 30, 3) and stacked["w"][1].sum() == 20
    assert each[1]["Y"].shape == (20, 3)


@pytest.mark.parametrize("spoil, err, text", [
    (lambda f: f.assign(a=f["a"] * 0 + 1.0), DataError, "data set 2: column 'a' is constant"),
    (lambda f: f.assign(c="z"), DataError, "data set 2: column 'c' is not numeric"),
    (lambda f: f.assign(b=np.inf), DataError, "data set 2: column 'b' has infinite"),
    (lambda f: f.drop(columns="c"), SpecificationError, "data set 2: variable 'c'"),
    (lambda f: f.assign(a=np.where(np.arange(len(f)) == 0, np.nan, f["a"])), DataError,
     "data set 2: column 'a' has 1 missing value"),
])
def test_a_bad_frame_is_named(spoil, err, text):
    fs = frames()
    fs[2] = spoil(fs[2])
    with pytest.raises(err, match=text):
        sd.prepare_many(fs, NAMES)


def test_duplicate_column_names_take_the_slow_path():
    fs = frames()
    fs[1] = pd.concat([fs[1], fs[1][["a"]]], axis=1)       # two columns named "a"
    with pytest.raises(DataError, match="data set 1: column 'a' appears more than once"):
        sd.prepare_many(fs, NAMES)
    with pytest.raises(DataError, match="column 'a' appears more than once"):
        sd.prepare(fs[1], NAMES)            # a single fit says so too


def test_no_frames_and_not_frames():
    with pytest.raises(DataError, match="at least one"):
        sd.prepare_many([], NAMES)
    with pytest.raises(DataError, match="data set 1: data must be a pandas DataFrame"):
        sd.prepare_many([frames(1)[0], np.zeros((30, 3))], NAMES)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_batched_inversion_equals_one_by_one(threads, monkeypatch):
    # 40 matrices: on two threads, pieces of 20, with a singular and a NaN matrix in
    # the first piece and another singular one in the second
    monkeypatch.setenv("TRAJMIX_HOST_THREADS", threads)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 40, 4))
    infos = np.einsum("dni,dnj->dij", X, X)
    infos[1] = np.outer([1, 2, 0, 0], [1, 2, 0, 0]) + np.diag([0, 0, 1, 1.0])  # singular
    infos[3, 0, 0] = np.nan
    infos[30] = infos[1]
    many = invert_information_many(infos)
    assert many[30].singular and many[30].null_params == many[1].null_params
    for a, info in zip(many, infos):
        b = invert_information(info)
        assert (a.singular, a.null_params) == (b.singular, b.null_params)
        np.testing.assert_allclose(a.cov, b.cov, rtol=1e-12, equal_nan=True)
    assert many[1].singular and sorted(many[1].null_params) == [0, 1]
    assert many[3].singular and not many[0].singular
    np.testing.assert_allclose(many[0].cov @ infos[0], np.eye(4), atol=1e-10)


@pytest.mark.parametrize("k", [1, 2, 5, 21])
def test_lower_inverse_equals_numpy(k):
    """The batched forward substitution against ``np.linalg.inv``, on the Cholesky
    factors of unit-diagonal information-like matrices (what ``certified_inverse``
    gives it); the result is lower triangular."""
    rng = np.random.default_rng(k)
    X = rng.normal(size=(30, 3 * k, k))
    M = np.einsum("dni,dnj->dij", X, X)
    d = np.sqrt(np.diagonal(M, axis1=1, axis2=2))
    L = np.linalg.cholesky(M / (d[:, :, None] * d[:, None, :]))
    Linv = lower_inverse(L)
    np.testing.assert_allclose(Linv, np.linalg.inv(L), rtol=1e-10, atol=1e-12)
    assert (np.triu(Linv, 1) == 0).all()
