"""What a built wheel ships and declares: ``py.typed`` and the supported torch range."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            str(ROOT),
            "-w",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("birnn-*.whl")
    return zipfile.ZipFile(path)


def _requirements(wheel: zipfile.ZipFile) -> dict[str, Requirement]:
    (metadata,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    lines = wheel.read(metadata).decode().splitlines()
    requirements = [
        Requirement(line.split(":", 1)[1]) for line in lines if line.startswith("Requires-Dist:")
    ]
    return {r.name: r for r in requirements if r.marker is None}


def test_the_wheel_ships_py_typed(wheel):
    assert "birnn/py.typed" in wheel.namelist()


def test_torch_floor_is_2_4_and_the_tested_torch_satisfies_the_range(wheel):
    torch_requirement = _requirements(wheel)["torch"]
    assert "2.3.1" not in torch_requirement.specifier
    assert "2.4.0" in torch_requirement.specifier
    assert "2.13.0" in torch_requirement.specifier
    assert torch.__version__.split("+")[0] in torch_requirement.specifier


def test_the_wheel_ships_every_source_module(wheel):
    shipped = {name for name in wheel.namelist() if name.startswith("birnn/")}
    sources = {
        path.relative_to(ROOT / "src").as_posix()
        for path in (ROOT / "src" / "birnn").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert len(sources) > 50  # the whole package (subpackages included), not an empty glob
    assert sources <= shipped, sorted(sources - shipped)
