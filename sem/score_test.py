"""lavaan's ``lavTestScore``: score (Lagrange multiplier) tests of a fit's equality
constraints, which parameters a measurement-invariance model should release.

A constraint here is two rows of the parameter table that share one free parameter
(a shared label, or ``group_equal`` across groups). In the *relaxed* parametrization
every free row is a parameter x of its own, the fit's estimate is x̂ = θ̂ at each row,
and a parameter shared by rows r₁ < r₂ < … gives the constraints x_{r₁} − x_{r_j} = 0
(R, one row each), as lavaan writes its ``==`` rows. With g the gradient of ℓ/N and
I the expected information per case, both at x̂ in the relaxed parametrization:

* the total test releases every constraint: X² = N gᵀ I⁺ g on as many df;
* the univariate test of constraint r releases it alone, the others kept:
  X²_r = N gᵀ [Z_r⁺]₁₁ g with Z_r = [[I, R₋ᵣᵀ], [R₋ᵣ, 0]], R₋ᵣ the other rows (df 1).

Under FIML, I is the expected information of the missingness patterns (as lavaan's:
equal on HS by school with values missing). ⁺ is the Moore–Penrose inverse, as lavaan's (the relaxed model may not be identified:
scalar invariance with free latent means in later groups, say). The fixed covariates'
moments stay in x (their gradient is 0 at the optimum, and the joint information's
inverse restricted to the model's parameters is the conditional one), so the tests
are lavaan's (``tests/sem/test_score_test.py``)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from .jaxconfig import jax, jnp


def relaxed_table(pt: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, list]:
    """(table with every free row a parameter of its own, the original parameter of
    each relaxed one (x = θ[of]), the constraints as pairs of relaxed indices)."""
    rows = np.flatnonzero((pt["free"] > 0).to_numpy())
    relaxed = pt.copy()
    relaxed.loc[relaxed.index[rows], "free"] = np.arange(1, len(rows) + 1)
    of = pt["free"].to_numpy()[rows] - 1
    first, pairs = {}, []
    for j, t in enumerate(of):
        if t in first:
            pairs.append((first[t], j))
        else:
            first[t] = j
    return relaxed, of, pairs


def score_tests(pt: pd.DataFrame, problem_of, theta, summary: dict, n: float,
                label=None) -> dict:
    """{"test": the total test (X2, df, pvalue), "uni": one row per constraint (lhs,
    op, rhs, X2, df, pvalue)} of a fit with parameter table ``pt``, estimate ``theta``
    and the data's likelihood ``summary`` (n cases). ``problem_of(table)`` builds the
    likelihood problem of a parameter table; ``label(row)`` names a row of ``pt`` in
    the table (default "lhs op rhs")."""
    relaxed, of, pairs = relaxed_table(pt)
    if not pairs:
        raise ValueError("no equality constraints in the model (shared labels or "
                         "group_equal) to test")
    prob = problem_of(relaxed)
    x = jnp.asarray(np.asarray(theta, dtype=float)[of])
    data = {k: jnp.asarray(v) for k, v in summary.items()}
    g = np.asarray(jax.jit(jax.grad(prob.loglik))(x, data)) / n
    info = np.asarray(jax.jit(prob.expected_information)(x, data)) / n
    R = np.zeros((len(pairs), len(of)))
    for i, (a, b) in enumerate(pairs):
        R[i, a], R[i, b] = 1.0, -1.0
    total = float(n * g @ np.linalg.pinv(info) @ g)
    uni = []
    for r in range(len(pairs)):
        R1 = np.delete(R, r, axis=0)
        m = len(R1)
        Z = np.block([[info, R1.T], [R1, np.zeros((m, m))]])
        uni.append(float(n * g @ np.linalg.pinv(Z)[:len(g), :len(g)] @ g))
    rows = np.flatnonzero((pt["free"] > 0).to_numpy())
    name = label or (lambda r: f"{r.lhs} {r.op} {r.rhs}".strip())
    recs = pt.iloc[rows]
    table = pd.DataFrame({
        "lhs": [name(recs.iloc[a]) for a, _ in pairs], "op": "==",
        "rhs": [name(recs.iloc[b]) for _, b in pairs], "X2": uni, "df": 1,
        "pvalue": [float(special.chdtrc(1, v)) for v in uni]})
    test = {"X2": total, "df": len(pairs),
            "pvalue": float(special.chdtrc(len(pairs), total))}
    return {"test": test, "uni": table}
