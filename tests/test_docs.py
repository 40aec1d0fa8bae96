"""The migration guide's code blocks run, in order, from a scratch directory."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_keras_migration_guide_runs(tmp_path, monkeypatch, capsys):
    text = (ROOT / "docs" / "keras_migration.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 4
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "keras_migration.md", "exec"), namespace)
    assert (tmp_path / "tagger.birnn").exists()
