"""Every single-layer case tf-keras 2.21 computed: outputs and gradients match."""

from __future__ import annotations

import pytest

from birnn.layers import deserialize

from ..conftest import golden_case_ids, load_golden_case, run_golden_calls

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
    layer.build(arrays[first["x"]].shape)
    layer.set_weights([arrays[key] for key in spec["weights"]])
    layer.eval()
    run_golden_calls(layer, spec, arrays)


@pytest.mark.parametrize("case_id", golden_case_ids("layer"))
def test_layer_matches_tf_keras(case_id):
    _run_case(case_id, use_fused="auto")


@pytest.mark.parametrize("case_id", golden_case_ids("layer"))
def test_step_loop_matches_tf_keras(case_id):
    _run_case(case_id, use_fused=False)
