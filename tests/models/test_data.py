"""Array handling for fit/evaluate/predict: dtypes, batches and the validation split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from birnn.models import _data


def test_floats_become_the_model_dtype_and_integers_stay():
    assert _data.as_tensor(np.zeros((2, 3)), "x", torch.float32).dtype == torch.float32
    assert _data.as_tensor(np.zeros((2, 3), np.int32), "x", torch.float32).dtype == torch.int32
    assert _data.as_tensor([[True, False]], "y", torch.float32).dtype == torch.float32


def test_non_numeric_or_scalar_inputs_are_refused():
    with pytest.raises(ValueError, match="x must be a numeric array"):
        _data.as_tensor(np.array(["a", "b"]), "x", torch.float32)
    with pytest.raises(ValueError, match="must have a batch axis"):
        _data.as_tensor(3.0, "x", torch.float32)
    with pytest.raises(ValueError, match="one array or tensor"):
        _data.as_tensor([np.zeros(2), np.zeros(2)], "x", torch.float32)


def test_batches_cover_every_sample_once():
    batches = list(_data.batch_indices(10, 4, shuffle=True))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(torch.cat(batches).tolist()) == list(range(10))


def test_validation_split_holds_out_the_last_samples():
    x, y = torch.arange(10).unsqueeze(1), torch.arange(10)
    x_train, _, (x_val, y_val) = _data.split_validation(x, y, 0.2)
    assert x_train.shape[0] == 8 and y_val.tolist() == [8, 9]
    with pytest.raises(ValueError, match="leaves no samples"):
        _data.split_validation(x[:1], y[:1], 0.5)
