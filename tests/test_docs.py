"""Every ```python block of the README and docs/ runs as written.

Blocks of one document run in order in one namespace, from a scratch directory
where ``tests/`` (the golden files) is reachable, as in a clone of the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_documented_code_runs(document, tmp_path, monkeypatch, capsys):
    blocks = BLOCK.findall(document.read_text())
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__doc__"}
    for block in blocks:
        exec(compile(block, document.name, "exec"), namespace)


def test_keras_migration_guide_saves_a_model(tmp_path, monkeypatch, capsys):
    test_documented_code_runs(ROOT / "docs" / "keras_migration.md", tmp_path, monkeypatch, capsys)
    assert (tmp_path / "tagger.birnn").exists()
