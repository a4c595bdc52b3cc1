"""The README's code blocks run and print what their comments claim."""
import re
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"


def test_readme_code_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 2
    ns: dict = {}
    exec(blocks[0], ns)
    assert ns["fit"].fit_measures["cfi"] == pytest.approx(0.931, abs=5e-4)
    exec(blocks[1], ns)
    assert ns["res"].llf == pytest.approx(-11458.347, abs=1e-2)


def test_readme_commands_match_the_makefile_and_ci():
    text = README.read_text()
    assert "make demo" in text and "make test" in text
    make = (README.parent / "Makefile").read_text()
    assert "examples/main.py" in make.split("demo:")[1].split("\n\n")[0]
    assert (README.parent / ".ci" / "run").read_text().strip().endswith("make test")
