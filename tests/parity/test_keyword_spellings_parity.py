"""Keyword spellings of arguments against PyTorch: the same call gives the same values, and
what PyTorch refuses with a TypeError is refused here too."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

A = np.arange(6.0).reshape(2, 3)

CALLS = [
    lambda m, x: x.view(size=(3, 2)),
    lambda m, x: x.view(dtype=m.int32),
    lambda m, x: x.reshape(shape=(3, 2)),
    lambda m, x: m.reshape(x, shape=(6,)),
    lambda m, x: x.permute(dims=(1, 0)),
    lambda m, x: m.permute(x, dims=[1, 0]),
    lambda m, x: x.flip(dims=(1,)),
    lambda m, x: m.flip(x, dims=(0, 1)),
    lambda m, x: x.repeat(repeats=(2, 1)),
    lambda m, x: x[:1].expand(size=(2, 3)),
    lambda m, x: x.tile(dims=(2,)),
    lambda m, x: m.tile(x, dims=(2, 1, 1)),
    lambda m, x: x.new_zeros(size=(2, 1)),
    lambda m, x: x.new_ones(size=[3]),
    lambda m, x: x.sum_to_size(size=(1, 3)),
    lambda m, x: x.clone().resize_(size=(3, 2)),
]

REFUSED = [
    lambda m, x: x.view(3, 2, size=(6,)),
    lambda m, x: x.view(dtype=m.int32, size=(6,)),
    lambda m, x: x.flip(1, dims=(1,)),
    lambda m, x: x.new_zeros(2, size=(2,)),
    lambda m, x: x.permute(dims=1),
    lambda m, x: x.reshape(shape=6),
    lambda m, x: x.tile(dims=2),
]


@pytest.mark.parametrize("i", range(len(CALLS)))
def test_keyword_spelling_matches_pytorch(i):
    ours = CALLS[i](rg, rg.tensor(A))
    theirs = CALLS[i](torch, torch.tensor(A))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("i", range(len(REFUSED)))
def test_refused_spelling_is_a_type_error_in_both(i):
    with pytest.raises(TypeError):
        REFUSED[i](torch, torch.tensor(A))
    with pytest.raises(TypeError):
        REFUSED[i](rg, rg.tensor(A))
