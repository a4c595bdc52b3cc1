"""Mixed graphs ↔ lavaan syntax, and ML fitting of (cyclic) SEMs through ``sem.Model``.

Mapping: ``j ~ i`` is the directed edge i → j (λ_ij; lavaan's B = Λᵀ), ``a ~~ b`` the
bidirected edge a ↔ b (ω_ab), ``a ~~ a`` the error variance ω_a (always present).
The graph records structure only: labels, fixed nonzero values and equality constraints
are not kept; an entry fixed to 0 (``0*x``) is no edge.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import SpecificationError
from ..syntax import parse

_NAME_RE = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


def lavaan_names(g) -> list[str]:
    """Variable names used in lavaan syntax: a node label that is a valid lavaan name
    stays; any other label l becomes ``v<l>`` (e.g. node 0 → ``v0``)."""
    out = []
    for v in g.nodes:
        s = str(v)
        if not (isinstance(v, str) and _NAME_RE.match(s)):
            s = "v" + re.sub(r"[^A-Za-z0-9_.]", "_", s)
        out.append(s)
    if len(set(out)) < len(out):
        raise SpecificationError(f"node labels {list(g.nodes)} do not give distinct "
                                 "lavaan variable names; rename the nodes")
    return out


def graph_from_lavaan(cls, syntax: str, *, defaults: bool = False, **kwargs):
    """A MixedGraph from lavaan syntax without latent variables.

    defaults=False: only the edges written in the syntax. defaults=True: the model
    lavaan's ``sem()`` fits, i.e. also the covariances it adds by default (among
    exogenous observed variables, fixed.x, and among pure dependent variables,
    auto.cov.y) unless fixed to 0. Nodes are the variables in order of appearance.
    """
    from ..partable import build_partable

    stmts = parse(syntax)
    for s in stmts:
        if s.op == "=~":
            raise SpecificationError(
                f"line {s.line}: '{' + '.join(s.lhs)} =~ ...' defines a latent variable; a "
                "mixed graph has observed nodes only (write the model without '=~')")
        for t in s.terms:
            if t.data is not None:
                raise SpecificationError(f"line {s.line}: definition variable "
                                         f"'data.{t.data}' cannot be a graph edge")
    pt, vars_ = build_partable(stmts, fixed_x=True)
    rows = pt[pt["op"].isin(["~", "~~"])]
    if not defaults:
        rows = rows[rows["user"] == 1]
    D, B = [], []
    for r in rows.itertuples():
        zero = r.free == 0 and not r.exo and (not np.isfinite(r.ustart) or r.ustart == 0)
        if zero:
            continue
        if r.op == "~":
            D.append((r.rhs, r.lhs))
        elif r.lhs != r.rhs:
            B.append((r.lhs, r.rhs))
    return cls(D, B, nodes=list(vars_.ov), **kwargs)


def _start_value(start, a, b, g):
    if start is None:
        return None
    if isinstance(start, dict):
        return start.get((g.nodes[a], g.nodes[b]))
    v = float(np.asarray(start, float)[a, b])
    return v


def to_lavaan(g, start=None, *, variance_start=None) -> str:
    """lavaan syntax for the graph's SEM.

    One ``j ~ i + ...`` line per node with parents, one ``a ~~ b`` per bidirected edge,
    and ``a ~~ 0*b`` for the pairs lavaan would otherwise give a free covariance by
    default (both exogenous, or both pure dependent). Error variances are left to
    lavaan's auto.var (written out only for nodes without edges). The syntax means the
    graph's model with fixed.x = FALSE, in R's lavaan and in
    ``sem.Model(..., fixed_x=False)``.

    start : start values of the coefficients, an n×n Λ or a dict {(i, j): value} keyed
        by node labels (written as ``start(v)*i``).
    variance_start : dict {node: value} of start values for the variances of nodes
        without edges.
    """
    names = lavaan_names(g)
    lines = []
    parents = {j: [] for j in range(g.n)}
    for i, j in g._D:
        parents[j].append(i)
    for j in range(g.n):
        if parents[j]:
            terms = []
            for i in parents[j]:
                v = _start_value(start, i, j, g)
                terms.append((f"start({v:.10g})*" if v is not None else "") + names[i])
            lines.append(f"{names[j]} ~ " + " + ".join(terms))
    bset = set(g._B)
    for k, l in g._B:
        lines.append(f"{names[k]} ~~ {names[l]}")
    touched = {v for e in g._D + g._B for v in e}
    for v in range(g.n):
        if v not in touched:
            s0 = (variance_start or {}).get(g.nodes[v])
            mod = f"start({s0:.10g})*" if s0 is not None else ""
            lines.append(f"{names[v]} ~~ {mod}{names[v]}")
    has_parent = {j for _, j in g._D}
    is_parent = {i for i, _ in g._D}
    exo = [v for v in range(g.n) if v not in has_parent and v in is_parent]
    pure_y = [v for v in range(g.n) if v in has_parent and v not in is_parent]
    for group in (exo, pure_y):
        for a_i, a in enumerate(group):
            for b in group[a_i + 1:]:
                if (min(a, b), max(a, b)) not in bset:
                    lines.append(f"{names[a]} ~~ 0*{names[b]}")
    return "\n".join(lines)


def _frame(g, data) -> pd.DataFrame:
    names = lavaan_names(g)
    if not isinstance(data, pd.DataFrame):
        arr = np.asarray(data, float)
        if arr.ndim != 2 or arr.shape[1] != g.n:
            raise SpecificationError(f"data must be a DataFrame or an array with {g.n} "
                                     f"columns (one per node), got shape {arr.shape}")
        return pd.DataFrame(arr, columns=names)
    out = {}
    for v, nm in zip(g.nodes, names):
        if v in data.columns:
            out[nm] = data[v]
        elif nm in data.columns:
            out[nm] = data[nm]
        else:
            raise SpecificationError(f"node {v!r} not found in the data (looked for "
                                     f"columns {v!r} and {nm!r})")
    return pd.DataFrame(out)


def _check_start(g, model, theta0) -> None:
    """Raise a clear error if I − Λ is singular at the start values, naming cycles."""
    names = lavaan_names(g)
    idx = {nm: k for k, nm in enumerate(names)}
    pt = model.partable
    L = np.zeros((g.n, g.n))
    for r in pt[pt["op"] == "~"].itertuples():
        val = theta0[r.free - 1] if r.free > 0 else (r.ustart if np.isfinite(r.ustart)
                                                      else 0.0)
        L[idx[r.rhs], idx[r.lhs]] = val
    A = np.eye(g.n) - L
    if abs(np.linalg.det(A)) > 1e-10 and np.linalg.cond(A) < 1e12:
        return
    try:
        cycles = g.cycles(limit=200)
    except SpecificationError:
        cycles = []
    desc = []
    for c in cycles[:6]:
        ks = [g.index(v) for v in c]
        prod = np.prod([L[ks[t], ks[(t + 1) % len(ks)]] for t in range(len(ks))])
        desc.append(" → ".join(names[k] for k in ks + ks[:1]) + f" (product {prod:.4g})")
    raise SpecificationError(
        "I − Λ is singular at the start values (det(I − Λ) = "
        f"{np.linalg.det(A):.3g}): the feedback loops have a total effect of 1. Cycles "
        f"and their start products: {'; '.join(desc) or 'none found'}. Give other start "
        "values, e.g. fit(data, start={(i, j): 0.1, ...}) or start(0.1)*x in the syntax")


def fit(g, data, *, start=None, **kwargs):
    """Fit the graph's SEM by maximum likelihood with ``sem.Model`` (fixed_x=False:
    every ω is a parameter). ``data``: a DataFrame whose columns are the node labels
    (or their lavaan names, :func:`lavaan_names`) or an array with one column per node.
    ``start``: start values of the coefficients (see :func:`to_lavaan`); the others
    are lavaan's. Other keywords go to ``sem.Model.fit``. Returns ``sem.SEMResults``;
    :func:`matrices_from_fit` reads (Λ̂, Ω̂) off it.
    """
    from ..model import Model

    df = _frame(g, data)
    # variances of edge-less nodes get lavaan's start value ½ s_vv written out: a
    # table made only of user rows without start() trips sem.starts (the xfail test
    # test_core_all_user_rows_without_start in tests/sem/test_graphs_fit.py)
    # (NaN-aware: with missing="ml" a column may hold NaNs; a column with no usable
    # variance gets no written start value)
    vstart = {}
    for v, nm in zip(g.nodes, lavaan_names(g)):
        x = df[nm].to_numpy(dtype=float)
        s2 = float(np.nanvar(x)) if np.isfinite(x).sum() > 1 else np.nan
        if np.isfinite(s2) and s2 > 0:
            vstart[v] = 0.5 * s2
    model = Model(to_lavaan(g, start=start, variance_start=vstart), fixed_x=False)
    theta0 = model.start(model.prepare(df, missing=kwargs.get("missing", "error")))
    _check_start(g, model, theta0)
    return model.fit(df, start=theta0, **kwargs)


def matrices_from_fit(g, results):
    """(Λ̂, Ω̂), n×n arrays in node order, from ``results.estimates``."""
    names = lavaan_names(g)
    idx = {nm: k for k, nm in enumerate(names)}
    L = np.zeros((g.n, g.n))
    W = np.zeros((g.n, g.n))
    for r in results.estimates.itertuples():
        if r.op == "~":
            L[idx[r.rhs], idx[r.lhs]] = r.est
        elif r.op == "~~":
            W[idx[r.lhs], idx[r.rhs]] = W[idx[r.rhs], idx[r.lhs]] = r.est
    return L, W
