"""Example data shipped with trajmix (provenance in README.md here)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
NAMES = {
    "liu_perera_moe_example": "liu_perera_moe_example.csv",
    "ecls_k2011": "ecls_k2011_rms_sample.csv",
}


def load(name: str) -> pd.DataFrame:
    """Load a shipped data set by name (see ``NAMES``)."""
    if name not in NAMES:
        raise KeyError(f"unknown data set {name!r}; available: {sorted(NAMES)}")
    return pd.read_csv(HERE / NAMES[name])
