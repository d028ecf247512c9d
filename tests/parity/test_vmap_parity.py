"""Optional parity with PyTorch's torch.func.vmap: the same batched function on the same float64
inputs gives the same values (and shapes) under torch and retrograd, with in_dims/out_dims
forms, nesting, chunk_size, and vmap(grad) per-example gradients; the same errors are raised."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402

R = np.random.default_rng(0)
A = R.standard_normal((4, 3, 5))
B = R.standard_normal((5, 2))
C = R.standard_normal((4, 5))
IMG = R.standard_normal((3, 2, 1, 8, 8))
W = R.standard_normal((4, 1, 3, 3))
WB = R.standard_normal((3, 4, 1, 3, 3))
Y = R.integers(0, 5, (4, 3))
Y2 = R.integers(0, 2, (4, 3))


def _cases(lib):
    F = lib.nn.functional
    V = lib.func.vmap
    t = lambda a: lib.tensor(a)  # noqa: E731
    return {
        "elementwise_reduce": lambda: V(lambda a: (a.sin() * a.exp()).sum(-1).softmax(0))(t(A)),
        "matmul_shared": lambda: V(lambda a, b: a @ b, in_dims=(0, None))(t(A), t(B)),
        "matmul_vector_in_dim1": lambda: V(lambda a, c: a @ c, in_dims=(0, 0))(t(A), t(C)),
        "out_dims_tuple": lambda: V(lambda a: (a.mean(0), a.T), out_dims=(1, 2))(t(A)),
        "in_dims_nested": lambda: V(lambda p: p["x"] * p["y"][0], in_dims=({"x": 1, "y": (None,)},))(
            {"x": t(A).transpose(0, 1), "y": (t(C[0]),)}
        ),
        "nested": lambda: V(V(lambda a: F.log_softmax(a, 0)), in_dims=1)(t(A)),
        "chunked": lambda: V(lambda a: a.norm(dim=-1), chunk_size=3)(t(A)),
        "conv_pool": lambda: V(lambda x: F.max_pool2d(F.relu(F.conv2d(x, t(W), padding=1)), 2))(t(IMG)),
        "conv_per_example": lambda: V(lambda x, w: F.avg_pool2d(F.conv2d(x, w), 2))(t(IMG), t(WB)),
        "cross_entropy": lambda: V(lambda a, y: F.cross_entropy(a, y))(t(A), t(Y)),
        "layer_norm_linear": lambda: V(lambda a: F.linear(F.layer_norm(a, (5,)), t(B.T)))(t(A)),
        "attention": lambda: V(lambda q: F.scaled_dot_product_attention(q, q, q, is_causal=True))(t(A)),
        "per_sample_grads": lambda: lib.func.vmap(
            lib.func.grad(lambda w, x, y: F.cross_entropy(F.linear(x, w), y)), in_dims=(None, 0, 0)
        )(t(B.T), t(A), t(Y2)),
    }


NAMES = sorted(_cases(rg))


def _np(out):
    if isinstance(out, (tuple, list)):
        return [_np(o) for o in out]
    return out.detach().numpy()


@pytest.mark.parametrize("name", NAMES)
def test_vmap_parity(name):
    r = _np(_cases(rg)[name]())
    t = _np(_cases(torch)[name]())
    if not isinstance(r, list):
        r, t = [r], [t]
    for a, b in zip(r, t):
        assert a.shape == b.shape, (name, a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda lib: lib.func.vmap(lambda a: a.sum().item())(lib.ones(3, 2)), RuntimeError),
        (lambda lib: lib.func.vmap(lambda a: a if a.sum() > 0 else -a)(lib.ones(3, 2)), RuntimeError),
        (lambda lib: lib.func.vmap(lambda a: a + lib.rand(2))(lib.ones(3, 2)), RuntimeError),
        (
            lambda lib: lib.func.vmap(lambda a, b: b.add_(a), in_dims=(0, None))(lib.ones(3, 2), lib.ones(2)),
            RuntimeError,
        ),
        (lambda lib: lib.func.vmap(lambda a, b: a + b)(lib.ones(3, 2), lib.ones(4, 2)), ValueError),
        (lambda lib: lib.func.vmap(lambda a: a, in_dims=2)(lib.ones(3, 2)), ValueError),
        (lambda lib: lib.func.vmap(lambda a: a * 2, out_dims=None)(lib.ones(3, 2)), ValueError),
        (lambda lib: lib.func.vmap(lambda a: a, randomness="sometimes"), RuntimeError),
    ],
)
def test_vmap_errors_parity(call, error):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error):
        call(rg)
