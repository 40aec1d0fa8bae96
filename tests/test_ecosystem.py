"""The layers in the PyTorch ecosystem: dtypes and devices, autocast, torch.compile,
ONNX export and DistributedDataParallel.
"""

from __future__ import annotations

import datetime
import io
import os
import socket
import traceback
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from birnn.layers import GRU, LSTM, Bidirectional, SimpleRNN

X = torch.randn(3, 6, 4, generator=torch.Generator().manual_seed(0))
MASK = torch.tensor([[True] * 6, [True] * 4 + [False] * 2, [False, True, True, False, True, True]])

LAYER_TYPES = {
    "lstm": lambda: LSTM(5, return_sequences=True),
    "gru": lambda: GRU(5, return_sequences=True),
    "simple-rnn": lambda: SimpleRNN(5, return_sequences=True),
    "lstm-hard-sigmoid": lambda: LSTM(
        5, recurrent_activation="hard_sigmoid", return_sequences=True
    ),
    "gru-reset-before": lambda: GRU(5, reset_after=False, return_sequences=True),
}


class Tagger(nn.Module):
    """A small model: a Bidirectional layer and a linear head on every step."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.encoder = Bidirectional(layer)
        self.head = nn.Linear(10, 2)
        self.encoder(X[:1, :1])  # builds the weights

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.encoder(x, mask=mask))


# -- dtypes and devices -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", LAYER_TYPES)
def test_double_after_build_runs_float64(kind):
    layer = Bidirectional(LAYER_TYPES[kind]())
    expected = layer(X, mask=MASK)
    layer.double()
    output = layer(X.double(), mask=MASK)
    assert layer.dtype == torch.float64
    assert all(w.dtype == torch.float64 for w in layer.weights)
    assert output.dtype == torch.float64
    torch.testing.assert_close(output, expected.double(), rtol=1e-5, atol=1e-6)


def test_to_dtype_and_device_moves_weights_and_follows_inputs():
    layer = LSTM(5, return_state=True)
    layer(X)
    layer.to(device="cpu", dtype=torch.float64)
    output, h, c = layer(X)  # float32 inputs take the layer's dtype
    assert output.dtype == h.dtype == c.dtype == torch.float64
    assert layer.cell.kernel.dtype == torch.float64


def test_double_before_build_builds_float64_weights():
    layer = Bidirectional(GRU(5)).double()
    assert layer(X).dtype == torch.float64
    assert all(w.dtype == torch.float64 for w in layer.weights)


@pytest.mark.parametrize("kind", LAYER_TYPES)
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_bfloat16_autocast_is_close_to_float32(kind, masked):
    layer = Bidirectional(LAYER_TYPES[kind]())
    mask = MASK if masked else None
    expected = layer(X, mask=mask)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output = layer(X, mask=mask)
    assert output.dtype in (torch.bfloat16, torch.float32)
    # bfloat16 keeps 8 bits of mantissa: about 2 decimal digits.
    torch.testing.assert_close(output.float(), expected, rtol=0.05, atol=0.03)


# -- torch.compile ----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["aot_eager"])
def test_torch_compile_gives_the_same_outputs_and_gradients(backend):
    torch._dynamo.reset()
    model = Tagger(LSTM(5, return_sequences=True))
    compiled = torch.compile(model, backend=backend)
    for mask in (MASK, None):
        x = X.clone().requires_grad_()
        expected = model(x, mask=mask)
        (expected_grad,) = torch.autograd.grad(expected.square().sum(), x)
        output = compiled(x, mask=mask)
        (grad,) = torch.autograd.grad(output.square().sum(), x)
        torch.testing.assert_close(output, expected, rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(grad, expected_grad, rtol=1e-5, atol=1e-6)


# -- ONNX -------------------------------------------------------------------------------------


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_onnx_export_with_dynamic_batch_and_time_matches_onnxruntime(kind, masked):
    onnxruntime = pytest.importorskip("onnxruntime")
    model = Tagger(LAYER_TYPES[kind]()).eval()
    names = ["x", "mask"] if masked else ["x"]
    dynamic_axes = {name: {0: "batch", 1: "time"} for name in [*names, "y"]}
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (X, MASK) if masked else (X,),
            buffer,
            input_names=names,
            output_names=["y"],
            dynamic_axes=dynamic_axes,
            opset_version=17,
            dynamo=False,
        )
    session = onnxruntime.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    generator = torch.Generator().manual_seed(1)
    for batch, time in ((3, 6), (1, 2), (5, 11)):
        x = torch.randn(batch, time, 4, generator=generator)
        mask = torch.rand(batch, time, generator=generator) > 0.3
        feeds = {"x": x.numpy()}
        if masked:
            feeds["mask"] = mask.numpy()
        (output,) = session.run(None, feeds)
        with torch.no_grad():
            expected = model(x, mask=mask if masked else None)
        np.testing.assert_allclose(output, expected.numpy(), rtol=1e-5, atol=1e-5)


def _stacked_tagger() -> nn.Module:
    """Both fused kernels (GRU, then LSTM) under one mask, built."""
    torch.manual_seed(0)
    model = nn.ModuleList(
        [Bidirectional(GRU(5, return_sequences=True)), Bidirectional(LSTM(3, return_state=True))]
    )

    class Stacked(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = model

        def forward(self, x, mask):
            output, *states = self.layers[1](self.layers[0](x, mask=mask), mask=mask)
            return output, states[0]

    stacked = Stacked().eval()
    stacked(X, MASK)
    return stacked


def _inputs_at_other_batch_sizes():
    generator = torch.Generator().manual_seed(2)
    for batch in (5, 1):
        mask = torch.rand(batch, 6, generator=generator) > 0.3
        mask[0, 2] = False  # a hole
        mask[-1] = False  # an empty row
        yield torch.randn(batch, 6, 4, generator=generator), mask


@pytest.mark.filterwarnings("ignore:No complete tensor found")
def test_torch_export_with_a_mask_and_dynamic_batch_round_trips_at_other_batch_sizes():
    model = _stacked_tagger()
    batch = torch.export.Dim("batch")
    program = torch.export.export(
        model, (X, MASK), dynamic_shapes={"x": {0: batch}, "mask": {0: batch}}
    )
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    buffer.seek(0)
    loaded = torch.export.load(buffer).module()
    for x, mask in _inputs_at_other_batch_sizes():
        with torch.no_grad():
            expected = model(x, mask)
        for got, want in zip(loaded(x, mask), expected, strict=True):
            torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)


def test_default_onnx_exporter_matches_onnxruntime_at_another_batch_size():
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    model = _stacked_tagger()
    batch = torch.export.Dim("batch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            model, (X, MASK), dynamic_shapes={"x": {0: batch}, "mask": {0: batch}}, verbose=False
        )
    session = onnxruntime.InferenceSession(
        program.model_proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    names = [node.name for node in session.get_inputs()]
    for x, mask in _inputs_at_other_batch_sizes():
        outputs = session.run(None, dict(zip(names, (x.numpy(), mask.numpy()), strict=True)))
        with torch.no_grad():
            expected = model(x, mask)
        for got, want in zip(outputs, expected, strict=True):
            np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-5)


# -- DistributedDataParallel ------------------------------------------------------------------

STEPS, LEARNING_RATE = 3, 0.5


def _train(model: nn.Module, x: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = (model(x, mask=mask) - target).square().mean()
        loss.backward()
        optimizer.step()


def _ddp_worker(rank: int, world_size: int, port: int, folder: str) -> None:
    """Trains on this rank's rows of the batch; rank 0 saves the trained weights."""
    torch.set_num_threads(1)
    try:
        torch.distributed.init_process_group(
            "gloo",
            init_method=f"tcp://127.0.0.1:{port}",
            rank=rank,
            world_size=world_size,
            timeout=datetime.timedelta(seconds=60),
        )
        state, x, mask, target = torch.load(f"{folder}/inputs.pt")
        model = Tagger(LSTM(5, return_sequences=True))
        model.load_state_dict(state)
        ddp = nn.parallel.DistributedDataParallel(model)
        rows = slice(rank * len(x) // world_size, (rank + 1) * len(x) // world_size)
        _train(ddp, x[rows], mask[rows], target[rows])
        if rank == 0:
            torch.save(model.state_dict(), f"{folder}/trained.pt")
        torch.distributed.barrier()
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    # Gloo's process-group destructor can deadlock on the GIL (pytorch/pytorch#56297), in
    # destroy_process_group() or at interpreter exit: leave without running destructors.
    os._exit(0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_ddp_on_two_processes_trains_like_one_process_on_the_full_batch(tmp_path):
    torch.manual_seed(0)
    model = Tagger(LSTM(5, return_sequences=True))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(4, 6, 4)
    mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3] * 2)
    target = torch.randn(4, 6, 2)

    # Files, not queues or shared tensors: nothing can block a worker on its way out.
    torch.save((state, x, mask, target), tmp_path / "inputs.pt")
    torch.multiprocessing.spawn(
        _ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True
    )
    trained_in_parallel = torch.load(tmp_path / "trained.pt")

    _train(model, x, mask, target)
    trained = model.state_dict()
    assert not torch.equal(trained["head.weight"], state["head.weight"])
    for name, value in trained.items():
        torch.testing.assert_close(trained_in_parallel[name], value, rtol=0, atol=1e-6)
