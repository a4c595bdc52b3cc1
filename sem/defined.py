"""Defined parameters (``name := expression``) as jittable functions of θ.

An expression may use the model's labels (free or fixed parameters), earlier defined
parameters, numbers, ``+ - * / ^ **`` and the functions exp, log, sqrt, abs, sin, cos,
tan, tanh and pnorm. Standard errors follow by the delta method.
"""
from __future__ import annotations

import ast

import numpy as np
import pandas as pd
from jax.scipy.stats import norm

from .jaxconfig import jnp

_FUNCS = {"exp": jnp.exp, "log": jnp.log, "sqrt": jnp.sqrt, "abs": jnp.abs,
          "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan, "tanh": jnp.tanh,
          "pnorm": norm.cdf}
_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
           ast.Pow: lambda a, b: a ** b}


def _eval(node, env):
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Call):
        return _FUNCS[node.func.id](*[_eval(a, env) for a in node.args])
    raise ValueError(f"unsupported expression element {type(node).__name__}")


def _labels(pt: pd.DataFrame) -> dict:
    """label → (index into θ or −1, fixed value) of the model's labelled rows."""
    out = {}
    for r in pt[(pt["label"] != "") & (pt["op"] != ":=")].itertuples():
        out.setdefault(r.label, (int(r.free) - 1, float(r.ustart)))
    return out


def _parse(expr: str):
    return ast.parse(str(expr).replace("^", "**"), mode="eval")


def defined_function(pt: pd.DataFrame, extra=()):
    """Return (names, g) with g(θ) → vector of the defined parameters, or None.
    ``extra``: further expressions in the labels and defined parameters, evaluated
    after them and appended to g's output (``sem.compare.wald_test``)."""
    rows = pt[pt["op"] == ":="]
    if rows.empty and not extra:
        return None
    label_src = _labels(pt)
    exprs = [(r.lhs, _parse(r.rhs)) for r in rows.itertuples()]
    more = [_parse(e) for e in extra]

    def g(theta):
        env = {}
        for lab, (p, fixed) in label_src.items():
            env[lab] = theta[p] if p >= 0 else fixed
        out = []
        for name, tree in exprs:
            env[name] = jnp.asarray(_eval(tree, env), dtype=theta.dtype)
            out.append(env[name])
        out += [jnp.asarray(_eval(tree, env), dtype=theta.dtype) for tree in more]
        return jnp.stack(out)

    return [n for n, _ in exprs], g


def defined_estimates(pt: pd.DataFrame, theta, cov) -> pd.DataFrame | None:
    """The ``:=`` rows of lavaan's ``parameterEstimates`` (lhs, op, rhs, label, est,
    se; delta-method standard errors from ``cov``, the covariance of θ̂), or None."""
    d = defined_function(pt)
    if d is None:
        return None
    from .inference import delta_method
    from .partable import table_key

    val, c, _ = delta_method(d[1], theta, cov, key=("defined", table_key(pt)))
    rows = pt[pt["op"] == ":="]
    return pd.DataFrame({"lhs": rows["lhs"].to_numpy(), "op": ":=",
                         "rhs": rows["rhs"].to_numpy(), "label": rows["label"].to_numpy(),
                         "est": val, "se": np.sqrt(np.maximum(np.diag(c), 0))})


def evaluate(pt: pd.DataFrame, theta) -> np.ndarray:
    f = defined_function(pt)
    return np.zeros(0) if f is None else np.asarray(f[1](jnp.asarray(theta)))
