"""The two reference models of the fit measures: unrestricted (h1) and independence.

Complete data: both in closed form. With missing values (FIML):

* the unrestricted model (free μ and Σ) is fitted by FIML with the engine of
  ``sem.estimation`` on θ = (μ, vech L), Σ = L Lᵀ with a positive diagonal, starting
  from the pairwise moments (lavaan fits its h1 by EM; the optimum is the same);
* the independence model (free means and variances, no covariances) factorises over
  variables, so its FIML estimates are each variable's available-case mean and (biased)
  variance and its log-likelihood is a sum of univariate normal terms.
"""
from __future__ import annotations

import numpy as np

from .estimation import cached_jit, maximize
from .jaxconfig import jax, jnp
from .likelihoods import LOG2PI, mvn_loglik_cases, mvn_loglik_total
from .linalg import vech_indices
from .starts import sample_moments


class UnrestrictedProblem:
    def __init__(self, p: int):
        self.p = p
        self.rows, self.cols = vech_indices(p)
        self.n_params = p + len(self.rows)
        self.param_names = [f"mu{i}" for i in range(p)] + [
            f"L{i}{j}" for i, j in zip(self.rows, self.cols)]
        self.positive = np.r_[np.zeros(p, bool), self.rows == self.cols]

    def cache_key(self):
        return ("unrestricted", self.p)

    def moments(self, theta):
        p = self.p
        L = jnp.zeros((p, p), dtype=theta.dtype).at[self.rows, self.cols].set(theta[p:])
        return L @ L.T, theta[:p]

    def loglik(self, theta, data):
        S, mu = self.moments(theta)
        return mvn_loglik_total(S, mu, data)

    def loglik_cases(self, theta, data):
        S, mu = self.moments(theta)
        return mvn_loglik_cases(S, mu, data)

    def start(self, data):
        S, mu = sample_moments(data)
        ev, vec = np.linalg.eigh(S)
        S = (vec * np.maximum(ev, 1e-3 * max(ev.max(), 1e-8))) @ vec.T
        L = np.linalg.cholesky(S)
        return np.r_[mu, L[self.rows, self.cols]]


def complete_moments(data):
    Y, w = data["Y"], data["w"]
    mu = w @ Y / w.sum()
    S = ((Y - mu) * w[:, None]).T @ (Y - mu) / w.sum()
    return S, mu


def unrestricted(data: dict):
    """(log-likelihood, Σ̂, μ̂, converged) of the unrestricted normal model."""
    p = data["Y"].shape[1]
    n = data["w"].sum()
    if data["patterns"].shape[0] == 1 and data["patterns"].all():
        S, mu = complete_moments(data)
        sign, logdet = np.linalg.slogdet(S)
        return -0.5 * n * (p * LOG2PI + logdet + p), S, mu, True
    prob = UnrestrictedProblem(p)
    opt = maximize(prob, data, prob.start(data)[None, :])
    S, mu = prob.moments(jnp.asarray(opt.theta))
    return opt.llf, np.asarray(S), np.asarray(mu), opt.converged


def independence_loglik(data: dict, cols) -> float:
    """Log-likelihood of independent normals for the columns ``cols`` (FIML)."""
    Y, obs, w = data["Y"][:, cols], data["obs"][:, cols], data["w"]
    ll = 0.0
    for j in range(Y.shape[1]):
        o = obs[:, j]
        wj = w[o]
        y = Y[o, j]
        m = wj @ y / wj.sum()
        v = wj @ (y - m) ** 2 / wj.sum()
        ll += -0.5 * wj.sum() * (LOG2PI + np.log(v) + 1.0)
    return float(ll)


def column_block(data: dict, cols) -> dict:
    """The data of the columns ``cols`` only (cases that observe none of them
    dropped, missingness patterns recomputed)."""
    from .data import patterns_of

    sub = {"Y": data["Y"][:, cols], "obs": data["obs"][:, cols], "w": data["w"]}
    keep = sub["obs"].any(1)
    sub = {k: v[keep] for k, v in sub.items()}
    pats, pid = patterns_of(sub["obs"])
    onehot = np.zeros((len(pid), len(pats)))
    onehot[np.arange(len(pid)), pid] = 1.0
    sub.update(onehot=onehot, patterns=pats)
    return sub


def column_roles(vars_) -> tuple[list, list, list]:
    """Column indices of the observed variables by their role in the fit measures:
    (fixed covariates (``fixed_x``), free covariates (``fixed_x=False``), the rest)."""
    ov = list(vars_.ov)
    xcols = [ov.index(v) for v in vars_.ov_x]
    xfree = [ov.index(v) for v in vars_.ov_x_free]
    ycols = [i for i in range(len(ov)) if i not in xcols and i not in xfree]
    return xcols, xfree, ycols


def baseline_loglik(data: dict, ycols, xfree) -> float:
    """lavaan's baseline model: the variables ``ycols`` independent, the free
    covariates ``xfree`` a saturated block (fixed covariates are conditioned on)."""
    return independence_loglik(data, ycols) + block_loglik(data, xfree)


def block_loglik(data: dict, cols) -> float:
    """Unrestricted log-likelihood of a block of columns (exogenous covariates)."""
    if len(cols) == 0:
        return 0.0
    return float(unrestricted(column_block(data, cols))[0])



def unrestricted_derivatives(data: dict):
    """At the unrestricted (FIML) optimum, in the Cholesky form θ = (μ, vech L): the
    per-case scores (n, k), the Hessian of the log-likelihood (k, k) and the Jacobian
    of (μ, vech Σ) in θ (k, k), by JAX, one compiled program per p."""
    p = data["Y"].shape[1]
    prob = UnrestrictedProblem(p)
    rows, cols = prob.rows, prob.cols

    def make():
        def moments(u):
            Sg, m = prob.moments(u)
            return jnp.concatenate([m, Sg[rows, cols]])

        return lambda t, d: (jax.jacfwd(prob.loglik_cases)(t, d),
                             jax.hessian(prob.loglik)(t, d), jax.jacfwd(moments)(t))

    _, S, mu, _ = unrestricted(data)
    th = jnp.asarray(np.r_[mu, np.linalg.cholesky(S)[rows, cols]])
    out = cached_jit(("unrestricted-derivatives", p), make)(
        th, {k: jnp.asarray(v) for k, v in data.items()})
    return tuple(np.asarray(a) for a in out)


def unrestricted_variances(data: dict) -> tuple[np.ndarray, np.ndarray]:
    """Sampling variances of the unrestricted estimates under normality: (p,) for ȳ
    and (p, p) for the covariances s_ij. Complete data in closed form, s_ii / N and
    (s_ij² + s_ii s_jj) / N; with missing values from the inverse observed
    information of the FIML fit, carried from the Cholesky form to (μ, Σ) by its
    Jacobian (lavaan's h1 ACOV under ``missing = "ml"``)."""
    _, S, _, _ = unrestricted(data)
    N = float(np.sum(data["w"]))
    p = S.shape[0]
    if data["patterns"].shape[0] == 1 and data["patterns"].all():
        d = np.diag(S)
        return d / N, (S * S + np.outer(d, d)) / N
    _, H, J = unrestricted_derivatives(data)
    v = np.einsum("ij,ij->i", J, np.linalg.solve(-H, J.T).T)
    rows, cols = vech_indices(p)
    V = np.zeros((p, p))
    V[rows, cols] = v[p:]
    return v[:p], V + np.tril(V, -1).T
