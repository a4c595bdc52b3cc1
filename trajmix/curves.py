"""Growth curves as loading functions of each person's own measurement times.

For person i at occasion j, y_ij = Σ_f Λ_f(t_ij; γ) η_if + ε_ij. A curve defines the
loadings Λ(t; γ) of its growth factors η, its nonlinear parameters γ (a knot, a rate),
and the map from the estimated factors to the factors users read (``to_original``).

=====================  =================================  ===========================
curve                  loadings on (η0, η1, …)           nonlinear parameter
=====================  =================================  ===========================
``linear``             1, t                               –
``quadratic``          1, t, t²                           –
``negative_exponential`` 1, 1 − exp(−b t)                 b (rate, > 0)
``jenss_bayley``       1, t, exp(c t) − 1                 c (acceleration, < 0)
``bilinear_spline``    1, t − γ, |t − γ|                  γ (knot)
=====================  =================================  ===========================

**Bilinear spline (linear–linear piecewise) with an unknown knot.** In the original
form y = η0 + η1 min(t, γ) + η2 max(t − γ, 0): η0 the value at t = 0, η1 and η2 the
slopes before and after the knot. Because γ enters with a kink, it is estimated in the
form centred at the knot (Seber & Wild 2003; Harring, Cudeck & du Toit 2006; Liu &
Perera 2022 §2): y = η0s + η1s (t − γ) + η2s |t − γ| with η0s = η0 + γη1 (the value at
the knot), η1s = (η1 + η2)/2, η2s = (η2 − η1)/2. The original factors are
η = F(γ) ηs with F(γ) = [[1, −γ, γ], [0, 1, −1], [0, 1, 1]], so means, regression
coefficients and covariances map as F μs, F B, F Ψ Fᵀ (nlpsem/OpenMx ``func``/``grad``
algebras; delta-method SEs).

**Random (intrinsic) nonlinear parameter.** ``random=True`` adds a factor δ for the
person's deviation from the class's γ, linearised by a first-order Taylor expansion at
the class means (Liu & Perera; nlpsem ``intrinsic = TRUE``): its loading is ∂y/∂γ at the
means, e.g. −μη1s − μη2s·sign(t − γ) for the spline, with the kink smoothed as
|u| ≈ √(u² + 10⁻⁶) (nlpsem 0.4).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sem.errors import SpecificationError
from sem.jaxconfig import jnp

_EPS = 1e-6


@dataclass(frozen=True)
class Curve:
    name: str
    factors: tuple            # names of the estimated growth factors
    original: tuple           # names of the factors users read
    nonlinear: tuple = ()     # names of the nonlinear parameters
    random: bool = False

    @property
    def q(self) -> int:
        return len(self.factors) + (1 if self.random else 0)

    @property
    def factor_names(self) -> tuple:
        return self.factors + ((f"d_{self.nonlinear[0]}",) if self.random else ())

    @property
    def original_names(self) -> tuple:
        return self.original + ((f"d_{self.nonlinear[0]}",) if self.random else ())

    # -- loadings ------------------------------------------------------------------
    def loadings(self, t, nl, alpha=None, xp=jnp):
        """Λ (..., J, q) at times t (..., J); nl the nonlinear parameters; alpha the
        class's factor means (needed only by the random-γ derivative loading).
        ``xp=numpy`` evaluates eagerly in numpy (simulation, start values)."""
        one = xp.ones_like(t)
        n = self.name
        if n == "linear":
            cols = [one, t]
        elif n == "quadratic":
            cols = [one, t, t * t]
        elif n == "negative_exponential":
            cols = [one, 1.0 - xp.exp(-nl[0] * t)]
        elif n == "jenss_bayley":
            cols = [one, t, xp.exp(nl[0] * t) - 1.0]
        elif n == "bilinear_spline":
            u = t - nl[0]
            cols = [one, u, xp.sqrt(u * u + _EPS) if self.random else xp.abs(u)]
        else:  # pragma: no cover
            raise ValueError(n)
        if self.random:
            cols.append(self._dloading(t, nl, alpha, xp))
        return xp.stack(cols, -1)

    def _dloading(self, t, nl, alpha, xp=jnp):
        n = self.name
        if n == "bilinear_spline":
            u = t - nl[0]
            return -alpha[1] - alpha[2] * u / xp.sqrt(u * u + _EPS)
        if n == "negative_exponential":
            return alpha[1] * xp.exp(-nl[0] * t) * t
        if n == "jenss_bayley":
            return alpha[2] * xp.exp(nl[0] * t) * t
        raise SpecificationError(f"curve '{n}' has no nonlinear parameter to make random")

    # -- reporting -----------------------------------------------------------------
    def to_original(self, nl):
        """F with η_original = F η_estimated (q, q)."""
        q = self.q
        if self.name != "bilinear_spline":
            return jnp.eye(q)
        g = nl[0]
        F = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, -1.0], [0.0, 1.0, 1.0]])
        F = F.at[0, 1].set(-g).at[0, 2].set(g)
        if self.random:
            F = jnp.zeros((4, 4)).at[:3, :3].set(F).at[3, 3].set(1.0)
        return F

    def mean_curve(self, t, nl, alpha):
        """Expected outcome at times t for factor means alpha (random δ has mean 0)."""
        L = self.loadings(t, nl, alpha)
        return L @ alpha

    # -- start values ----------------------------------------------------------------
    def basis(self, t: np.ndarray, nl) -> np.ndarray:
        """Loadings in numpy (original parametrisation) for per-person OLS starts."""
        if self.name == "bilinear_spline":
            g = nl[0]
            return np.stack([np.ones_like(t), np.minimum(t, g), np.maximum(t - g, 0)], -1)
        return Curve(self.name, self.factors, self.original, self.nonlinear
                     ).loadings(np.asarray(t, float), np.asarray(nl, float), xp=np)

    def nonlinear_grid(self, times: np.ndarray) -> np.ndarray:
        """Candidate values of the nonlinear parameter for the start-value search."""
        t = times[np.isfinite(times)]
        span = max(np.ptp(t), 1e-8)
        if self.name == "bilinear_spline":
            return np.unique(np.quantile(t, np.linspace(0.15, 0.85, 15)))
        if self.name == "negative_exponential":
            return np.geomspace(0.05, 5.0, 15) / span * 5
        if self.name == "jenss_bayley":
            return -np.geomspace(0.05, 5.0, 15) / span * 5
        return np.zeros(0)

    def check_nonlinear(self, nl, times: np.ndarray) -> None:
        if self.name == "bilinear_spline":
            lo, hi = np.nanmin(times), np.nanmax(times)
            for g in np.atleast_1d(nl):
                if not lo < g < hi:
                    raise SpecificationError(
                        f"knot start value {g:.4g} lies outside the observed time range "
                        f"({lo:.4g}, {hi:.4g}); a knot must lie between the first and the "
                        "last measurement")


CURVES = {
    "linear": Curve("linear", ("eta0", "eta1"), ("eta0", "eta1")),
    "quadratic": Curve("quadratic", ("eta0", "eta1", "eta2"), ("eta0", "eta1", "eta2")),
    "negative_exponential": Curve("negative_exponential", ("eta0", "eta1"),
                                  ("eta0", "eta1"), ("rate",)),
    "jenss_bayley": Curve("jenss_bayley", ("eta0", "eta1", "eta2"), ("eta0", "eta1", "eta2"),
                          ("accel",)),
    "bilinear_spline": Curve("bilinear_spline", ("eta0s", "eta1s", "eta2s"),
                             ("eta0", "eta1", "eta2"), ("knot",)),
}


def get_curve(name: str, random: bool = False) -> Curve:
    if name not in CURVES:
        raise SpecificationError(f"unknown curve {name!r}; choose one of {sorted(CURVES)}")
    c = CURVES[name]
    if random and not c.nonlinear:
        raise SpecificationError(f"curve '{name}' has no nonlinear parameter to make random")
    return Curve(c.name, c.factors, c.original, c.nonlinear, random)
