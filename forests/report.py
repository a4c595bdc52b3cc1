"""Text output: a tree drawn with its splits, tests and the estimates of every leaf."""
from __future__ import annotations

import numpy as np

from .nodes import TreeStructure


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return "NA"
    return f"{p:.3g}" if p >= 1e-4 else f"{p:.1e}"


def _params(tree: TreeStructure, nd, width: int) -> list:
    if nd.theta is None:
        return []
    parts = [f"{name} = {val:.4g}" for name, val in zip(tree.param_names, nd.theta)]
    lines, line = [], ""
    for part in parts:
        if line and len(line) + len(part) + 2 > width:
            lines.append(line)
            line = ""
        line = f"{line}, {part}" if line else part
    return lines + ([line] if line else [])


def tree_text(tree: TreeStructure, *, estimates: bool = True, width: int = 88,
              title: str = "") -> str:
    """The tree as indented text: for each node its condition, N, split and test; for
    each leaf the parameter estimates."""
    out = [title] if title else []

    def walk(i: int, prefix: str, branch: str, cond: str):
        nd = tree.nodes[i]
        head = f"{prefix}{branch}[{nd.id}] {cond}N = {nd.n:g}"
        if nd.rule is not None:
            t = nd.test
            padj = (f", adjusted {_fmt_p(nd.p_adjusted)}"
                    if np.isfinite(nd.p_adjusted) and nd.p_adjusted != nd.p else "")
            head += (f"  split: {nd.rule.describe()}  ({t.test} = {t.statistic:.4g}, "
                     f"p = {_fmt_p(t.p)}{padj})")
        else:
            head += "  leaf" + (f" ({nd.term_reason})" if nd.term_reason else "")
        out.append(head)
        child_prefix = prefix + ("    " if branch.startswith("└") else
                                 "│   " if branch else "")
        if nd.rule is None:
            if estimates:
                for line in _params(tree, nd, width - len(child_prefix) - 4):
                    out.append(f"{child_prefix}    {line}")
            return
        walk(nd.left, child_prefix, "├── ", nd.rule.describe_left() + ": ")
        walk(nd.right, child_prefix, "└── ", nd.rule.describe() + ": ")

    walk(0, "", "", "root: ")
    if tree.notes:
        out.append("notes:")
        out.extend(f"  - {note}" for note in tree.notes)
    return "\n".join(out)
