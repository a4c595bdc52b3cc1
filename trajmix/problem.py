"""A growth mixture as an estimation problem for the shared engine (``sem.protocol``)."""
from __future__ import annotations

import numpy as np

from sem.jaxconfig import jnp

from . import likelihood as lik
from .layout import Layout


class GrowthProblem:
    """θ → per-person log-likelihood of a K-class mixture of experts."""

    precondition = True   # badly scaled: start BFGS from a Jacobi preconditioner
    hessian = "fd"        # central differences of the exact gradient (sem.estimation)

    def __init__(self, layout: Layout, curve, joint: bool, names):
        self.layout, self.curve, self.joint = layout, curve, joint
        self.param_names = list(names)
        self.n_params = layout.size
        self.positive = layout.positive_mask()

    def cache_key(self):
        return ("growth", self.curve, self.layout.key())

    def loglik_cases(self, theta, data):
        return lik.loglik_cases(self.layout, self.curve, theta, data, self.joint)

    def loglik(self, theta, data):
        ll = self.loglik_cases(theta, data)
        w = data["w"]
        # padded persons (weight 0) never contribute, even with a non-finite value
        return jnp.sum(jnp.where(w > 0, w * ll, 0.0))

    def posterior(self, theta, data):
        return lik.posterior(self.layout, self.curve, theta, data, self.joint)

    def class_prior(self, theta, data):
        return jnp.exp(lik.log_prior(self.layout, theta, data))


def permute_classes(layout: Layout, theta: np.ndarray, perm) -> np.ndarray:
    """θ with classes reordered (new class j = old class perm[j]); the gating network
    is re-expressed against the new first class."""
    theta = np.asarray(theta, dtype=float)
    out = theta.copy()
    for b in layout.blocks:
        if b.cls is None or b.name == "gate":
            continue
        src = layout.find(b.name, perm[b.cls])
        out[b.start:b.start + b.size] = theta[src.start:src.start + src.size]
    if layout.K > 1:
        g = layout.find("gate", None)
        G = np.vstack([np.zeros((1, 1 + layout.pg)),
                       theta[g.start:g.start + g.size].reshape(layout.K - 1, -1)])
        G = G[list(perm)]
        G = G - G[0]
        out[g.start:g.start + g.size] = G[1:].ravel()
    return out


def canonical_signs(layout: Layout, theta: np.ndarray) -> np.ndarray:
    """Flip the columns of every Cholesky factor so that its diagonal is ≥ 0
    (Ψ = L Lᵀ is unchanged; this fixes the factor for inference)."""
    out = np.asarray(theta, dtype=float).copy()
    for b in layout.blocks:
        if b.name not in ("psi", "phi"):
            continue
        p = layout.q if b.name == "psi" else layout.pe
        tri = layout.tri if b.name == "psi" else layout.tri_e
        L = np.zeros((p, p))
        L[tri] = out[b.start:b.start + b.size]
        s = np.where(np.diag(L) < 0, -1.0, 1.0)
        out[b.start:b.start + b.size] = (L * s[None, :])[tri]
    return out
