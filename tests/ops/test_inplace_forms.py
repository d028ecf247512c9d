"""Every in-place method ``Tensor.name_`` that has an out-of-place ``Tensor.name`` writes the same
values into the tensor itself, returns it and bumps its version."""

import warnings

import numpy as np
import pytest

import retrograd as rg

_x = np.linspace(0.6, 1.7, 9).reshape(3, 3) + np.eye(3)  # positive, invertible
_i = np.array([[1, 6, 3], [4, 2, 9], [7, 5, 8]])

# (self, args, kwargs) candidates; the first the out-of-place method accepts is used
_CANDIDATES = [
    lambda: (rg.tensor(_x), (), {}),
    lambda: (rg.tensor(_x), (rg.tensor(_x.T + 0.5),), {}),
    lambda: (rg.tensor(_x), (0.5,), {}),
    lambda: (rg.tensor(_x), (2,), {}),
    lambda: (rg.tensor(_x), (rg.tensor(_x.T), rg.tensor(_x + 1)), {}),
    lambda: (rg.tensor(_x), (rg.tensor(_x.T), 0.25), {}),
    lambda: (rg.tensor(_x), (0, 1), {}),
    lambda: (rg.tensor(_i), (rg.tensor(_i.T),), {}),
    lambda: (rg.tensor(_i), (1,), {}),
    lambda: (rg.tensor(_i), (), {}),
    lambda: (rg.tensor(_x), (0, rg.tensor([0, 2]), rg.tensor(_x[:2])), {}),
    lambda: (rg.tensor(_x), (0, rg.tensor([[0, 2, 1]]), rg.tensor(_x)), {}),
    lambda: (rg.tensor(_x), (rg.tensor(_x) > 1.5, 0.0), {}),
    lambda: (rg.tensor(_x), (rg.tensor(_x) > 1.5, rg.tensor(_x)), {}),
    lambda: (rg.tensor(_x), (0, rg.tensor([0, 2]), 7.0), {}),
    lambda: (rg.tensor(_x), (rg.tensor(_x), rg.tensor(_x)), {}),
    lambda: (rg.tensor(_x), (2, 0, 1.0), {}),
    lambda: (rg.tensor(_x.reshape(3, 1, 3)), (1,), {}),
    lambda: (rg.tensor(_x[None]), (rg.tensor(_x[None]), rg.tensor(_x[None])), {}),
    lambda: (rg.tensor(_x), (rg.tensor(_x[0]), rg.tensor(_x[1])), {}),
    lambda: (rg.tensor(_x), (rg.tensor(_x), rg.tensor(_x[0])), {}),
    lambda: (rg.tensor(_x), (rg.tensor([0, 4]), rg.tensor([5.0, 6.0])), {}),
    lambda: (rg.tensor(_x), (0, rg.tensor([0, 2]), rg.tensor(_x[:2]), "prod"), {}),
    lambda: (rg.tensor(_x), (0, rg.tensor([[0, 2, 1], [1, 0, 2]]), rg.tensor(_x[:2]), "sum"), {}),
]
# in-place methods with no out-of-place method of the same name, each with why
NO_OUT_OF_PLACE_PAIR = {
    "apply_",
    "map_",
    "cauchy_",
    "copy_",
    "exponential_",
    "fill_",
    "fill_diagonal_",
    "geometric_",
    "log_normal_",
    "normal_",
    "random_",
    "requires_grad_",
    "share_memory_",
    "uniform_",
    "zero_",
    "resize_",
    "resize_as_",
}
# pairs whose in-place form is defined differently from the out-of-place one, on purpose
DIFFERENT_BY_DESIGN = {
    "bernoulli_": "x.bernoulli_(p) draws with probability p, x.bernoulli() with x as the "
    "probabilities: random draws (test below)",
    "conj_physical_": "the identity on real tensors: nothing is written (test below)",
    "detach_": "detaches x from its graph; no values are written (test below)",
    "unsqueeze_": "changes x's shape, not its values (test below)",
    "index_put_": "index_put_ takes a tuple of index tensors and accumulate=, as in PyTorch; covered "
    "by tests/ops/test_indexing_behaviour.py",
}


_KIND = {"b": 0, "u": 1, "i": 1, "f": 2}


def _inplace_names():
    return sorted(
        n
        for n in dir(rg.Tensor)
        if n.endswith("_") and not n.startswith("_") and n not in NO_OUT_OF_PLACE_PAIR and n not in DIFFERENT_BY_DESIGN
    )


def test_the_exemptions_are_real():
    for n in NO_OUT_OF_PLACE_PAIR:
        assert hasattr(rg.Tensor, n) and not callable(getattr(rg.Tensor, n[:-1], None)), n


@pytest.mark.parametrize("name", _inplace_names())
def test_inplace_form_writes_the_out_of_place_result(name):
    outplace = getattr(rg.Tensor, name[:-1])
    for make in _CANDIDATES:
        x, args, kwargs = make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                expected = outplace(x, *args, **kwargs)
            except Exception:
                continue
            if (
                not isinstance(expected, rg.Tensor)
                or expected.shape != x.shape
                or _KIND[expected.numpy().dtype.kind] > _KIND[x.numpy().dtype.kind]
            ):
                continue  # an in-place form writes a result of x's shape that x's dtype holds
            x, args, kwargs = make()
            version = x._version
            got = getattr(x, name)(*args, **kwargs)
        assert got is x
        assert x._version > version
        np.testing.assert_array_equal(x.numpy(), expected.numpy().astype(x.numpy().dtype))
        return
    pytest.fail(f"no sample call of Tensor.{name[:-1]} keeps the shape and dtype: add one")


def test_the_inplace_forms_that_write_no_values():
    x = rg.tensor([1.0, 2.0])
    assert x.unsqueeze_(0) is x and x.shape == (1, 2)
    assert x.conj_physical_() is x and x.tolist() == [[1.0, 2.0]]
    y = rg.tensor([1.0], requires_grad=True) * 2
    assert y.detach_() is y and y.grad_fn is None and not y.requires_grad
    z = rg.zeros(1000)
    assert z.bernoulli_(0.5, generator=rg.Generator().manual_seed(0)) is z
    assert 400 < float(z.sum()) < 600 and set(np.unique(z.numpy())) == {0.0, 1.0}
