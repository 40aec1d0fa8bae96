"""PackedSequence inputs: RNN layers and Bidirectional, as torch.nn.LSTM takes them."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from birnn.layers import GRU, LSTM, RNN, Bidirectional, LSTMCell, SimpleRNN

LENGTHS = torch.tensor([3, 6, 1, 4])


def _padded():
    x = torch.randn(4, 6, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.arange(6) < LENGTHS.unsqueeze(1)
    return x * mask.unsqueeze(-1), mask


LAYERS = {
    "lstm": lambda: LSTM(5, return_sequences=True),
    "gru-states": lambda: GRU(5, return_sequences=True, return_state=True),
    "simple-rnn-last": lambda: SimpleRNN(5),
    "rnn-cell-time-major": lambda: RNN(LSTMCell(5), return_sequences=True, time_major=True),
    "bidirectional": lambda: Bidirectional(LSTM(5, return_sequences=True)),
    "bidirectional-none": lambda: Bidirectional(GRU(5, return_sequences=True), merge_mode=None),
    "bidirectional-states": lambda: Bidirectional(LSTM(5, return_state=True)),
    "bidirectional-torch-lstm": lambda: Bidirectional(nn.LSTM(3, 5, batch_first=True)),
}


def _as_list(result):
    return list(result) if isinstance(result, list) else [result]


@pytest.mark.parametrize("enforce_sorted", [False, True], ids=["unsorted", "sorted"])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_packed_inputs_give_the_masked_call_s_numbers_and_pack_sequence_outputs(
    name, enforce_sorted
):
    torch.manual_seed(0)
    layer = LAYERS[name]()
    x, mask = _padded()
    lengths = LENGTHS
    if enforce_sorted:
        order = torch.argsort(LENGTHS, descending=True)
        x, mask, lengths = x[order], mask[order], LENGTHS[order]
    time_major = getattr(layer, "time_major", False)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=enforce_sorted)
    got = _as_list(layer(packed))
    if time_major:
        expected = _as_list(layer(x.transpose(0, 1), mask=mask.t()))
    else:
        expected = _as_list(layer(x, mask=mask))
    assert len(got) == len(expected)
    for output, want in zip(got, expected, strict=True):
        if isinstance(output, PackedSequence):
            assert torch.equal(output.batch_sizes, packed.batch_sizes)
            padded, output_lengths = pad_packed_sequence(output, batch_first=True)
            assert torch.equal(output_lengths, lengths)
            want = want.transpose(0, 1) if time_major else want
            # A packed output holds the valid steps only; a masked call also outputs there.
            valid = mask[:, : padded.shape[1]].unsqueeze(-1)
            torch.testing.assert_close(padded, want[:, : padded.shape[1]] * valid)
        else:
            torch.testing.assert_close(output, want)


def test_a_packed_call_builds_the_layer_and_trains():
    layer = Bidirectional(GRU(4, return_sequences=True))
    x, _ = _padded()
    packed = pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False)
    output = layer(packed)
    assert isinstance(output, PackedSequence) and output.data.shape == (14, 8)
    output.data.sum().backward()
    assert all(p.grad is not None for p in layer.parameters())


def test_a_mask_with_a_packed_sequence_is_refused():
    x, mask = _padded()
    packed = pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False)
    with pytest.raises(ValueError, match="mask must be None when inputs is a PackedSequence"):
        LSTM(3)(packed, mask=mask)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_packed_bidirectional_over_a_torch_module_equals_torch_s_own_bidirectional_module(kind):
    """An independent reference: torch's bidirectional module with the two directions' weights."""
    torch.manual_seed(0)
    make = nn.LSTM if kind == "lstm" else nn.GRU
    layer = Bidirectional(make(3, 5, batch_first=True))
    reference = make(3, 5, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for name, param in layer.forward_layer.named_parameters():
            getattr(reference, name).copy_(param)
        for name, param in layer.backward_layer.named_parameters():
            getattr(reference, name + "_reverse").copy_(param)
    x, _ = _padded()
    packed = pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False)
    got = layer(packed)
    want, _ = reference(packed)
    assert isinstance(got, PackedSequence)
    got_padded, got_lengths = pad_packed_sequence(got, batch_first=True)
    want_padded, _ = pad_packed_sequence(want, batch_first=True)
    assert torch.equal(got_lengths, LENGTHS)
    torch.testing.assert_close(got_padded, want_padded)
