"""Shared test helpers: the golden parity cases computed by tf-keras 2.21."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

# Golden-data generators run in a side venv with TensorFlow; pytest must not import them.
collect_ignore_glob = ["golden/make_*.py"]

GOLDEN = Path(__file__).parent / "golden"
KERAS2 = GOLDEN / "keras2"


def golden_case_ids(kind: str) -> list[str]:
    ids = []
    for path in sorted(KERAS2.glob("*.json")):
        if json.loads(path.read_text())["kind"] == kind:
            ids.append(path.stem)
    return ids


def load_golden_case(case_id: str) -> tuple[dict, dict[str, np.ndarray]]:
    spec = json.loads((KERAS2 / f"{case_id}.json").read_text())
    arrays = dict(np.load(KERAS2 / f"{case_id}.npz"))
    return spec, arrays


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)
    np.random.seed(0)
    yield
