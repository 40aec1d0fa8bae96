"""Keras Functional (and Sequential) model files load and compute what Keras computed.

Every file under ``tests/golden/functional`` (README there; the ``real_``, ``fn_dict_...``
and other generated cases come from ``tests/golden/make_functional_files.py``): each
``.h5``/``.keras`` loads with ``load_model`` and matches its ``.io.npz`` to 1e-5 through
``model.predict(x)`` and through ``model(torch.tensor(x))``, or is refused as the README
says.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from birnn.layers import Layer
from birnn.models import load_model

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "functional"
FILES = sorted(p for p in GOLDEN.glob("*/*") if p.suffix in (".h5", ".keras"))
REFUSED = ("refuse_lambda", "refuse_custom_layer")


def _file_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _io(path: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    data = np.load(path.with_suffix("").with_suffix(".io.npz"))
    xs = (
        [data["x"]] if "x" in data else [data[f"x{i}"] for i in range(len(data)) if f"x{i}" in data]
    )
    ys = (
        [data["y"]] if "y" in data else [data[f"y{i}"] for i in range(len(data)) if f"y{i}" in data]
    )
    return xs, ys


def _as_list(outputs) -> list:
    if isinstance(outputs, dict):
        return [outputs[key] for key in sorted(outputs)]
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _assert_matches(model, path: Path) -> None:
    xs, ys = _io(path)
    predicted = _as_list(model.predict(xs if len(xs) > 1 else xs[0], verbose=0))
    called = model([torch.tensor(x) for x in xs] if len(xs) > 1 else torch.tensor(xs[0]))
    called = [t.detach().numpy() for t in _as_list(called)]
    assert len(predicted) == len(ys) == len(called)
    for got, direct, expected in zip(predicted, called, ys):
        np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
        np.testing.assert_allclose(direct, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("path", [p for p in FILES if not p.stem.startswith(REFUSED)], ids=_file_id)
def test_file_loads_and_matches_keras(path):
    model = load_model(path)
    assert not model.training
    _assert_matches(model, path)


@pytest.mark.parametrize("path", [p for p in FILES if p.stem == "refuse_lambda"], ids=_file_id)
@pytest.mark.parametrize("safe_mode", [True, False])
def test_lambda_is_refused_and_never_run(path, safe_mode):
    with pytest.raises(ValueError) as info:
        load_model(path, safe_mode=safe_mode)
    message = str(info.value)
    assert "'every_other_step' (Lambda)" in message
    assert "Python bytecode" in message and "never runs" in message
    assert "custom_objects={'Lambda': YourLayer}" in message


class GatedScale(Layer):
    """``y = x * sigmoid(gate) + offset``, as a user would write the Keras layer in birnn."""

    def build(self, input_shape):
        self.gate = self.add_weight("gate", (input_shape[-1],))
        self.offset = self.add_weight("offset", (input_shape[-1],))

    def forward(self, inputs):
        return inputs * torch.sigmoid(self.gate) + self.offset


class GatedScaleModule(torch.nn.Module):
    """The same layer as a plain torch module with ``from_config`` (weights made lazily)."""

    def __init__(self, name=None):
        super().__init__()
        self.name = name
        self.gate = torch.nn.UninitializedParameter()
        self.offset = torch.nn.UninitializedParameter()

    @classmethod
    def from_config(cls, config):
        return cls(name=config["name"])

    def forward(self, inputs):
        if isinstance(self.gate, torch.nn.UninitializedParameter):
            self.gate.materialize((inputs.shape[-1],))
            self.offset.materialize((inputs.shape[-1],))
        return inputs * torch.sigmoid(self.gate) + self.offset


CUSTOM = [p for p in FILES if p.stem == "refuse_custom_layer"]


@pytest.mark.parametrize("path", CUSTOM, ids=_file_id)
def test_custom_layer_is_refused_by_name(path):
    with pytest.raises(
        ValueError, match=r"'gated_scale' \((devgolden>)?GatedScale\).*custom_objects"
    ):
        load_model(path)


@pytest.mark.parametrize("path", CUSTOM, ids=_file_id)
@pytest.mark.parametrize("key", ["GatedScale", "devgolden>GatedScale"])
@pytest.mark.parametrize("cls", [GatedScale, GatedScaleModule], ids=["Layer", "Module"])
def test_custom_layer_loads_with_custom_objects(path, key, cls):
    model = load_model(path, custom_objects={key: cls})
    assert isinstance(model.get_layer("gated_scale"), cls)
    _assert_matches(model, path)
