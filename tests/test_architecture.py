"""The package's parts depend one way: no import cycle, counting imports inside functions,
and each part imports only what docs/architecture.md's table says it may.

Every ``import`` in ``src/birnn`` is parsed, wherever it sits. A part is a top-level
module (``_kernels``, ``_masks``, ``activations``...) or subpackage (``layers``,
``models``, ``saving``, ``demo``); ``birnn`` itself is the package's public surface.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
SOURCE = REPOSITORY / "src" / "birnn"
NOTE = REPOSITORY / "docs" / "architecture.md"
ROOT = "birnn"


def _allowed_imports() -> dict[str, set[str]]:
    """The note's table ``| `part` | `a`, `b` |``: what each part may import."""
    allowed = {}
    for line in NOTE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and re.fullmatch(r"`[\w.]+`", cells[0]):
            allowed[cells[0].strip("`")] = set(re.findall(r"`([\w.]+)`", cells[1]))
    return allowed


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}


MODULES = _modules()


def _imported_modules(name: str, path: Path) -> set[str]:
    """Every birnn module ``name`` imports, at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import name` imports pkg.name when that is a module, else pkg.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        found.update(target for target in targets if target.split(".")[0] == ROOT)
    return found


def _part(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else ROOT


def _part_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        source = _part(name)
        edges = graph.setdefault(source, set())
        edges.update(_part(target) for target in _imported_modules(name, path))
        edges.discard(source)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path ``[a, b, ..., a]``, or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_parser_sees_imports_inside_functions():
    graph = _part_graph()
    assert "layers" in graph and "models" in graph and "saving" in graph
    assert "_kernels" in graph["layers"] and "layers" in graph["models"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycle_between_the_parts():
    graph = {part: edges - {ROOT} for part, edges in _part_graph().items() if part != ROOT}
    assert _cycle(graph) is None


def test_no_part_imports_the_package_root():
    # ``birnn/__init__.py`` imports every part: a part importing it closes a cycle.
    importers = sorted(part for part, edges in _part_graph().items() if ROOT in edges)
    assert importers == []


def test_the_note_lists_every_part():
    parts = set(_part_graph()) - {ROOT}
    assert set(_allowed_imports()) == parts


@pytest.mark.parametrize("part", sorted(set(_part_graph()) - {ROOT}))
def test_each_part_imports_only_what_the_architecture_note_allows(part):
    allowed = _allowed_imports().get(part, set())
    assert _part_graph()[part] <= allowed, f"{part} imports {_part_graph()[part] - allowed}"


def test_the_note_names_modules_that_exist():
    named = set(re.findall(r"`((?:layers|models|saving)/\w+\.py|_\w+\.py)`", NOTE.read_text()))
    missing = [
        path
        for path in named
        if not (SOURCE / path).exists() and not any(SOURCE.rglob(Path(path).name))
    ]
    assert named and not missing


def test_no_import_cycle_between_modules_within_a_part():
    # Package __init__ files only re-export; a module's own imports are what matter.
    graph = {
        name: {
            target
            for target in _imported_modules(name, path)
            if _part(target) == _part(name) and MODULES[target].name != "__init__.py"
        }
        for name, path in MODULES.items()
        if path.name != "__init__.py"
    }
    assert _cycle(graph) is None
