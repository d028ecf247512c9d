"""PyTorch's out= forms: every function that accepts ``out`` writes its result there, and no
public function accepts ``out`` to ignore it."""

import inspect
import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd.ops import _out
from retrograd.ops._declare import out_forms

NAMESPACES = {"torch": rg, "special": rg.special, "linalg": rg.linalg, "fft": rg.fft}
OUT_FORMS = out_forms()  # the names declared with out=, and the factories that take it


def _is_out_form(f):
    return _out.is_out_form(f)


def _public_functions(module):
    for name in sorted(dir(module)):
        f = getattr(module, name)
        if not name.startswith("_") and callable(f) and not isinstance(f, type):
            yield name, f


@pytest.mark.parametrize(
    "module",
    [rg, rg.special, rg.linalg, rg.nn.functional, rg.fft]
    if hasattr(rg, "fft")
    else [rg, rg.special, rg.linalg, rg.nn.functional],
    ids=lambda m: m.__name__,
)
def test_no_public_function_accepts_out_to_ignore_it(module):
    for name, f in _public_functions(module):
        try:
            params = inspect.signature(f).parameters
        except (TypeError, ValueError):
            continue
        if "out" in params:
            assert _is_out_form(f), f"{module.__name__}.{name} accepts out= without writing into it"


def test_tensor_methods_take_no_out():
    """As in PyTorch: ``x.add(y, out=o)`` is a TypeError, not a silently ignored argument."""
    for name in dir(rg.Tensor):
        f = getattr(rg.Tensor, name, None)
        if name.startswith("__") or not callable(f):
            continue
        try:
            params = inspect.signature(f).parameters
        except (TypeError, ValueError):
            continue
        assert "out" not in params, f"Tensor.{name} accepts out="
    with pytest.raises(TypeError):
        rg.ones(2).add(rg.ones(2), out=rg.empty(2))


@pytest.mark.parametrize("namespace", sorted(OUT_FORMS))
def test_every_declared_out_form_is_the_public_function(namespace):
    module = NAMESPACES[namespace]
    for name in OUT_FORMS[namespace]:
        assert _is_out_form(getattr(module, name)), f"{namespace}.{name} is not its out= form"


