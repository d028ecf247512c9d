"""Every public function taking ``layout=``, ``pin_memory=`` or ``memory_format=`` either honours
a non-default value (the result has that layout, that memory order) or raises: none returns a
result that ignores it. The walk finds the functions by their signatures, so a new one must be
given a call here."""

import inspect

import numpy as np
import pytest

import retrograd as rg
import retrograd.fft
import retrograd.linalg
import retrograd.nn.functional
import retrograd.special

NAMESPACES = {
    "retrograd": rg,
    "retrograd.special": rg.special,
    "retrograd.linalg": rg.linalg,
    "retrograd.fft": rg.fft,
    "retrograd.nn.functional": rg.nn.functional,
    "Tensor": rg.Tensor,
}
KEYWORDS = ("layout", "pin_memory", "memory_format")
X = rg.ones(2, 3, 4, 5)  # row-major, and not channels-last (3 channels)
_FILE = []


def _from_file(f, **k):
    return f(_FILE[0], shared=False, size=4, **k)


# How to call each function (``f`` is the function, or the unbound Tensor method).
CALLS = {
    "retrograd.zeros": lambda f, **k: f(2, 3, 4, 5, **k),
    "retrograd.ones": lambda f, **k: f(2, 3, 4, 5, **k),
    "retrograd.empty": lambda f, **k: f(2, 3, 4, 5, **k),
    "retrograd.full": lambda f, **k: f((2, 3, 4, 5), 1.5, **k),
    "retrograd.rand": lambda f, **k: f(2, 3, 4, 5, **k),
    "retrograd.randn": lambda f, **k: f(2, 3, 4, 5, **k),
    "retrograd.randint": lambda f, **k: f(0, 5, (2, 3, 4, 5), **k),
    "retrograd.normal": lambda f, **k: f(0.0, 1.0, (2, 3, 4, 5), **k),
    "retrograd.arange": lambda f, **k: f(5, **k),
    "retrograd.range": lambda f, **k: f(0, 4, **k),
    "retrograd.linspace": lambda f, **k: f(0, 1, 5, **k),
    "retrograd.logspace": lambda f, **k: f(0, 1, 5, **k),
    "retrograd.eye": lambda f, **k: f(3, **k),
    "retrograd.randperm": lambda f, **k: f(5, **k),
    "retrograd.tril_indices": lambda f, **k: f(3, 3, **k),
    "retrograd.triu_indices": lambda f, **k: f(3, 3, **k),
    "retrograd.scalar_tensor": lambda f, **k: f(2.0, **k),
    "retrograd.tensor": lambda f, **k: f([[1.0, 2.0]], **k),
    "retrograd.empty_strided": lambda f, **k: f((2, 3, 4, 5), (60, 20, 5, 1), **k),
    "retrograd.from_file": _from_file,
    "retrograd.fft.fftfreq": lambda f, **k: f(5, **k),
    "retrograd.fft.rfftfreq": lambda f, **k: f(5, **k),
    "retrograd.randint_like": lambda f, **k: f(X, 5, **k),
    "retrograd.full_like": lambda f, **k: f(X, 2.0, **k),
    "retrograd.clone": lambda f, **k: f(X, **k),
    "Tensor.new_empty_strided": lambda f, **k: f(X, (2, 3, 4, 5), (60, 20, 5, 1), **k),
    "Tensor.to_sparse": lambda f, **k: f(X, **k),
    "Tensor.new_zeros": lambda f, **k: f(X, 2, 3, 4, 5, **k),
    "Tensor.new_ones": lambda f, **k: f(X, 2, 3, 4, 5, **k),
    "Tensor.new_empty": lambda f, **k: f(X, 2, 3, 4, 5, **k),
    "Tensor.new_full": lambda f, **k: f(X, (2, 3, 4, 5), 1.5, **k),
    "Tensor.resize_": lambda f, **k: f(rg.ones(2, 3, 4, 5), 2, 3, 4, 5, **k),
    "Tensor.resize_as_": lambda f, **k: f(rg.ones(1), X, **k),
    "Tensor.is_contiguous": lambda f, **k: f(X, **k),
}
for _n in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
    CALLS[f"retrograd.{_n}"] = lambda f, **k: f(X, **k)
for _n in ("hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"):
    CALLS[f"retrograd.{_n}"] = lambda f, **k: f(5, **k)
for _n in ("bfloat16", "bool", "byte", "cdouble", "cfloat", "char", "double", "float", "half", "int", "long", "short"):
    CALLS[f"Tensor.{_n}"] = lambda f, **k: f(X, **k)
for _n in ("clone", "contiguous"):
    CALLS[f"Tensor.{_n}"] = lambda f, **k: f(X, **k)


def _walk():
    """(qualified name, function, keywords it takes) for every public function with one."""
    found = []
    for prefix, ns in NAMESPACES.items():
        for name in sorted(dir(ns)):
            f = getattr(ns, name)
            if name.startswith("_") or not callable(f) or isinstance(f, type):
                continue
            try:
                params = inspect.signature(f).parameters
            except (TypeError, ValueError):
                continue
            keys = tuple(k for k in KEYWORDS if k in params)
            if keys:
                found.append((f"{prefix}.{name}", f, keys))
    return found


