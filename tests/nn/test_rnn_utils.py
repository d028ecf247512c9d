"""nn.utils.rnn: padding/packing values, gradients, errors; recurrent layers on packed input."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import gradcheck, gradgradcheck
from retrograd.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

from ._util import t64


def test_pack_padded_values_and_batch_sizes():
    x = rg.tensor(np.arange(12.0).reshape(4, 3))  # (T=4, B=3)
    p = pack_padded_sequence(x, [4, 2, 1])
    assert p.data.tolist() == [0, 1, 2, 3, 4, 6, 9]
    assert p.batch_sizes.tolist() == [3, 2, 1, 1] and p.batch_sizes.dtype == rg.int64
    assert p.sorted_indices is None and p.unsorted_indices is None


def test_unsorted_lengths_are_sorted_and_restored():
    x = rg.tensor(np.arange(12.0).reshape(3, 4))  # batch_first (B=3, T=4)
    p = pack_padded_sequence(x, rg.tensor([1, 4, 2]), batch_first=True, enforce_sorted=False)
    assert p.sorted_indices.tolist() == [1, 2, 0] and p.unsorted_indices.tolist() == [2, 0, 1]
    assert p.data.tolist() == [4, 8, 0, 5, 9, 6, 7]
    padded, lengths = pad_packed_sequence(p, batch_first=True, padding_value=-1)
    assert lengths.tolist() == [1, 4, 2]
    assert padded.tolist() == [[0, -1, -1, -1], [4, 5, 6, 7], [8, 9, -1, -1]]
    assert [s.tolist() for s in unpack_sequence(p)] == [[0], [4, 5, 6, 7], [8, 9]]


def test_pad_sequence_sides_and_unpad():
    a, b = rg.tensor([1.0, 2.0, 3.0]), rg.tensor([4.0])
    assert pad_sequence([a, b]).tolist() == [[1, 4], [2, 0], [3, 0]]
    assert pad_sequence([a, b], batch_first=True, padding_value=9, padding_side="left").tolist() == [
        [1, 2, 3],
        [9, 9, 4],
    ]
    parts = unpad_sequence(pad_sequence([a, b]), rg.tensor([3, 1]))
    assert [p.tolist() for p in parts] == [[1, 2, 3], [4]]


def test_gradients_flow_through_pack_and_pad():
    x = t64(np.random.default_rng(0).standard_normal((4, 3, 2)), requires_grad=True)

    def roundtrip(x):
        p = pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
        return pad_packed_sequence(p, padding_value=0.5, total_length=5)[0]

    assert gradcheck(roundtrip, (x,))
    seqs = [t64(np.ones((n, 2)), requires_grad=True) for n in (3, 1)]
    assert gradcheck(lambda a, b: pack_sequence([a, b]).data * 2, tuple(seqs))


def test_errors():
    x = rg.zeros(3, 2)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        pack_padded_sequence(x, [1, 2])
    with pytest.raises(RuntimeError, match="greater than 0"):
        pack_padded_sequence(x, [3, 0])
    with pytest.raises(RuntimeError, match="exceeds"):
        pack_padded_sequence(x, [4, 2])
    with pytest.raises(ValueError, match="total_length"):
        pad_packed_sequence(pack_padded_sequence(x, [3, 2]), total_length=2)
    with pytest.raises(RuntimeError, match="padding_side"):
        pad_sequence([x], padding_side="middle")


def test_packed_sequence_to_and_fields():
    p = pack_sequence([rg.tensor([1.0, 2.0]), rg.tensor([3.0])])
    d = p.double()
    assert isinstance(d, PackedSequence) and d.data.dtype == rg.float64 and d.batch_sizes.tolist() == [2, 1]
    assert p.to(rg.float32) is p
    data, batch_sizes, _, _ = p
    assert PackedSequence((data, batch_sizes)).batch_sizes is batch_sizes
    assert not p.is_cuda


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_packed_input_gives_last_valid_step_state(cls):
    """The final state of each sequence equals running the module on that sequence alone."""
    rg.manual_seed(0)
    m = cls(2, 3, bidirectional=True).double()
    rng = np.random.default_rng(1)
    seqs = [t64(rng.standard_normal((n, 2))) for n in (2, 4, 1)]
    out, h = m(pack_sequence(seqs, enforce_sorted=False))
    assert isinstance(out, PackedSequence)
    h = h[0] if cls is nn.LSTM else h
    outs = unpack_sequence(out)
    for i, s in enumerate(seqs):
        o_i, h_i = m(s)
        h_i = h_i[0] if cls is nn.LSTM else h_i
        np.testing.assert_allclose(outs[i].detach().numpy(), o_i.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(h[:, i].detach().numpy(), h_i.detach().numpy(), rtol=1e-10, atol=1e-12)


def _node_names(t):
    names, stack, seen = [], [t.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        names.append(fn.name())
        stack.extend(f for f, _ in fn.next_functions)
    return names


@pytest.mark.parametrize(
    "cls, node", [(nn.LSTM, "LstmLayerBackward0"), (nn.GRU, "GruLayerBackward0"), (nn.RNN, "RnnLayerBackward0")]
)
def test_packed_input_runs_one_layer_op_per_direction(cls, node):
    m = cls(2, 3, num_layers=2, bidirectional=True)
    x = rg.randn(5, 3, 2, requires_grad=True)
    out, h = m(pack_padded_sequence(x, [5, 3, 2]))
    h = h[0] if cls is nn.LSTM else h
    names = _node_names(h.sum() + out.data.sum())
    assert names.count(node) == 4
    assert not {"SigmoidBackward0", "TanhBackward0", "LstmCellBackward0"} & set(names)


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_packed_input_with_initial_state_gradcheck_and_gradgradcheck(cls):
    # sequences of lengths 3, 1, 2 (unsorted), both directions; gradients also reach the
    # initial states, which the shorter sequences' reverse direction starts from late
    rg.manual_seed(0)
    m = cls(2, 2, bidirectional=True).double()
    rng = np.random.default_rng(3)
    x = t64(rng.standard_normal((3, 3, 2)), requires_grad=True)
    states = [t64(rng.standard_normal((2, 3, 2)), requires_grad=True) for _ in range(2 if cls is nn.LSTM else 1)]

    def fn(x, *states):
        hx = tuple(states) if cls is nn.LSTM else states[0]
        out, h = m(pack_padded_sequence(x, [3, 1, 2], enforce_sorted=False), hx)
        return (out.data,) + (tuple(h) if cls is nn.LSTM else (h,))

    assert gradcheck(fn, (x, *states), check_forward_ad=True)
    assert gradgradcheck(fn, (x, *states))


def test_packed_input_with_increasing_batch_sizes_is_refused():
    m = nn.GRU(2, 2)
    bad = PackedSequence(rg.randn(3, 2), rg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="non-increasing"):
        m(bad)


def test_packed_input_gradcheck():
    rg.manual_seed(0)
    m = nn.GRU(2, 2).double()
    x = t64(np.random.default_rng(2).standard_normal((3, 2, 2)), requires_grad=True)

    def fn(x, *params):
        out, h = m(pack_padded_sequence(x, [3, 1]))
        return out.data, h

    assert gradcheck(fn, (x,) + tuple(m.parameters()))