# Sample calls for the agreement test: the first that the plain function accepts is used.
_x = np.linspace(0.6, 1.7, 9).reshape(3, 3) + np.eye(3)  # invertible, positive
_CANDIDATES = [
    lambda: ((rg.tensor(_x),), {}),
    lambda: ((rg.tensor(_x), rg.tensor(_x.T + 0.1)), {}),
    lambda: ((rg.tensor(_x), 0), {}),
    lambda: ((rg.tensor(_x), 1), {}),
    lambda: ((rg.tensor(_x), rg.tensor(_x.T), rg.tensor(_x + 1)), {}),
    lambda: ((rg.tensor(_x), rg.tensor(_x.T), 0.5), {}),
    lambda: ((rg.tensor(_x[0]), rg.tensor(_x[1])), {}),
    lambda: (([rg.tensor(_x), rg.tensor(_x + 1)],), {}),
    lambda: ((rg.tensor(_x @ _x.T + 3 * np.eye(3)),), {}),
    lambda: ((rg.tensor(_x), rg.tensor(_x[0])), {}),
    lambda: ((3,), {}),
    lambda: ((0, 3), {}),
    lambda: ((rg.tensor(_x) > 1, rg.tensor(_x), rg.tensor(-_x)), {}),
    lambda: ((rg.tensor(_x), 0, rg.tensor([0, 2])), {}),
    lambda: ((rg.tensor(_x), 0, rg.zeros(3, 3, dtype=rg.int64)), {}),
    lambda: ((rg.tensor(_x), 0, rg.zeros(3, 3, dtype=rg.int64), rg.tensor(_x)), {}),
    lambda: ((rg.tensor(_x), rg.tensor(_x) > 1), {}),
    lambda: ((rg.tensor(_x), [1, 0]), {}),
    lambda: ((rg.tensor(_x), [3, 3]), {}),
    lambda: ((1, rg.tensor(_x)), {}),
    lambda: ((rg.tensor([1, 6, 3]), rg.tensor([4, 2, 9])), {}),
    lambda: ((rg.tensor([1, 6, 3]),), {}),
    lambda: ((rg.tensor(_x), 0, 0, 2), {}),
    lambda: ((rg.tensor(_x), rg.tensor([0.0, 1.0, 2.0])), {}),
    lambda: ((rg.tensor([0.0, 1.0, 2.0]), rg.tensor(_x)), {}),
    lambda: ((rg.tensor(_x), 2, 0, 1.0), {}),
    lambda: ((rg.tensor(_x), rg.tensor(_x), rg.tensor(_x)), {"upper": False}),
    lambda: ((rg.tensor(_x), 2), {}),
    lambda: ((rg.tensor(_x), (3, 1)), {}),
    lambda: ((rg.tensor(_x.reshape(-1)), [4, 5]), {}),
]
# Calls found by no candidate above; every out form must be exercised one way or the other.
_SPECIFIC = {
    "fftfreq": lambda: ((5, 0.5), {}),
    "rfftfreq": lambda: ((5, 0.5), {}),
    "bernoulli": lambda: ((rg.full((3, 3), 0.5),), {"generator": rg.Generator().manual_seed(0)}),
    "multinomial": lambda: ((rg.tensor([0.2, 0.8]), 3, True), {"generator": rg.Generator().manual_seed(0)}),
    "normal": lambda: ((rg.zeros(3), rg.ones(3)), {"generator": rg.Generator().manual_seed(0)}),
    "rand": lambda: ((3,), {"generator": rg.Generator().manual_seed(0)}),
    "randn": lambda: ((3,), {"generator": rg.Generator().manual_seed(0)}),
    "randint": lambda: ((0, 5, (3,)), {"generator": rg.Generator().manual_seed(0)}),
    "randperm": lambda: ((5,), {"generator": rg.Generator().manual_seed(0)}),
    "polygamma": lambda: ((1, rg.tensor(_x)), {}),
    "lu_unpack": lambda: (rg.lu(rg.tensor([[1.0, 2.0], [3.0, 4.0]])), {}),
    "ormqr": lambda: ((*rg.geqrf(rg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])), rg.ones(3, 2)), {}),
    "lu_solve": lambda: ((rg.tensor([[1.0], [2.0]]), *rg.lu(rg.tensor([[1.0, 2.0], [3.0, 4.0]]))), {}),
    "linalg.lu_solve": lambda: ((*rg.lu(rg.tensor([[1.0, 2.0], [3.0, 4.0]])), rg.tensor([[1.0], [2.0]])), {}),
    "linalg.ldl_solve": lambda: (
        (*rg.linalg.ldl_factor(rg.tensor([[1.0, 2.0], [2.0, 1.0]])), rg.tensor([[1.0], [2.0]])),
        {},
    ),
    "linalg.tensorinv": lambda: ((rg.tensor(np.eye(4).reshape(4, 2, 2) + 0.1),), {"ind": 1}),
    "linalg.tensorsolve": lambda: ((rg.tensor(np.eye(6).reshape(2, 3, 6) + 0.1), rg.tensor(_x[:2])), {}),
    "mvlgamma": lambda: ((rg.tensor(_x + 2), 2), {}),
    "multigammaln": lambda: ((rg.tensor(_x + 2), 2), {}),
    "full": lambda: (((2, 3), 1.5), {}),
    "bucketize": lambda: ((rg.tensor(_x), rg.tensor([0.5, 1.0, 1.5])), {}),
    "searchsorted": lambda: ((rg.tensor([0.5, 1.0, 1.5]), rg.tensor(_x)), {}),
    "histc": lambda: ((rg.tensor(_x),), {"bins": 4}),
    "solve_triangular": lambda: ((rg.tensor(np.triu(_x)), rg.tensor(_x)), {"upper": True}),
    "addbmm": lambda: ((rg.tensor(_x), rg.tensor(np.stack([_x, _x])), rg.tensor(np.stack([_x, _x]))), {}),
    "baddbmm": lambda: ((rg.tensor(np.stack([_x, _x])),) * 3, {}),
    "bmm": lambda: ((rg.tensor(np.stack([_x, _x])),) * 2, {}),
    "addmv": lambda: ((rg.tensor(_x[0]), rg.tensor(_x), rg.tensor(_x[1])), {}),
    "index_copy": lambda: ((rg.tensor(_x), 0, rg.tensor([0, 2]), rg.tensor(_x[:2])), {}),
    "index_add": lambda: ((rg.tensor(_x), 0, rg.tensor([0, 2]), rg.tensor(_x[:2])), {}),
    "slice_scatter": lambda: ((rg.tensor(_x), rg.tensor(_x[:1])), {"end": 1}),
    "select_copy": lambda: ((rg.tensor(_x), 0, 1), {}),
    "narrow_copy": lambda: ((rg.tensor(_x), 0, 1, 2), {}),
    "as_strided_copy": lambda: ((rg.tensor(_x), (2, 2), (3, 1)), {}),
    "logspace": lambda: ((0, 2, 5), {}),
    "linspace": lambda: ((0, 2, 5), {}),
    "tensordot": lambda: ((rg.tensor(_x), rg.tensor(_x)), {"dims": 1}),
    "nanquantile": lambda: ((rg.tensor(_x), 0.3), {}),
    "quantile": lambda: ((rg.tensor(_x), 0.3), {}),
    "histogram": lambda: ((rg.tensor(_x),), {"bins": 4}),
    "renorm": lambda: ((rg.tensor(_x), 2, 0, 1.0), {}),
    "threshold": lambda: ((rg.tensor(_x), 1.0, 0.0), {}),
    "chain_matmul": lambda: ((rg.tensor(_x), rg.tensor(_x)), {}),
    "multi_dot": lambda: (([rg.tensor(_x), rg.tensor(_x)],), {}),
    "addr": lambda: ((rg.tensor(_x), rg.tensor(_x[0]), rg.tensor(_x[1])), {}),
    "take": lambda: ((rg.tensor(_x), rg.tensor([0, 4, 8])), {}),
    "take_along_dim": lambda: ((rg.tensor(_x), rg.tensor([[2, 0, 1]])), {"dim": 0}),
    "transpose_copy": lambda: ((rg.tensor(_x), 0, 1), {}),
    # PyTorch's out= form of these needs dim
    "sum": lambda: ((rg.tensor(_x), 0), {}),
    "median": lambda: ((rg.tensor(_x), 0), {}),
    "nanmedian": lambda: ((rg.tensor(_x), 0), {}),
}
_UNDEFINED_VALUES = {"empty"}  # only the shape and dtype are defined


