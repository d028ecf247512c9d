"""The script-compatibility surface against PyTorch: legacy constructors, Tensor.new, resize_,
storage(), size=, range indices, testing.assert_close's decisions and messages, accelerator
answers on a CPU machine."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

LEGACY = (
    "FloatTensor",
    "DoubleTensor",
    "HalfTensor",
    "LongTensor",
    "IntTensor",
    "ShortTensor",
    "CharTensor",
    "ByteTensor",
    "BoolTensor",
)


def _dt(t):
    return str(t.dtype).split(".")[1]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_constructors(name):
    ours, theirs = getattr(rg, name), getattr(torch, name)
    for args in (([1, 0],), ([[1, 1], [0, 1]],), (3,), (2, 3), ()):
        a, b = ours(*args), theirs(*args)
        assert _dt(a) == _dt(b) and tuple(a.shape) == tuple(b.shape), (name, args)
        if args and isinstance(args[0], list):
            assert a.tolist() == b.tolist()
    assert isinstance(rg.ones(1), ours) == isinstance(torch.ones(1), theirs)
    assert isinstance(rg.tensor([1]), ours) == isinstance(torch.tensor([1]), theirs)


@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_tensor_new(dtype):
    a, b = rg.zeros(2, dtype=getattr(rg, dtype)), torch.zeros(2, dtype=getattr(torch, dtype))
    for args in (([1, 2],), ((4,),), (2, 3), (), (torch.Size([2, 1]),)):
        r_args = tuple(rg.Size(x) if isinstance(x, torch.Size) else x for x in args)
        x, y = a.new(*r_args), b.new(*args)
        assert _dt(x) == _dt(y) and tuple(x.shape) == tuple(y.shape), args
        if args and isinstance(args[0], (list, tuple)) and not isinstance(args[0], torch.Size):
            assert x.tolist() == y.tolist()


def test_resize_keeps_the_same_elements_as_pytorch():
    a, b = rg.arange(6.0), torch.arange(6.0)
    assert a.resize_(2, 2).tolist() == b.resize_(2, 2).tolist()
    assert a.resize_(3).tolist() == b.resize_(3).tolist()
    assert tuple(a.resize_(2, 5).shape) == tuple(b.resize_(2, 5).shape)
    for lib in (rg, torch):
        with pytest.raises(RuntimeError):
            lib.ones(2, requires_grad=True).resize_(3)


def test_storage_queries():
    a, b = rg.arange(6, dtype=rg.int32).reshape(2, 3), torch.arange(6, dtype=torch.int32).reshape(2, 3)
    for x, y in ((a, b), (a[1], b[1])):
        s, t = x.storage(), y.storage()
        assert s.size() == t.size() and len(s) == len(t) and s.element_size() == t.element_size()
        assert s.nbytes() == t.nbytes() and s.tolist() == t.tolist()
    assert a.untyped_storage().nbytes() == b.untyped_storage().nbytes()
    assert a.untyped_storage().tolist() == b.untyped_storage().tolist()
    for name in ("is_xpu", "is_meta", "is_mkldnn", "is_mps", "is_quantized", "is_nested", "is_sparse_csr"):
        assert getattr(a, name) == getattr(b, name), name


def test_size_keyword_and_range_index():
    for name in ("empty", "zeros", "ones", "rand", "randn"):
        assert tuple(getattr(rg, name)(size=(2, 3)).shape) == tuple(getattr(torch, name)(size=(2, 3)).shape)
    x, y = rg.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    assert x[range(3), rg.tensor([0, 1, 2])].tolist() == y[range(3), torch.tensor([0, 1, 2])].tolist()
    assert x[range(1, 3)].tolist() == y[range(1, 3)].tolist()


def _outcome(lib, a, e, **kw):
    try:
        lib.testing.assert_close(a, e, **kw)
        return None
    except AssertionError as err:
        return str(err)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64"])
@pytest.mark.parametrize("delta", [0.0, 1e-8, 5e-7, 5e-6, 2e-5, 1e-3, 3e-3, 1.0])
def test_assert_close_default_tolerances(dtype, delta):
    base = np.array([0.0, 1.0, -3.0, 100.0])
    a = base + delta
    ours = _outcome(rg, rg.tensor(base, dtype=getattr(rg, dtype)), rg.tensor(a, dtype=getattr(rg, dtype)))
    theirs = _outcome(
        torch, torch.tensor(base, dtype=getattr(torch, dtype)), torch.tensor(a, dtype=getattr(torch, dtype))
    )
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert ours.splitlines()[:3] == theirs.splitlines()[:3]


def test_assert_close_messages_and_errors():
    a, e = [1.0, 2.0, 3.0], [1.0, 2.5, 3.0]
    ours = _outcome(rg, rg.tensor(a), rg.tensor(e))
    theirs = _outcome(torch, torch.tensor(a), torch.tensor(e))
    assert ours.splitlines()[:3] == theirs.splitlines()[:3]
    assert ours.splitlines()[3].startswith("Greatest absolute difference: 0.5 at index (1,)")
    assert theirs.splitlines()[3].startswith("Greatest absolute difference: 0.5 at index (1,)")
    for kw in ({}, {"equal_nan": True}):
        nan = float("nan")
        assert (_outcome(rg, rg.tensor([nan]), rg.tensor([nan]), **kw) is None) == (
            _outcome(torch, torch.tensor([nan]), torch.tensor([nan]), **kw) is None
        )
    assert (_outcome(rg, rg.ones(2), rg.ones(2, dtype=rg.float64)) is None) == (
        _outcome(torch, torch.ones(2), torch.ones(2, dtype=torch.float64)) is None
    )
    assert (_outcome(rg, rg.ones(2), rg.ones(2, dtype=rg.float64), check_dtype=False) is None) == (
        _outcome(torch, torch.ones(2), torch.ones(2, dtype=torch.float64), check_dtype=False) is None
    )
    for lib in (rg, torch):
        with pytest.raises(ValueError):
            lib.testing.assert_close(lib.ones(1), lib.ones(1), rtol=1e-3)
    assert (_outcome(rg, 1.0, 1.0 + 5e-8) is None) == (_outcome(torch, 1.0, 1.0 + 5e-8) is None)
    assert (_outcome(rg, 1.0, 1.0 + 5e-7) is None) == (_outcome(torch, 1.0, 1.0 + 5e-7) is None)


def test_accelerator_on_a_cpu_machine():
    if torch.cuda.is_available() or rg.cuda.is_available():
        pytest.skip("compares CPU-only answers")
    assert rg.accelerator.is_available() == torch.accelerator.is_available()
    assert rg.accelerator.current_accelerator() == torch.accelerator.current_accelerator()
    assert rg.accelerator.device_count() == torch.accelerator.device_count()
    assert rg.backends.cudnn.is_available() == torch.backends.cudnn.is_available()
    assert rg.backends.mps.is_available() == torch.backends.mps.is_available()


def test_multiprocessing_names():
    for name in (
        "Process",
        "Queue",
        "Pool",
        "get_context",
        "spawn",
        "start_processes",
        "ProcessContext",
        "ProcessRaisedException",
        "ProcessExitedException",
        "get_sharing_strategy",
        "set_sharing_strategy",
        "get_all_sharing_strategies",
    ):
        assert hasattr(torch.multiprocessing, name) and hasattr(rg.multiprocessing, name), name
    assert rg.multiprocessing.get_all_sharing_strategies() <= torch.multiprocessing.get_all_sharing_strategies()


def test_attention_backend_names_and_values_match_pytorch():
    import torch.nn.attention as ta

    from retrograd.nn import attention as ra

    assert {b.name: int(b) for b in ra.SDPBackend} == {k: int(v) for k, v in ta.SDPBackend.__members__.items()}
    for name in ("math", "flash", "mem_efficient", "cudnn"):
        assert hasattr(torch.backends.cuda, f"enable_{name}_sdp") and hasattr(rg.backends.cuda, f"enable_{name}_sdp")
        assert (
            getattr(rg.backends.cuda, f"{name}_sdp_enabled")() == getattr(torch.backends.cuda, f"{name}_sdp_enabled")()
        )


def test_pytree_flattening_matches_pytorchs():
    import collections

    import torch.utils._pytree as tp

    from retrograd.utils import _pytree as rp

    P = collections.namedtuple("P", "a b")
    trees = [
        None,
        (1, [2, {"x": 3, "y": None}]),
        P(1, (2, 3)),
        collections.OrderedDict(a=1, b=[2]),
        collections.defaultdict(list, {"k": [1, 2]}),
        collections.deque([1, 2], maxlen=3),
        [[], {}, ()],
        "leaf",
    ]
    for t in trees:
        (lt, st), (lr, sr) = tp.tree_flatten(t), rp.tree_flatten(t)
        assert lt == lr, t
        assert (st.num_leaves, st.num_nodes, st.num_children) == (sr.num_leaves, sr.num_nodes, sr.num_children), t
        assert st.context == sr.context, t


def test_numpy_scalar_operands_promote_as_pytorchs():
    scalars = [np.float64(2.5), np.float32(2.5), np.int64(3), np.int32(3), np.bool_(True)]
    for dt in ("float32", "float64", "int64", "int32", "bool"):
        for s in scalars:
            for name, op in [("add", lambda t, s: t + s), ("mul", lambda t, s: t * s), ("div", lambda t, s: t / s)]:
                r = op(rg.tensor([1, 2]).to(getattr(rg, dt)), s)
                t = op(torch.tensor([1, 2]).to(getattr(torch, dt)), s)
                assert str(r.dtype).split(".")[1] == str(t.dtype).split(".")[1], (dt, type(s).__name__, name)
                np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=1e-6)


def test_strided_complex_views_match_pytorchs():
    rng = np.random.default_rng(8)
    z = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    x = rng.standard_normal((4, 3, 2))
    for take in (lambda t: t.t(), lambda t: t[:, ::2], lambda t: t.t()[1:, ::2]):
        r, w = rg.view_as_real(take(rg.tensor(z))), torch.view_as_real(take(torch.tensor(z)))
        assert r.stride() == w.stride()
        np.testing.assert_array_equal(r.numpy(), w.numpy())
    for take in (lambda t: t.transpose(0, 1), lambda t: t[::2]):
        r, w = rg.view_as_complex(take(rg.tensor(x))), torch.view_as_complex(take(torch.tensor(x)))
        assert r.stride() == w.stride()
        np.testing.assert_array_equal(r.numpy(), w.numpy())


def test_legacy_variable_matches_pytorch():
    from torch.autograd import Variable as TV

    from retrograd.autograd import Variable as RV

    for kwargs in ({}, {"requires_grad": True}, {"requires_grad": False}):
        a = RV(rg.tensor([1.0, 2.0]) * 2, **kwargs)
        b = TV(torch.tensor([1.0, 2.0]) * 2, **kwargs)
        assert (a.requires_grad, a.is_leaf, a.tolist()) == (b.requires_grad, b.is_leaf, b.tolist())
    assert isinstance(rg.ones(1), RV) == isinstance(torch.ones(1), TV)
    assert tuple(RV().shape) == tuple(TV().shape) and _dt(RV()) == _dt(TV())
    for bad in ([1.0], 2.0):
        with pytest.raises(TypeError):
            TV(bad)
        with pytest.raises(TypeError):
            RV(bad)


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x, a, b: m.add(x, -0.5, a),
        lambda m, x, a, b: x.clone().add_(3, a),
        lambda m, x, a, b: m.sub(x, 2, a),
        lambda m, x, a, b: x.clone().sub_(0.5, a),
        lambda m, x, a, b: x.addcmul(0.5, a, b),
        lambda m, x, a, b: x.clone().addcmul_(-1, a, b),
        lambda m, x, a, b: m.addcdiv(x, 2, a, b),
        lambda m, x, a, b: x.clone().addcdiv_(0.25, a, b),
    ],
)
def test_deprecated_scalar_first_overloads(call):
    import warnings

    arrays = [np.random.default_rng(i).standard_normal((3, 4)) for i in range(3)]
    arrays[2] = np.abs(arrays[2]) + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = call(torch, *[torch.tensor(a) for a in arrays]).numpy()
        got = call(rg, *[rg.tensor(a) for a in arrays]).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-15)


def test_cuda_memory_statistics_on_a_cpu_machine():
    if torch.cuda.is_available() or rg.cuda.is_available():
        pytest.skip("a GPU is present")
    for name in ("memory_allocated", "memory_reserved", "max_memory_allocated", "max_memory_reserved"):
        assert getattr(rg.cuda, name)() == getattr(torch.cuda, name)() == 0


def test_type_strings_and_casts():
    for name in ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"):
        t, r = torch.zeros(2, dtype=getattr(torch, name)), rg.zeros(2, dtype=getattr(rg, name))
        assert r.type() == t.type() and rg.typename(r) == torch.typename(t)
        for target in ("torch.FloatTensor", "torch.LongTensor", "torch.BoolTensor"):
            assert str(r.type(target).dtype).split(".")[1] == str(t.type(target).dtype).split(".")[1]
        assert str(r.type(rg.IntTensor).dtype).split(".")[1] == str(t.type(torch.IntTensor).dtype).split(".")[1]
        assert str(r.type(rg.Tensor).dtype).split(".")[1] == str(t.type(torch.Tensor).dtype).split(".")[1]
        for bad_t, bad_r in ((torch.nn.Parameter, rg.nn.Parameter), (int, int)):
            with pytest.raises(ValueError) as te:
                t.type(bad_t)
            with pytest.raises(ValueError) as re_:
                r.type(bad_r)
            assert str(te.value) == str(re_.value)


def test_einsum_layout_and_a_frozen_leaf_as_pytorch():
    q, k = np.random.default_rng(0).standard_normal((2, 1, 2, 5, 4))
    for eq in ("bhid,bhjd->bhij", "bhid,bhid->bhi"):
        kk = k if "j" not in eq else np.concatenate([k, k[:, :, :1]], axis=2)
        t = torch.einsum(eq, torch.tensor(q), torch.tensor(kk))
        r = rg.einsum(eq, rg.tensor(q), rg.tensor(kk))
        assert r.stride() == t.stride() and r.is_contiguous() == t.is_contiguous()
    for lib in (torch, rg):
        w = lib.nn.Parameter(lib.ones(3))
        y = (w * 2).sum()
        w.requires_grad_(False)
        y.backward()
        assert w.grad is None


@pytest.mark.parametrize(
    "dtype",
    ["float32", "float64", "complex64", "int64", "int32", "int8", "uint8", "bool"],  # float16 draws are not PyTorch's
)
@pytest.mark.parametrize(
    "kw", [{}, {"noncontiguous": True}, {"low": -2, "high": 3, "exclude_zero": True}], ids=["plain", "nc", "range"]
)
def test_make_tensor_draws_pytorchs_values(dtype, kw):
    if dtype == "bool" and "low" in kw:
        kw = {}
    torch.manual_seed(3)
    t = torch.testing.make_tensor((4, 5), dtype=getattr(torch, dtype), device="cpu", **kw)
    rg.manual_seed(3)
    r = rg.testing.make_tensor((4, 5), dtype=getattr(rg, dtype), device="cpu", **kw)
    assert r.stride() == t.stride()
    np.testing.assert_array_equal(r.numpy(), t.numpy())
    assert torch.rand(3).tolist() == rg.rand(3).tolist()  # the generators end in the same state
    assert str(rg.finfo(getattr(rg, dtype)).dtype if dtype[0] in "fc" else "") == (
        str(torch.finfo(getattr(torch, dtype)).dtype) if dtype[0] in "fc" else ""
    )
