"""Simulation designs for SEM trees and forests (semtree's, regenerated, and ours).

* ``lgcm_syntax`` — semtree's linear latent growth curve model in lavaan syntax:
  loadings 0, 1, …, intercept and slope means and (co)variances free, one residual
  variance shared by all occasions (or one per occasion), manifest intercepts 0;
* ``vignette_data`` — the data of semtree's forest vignettes (N = 1000, five
  occasions, a binary predictor adding 5 to the mean slope, a binary noise predictor);
* ``screening_data`` — ten covariates of every kind, four with effects (the design of
  ``bench/forest_bench.py``);
* ``null_data`` — no covariate effect at all (``bench/forest_null_bench.py``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SCREENING_COVARIATES = ["grp", "age", "edu", "site", "z1", "z2", "z3", "b1", "o1", "k1"]
NULL_COVARIATES = ["num", "bin", "ord", "cat"]


def lgcm_syntax(occasions: int = 5, *, equal_residuals: bool = True,
                prefix: str = "X") -> str:
    """Linear growth: i =~ 1·X1 + … ; s =~ 0·X1 + 1·X2 + … ; i ~ 1 ; s ~ 1."""
    ys = [f"{prefix}{j}" for j in range(1, occasions + 1)]
    lines = ["i =~ " + " + ".join(f"1*{y}" for y in ys),
             "s =~ " + " + ".join(f"{j}*{y}" for j, y in enumerate(ys))]
    if equal_residuals:
        lines += [f"{y} ~~ r*{y}" for y in ys]
    lines += ["i ~ 1", "s ~ 1"] + [f"{y} ~ 0*1" for y in ys]
    return "\n".join(lines) + "\n"


def vignette_data(n: int = 1000, seed: int = 23) -> pd.DataFrame:
    """semtree's forest vignette: intercept ~ N(10, 4²), slope ~ N(3, 1.2²), a binary
    predictor P1 adding 5 to the slope, residual sd 0.08, a binary noise predictor."""
    rng = np.random.default_rng(seed)
    icept = rng.normal(10, 4, n)
    slope = rng.normal(3, 1.2, n)
    p1 = rng.integers(0, 2, n)
    x = (np.outer(slope + 5 * p1, np.arange(5)) + icept[:, None]
         + rng.normal(0, 0.08, (n, 5)))
    df = pd.DataFrame(x, columns=[f"X{j}" for j in range(1, 6)])
    df["P1"] = pd.Categorical(p1)
    df["Noise"] = pd.Categorical(rng.integers(0, 2, n))
    return df


def screening_data(n: int = 1000, seed: int = 1) -> pd.DataFrame:
    """Growth data whose slope depends on grp (binary) and whose slope variance on edu
    (ordered, 5 levels); the intercept shifts with age > 0.5 (numeric) and site 2 (of
    4); z1–z3 (numeric), b1 (binary), o1 (ordered), k1 (3 levels) are noise."""
    rng = np.random.default_rng(seed)
    grp, age = rng.integers(0, 2, n), rng.normal(0, 1, n)
    edu, site = rng.integers(0, 5, n), rng.integers(0, 4, n)
    icept = rng.normal(10, 2, n) + 2 * (age > 0.5) + 3 * (site == 2)
    slope = 2 + 2 * grp + rng.normal(0, 1, n) * np.where(edu >= 3, 1.5, 0.7)
    Y = icept[:, None] + slope[:, None] * np.arange(5) + rng.normal(0, 1, (n, 5))
    df = pd.DataFrame(Y, columns=[f"X{j}" for j in range(1, 6)])
    df["grp"], df["age"] = pd.Categorical(grp), age
    df["edu"] = pd.Categorical(edu, categories=range(5), ordered=True)
    df["site"] = pd.Categorical(site)
    df["z1"], df["z2"], df["z3"] = rng.normal(size=n), rng.normal(size=n), rng.uniform(size=n)
    df["b1"] = pd.Categorical(rng.integers(0, 2, n))
    df["o1"] = pd.Categorical(rng.integers(0, 4, n), categories=range(4), ordered=True)
    df["k1"] = pd.Categorical(rng.integers(0, 3, n))
    return df


def null_data(n: int = 500, seed: int = 0) -> pd.DataFrame:
    """Linear growth with no covariate effect; a numeric, a binary, an ordered (4
    levels) and an unordered (3 levels) covariate."""
    rng = np.random.default_rng(seed)
    icept, slope = rng.normal(10, 2, n), rng.normal(3, 1, n)
    Y = icept[:, None] + slope[:, None] * np.arange(5) + rng.normal(0, 1, (n, 5))
    df = pd.DataFrame(Y, columns=[f"X{j}" for j in range(1, 6)])
    df["num"] = rng.normal(size=n)
    df["bin"] = pd.Categorical(rng.integers(0, 2, n))
    df["ord"] = pd.Categorical(rng.integers(0, 4, n), categories=range(4), ordered=True)
    df["cat"] = pd.Categorical(rng.choice(["a", "b", "c"], n))
    return df
