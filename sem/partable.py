"""Parsed syntax → lavaan-style parameter table, with lavaan's defaults.

The defaults follow lavaan 0.6 ``sem()``/``cfa()`` (checked against ``lavaan::parTable``
on the models in ``tests/sem/test_partable.py``):

* marker-variable scaling: the first loading of each factor is fixed to 1 unless it
  has a modifier (``NA*x`` frees it); with ``std_lv=True`` every loading is free and
  the (residual) variance of every latent variable is fixed to 1;
* residual variances of every observed and latent variable are free (``auto.var``),
  except that the single indicator of a factor gets its residual variance fixed to 0
  (``auto.fix.single``);
* covariances among exogenous latent variables (neither regressed on anything nor
  indicators of another factor) are free (``auto.cov.lv.x``) unless ``orthogonal=True``;
* residual covariances among *pure* dependent variables (left of ``~``, never right of
  ``~``, not an indicator) are free (``auto.cov.y``);
* ``fixed_x=True``: observed exogenous covariates (right of ``~`` only) have their
  (co)variances and means fixed at the sample values (``exo=1``) and do not count as
  model parameters; with ``fixed_x=False`` their variances *and covariances* are free
  parameters (a block after the other variances, as lavaan's);
* with a mean structure, observed intercepts are free and latent means fixed to 0;
  ``int_ov_free=False, int_lv_free=True`` turn that round, as lavaan's ``growth()``
  (``sem.growth``) does: the intercepts of the observed variables other than
  exogenous covariates fixed at 0, the latent means free.

Columns: ``id lhs op rhs user free label ustart exo data line``. ``free`` numbers the
distinct free parameters from 1 (rows sharing a label share a number); 0 is fixed.
``exo=1`` rows are estimated like free parameters (their ML estimate is the sample
value, and the likelihood factorises so nothing else changes) but reported as fixed.
``data`` names the column of a definition variable.
"""
from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import SpecificationError
from .syntax import Statement, parse


#: the columns that determine every function of θ built from a table (standardized
#: values, defined parameters): which row each parameter and fixed value sits in
_KEY_COLUMNS = ("lhs", "op", "rhs", "group", "free", "ustart", "label")


def table_key(pt: pd.DataFrame) -> str:
    """A hash of the table's structure (``_KEY_COLUMNS``). Functions of θ built from a
    table (the standardized solution, the ``:=`` parameters) are compiled once per
    key: the RAM alone does not determine them (two models with the same paths and
    different ``:=`` rows share a RAM)."""
    import hashlib

    cols = [c for c in _KEY_COLUMNS if c in pt.columns]
    h = hashlib.sha1(pd.util.hash_pandas_object(pt[cols], index=False).to_numpy().tobytes())
    h.update(repr(cols).encode())
    return h.hexdigest()


def model_key(problem, pt: pd.DataFrame) -> tuple:
    """The key of a fitted model's structure: its problem's (the RAM, or the groups'
    RAMs) and its table's (``table_key``: the ``:=`` rows and labels, which the RAM does
    not hold). Functions of θ built from the table compile once per key."""
    return (problem.cache_key(), table_key(pt))


@dataclass(frozen=True)
class Variables:
    """Variable roles of a model (names in order of first appearance)."""

    ov: tuple[str, ...]        # observed variables
    lv: tuple[str, ...]        # latent variables
    ov_x: tuple[str, ...]      # observed exogenous covariates (fixed.x)
    lv_x: tuple[str, ...]      # exogenous latent variables
    ov_ind: tuple[str, ...]    # observed indicators
    data_cols: tuple[str, ...]  # definition-variable columns
    #: observed exogenous covariates whose (co)variances are free (fixed_x=False)
    ov_x_free: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.ov + self.lv


def exogenous_params(pt: pd.DataFrame, k: int) -> np.ndarray:
    """(k,) True for the θ entries that are fixed covariates' moments (``exo`` rows,
    ``fixed_x``): parameters of the joint likelihood that lavaan treats as constants
    (not reported, no sampling variance in the standardized solution)."""
    exo = np.zeros(k, bool)
    rows = (pt["free"] > 0) & (pt["exo"] == 1)
    exo[pt.loc[rows, "free"].to_numpy() - 1] = True
    return exo


def _ordered_unique(items):
    seen, out = set(), []
    for it in items:
        if it not in seen:
            seen.add(it)
            out.append(it)
    return out


