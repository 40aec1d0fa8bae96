"""Every ```python block of the README and the documentation site's pages runs as written.

Blocks of one document run in order in one namespace. The guides in ``docs/`` run from a
scratch directory where ``tests/`` (the golden files) is reachable, as in a clone of the
repository; the README's run from an empty directory, as after ``pip install``, and must
leave nothing behind.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDES = sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def run_blocks(document: Path) -> dict:
    namespace: dict = {"__name__": "__doc__"}
    for block in BLOCK.findall(document.read_text()):
        exec(compile(block, document.name, "exec"), namespace)
    return namespace


@pytest.mark.parametrize("document", GUIDES, ids=lambda path: path.name)
def test_guide_code_runs(document, tmp_path, monkeypatch, capsys):
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    monkeypatch.chdir(tmp_path)
    run_blocks(document)


def test_readme_code_runs_anywhere_and_cleans_up(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run_blocks(ROOT / "README.md")
    assert not list(tmp_path.iterdir())


def test_readme_links_nothing_a_package_index_cannot_show():
    # PyPI renders the README without the repository around it: relative links would be dead.
    links = re.findall(r"\]\(([^)]+)\)", (ROOT / "README.md").read_text())
    assert all(link.startswith("https://") for link in links), links


def test_keras_migration_guide_saves_a_model(tmp_path, monkeypatch, capsys):
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    monkeypatch.chdir(tmp_path)
    run_blocks(ROOT / "docs" / "keras_migration.md")
    assert (tmp_path / "tagger.birnn").exists()
