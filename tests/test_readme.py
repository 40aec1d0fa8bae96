"""Every ```python block in the README and docs/ runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks():
    for document in DOCUMENTS:
        for index, block in enumerate(BLOCK.findall(document.read_text())):
            if "# not run" not in block:
                yield pytest.param(block, id=f"{document.name}-{index}")


@pytest.mark.parametrize("block", list(_blocks()))
def test_documented_code_runs(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "<doc>", "exec"), {"__name__": "__doc__"})