def _exogenous_observed(stmts: list[Statement], ov) -> list[str]:
    """Observed exogenous covariates: right of ``~`` only (never left of ``~`` with a
    predictor, never an indicator), in order of first appearance."""
    ind = {t.var for s in stmts if s.op == "=~" for t in s.terms}
    y = {l for s in stmts if s.op == "~" and any(t.var != "1" for t in s.terms)
         for l in s.lhs}
    x = _ordered_unique(t.var for s in stmts if s.op == "~" for t in s.terms if t.var != "1")
    return [v for v in x if v in ov and v not in y and v not in ind]


def _variables(stmts: list[Statement], fixed_x: bool) -> Variables:
    lv = _ordered_unique(l for s in stmts if s.op == "=~" for l in s.lhs)
    names = []
    for s in stmts:
        if s.op in ("=~", "~", "~~"):
            names += s.lhs
            names += [t.var for t in s.terms if t.var != "1"]
    ov = [v for v in _ordered_unique(names) if v not in lv]
    ind = _ordered_unique(t.var for s in stmts if s.op == "=~" for t in s.terms)
    y = set(l for s in stmts if s.op == "~" and any(t.var != "1" for t in s.terms)
            for l in s.lhs)
    exo = tuple(_exogenous_observed(stmts, ov))
    # exogenous: neither regressed on anything nor an indicator of another factor
    # (the first-order factors of a second-order model are endogenous: lavaan gives
    # them disturbance variances and no covariances)
    lv_x = [v for v in lv if v not in y and v not in ind]
    data_cols = _ordered_unique(t.data for s in stmts for t in s.terms if t.data)
    return Variables(tuple(ov), tuple(lv), exo if fixed_x else (), tuple(lv_x),
                     tuple(v for v in ind if v in ov), tuple(data_cols),
                     () if fixed_x else exo)


def _row(lhs, op, rhs, user, label="", ustart=np.nan, free=True, exo=0, data="", line=0,
         start=np.nan):
    return dict(lhs=lhs, op=op, rhs=rhs, user=user, label=label or "",
                ustart=ustart, isfree=free, exo=exo, data=data or "", line=line,
                start=start)


def _key(lhs, op, rhs):
    if op == "~~":
        a, b = sorted((lhs, rhs))
        return (a, op, b)
    return (lhs, op, rhs)


def split_statements(stmts: list[Statement]):
    """(structural statements, ``==`` constraints, ``:=`` definitions)."""
    return ([s for s in stmts if s.op not in (":=", "==")],
            [s for s in stmts if s.op == "=="], [s for s in stmts if s.op == ":="])


def check_group_values(stmts: list[Statement], n_groups: int) -> None:
    """Every per-group modifier ``c(...)`` has one element per group."""
    for s in stmts:
        for t in s.terms:
            sizes = {len(v) for v in (t.group_labels, t.group_values) if v is not None}
            if not sizes or sizes == {n_groups}:
                continue
            n = max(sizes - {n_groups})
            where = f"'{' + '.join(s.lhs)} {s.op} {t.var}' (line {s.line})"
            if n_groups == 1:
                raise SpecificationError(
                    f"the modifier '{t.group_text}' of {where} gives {n} values, one per "
                    "group, but the model is fitted to one group: fit with group= "
                    "(a column of the data defining the groups), or give a single value")
            raise SpecificationError(
                f"the modifier '{t.group_text}' of {where} has {n} elements, but the data "
                f"have {n_groups} groups: give one element per group")


def build_partable(
    model: str | list[Statement],
    *,
    meanstructure: bool = False,
    std_lv: bool = False,
    orthogonal: bool = False,
    fixed_x: bool = True,
    auto_fix_first: bool = True,
    int_ov_free: bool = True,
    int_lv_free: bool = False,
) -> tuple[pd.DataFrame, Variables]:
    """Parameter table with lavaan's defaults (see the module docstring)."""
    stmts = parse(model) if isinstance(model, str) else model
    check_group_values(stmts, 1)
    vars_ = _variables(stmts, fixed_x)
    structural, equalities, defined = split_statements(stmts)
    pt = default_rows(structural, vars_, meanstructure=meanstructure, std_lv=std_lv,
                      orthogonal=orthogonal, auto_fix_first=auto_fix_first,
                      int_ov_free=int_ov_free, int_lv_free=int_lv_free)
    _apply_equalities(pt, equalities)
    pt = _number_free(pt)
    pt.insert(0, "id", np.arange(1, len(pt) + 1))
    return append_defined(pt, defined), vars_


