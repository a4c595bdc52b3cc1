"""The fitted structure of a tree: nodes, their estimates and splits, and routing.

Nodes are stored breadth-first (a parent always precedes its children), so routing a
data set is one pass over the internal nodes, vectorised over cases: a case moves
from a node to its left or right child by the node's rule, and stays in the node when
it misses the split covariate (semtree's default; a case missing a split variable is
scored by that internal node's model).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .candidates import SplitRule


@dataclass
class Node:
    id: int
    path: int                      # heap code: root 1, children 2p (left) and 2p + 1
    depth: int
    parent: int | None
    mask: np.ndarray               # (n,) bool: training cases in the node
    n: float = 0.0                 # Σ training weights
    u: np.ndarray | None = None    # estimate, unconstrained coordinates
    theta: np.ndarray | None = None
    llf: float = np.nan
    converged: bool = False
    status: int = -1
    info: np.ndarray | None = None  # per-case information (u coordinates)
    h0: np.ndarray | None = None    # its inverse: the warm start of the children
    rule: SplitRule | None = None
    left: int | None = None
    right: int | None = None
    test: object = None             # the chosen CovariateTest
    tests: list = field(default_factory=list)
    n_comp: int = 0
    p_adjusted: float = np.nan
    term_reason: str = ""
    notes: list = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return self.rule is None

    @property
    def statistic(self) -> float:
        return float(self.test.statistic) if self.test is not None else np.nan

    @property
    def p(self) -> float:
        return float(self.test.p) if self.test is not None else np.nan


@dataclass
class TreeStructure:
    """A grown tree: nodes breadth-first, the names of the model's parameters, the
    training case weights (0 out of bag) and the seed that drew its randomness."""

    nodes: list
    param_names: list
    base_weights: np.ndarray
    seed: int
    notes: list = field(default_factory=list)

    # -- shape ------------------------------------------------------------------------
    @property
    def root(self) -> Node:
        return self.nodes[0]

    @property
    def leaves(self) -> list:
        return [nd for nd in self.nodes if nd.is_leaf]

    @property
    def depth(self) -> int:
        return max(nd.depth for nd in self.nodes)

    def split_covariates(self) -> list:
        """Covariates used by at least one split (in order of first use)."""
        out = []
        for nd in self.nodes:
            if nd.rule is not None and nd.rule.covariate not in out:
                out.append(nd.rule.covariate)
        return out

    @property
    def oob(self) -> np.ndarray:
        return self.base_weights == 0

    # -- routing ----------------------------------------------------------------------
    def route(self, values: dict) -> np.ndarray:
        """Node id reached by every case; ``values`` maps covariate names to coded
        arrays (``Covariate.values`` or ``Covariate.encode``)."""
        n = len(next(iter(values.values())))
        at = np.zeros(n, dtype=np.int64)
        rows_at = {0: np.arange(n)}
        for nd in self.nodes:
            rows = rows_at.pop(nd.id, None)
            if nd.rule is None or rows is None or rows.size == 0:
                continue
            x = values[nd.rule.covariate][rows]
            obs = SplitRule.observed(x)
            right = nd.rule.goes_right(x)
            go_r, go_l = rows[obs & right], rows[obs & ~right]
            at[go_r], at[go_l] = nd.right, nd.left
            rows_at[nd.right], rows_at[nd.left] = go_r, go_l
        return at

    def node_table(self) -> pd.DataFrame:
        """One row per node: position, size, split, test and parameter estimates."""
        rows = []
        for nd in self.nodes:
            row = dict(node=nd.id, depth=nd.depth, parent=nd.parent, n=nd.n,
                       leaf=nd.is_leaf, converged=nd.converged,
                       split=nd.rule.describe() if nd.rule else "",
                       test=nd.test.test if nd.test is not None else "",
                       statistic=nd.statistic, p=nd.p, p_adjusted=nd.p_adjusted,
                       llf=nd.llf, reason=nd.term_reason)
            if nd.theta is not None:
                row.update(dict(zip(self.param_names, np.asarray(nd.theta, float))))
            rows.append(row)
        return pd.DataFrame(rows).set_index("node")

    def params(self, ids) -> pd.DataFrame:
        """Parameter estimates of the given node ids (one row each)."""
        theta = np.stack([self.nodes[i].theta for i in np.asarray(ids)])
        return pd.DataFrame(theta, columns=self.param_names)


def node_condition(tree: TreeStructure, node_id: int) -> list:
    """The rules leading from the root to a node, as text."""
    out = []
    nd = tree.nodes[node_id]
    while nd.parent is not None:
        parent = tree.nodes[nd.parent]
        rule = parent.rule
        out.append(rule.describe() if parent.right == nd.id else rule.describe_left())
        nd = parent
    return out[::-1]
