"""Log-ratio transforms of compositions and their inverses (Aitchison 1986).

Notation: a composition x has D strictly positive parts, l = log x, 1 = ones(D),
G = I_D - 11ᵀ/D (the centring matrix). Tables have shape (n, D), rows = samples.

- closure   C(x) = x / Σ_k x_k
- clr       clr(x) = G l                       (D values summing to 0)
- alr_r     alr_r(x) = (log(x_i / x_r))_{i≠r}  (D-1 values; reference part r)
- ilr_V     ilr(x) = Vᵀ clr(x)                 (D-1 values; V a D×(D-1) orthonormal
                                                basis of 1^⊥: VᵀV = I, VVᵀ = G)

All are invariant to closure (x and c·x give the same log-ratios). The inverses
return closed compositions (rows summing to ``total``, 1 by default).

Pandas in, pandas out: a DataFrame of parts gives a DataFrame with the same index;
numpy in, numpy out. Sources: Aitchison (1986) *The Statistical Analysis of
Compositional Data*, ch. 4-5; Egozcue, Pawlowsky-Glahn, Mateu-Figueras & Barceló-Vidal
(2003) Math. Geology 35:279-300 for ilr and the Helmert-type basis.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ._inputs import out_table, part_positions, read_parts, read_real


def closure(X: Any, total: float = 1.0) -> Any:
    """C(x) = total · x / Σ_k x_k, row by row. Shape (n, D) → (n, D).

    Zeros are allowed here (closure needs only non-negative parts with a positive sum).
    """
    P = read_parts(X, positive=False, min_parts=1)
    s = P.values.sum(axis=1, keepdims=True)
    if np.any(s <= 0):
        bad = [P.rows[i] for i in np.flatnonzero(s[:, 0] <= 0)]
        raise DataError(f"X: rows {bad!r} sum to zero; they cannot be closed")
    return out_table(total * P.values / s, P)


def _clr_values(values: np.ndarray) -> np.ndarray:
    l = np.log(values)
    return l - l.mean(axis=1, keepdims=True)


def clr(X: Any) -> Any:
    """Centred log-ratio clr(x)_i = log(x_i / g(x)), g(x) = (Π_k x_k)^{1/D}.

    Shape (n, D) → (n, D); each row sums to 0. Same labels as the input.
    """
    P = read_parts(X)
    return out_table(_clr_values(P.values), P)


def _closed_exp(Z: np.ndarray, total: float) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=1, keepdims=True))  # shift for overflow safety
    return total * E / E.sum(axis=1, keepdims=True)


def clr_inv(Z: Any, total: float = 1.0) -> Any:
    """Inverse clr: C(exp(z)). Shape (n, D) → (n, D), rows summing to ``total``.

    Any real z is accepted; z and z + c·1 give the same composition.
    """
    P = read_real(Z, name="Z")
    return out_table(_closed_exp(P.values, total), P)


def alr(X: Any, ref: Any = -1) -> Any:
    """Additive log-ratio with reference part r: alr_r(x)_i = log(x_i / x_r), i ≠ r.

    ``ref``: the reference part, by label or position (default: the last part, as in
    Aitchison 1986 and R ``compositions::alr``). Shape (n, D) → (n, D-1); the columns
    are the other parts in their original order. A DataFrame result records the
    reference in ``.attrs["alr_reference"]`` and ``.attrs["alr_position"]`` so that
    :func:`alr_inv` can restore it.
    """
    P = read_parts(X)
    (r,) = part_positions(P, ref, what="reference part")
    l = np.log(P.values)
    keep = [k for k in range(P.D) if k != r]
    out = out_table(l[:, keep] - l[:, [r]], P, columns=P.parts[keep])
    if isinstance(out, pd.DataFrame):
        out.attrs.update(alr_reference=P.parts[r], alr_position=r)
    return out


def alr_inv(Y: Any, ref: int | None = None, name: Any = None, total: float = 1.0) -> Any:
    """Inverse alr: insert log-ratio 0 for the reference at position ``ref``, then
    C(exp(·)). Shape (n, D-1) → (n, D).

    ``ref``: the reference's position in the output (default: from ``Y.attrs`` when Y
    came from :func:`alr`, else last). ``name``: its label (default: from ``Y.attrs``,
    else ``"ref"``).
    """
    P = read_real(Y, name="Y")
    attrs = getattr(Y, "attrs", {}) or {}
    pos = attrs.get("alr_position", -1) if ref is None else ref
    D = P.D + 1
    if not -D <= pos < D:
        raise DataError(f"ref position {pos} is outside 0..{D - 1}")
    pos %= D
    Z = np.insert(P.values, pos, 0.0, axis=1)
    label = attrs.get("alr_reference", "ref") if name is None else name
    columns = P.parts.insert(pos, label) if P.kind in ("frame", "series") else None
    return out_table(_closed_exp(Z, total), P, columns=columns)


def helmert_basis(D: int) -> np.ndarray:
    """The Helmert-type orthonormal basis of 1^⊥ in R^D, shape (D, D-1).

    Column k (k = 1..D-1) is sqrt(k/(k+1)) · (1/k, ..., 1/k, -1, 0, ..., 0) with k
    entries 1/k, so that ilr_k(x) = sqrt(k/(k+1)) · log( g(x_1..x_k) / x_{k+1} )
    (Egozcue et al. 2003; the default of scikit-bio's ``ilr`` and coda.base's
    ``ilr_basis(type="default")``).
    """
    if int(D) != D or D < 2:
        raise DataError(f"an ilr basis needs D >= 2 parts; got {D!r}")
    D = int(D)
    V = np.zeros((D, D - 1))
    for k in range(1, D):
        V[:k, k - 1] = 1.0 / k
        V[k, k - 1] = -1.0
        V[:, k - 1] *= np.sqrt(k / (k + 1.0))
    return V


def sbp_basis(signs: Any) -> np.ndarray:
    """Orthonormal basis from a sequential binary partition (Egozcue &
    Pawlowsky-Glahn 2005, Math. Geology 37:795-828).

    ``signs``: (D-1, D) array of +1 / -1 / 0; row k splits r parts (+1) against s
    parts (-1). Balance k = sqrt(rs/(r+s)) · log( g(x_+) / g(x_-) ), i.e. clr
    coefficients +sqrt(s/(r(r+s))) on the + parts and -sqrt(r/(s(r+s))) on the -
    parts. Returns V of shape (D, D-1); raises ``DataError`` if the rows do not form
    a binary partition (the result would not be orthonormal).
    """
    S = np.asarray(signs, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] != S.shape[1] - 1 or not np.isin(S, (-1, 0, 1)).all():
        raise DataError("signs must be a (D-1, D) array of +1, -1 and 0")
    r, s = (S > 0).sum(axis=1).astype(float), (S < 0).sum(axis=1).astype(float)
    if np.any(r == 0) or np.any(s == 0):
        raise DataError("every row of a binary partition needs both + and - parts")
    V = (np.where(S > 0, np.sqrt(s / (r * (r + s)))[:, None], 0.0)
         - np.where(S < 0, np.sqrt(r / (s * (r + s)))[:, None], 0.0)).T
    return check_basis(V, S.shape[1])


def check_basis(basis: Any, D: int) -> np.ndarray:
    """Return a user basis as a (D, D-1) array after checking VᵀV = I and Vᵀ1 = 0
    (to 1e-10). A (D-1, D) array (rows as basis vectors, scikit-bio's layout) is
    transposed."""
    V = np.asarray(basis, dtype=np.float64)
    if V.shape == (D - 1, D):
        V = V.T
    if V.shape != (D, D - 1):
        raise DataError(f"an ilr basis for {D} parts has shape ({D}, {D - 1}); "
                        f"got {V.shape}")
    if not np.all(np.isfinite(V)):
        raise DataError("the ilr basis has non-finite entries")
    off_sum = np.abs(V.sum(axis=0)).max()
    off_orth = np.abs(V.T @ V - np.eye(D - 1)).max()
    if off_sum > 1e-10 or off_orth > 1e-10:
        raise DataError(
            "the ilr basis must be orthonormal and orthogonal to 1 (columns summing to "
            f"0): max |Vᵀ1| = {off_sum:.2e}, max |VᵀV - I| = {off_orth:.2e}")
    return V


def ilr(X: Any, basis: Any = None) -> Any:
    """Isometric log-ratio ilr(x) = Vᵀ clr(x). Shape (n, D) → (n, D-1).

    ``basis``: None for :func:`helmert_basis`, or a (D, D-1) orthonormal basis of 1^⊥
    (e.g. from :func:`sbp_basis`). Columns are named ``ilr1 .. ilr{D-1}``; a DataFrame
    result keeps the part labels in ``.attrs["ilr_parts"]`` for :func:`ilr_inv`.
    """
    P = read_parts(X)
    V = helmert_basis(P.D) if basis is None else check_basis(basis, P.D)
    cols = pd.Index([f"ilr{k}" for k in range(1, P.D)])
    out = out_table(_clr_values(P.values) @ V, P, columns=cols)
    if isinstance(out, (pd.DataFrame, pd.Series)):
        out.attrs["ilr_parts"] = list(P.parts)
    return out


def ilr_inv(Y: Any, basis: Any = None, parts: Any = None, total: float = 1.0) -> Any:
    """Inverse ilr: C(exp(V y)). Shape (n, D-1) → (n, D).

    ``basis`` as in :func:`ilr` (it must be the one used forward). ``parts``: labels of
    the D parts (default: ``Y.attrs["ilr_parts"]`` when Y came from :func:`ilr`, else
    ``x1 .. xD``).
    """
    P = read_real(Y, name="Y")
    D = P.D + 1
    V = helmert_basis(D) if basis is None else check_basis(basis, D)
    if parts is None:
        parts = (getattr(Y, "attrs", {}) or {}).get("ilr_parts")
    if parts is None:
        parts = [f"x{k}" for k in range(1, D + 1)]
    if len(parts) != D:
        raise DataError(f"parts: {D} labels needed; got {len(parts)}")
    return out_table(_closed_exp(P.values @ V.T, total), P, columns=pd.Index(parts))
