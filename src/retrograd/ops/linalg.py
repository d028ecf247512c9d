"""Matrix products: matmul (with NumPy's 1-D and batch-broadcast rules), mm, bmm, and friends.

For 2-D and batched inputs: out = x @ y, gx = g @ y^H, gy = x^H @ g (^H: conjugate transpose,
the transpose for real dtypes); broadcast batch dims are summed back by the engine. 1-D
operands are promoted to matrices for the backward and the added dim is squeezed away again.
"""

import math

import numpy as np

from ..backend import blas
from .._tensor import Tensor
from ..sparse import SparseTensor
from . import elementwise as ew
from . import shape as sh
from .complex import conj
from ._registry import COMPLEX_AUTOGRAD, Op, apply
from ._declare import declare
from .._autocast import EXCLUDE, LOWER, ACTIVE as _AMP, _amp, autocast_call
from ._registry import LINEAR, MULTILINEAR


def _matmul(xp, x, y):
    return blas.matmul(x, y)


def _matmul_vjp(g, needs, x, y):
    xd, yd = x._data.ndim, y._data.ndim
    if xd == 1 and yd == 1:
        return (g * conj(y) if needs[0] else None), (g * conj(x) if needs[1] else None)
    x2 = x.unsqueeze(0) if xd == 1 else x
    y2 = y.unsqueeze(-1) if yd == 1 else y
    g2 = g.unsqueeze(-2) if xd == 1 else g
    g2 = g2.unsqueeze(-1) if yd == 1 else g2
    gx = gy = None
    if needs[0]:
        gx = g2 @ y2.mH
        if xd == 1:
            gx = gx.squeeze(-2)
    if needs[1]:
        gy = x2.mH @ g2
        if yd == 1:
            gy = gy.squeeze(-1)
    return gx, gy


MATMUL = Op(
    "matmul",
    _matmul,
    _matmul_vjp,
    jvp=MULTILINEAR,
    save=("x", "y"),
    needs=True,
    node_name="MmBackward0",
    used_by=((1,), (0,)),
)
COMPLEX_AUTOGRAD.add(MATMUL)  # the backward conjugates (y^H, x^H)


def matmul(input, other):
    """Matrix product with broadcasting over batch dims (NumPy/PyTorch rules for 1-D operands)."""
    if _AMP[0] and _amp.on:
        return autocast_call(matmul, LOWER, input, other)
    if type(input) is SparseTensor:
        return input.matmul(other)
    if type(other) is SparseTensor:
        return other.__rmatmul__(input)
    xs, ys = input._data.shape, other._data.shape
    if not xs or not ys:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {len(xs)}D and {len(ys)}D")
    k1 = xs[-1]
    k2 = ys[-2] if len(ys) >= 2 else ys[0]
    if k1 != k2:
        x_desc = "x".join(map(str, xs))
        y_desc = "x".join(map(str, ys))
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({x_desc} and {y_desc}): "
            f"matmul needs input.shape[-1] ({k1}) == other.shape[-2] ({k2})"
        )
    if input._data.dtype != other._data.dtype:
        _dtype_mismatch("matmul", input, other)
    return apply(MATMUL, (input, other))


def _dtype_mismatch(name, *tensors):
    """PyTorch's matrix products do not promote: mixed dtypes are a RuntimeError."""
    desc = " and ".join(f"{t.dtype} {list(t._data.shape)}" for t in tensors)
    raise RuntimeError(f"{name}: expected all operands to have the same dtype, but got {desc}")


def _same_dtype(name, *tensors):
    d = tensors[0]._data.dtype
    for t in tensors[1:]:
        if t._data.dtype != d:
            _dtype_mismatch(name, *tensors)


def mm(input, mat2):
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(
            f"mm: expected 2D tensors, got {input._data.ndim}D and {mat2._data.ndim}D "
            f"(shapes {list(input._data.shape)} and {list(mat2._data.shape)})"
        )
    return matmul(input, mat2)


def bmm(input, mat2):
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError(f"bmm: expected 3D tensors, got {input._data.ndim}D and {mat2._data.ndim}D")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {list(input._data.shape)} and {list(mat2._data.shape)}")
    return matmul(input, mat2)


def mv(input, vec):
    if _AMP[0] and _amp.on:
        return autocast_call(mv, EXCLUDE, input, vec)
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError("mv: expected a 2D matrix and a 1D vector")
    return matmul(input, vec)


