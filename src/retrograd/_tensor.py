"""Tensor: an array with the autograd state around it.

State kept on each tensor (the first four in ``__slots__``, the rest defaulted on the class):
  _data       the array (numpy.ndarray, or cupy.ndarray on cuda)
  grad_fn     the node that made it (None for leaves)
  _rg         requires_grad (True for leaves that require grad and for every non-leaf with a grad_fn)
  _vc         version counter, shared with views (made on first use)
  _grad       accumulated gradient (leaves, and non-leaves that retain_grad)
  _out_nr     which output of ``grad_fn`` this tensor is
  _base       the tensor this one is a view of, or None
  _grad_acc   a leaf's AccumulateGrad node (made on first use; it holds the leaf weakly)
  _retains    whether a non-leaf keeps its .grad
  _fw_grad    the forward-mode tangent, inside a dual level (autograd/forward_ad.py)

Methods and operators are bound to ops in ``_tensor_methods.py``, from one explicit table.
"""

import copy
import warnings
import weakref

import numpy as np

from . import _dtype, _typeinfo, _upcalls
from ._repr import tensor_repr
from ._compile.state import _cap
from ._size import Size
from .autograd._handles import ListHookHandle
from .autograd.graph import VersionCounter, new_grad_accumulator, register_tensor
from ._device import to_device
from .backend import device_of, to_device_array, to_numpy
from .backend.meta import MetaArray
from ._warn import warn_user

_new = object.__new__
_np_generic = np.generic


_scalar_warned = []


def _warn_scalar_of_requires_grad():
    """PyTorch's once-per-process warning for ``float()``/``complex()`` of a tensor that
    requires grad (``item()``, ``int()`` and ``format()`` do not warn)."""
    if not _scalar_warned:
        _scalar_warned.append(True)
        warn_user(
            "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
            "Consider using tensor.detach() first."
        )


