"""Optimizers: Keras 2's update rules, defaults, configs and binding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from birnn import optimizers


def _run(optimizer_or_factory, steps=5, seed=0):
    torch.manual_seed(seed)
    w = torch.nn.Parameter(torch.randn(4, 3))
    target = torch.randn(4, 3)
    optimizer = optimizer_or_factory([w])
    for _ in range(steps):
        optimizer.zero_grad()
        ((w - target) ** 2).sum().backward()
        optimizer.step()
    return w.detach()


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (
            lambda p: optimizers.SGD(0.1, params=p),
            lambda p: torch.optim.SGD(p, lr=0.1),
        ),
        (
            lambda p: optimizers.SGD(0.1, momentum=0.9, nesterov=True, params=p),
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
        ),
        (
            lambda p: optimizers.RMSprop(0.01, epsilon=0.0, params=p),
            lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0),
        ),
        (
            lambda p: optimizers.Adam(0.01, epsilon=0.0, params=p),
            lambda p: torch.optim.Adam(p, lr=0.01, eps=0.0),
        ),
    ],
    ids=["sgd", "sgd_nesterov", "rmsprop_eps0", "adam_eps0"],
)
def test_update_rules_match_pytorch_where_the_math_agrees(ours, theirs):
    torch.testing.assert_close(_run(ours), _run(theirs), rtol=1e-5, atol=1e-6)


def test_rmsprop_puts_epsilon_inside_the_square_root_as_keras_does():
    w = torch.nn.Parameter(torch.tensor([0.0]))
    optimizer = optimizers.RMSprop(params=[w])
    w.grad = torch.tensor([1e-4])
    optimizer.step()
    v = 0.1 * 1e-8
    expected = -0.001 * 1e-4 / np.sqrt(v + 1e-7)
    assert float(w.detach()) == pytest.approx(expected, rel=1e-5)
    torch_w = torch.nn.Parameter(torch.tensor([0.0]))
    torch_optimizer = torch.optim.RMSprop([torch_w], lr=0.001, alpha=0.9, eps=1e-7)
    torch_w.grad = torch.tensor([1e-4])
    torch_optimizer.step()
    assert abs(float(torch_w.detach()) - expected) > 1e-4  # why birnn does not use torch's RMSprop


def test_adagrad_and_adamax_follow_keras_formulas():
    w = torch.nn.Parameter(torch.tensor([1.0]))
    optimizer = optimizers.Adagrad(0.1, params=[w])
    for _ in range(2):
        w.grad = torch.tensor([1.0])
        optimizer.step()
    expected = 1.0 - 0.1 / np.sqrt(1.1 + 1e-7) - 0.1 / np.sqrt(2.1 + 1e-7)
    assert float(w.detach()) == pytest.approx(expected, rel=1e-6)
    w = torch.nn.Parameter(torch.tensor([1.0]))
    optimizer = optimizers.Adamax(0.1, params=[w])
    w.grad = torch.tensor([2.0])
    optimizer.step()
    assert float(w.detach()) == pytest.approx(0.9, rel=1e-6)


def test_names_resolve_with_keras_2_defaults():
    rmsprop = optimizers.get("rmsprop")
    assert isinstance(rmsprop, optimizers.RMSprop)
    config = rmsprop.get_config()
    assert (config["learning_rate"], config["rho"], config["momentum"]) == (0.001, 0.9, 0.0)
    assert (config["epsilon"], config["centered"]) == (1e-07, False)
    assert optimizers.get("sgd").learning_rate == 0.01
    assert optimizers.get("adam").get_config()["beta_2"] == 0.999


def test_keras_optimizer_dicts_round_trip():
    adam = optimizers.Adam(learning_rate=0.01, amsgrad=True, clipnorm=1.0)
    clone = optimizers.get(optimizers.serialize(adam))
    assert clone.get_config() == adam.get_config()
    legacy = optimizers.get({"class_name": "SGD", "config": {"lr": 0.5, "decay": 0.0}})
    assert legacy.learning_rate == 0.5


def test_clipnorm_limits_each_gradient():
    w = torch.nn.Parameter(torch.zeros(2))
    optimizer = optimizers.SGD(1.0, clipnorm=1.0, params=[w])
    w.grad = torch.tensor([3.0, 4.0])
    optimizer.step()
    torch.testing.assert_close(w.detach(), torch.tensor([-0.6, -0.8]))


def test_an_unbound_optimizer_binds_once():
    optimizer = optimizers.Adam()
    w = torch.nn.Parameter(torch.zeros(1))
    with pytest.raises(ValueError, match="has no weights yet"):
        optimizer.step()
    optimizer.bind([w])
    with pytest.raises(ValueError, match="already updates other weights"):
        optimizer.bind([w])


@pytest.mark.parametrize(
    "identifier, message",
    [
        ("adadelta_xl", "optimizer must be one of"),
        ({"class_name": "Adam", "config": {"decay": 0.1}}, "legacy `decay`"),
        ({"class_name": "Adam", "config": {"use_ema": True}}, "use_ema is not supported"),
    ],
)
def test_unsupported_optimizers_are_refused(identifier, message):
    with pytest.raises(ValueError, match=message):
        optimizers.get(identifier)


def test_torch_optimizers_and_factories_pass_through():
    w = torch.nn.Parameter(torch.zeros(1))
    torch_optimizer = torch.optim.SGD([w], lr=0.1)
    assert optimizers.get(torch_optimizer) is torch_optimizer
    assert callable(optimizers.get(lambda params: torch.optim.SGD(params, lr=0.1)))


def test_a_compiled_model_pickles_and_its_copy_trains():
    import copy
    import pickle

    import numpy as np

    from birnn.layers import LSTM, Bidirectional, Dense
    from birnn.models import Sequential

    model = Sequential([Bidirectional(LSTM(3), input_shape=(5, 2)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = np.ones((4, 5, 2), "float32"), np.ones((4, 1), "float32")
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        history = clone.fit(x, y, epochs=2, verbose=0)
        assert len(history.history["loss"]) == 2
    model.fit(x, y, verbose=0)
    pickle.loads(pickle.dumps(model)).fit(x, y, verbose=0)


def test_only_one_clipping_applies_as_in_tf_keras():
    from birnn.optimizers import SGD

    weight = torch.nn.Parameter(torch.tensor([1.0, 0.0]))
    optimizer = SGD(1.0, clipnorm=10.0, clipvalue=0.5, params=[weight])
    weight.grad = torch.tensor([3.0, 0.0])
    optimizer.step()
    assert weight.tolist() == [-2.0, 0.0]  # clipnorm wins; clipvalue is not applied too


def test_state_dict_keeps_the_step_count_for_bias_correction():
    from birnn.optimizers import Adam

    def train(steps, checkpoint=None):
        weight = torch.nn.Parameter(torch.tensor([1.0]))
        optimizer = Adam(0.1, params=[weight])
        if checkpoint is not None:
            with torch.no_grad():
                weight.copy_(checkpoint[0])
            optimizer.load_state_dict(checkpoint[1])
        for _ in range(steps):
            optimizer.zero_grad()
            (weight * weight).sum().backward()
            optimizer.step()
        return weight.detach().clone(), optimizer

    straight, _ = train(4)
    halfway, optimizer = train(2)
    resumed, resumed_optimizer = train(2, (halfway, optimizer.state_dict()))
    assert torch.equal(resumed, straight) and resumed_optimizer.iterations == 4


def test_keras3_optimizer_keys_with_defaults_are_accepted():
    from birnn.optimizers import get

    config = {"learning_rate": 0.01, "loss_scale_factor": None, "gradient_accumulation_steps": None}
    assert get({"class_name": "Adam", "config": config}).learning_rate == 0.01
    with pytest.raises(ValueError, match="gradient_accumulation_steps is not supported"):
        get({"class_name": "Adam", "config": {"gradient_accumulation_steps": 4}})