def dot(input, other):
    if _AMP[0] and _amp.on:
        return autocast_call(dot, EXCLUDE, input, other)
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    if input._data.shape != other._data.shape:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{input._data.shape[0]}] and "
            f"src [{other._data.shape[0]}] to have the same number of elements"
        )
    return matmul(input, other)


def inner(input, other):
    """Sum of products over the last dim of each: for 1-D inputs the dot product; in general
    out[i..., j...] = sum_k input[i..., k] * other[j..., k] (a 0-d input scales the other)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got "
            f"shapes {list(input.shape)} and {list(other.shape)}"
        )
    if input._data.ndim == 1 and other._data.ndim == 1:
        return dot(input, other)
    return tensordot(input, other, dims=([-1], [-1]))


def outer(input, vec2):
    """The outer product of two 1-D tensors (mixed dtypes promote, as in PyTorch)."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(
                f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D (shape {list(t._data.shape)})"
            )
    return input.unsqueeze(-1) * vec2.unsqueeze(0)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2); all three of one dtype, as in PyTorch. With beta=0
    ``input`` is ignored (its nan and inf do not propagate), as PyTorch documents."""
    if _AMP[0] and _amp.on:
        return autocast_call(addmm, LOWER, input, mat1, mat2, beta=beta, alpha=alpha)
    _same_dtype("addmm", input, mat1, mat2)
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    if _AMP[0] and _amp.on:
        return autocast_call(baddbmm, LOWER, input, batch1, batch2, beta=beta, alpha=alpha)
    _same_dtype("baddbmm", input, batch1, batch2)
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    if _AMP[0] and _amp.on:
        return autocast_call(addmv, EXCLUDE, input, mat, vec, beta=beta, alpha=alpha)
    _same_dtype("addmv", input, mat, vec)
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


# --------------------------------------------------------------------------- einsum
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _einsum_fwd(xp, *arrays_and_args):
    *arrays, subs, out, sizes = arrays_and_args
    result = xp.einsum(",".join(subs) + "->" + out, *arrays, optimize=len(arrays) > 1)
    if len(arrays) == 1:
        # a rearrangement ('ij->ji', 'ii->i') comes back as a view of the operand, untracked by
        # autograd: a copy, so an in-place change of the result cannot reach the operand unseen
        # (PyTorch returns a tracked view there)
        return xp.array(result) if xp.may_share_memory(result, arrays[0]) else result
    # a product comes out of NumPy's tensordot in whatever order its GEMM left it (transposed for
    # 'ij,jk->ik'); PyTorch's is contiguous, which .view() and the memory order of later ops
    # (dropout's mask) rely on (ascontiguousarray would make a 0-d result 1-d)
    return xp.ascontiguousarray(result) if result.ndim > 1 else result


def _einsum_grads(g, needs, operands, subs, out, sizes):
    # d out / d operand k is an einsum of g with the other operands, writing operand k's
    # subscripts. A letter repeated in operand k (a diagonal) gets a fresh letter tied to it
    # by an identity matrix; a letter summed only inside operand k is broadcast back by a
    # vector of ones. Both are constants, so the gradient is again an einsum (double backward).
    from .._creation import eye, ones

    size = dict(sizes)
    used = set("".join(subs) + out)
    fresh = iter(c for c in _LETTERS if c not in used)
    grads = []
    for k, s in enumerate(subs):
        if not needs[k]:
            grads.append(None)
            continue
        in_t = [t for i, t in enumerate(operands) if i != k] + [g]
        in_s = [x for i, x in enumerate(subs) if i != k] + [out]
        available = set("".join(in_s))
        target, seen = [], []
        for c in s:
            if c in seen:
                c2 = next(fresh)
                target.append(c2)
                in_t.append(eye(size[c], dtype=g.dtype, device=g.device))
                in_s.append(c + c2)
            else:
                seen.append(c)
                target.append(c)
        for c in seen:
            if c not in available:
                in_t.append(ones(size[c], dtype=g.dtype, device=g.device))
                in_s.append(c)
        grads.append(_contract(in_s, "".join(target), in_t))
    return tuple(grads)


def _einsum1_vjp(g, subs, out, sizes):
    return _einsum_grads(g, (True,), (None,), subs, out, sizes)[0]


def _einsum2_vjp(g, needs, x, y, subs, out, sizes):
    return _einsum_grads(g, needs, (x, y), subs, out, sizes)


EINSUM1 = Op("einsum", _einsum_fwd, _einsum1_vjp, jvp=LINEAR)
EINSUM2 = Op("einsum", _einsum_fwd, _einsum2_vjp, jvp=MULTILINEAR, save=("x", "y"), needs=True, used_by=((1,), (0,)))


def _sizes(subs, operands):
    size = {}
    for s, t in zip(subs, operands):
        size.update(zip(s, t._data.shape))
    return tuple(sorted(size.items()))


def _contract(subs, out, operands):
    """einsum over explicit subscripts (no ellipsis, one size per letter), contracting
    pairwise in NumPy's greedy order so that every node has at most two operands."""
    subs, operands = list(subs), list(operands)
    if len(operands) <= 2:
        op = EINSUM1 if len(operands) == 1 else EINSUM2
        return apply(op, tuple(operands), (tuple(subs), out, _sizes(subs, operands)))
    path = np.einsum_path(
        ",".join(subs) + "->" + out, *[np.broadcast_to(np.int8(0), t._data.shape) for t in operands], optimize="greedy"
    )[0][1:]
    for step in path:
        picked = sorted(step, reverse=True)
        ts = [operands.pop(i) for i in picked]
        ss = [subs.pop(i) for i in picked]
        while len(ts) > 1:
            a, b = ts.pop(), ts.pop()
            sa, sb = ss.pop(), ss.pop()
            rest = set("".join(subs) + "".join(ss) + out)
            keep = "".join(dict.fromkeys(c for c in sa + sb if c in rest))
            ts.append(apply(EINSUM2, (a, b), ((sa, sb), keep, _sizes((sa, sb), (a, b)))))
            ss.append(keep)
        operands.append(ts[0])
        subs.append(ss[0])
    if len(operands) == 1 and subs[0] == out:
        return operands[0]
    return _contract(subs, out, operands)


