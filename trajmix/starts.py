"""Data-driven start values for growth mixtures (after nlpsem 0.4, §1.7 of the notes).

1. Per-person pseudo growth factors: OLS of each person's outcomes on the curve's basis
   (original parametrisation), for a grid of candidate nonlinear values; the pooled best
   value is the anchor, and every person also gets their own best grid value.
2. k-means on the standardised pseudo factors (and person-level nonlinear values) gives
   provisional classes; each start uses k-means with its own seed.
3. Per provisional class: the class's best nonlinear value, the mean and covariance of
   the pseudo factors (mapped to the estimated space), expert regressions by OLS,
   the covariates' class means and covariances, the residual variance from the
   per-person residuals.
4. Gating starts: a multinomial logit of the provisional labels on the gating
   covariates, shrunk by 0.7 toward the intercept-only logits (nlpsem); without
   covariates log(p_k / p_1).

Later starts are jittered by U(0.9, 1.1) (the authors' simulation scripts start at
the population values × U(0.9, 1.1)).
"""
from __future__ import annotations

import numpy as np



def _person_ols(B, Y, mask, ridge=1e-6):
    """Per-person OLS coefficients (n, q) and residual sums of squares (n,)."""
    m = mask.astype(float)
    Bm = B * m[..., None]
    G = np.einsum("njq,njr->nqr", Bm, Bm) + ridge * np.eye(B.shape[-1])
    b = np.linalg.solve(G, np.einsum("njq,nj->nq", Bm, Y * m)[..., None])[..., 0]
    res = (Y - np.einsum("njq,nq->nj", B, b)) * m
    return b, (res ** 2).sum(1)


class PseudoFactors:
    """Per-person OLS growth factors on a grid of nonlinear values, computed once per
    data set and shared by every start."""

    def __init__(self, curve, arrays):
        Y, T, mask = arrays["Y"], arrays["T"], arrays["mask"]
        self.curve = curve
        grid = curve.nonlinear_grid(np.where(mask, T, np.nan))
        self.grid = grid if grid.size else np.zeros(1)
        fits = [_person_ols(curve.basis(T, (g,) if grid.size else ()), Y, mask)
                for g in self.grid]
        self.b = np.stack([f[0] for f in fits])                    # G, n, q0
        self.sse = np.stack([f[1] for f in fits])                  # G, n
        self.has_nl = bool(grid.size)
        q0 = self.b.shape[-1]
        self.dof = np.maximum(mask.sum(1) - q0 - (1 if self.has_nl else 0), 1)
        self.best = np.argmin(self.sse, axis=0)                    # person-level grid value

    def features(self, kind: str, arrays=None) -> np.ndarray:
        """Standardised features for k-means: "factors" (person growth factors at the
        pooled nonlinear value), "factors+nl" (at each person's own value, with it),
        "outcomes" (the outcome vectors, gaps filled from the person's own curve)."""
        n = self.b.shape[1]
        if kind == "factors":
            g = int(np.argmin(self.sse.sum(1)))
            f = self.b[g]
        elif kind == "factors+nl":
            f = self.b[self.best, np.arange(n)]
            if self.has_nl:
                f = np.column_stack([f, self.grid[self.best]])
        else:
            g = int(np.argmin(self.sse.sum(1)))
            B = self.curve.basis(arrays["T"], (self.grid[g],) if self.has_nl else ())
            fitted = np.einsum("njq,nq->nj", B, self.b[g])
            f = np.where(arrays["mask"], arrays["Y"], fitted)
        return (f - f.mean(0)) / (f.std(0) + 1e-12)

    def for_class(self, members):
        """(nonlinear value, factors (n_k, q0), residual variances, person values)."""
        g = int(np.argmin(self.sse[:, members].sum(1))) if self.has_nl else 0
        nl = (float(self.grid[g]),) if self.has_nl else ()
        s2 = self.sse[g, members] / self.dof[members]
        return nl, self.b[g, members], s2, self.grid[self.best[members]]


def _to_estimated(curve, g):
    """G with η_estimated = G η_original (bilinear spline: value at the knot and the
    half-sum/half-difference of the slopes)."""
    q0 = len(curve.factors)
    if curve.name != "bilinear_spline":
        return np.eye(q0)
    return np.array([[1.0, g, 0.0], [0.0, 0.5, 0.5], [0.0, -0.5, 0.5]])


def _psd(S, floor=1e-6):
    S = 0.5 * (S + S.T)
    ev, vec = np.linalg.eigh(S)
    return (vec * np.maximum(ev, floor * max(1.0, ev.max()))) @ vec.T


