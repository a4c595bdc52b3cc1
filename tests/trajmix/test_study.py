"""Simulation studies: batched replications, executors (a local dask cluster), saving
and resuming, reproducibility, and the bad inputs of issue #5."""
import numpy as np
import pandas as pd
import pytest

from sem.errors import SpecificationError
from trajmix import GrowthMixture
from trajmix.simulate import population_theta
from trajmix.study import SimulationStudy, StudyError, paper_population


def small_population(cond):
    """A cheap 2-class linear population (J = 5) whose class separation varies."""
    model = GrowthMixture("linear", 2)
    sep = float(cond.get("separation", 3.0))
    if cond.get("theta", 1.0) <= 0:
        raise SpecificationError(f"condition {cond}: residual variance must be > 0")
    theta = population_theta(model, [
        dict(mean=[10.0, 1.0], psi=[[2, .2], [.2, .3]], theta=cond.get("theta", 1.0)),
        dict(mean=[10.0 + 2 * sep, 1.0 + sep], psi=[[2, .2], [.2, .3]],
             theta=cond.get("theta", 1.0))], gating=[[0.0]])
    return model, theta, dict(J=5, jitter=0.2)


CONDS = [dict(n=150, separation=2.0), dict(n=150, separation=3.0)]


@pytest.fixture(scope="module")
def study_result(tmp_path_factory):
    path = tmp_path_factory.mktemp("study")
    st = SimulationStudy(CONDS, n_rep=6, population=small_population, seed=3, n_starts=2,
                         path=str(path), progress=False)
    return st, st.run(), path


def test_summary_table(study_result):
    st, res, path = study_result
    assert set(res["condition"]) == {0, 1}
    for col in ("param", "true", "mean", "rel_bias", "emp_se", "mean_se", "rmse",
                "coverage", "conv_rate", "ari", "separation"):
        assert col in res.columns
    sub = res[res["param"] == "c2.alpha.eta1"]
    assert np.allclose(sub["true"], [3.0, 4.0])
    assert (sub["conv_rate"] == 1.0).all()
    # better separated classes are recovered better
    ari = res.groupby("condition")["ari"].first()
    assert ari[1] > ari[0]
    assert (path / "study.json").exists() and (path / "summary.csv").exists()


def test_resume_recomputes_nothing_and_seed_reproduces(study_result, monkeypatch):
    st, res, path = study_result
    import trajmix.study as study

    def boom(*a, **k):
        raise AssertionError("recomputed a saved condition")

    monkeypatch.setattr(study, "_worker", boom)
    again = SimulationStudy(CONDS, n_rep=6, population=small_population, seed=3,
                            n_starts=2, path=str(path), progress=False).run()
    pd.testing.assert_frame_equal(res.reset_index(drop=True), again.reset_index(drop=True),
                                  check_exact=False, rtol=1e-12)


def test_same_seed_same_numbers_and_dask_executor(study_result):
    from dask.distributed import Client, LocalCluster

    st, res, _ = study_result
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        other = SimulationStudy(CONDS, n_rep=6, population=small_population, seed=3,
                                n_starts=2, progress=False).run(executor=client.get_executor())
    np.testing.assert_allclose(other["mean"].to_numpy(), res["mean"].to_numpy(), rtol=1e-9)


def test_bootstrap_percentile_intervals_are_scored(study_result):
    """``n_boot`` scores each replication's percentile interval; the replications and
    their estimates are those of the Wald study with the same seed."""
    from trajmix.study import run_condition, summarize

    st, res, _ = study_result
    reps = run_condition(small_population, CONDS[1], 3, 9, n_starts=2, n_boot=40,
                         chunk=40)
    assert (reps["interval"] == "percentile").all()
    wald = run_condition(small_population, CONDS[1], 3, 9, n_starts=2)
    np.testing.assert_allclose(reps["est"], wald["est"], rtol=1e-9)
    assert not np.allclose(reps["lower"], wald["lower"])
    truth = res[res["condition"] == 1].set_index("param")["true"]
    s = summarize(reps, truth)
    one = reps[reps["param"] == "c2.alpha.eta1"]
    th = truth["c2.alpha.eta1"]
    assert s.set_index("param").loc["c2.alpha.eta1", "coverage"] == pytest.approx(
        np.mean((one["lower"] <= th) & (th <= one["upper"])))
    with pytest.raises(ValueError, match="stored at 95"):
        summarize(reps, truth, level=0.9)


class FailingExecutor:
    """Runs the first condition, fails on the second (a worker that dies)."""

    def __init__(self):
        from concurrent.futures import ThreadPoolExecutor
        self.pool = ThreadPoolExecutor(1)
        self.calls = 0

    def submit(self, fn, *args):
        self.calls += 1
        if self.calls == 2:
            def die(*a):
                raise RuntimeError("worker lost")
            return self.pool.submit(die)
        return self.pool.submit(fn, *args)


