"""The mixture-of-experts growth-model likelihood, per person.

Within class k, person i's observed outcomes y_o (J_i of them, at times t_i) are

    y_o | x_e, z, class k  ~  N( Λ_o (α_k + B_k x_e) + Z_o κ_k ,  Λ_o Ψ_k Λ_oᵀ + θ_k I ),

Λ_o = Λ(t_i; γ_k) restricted to the observed occasions (definition variables; FIML
through the mask). The J_i × J_i covariance is never factorised: with Ψ = L Lᵀ and
A = Λ_o L, Woodbury's identity and the matrix determinant lemma give

    log|Σ| = J_i log θ + log|M|,        M = I_q + AᵀA / θ  (q × q, always PD),
    rᵀΣ⁻¹r = rᵀr / θ − vᵀ M⁻¹ v / θ²,   v = Aᵀ r,

so a person costs O(J q²) instead of O(J³), and a Ψ that is singular (a variance
estimated at 0) is no problem. With ``experts_likelihood="joint"`` (the paper's model,
as in its OpenMx and Mplus code) the expert covariates have a class-specific normal
distribution and contribute log N(x_e; μx_k, Φ_k); this factorisation
f(y, x_e) = f(x_e) f(y | x_e) is exact. With ``"conditional"`` they are conditioned on.

Gating (multinomial logit; Liu & Perera 2022 eq. 1): log π_ik = log softmax_k(β_k0 +
β_kᵀ x_g,i) with β_1 ≡ 0. The mixture log-likelihood is
ℓ_i = log Σ_k π_ik f_k(y_i), evaluated by log-sum-exp; posterior class probabilities are
p_ik ∝ π_ik f_k(y_i).
"""
from __future__ import annotations

import math

from sem.jaxconfig import jax, jnp
from sem.linalg import tri_solve

LOG2PI = math.log(2.0 * math.pi)


def class_loglik(p: dict, data: dict, curve, joint: bool):
    """Log density of every person's observed data in one class: (n,).

    Written column by column on (n, J) arrays (q ≤ 4 growth factors, so every q × q
    product, the Cholesky factor of M and the solves are unrolled): XLA fuses these
    into a few vectorised loops, about 3x faster than batched q × q matrix algebra
    on a CPU (``bench/trajmix_bench.py``), and vmaps well over starts.
    """
    Y, T, mask = data["Y"], data["T"], data["mask"]
    m = mask.astype(Y.dtype)
    Lam = curve.loadings(T, p["nl"], p["alpha"])                         # n, J, q
    q = Lam.shape[-1]
    col = [Lam[..., f] * m for f in range(q)]                           # masked loadings
    eta = jnp.broadcast_to(p["alpha"], (Y.shape[0], q))
    if "beta" in p:
        eta = eta + data["Xe"] @ p["beta"].T                              # n, q
    mean = sum(col[f] * eta[:, f:f + 1] for f in range(q))
    if "kappa" in p:
        mean = mean + data["Z"] @ p["kappa"]
    r = (Y - mean) * m
    L, theta = p["L"], p["theta"]
    A = [sum(col[g] * L[g, f] for g in range(f, q)) for f in range(q)]  # A = Λ L
    M = [[None] * q for _ in range(q)]                                   # I + AᵀA/θ
    for f in range(q):
        for g in range(f + 1):
            M[f][g] = M[g][f] = jnp.sum(A[f] * A[g], -1) / theta + (1.0 if f == g else 0.0)
    C = _chol_scalars(M)
    v = [jnp.sum(A[f] * r, -1) for f in range(q)]
    w = []
    for i in range(q):                                                   # C w = v
        s = v[i]
        for k in range(i):
            s = s - C[i][k] * w[k]
        w.append(s / C[i][i])
    n_obs = jnp.sum(m, -1)
    logdet_M = 2.0 * sum(jnp.log(C[i][i]) for i in range(q))
    quad = jnp.sum(r * r, -1) / theta - sum(wi * wi for wi in w) / (theta * theta)
    ll = -0.5 * (n_obs * LOG2PI + n_obs * jnp.log(theta) + logdet_M + quad)
    if joint and "mux" in p:
        ll = ll + _mvn_logpdf(data["Xe"], p["mux"], p["Lphi"])
    return jnp.where(jnp.isfinite(ll), ll, -jnp.inf)


def _chol_scalars(M):
    """Cholesky factor of a q × q matrix given as nested lists of (n,) arrays."""
    q = len(M)
    C = [[None] * q for _ in range(q)]
    for j in range(q):
        s = M[j][j]
        for k in range(j):
            s = s - C[j][k] * C[j][k]
        C[j][j] = jnp.sqrt(s)
        for i in range(j + 1, q):
            s = M[i][j]
            for k in range(j):
                s = s - C[i][k] * C[j][k]
            C[i][j] = s / C[j][j]
    return C


def _mvn_logpdf(X, mu, Lphi):
    """log N(x; μ, Φ) for rows of X with Φ = Lφ Lφᵀ."""
    z = tri_solve(Lphi, (X - mu).T)                                      # p, n
    logdet = 2.0 * jnp.sum(jnp.log(jnp.abs(jnp.diagonal(Lphi))))
    return -0.5 * (X.shape[1] * LOG2PI + logdet + jnp.sum(z * z, 0))


def log_prior(layout, theta, data):
    """log π_ik (n, K) from the gating network."""
    n = data["Y"].shape[0]
    if layout.K == 1:
        return jnp.zeros((n, 1), dtype=data["Y"].dtype)
    G = layout.gate(theta)                                               # K, 1 + p_g
    X1 = jnp.concatenate([jnp.ones((n, 1), dtype=data["Y"].dtype), data["Xg"]], 1)
    return jax.nn.log_softmax(X1 @ G.T, axis=-1)


def joint_terms(layout, curve, theta, data, joint: bool):
    """log π_ik + log f_k(y_i) for all persons and classes: (n, K).

    The classes' parameters are stacked and ``class_loglik`` is mapped over them
    (``vmap``): the program holds one copy of the class likelihood instead of K, which
    halves the compile time of a two-class mixture of experts (every model structure
    compiles anew) at the same run time."""
    per_class = [layout.unpack_class(theta, k) for k in range(layout.K)]
    stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *per_class)
    cols = jax.vmap(lambda p: class_loglik(p, data, curve, joint))(stacked)   # K, n
    return log_prior(layout, theta, data) + cols.T


def loglik_cases(layout, curve, theta, data, joint: bool):
    return jax.scipy.special.logsumexp(joint_terms(layout, curve, theta, data, joint), -1)


def posterior(layout, curve, theta, data, joint: bool):
    return jax.nn.softmax(joint_terms(layout, curve, theta, data, joint), -1)