def default_rows(stmts: list[Statement], vars_: Variables, *, meanstructure: bool,
                 std_lv: bool, orthogonal: bool, auto_fix_first: bool,
                 int_ov_free: bool = True, int_lv_free: bool = False) -> pd.DataFrame:
    """The rows of the structural statements (no ``==``, ``:=``) with lavaan's defaults,
    before the free parameters are numbered (column ``isfree``). ``int_ov_free``,
    ``int_lv_free``: lavaan's ``int.ov.free`` and ``int.lv.free`` (the defaults' observed
    intercepts free or fixed at 0, latent means fixed at 0 or free)."""
    rows: list[dict] = []
    where: dict[tuple, int] = {}

    def add(r):
        k = _key(r["lhs"], r["op"], r["rhs"])
        if k in where:
            prev = rows[where[k]]
            if r["user"] and prev["user"]:
                raise SpecificationError(
                    f"parameter '{r['lhs']} {r['op']} {r['rhs']}' is specified twice "
                    f"(lines {prev['line']} and {r['line']})")
            return
        where[k] = len(rows)
        rows.append(r)

    measured = set()     # factors whose first indicator (over all statements) is seen
    for s in stmts:
        for lhs in s.lhs:
            for i, t in enumerate(s.terms):
                op, rhs = s.op, t.var
                if op == "~" and rhs == "1":
                    op, rhs = "~1", ""
                if op == "~" and rhs == lhs:
                    raise SpecificationError(
                        f"line {s.line}: '{lhs}' is regressed on itself")
                free = t.fixed is None and t.data is None
                ustart = t.fixed if t.fixed is not None else np.nan
                # the marker is the factor's first indicator, not each statement's
                if (op == "=~" and lhs not in measured and auto_fix_first and not std_lv
                        and t.fixed is None and not t.free_forced and t.data is None):
                    free, ustart = False, 1.0
                if op == "=~":
                    measured.add(lhs)
                add(_row(lhs, op, rhs, 1, t.label, ustart, free, 0, t.data, s.line, t.start))

    lv_set = set(vars_.lv)
    # residual variances
    n_ind = {f: sum(1 for s in stmts if s.op == "=~" and f in s.lhs for _ in s.terms)
             for f in vars_.lv}
    single = {t.var for s in stmts if s.op == "=~" for t in s.terms
              if n_ind[s.lhs[0]] == 1 and t.var not in lv_set}
    # with fixed_x=False the exogenous covariates' (co)variances are free, in a block
    # of their own after the other variances (as lavaan's parTable)
    x_free = vars_.ov_x_free
    for v in vars_.ov:
        if v in vars_.ov_x or v in x_free:
            continue
        if v in single:
            add(_row(v, "~~", v, 0, ustart=0.0, free=False))
        else:
            add(_row(v, "~~", v, 0))
    for f in vars_.lv:
        if std_lv:
            add(_row(f, "~~", f, 0, ustart=1.0, free=False))
        else:
            add(_row(f, "~~", f, 0))
    # covariances among exogenous latent variables
    for i, a in enumerate(vars_.lv_x):
        for b in vars_.lv_x[i + 1:]:
            add(_row(a, "~~", b, 0, ustart=0.0 if orthogonal else np.nan,
                     free=not orthogonal))
    # residual covariances among pure dependent variables
    preds = {t.var for s in stmts if s.op == "~" for t in s.terms}
    inds = {t.var for s in stmts if s.op == "=~" for t in s.terms}
    pure_y = _ordered_unique(
        l for s in stmts if s.op == "~" and any(t.var != "1" for t in s.terms)
        for l in s.lhs if l not in preds and l not in inds)
    for i, a in enumerate(pure_y):
        for b in pure_y[i + 1:]:
            add(_row(a, "~~", b, 0))
    # exogenous observed covariates: fixed at sample values, or free (fixed_x=False)
    for i, a in enumerate(vars_.ov_x):
        for b in vars_.ov_x[i:]:
            add(_row(a, "~~", b, 0, exo=1))
    for i, a in enumerate(x_free):
        for b in x_free[i:]:
            add(_row(a, "~~", b, 0))
    if meanstructure:
        zeroed = []
        for v in vars_.ov:
            if v in vars_.ov_x or v in x_free or int_ov_free:
                add(_row(v, "~1", "", 0, exo=int(v in vars_.ov_x)))
            else:
                if v not in vars_.ov_ind and _key(v, "~1", "") not in where:
                    zeroed.append(v)
                add(_row(v, "~1", "", 0, ustart=0.0, free=False))
        if zeroed:
            # lavaan's growth() warns the same; an outcome of the growth factors with its
            # intercept at 0 is rarely what was meant
            warnings.warn(
                f"int_ov_free=False fixes the intercepts of {zeroed}, which are not "
                "indicators of a latent variable, at 0 (as lavaan's growth() does); "
                f"free them in the syntax, e.g. '{zeroed[0]} ~ 1'", UserWarning,
                stacklevel=2)
        for f in vars_.lv:
            add(_row(f, "~1", "", 0) if int_lv_free
                else _row(f, "~1", "", 0, ustart=0.0, free=False))

    pt = pd.DataFrame(rows)
    pt["start"] = pd.to_numeric(pt["start"], errors="coerce").astype(float)
    pt["ustart"] = pd.to_numeric(pt["ustart"], errors="coerce").astype(float)
    return pt


