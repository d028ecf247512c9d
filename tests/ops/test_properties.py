"""Property-based tests: hypothesis draws shapes (empty and 0-d included), broadcasting pairs,
dtypes, dims and keepdim for the elementwise and reduction families, and checks values, result
dtype, shapes and gradients against NumPy. Derandomized, so each run draws the same examples."""

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import retrograd as rg

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None)
FLOATS = st.sampled_from([np.float32, np.float64])
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)


def _tol(dtype):
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


def _torch_result_type(x, y):
    """PyTorch's promotion for two floating tensors: a 0-d operand does not widen a dimensioned one."""
    if x.ndim == 0 and y.ndim:
        return y.dtype
    if y.ndim == 0 and x.ndim:
        return x.dtype
    return np.result_type(x, y)


def _sum_to(g, shape):
    """Reduce a broadcast gradient back to ``shape`` (NumPy's broadcasting rules, reversed)."""
    while g.ndim > len(shape):
        g = g.sum(0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis, keepdims=True)
    return g


# op -> (retrograd call, NumPy forward, NumPy (d/dx, d/dy)); inputs are drawn in [0.5, 2)
BINARY = {
    "add": (lambda x, y: x + y, np.add, lambda x, y: (np.ones_like(x * y), np.ones_like(x * y))),
    "sub": (lambda x, y: x - y, np.subtract, lambda x, y: (np.ones_like(x * y), -np.ones_like(x * y))),
    "mul": (lambda x, y: x * y, np.multiply, lambda x, y: (y + 0 * x, x + 0 * y)),
    "div": (lambda x, y: x / y, np.divide, lambda x, y: (1 / y + 0 * x, -x / y**2)),
    "pow": (lambda x, y: x**y, np.power, lambda x, y: (y * x ** (y - 1), x**y * np.log(x))),
    "atan2": (rg.atan2, np.arctan2, lambda x, y: (y / (x * x + y * y), -x / (x * x + y * y))),
}
UNARY = {
    "exp": (rg.exp, np.exp, np.exp),
    "log": (rg.log, np.log, lambda x: 1 / x),
    "sqrt": (rg.sqrt, np.sqrt, lambda x: 0.5 / np.sqrt(x)),
    "tanh": (rg.tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "sin": (rg.sin, np.sin, np.cos),
    "sigmoid": (rg.sigmoid, lambda x: 1 / (1 + np.exp(-x)), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
}


@SETTINGS
@given(
    op=st.sampled_from(sorted(BINARY)),
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_side=4),
    dtypes=st.tuples(FLOATS, FLOATS),
    data=st.data(),
)
def test_binary_broadcasting_values_dtype_and_gradients(op, shapes, dtypes, data):
    fn, ref, dref = BINARY[op]
    (sx, sy), out_shape = shapes.input_shapes, shapes.result_shape
    x = data.draw(hnp.arrays(dtypes[0], sx, elements=st.floats(0.5, 2.0, width=32)))
    y = data.draw(hnp.arrays(dtypes[1], sy, elements=st.floats(0.5, 2.0, width=32)))
    tx, ty = rg.tensor(x, requires_grad=True), rg.tensor(y, requires_grad=True)
    out = fn(tx, ty)
    result = _torch_result_type(x, y)
    assert out.shape == out_shape and out.dtype == getattr(rg, result.name)
    np.testing.assert_allclose(out.detach().numpy(), ref(x.astype(result), y.astype(result)), **_tol(result))
    seed = np.random.default_rng(0).standard_normal(out_shape)
    gx, gy = rg.autograd.grad(out, (tx, ty), rg.tensor(seed, dtype=out.dtype))
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    dx, dy = dref(x64, y64)
    assert gx.shape == x.shape and gy.shape == y.shape
    assert gx.dtype == tx.dtype and gy.dtype == ty.dtype
    tol = _tol(np.float32 if np.float32 in (x.dtype, y.dtype) else np.float64)
    np.testing.assert_allclose(gx.numpy(), _sum_to(seed * dx, sx), **tol)
    np.testing.assert_allclose(gy.numpy(), _sum_to(seed * dy, sy), **tol)


@SETTINGS
@given(op=st.sampled_from(sorted(UNARY)), dtype=FLOATS, data=st.data())
def test_unary_values_dtype_and_gradients(op, dtype, data):
    fn, ref, dref = UNARY[op]
    x = data.draw(hnp.arrays(dtype, SHAPES, elements=st.floats(0.5, 2.0, width=32)))
    tx = rg.tensor(x, requires_grad=True)
    out = fn(tx)
    assert out.shape == x.shape and out.dtype == tx.dtype
    np.testing.assert_allclose(out.detach().numpy(), ref(x), **_tol(dtype))
    seed = np.random.default_rng(1).standard_normal(x.shape)
    (gx,) = rg.autograd.grad(out, tx, rg.tensor(seed, dtype=out.dtype))
    np.testing.assert_allclose(gx.numpy(), seed * dref(x.astype(np.float64)), **_tol(dtype))


def _dims(shape):
    """None (all dims) or a non-empty set of dims, some negative."""
    if not shape:
        return st.none()
    picks = st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True)
    return st.none() | picks.map(lambda ds: tuple(d - len(shape) if d % 2 else d for d in ds))


@SETTINGS
@given(op=st.sampled_from(["sum", "mean", "amax", "prod"]), dtype=FLOATS, keepdim=st.booleans(), data=st.data())
def test_reductions_over_drawn_dims(op, dtype, keepdim, data):
    shape = data.draw(SHAPES)
    dims = data.draw(_dims(shape))
    if op == "prod" and dims is not None:
        dims = dims[:1]  # PyTorch's prod takes one dim
    if op in ("amax", "mean") and 0 in shape:
        shape = tuple(n or 1 for n in shape)  # empty max/mean are errors or NaN: covered elsewhere
    x = data.draw(hnp.arrays(dtype, shape, elements=st.floats(0.5, 2.0, width=32), unique=op == "amax"))
    tx = rg.tensor(x, requires_grad=True)
    axis = None if dims is None else tuple(d % max(len(shape), 1) for d in dims)
    if dims is None:
        out = getattr(tx, op)()
        expected = getattr(np, op if op != "amax" else "max")(x)
    else:
        out = getattr(tx, op)(dims, keepdim=keepdim)
        expected = getattr(np, op if op != "amax" else "max")(x, axis=axis, keepdims=keepdim)
    assert out.shape == np.shape(expected) and out.dtype == tx.dtype
    np.testing.assert_allclose(out.detach().numpy(), expected, **_tol(dtype))
    seed = np.random.default_rng(2).standard_normal(out.shape)
    (gx,) = rg.autograd.grad(out, tx, rg.tensor(seed, dtype=out.dtype))
    assert gx.shape == x.shape
    # the seed, broadcast back over the reduced dims, times d(out)/dx
    full = np.asarray(seed if dims is None or keepdim else np.expand_dims(seed, axis))
    full = np.broadcast_to(full, x.shape).astype(np.float64)
    x64 = x.astype(np.float64)
    red = x64.size if dims is None else int(np.prod([x.shape[a] for a in axis]))
    local = {
        "sum": np.ones_like(x64),
        "mean": np.full_like(x64, 1 / max(red, 1)),
        "prod": np.prod(x64, axis=axis, keepdims=True) / x64 if x64.size else x64,
        "amax": (x64 == np.max(x64, axis=axis, keepdims=True)).astype(np.float64) if x64.size else x64,
    }[op]
    np.testing.assert_allclose(gx.numpy(), full * local, **_tol(dtype))
