"""Bad inputs raise in retrograd what they raise in PyTorch: each case runs the same call through
both libraries; retrograd's exception must be of PyTorch's built-in kind (a subclass is fine:
NotImplementedError is a RuntimeError) and, for PyTorch's own classes such as LinAlgError, of the
same name."""

import numpy as np
import pytest

import retrograd as rg

from .errors import builtin_kind

torch = pytest.importorskip("torch")


def _t(lib, *shape, dtype=None):
    data = np.random.default_rng(0).standard_normal(shape)
    return lib.tensor(data, dtype=dtype or lib.float64)


CASES = {
    "add_shapes": lambda L: _t(L, 3, 4) + _t(L, 5),
    "matmul_shapes": lambda L: _t(L, 3, 4) @ _t(L, 5, 6),
    "reshape_numel": lambda L: _t(L, 3, 4).reshape(5, 3),
    "view_noncontiguous": lambda L: _t(L, 3, 4).t().view(12),
    "expand_bad_size": lambda L: _t(L, 3, 1).expand(2, 4),
    "cat_shapes": lambda L: L.cat([_t(L, 3, 2), _t(L, 4, 3)], 1),
    "stack_shapes": lambda L: L.stack([_t(L, 3), _t(L, 4)]),
    "index_out_of_range": lambda L: _t(L, 3, 4)[5],
    "sum_dim_out_of_range": lambda L: _t(L, 3, 4).sum(2),
    "softmax_dim_out_of_range": lambda L: L.nn.functional.softmax(_t(L, 3, 4), 3),
    "gather_index_out_of_bounds": lambda L: _t(L, 3, 4).gather(1, L.tensor([[0, 9]])),
    "topk_k_too_large": lambda L: _t(L, 3, 4).topk(5),
    "cross_entropy_target_out_of_bounds": lambda L: L.nn.functional.cross_entropy(_t(L, 2, 3), L.tensor([0, 3])),
    "embedding_index_out_of_range": lambda L: L.nn.functional.embedding(L.tensor([4]), _t(L, 3, 2)),
    "conv2d_channels": lambda L: L.nn.functional.conv2d(_t(L, 1, 2, 5, 5), _t(L, 3, 4, 3, 3)),
    "linear_shapes": lambda L: L.nn.functional.linear(_t(L, 2, 3), _t(L, 4, 5)),
    "mse_loss_weight_shape": lambda L: L.nn.functional.mse_loss(_t(L, 2, 3), _t(L, 2, 3), weight=_t(L, 3)),
    "inv_singular": lambda L: L.linalg.inv(L.zeros(3, 3, dtype=L.float64)),
    "cholesky_not_positive_definite": lambda L: L.linalg.cholesky(-L.eye(3, dtype=L.float64)),
    "inv_not_square": lambda L: L.linalg.inv(_t(L, 3, 4)),
    "integer_requires_grad": lambda L: L.tensor([1, 2]).requires_grad_(),
    "backward_non_scalar": lambda L: _t(L, 3).requires_grad_().exp().backward(),
    "backward_twice": lambda L: [y.backward() for y in [(_t(L, 3).requires_grad_().exp()).sum()] * 2],
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_input_raises_what_torch_raises(case):
    with pytest.raises(Exception) as t_err:
        case(torch)
    kind = builtin_kind(type(t_err.value))
    with pytest.raises(kind) as r_err:
        case(rg)
    if type(t_err.value).__module__ != "builtins":
        # torch.linalg.LinAlgError is the class torch._C._LinAlgError
        assert type(r_err.value).__name__ == type(t_err.value).__name__.lstrip("_"), (t_err.value, r_err.value)