def append_defined(pt: pd.DataFrame, defined: list[Statement]) -> pd.DataFrame:
    """The table with a row per defined parameter (``:=``) after its rows; each
    expression may use the labels and the parameters defined before it."""
    for s in defined:
        _check_expression(s, pt)
        row = {c: 0 for c in pt.columns}
        row.update(id=len(pt) + 1, lhs=s.lhs[0], op=":=", rhs=s.expression, user=1,
                   label=s.lhs[0], ustart=np.nan, data="", line=s.line, free=0,
                   start=np.nan)
        pt.loc[len(pt)] = row
    return pt.reset_index(drop=True)


def _apply_equalities(pt: pd.DataFrame, equalities: list[Statement]) -> None:
    for s in equalities:
        lhs, rhs = s.lhs[0].strip(), s.expression.strip()
        labels = set(pt["label"])
        if lhs not in labels:
            raise SpecificationError(f"line {s.line}: unknown label '{lhs}' in '=='")
        try:
            value = float(rhs)
        except ValueError:
            value = None
        if value is not None:
            sel = pt["label"] == lhs
            pt.loc[sel, "isfree"] = False
            pt.loc[sel, "ustart"] = value
        elif rhs in labels:
            pt.loc[pt["label"] == rhs, "label"] = lhs
        else:
            raise SpecificationError(
                f"line {s.line}: '{lhs} == {rhs}': only 'label == label' and "
                "'label == number' constraints are supported")


def _number_free(pt: pd.DataFrame, keys=None) -> pd.DataFrame:
    """Number the free rows from 1; rows with one key share a number (the keys default
    to the labels, "" for none; ``sem.grouptable`` passes lavaan's equality keys)."""
    free = np.zeros(len(pt), dtype=int)
    by_label: dict[str, int] = {}
    k = 0
    keys = pt["label"].tolist() if keys is None else list(keys)
    for i, (r, key) in enumerate(zip(pt.itertuples(), keys)):
        if not (r.isfree or r.exo):
            continue
        if key:
            if key in by_label:
                free[i] = by_label[key]
                continue
            k += 1
            by_label[key] = k
        else:
            k += 1
        free[i] = k
    pt = pt.drop(columns="isfree")
    pt["free"] = free
    # a label shared by a fixed and a free row: lavaan fixes both
    for lab, grp in pt[pt["label"] != ""].groupby("label"):
        if (grp["free"] == 0).any() and (grp["free"] > 0).any():
            raise SpecificationError(
                f"label '{lab}' is used for a fixed and a free parameter; give it the "
                "same modifier everywhere")
    cols = ["lhs", "op", "rhs", "user", "free", "label", "ustart", "exo", "data", "line",
            "start"]
    return pt[cols + [c for c in pt.columns if c not in cols]]


_ALLOWED_FUNCS = {"exp", "log", "sqrt", "abs", "sin", "cos", "tan", "tanh", "pnorm"}


def expression_names(expr: str) -> list[str]:
    """Names (labels) used in a ``:=`` expression; raise on anything but arithmetic."""
    try:
        tree = ast.parse(expr.replace("^", "**"), mode="eval")
    except SyntaxError as e:
        raise SpecificationError(f"cannot read the expression '{expr}': {e.msg}") from None
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _ALLOWED_FUNCS:
                raise SpecificationError(
                    f"'{expr}': only the functions {sorted(_ALLOWED_FUNCS)} are allowed")
        elif isinstance(node, ast.Name):
            names.append(node.id)
        elif not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant,
                                   ast.operator, ast.unaryop, ast.Load)):
            raise SpecificationError(f"'{expr}': unsupported element "
                                     f"'{type(node).__name__}'")
    return [n for n in names if n not in _ALLOWED_FUNCS]


def _check_expression(s: Statement, pt: pd.DataFrame) -> None:
    known = set(pt["label"]) | set(pt.loc[pt["op"] == ":=", "lhs"])
    for name in expression_names(s.expression):
        if name not in known:
            raise SpecificationError(
                f"line {s.line}: defined parameter '{s.lhs[0]}' uses '{name}', which is "
                f"not a label of the model (labels: {sorted(l for l in known if l)})")
