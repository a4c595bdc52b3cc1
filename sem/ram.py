"""Parameter table → RAM matrices (McArdle & McDonald 1984) and implied moments.

Variables are ordered observed first, then latent. With θ the vector of free
parameters (the table's ``free`` numbers minus one):

* ``A[i, j]`` — directed effect of variable j on variable i (``f =~ y`` puts λ at
  ``A[y, f]``; ``y ~ x`` puts β at ``A[y, x]``);
* ``S`` — symmetric (residual) covariances (``~~``);
* ``m`` — intercepts and means (``~ 1``);
* ``F`` — the selection of the observed variables (here: the first ``n_ov`` rows).

Implied moments of the observed variables:

    Σ = F (I − A)⁻¹ S (I − A)⁻ᵀ Fᵀ,      μ = F (I − A)⁻¹ m.

``(I − A)⁻¹`` is computed without an inverse: for a recursive (acyclic) model A is
nilpotent and (I − A)⁻¹ = I + A + … + A^d, d the longest directed path, evaluated by
Horner's rule in exact arithmetic; for a non-recursive model it is a linear solve.
Measurement models whose regressions are among latent variables (no effect leaves an
observed variable, no observed-latent covariance) take a smaller form, over the
latent block only (``RAM.implied``). Definition variables (``data.t1*y1``) make
entries of A depend on each case's data: ``matrices(theta, defvals)`` takes that
case's values.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import SpecificationError
from .jaxconfig import jnp
from .linalg import solve
from .partable import Variables


@dataclass(frozen=True)
class _Entries:
    rows: np.ndarray
    cols: np.ndarray
    param: np.ndarray   # index into θ, or -1
    fixed: np.ndarray   # value when fixed
    data: np.ndarray    # index into definition variables, or -1


def _entries(items):
    if not items:
        z = np.zeros(0, dtype=int)
        return _Entries(z, z, z, np.zeros(0), z)
    r, c, p, f, d = zip(*items)
    return _Entries(np.array(r), np.array(c), np.array(p), np.array(f, dtype=float),
                    np.array(d))


def _longest_path(adj: np.ndarray) -> int | None:
    """Length of the longest directed path, or None if the graph has a cycle."""
    n = adj.shape[0]
    indeg = adj.sum(0).astype(int).copy()
    order, stack = [], [i for i in range(n) if indeg[i] == 0]
    while stack:
        v = stack.pop()
        order.append(v)
        for w in np.nonzero(adj[v])[0]:
            indeg[w] -= 1
            if indeg[w] == 0:
                stack.append(w)
    if len(order) < n:
        return None
    depth = np.zeros(n, dtype=int)
    for v in order:
        for w in np.nonzero(adj[v])[0]:
            depth[w] = max(depth[w], depth[v] + 1)
    return int(depth.max()) if n else 0


def _i_minus_inverse(A, depth: int | None):
    """(I − A)⁻¹. For a nilpotent A (longest directed path ``depth``) I + A + … + A^depth
    by Horner's rule, from its first step I + A: A @ I would be a product of its own
    (on the Holzinger–Swineford CFA a 12 × 12 dot per evaluation, and its transpose in
    the gradient, 10 % of the value and gradient). With a cycle (``depth`` None) a
    linear solve (``sem.linalg``: no LAPACK call, see there)."""
    eye = jnp.eye(A.shape[-1], dtype=A.dtype)
    if depth is None:
        return solve(eye - A, eye)
    B = eye + A if depth else eye
    for _ in range(depth - 1):
        B = eye + A @ B
    return B


@dataclass(frozen=True)
class RAM:
    names: tuple[str, ...]
    n_ov: int
    n_par: int
    A: _Entries
    S: _Entries
    m: _Entries
    depth: int | None          # None: non-recursive (cyclic) model
    meanstructure: bool
    #: ``implied`` in its latent-block form (see there), and the longest directed
    #: path among the latent variables (None: a cycle among them)
    latent_block: bool = False
    latent_depth: int | None = None

    @classmethod
    def from_partable(cls, pt: pd.DataFrame, vars_: Variables, meanstructure: bool):
        names = vars_.all
        idx = {v: i for i, v in enumerate(names)}
        dcol = {c: i for i, c in enumerate(vars_.data_cols)}
        A, S, m = [], [], []
        for r in pt.itertuples():
            if r.op == ":=":
                continue
            p = int(r.free) - 1
            fixed = 0.0 if p >= 0 else float(r.ustart) if np.isfinite(r.ustart) else 0.0
            d = dcol[r.data] if r.data else -1
            if r.op == "=~":
                A.append((idx[r.rhs], idx[r.lhs], p, fixed, d))
            elif r.op == "~":
                A.append((idx[r.lhs], idx[r.rhs], p, fixed, d))
            elif r.op == "~~":
                S.append((idx[r.lhs], idx[r.rhs], p, fixed, -1))
                if r.lhs != r.rhs:
                    S.append((idx[r.rhs], idx[r.lhs], p, fixed, -1))
            elif r.op == "~1":
                m.append((idx[r.lhs], 0, p, fixed, -1))
        n, q = len(names), len(vars_.ov)
        adj = np.zeros((n, n), dtype=bool)
        for (i, j, *_rest) in A:
            adj[j, i] = True   # edge j -> i
        # no directed effect leaves an observed variable and no covariance joins an
        # observed and a latent one (a measurement model with latent regressions)
        block = (n > q and not adj[:q].any()
                 and not any((i < q) != (j < q) for i, j, *_r in S))
        return cls(names, q, int(pt["free"].max() or 0), _entries(A), _entries(S),
                   _entries(m), _longest_path(adj), meanstructure, block,
                   _longest_path(adj[q:, q:]) if block else None)

    @property
    def n_var(self) -> int:
        return len(self.names)

    @property
    def recursive(self) -> bool:
        return self.depth is not None

    def _fill(self, e: _Entries, theta, shape, defvals=None):
        vals = jnp.where(e.param >= 0, theta[np.maximum(e.param, 0)], e.fixed)
        if defvals is not None and (e.data >= 0).any():
            vals = jnp.where(e.data >= 0, defvals[np.maximum(e.data, 0)], vals)
        return jnp.zeros(shape, dtype=theta.dtype).at[e.rows, e.cols].set(vals)

    def matrices(self, theta, defvals=None):
        """(A, S, m) at θ (and one case's definition-variable values)."""
        n = self.n_var
        A = self._fill(self.A, theta, (n, n), defvals)
        S = self._fill(self.S, theta, (n, n))
        m = self._fill(self.m, theta, (n, 1))[:, 0]
        return A, S, m

    def inverse_I_minus_A(self, A):
        return _i_minus_inverse(A, self.depth)

    def implied_all(self, theta, defvals=None):
        """Model-implied covariance matrix and mean vector of *all* variables."""
        A, S, m = self.matrices(theta, defvals)
        B = self.inverse_I_minus_A(A)
        return B @ S @ B.T, B @ m

    def implied(self, theta, defvals=None):
        """(Σ, μ) of the observed variables: B's observed rows B_o first, then
        Σ = (B_o S) B_oᵀ and μ = B_o m (smaller products than ``implied_all``'s).

        **Latent-block form.** Where no directed effect leaves an observed variable and
        no covariance joins an observed and a latent variable (every CFA, and SEMs
        whose regressions are among latent variables: ``latent_block``), the blocks
        A_oo, A_lo, S_ol are zero, so B_oo = I, B_ol = A_ol B_ll with
        B_ll = (I − A_ll)⁻¹ over the latent variables only, and

            Σ = S_oo + (B_ol S_ll) B_olᵀ,      μ = m_o + B_ol m_l.

        On the Holzinger–Swineford CFA the products shrink from 9 × 12 × 12 to
        9 × 3 × 3: ``bootstrap`` of 1000 draws 52–53 → 49 ms, ``fit_many`` of 1000
        frames −6–9 % estimates only, −1–5 % with SEs (in-process A/B, 2026-12-07);
        compile time and the warm single fit unchanged. Both forms equal an explicit
        inverse to 1e-12 (``tests/sem/test_likelihood.py``)."""
        A, S, m = self.matrices(theta, defvals)
        q = self.n_ov
        if self.latent_block:
            Bol = A[:q, q:] @ _i_minus_inverse(A[q:, q:], self.latent_depth)
            return S[:q, :q] + (Bol @ S[q:, q:]) @ Bol.T, m[:q] + Bol @ m[q:]
        Bo = self.inverse_I_minus_A(A)[:q]
        return (Bo @ S) @ Bo.T, Bo @ m

    def jacobian_terms(self, theta):
        """∂Σ/∂θ and ∂μ/∂θ of the observed moments in closed form, as rank-one terms.

        With B = (I − A)⁻¹, C = B S Bᵀ and B_o, C_o their observed rows, an entry
        (r, c) of A, S or m moves the moments by

            ∂Σ/∂A_rc = B_o[:, r] C_o[:, c]ᵀ + C_o[:, c] B_o[:, r]ᵀ,   ∂μ/∂A_rc = B_o[:, r] (B m)_c,
            ∂Σ/∂S_rc = B_o[:, r] B_o[:, c]ᵀ,                          ∂μ/∂m_r  = B_o[:, r],

        and ∂/∂θ_a sums these over the entries that hold θ_a. Returns (Σ, P, Q, T, ∂μ):
        ∂Σ/∂θ_a = Σ_τ T[τ, a] P[:, τ] Q[:, τ]ᵀ (P, Q (q, terms), T a constant 0/1
        matrix (terms, k)) and ∂μ/∂θ (q, k). The expected information needs only the
        bilinear forms Q[:, τ]ᵀ K P[:, σ] of these terms (``SEMProblem.
        expected_information``). Summed, the terms equal ``jax.jacfwd(implied)``
        (``tests/sem/test_likelihood.py``), which pushes k tangents through the matrix
        products, each of them a kernel of its own on XLA's CPU backend: 56-69 µs
        against 10-14 µs per fit on the Holzinger–Swineford CFA. Not for definition
        variables (their entries vary by case)."""
        A, S, m = self.matrices(theta)
        B = self.inverse_I_minus_A(A)
        q, k = self.n_ov, theta.shape[0]
        Bo = B[:q]
        Co = (Bo @ S) @ B.T                                  # C's observed rows
        Bm = B @ m
        ps, qs, which, mcols, mwhich = [], [], [], [], []
        a_, s_, m_ = (e.param >= 0 for e in (self.A, self.S, self.m))
        if a_.any():
            r, c = self.A.rows[a_], self.A.cols[a_]
            u, v = Bo[:, r], Co[:, c]                        # (q, entries)
            ps += [u, v]
            qs += [v, u]
            which += [self.A.param[a_]] * 2
            mcols.append(u * Bm[c][None, :])
            mwhich.append(self.A.param[a_])
        if s_.any():
            ps.append(Bo[:, self.S.rows[s_]])
            qs.append(Bo[:, self.S.cols[s_]])
            which.append(self.S.param[s_])
        if m_.any():
            mcols.append(Bo[:, self.m.rows[m_]])
            mwhich.append(self.m.param[m_])

        def onto_params(idx):                                # term -> parameter
            idx = np.concatenate(idx) if idx else np.zeros(0, int)
            M = np.zeros((len(idx), k))
            M[np.arange(len(idx)), idx] = 1.0
            return M

        def cat(cols):
            return jnp.concatenate(cols, -1) if cols else jnp.zeros((q, 0), theta.dtype)

        dmu = cat(mcols) @ onto_params(mwhich)
        return Co[:, :q], cat(ps), cat(qs), onto_params(which), dmu

    def check_nonsingular(self, theta, names_of_params=None) -> None:
        """Raise SpecificationError if I − A is singular at θ (non-recursive models)."""
        if self.recursive:
            return
        A, _, _ = self.matrices(jnp.asarray(theta))
        M = np.eye(self.n_var) - np.asarray(A)
        if abs(np.linalg.det(M)) < 1e-10 or np.linalg.cond(M) > 1e12:
            raise SpecificationError(
                "I - A is singular at the start values of this non-recursive model (its "
                "feedback loops have a total effect of 1); give other start values, e.g. "
                "start(0.1)*x, for the coefficients on the cycle")
