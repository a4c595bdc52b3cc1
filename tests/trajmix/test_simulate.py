"""The simulator's missingness and time schemes do what they promise."""
import numpy as np
import pytest

from sem.errors import SpecificationError
from trajmix.simulate import liu_perera_population, simulate

Y2_10 = [f"Y{j}" for j in range(2, 11)]


@pytest.mark.parametrize("p", [0.1, 0.3])
def test_mar_dropout_leaves_the_requested_share_missing(p):
    """``missing="mar"`` is calibrated so that the expected share of missing occasions
    after the first is ``p_missing`` (it was 0.133 for 0.1 and 0.241 for 0.2 when a
    constant hazard was calibrated instead). 10 data sets of 2000: the Monte Carlo SE
    of the mean share is about 0.0015–0.0026."""
    pop, th = liu_perera_population("finite mixture")
    shares = [simulate(pop, th, 2000, seed=s, missing="mar", p_missing=p)[Y2_10]
              .isna().to_numpy().mean() for s in range(10)]
    assert np.mean(shares) == pytest.approx(p, abs=0.008)


def test_mar_dropout_is_monotone_and_depends_on_the_past():
    pop, th = liu_perera_population("finite mixture")
    df = simulate(pop, th, 3000, seed=1, missing="mar", p_missing=0.3)
    miss = df[Y2_10].isna().to_numpy()
    assert not (miss[:, :-1] & ~miss[:, 1:]).any()          # dropout: no return
    # low outcomes (z-score enters with a positive sign) drop out less often
    y1 = df["Y1"].to_numpy()
    lo, hi = y1 < np.median(y1), y1 >= np.median(y1)
    assert miss[hi, 0].mean() > miss[lo, 0].mean()


@pytest.mark.parametrize("kw, match", [
    (dict(times=[0, .3, .6, .9, 1.2, 3, 4, 5, 6, 7]), "swap"),
    (dict(jitter=0.5), "swap"),
    (dict(times=[0, 5, 3, 6, 7, 8, 9, 10, 11, 12], jitter=0), "strictly increasing"),
    (dict(jitter=-0.1), "jitter must be >= 0"),
])
def test_time_schemes_that_give_non_increasing_times_are_refused(kw, match):
    pop, th = liu_perera_population("finite mixture")
    with pytest.raises(SpecificationError, match=match):
        simulate(pop, th, 20, seed=1, **kw)


def test_largest_admissible_jitter_gives_increasing_times():
    pop, th = liu_perera_population("finite mixture")
    df = simulate(pop, th, 2000, seed=1, jitter=0.49)
    T = df[[f"T{j}" for j in range(1, 11)]].to_numpy()
    assert (np.diff(T, axis=1) > 0).all()
