"""Every single-layer case tf-keras 2.21 computed: outputs and gradients match."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from birnn.layers import deserialize

from ..conftest import golden_case_ids, load_golden_case

OUTPUT_TOLERANCE = {"atol": 1e-5, "rtol": 1e-4}
GRADIENT_TOLERANCE = {"atol": 1e-4, "rtol": 1e-3}


RECURRENT_LAYERS = ("RNN", "SimpleRNN", "LSTM", "GRU")


def _with_use_fused(config, use_fused):
    """``config`` with ``use_fused`` set on every recurrent layer in it (wrapped ones too)."""
    if isinstance(config, list):
        return [_with_use_fused(item, use_fused) for item in config]
    if not isinstance(config, dict):
        return config
    config = {key: _with_use_fused(value, use_fused) for key, value in config.items()}
    if config.get("class_name") in RECURRENT_LAYERS:
        config["config"] = {**config["config"], "use_fused": use_fused}
    return config


def _run_case(case_id: str, use_fused: str | bool):
    spec, arrays = load_golden_case(case_id)
    layer = deserialize(_with_use_fused(spec["config"], use_fused))
    first = next(call for call in spec["calls"] if "x" in call)
    layer._maybe_build(arrays[first["x"]].shape)
    layer.set_weights([arrays[key] for key in spec["weights"]])
    layer.eval()
    for call in spec["calls"]:
        if call.get("reset_states"):
            layer.reset_states()
            continue
        x = torch.tensor(arrays[call["x"]], requires_grad=True)
        kwargs = {}
        if "mask" in call:
            kwargs["mask"] = torch.tensor(arrays[call["mask"]])
        if "initial_state" in call:
            kwargs["initial_state"] = [torch.tensor(arrays[k]) for k in call["initial_state"]]
        result = layer(x, training=False, **kwargs)
        outputs = result if isinstance(result, list) else [result]
        assert isinstance(result, list) == call["output_is_list"]
        assert len(outputs) == len(call["outputs"])
        for output, key in zip(outputs, call["outputs"]):
            np.testing.assert_allclose(
                output.detach().numpy(),
                arrays[key],
                **OUTPUT_TOLERANCE,
                err_msg=f"{case_id}: {key}",
            )
        grads = call.get("grads")
        if grads:
            loss = sum(
                (o * torch.tensor(arrays[p])).sum()
                for o, p in zip(outputs, grads["loss_projections"])
            )
            weights = layer.trainable_weights
            gradients = torch.autograd.grad(loss, [x, *weights])
            np.testing.assert_allclose(
                gradients[0].numpy(),
                arrays[grads["x"]],
                **GRADIENT_TOLERANCE,
                err_msg=f"{case_id}: grad x",
            )
            for g, key in zip(gradients[1:], grads["weights"]):
                np.testing.assert_allclose(
                    g.numpy(), arrays[key], **GRADIENT_TOLERANCE, err_msg=f"{case_id}: {key}"
                )


@pytest.mark.parametrize("case_id", golden_case_ids("layer"))
def test_layer_matches_tf_keras(case_id):
    _run_case(case_id, use_fused="auto")


@pytest.mark.parametrize("case_id", golden_case_ids("layer"))
def test_step_loop_matches_tf_keras(case_id):
    _run_case(case_id, use_fused=False)
