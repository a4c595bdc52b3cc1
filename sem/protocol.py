"""The likelihood-model protocol: what every model offers the shared engine.

Estimation (``sem.estimation``), inference (``sem.inference``) and the split tests of
SEM trees (``forests``) are written against this protocol only, so a lavaan-syntax
``sem.Model`` and a ``trajmix`` growth model are interchangeable wherever a model of
per-case log-likelihoods is needed.

A **likelihood model** has

* ``prepare(frame, **options) -> data`` — a dict of arrays (a JAX pytree) whose
  leading axis is the case axis, with case weights under ``"w"``, or an object that
  holds such a dict as ``.arrays`` (trajmix's ``GrowthData`` keeps the ids and
  column names beside it);
* ``problem(data) -> problem`` — the estimation problem for that data (below);
* ``start(data) -> θ₀`` — start values (a float array of length ``n_params``).

A **problem** has ``n_params``, ``param_names``, ``positive`` (a boolean mask of
parameters estimated on the log scale), ``cache_key()``, optionally ``summarize`` with
``summary_keys`` (the sufficient statistics the optimiser computes once per data set,
and the keys of them ``loglik`` reads; a problem that names them promises that
``loglik`` and its derivatives accept the summary alone, with ``w`` the total weight
as one entry: ``sem.estimation.summarize_many``) and

* ``loglik(θ, data)`` — the case-weighted total log-likelihood (pure, jittable);
* ``loglik_cases(θ, data)`` — the (n,) per-case contributions, unweighted.

Case weights make many related fits one batched computation without copying data:
a bootstrap draw is a vector of counts, a child node of a tree split a 0/1 vector
(``sem.estimation.maximize_weighted``).
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Problem(Protocol):
    n_params: int
    param_names: list
    positive: np.ndarray

    def cache_key(self) -> Any: ...

    def loglik(self, theta, data: dict): ...

    def loglik_cases(self, theta, data: dict): ...


@runtime_checkable
class LikelihoodModel(Protocol):
    def prepare(self, frame, **options) -> dict: ...

    def problem(self, data: dict) -> Problem: ...

    def start(self, data: dict) -> np.ndarray: ...
