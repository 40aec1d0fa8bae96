"""Runs the per-layer cases tf-keras 2.21 computed (``tests/golden/layers``, written by
``tests/golden/make_layer_cases.py``) through the public API: ``deserialize`` the layer's
config, ``set_weights``, call it, compare outputs, masks, gradients and updated weights."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import torch

from birnn.layers import MultiHeadAttention, deserialize, serialize

LAYER_CASES = Path(__file__).parent.parent / "golden" / "layers"
OUTPUT_TOLERANCE = {"atol": 1e-5, "rtol": 1e-4}
GRADIENT_TOLERANCE = {"atol": 1e-4, "rtol": 1e-3}


def case_ids(*layers: str) -> list[str]:
    """The ids of the cases of ``layers`` (snake-case names: ``"conv1d"`` gives ``conv1d``,
    ``conv1d_same``, ...)."""
    stems = sorted(p.stem for p in LAYER_CASES.glob("*.json"))
    return [s for s in stems if any(s == name or s.startswith(name + "_") for name in layers)]


def load_case(case_id: str) -> tuple[dict, dict[str, np.ndarray]]:
    spec = json.loads((LAYER_CASES / f"{case_id}.json").read_text())
    return spec, dict(np.load(LAYER_CASES / f"{case_id}.npz"))


def _call(layer, spec, arrays, inputs):
    masks = spec["masks"]
    mask_tensors = (
        None if masks is None else [None if m is None else torch.tensor(arrays[m]) for m in masks]
    )
    kwargs = dict(spec["call"])
    if spec["training"]:
        kwargs["training"] = True
    if isinstance(layer, MultiHeadAttention):
        if mask_tensors is not None:
            for name, m in zip(("query_mask", "value_mask", "key_mask"), mask_tensors):
                kwargs[name] = m
        if "attention_mask" in spec:
            kwargs["attention_mask"] = torch.tensor(arrays[spec["attention_mask"]])
        key = inputs[2] if len(inputs) > 2 else None
        return layer(inputs[0], inputs[1], key=key, **kwargs), mask_tensors
    layer_input = inputs if spec["input_is_list"] else inputs[0]
    if mask_tensors is not None and "mask" in inspect.signature(layer.forward).parameters:
        kwargs["mask"] = mask_tensors if spec["input_is_list"] else mask_tensors[0]
    return layer(layer_input, **kwargs), mask_tensors


def run_case(case_id: str) -> None:
    """Checks outputs, output mask, gradients and weights after the call against tf-keras."""
    spec, arrays = load_case(case_id)
    layer = deserialize(spec["config"])
    assert layer.built, "build_config builds the layer"
    layer.set_weights([arrays[key] for key in spec["weights"]])
    if not spec["training"]:
        layer.eval()
    inputs = [torch.tensor(arrays[key], requires_grad=True) for key in spec["inputs"]]
    result, masks = _call(layer, spec, arrays, inputs)
    outputs = list(result) if isinstance(result, (list, tuple)) else [result]
    assert isinstance(result, (list, tuple)) == spec["output_is_list"]
    assert len(outputs) == len(spec["outputs"])
    for output, key in zip(outputs, spec["outputs"]):
        np.testing.assert_allclose(
            output.detach().numpy(), arrays[key], **OUTPUT_TOLERANCE, err_msg=f"{case_id}: {key}"
        )
    if masks is not None:
        layer_input = inputs if spec["input_is_list"] else inputs[0]
        if isinstance(layer, MultiHeadAttention):
            layer_input, masks = inputs[0], masks[0]
        elif not spec["input_is_list"]:
            masks = masks[0]
        output_mask = layer.compute_mask(layer_input, masks)
        if spec["output_mask"] is None:
            assert output_mask is None, f"{case_id}: tf-keras gives no output mask"
        else:
            np.testing.assert_array_equal(output_mask.numpy(), arrays[spec["output_mask"]])
    grads = spec.get("grads")
    if grads:
        loss = sum(
            (o * torch.tensor(arrays[p])).sum() for o, p in zip(outputs, grads["projections"])
        )
        float_inputs = [x for x, key in zip(inputs, grads["inputs"]) if key is not None]
        expected = [arrays[key] for key in grads["inputs"] if key is not None]
        weights = layer.trainable_weights
        expected += [arrays[key] for key in grads["weights"]]
        assert len(weights) == len(grads["weights"])
        gradients = torch.autograd.grad(loss, float_inputs + weights, allow_unused=True)
        for index, (gradient, wanted) in enumerate(zip(gradients, expected)):
            gradient = np.zeros_like(wanted) if gradient is None else gradient.numpy()
            np.testing.assert_allclose(
                gradient, wanted, **GRADIENT_TOLERANCE, err_msg=f"{case_id}: gradient {index}"
            )
    for weight, key in zip(layer.get_weights(), spec.get("weights_after") or []):
        np.testing.assert_allclose(
            weight, arrays[key], **OUTPUT_TOLERANCE, err_msg=f"{case_id}: {key}"
        )


def check_config_round_trip(case_id: str) -> None:
    """tf-keras's config deserializes and is written back key for key, in Keras's key order;
    the Keras 3 config of the same layer gives the same layer."""
    spec, _ = load_case(case_id)
    written = serialize(deserialize(spec["config"]))
    assert written["config"] == spec["config"]["config"]
    assert list(written["config"]) == list(spec["config"]["config"])
    assert written["class_name"] == spec["config"]["class_name"]
    if "keras3_config" in spec:
        from_keras3 = serialize(deserialize(spec["keras3_config"]))["config"]
        from_keras3["name"] = spec["config"]["config"]["name"]  # Keras 3 counts names apart
        assert from_keras3 == spec["config"]["config"]
