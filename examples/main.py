"""The main example (README: ``make demo``). For now: SEM with lavaan syntax on the
data the project ships; see examples/ for one script per capability."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sem_lavaan import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
