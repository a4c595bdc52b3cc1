"""Plots return their Axes; the example runs end to end in fast mode."""
from __future__ import annotations


import numpy as np
import pytest

from tests.conftest import load_example

from forests import SEMForest, SEMTree
from forests import plots



@pytest.fixture(scope="module")
def small_forest(vignette, lgcm):
    return SEMForest(lgcm, covariates=["P1", "Noise"], n_trees=4, mtry=1, method="score",
                     progress=False).fit(vignette)


def test_plots(small_forest, vignette, lgcm, tmp_path):
    plt = plots.pyplot()
    tree = SEMTree(lgcm, covariates=["P1", "Noise"], method="score").fit(vignette)
    axes = [plots.plot_tree(tree, params=["s~1"]),
            plots.plot_tree(small_forest.trees_[0]),
            plots.plot_importance(small_forest),
            plots.plot_proximity(small_forest.proximity().iloc[:80, :80]),
            plots.plot_partial_dependence(small_forest.partial_dependence("P1", "s~1")),
            plots.plot_importance_convergence(small_forest)]
    for i, ax in enumerate(axes):
        ax.figure.savefig(tmp_path / f"p{i}.png")
        assert (tmp_path / f"p{i}.png").stat().st_size > 0
    res = small_forest.boruta(max_runs=2, n_trees=3)
    ax = plots.plot_importance(small_forest, boruta=res)
    assert any(np.isclose(line.get_xdata()[0], res.threshold) for line in ax.get_lines())
    order = plots.cluster_order(small_forest.proximity().to_numpy()[:50, :50])
    assert sorted(order) == list(range(50))
    plt.close("all")


def test_example_runs_in_fast_mode(tmp_path, capsys):
    mod = load_example("sem_forest")
    selected = mod.main(["--fast", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "permutation importance" in out and "Boruta" in out
    assert isinstance(selected, list)
    for name in ["importance", "tree", "proximity", "partial_dependence"]:
        assert (tmp_path / f"{name}.png").exists()