def class_start(pf: PseudoFactors, arrays, members, *, experts: bool, joint: bool, pz: int):
    """Start values of one class from the persons in ``members`` (bool mask)."""
    curve = pf.curve
    nl, b, s2, gi = pf.for_class(members)
    G = _to_estimated(curve, nl[0] if nl else 0.0)
    eta = b @ G.T                                                  # estimated space
    out = {"nl": np.array(nl)}
    Xe = arrays["Xe"][members]
    if experts and Xe.shape[1]:
        X1 = np.column_stack([np.ones(len(Xe)), Xe - Xe.mean(0)])
        coef, *_ = np.linalg.lstsq(X1, eta, rcond=None)
        out["beta"] = coef[1:].T                                   # q0, p_e
        alpha = coef[0] - out["beta"] @ Xe.mean(0)
        cov = np.cov(eta - X1 @ coef, rowvar=False)
        if joint:
            out["mux"] = Xe.mean(0)
            out["phi"] = np.linalg.cholesky(_psd(np.atleast_2d(np.cov(Xe, rowvar=False))))
    else:
        alpha = eta.mean(0)
        cov = np.cov(eta, rowvar=False)
    # the spread of OLS pseudo factors overstates Ψ by their sampling noise
    cov = _psd(np.atleast_2d(cov) * 0.7)
    Psi = np.eye(curve.q) * 1e-2
    Psi[:cov.shape[0], :cov.shape[0]] = cov
    if curve.random:        # the person-level spread of the nonlinear parameter
        Psi[-1, -1] = max(np.var(gi), 1e-2)
    out["alpha"] = alpha
    out["L"] = np.linalg.cholesky(_psd(Psi))
    Yo = arrays["Y"][members][arrays["mask"][members]]
    out["theta"] = float(max(np.median(s2), 1e-3 * np.var(Yo)))
    if pz:
        out["kappa"] = np.zeros(pz)
    return out


def gating_start(labels, Xg, K, shrink=0.7):
    """(K − 1, 1 + p_g) multinomial-logit starts relative to class 1."""
    p = np.array([(labels == k).mean() for k in range(K)]).clip(1e-3)
    base = np.log(p / p[0])
    out = np.zeros((K - 1, 1 + Xg.shape[1]))
    out[:, 0] = base[1:]
    if Xg.shape[1] and len(np.unique(labels)) == K:
        mu, sd = Xg.mean(0), Xg.std(0) + 1e-12
        Z = (Xg - mu) / sd
        icpt, coef = _multinomial_logit(Z, labels, K)
        slopes = coef / sd                                         # K, p_g (raw scale)
        ints = icpt - slopes @ mu
        out[:, 0] = shrink * ints[1:] + (1 - shrink) * base[1:]
        out[:, 1:] = shrink * slopes[1:]
    return out


def _multinomial_logit(Z, labels, K, ridge=0.1, n_iter=25):
    """Ridge-penalised multinomial logit of ``labels`` on standardised ``Z`` with
    class 1 as reference, by Newton's method (the penalised log-likelihood is concave):
    (intercepts (K,), slopes (K, p)), class-1 rows 0."""
    n, p = Z.shape
    Y = np.eye(K)[labels][:, 1:]                                   # n, K-1
    X1 = np.column_stack([np.ones(n), Z])                          # n, p+1
    m = (K - 1) * (p + 1)
    pen = np.tile(np.r_[0.0, np.full(p, ridge)], K - 1)
    w = np.zeros(m)
    for _ in range(n_iter):
        W = w.reshape(K - 1, p + 1)
        eta = np.column_stack([np.zeros(n), X1 @ W.T])
        eta -= eta.max(1, keepdims=True)
        P = np.exp(eta)
        P = (P / P.sum(1, keepdims=True))[:, 1:]                   # n, K-1
        g = ((Y - P).T @ X1).ravel() - pen * w
        # Hessian blocks: -Σ_i x_i x_iᵀ (δ_ab P_ia − P_ia P_ib)
        V = np.einsum("na,ab->nab", P, np.eye(K - 1)) - np.einsum("na,nb->nab", P, P)
        H = np.einsum("nab,ni,nj->aibj", V, X1, X1).reshape(m, m) + np.diag(pen)
        step = np.linalg.solve(H + 1e-10 * np.eye(m), g)
        w = w + step
        if np.max(np.abs(step)) < 1e-8:
            break
    W = np.vstack([np.zeros(p + 1), w.reshape(K - 1, p + 1)])
    return W[:, 0], W[:, 1:]


def kmeans(X: np.ndarray, K: int, seed: int, n_init: int = 1, n_iter: int = 100):
    """Lloyd's k-means with k-means++ seeding (Arthur & Vassilvitskii 2007); the best
    of ``n_init`` runs by within-cluster sum of squares. Plain numpy: for a few hundred
    persons this takes microseconds, where a threaded library pays start-up costs."""
    rng = np.random.default_rng(seed)
    best, best_ss = None, np.inf
    for _ in range(n_init):
        C = [X[rng.integers(len(X))]]
        for _ in range(1, K):
            d2 = np.min(((X[:, None, :] - np.asarray(C)[None]) ** 2).sum(-1), 1)
            C.append(X[rng.choice(len(X), p=d2 / d2.sum())] if d2.sum() > 0
                     else X[rng.integers(len(X))])
        C = np.asarray(C)
        lab = None
        for _ in range(n_iter):
            new = np.argmin(((X[:, None, :] - C[None]) ** 2).sum(-1), 1)
            if lab is not None and np.array_equal(new, lab):
                break
            lab = new
            C = np.stack([X[lab == k].mean(0) if np.any(lab == k) else C[k]
                          for k in range(K)])
        ss = ((X - C[lab]) ** 2).sum()
        if ss < best_ss:
            best, best_ss = lab, ss
    return best