def _parse_einsum(equation, shapes):
    """Explicit subscripts (ellipsis replaced by letters) for each operand and the output."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(shapes):
        raise ValueError(f"einsum(): {len(subs)} operands in the equation {equation!r} but {len(shapes)} tensors given")
    letters = set(c for c in eq if c.isalpha())
    for c in eq.replace("...", "").replace(",", "").replace("->", ""):
        if c not in _LETTERS:
            raise ValueError(
                f"einsum(): invalid subscript {c!r} in {equation!r}: subscripts must be letters in [a-zA-Z]"
            )
    ranks = []
    for s, shape in zip(subs, shapes):
        n_explicit = len(s.replace("...", ""))
        if "..." in s:
            ranks.append(len(shape) - n_explicit)
            if ranks[-1] < 0:
                raise RuntimeError(
                    f"einsum(): the operand subscripts {s!r} have more dimensions than "
                    f"the operand (shape {list(shape)})"
                )
        else:
            ranks.append(0)
            if n_explicit != len(shape):
                raise RuntimeError(
                    f"einsum(): the number of subscripts in {s!r} ({n_explicit}) does not "
                    f"match the number of dimensions of the operand (shape {list(shape)})"
                )
    n_ell = max(ranks)
    ell = "".join([c for c in _LETTERS if c not in letters][:n_ell])
    subs = [s.replace("...", ell[n_ell - r :] if r else "") for s, r in zip(subs, ranks)]
    if arrow:
        if out.count("...") and not any("..." in s for s in lhs.split(",")):
            raise ValueError("einsum(): output subscripts contain an ellipsis not found in the inputs")
        out = out.replace("...", ell)
        joined = "".join(subs)
        for c in out:
            if c not in joined:
                raise ValueError(
                    f"einsum(): output subscript {c} does not appear in the equation for any input operand"
                )
            if out.count(c) > 1:
                raise ValueError(f"einsum(): output subscript {c} appears more than once in the output")
    else:
        joined = "".join(subs)
        counts = {c: joined.count(c) for c in joined if c not in ell}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    return subs, out


def _sublist_equation(args):
    """The equation and operands of einsum's sublist form, ``einsum(a, [0, 1], b, [1, 2], [0, 2])``:
    subscripts are ints in [0, 52) (a-z, then A-Z) or Ellipsis; a trailing sublist is the output."""

    def letters(sub):
        out = []
        for v in sub:
            if v is Ellipsis:
                out.append("...")
            elif isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 52:
                out.append(chr(ord("a") + v) if v < 26 else chr(ord("A") + v - 26))
            else:
                raise ValueError(f"einsum(): subscript in subscript list is not within the valid range [0, 52): {v!r}")
        return "".join(out)

    args = list(args)
    out = args.pop() if len(args) % 2 else None  # an odd count ends with the output's sublist
    operands, subs = args[0::2], args[1::2]
    if not all(isinstance(t, Tensor) for t in operands) or any(isinstance(s, Tensor) for s in subs):
        raise TypeError("einsum(): the sublist form takes operands and subscript lists in turn")
    equation = ",".join(letters(s) for s in subs) + ("" if out is None else "->" + letters(out))
    return equation, operands


def einsum(equation, *operands):
    """Einstein summation: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``. Ellipsis, implicit output
    (letters seen once, in alphabetical order), repeated letters (diagonals) and size-1
    broadcasting are supported; more than two operands contract pairwise. The sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` names subscripts by ints instead."""
    if isinstance(equation, Tensor):
        equation, operands = _sublist_equation((equation, *operands))
    if _AMP[0] and _amp.on:
        return autocast_call(einsum, LOWER, equation, *operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum(): must provide at least one operand")
    subs, out = _parse_einsum(equation, [t._data.shape for t in operands])
    occurrences = {}
    for s, t in zip(subs, operands):
        shape = t._data.shape
        for c, n in zip(s, shape):
            if s.count(c) > 1 and len({shape[i] for i, x in enumerate(s) if x == c}) > 1:
                raise RuntimeError(
                    f"einsum(): subscript {c} is repeated for an operand of shape "
                    f"{list(shape)} but the sizes of its dimensions differ"
                )
            occurrences.setdefault(c, set()).add(n)
    sizes = {}
    for c, ns in occurrences.items():
        big = ns - {1}
        if len(big) > 1:
            raise RuntimeError(
                f"einsum(): subscript {c} has sizes {sorted(ns)} across operands "
                f"({equation!r} with shapes {[list(t._data.shape) for t in operands]}); "
                f"they must be equal or 1"
            )
        sizes[c] = big.pop() if big else 1
    _same_dtype("einsum", *operands)
    ops = []
    for s, t in zip(subs, operands):
        target = tuple(sizes[c] for c in s)
        ops.append(t.expand(target) if t._data.shape != target else t)
    return _contract(subs, out, ops)


def tensordot(a, b, dims=2):
    """Sum over the last ``dims`` dims of a and the first ``dims`` of b, or over the listed
    pairs ``dims=([a dims], [b dims])``."""
    if _AMP[0] and _amp.on:
        return autocast_call(tensordot, LOWER, a, b, dims)
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = dims
        if isinstance(da, int):
            da, db = [da], [db]
        da = [d % na for d in (int(x) for x in da)]
        db = [d % nb for d in (int(x) for x in db)]
    if len(da) != len(db):
        raise RuntimeError(f"tensordot: both dimension lists should have same length (got {da} and {db})")
    for i, j in zip(da, db):
        if a._data.shape[i] != b._data.shape[j]:
            raise RuntimeError(
                f"tensordot: contracted dimensions need to match, but first has size "
                f"{a._data.shape[i]} in dim {i} and second has size {b._data.shape[j]} "
                f"in dim {j}"
            )
    # As PyTorch: both operands permuted to (kept, contracted) and (contracted, kept), flattened to
    # matrices (a copy where the permutation makes them non-contiguous, so the product saves
    # those copies and the operands may then be modified in place before backward), one matmul.
    for dl in (da, db):
        for d in dl:
            if dl.count(d) > 1:
                raise RuntimeError(f"tensordot: dim {d} appears multiple times in the list of dims (got {da} and {db})")
    keep_a = [d for d in range(na) if d not in da]
    keep_b = [d for d in range(nb) if d not in db]
    sa, sb = a._data.shape, b._data.shape
    k = math.prod(sa[d] for d in da)
    ma = a.permute(keep_a + da).reshape(math.prod(sa[d] for d in keep_a), k)
    mb = b.permute(db + keep_b).reshape(k, math.prod(sb[d] for d in keep_b))
    return (ma @ mb).reshape([sa[d] for d in keep_a] + [sb[d] for d in keep_b])


def kron(input, other):
    """Kronecker product: out[i*p + k, j*q + l] = a[i, j] * b[k, l] (for 2-D; any rank)."""
    nd = max(input._data.ndim, other._data.ndim)
    a = input.reshape((1,) * (nd - input._data.ndim) + input._data.shape)
    b = other.reshape((1,) * (nd - other._data.ndim) + other._data.shape)
    sa, sb = a._data.shape, b._data.shape
    inter_a = tuple(x for n in sa for x in (n, 1))
    inter_b = tuple(x for n in sb for x in (1, n))
    return (a.reshape(inter_a) * b.reshape(inter_b)).reshape(tuple(m * n for m, n in zip(sa, sb)))


def multi_dot(tensors):
    """The product of a chain of matrices (the first may be 1-D, so may the last)."""
    if _AMP[0] and _amp.on:
        return autocast_call(multi_dot, LOWER, tensors)
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    result = tensors[0]
    for t in tensors[1:]:
        result = matmul(result, t)
    return result


def vdot(input, other):
    """Dot product of two 1-D tensors (real tensors: the same as dot)."""
    return dot(input, other)


# --------------------------------------------------------------------------- torch.linalg compositions
def vecdot(x, y, *, dim=-1):
    """sum(x * y) over ``dim``, with broadcasting (real tensors: no conjugation)."""
    if _AMP[0] and _amp.on:
        return autocast_call(vecdot, LOWER, x, y, dim=dim)
    return (x * y).sum(dim)


def linalg_diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """``torch.linalg.diagonal``: the ``offset`` diagonal of the matrices in A (dims dim1, dim2),
    as a view; ``torch.diagonal`` with keyword-only arguments."""
    from .indexing import diagonal

    return diagonal(A, offset, dim1, dim2)


# --------------------------------------------------------------------------- products built on matmul
def _scaled_sum(input, prod, beta, alpha):
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:  # PyTorch ignores input when beta = 0: its nan and inf do not propagate
        return prod + ew.where(ew.isfinite(input), input, 0.0) * 0
    return prod + (input if beta == 1 else input * beta)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]; ``input`` is ignored when beta=0."""
    if _AMP[0] and _amp.on:
        return autocast_call(addbmm, LOWER, input, batch1, batch2, beta=beta, alpha=alpha)
    return _scaled_sum(input, bmm(batch1, batch2).sum(0), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2); ``input`` is ignored when beta=0."""
    if _AMP[0] and _amp.on:
        return autocast_call(addr, EXCLUDE, input, vec1, vec2, beta=beta, alpha=alpha)
    if vec1._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError(
            f"addr: Expected 1-D argument vec1 and vec2, but got {vec1._data.ndim}-D and {vec2._data.ndim}-D"
        )
    return _scaled_sum(input, vec1.unsqueeze(1) * vec2.unsqueeze(0), beta, alpha)


def adjoint(input):
    """The conjugate transpose of the last two dims (a transpose for real tensors), as a view."""
    if input._data.ndim < 2:
        raise RuntimeError(
            f"tensor.adjoint() is only supported on matrices or batches of matrices. Got {input._data.ndim}-D tensor."
        )
    return conj(sh.transpose(input, -2, -1))


def chain_matmul(*matrices):
    """matrices[0] @ matrices[1] @ ... (deprecated in PyTorch in favour of linalg.multi_dot)."""
    if _AMP[0] and _amp.on:
        return autocast_call(chain_matmul, LOWER, *matrices)
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    out = matrices[0]
    for m in matrices[1:]:
        out = matmul(out, m)
    return out


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(matmul, method=True, out=True, linalg=("matmul",))
declare(mm, method=True, out=True)
declare(bmm, method=True, out=True)
declare(mv, method=True, out=True)
declare(dot, method=True, out=True)
declare(inner, method=True, out=True)
declare(outer, aliases=("ger",), method=True, out=True)
declare(addmm, method=True, inplace=True, out=True)
declare(baddbmm, method=True, inplace=True, out=True)
declare(addmv, method=True, inplace=True, out=True)
declare(einsum)
declare(tensordot, out=True)
declare(kron, method=True, out=True)
declare(vdot, method=True, out=True)
declare(multi_dot, torch=False, out=True, linalg=("multi_dot",))
declare(vecdot, torch=False, out=True, linalg=("vecdot",))
declare(linalg_diagonal, name="diagonal", torch=False, linalg=("diagonal",))
declare(addbmm, method=True, inplace=True, out=True)
declare(addr, method=True, inplace=True, out=True)
declare(adjoint, method=True)
declare(chain_matmul, out=True)
