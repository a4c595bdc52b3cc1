"""The flat parameter vector θ of a growth mixture: its blocks, names and unpacking.

Per class k (reparametrised space of the curve):

* ``alpha``   (q)          growth-factor intercepts (means when there are no experts)
* ``nl``      (m)          nonlinear curve parameters (knot, rate), class-specific
* ``psi``     (q(q+1)/2)   lower Cholesky factor L of the residual growth-factor
                           covariance Ψ = L Lᵀ (entries unconstrained; column signs are
                           made canonical after fitting)
* ``logtheta`` ()          log of the residual variance θ of the outcomes
* ``beta``    (q, p_e)     expert regressions of the growth factors on x_e
* ``mux``, ``phi`` (p_e, p_e(p_e+1)/2)  mean and Cholesky factor of the class-specific
                           normal distribution of x_e (``experts_likelihood="joint"``)
* ``kappa``   (p_z)        direct effects of time-varying covariates on the outcome

and the gating network ``gate`` (K − 1, 1 + p_g): multinomial-logit coefficients of
classes 2..K against class 1 (fixed at 0). With ``invariant=("psi", "theta")`` a block
is shared by all classes (stored once).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sem.jaxconfig import jnp


@dataclass(frozen=True)
class Block:
    name: str
    cls: int | None         # class index (0-based) or None for shared blocks
    shape: tuple
    start: int

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1


class Layout:
    def __init__(self, *, K: int, q: int, m: int, pg: int, pe: int, pz: int,
                 joint: bool, invariant=(), q_mean: int | None = None):
        self.K, self.q, self.m, self.pg, self.pe, self.pz = K, q, m, pg, pe, pz
        # factors with a free mean: a random nonlinear parameter's deviation has mean 0
        self.q_mean = q if q_mean is None else q_mean
        self.joint, self.invariant = joint, tuple(invariant)
        blocks: list[Block] = []
        pos = 0

        def add(name, cls, shape):
            nonlocal pos
            b = Block(name, cls, shape, pos)
            blocks.append(b)
            pos += b.size

        ntri = q * (q + 1) // 2
        for k in range(K):
            add("alpha", k, (self.q_mean,))
            if m:
                add("nl", k, (m,))
            if "psi" not in invariant or k == 0:
                add("psi", None if "psi" in invariant else k, (ntri,))
            if "theta" not in invariant or k == 0:
                add("logtheta", None if "theta" in invariant else k, ())
            if pe:
                add("beta", k, (self.q_mean, pe))
                if joint:
                    add("mux", k, (pe,))
                    add("phi", k, (pe * (pe + 1) // 2,))
            if pz:
                add("kappa", k, (pz,))
        if K > 1:
            add("gate", None, (K - 1, 1 + pg))
        self.blocks = blocks
        self.size = pos
        self.tri = np.tril_indices(q)
        self.tri_e = np.tril_indices(pe)

    def key(self):
        return (self.K, self.q, self.q_mean, self.m, self.pg, self.pe, self.pz, self.joint,
                self.invariant)

    def find(self, name, k):
        for b in self.blocks:
            if b.name == name and (b.cls == k or b.cls is None):
                return b
        return None

    def get(self, theta, name, k):
        b = self.find(name, k)
        v = theta[b.start:b.start + b.size]
        return v.reshape(b.shape) if b.shape else v[0]

    def chol(self, vec, p, tri):
        return jnp.zeros((p, p), dtype=vec.dtype).at[tri].set(vec)

    def unpack_class(self, theta, k) -> dict:
        """The parameters of class k as arrays (Ψ and Φ as Cholesky factors)."""
        alpha = self.get(theta, "alpha", k)
        if self.q_mean < self.q:
            alpha = jnp.concatenate([alpha, jnp.zeros(self.q - self.q_mean, alpha.dtype)])
        out = {"alpha": alpha,
               "L": self.chol(self.get(theta, "psi", k), self.q, self.tri),
               "theta": jnp.exp(self.get(theta, "logtheta", k))}
        out["nl"] = self.get(theta, "nl", k) if self.m else jnp.zeros(0)
        if self.pe:
            beta = self.get(theta, "beta", k)
            if self.q_mean < self.q:
                beta = jnp.concatenate([beta, jnp.zeros((self.q - self.q_mean, self.pe),
                                                        beta.dtype)])
            out["beta"] = beta
            if self.joint:
                out["mux"] = self.get(theta, "mux", k)
                out["Lphi"] = self.chol(self.get(theta, "phi", k), self.pe, self.tri_e)
        if self.pz:
            out["kappa"] = self.get(theta, "kappa", k)
        return out

    def gate(self, theta):
        """(K, 1 + p_g) gating coefficients with class 1's row fixed at 0."""
        g = self.get(theta, "gate", None)
        return jnp.concatenate([jnp.zeros((1, 1 + self.pg), dtype=theta.dtype), g], 0)

    # -- names ---------------------------------------------------------------------
    def names(self, factors, nonlinear, experts, gating, tvc) -> list[str]:
        out = [""] * self.size
        for b in self.blocks:
            c = "all" if b.cls is None else f"c{b.cls + 1}"
            if b.name == "alpha":
                labels = [f"{c}.alpha.{f}" for f in factors[:self.q_mean]]
            elif b.name == "nl":
                labels = [f"{c}.{v}" for v in nonlinear]
            elif b.name == "psi":
                labels = [f"{c}.L.{factors[i]}.{factors[j]}" for i, j in zip(*self.tri)]
            elif b.name == "logtheta":
                labels = [f"{c}.log_theta"]
            elif b.name == "beta":
                labels = [f"{c}.beta.{f}~{x}" for f in factors[:self.q_mean] for x in experts]
            elif b.name == "mux":
                labels = [f"{c}.mux.{x}" for x in experts]
            elif b.name == "phi":
                labels = [f"{c}.Lphi.{experts[i]}.{experts[j]}" for i, j in zip(*self.tri_e)]
            elif b.name == "kappa":
                labels = [f"{c}.kappa.{z}" for z in tvc]
            else:
                labels = [f"gate.c{k + 2}.{v}" for k in range(self.K - 1)
                          for v in ["(Intercept)"] + list(gating)]
            out[b.start:b.start + b.size] = labels
        return out

    def positive_mask(self) -> np.ndarray:
        return np.zeros(self.size, dtype=bool)