class Tensor:
    # Hot state lives in slots; rarely set state lives in the instance __dict__ (created on first
    # write), with the class attributes below as defaults, so making a tensor sets three slots.
    __slots__ = ("_data", "grad_fn", "_rg", "_vc", "__weakref__", "__dict__")
    _grad = None
    _out_nr = 0
    _base = None
    _grad_acc = None
    _retains = False
    _fw_grad = None  # forward-mode tangent (autograd/forward_ad.py)

    # Keep NumPy from treating a Tensor as a sequence and from taking over binary operators.
    __array_priority__ = 1000
    __array_ufunc__ = None

    def __new__(cls, *args, **kwargs):
        return _new(cls)

    def __init__(self, *args, device=None, dtype=None):
        # Legacy constructor: Tensor([1., 2.]) or Tensor(2, 3) (uninitialised float tensor).
        if len(args) == 1 and not isinstance(args[0], int):
            data = _upcalls.array_from(args[0], dtype or _dtype.get_default_dtype(), device)
        else:
            shape = tuple(args) or (0,)  # Tensor() is empty, with one dimension of size 0
            data = np.empty(shape, dtype=(dtype and _dtype.to_np(dtype)) or _dtype.get_default_dtype().np)
        _init(self, data, None, False)

    @classmethod
    def _make(cls, data, grad_fn, requires_grad):
        if isinstance(data, _np_generic):  # NumPy returns scalars from 0-d arithmetic
            data = np.asarray(data)
        t = _new(cls)
        t._data = data
        t.grad_fn = grad_fn
        t._rg = requires_grad
        t._vc = None
        return t

    # ----------------------------------------------------------------- metadata
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return self.shape
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    def dim(self):
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    @property
    def dtype(self):
        return _dtype.from_np(self._data.dtype)

    @property
    def device(self):
        return device_of(self._data)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    @property
    def is_meta(self):
        """Whether the tensor is on the ``meta`` device: a shape, dtype and strides, no data."""
        return type(self._data) is MetaArray

    def is_floating_point(self):
        return self._data.dtype.kind in "fV"

    @property
    def is_sparse(self):
        return False

    def element_size(self):
        return self._data.itemsize

    def stride(self, dim=None):
        a = self._data
        if a.size == 0 and not any(a.strides):
            strides = _empty_strides(a.shape)
        else:
            strides = tuple(s // a.itemsize for s in a.strides)
        return strides if dim is None else strides[_wrap_dim(dim, a.ndim, "stride")]

    def is_contiguous(self, memory_format=None):
        """Whether the elements lie in memory in the order ``memory_format`` names, without gaps:
        row-major for ``contiguous_format`` (the default); for ``channels_last`` (4-D) and
        ``channels_last_3d`` (5-D), row-major over the dims with the channels last. Strides of
        size-1 dims do not matter, as in PyTorch."""
        a = self._data
        if memory_format is None or memory_format is _typeinfo.contiguous_format:
            return a.flags.c_contiguous
        if memory_format is _typeinfo.preserve_format:
            raise RuntimeError("is_contiguous: preserve_format is not a layout a tensor can be contiguous in")
        if memory_format is _typeinfo.channels_last or memory_format is _typeinfo.channels_last_3d:
            n = 4 if memory_format is _typeinfo.channels_last else 5
            return a.ndim == n and a.transpose((0, *range(2, n), 1)).flags.c_contiguous
        raise TypeError(f"is_contiguous(): memory_format must be a torch.memory_format, not {memory_format!r}")

    def data_ptr(self):
        d = self._data
        if type(d) is MetaArray:
            return 0  # no storage, as PyTorch's meta tensors
        return d.__array_interface__["data"][0] if isinstance(d, np.ndarray) else d.data.ptr

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ----------------------------------------------------------------- autograd state
    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a "
                    "computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach()."
                )
            return self
        if requires_grad and self._data.dtype.kind not in "fcV":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got a tensor of dtype "
                f"{self.dtype} and shape {list(self._data.shape)}"
            )
        self._rg = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        if _cap.active:  # a compiled function's Python may branch on it: guarded (capture.py)
            _cap.recorder.read_grad(self)
        if self.grad_fn is not None and not self._retains and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor) and not getattr(value, "is_sparse", False):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}"
                )
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"assigned grad has data of dtype {value.dtype} but the tensor has dtype {self.dtype}"
                )
            if not getattr(value, "is_sparse", False) and value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"assigned grad has data of shape {list(value._data.shape)} but "
                    f"the tensor has shape {list(self._data.shape)}"
                )
        if _cap.active:
            _cap.recorder.set_grad(self, value)
        self._grad = value

    def _grad_sum(self, g):
        """``self + g``, for summing two gradients of one tensor; a sparse gradient's class
        (``SparseTensor._grad_sum``) says how it sums with a dense one."""
        return self + g

    @property
    def retains_grad(self):
        return self._retains

    def retain_grad(self):
        """Keep ``.grad`` of a non-leaf tensor after backward (a no-op on leaves)."""
        if self.grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains:
            return
        self._retains = True
        self.grad_fn._extras().setdefault("retains", {})[self._out_nr] = _weakref(self)

    @property
    def output_nr(self):
        return self._out_nr

    def _version_counter(self):
        vc = self._vc
        if vc is None:
            vc = self._vc = VersionCounter()
        return vc

    @property
    def _version(self):
        vc = self._vc
        return 0 if vc is None else vc.value

    def _grad_accumulator(self):
        acc = self._grad_acc
        if acc is None:
            acc = new_grad_accumulator(self)
        return acc

    def detach(self):
        """A new tensor sharing storage (and version counter) with this one, outside the graph.

        As in PyTorch it is not a view (``_base`` is None): in-place changes to it are seen by
        this tensor's saved-tensor checks, but never change this tensor's history."""
        t = Tensor._make(self._data, None, False)
        t._vc = self._version_counter()
        return t

    def _is_view(self):
        return self._base is not None

    def storage_offset(self):
        if type(self._data) is MetaArray:
            return self._data.offset
        base = self._base if self._base is not None else self
        return (self.data_ptr() - base.data_ptr()) // self._data.itemsize

    def untyped_storage(self):
        """The storage this tensor (and its base and views) lives in; ``data_ptr()`` is the
        base's first byte."""
        return UntypedStorage(self._base if self._base is not None else self)

    def detach_(self):
        if self._base is not None and self._base._rg:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._rg = False
        return self

    @property
    def data(self):
        """A tensor sharing this one's storage, outside the graph, with a version counter of its
        own (unlike ``detach()``): as in PyTorch, in-place changes made through ``.data`` are not
        seen by the saved-tensor checks, so backward uses the changed values without an error."""
        return Tensor._make(self._data, None, False)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else value

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into the ``.grad`` of the leaves (or of ``inputs``)."""
        _upcalls.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def register_hook(self, hook):
        """``hook(grad)`` runs when this tensor's gradient is computed; it may return a new one."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._register_tensor_hook(self._out_nr, hook)
        return self._grad_accumulator()._register_tensor_hook(0, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """``hook(tensor)`` runs after the gradient was accumulated into a leaf's ``.grad``."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        return ListHookHandle(self._grad_accumulator()._hook_list("post_accumulate"), hook)

    # ----------------------------------------------------------------- conversion
    def item(self):
        if _cap.active:
            _cap.recorder.graph_break("Tensor.item()", self._data, _item_of)
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to "
                f"Scalar (item() needs exactly one element; shape is "
                f"{list(self._data.shape)})"
            )
        return self._data.item()

    def tolist(self):
        if _cap.active:
            _cap.recorder.graph_break("Tensor.tolist()", self._data, _list_of)
        return _list_of(self._data)

    def numpy(self, *, force=False):
        if _cap.active:
            _cap.recorder.graph_break("Tensor.numpy()")
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        _check_numpy_dtype(self)
        if self.device.type != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. Use "
                    f"Tensor.cpu() to copy the tensor to host memory first."
                )
            return to_numpy(self._data)
        return self._data

    def __array__(self, dtype=None, copy=None):
        if _cap.active:
            _cap.recorder.graph_break("conversion of a tensor to a NumPy array")
        _check_numpy_dtype(self)
        if type(self._data) is MetaArray:
            raise TypeError(
                "can't convert meta device type tensor to numpy. Use Tensor.cpu() to copy the "
                "tensor to host memory first."
            )
        a = to_numpy(self._data)
        return a if dtype is None else a.astype(dtype, copy=False)

    def __bool__(self):
        if _cap.active:
            _cap.recorder.graph_break("bool(tensor)", self._data, _bool_of)
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} elements is ambiguous")
        return bool(self._data)

    def _one_element(self):
        """The one element, for float()/int()/complex() (ValueError otherwise, as in PyTorch)."""
        if _cap.active:
            _cap.recorder.graph_break("float()/int()/complex() of a tensor", self._data, _item_of)
        if self._data.size != 1:
            raise ValueError(
                f"only one element tensors can be converted to Python scalars (this one "
                f"has shape {list(self._data.shape)})"
            )
        return self._data.item()

    def __float__(self):
        if self._rg:
            _warn_scalar_of_requires_grad()
        return float(self._one_element())

    def __int__(self):
        return int(self._one_element())

    def __index__(self):
        if _cap.active:
            _cap.recorder.graph_break("a tensor used as an index (__index__)", self._data, _index_of)
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())  # one element of any number of dims, as PyTorch

    def __complex__(self):
        if self._rg:
            _warn_scalar_of_requires_grad()
        return complex(self._one_element())

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reduce_ex__(self, protocol):
        """Pickle by value (what ``multiprocessing`` and ``copy`` use): the data (copied to the
        host), device, class, ``requires_grad`` and user attributes. As in PyTorch the copy is a
        leaf and ``.grad`` is not kept; files are written with ``retrograd.save``, not pickle."""
        user_attrs = {k: v for k, v in self.__dict__.items() if k not in _STATE_ATTRS}
        data = self._data
        data = data.copy() if type(data) is MetaArray else np.array(to_numpy(data))
        return (_rebuild, (type(self), data, str(self.device), self._rg, user_attrs))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment"
            )
        t = type(self)._make(self._data.copy(), None, self._rg)
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        user_attrs = {k: v for k, v in self.__dict__.items() if k not in _STATE_ATTRS}
        if user_attrs:
            t.__dict__.update(copy.deepcopy(user_attrs, memo))
        memo[id(self)] = t
        return t

    def __repr__(self):
        if _cap.active:
            _cap.recorder.graph_break("printing a tensor (repr)")
        return tensor_repr(self)

    def __format__(self, spec):
        if _cap.active:
            _cap.recorder.graph_break("formatting a tensor")
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)


# What Python gets from a tensor's array at a graph break: a compiled replay computes it again
# from the replayed array and compares (_compile/capture.check_break).
def _item_of(a):
    return a.item()


def _list_of(a):
    return to_numpy(a).tolist()


def _bool_of(a):
    return bool(a)


def _index_of(a):
    return int(a.item())


_dtype.TENSOR_TYPES = (Tensor,)  # result_type reads these tensors' dtypes (_dtype sits below)


class UntypedStorage:
    """A read-only handle on a tensor's storage: its address and size in bytes."""

    __slots__ = ("_owner",)

    def __init__(self, owner):
        self._owner = owner

    def data_ptr(self):
        return self._owner.data_ptr()

    def nbytes(self):
        return self._owner._data.nbytes

    size = nbytes
    __len__ = nbytes

    def element_size(self):
        return 1

    def tolist(self):
        """The bytes of the storage, as ints (memory order)."""
        return to_numpy(self._owner._data).ravel(order="K").view(np.uint8).tolist()

    @property
    def device(self):
        return self._owner.device

    def __eq__(self, other):
        return isinstance(other, UntypedStorage) and other.data_ptr() == self.data_ptr()

    def __hash__(self):
        return hash(self.data_ptr())


def _rebuild(cls, array, device, requires_grad, user_attrs):
    """Unpickle a tensor written by ``Tensor.__reduce_ex__``."""
    t = cls._make(to_device_array(array, to_device(device)), None, False)
    if requires_grad:
        t.requires_grad_(True)
    t.__dict__.update(user_attrs)
    return t


_STATE_ATTRS = frozenset(("_grad", "_out_nr", "_base", "_grad_acc", "_retains"))


def _init(t, data, grad_fn, rg):
    t._data = data
    t.grad_fn = grad_fn
    t._rg = rg
    t._vc = None


def make_tensor(data, grad_fn, requires_grad):
    """Fast constructor for op results (``data`` is already an array, never a NumPy scalar)."""
    t = _new(Tensor)
    t._data = data
    t.grad_fn = grad_fn
    t._rg = requires_grad
    t._vc = None
    return t


register_tensor(Tensor, make_tensor)  # the graph makes tensors when it unpacks saved outputs


def _weakref(t):
    return weakref.ref(t)


def _wrap_dim(dim, ndim, op="op"):
    """Map a possibly negative ``dim`` into ``range(ndim)`` (a 0-d tensor accepts -1 and 0)."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


_NO_NUMPY = {"bfloat16": "BFloat16", "float8_e4m3fn": "Float8_e4m3fn", "float8_e5m2": "Float8_e5m2"}


def _check_numpy_dtype(t):
    """PyTorch has no NumPy dtype for bfloat16 and float8: numpy() and np.asarray refuse them."""
    if t._data.dtype.char in "E45":
        raise TypeError(
            f"Got unsupported ScalarType {_NO_NUMPY[t._data.dtype.name]}: NumPy has no such "
            f"dtype; convert first, e.g. tensor.float().numpy()"
        )


def _empty_strides(shape):
    """PyTorch's strides for a new tensor with no elements: row-major, a size-0 dim counted as 1
    (NumPy gives a freshly allocated empty array all-zero strides)."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))
