"""Matrix products: matmul (with NumPy's 1-D and batch-broadcast rules), mm, bmm, and friends.

For 2-D and batched inputs: out = x @ y, gx = g @ y^T, gy = x^T @ g; broadcast batch dims are
summed back by the engine. 1-D operands are promoted to matrices for the backward and the
added dim is squeezed away again.
"""
from .._tensor import Tensor
from ._registry import Op, apply
from .elementwise import _operands


def _matmul(xp, x, y):
    return x @ y


def _matmul_vjp(g, needs, x, y):
    xd, yd = x._data.ndim, y._data.ndim
    if xd == 1 and yd == 1:
        return (g * y if needs[0] else None), (g * x if needs[1] else None)
    x2 = x.unsqueeze(0) if xd == 1 else x
    y2 = y.unsqueeze(-1) if yd == 1 else y
    g2 = g.unsqueeze(-2) if xd == 1 else g
    g2 = g2.unsqueeze(-1) if yd == 1 else g2
    gx = gy = None
    if needs[0]:
        gx = g2 @ y2.mT
        if xd == 1:
            gx = gx.squeeze(-2)
    if needs[1]:
        gy = x2.mT @ g2
        if yd == 1:
            gy = gy.squeeze(-1)
    return gx, gy


MATMUL = Op("matmul", _matmul, _matmul_vjp, save=("x", "y"), needs=True, node_name="MmBackward0")


def matmul(input, other, *, out=None):
    """Matrix product with broadcasting over batch dims (NumPy/PyTorch rules for 1-D operands)."""
    xs, ys = input._data.shape, other._data.shape
    if not xs or not ys:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{len(xs)}D and {len(ys)}D")
    k1 = xs[-1]
    k2 = ys[-2] if len(ys) >= 2 else ys[0]
    if k1 != k2:
        x_desc = "x".join(map(str, xs))
        y_desc = "x".join(map(str, ys))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({x_desc} and {y_desc}): "
                           f"matmul needs input.shape[-1] ({k1}) == other.shape[-2] ({k2})")
    x, y = _operands(input, other)
    return apply(MATMUL, (x, y))


def mm(input, mat2, *, out=None):
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(f"mm: expected 2D tensors, got {input._data.ndim}D and {mat2._data.ndim}D "
                           f"(shapes {list(input._data.shape)} and {list(mat2._data.shape)})")
    return matmul(input, mat2)


def bmm(input, mat2, *, out=None):
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError(f"bmm: expected 3D tensors, got {input._data.ndim}D and {mat2._data.ndim}D")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {list(input._data.shape)} and "
                           f"{list(mat2._data.shape)}")
    return matmul(input, mat2)


def mv(input, vec):
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError("mv: expected a 2D matrix and a 1D vector")
    return matmul(input, vec)


def dot(input, other):
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    if input._data.shape != other._data.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._data.shape[0]}] and "
                           f"src [{other._data.shape[0]}] to have the same number of elements")
    return matmul(input, other)


inner = dot


def outer(input, vec2):
    return input.unsqueeze(-1) * vec2.unsqueeze(0)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2)"""
    prod = mm(mat1, mat2)
    if alpha != 1:
        prod = prod * alpha
    return prod + (input if beta == 1 else input * beta)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    prod = bmm(batch1, batch2)
    if alpha != 1:
        prod = prod * alpha
    return prod + (input if beta == 1 else input * beta)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    prod = mv(mat, vec)
    if alpha != 1:
        prod = prod * alpha
    return prod + (input if beta == 1 else input * beta)
