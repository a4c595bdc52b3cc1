"""The parameter table of a multiple-group model, as lavaan's ``lavaanify`` builds it.

Every group's rows come from the one-group builder (``sem.partable.default_rows``)
with that group's element of each per-group modifier ``c(...)``; the table holds them
all (column ``group``, 1-based) with one global numbering of the free parameters.
Which rows share a parameter follows lavaan's ``lav_partable_labels``: every row has a
key, ``lhs op rhs`` with ``.g<group>`` after the first group; ``group_equal`` gives a
kind of parameter in later groups the first group's key; a user label replaces the key
(so a label names one parameter in all groups, ``c(a1, a2)`` two, and a label
overrides ``group_equal``, as ``group_partial`` does, lavaan's ``group.partial``). Rows
with one key are one parameter. As lavaan's equality constraints, a ``group_equal`` key
that holds a fixed row fixes its free rows at that value (``c(1, NA)*x`` with equal
loadings fixes the loading at 1 in both groups).

Beside them, lavaan's defaults for groups (``lav_partable_flat``), on the rows the user
did not write: with equal intercepts (and no equal ``means``) the latent means are free
after the first group; with ``std_lv`` and equal loadings (and no equal
``lv.variances``) the latent variances are fixed at 1 in the first group only.
``==`` constraints and ``:=`` definitions may use the labels of any group; the
definitions' rows come last with group 0, as lavaan's ``parTable``.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .errors import SpecificationError
from .partable import (_apply_equalities, _key, _number_free, _variables,
                       append_defined, check_group_values, default_rows, split_statements)
from .syntax import parse

GROUP_EQUAL = ("loadings", "intercepts", "means", "residuals", "residual.covariances",
               "lv.variances", "lv.covariances", "regressions")


def _kind(op: str, lhs: str, rhs: str, lv: set) -> str | None:
    """The ``group_equal`` kind of a parameter table row."""
    if op == "=~":
        return "loadings"
    if op == "~":
        return "regressions"
    if op == "~1":
        return "means" if lhs in lv else "intercepts"
    if op == "~~":
        both_lv = lhs in lv and rhs in lv
        if lhs == rhs:
            return "lv.variances" if both_lv else "residuals"
        return "lv.covariances" if both_lv else "residual.covariances"
    return None


def group_partable(syntax: str, n_groups: int, group_equal=(), group_partial=(), *,
                   std_lv: bool = False, orthogonal: bool = False, fixed_x: bool = True,
                   int_ov_free: bool = True, int_lv_free: bool = False):
    """The multiple-group parameter table (every group's rows, column ``group``; the
    ``:=`` rows with group 0) and the variables. ``group_partial``: parameters
    ("lhs op rhs") exempt from ``group_equal``."""
    bad = sorted(set(group_equal) - set(GROUP_EQUAL))
    if bad:
        raise SpecificationError(f"group_equal may contain {list(GROUP_EQUAL)}, not {bad}")
    if isinstance(group_partial, str):
        group_partial = (group_partial,)
    stmts = parse(syntax)
    check_group_values(stmts, n_groups)
    vars_ = _variables(stmts, fixed_x)
    structural, equalities, defined = split_statements(stmts)
    equal = set(group_equal)
    free_lv_means = "intercepts" in equal and "means" not in equal
    free_lv_vars = std_lv and "loadings" in equal and "lv.variances" not in equal
    lv = set(vars_.lv)
    parts = []
    for g in range(n_groups):
        sg = [dataclasses.replace(s, terms=[t.in_group(g) for t in s.terms])
              for s in structural]
        p = default_rows(sg, vars_, meanstructure=True, std_lv=std_lv,
                         orthogonal=orthogonal, auto_fix_first=True,
                         int_ov_free=int_ov_free, int_lv_free=int_lv_free)
        p.insert(0, "group", g + 1)
        if g > 0:
            auto = p["user"] == 0
            means = auto & (p["op"] == "~1") & p["lhs"].isin(lv)
            lvvar = (auto & (p["op"] == "~~") & p["lhs"].isin(lv)
                     & (p["lhs"] == p["rhs"]))
            for on, rows in ((free_lv_means, means), (free_lv_vars, lvvar)):
                if on:
                    p.loc[rows, "isfree"], p.loc[rows, "ustart"] = True, np.nan
        parts.append(p)
    pt = pd.concat(parts, ignore_index=True)
    _apply_equalities(pt, equalities)
    keys = _equality_keys(pt, equal, lv, set(vars_.ov_x_free),
                          _partial(pt, group_partial))
    _fix_equal_to_fixed(pt, keys)
    pt = _number_free(pt, keys)
    group = pt.pop("group")
    pt.insert(0, "id", np.arange(1, len(pt) + 1))
    pt["group"] = group.to_numpy()
    return append_defined(pt, defined), vars_


def _partial(pt: pd.DataFrame, group_partial) -> set:
    """The row keys (``partable._key``) of the ``group_partial`` parameters, "lhs op
    rhs" with or without blanks (a covariance in either order)."""
    text = {"".join(str(p).split()) for p in group_partial}
    rows = {f"{r.lhs}{r.op}{r.rhs}": _key(r.lhs, r.op, r.rhs) for r in pt.itertuples()}
    rows.update({f"{r.rhs}~~{r.lhs}": _key(r.lhs, r.op, r.rhs)
                 for r in pt[pt["op"] == "~~"].itertuples()})
    unknown = sorted(text - set(rows))
    if unknown:
        raise SpecificationError(
            f"group_partial names {unknown}, which are not parameters of the model; write "
            "them as lhs op rhs, e.g. 'x3 ~ 1', 'visual =~ x2', 'x1 ~~ x4'")
    return {rows[t] for t in text}