def test_executor_failure_keeps_finished_conditions(tmp_path):
    st = SimulationStudy(CONDS, n_rep=3, population=small_population, seed=4, n_starts=1,
                         path=str(tmp_path), progress=False)
    with pytest.raises(StudyError, match=r"condition 1 .*separation.*worker lost"):
        st.run(executor=FailingExecutor())
    assert len(list(tmp_path.glob("condition_000_*.csv"))) == 1


def test_failed_fits_are_counted_as_non_converged():
    st = SimulationStudy([dict(n=150, separation=2.0)], n_rep=3, population=small_population,
                         seed=5, n_starts=1, data_starts=0, max_iter=4, progress=False)
    res = st.run()
    assert (res["conv_rate"] < 1).all()


@pytest.mark.parametrize("cond, match", [
    (dict(mixing=0.0), "mixing proportion"),
    (dict(mixing=1.0), "mixing proportion"),
    (dict(knots=(3.5, 12.0)), "outside the time range"),
    (dict(theta=-1.0), "residual variance"),
])
def test_conditions_that_cannot_be_simulated(cond, match):
    with pytest.raises(SpecificationError, match=match):
        SimulationStudy([cond], n_rep=2, population=paper_population)


def _fake_reps(R=40, seed=0):
    rng = np.random.default_rng(seed)
    est = 2.0 + rng.normal(0, 0.5, R)
    se = rng.uniform(0.4, 0.6, R)
    conv = np.ones(R, dtype=bool)
    conv[:6] = False
    a = pd.DataFrame(dict(rep=np.arange(R), param="a", est=est, se=se,
                          lower=est - 1.959963984540054 * se,
                          upper=est + 1.959963984540054 * se, interval="wald",
                          converged=conv, ari=rng.uniform(size=R)))
    b = a.assign(param="b", est=est - 2.0, lower=a["lower"] - 2.0, upper=a["upper"] - 2.0)
    return pd.concat([a, b], ignore_index=True), est, se, conv, a["ari"].to_numpy()


def test_summarize_follows_the_textbook_definitions():
    """Bias, relative bias, empirical SE, RMSE, coverage and ARI, recomputed by hand
    from the converged replications only."""
    from trajmix.study import summarize

    reps, est, se, conv, ari = _fake_reps()
    s = summarize(reps, pd.Series({"a": 2.0, "b": 0.0})).set_index("param")
    e, sd = est[conv], se[conv]
    a = s.loc["a"]
    assert a["bias"] == pytest.approx(e.mean() - 2.0, rel=1e-12)
    assert a["rel_bias"] == pytest.approx((e.mean() - 2.0) / 2.0, rel=1e-12)
    assert a["emp_se"] == pytest.approx(np.std(e, ddof=1), rel=1e-12)
    assert a["mean_se"] == pytest.approx(sd.mean(), rel=1e-12)
    assert a["rmse"] == pytest.approx(np.sqrt(np.mean((e - 2.0) ** 2)), rel=1e-12)
    assert a["coverage"] == pytest.approx(np.mean(np.abs(e - 2.0) <= 1.959963984540054 * sd))
    assert a["n_used"] == conv.sum() and a["conv_rate"] == pytest.approx(conv.mean())
    # the adjusted Rand index is averaged over the same (converged) replications
    assert a["ari"] == pytest.approx(ari[conv].mean(), rel=1e-12)
    assert np.isnan(s.loc["b", "rel_bias"])                # θ = 0: absolute bias only
    assert s.loc["b", "bias"] == pytest.approx(a["bias"], rel=1e-12)
    # another level: Wald intervals at that level
    s90 = summarize(reps[reps["param"] == "a"], pd.Series({"a": 2.0}), level=0.90)
    assert s90["coverage"].item() == pytest.approx(
        np.mean(np.abs(e - 2.0) <= 1.6448536269514722 * sd))


def test_summarize_keeps_a_condition_whose_fits_all_failed():
    from trajmix.study import summarize

    reps, *_ = _fake_reps(R=5)
    reps["converged"] = False
    s = summarize(reps, pd.Series({"a": 2.0, "b": 0.0}))
    assert list(s["param"]) == ["a", "b"]
    assert (s["conv_rate"] == 0).all() and (s["n_used"] == 0).all()
    assert s[["mean", "bias", "rmse", "coverage", "ari"]].isna().all().all()


def test_paper_population_refuses_a_jitter_that_swaps_occasions():
    with pytest.raises(SpecificationError, match="jitter 0.6"):
        SimulationStudy([dict(jitter=0.6)], n_rep=2, population=paper_population)
