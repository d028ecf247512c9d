"""SparseTensor: a sparse COO tensor, with its own (small) surface.

It is not a subclass of ``Tensor``: it has exactly the methods below, the part of PyTorch's
sparse COO API that retrograd supports. Any other ``Tensor`` method raises
``NotImplementedError`` naming the op (PyTorch's error for an op without a sparse kernel);
any other name is an ``AttributeError``. ``isinstance(s, retrograd.Tensor)`` is therefore
False (PyTorch says True): answering True without Tensor's methods needs a metaclass
``__instancecheck__`` on ``Tensor``, which makes every ``isinstance(x, Tensor)`` test of a
number or a Parameter (every op's tensor-or-scalar tests) a Python call, about 0.35 us more
each, 4 to 10 times the test. ``retrograd.is_tensor(s)`` is True.

The autograd state (``grad_fn``, ``requires_grad``, ``.grad``, hooks) is the same as a dense
tensor's, so the engine runs sparse nodes and accumulates sparse gradients like any other.
"""

import inspect

from .. import _dtype
from .._size import Size
from .._tensor import Tensor
from ..backend import device_of
from ._storage import _COO


class SparseTensor:
    """A sparse COO tensor (``layout == retrograd.sparse_coo``). Build one with
    ``retrograd.sparse_coo_tensor`` or ``Tensor.to_sparse()``."""

    __slots__ = ("_data", "grad_fn", "_rg", "_vc", "__weakref__", "__dict__")
    _grad = None
    _out_nr = 0
    _base = None
    _grad_acc = None
    _retains = False
    # NumPy must not take over binary operators with an array (it would iterate the tensor).
    __array_priority__ = 1000
    __array_ufunc__ = None

    is_sparse = True
    is_sparse_csr = False
    is_quantized = False
    is_meta = False
    is_nested = False

    @classmethod
    def _make(cls, data, grad_fn, requires_grad):
        t = object.__new__(cls)
        t._data = data
        t.grad_fn = grad_fn
        t._rg = requires_grad
        t._vc = None
        return t

    @classmethod
    def _from_parts(cls, indices, values, shape, coalesced=False):
        return cls._make(_COO(indices, values, tuple(shape), coalesced), None, False)

    # ------------------------------------------------------------------ structure
    @property
    def layout(self):
        from .._typeinfo import sparse_coo

        return sparse_coo

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return len(self._data.shape)

    ndimension = dim

    @property
    def ndim(self):
        return len(self._data.shape)

    def numel(self):
        return self._data.size

    nelement = numel

    def __len__(self):
        if not self._data.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def dtype(self):
        return _dtype.from_np(self._data.dtype)

    @property
    def device(self):
        return device_of(self._data._some_values())

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    def is_floating_point(self):
        return self.dtype.is_floating_point  # bfloat16 too (NumPy kind "V")

    def is_complex(self):
        return self._data.dtype.kind == "c"

    def element_size(self):
        return self._data.itemsize

    def is_contiguous(self, memory_format=None):
        return False

    def sparse_dim(self):
        return self._data.indices.shape[0]

    def dense_dim(self):
        return len(self._data.shape) - self._data.indices.shape[0]

    def _nnz(self):
        return self._data.indices.shape[1]

    def is_coalesced(self):
        return self._data.coalesced

    def _indices(self):
        """The indices, ``(sparse_dim, nnz)`` int64, as stored (not differentiable)."""
        return Tensor._make(self._data.indices, None, False)

    def _values(self):
        """The values, ``(nnz, *dense_shape)``, as stored; outside the graph."""
        return Tensor._make(self._data.values, None, False)

    def indices(self):
        if not self._data.coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._indices()

    def values(self):
        """The values of a coalesced tensor; differentiable (the gradient of the values becomes
        a sparse gradient with this tensor's indices)."""
        if not self._data.coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return _ops.values(self)

    # ------------------------------------------------------------------ autograd state
    requires_grad = Tensor.requires_grad
    is_leaf = Tensor.is_leaf
    output_nr = Tensor.output_nr
    _version = Tensor._version
    _version_counter = Tensor._version_counter
    _grad_accumulator = Tensor._grad_accumulator
    backward = Tensor.backward
    register_hook = Tensor.register_hook
    retain_grad = Tensor.retain_grad
    retains_grad = Tensor.retains_grad

    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables.")
            return self
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got a sparse tensor of dtype {self.dtype}"
            )
        self._rg = bool(requires_grad)
        return self

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, (Tensor, SparseTensor)):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}"
                )
            if tuple(value._data.shape) != self._data.shape:
                raise RuntimeError(
                    f"assigned grad has data of shape {list(value._data.shape)} but "
                    f"the tensor has shape {list(self._data.shape)}"
                )
        self._grad = value

    def detach(self):
        """The same tensor outside the graph (sharing indices and values)."""
        c = self._data
        t = SparseTensor._from_parts(c.indices, c.values, c.shape, c.coalesced)
        t._vc = self._version_counter()
        return t

    def detach_(self):
        self.grad_fn = None
        self._rg = False
        return self

    @property
    def data(self):
        return self.detach()

    def _grad_sum(self, g):
        """``self + g`` for summing two gradients of one tensor: sparse with sparse stays sparse
        (the entries are concatenated); with a dense gradient the sum is dense."""
        if type(g) is SparseTensor:
            return _ops.add(self, g)
        return g + self

    # ------------------------------------------------------------------ conversion
    def coalesce(self):
        """The same tensor with sorted, unique indices (duplicate entries summed)."""
        return self if self._data.coalesced else _ops.coalesce(self)

    def to_dense(self, dtype=None, *, masked_grad=None):
        return _ops.to_dense(self, dtype, masked_grad)

    def to_sparse(self, sparseDims=None, *, layout=None, blocksize=None, dense_dim=None):
        _ops.check_to_sparse(self, sparseDims, layout, blocksize, dense_dim)
        return self

    def to_sparse_coo(self):
        return self

    def to(self, *args, **kwargs):
        return _ops.to(self, args, kwargs)

    def float(self, memory_format=None):
        return self.to(_dtype.float32)

    def double(self, memory_format=None):
        return self.to(_dtype.float64)

    def half(self, memory_format=None):
        return self.to(_dtype.float16)

    def cpu(self, memory_format=None):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        return self.to("cuda" if device is None else device)

    def type_as(self, other):
        return self.to(other.dtype)

    def clone(self, *, memory_format=None):
        return _ops.clone(self)

    def t(self):
        """The transpose of a 2-D sparse tensor (two sparse dims); differentiable."""
        return _ops.t(self)

    # ------------------------------------------------------------------ arithmetic
    def add(self, other, *, alpha=1):
        """``self + alpha * other`` for a sparse ``other`` of the same shape (sparse result)."""
        return _ops.add(self, other, alpha)

    __add__ = add

    def __radd__(self, other):
        return _ops.add(self, other, 1, reflected=True)

    def sub(self, other, *, alpha=1):
        return _ops.add(self, other, -alpha, name="sub")

    __sub__ = sub

    def __rsub__(self, other):
        return _ops.add(self, other, 1, reflected=True, name="rsub")

    def mul(self, other):
        return _ops.scale(self, other, "mul")

    __mul__ = __rmul__ = mul

    def div(self, other, *, rounding_mode=None):
        if rounding_mode is not None:
            raise NotImplementedError("div: rounding_mode is not supported for sparse COO tensors")
        return _ops.scale(self, other, "div")

    __truediv__ = div

    def neg(self):
        return _ops.scale(self, -1, "neg")

    __neg__ = neg

    def sum(self, dim=None, keepdim=False, dtype=None):
        """``torch.sparse.sum``'s result (dense when every sparse dim is summed)."""
        if keepdim:
            raise NotImplementedError("sum: keepdim=True is not supported for sparse COO tensors")
        return _linalg.sum(self, dim, dtype)

    def mm(self, mat2):
        return _linalg.mm(self, mat2, masked=False)

    def matmul(self, other):
        """``self @ other`` for a 2-D sparse ``self`` and a dense matrix or vector (torch.mm's
        gradients: both dense)."""
        if isinstance(other, Tensor) and other._data.ndim == 1:
            return _linalg.mm(self, other.unsqueeze(1), masked=False).squeeze(1)
        return _linalg.mm(self, other, masked=False)

    __matmul__ = mv = matmul

    def __rmatmul__(self, other):
        """``other @ self`` for a dense matrix or vector ``other`` and a 2-D sparse ``self``:
        dense, as ``(self^T @ other^T)^T`` (so, as PyTorch's, a transposed layout); both
        gradients are dense, as torch.mm's."""
        if isinstance(other, Tensor) and other._data.ndim == 1:
            return _linalg.mm(self.t(), other.unsqueeze(1), masked=False).squeeze(1)
        if not isinstance(other, Tensor) or other._data.ndim != 2:
            raise RuntimeError(
                f"matmul: a dense operand times a sparse matrix must be a 1-D or 2-D "
                f"tensor, got {type(other).__name__} of shape "
                f"{list(getattr(other, 'shape', ()))}"
            )
        if other._data.shape[1] != self._data.shape[0]:
            raise RuntimeError(
                f"matmul: shapes cannot be multiplied: dense {list(other._data.shape)} @ "
                f"sparse {list(self._data.shape)}"
            )
        return _linalg.mm(self.t(), other.t(), masked=False).t()

    def mul_(self, other):
        return _ops.scale_(self, other, "mul_")

    def div_(self, other):
        return _ops.scale_(self, other, "div_")

    def add_(self, other, *, alpha=1):
        return _ops.add_(self, other, alpha)

    def sub_(self, other, *, alpha=1):
        return _ops.add_(self, other, -alpha)

    def zero_(self):
        return _ops.zero_(self)

    def copy_(self, src, non_blocking=False):
        return _ops.copy_(self, src)

    # ------------------------------------------------------------------ refusals, Python protocols
    def __getattr__(self, name):
        # only reached for names this class does not define
        if name.startswith("__") or not hasattr(Tensor, name):
            raise AttributeError(f"'SparseTensor' object has no attribute '{name}'")
        if isinstance(inspect.getattr_static(Tensor, name), property):
            raise NotImplementedError(_refusal(self, name))

        def refused(*args, **kwargs):
            raise NotImplementedError(_refusal(self, name))

        refused.__name__ = name
        return refused

    def numpy(self, *, force=False):
        raise TypeError("numpy(): a sparse tensor has no dense array; call .to_dense().numpy()")

    def tolist(self):
        raise TypeError("tolist(): a sparse tensor has no dense list; call .to_dense().tolist()")

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self.to_dense().item()

    def __array__(self, dtype=None, copy=None):
        raise TypeError("a sparse tensor cannot be converted to a NumPy array; call .to_dense()")

    def __iter__(self):
        raise NotImplementedError(_refusal(self, "__iter__"))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __setitem__(self, key, value):
        raise TypeError("Cannot assign to a sparse tensor")

    __hash__ = object.__hash__

    def __reduce_ex__(self, protocol):
        raise TypeError("sparse tensors are not picklable: call .to_dense() first, or save with retrograd.save")

    def __deepcopy__(self, memo):
        t = self.clone()
        memo[id(self)] = t
        return t

    def __repr__(self):
        c = self._data
        from .._repr import tensor_repr

        ind = tensor_repr(Tensor._make(c.indices, None, False)).replace("\n", "\n" + " " * 15)
        val = tensor_repr(Tensor._make(c.values, None, False)).replace("\n", "\n" + " " * 14)
        extra = ""
        if self.grad_fn is not None:
            extra = f", grad_fn=<{self.grad_fn.name()}>"
        elif self._rg:
            extra = ", requires_grad=True"
        return (
            f"tensor(indices={ind},\n       values={val},\n       size={tuple(c.shape)}, "
            f"nnz={c.indices.shape[1]}, layout=retrograd.sparse_coo{extra})"
        )


def _refusal(t, name):
    return (
        f"{name}: not supported for sparse COO tensors (shape {list(t._data.shape)}, "
        f"nnz={t._data.indices.shape[1]}); call .to_dense() first"
    )


# Operators Python looks up on the class (never through __getattr__): refused with the op's name,
# as PyTorch raises for them on a sparse tensor.
def _refused_operator(name):
    op = f"{name.strip('_')} (the {name} operator)"

    def method(self, *args):
        raise NotImplementedError(_refusal(self, op))

    method.__name__ = name
    return method


for _name in (
    "__getitem__",
    "__pow__",
    "__rpow__",
    "__rtruediv__",
    "__floordiv__",
    "__rfloordiv__",
    "__mod__",
    "__abs__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__eq__",
    "__ne__",
    "__and__",
    "__or__",
    "__xor__",
    "__invert__",
):
    setattr(SparseTensor, _name, _refused_operator(_name))
del _name

from . import _linalg, _ops  # noqa: E402  (they build SparseTensors: imported once the class exists)