def _equality_keys(pt: pd.DataFrame, equal: set, lv: set, x_free: set,
                   partial: set = frozenset()) -> list[str]:
    """lavaan's ``lav_partable_labels``: rows with one key are one parameter. The
    exogenous covariates' rows (fixed or free) are no intercepts or residuals; the
    ``partial`` rows (``_key``) are exempt from ``equal``."""
    keys = []
    for r in pt.itertuples():
        base = f"{r.lhs}{r.op}{r.rhs}"
        kind = _kind(r.op, r.lhs, r.rhs, lv)
        shared = r.group == 1 or (kind in equal and not r.exo and not (
            kind in ("intercepts", "residuals", "residual.covariances")
            and r.lhs in x_free) and _key(r.lhs, r.op, r.rhs) not in partial)
        keys.append(r.label or (base if shared else f"{base}.g{r.group}"))
    return keys


def _fix_equal_to_fixed(pt: pd.DataFrame, keys: list[str]) -> None:
    """A ``group_equal`` key holding a fixed row: its free rows are fixed at that value
    (lavaan's equality constraint to a fixed parameter). User labels on fixed and free
    rows are refused by ``_number_free``, as with one group."""
    key = pd.Series(keys, index=pt.index)
    auto = pt["label"] == ""
    fixed = auto & ~pt["isfree"].astype(bool) & (pt["exo"] == 0)
    for k, rows in pt[auto].groupby(key[auto]).groups.items():
        fx = pt.loc[rows][fixed[rows]]
        if fx.empty or len(fx) == len(rows):
            continue
        values = fx["ustart"].unique()
        if len(values) > 1:
            r = fx.iloc[0]
            raise SpecificationError(
                f"group_equal makes '{r.lhs} {r.op} {r.rhs}' equal across groups, but it "
                f"is fixed at different values {sorted(values.tolist())} in groups "
                f"{fx['group'].tolist()}: give it one value, or free it with c(...)")
        pt.loc[rows, "isfree"], pt.loc[rows, "ustart"] = False, values[0]


def param_names(pt: pd.DataFrame) -> list[str]:
    """Parameter names: a label, else lhs op rhs with the group (".g2") unless the
    parameter is shared by all its groups."""
    pt = pt[pt["op"] != ":="]
    k = int(pt["free"].max())
    names = [""] * k
    for r in pt[pt["free"] > 0].itertuples():
        i = r.free - 1
        if names[i]:
            continue
        base = r.label or (f"{r.lhs}~1" if r.op == "~1" else f"{r.lhs}{r.op}{r.rhs}")
        names[i] = base if r.label else f"{base}.g{r.group}"
    # a parameter shared across groups by group_equal: no group suffix
    groups_of = pt[pt["free"] > 0].groupby("free")["group"].nunique()
    for f, n in groups_of.items():
        if n > 1 and names[f - 1].endswith(f".g{pt.loc[pt['free'] == f, 'group'].min()}"):
            names[f - 1] = names[f - 1].rsplit(".g", 1)[0]
    return names
