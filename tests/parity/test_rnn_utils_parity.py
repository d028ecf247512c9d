"""Parity with PyTorch for nn.utils.rnn and recurrent layers fed a PackedSequence: same weights,
same inputs; outputs, final states and gradients must agree."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
from retrograd import nn  # noqa: E402
from retrograd.nn.utils import rnn as rg_rnn  # noqa: E402

t_rnn = torch.nn.utils.rnn
LENGTHS = [2, 5, 1, 4]


def _close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-7, atol=1e-10)


def _pair_inputs(shape):
    x = np.random.default_rng(1).standard_normal(shape)
    return torch.tensor(x, requires_grad=True), rg.tensor(x, requires_grad=True)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_pad_roundtrip(batch_first, enforce_sorted):
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    shape = (4, 5, 3) if batch_first else (5, 4, 3)
    tx, rx = _pair_inputs(shape)
    tp = t_rnn.pack_padded_sequence(tx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    rp = rg_rnn.pack_padded_sequence(rx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    _close(rp.data, tp.data)
    assert rp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    for a, b in ((rp.sorted_indices, tp.sorted_indices), (rp.unsorted_indices, tp.unsorted_indices)):
        assert (a is None) == (b is None) and (a is None or a.tolist() == b.tolist())
    tpad, tlen = t_rnn.pad_packed_sequence(tp, batch_first=batch_first, padding_value=-2.0, total_length=6)
    rpad, rlen = rg_rnn.pad_packed_sequence(rp, batch_first=batch_first, padding_value=-2.0, total_length=6)
    _close(rpad, tpad)
    assert rlen.tolist() == tlen.tolist()
    w = np.random.default_rng(2).standard_normal(tuple(tpad.shape))
    (tpad * torch.tensor(w)).sum().backward()
    (rpad * rg.tensor(w)).sum().backward()
    _close(rx.grad, tx.grad)


@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_and_pack_sequence(side):
    rng = np.random.default_rng(3)
    seqs = [rng.standard_normal((n, 2)) for n in LENGTHS]
    t_seqs = [torch.tensor(s, requires_grad=True) for s in seqs]
    r_seqs = [rg.tensor(s, requires_grad=True) for s in seqs]
    _close(rg_rnn.pad_sequence(r_seqs, True, 1.5, side), t_rnn.pad_sequence(t_seqs, True, 1.5, side))
    tp, rp = t_rnn.pack_sequence(t_seqs, enforce_sorted=False), rg_rnn.pack_sequence(r_seqs, enforce_sorted=False)
    _close(rp.data, tp.data)
    for a, b in zip(rg_rnn.unpack_sequence(rp), t_rnn.unpack_sequence(tp)):
        _close(a, b)
    (tp.data**2).sum().backward()
    (rp.data**2).sum().backward()
    for a, b in zip(r_seqs, t_seqs):
        _close(a.grad, b.grad)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("LSTM", {"num_layers": 2, "bidirectional": True}),
        ("LSTM", {"proj_size": 2}),
        ("GRU", {"num_layers": 2, "bidirectional": True}),
        ("RNN", {"nonlinearity": "relu", "bidirectional": True}),
        ("RNN", {"batch_first": True}),
    ],
)
@pytest.mark.parametrize("with_hx", [False, True])
def test_recurrent_layer_on_packed_input(name, kwargs, with_hx):
    torch.manual_seed(0)
    t_mod = getattr(torch.nn, name)(3, 4, **kwargs).double()
    r_mod = getattr(nn, name)(3, 4, **kwargs).double()
    r_mod.load_state_dict({k: rg.tensor(v.detach().numpy()) for k, v in t_mod.state_dict().items()})
    batch_first = kwargs.get("batch_first", False)
    tx, rx = _pair_inputs((4, 5, 3) if batch_first else (5, 4, 3))
    tp = t_rnn.pack_padded_sequence(tx, LENGTHS, batch_first=batch_first, enforce_sorted=False)
    rp = rg_rnn.pack_padded_sequence(rx, LENGTHS, batch_first=batch_first, enforce_sorted=False)
    t_args, r_args = (tp,), (rp,)
    if with_hx:
        d = 2 if kwargs.get("bidirectional") else 1
        n = d * kwargs.get("num_layers", 1)
        h_size = kwargs.get("proj_size") or 4
        rng = np.random.default_rng(4)
        hx = [rng.standard_normal((n, 4, h_size))] + ([rng.standard_normal((n, 4, 4))] if name == "LSTM" else [])
        t_args += (tuple(torch.tensor(h) for h in hx) if name == "LSTM" else torch.tensor(hx[0]),)
        r_args += (tuple(rg.tensor(h) for h in hx) if name == "LSTM" else rg.tensor(hx[0]),)
    t_out, t_h = t_mod(*t_args)
    r_out, r_h = r_mod(*r_args)
    assert isinstance(r_out, rg_rnn.PackedSequence)
    _close(r_out.data, t_out.data)
    assert r_out.unsorted_indices.tolist() == t_out.unsorted_indices.tolist()
    t_h, r_h = (t_h, r_h) if name == "LSTM" else ((t_h,), (r_h,))
    for a, b in zip(r_h, t_h):
        _close(a, b)
    rng = np.random.default_rng(5)
    weights = [rng.standard_normal(tuple(o.shape)) for o in (t_out.data,) + tuple(t_h)]
    sum((o * torch.tensor(w)).sum() for o, w in zip((t_out.data,) + tuple(t_h), weights)).backward()
    sum((o * rg.tensor(w)).sum() for o, w in zip((r_out.data,) + tuple(r_h), weights)).backward()
    _close(rx.grad, tx.grad)
    for (k, a), (_, b) in zip(t_mod.named_parameters(), r_mod.named_parameters()):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-7, atol=1e-10, err_msg=k)
