"""Tests for `keras3_to_keras2_config`: Keras 3 configs rewritten in the tf-keras style."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from birnn.layers._keras3_config import keras3_to_keras2_config
from birnn.saving import read_keras_file

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
MODELS = ("masked_tagger", "spec_example_1", "spec_example_2")
COMPARED = ("Bidirectional", "LSTM", "GRU", "SimpleRNN", "Dense")


def _configs(model: str) -> tuple[dict, dict]:
    keras2 = read_keras_file(GOLDEN / "files" / "tf-keras-2.21" / f"{model}.keras").config
    keras3 = read_keras_file(GOLDEN / "files" / "keras-3.15" / f"{model}.keras").config
    return keras2, keras3


def _layer_configs(serialized: dict):
    """Yields every serialized layer of a model, wrapped layers included."""
    for layer in serialized["config"]["layers"]:
        yield layer
        for key in ("layer", "backward_layer"):
            if key in layer["config"]:
                yield layer["config"][key]


def _walk(value):
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


@pytest.mark.parametrize("model", MODELS)
def test_rnn_bidirectional_and_dense_configs_have_the_keras2_key_sets(model):
    keras2, keras3 = _configs(model)
    converted = keras3_to_keras2_config(keras3)
    pairs = list(zip(_layer_configs(keras2), _layer_configs(converted), strict=True))
    compared = 0
    for old, new in pairs:
        assert old["class_name"] == new["class_name"]
        if old["class_name"] not in COMPARED:
            continue
        # tf-keras writes `batch_input_shape` on a first layer built with `input_shape=`;
        # the InputLayer entry carries the same shape in both files.
        old_keys = set(old["config"]) - {"batch_input_shape"}
        assert set(new["config"]) == old_keys, old["class_name"]
        compared += 1
    assert compared >= 3


@pytest.mark.parametrize("model", MODELS)
def test_converted_values_match_tf_keras_except_names(model):
    keras2, keras3 = _configs(model)
    converted = keras3_to_keras2_config(keras3)

    def strip(value):
        """Drops what differs by construction: names, sharing ids, shape records.

        `build_config` and `build_input_shape` record shapes seen when building
        (tf-keras also writes one for an Activation, Keras 3 does not).
        """
        if isinstance(value, dict):
            ignored = (
                "name",
                "shared_object_id",
                "batch_input_shape",
                "build_input_shape",
                "build_config",
            )
            return {k: strip(v) for k, v in value.items() if k not in ignored}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    old_layers = [strip(layer) for layer in keras2["config"]["layers"][1:]]
    new_layers = [strip(layer) for layer in converted["config"]["layers"][1:]]
    assert new_layers == old_layers
    input_layer = converted["config"]["layers"][0]["config"]
    assert (
        input_layer["batch_input_shape"]
        == keras2["config"]["layers"][0]["config"]["batch_input_shape"]
    )
    assert "batch_shape" not in input_layer


@pytest.mark.parametrize("model", MODELS)
def test_no_dtype_policy_dicts_remain(model):
    converted = keras3_to_keras2_config(_configs(model)[1])
    for node in _walk(converted):
        if isinstance(node, dict):
            assert node.get("class_name") != "DTypePolicy"
            if "dtype" in node:
                assert isinstance(node["dtype"], str)


def test_bidirectional_names_and_mirrored_backward_layer():
    converted = keras3_to_keras2_config(_configs("masked_tagger")[1])
    bidirectional = converted["config"]["layers"][2]["config"]
    # Keras 3 wrote `forward_gru` and the automatic `backward_gru`.
    assert bidirectional["layer"]["config"]["name"] == "gru"
    assert "backward_layer" not in bidirectional


def test_custom_backward_layer_is_kept():
    converted = keras3_to_keras2_config(_configs("spec_example_2")[1])
    bidirectional = converted["config"]["layers"][1]["config"]
    assert bidirectional["layer"]["config"]["name"] == "lstm_2"
    backward = bidirectional["backward_layer"]["config"]
    assert backward["name"] == "lstm_3"
    assert backward["activation"] == "relu" and backward["go_backwards"] is True


def test_input_is_not_modified():
    keras3 = _configs("spec_example_1")[1]
    before = copy.deepcopy(keras3)
    keras3_to_keras2_config(keras3)
    assert keras3 == before


def _keras2_golden_configs():
    paths = sorted((GOLDEN / "keras2").glob("*.json"))
    configs = [json.loads(p.read_text())["config"] for p in paths]
    configs += [
        read_keras_file(GOLDEN / "files" / "tf-keras-2.21" / f"{m}.{e}").config
        for m in MODELS
        for e in ("h5", "keras")
    ]
    return configs


def test_keras2_configs_pass_through_unchanged():
    configs = _keras2_golden_configs()
    assert len(configs) > 40
    for config in configs:
        assert keras3_to_keras2_config(config) == config


# --- Single rules, on small hand-written Keras 3 configs ---------------------------------

_FLOAT32 = {
    "module": "keras",
    "class_name": "DTypePolicy",
    "config": {"name": "float32"},
    "registered_name": None,
}


def _keras3_rnn(class_name="LSTM", **overrides):
    config = {
        "name": "lstm",
        "trainable": True,
        "dtype": copy.deepcopy(_FLOAT32),
        "return_sequences": True,
        "return_state": False,
        "go_backwards": False,
        "stateful": False,
        "unroll": False,
        "zero_output_for_mask": False,
        "units": 3,
        "activation": "tanh",
        "recurrent_activation": "sigmoid",
        "use_bias": True,
        "kernel_initializer": {
            "module": "keras.initializers",
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
            "registered_name": None,
        },
        "dropout": 0.0,
        "recurrent_dropout": 0.0,
        "seed": None,
    }
    config.update(overrides)
    return {
        "module": "keras.layers",
        "class_name": class_name,
        "config": config,
        "registered_name": None,
    }


def test_rnn_gets_keras2_keys_and_loses_inert_keras3_keys():
    config = keras3_to_keras2_config(_keras3_rnn(use_cudnn="auto"))["config"]
    assert config["time_major"] is False
    assert config["implementation"] == 2
    assert config["dtype"] == "float32"
    for key in ("seed", "zero_output_for_mask", "use_cudnn"):
        assert key not in config
    assert config["kernel_initializer"]["config"] == {"seed": None}


def test_simple_rnn_gets_no_implementation():
    config = keras3_to_keras2_config(_keras3_rnn("SimpleRNN"))["config"]
    assert "implementation" not in config and config["time_major"] is False


def test_seed_is_dropped_without_dropout_and_kept_with_it():
    assert "seed" not in keras3_to_keras2_config(_keras3_rnn(seed=3))["config"]
    assert keras3_to_keras2_config(_keras3_rnn(seed=3, dropout=0.2))["config"]["seed"] == 3
    assert (
        keras3_to_keras2_config(_keras3_rnn(seed=3, recurrent_dropout=0.2))["config"]["seed"] == 3
    )


def test_zero_output_for_mask_is_kept_only_where_it_matters():
    assert (
        keras3_to_keras2_config(_keras3_rnn(zero_output_for_mask=True))["config"][
            "zero_output_for_mask"
        ]
        is True
    )
    wrapped = {
        "module": "keras.layers",
        "class_name": "Bidirectional",
        "config": {
            "name": "bidirectional",
            "trainable": True,
            "dtype": copy.deepcopy(_FLOAT32),
            "merge_mode": "concat",
            "layer": _keras3_rnn(name="forward_lstm", zero_output_for_mask=True),
            "backward_layer": _keras3_rnn(
                name="backward_lstm", zero_output_for_mask=True, go_backwards=True
            ),
        },
        "registered_name": None,
    }
    config = keras3_to_keras2_config(wrapped)["config"]
    assert "backward_layer" not in config
    assert "zero_output_for_mask" not in config["layer"]["config"]
    assert config["layer"]["config"]["name"] == "lstm"


def test_backward_layer_with_same_direction_is_not_a_mirror():
    wrapped = {
        "class_name": "Bidirectional",
        "config": {
            "name": "b",
            "layer": _keras3_rnn(name="forward_lstm"),
            "backward_layer": _keras3_rnn(name="backward_lstm"),
            "merge_mode": "sum",
        },
    }
    assert "backward_layer" in keras3_to_keras2_config(wrapped)["config"]


def test_dtype_policies():
    mixed = {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "mixed_float16"},
        "registered_name": None,
    }
    quantized = {
        "module": "keras",
        "class_name": "QuantizedDTypePolicy",
        "config": {"name": "int8_from_float32"},
    }
    assert keras3_to_keras2_config(_keras3_rnn(dtype=mixed))["config"]["dtype"] == {
        "module": "keras.mixed_precision",
        "class_name": "Policy",
        "config": {"name": "mixed_float16"},
        "registered_name": None,
    }
    # Kept as is, so that a Keras 2 deserializer refuses it.
    assert keras3_to_keras2_config(_keras3_rnn(dtype=quantized))["config"]["dtype"] == quantized
    assert keras3_to_keras2_config(_keras3_rnn(dtype="float64"))["config"]["dtype"] == "float64"


def test_dense_and_embedding_keys():
    dense = {
        "class_name": "Dense",
        "config": {"name": "d", "units": 2, "quantization_config": None, "lora_rank": None},
    }
    config = keras3_to_keras2_config(dense)["config"]
    assert config == {"name": "d", "units": 2, "activity_regularizer": None}
    quantized = {
        "class_name": "Dense",
        "config": {"name": "d", "quantization_config": {"mode": "int8"}},
    }
    assert keras3_to_keras2_config(quantized)["config"]["quantization_config"] == {"mode": "int8"}
    lora = {"class_name": "Dense", "config": {"name": "d", "lora_rank": 4, "lora_alpha": 4.0}}
    assert keras3_to_keras2_config(lora)["config"]["lora_rank"] == 4
    embedding = {"class_name": "Embedding", "config": {"name": "e", "quantization_config": None}}
    assert keras3_to_keras2_config(embedding)["config"] == {"name": "e", "input_length": None}


def test_sequential_model_keys():
    model = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "s", "trainable": True, "dtype": copy.deepcopy(_FLOAT32), "layers": []},
        "compile_config": {},
    }
    assert keras3_to_keras2_config(model) == {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "s", "layers": []},
    }
    model["config"]["trainable"] = False
    assert keras3_to_keras2_config(model)["config"]["trainable"] is False


def _tensor(layer, node=0, index=0, shape=(None, 5, 4)):
    return {
        "class_name": "__keras_tensor__",
        "config": {"shape": list(shape), "dtype": "float32", "keras_history": [layer, node, index]},
    }


def _functional(layers, inputs, outputs):
    return {
        "module": "keras",
        "class_name": "Functional",
        "config": {
            "name": "functional",
            "trainable": True,
            "layers": layers,
            "input_layers": inputs,
            "output_layers": outputs,
        },
        "registered_name": "Functional",
    }


def _entry(class_name, name, nodes, **config):
    return {
        "module": "keras.layers",
        "class_name": class_name,
        "config": {"name": name, **config},
        "registered_name": None,
        "name": name,
        "inbound_nodes": nodes,
    }


def test_functional_layer_calls():
    # The shape of the configs Keras 3.15 writes for functional models.
    model = _functional(
        [
            _entry(
                "InputLayer",
                "seq",
                [],
                batch_shape=[None, 5, 4],
                dtype="float32",
                sparse=False,
                ragged=False,
            ),
            _entry(
                "InputLayer",
                "h0",
                [],
                batch_shape=[None, 3],
                dtype="float32",
                sparse=False,
                ragged=False,
            ),
            _entry(
                "Bidirectional",
                "bidirectional",
                [
                    {
                        "args": [_tensor("seq")],
                        "kwargs": {"initial_state": [_tensor("h0"), _tensor("h0")]},
                    }
                ],
                layer=_keras3_rnn("GRU", name="forward_gru"),
                backward_layer=_keras3_rnn("GRU", name="backward_gru", go_backwards=True),
                merge_mode="concat",
            ),
            _entry(
                "Concatenate",
                "concatenate",
                [{"args": [[_tensor("bidirectional"), _tensor("seq")]], "kwargs": {}}],
                axis=-1,
            ),
        ],
        [["seq", 0, 0], ["h0", 0, 0]],
        ["concatenate", 0, 0],
    )
    config = keras3_to_keras2_config(model)["config"]
    assert "trainable" not in config
    assert config["input_layers"] == [["seq", 0, 0], ["h0", 0, 0]]
    assert config["output_layers"] == [["concatenate", 0, 0]]
    nodes = {layer["name"]: layer["inbound_nodes"] for layer in config["layers"]}
    assert nodes["seq"] == []
    # Layer calls keep Keras 3's form; the Functional reader takes both forms.
    assert nodes["bidirectional"] == [
        {"args": [_tensor("seq")], "kwargs": {"initial_state": [_tensor("h0"), _tensor("h0")]}}
    ]
    assert config["layers"][0]["config"]["batch_input_shape"] == [None, 5, 4]


def test_functional_mask_operations_are_kept():
    # Keras 3 writes e.g. `ops.not_equal(x, 0.0)` this way, to compute masks.
    node = {"args": [_tensor("seq"), 0.0], "kwargs": {}}
    model = _functional(
        [_entry("NotEqual", "not_equal", [node])],
        [["seq", 0, 0]],
        [["not_equal", 0, 0]],
    )
    assert keras3_to_keras2_config(model)["config"]["layers"][0]["inbound_nodes"] == [node]


@pytest.mark.parametrize(
    "bad",
    [None, [], {"config": {}}, {"class_name": "Dense"}, {"class_name": "Dense", "config": []}],
)
def test_not_a_serialized_object(bad):
    with pytest.raises(
        ValueError, match=r"Expected `config` to be a serialized Keras object.*Received: config="
    ):
        keras3_to_keras2_config(bad)
