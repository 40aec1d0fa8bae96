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


OUTPUT_TOLERANCE = {"atol": 1e-5, "rtol": 1e-4}
GRADIENT_TOLERANCE = {"atol": 1e-4, "rtol": 1e-3}


def _nest(structure, arrays, convert=torch.tensor):
    """The nested keys of ``structure`` replaced by their arrays (as tensors)."""
    if isinstance(structure, list):
        return [_nest(s, arrays, convert) for s in structure]
    return None if structure is None else convert(arrays[structure])


def flatten(value) -> list:
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in flatten(item)]
    return [value]


def layout(value):
    """Nesting and shapes, to compare structures."""
    if isinstance(value, (list, tuple)):
        return [layout(v) for v in value]
    return None if value is None else tuple(value.shape)


def run_golden_calls(layer, spec, arrays, flat_initial_state=False, check_losses=True):
    """Runs a golden case's calls on ``layer`` and checks outputs, their structure and
    gradients, and, where the case records them, ``losses`` and ``compute_mask``."""
    for call in spec["calls"]:
        if "reset_states" in call:
            states = call["reset_states"]
            layer.reset_states(None if states is True else [arrays[k] for k in states])
            continue
        x = torch.tensor(arrays[call["x"]], requires_grad=True)
        kwargs = {}
        if "mask" in call:
            kwargs["mask"] = torch.tensor(arrays[call["mask"]])
        if "initial_state" in call:
            structure = call.get("initial_state_structure", call["initial_state"])
            if flat_initial_state:
                structure = call["initial_state"]
            kwargs["initial_state"] = _nest(structure, arrays)
        result = layer(x, training=False, **kwargs)
        expected = call.get("output_structure", call["outputs"])
        if call["output_is_list"]:
            assert layout(result) == layout(_nest(expected, arrays)), spec["id"]
        else:
            assert torch.is_tensor(result), spec["id"]
        outputs = flatten(result)
        for output, key in zip(outputs, call["outputs"]):
            np.testing.assert_allclose(
                output.detach().numpy(),
                arrays[key],
                **OUTPUT_TOLERANCE,
                err_msg=f"{spec['id']}: {key}",
            )
        if check_losses and "losses" in call:
            losses = sorted(float(v) for v in layer.losses)
            assert losses == pytest.approx(call["losses"], rel=1e-4)
        if "compute_mask" in call:
            _check_compute_mask(layer, x, kwargs.get("mask"), call, arrays)
        grads = call.get("grads")
        if grads:
            loss = sum(
                (o * torch.tensor(arrays[p])).sum()
                for o, p in zip(outputs, grads["loss_projections"])
            )
            weights = layer.trainable_weights
            assert len(weights) == len(grads["weights"])
            gradients = torch.autograd.grad(loss, [x, *weights])
            for gradient, key in zip(gradients, [grads["x"], *grads["weights"]]):
                np.testing.assert_allclose(
                    gradient.numpy(),
                    arrays[key],
                    **GRADIENT_TOLERANCE,
                    err_msg=f"{spec['id']}: grad {key}",
                )


def _check_compute_mask(layer, x, mask, call, arrays):
    computed = layer.compute_mask(x, mask)
    if "output_structure" in call:
        # tf-keras counts a stacked cell's nested states as one entry; birnn gives one None
        # per state, as compute_output_shape lists them (README, "where we differ").
        assert layout(computed)[1:] == [None] * (len(call["outputs"]) - 1)
        return
    assert layout(computed) == layout(_nest(call["compute_mask"], arrays))
    for got, key in zip(flatten(computed), flatten(call["compute_mask"])):
        if key is not None:
            assert torch.equal(got, torch.tensor(arrays[key]))


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)
    np.random.seed(0)
    yield