def _makers(name, namespace=None):
    """The sample calls to try for ``name``: its specific one (``"namespace.name"`` first, for
    names whose signature differs between namespaces), then the generic candidates."""
    for key in (f"{namespace}.{name}", name):
        if key in _SPECIFIC:
            return [_SPECIFIC[key]] + _CANDIDATES
    return _CANDIDATES


def _plain_call(namespace, name, makers=None):
    """The first sample call (of ``makers``) that the plain function accepts, and its result."""
    f = getattr(NAMESPACES[namespace], name).__wrapped__
    for make in makers or _makers(name, namespace):
        args, kwargs = make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = f(*args, **kwargs)
            except Exception:
                continue
        if isinstance(result, rg.Tensor) or (
            isinstance(result, tuple) and result and all(isinstance(r, rg.Tensor) for r in result)
        ):
            return make, result
    raise AssertionError(f"no sample call found for {namespace}.{name}: add one to _SPECIFIC")


_ALL = [(ns, name) for ns in sorted(OUT_FORMS) for name in sorted(OUT_FORMS[ns])]


@pytest.mark.parametrize("namespace,name", _ALL, ids=[f"{ns}.{n}" for ns, n in _ALL])
def test_out_form_writes_the_functional_result_into_out(namespace, name):
    make, expected = _plain_call(namespace, name)
    args, kwargs = make()  # fresh inputs and a fresh generator: the same draws again
    f = getattr(NAMESPACES[namespace], name)
    if isinstance(expected, rg.Tensor):
        out = rg.empty(0, dtype=expected.dtype)
        got = f(*args, out=out, **kwargs)
        assert got is out
        pairs = [(out, expected)]
    else:
        out = tuple(rg.empty(0, dtype=e.dtype) for e in expected)
        got = f(*args, out=out, **kwargs)
        assert all(g is o for g, o in zip(got, out)) and type(got) is type(expected)
        pairs = list(zip(out, expected))
    for o, e in pairs:
        assert o.shape == e.shape and o.dtype == e.dtype
        if name not in _UNDEFINED_VALUES:
            np.testing.assert_array_equal(o.numpy(), e.numpy())
        assert not o.requires_grad


def test_out_may_be_an_input():
    a = rg.tensor([1.0, 2.0])
    assert rg.add(a, a, out=a) is a
    np.testing.assert_array_equal(a.numpy(), [2.0, 4.0])