FOUND = _walk()


@pytest.fixture(autouse=True, scope="module")
def _mapped_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("from_file") / "data.bin"
    np.arange(4, dtype=np.float32).tofile(path)
    _FILE.append(str(path))
    yield
    _FILE.clear()


def test_every_function_with_these_keywords_has_a_call():
    names = {n for n, _, _ in FOUND}
    assert names - set(CALLS) == set(), "give these functions a call in CALLS"
    assert set(CALLS) - names == set(), "these no longer take the keywords"


def _cases(keyword):
    return [pytest.param(f, n, id=n) for n, f, keys in FOUND if keyword in keys]


@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
@pytest.mark.parametrize("f, name", _cases("layout"))
def test_layout_is_honoured_or_refused(f, name):
    call = CALLS[name]
    try:
        r = call(f, layout=rg.sparse_coo)
    except (NotImplementedError, RuntimeError) as e:
        assert name.split(".")[-1] in str(e) or "layout" in str(e)
    else:
        assert r.layout is rg.sparse_coo, f"{name} ignored layout=sparse_coo"
        assert tuple(r.shape) == tuple(X.shape)
        assert r._nnz() == (X.numel() if name == "Tensor.to_sparse" else 0)  # all zeros from a factory
    with pytest.raises((TypeError, NotImplementedError)):
        call(f, layout="strided")  # not a layout
    if name != "Tensor.to_sparse":
        assert call(f, layout=rg.strided).layout is rg.strided


@pytest.mark.parametrize("f, name", _cases("pin_memory"))
def test_pin_memory(f, name):
    call = CALLS[name]
    assert call(f, pin_memory=False).layout is rg.strided
    if rg.cuda.is_available() and name != "retrograd.from_file":
        # host memory is never page-locked: as Tensor.pin_memory(), a documented no-op
        assert call(f, pin_memory=True).device.type == "cpu"
    else:
        with pytest.raises(RuntimeError, match="pin_memory"):
            call(f, pin_memory=True)


@pytest.mark.parametrize("f, name", _cases("memory_format"))
def test_memory_format_is_honoured_or_refused(f, name):
    call = CALLS[name]
    try:
        r = call(f, memory_format=rg.channels_last)
    except (NotImplementedError, RuntimeError):
        return
    if isinstance(r, bool):  # is_contiguous answers for the format asked about
        assert r is False and call(f) is True
    else:
        assert r.is_contiguous(memory_format=rg.channels_last) and not r.is_contiguous()


@pytest.mark.parametrize("name", ["zeros", "empty"])
def test_sparse_zeros_and_empty(name):
    z = getattr(rg, name)(2, 3, layout=rg.sparse_coo, dtype=rg.float64, requires_grad=True)
    assert z.layout is rg.sparse_coo and z.shape == (2, 3) and z.dtype == rg.float64
    assert z.requires_grad and z._nnz() == 0
    assert z.to_dense().tolist() == [[0.0] * 3] * 2
    with pytest.raises(RuntimeError, match="memory format"):
        rg.empty(1, 2, 3, 4, layout=rg.sparse_coo, memory_format=rg.channels_last)


def test_sparse_zeros_like():
    like = rg.zeros_like(rg.ones(4, dtype=rg.int32), layout=rg.sparse_coo)
    assert like.layout is rg.sparse_coo and like.dtype == rg.int32 and like.shape == (4,) and like._nnz() == 0


def test_unsupported_sparse_layout_says_how_to_get_one():
    with pytest.raises(NotImplementedError, match=r"ones.*to_sparse"):
        rg.ones(2, layout=rg.sparse_coo)
    with pytest.raises(NotImplementedError, match=r"empty_like.*to_sparse"):
        rg.empty_like(rg.ones(2), layout=rg.sparse_coo)  # as in PyTorch


@pytest.mark.parametrize(
    "size, stride",
    [((2, 3), (1, 2)), ((2, 3), (3, 1)), ((2, 3), (0, 1)), ((2, 3, 4), (1, 8, 2)), ((0, 3), (5, 1)), ((), ())],
)
def test_empty_strided_has_the_strides_asked_for(size, stride):
    t = rg.empty_strided(size, stride, dtype=rg.float64)
    assert t.shape == size and t.stride() == stride
    t.fill_(2.0)
    assert float(t.sum()) == 2.0 * int(np.prod(size))
    assert rg.ones(1).new_empty_strided(size, stride).stride() == stride


def test_empty_strided_allocates_the_storage_pytorch_does():
    t = rg.empty_strided((2, 3), (1, 2))
    flat = np.lib.stride_tricks.as_strided(t._data, (6,), (t._data.itemsize,))
    flat[:] = np.arange(6)  # the 1 + (2-1)*1 + (3-1)*2 = 6 elements of the buffer
    assert t.tolist() == [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]


def test_empty_strided_refuses_bad_strides():
    with pytest.raises(RuntimeError, match="negative strides"):
        rg.empty_strided((2, 3), (-1, 2))
    with pytest.raises(RuntimeError, match="dimensionality"):
        rg.empty_strided((2, 3), (1,))
    with pytest.raises(TypeError, match="stride"):
        rg.empty_strided((2, 3), (1.5, 2))
