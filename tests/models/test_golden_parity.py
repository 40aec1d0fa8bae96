"""The spec's two models as tf-keras 2.21 computed them: config, outputs and gradients."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from birnn.models import model_from_json

from ..conftest import golden_case_ids, load_golden_case

OUTPUT_TOLERANCE = {"atol": 1e-5, "rtol": 0}
GRADIENT_TOLERANCE = {"atol": 1e-4, "rtol": 1e-3}


@pytest.mark.parametrize("case_id", golden_case_ids("model"))
def test_model_from_keras_json_matches_tf_keras(case_id):
    spec, arrays = load_golden_case(case_id)
    model = model_from_json(json.dumps(spec["config"]))
    model.set_weights([arrays[key] for key in spec["weights"]])
    for call in spec["calls"]:
        x = arrays[call["x"]]
        np.testing.assert_allclose(
            model.predict(x, verbose=0), arrays[call["outputs"][0]], **OUTPUT_TOLERANCE
        )
        grads = call.get("grads")
        if not grads:
            continue
        model.eval()
        x = torch.tensor(x, requires_grad=True)
        projection = torch.tensor(arrays[grads["loss_projections"][0]])
        loss = (model(x) * projection).sum()
        gradients = torch.autograd.grad(loss, [x, *model.trainable_weights])
        expected = [arrays[grads["x"]], *(arrays[key] for key in grads["weights"])]
        for index, (gradient, target) in enumerate(zip(gradients, expected)):
            np.testing.assert_allclose(
                gradient.numpy(), target, **GRADIENT_TOLERANCE, err_msg=f"gradient {index}"
            )


@pytest.mark.parametrize("case_id", golden_case_ids("model"))
def test_model_config_writes_back_what_keras_wrote(case_id):
    spec, _ = load_golden_case(case_id)
    model = model_from_json(json.dumps(spec["config"]))
    ours = model.get_config()
    theirs = spec["config"]["config"]
    assert [layer["class_name"] for layer in ours["layers"]] == [
        layer["class_name"] for layer in theirs["layers"]
    ]
    for mine, keras in zip(ours["layers"], theirs["layers"]):
        if mine["class_name"] in ("InputLayer", "Dense", "Activation"):
            assert mine["config"] == keras["config"]
