"""sem.graphs: fitting non-recursive SEMs through the sem core, the plot, and the example.

The lavaan reference (tests/data/graphs_cyclic_lavaan_*.csv) comes from
tests/data/graphs_make_lavaan_reference.R (lavaan 0.6.14); the tests never call R.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import load_example

import sem
from sem import SpecificationError
from sem.graphs import MixedGraph

DATA = Path(__file__).parents[1] / "data"


def feedback_graph():
    return MixedGraph(directed=[("y2", "y1"), ("x2", "y1"), ("y1", "y2"), ("x1", "y2"),
                                ("y2", "y3")],
                      bidirected=[("y1", "y2")], nodes=["y1", "y2", "y3", "x1", "x2"])


def test_matches_lavaan_on_a_feedback_loop():
    g = feedback_graph()
    d = pd.read_csv(DATA / "graphs_cyclic_data.csv")
    res = g.fit(d)
    assert res.converged
    ref = pd.read_csv(DATA / "graphs_cyclic_lavaan_estimates.csv")
    est = res.estimates
    for r in ref.itertuples():
        same = (est.lhs == r.lhs) & (est.rhs == r.rhs)
        if r.op == "~~":
            same |= (est.lhs == r.rhs) & (est.rhs == r.lhs)
        m = est[(est.op == r.op) & same]
        assert len(m) == 1, (r.lhs, r.op, r.rhs)
        assert m.est.iloc[0] == pytest.approx(r.est, abs=1e-4)
        assert m.se.iloc[0] == pytest.approx(r.se, abs=1e-3)
    fit = pd.read_csv(DATA / "graphs_cyclic_lavaan_fit.csv").set_index("measure").value
    assert res.llf == pytest.approx(fit["logl"], abs=1e-3)
    assert res.n_params == fit["npar"]


def test_parameter_recovery_from_a_cyclic_graph():
    """A 3-cycle 0 → 1 → 2 → 0 with an instrument per node (3 → 0, 4 → 1, 5 → 2) and a
    bidirected edge 0 ↔ 2; int node labels, data as a plain array; n = 20 000."""
    g = MixedGraph(directed=[(0, 1), (1, 2), (2, 0), (3, 0), (4, 1), (5, 2)],
                   bidirected=[(0, 2)])
    L = np.zeros((6, 6))
    for (a, b), v in {(0, 1): 0.5, (1, 2): -0.6, (2, 0): 0.7, (3, 0): 0.8, (4, 1): 0.6,
                      (5, 2): -0.5}.items():
        L[a, b] = v
    W = np.diag([1.0, 0.8, 1.2, 1.0, 1.0, 1.0])
    W[0, 2] = W[2, 0] = 0.4
    data = g.simulate(L, W, 20_000, seed=3)
    res = g.fit(data.to_numpy())
    assert res.converged and res.admissible
    Lh, Wh = g.matrices_from_fit(res)
    se = res.estimates.set_index(["lhs", "op", "rhs"]).se
    for a, b in g.directed:
        s = se[(f"v{b}", "~", f"v{a}")]
        assert abs(Lh[a, b] - L[a, b]) < max(4 * s, 0.03), (a, b)
    assert np.allclose(Wh[np.diag_indices(6)], np.diag(W), atol=0.06)
    assert abs(Wh[0, 2] - 0.4) < 0.06 and Wh[0, 1] == 0
    # the fitted Σ equals the closed form at the estimates
    names = [f"v{v}" for v in g.nodes]
    S_fit = res.implied()[0].loc[names, names].to_numpy()
    assert np.allclose(S_fit, g.covariance(Lh, Wh, method="one_connection"), atol=1e-8)


def test_singular_start_values_give_a_clear_error():
    g = feedback_graph()
    d = pd.read_csv(DATA / "graphs_cyclic_data.csv")
    with pytest.raises(SpecificationError,
                       match=r"singular at the start values.*y1 → y2 → y1 \(product 1\)"):
        g.fit(d, start={("y1", "y2"): 1.0, ("y2", "y1"): 1.0})
    start = np.zeros((5, 5))
    start[0, 1] = start[1, 0] = 0.1          # a start matrix works as well
    assert "start(0.1)*y1" in g.to_lavaan(start=start)


def test_fit_input_errors():
    g = feedback_graph()
    d = pd.read_csv(DATA / "graphs_cyclic_data.csv")
    with pytest.raises(SpecificationError, match="node 'x2' not found"):
        g.fit(d.drop(columns="x2"))
    with pytest.raises(SpecificationError, match="5 columns"):
        g.fit(d.to_numpy()[:, :3])


# -- two sem-core bugs found while building this, fixed in the core ---------------

def test_core_singular_start_reported_as_singular():
    d = pd.read_csv(DATA / "graphs_cyclic_data.csv")
    with pytest.raises(SpecificationError, match="singular"):
        sem.Model("y1 ~ start(1)*y2; y2 ~ start(1)*y1 + x1; y1 ~ x2").fit(d)


def test_core_all_user_rows_without_start():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    d = pd.DataFrame(dict(x=x, y=0.5 * x + rng.normal(size=200)))
    res = sem.Model("y ~ x; y ~~ y; x ~~ x", fixed_x=False).fit(d)
    assert res.converged


# -- plot and example ---------------------------------------------------------------

def test_plot_mixed_graph():
    from matplotlib.patches import FancyArrowPatch

    from sem.plots import pyplot
    from sem.plots.graphs import plot_mixed_graph

    g = MixedGraph([(0, 1), (1, 0), (1, 2), (2, 0)], [(0, 2)])
    L, W = g.random_parameters(seed=0)
    ax = plot_mixed_graph(g, Lambda=L, Omega=W, title="t")
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 5
    assert sum(a.get_linestyle() == "--" for a in arrows) == 1
    assert len(ax.texts) == 3 + 5       # node labels + edge values
    pyplot().close(ax.figure)


def test_example_runs_in_fast_mode(tmp_path):
    mod = load_example("cyclic_sem_one_connection")
    out = mod.main(fast=True, out=tmp_path)
    for f in ("three_cycle_numerators.txt", "finite_to_one.csv", "vanishing_ideal.txt",
              "cyclic_fit.csv", "cyclic_sem.png"):
        assert (tmp_path / f).exists(), f
    assert out["closed_form"]["max_abs_difference"] < 1e-12
    tab = out["finite_to_one"].set_index("graph")
    assert not tab.loc["2-cycle 1⇄2", "finite_to_one"] and tab.loc["3-cycle", "finite_to_one"]
    assert len(out["ideal"]["4-cycle"]) == 2
    assert np.all(np.abs(out["fit"].estimate - out["fit"].true) < 0.15)


def test_fit_missing_ml_with_an_isolated_node_with_missing_values():
    """A node without edges gets a written start value ½ var; with NaNs in that column
    it was 'start(nan)', a syntax error, under missing='ml'."""
    g = MixedGraph(feedback_graph().directed, feedback_graph().bidirected,
                   nodes=["y1", "y2", "y3", "x1", "x2", "z"])
    d = pd.read_csv(DATA / "graphs_cyclic_data.csv")
    d["z"] = np.random.default_rng(0).normal(2.0, 1.5, size=len(d))
    d.loc[::7, "z"] = np.nan
    res = g.fit(d, missing="ml")
    assert res.converged
    est = res.estimates
    vz = est[(est.lhs == "z") & (est.op == "~~") & (est.rhs == "z")].est.iloc[0]
    assert vz == pytest.approx(np.nanvar(d["z"]), rel=1e-3)
