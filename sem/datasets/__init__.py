"""Reference data shipped with the package (provenance in README.md here)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
NAMES = {
    "HolzingerSwineford1939": "HolzingerSwineford1939.csv",
    "PoliticalDemocracy": "PoliticalDemocracy.csv",
    "HolzingerSwineford1939_missing": "hs_missing.csv",
    "roman_glass_cups": "roman_glass_cups.csv",
}


def load(name: str) -> pd.DataFrame:
    """Load a shipped data set by name (see ``NAMES``)."""
    if name not in NAMES:
        raise KeyError(f"unknown data set {name!r}; available: {sorted(NAMES)}")
    return pd.read_csv(HERE / NAMES[name])
