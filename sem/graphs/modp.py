"""Linear algebra over the prime field GF(p) and lifting of residues to rationals.

Used by the vanishing-ideal search and the exact Jacobian rank: matrices of residues in
[0, p) as int64, p < 2³¹ so that a product of two residues fits in int64.
"""
from __future__ import annotations

from fractions import Fraction
from math import gcd, isqrt

import numpy as np

#: The Mersenne prime 2³¹ − 1.
PRIME = 2_147_483_647


def inv_mod(a: int, p: int = PRIME) -> int:
    a = int(a) % p
    if a == 0:
        raise ZeroDivisionError("0 has no inverse mod p")
    return pow(a, p - 2, p)


def matmul_mod(A: np.ndarray, B: np.ndarray, p: int = PRIME) -> np.ndarray:
    """A @ B mod p for residue matrices (..., m, k) @ (..., k, r), exact (the inner sum
    accumulates with a reduction after every product)."""
    A = np.asarray(A, np.int64) % p
    B = np.asarray(B, np.int64) % p
    out = np.zeros(np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
                   + (A.shape[-2], B.shape[-1]), np.int64)
    for t in range(A.shape[-1]):
        out = (out + A[..., :, t:t + 1] * B[..., t:t + 1, :] % p) % p
    return out


def rref_mod(M: np.ndarray, p: int = PRIME):
    """Reduced row echelon form of M mod p; returns (R, pivot columns)."""
    R = np.asarray(M, np.int64) % p
    rows, cols = R.shape
    pivots, r = [], 0
    for c in range(cols):
        if r == rows:
            break
        nz = np.nonzero(R[r:, c])[0]
        if not len(nz):
            continue
        k = r + int(nz[0])
        if k != r:
            R[[r, k]] = R[[k, r]]
        R[r] = R[r] * inv_mod(R[r, c], p) % p
        f = R[:, c].copy()
        f[r] = 0
        nzr = np.nonzero(f)[0]
        if len(nzr):
            R[nzr] = (R[nzr] - f[nzr, None] * R[r][None, :] % p) % p
        pivots.append(c)
        r += 1
    return R, pivots


def rank_mod(M: np.ndarray, p: int = PRIME) -> int:
    return len(rref_mod(M, p)[1])


def nullspace_mod(M: np.ndarray, p: int = PRIME) -> np.ndarray:
    """Basis (k, cols) of {x : M x = 0 mod p}: one vector per free column, with a 1 there
    and −R[row, free] at the pivots (the RREF kernel basis)."""
    R, piv = rref_mod(M, p)
    cols = R.shape[1]
    free = [c for c in range(cols) if c not in set(piv)]
    out = np.zeros((len(free), cols), np.int64)
    for k, f in enumerate(free):
        out[k, f] = 1
        for r, c in enumerate(piv):
            out[k, c] = (-R[r, f]) % p
    return out


def rational_reconstruct(a: int, p: int = PRIME) -> Fraction | None:
    """The fraction u/v with |u|, |v| ≤ √(p/2) and u ≡ a·v (mod p), if any (Wang)."""
    a = int(a) % p
    bound = isqrt(p // 2)
    r0, r1, s0, s1 = p, a, 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1, s0, s1 = r1, r0 - q * r1, s1, s0 - q * s1
    if s1 == 0 or abs(s1) > bound or gcd(r1, abs(s1)) != 1:
        return None
    return Fraction(r1, s1)


def lift_vector(v: np.ndarray, p: int = PRIME) -> list[int] | None:
    """A primitive integer vector proportional to the residue vector v (by rational
    reconstruction of each entry), or None if some entry does not reconstruct."""
    fr = []
    for x in v:
        f = rational_reconstruct(int(x), p)
        if f is None:
            return None
        fr.append(f)
    den = 1
    for f in fr:
        den = den * f.denominator // gcd(den, f.denominator)
    ints = [int(f * den) for f in fr]
    g = 0
    for x in ints:
        g = gcd(g, abs(x))
    return [x // g for x in ints] if g else ints
