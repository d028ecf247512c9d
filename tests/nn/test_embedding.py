"""Embedding and EmbeddingBag against NumPy; padding_idx, from_pretrained, max_norm, sparse."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

from ._util import assert_normal, module_gradcheck, t64


def test_embedding_init_and_padding_row():
    e = nn.Embedding(400, 8, padding_idx=3)
    assert e.weight.shape == (400, 8)
    assert not e.weight.detach().numpy()[3].any()
    assert_normal(e.weight, 0.0, 1.0)
    assert nn.Embedding(10, 2, padding_idx=-1).padding_idx == 9
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(10, 2, padding_idx=10)
    assert repr(nn.Embedding(10, 3, padding_idx=0, sparse=True)) == "Embedding(10, 3, padding_idx=0, sparse=True)"
    assert repr(nn.Embedding(10, 3, max_norm=1.0)) == "Embedding(10, 3, max_norm=1.0)"


def test_embedding_forward_and_padding_gradient():
    e = nn.Embedding(10, 3, padding_idx=0)
    idx = np.array([[1, 0, 4], [4, 9, 0]])
    out = e(rg.tensor(idx))
    np.testing.assert_array_equal(out.detach().numpy(), e.weight.detach().numpy()[idx])
    out.sum().backward()
    g = e.weight.grad.to_dense() if e.weight.grad.is_sparse else e.weight.grad
    expected = np.zeros((10, 3))
    np.add.at(expected, idx.ravel(), 1.0)
    expected[0] = 0
    np.testing.assert_allclose(g.numpy(), expected)


def test_embedding_from_pretrained():
    table = rg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    e = nn.Embedding.from_pretrained(table)
    assert not e.weight.requires_grad and e.weight.data_ptr() == table.data_ptr()
    assert e(rg.tensor([2, 0])).tolist() == [[5.0, 6.0], [1.0, 2.0]]
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(rg.ones(3))


def test_embedding_max_norm_renormalises_looked_up_rows():
    e = nn.Embedding(5, 4, max_norm=1.0)
    with rg.no_grad():
        e.weight.mul_(10)
    before = e.weight.detach().numpy().copy()
    e(rg.tensor([1, 3]))
    norms = np.linalg.norm(e.weight.detach().numpy(), axis=1)
    assert norms[1] <= 1.0 + 1e-5 and norms[3] <= 1.0 + 1e-5
    np.testing.assert_array_equal(e.weight.detach().numpy()[[0, 2, 4]], before[[0, 2, 4]])


def test_embedding_sparse_gradient():
    e = nn.Embedding(1000, 4, sparse=True)
    e(rg.tensor([3, 7, 3])).sum().backward()
    g = e.weight.grad
    assert g.is_sparse
    dense = g.to_dense().numpy()
    assert dense[3].tolist() == [2.0] * 4 and dense[7].tolist() == [1.0] * 4
    assert np.count_nonzero(dense.any(1)) == 2


def test_embedding_gradcheck():
    e = nn.Embedding(4, 2)
    e.double()
    idx = rg.tensor([[0, 2], [2, 3]])
    assert module_gradcheck(_Lookup(e, idx))


class _Lookup(nn.Module):
    def __init__(self, emb, idx, **kw):
        super().__init__()
        self.emb = emb
        self.idx = idx
        self.kw = kw

    def forward(self):
        return self.emb(self.idx, **self.kw)


def np_bags(weight, idx, offsets, mode, psw=None, include_last=False, padding_idx=None):
    ends = list(offsets[1:]) + ([] if include_last else [len(idx)])
    starts = list(offsets[: len(ends)])
    out = []
    for s, e in zip(starts, ends):
        ids = [i for i in range(s, e) if idx[i] != padding_idx]
        rows = weight[idx[ids]]
        if psw is not None:
            rows = rows * psw[ids][:, None]
        if not len(ids):
            out.append(np.zeros(weight.shape[1]))
        elif mode == "sum":
            out.append(rows.sum(0))
        elif mode == "mean":
            out.append(rows.mean(0))
        else:
            out.append(rows.max(0))
    return np.stack(out)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_modes(mode):
    bag = nn.EmbeddingBag(10, 3, mode=mode).double()
    w = bag.weight.detach().numpy()
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9])
    offsets = np.array([0, 4])
    out = bag(rg.tensor(idx), rg.tensor(offsets))
    np.testing.assert_allclose(out.detach().numpy(), np_bags(w, idx, offsets, mode), rtol=1e-12)
    two_d = np.array([[1, 2, 4], [4, 3, 9]])
    np.testing.assert_allclose(
        bag(rg.tensor(two_d)).detach().numpy(), np_bags(w, two_d.ravel(), np.array([0, 3]), mode), rtol=1e-12
    )


def test_embedding_bag_weights_last_offset_padding_and_grad():
    bag = nn.EmbeddingBag(10, 3, mode="sum", include_last_offset=True, padding_idx=2).double()
    assert not bag.weight.detach().numpy()[2].any()
    w = bag.weight.detach().numpy()
    idx = np.array([1, 2, 4, 5, 4, 3])
    offsets = np.array([0, 2, 6])
    psw = np.random.rand(6)
    out = bag(rg.tensor(idx), rg.tensor(offsets), per_sample_weights=t64(psw))
    ref = np_bags(w, idx, offsets, "sum", psw, include_last=True, padding_idx=2)
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-12)
    out.sum().backward()
    g = bag.weight.grad
    g = g.to_dense() if g.is_sparse else g
    assert not g.numpy()[2].any()
    assert repr(bag) == "EmbeddingBag(10, 3, mode='sum', padding_idx=2)"


def test_embedding_bag_sparse_and_from_pretrained():
    bag = nn.EmbeddingBag(100, 2, mode="mean", sparse=True)
    bag(rg.tensor([[1, 5], [5, 7]])).sum().backward()
    assert bag.weight.grad.is_sparse
    table = rg.tensor([[1.0, 0.0], [0.0, 1.0]])
    b2 = nn.EmbeddingBag.from_pretrained(table, mode="sum")
    assert not b2.weight.requires_grad
    assert b2(rg.tensor([[0, 1, 1]])).tolist() == [[1.0, 2.0]]
    with pytest.raises(ValueError, match="mode has to be one of"):
        nn.EmbeddingBag(3, 2, mode="median")