def test_out_is_refused_when_autograd_would_have_recorded():
    a = rg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="out=.*automatic differentiation"):
        rg.mul(a, 2.0, out=rg.empty(2))
    with pytest.raises(RuntimeError, match="automatic differentiation"):
        rg.exp(rg.ones(2), out=rg.empty(2, requires_grad=True))
    with rg.no_grad():
        out = rg.mul(a, 2.0, out=rg.empty(2))
    np.testing.assert_array_equal(out.numpy(), [2.0, 4.0])


def test_out_dtype_must_hold_the_result():
    with pytest.raises(RuntimeError, match="can't be cast"):
        rg.add(rg.tensor([1.5]), 1, out=rg.empty(1, dtype=rg.int64))
    with pytest.raises(RuntimeError, match="can't be cast"):
        rg.add(rg.tensor([1, 2]), 1, out=rg.empty(2, dtype=rg.bool))
    wide = rg.empty(2, dtype=rg.float64)
    rg.add(rg.tensor([1, 2]), 1, out=wide)  # an integer result into a float out is a cast
    assert wide.dtype == rg.float64
    np.testing.assert_array_equal(wide.numpy(), [2.0, 3.0])


def test_out_of_another_shape_is_resized_with_pytorchs_warning_unless_empty():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = rg.empty(0)
        rg.exp(rg.zeros(2, 3), out=out)  # empty: resized silently
    assert out.shape == (2, 3)
    out = rg.ones(5)
    with pytest.warns(UserWarning, match="was resized since it had shape \\[5\\]"):
        rg.exp(rg.zeros(2), out=out)
    np.testing.assert_array_equal(out.numpy(), [1.0, 1.0])
    base = rg.zeros(4)
    with pytest.raises(RuntimeError, match="view cannot be resized"):
        rg.exp(rg.zeros(3), out=base[:2])
    rg.exp(rg.zeros(2), out=base[1:3])  # a view of the right shape is written through
    np.testing.assert_array_equal(base.numpy(), [0.0, 1.0, 1.0, 0.0])


def test_writing_out_bumps_its_version_so_a_saved_out_is_caught():
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    buf = rg.tensor([3.0, 4.0])
    y = (w * buf).sum()  # saves buf
    with rg.no_grad():
        rg.add(buf, 1, out=buf)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_out_of_a_function_with_several_results_is_a_tuple():
    values, indices = rg.empty(0), rg.empty(0, dtype=rg.int64)
    r = rg.max(rg.tensor([[1.0, 5.0], [7.0, 2.0]]), 1, out=(values, indices))
    assert r.values is values and r.indices is indices
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    with pytest.raises(TypeError, match="tuple of 2 Tensors"):
        rg.max(rg.ones(2, 2), 1, out=values)
    with pytest.raises(TypeError, match="must be Tensor"):
        rg.exp(rg.ones(2), out=[1.0, 2.0])


def test_a_function_without_an_out_form_refuses_out():
    with pytest.raises(TypeError):
        rg.relu(rg.ones(2), out=rg.empty(2))  # PyTorch's torch.relu has no out= either
    with pytest.raises(TypeError):
        rg.nn.functional.softmax(rg.ones(2), 0, out=rg.empty(2))


_UNSET = object()


def test_the_out_form_is_compiled_with_the_functions_own_parameters():
    """No ``*args``/``**kwargs`` packing per call: the wrapper has the function's parameters,
    passes each on (a sentinel default stays itself) and still takes ``out``."""

    def fn(x, y=2, /, z=_UNSET, *rest, k, m=None, **extra):
        return x, y, z, rest, k, m, extra

    f = _out.with_out(fn)
    code = f.__code__
    assert (code.co_posonlyargcount, code.co_argcount, code.co_kwonlyargcount) == (2, 3, 3)
    assert _out.is_out_form(f)
    assert str(inspect.signature(f)) == "(x, y=2, /, z=<object>, *rest, k, m=None, out=None, **extra)".replace(
        "<object>", repr(_UNSET)
    )
    assert f(1, k=5) == (1, 2, _UNSET, (), 5, None, {})
    assert f(1, 2, 3, 4, 5, k=6, m=7, q=8) == (1, 2, 3, (4, 5), 6, 7, {"q": 8})
    with pytest.raises(TypeError, match="fn"):
        f(1)

    def scaled(input, *, factor=2.0):
        return input * factor

    g = _out.with_out(scaled)
    o = rg.zeros(3)
    assert g(rg.ones(3), factor=3.0, out=o) is o
    np.testing.assert_array_equal(o.numpy(), [3.0, 3.0, 3.0])
