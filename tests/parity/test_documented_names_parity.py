"""The documented-name lists (tests/pytorch_docs/) against the installed PyTorch, and the names
added for them compared with PyTorch's: dim_order, BatchNorm folding, _foreach_*, sym_*,
frombuffer, StackDataset."""

import random

import numpy as np
import pytest

import retrograd as rg

from .._tools import load_tool

torch = pytest.importorskip("torch")
gen = load_tool("gen_api_doc")
gen_docs = load_tool("gen_documented_names")


@pytest.mark.parametrize("ns", sorted(gen.DOCUMENTED_ROOTS))
def test_every_listed_name_is_in_the_installed_pytorch(ns):
    root = gen_docs.NAMESPACES[ns]
    missing = [n for n in gen.documented_names(ns) if gen_docs.resolve(f"{root}.{n}") is None]
    assert not missing
    version = torch.__version__.split("+")[0]
    assert f"PyTorch {version}'s documented names" in (gen.DOCUMENTED / f"{ns}.txt").read_text()


def test_dim_order_matches_pytorch_on_random_layouts():
    rnd = random.Random(0)
    for _ in range(400):
        nd = rnd.randint(0, 5)
        shape = [rnd.choice([1, 1, 2, 3]) for _ in range(nd)]
        perm = list(range(nd))
        rnd.shuffle(perm)
        expand = rnd.random() < 0.3
        step = rnd.random() < 0.3

        def make(L):
            t = L.empty(shape).permute(perm) if nd else L.empty(shape)
            if expand and nd:
                t = t.expand(*[s if s != 1 else 2 for s in t.shape])
            if step and nd and t.shape[-1] > 1:
                t = t[..., ::2]
            return t

        r, t = make(rg), make(torch)
        assert r.stride() == t.stride() and r.dim_order() == t.dim_order(), (shape, perm, t.stride())
    cl = torch.empty(2, 3, 4, 5).to(memory_format=torch.channels_last)
    assert rg.empty(2, 3, 4, 5).to(memory_format=rg.channels_last).dim_order() == cl.dim_order()


def test_fuse_conv_bn_eval_matches_pytorch():
    torch.manual_seed(0)
    tc, tb = torch.nn.Conv2d(3, 4, 3).double().eval(), torch.nn.BatchNorm2d(4).double().eval()
    with torch.no_grad():
        tb.running_mean.normal_()
        tb.running_var.uniform_(0.5, 1.5)
        tb.weight.normal_()
    rc, rb = rg.nn.Conv2d(3, 4, 3, dtype=rg.float64).eval(), rg.nn.BatchNorm2d(4, dtype=rg.float64).eval()
    rc.load_state_dict({k: rg.tensor(v.numpy()) for k, v in tc.state_dict().items()})
    rb.load_state_dict({k: rg.tensor(v.numpy()) for k, v in tb.state_dict().items()})
    t = torch.nn.utils.fuse_conv_bn_eval(tc, tb)
    r = rg.nn.utils.fuse_conv_bn_eval(rc, rb)
    np.testing.assert_allclose(r.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(r.bias.detach().numpy(), t.bias.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert r.weight.requires_grad == t.weight.requires_grad


def test_foreach_sym_and_frombuffer_match_pytorch():
    xs = [[0.25, 0.5], [0.75]]
    r = rg._foreach_exp([rg.tensor(x) for x in xs])
    t = torch._foreach_exp([torch.tensor(x) for x in xs])
    assert type(r) is type(t)
    for a, b in zip(r, t):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    for f, args in [("sym_int", (-2.5,)), ("sym_max", (3, 2.0)), ("sym_min", (1, 2)), ("sym_sum", ([1, 2.5],))]:
        a, b = getattr(rg, f)(*args), getattr(torch, f)(*args)
        assert a == b and type(a) is type(b), f
    buf = np.arange(6, dtype=np.int16).tobytes()
    with pytest.warns(UserWarning):
        a = rg.frombuffer(bytearray(buf), dtype=rg.int16, count=3, offset=2).tolist()
        b = torch.frombuffer(bytearray(buf), dtype=torch.int16, count=3, offset=2).tolist()
        rg.frombuffer(buf, dtype=rg.int16)
        torch.frombuffer(buf, dtype=torch.int16)
    assert a == b


def test_stack_dataset_matches_pytorch():
    from torch.utils.data import StackDataset as TS

    from retrograd.utils.data import StackDataset as RS

    for args, kwargs in [(([1, 2], ["a", "b"]), {}), ((), {"x": [1, 2], "y": [3, 4]})]:
        assert RS(*args, **kwargs)[1] == TS(*args, **kwargs)[1]
        assert RS(*args, **kwargs).__getitems__([1, 0]) == TS(*args, **kwargs).__getitems__([1, 0])


def test_dlpack_exchange_with_torch():
    t = torch.arange(4.0)
    r = rg.from_dlpack(t)
    r[1] = 7.0
    assert t.tolist() == [0.0, 7.0, 2.0, 3.0]
    back = torch.from_dlpack(rg.arange(3.0))
    assert back.tolist() == [0.0, 1.0, 2.0] and back.dtype == torch.float32


def test_histogramdd_matches_torch():
    x = np.random.default_rng(1).normal(size=(300, 3)).astype(np.float32)
    for kwargs in [{"bins": [3, 4, 2]}, {"bins": 3, "range": [-1.0, 1.0, -2.0, 2.0, 0.0, 1.0], "density": True}]:
        a = rg.histogramdd(rg.tensor(x), **kwargs)
        b = torch.histogramdd(torch.tensor(x), **kwargs)
        np.testing.assert_allclose(a.hist.numpy(), b.hist.numpy(), rtol=1e-5)
        for p, q in zip(a.bin_edges, b.bin_edges):
            np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_fft": 16},
        {"n_fft": 16, "hop_length": 5, "win_length": 12, "normalized": True},
        {"n_fft": 16, "center": False, "window": "hamming"},
        {"n_fft": 16, "pad_mode": "constant"},
        {"n_fft": 16, "onesided": False},
        {"n_fft": 15, "hop_length": 3},
    ],
)
@pytest.mark.filterwarnings("ignore:The length of signal is shorter")
def test_stft_and_istft_match_torch(kwargs):
    x = np.random.default_rng(0).normal(size=(2, 50))
    out = []
    for L in (rg, torch):
        k = dict(kwargs)
        kind = k.pop("window", "hann")
        n = k.get("win_length", k["n_fft"])
        w = L.hann_window(n, dtype=L.float64) if kind == "hann" else L.hamming_window(n, dtype=L.float64)
        xt = L.tensor(x, requires_grad=True)
        s = L.stft(xt, window=w, return_complex=True, **k)
        k.pop("pad_mode", None)
        y = L.istft(s, window=w, length=50, **k)
        (s.abs().sum() + y.sum()).backward()
        out.append((s.detach().numpy(), y.detach().numpy(), xt.grad.numpy()))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "fn, kwargs, shape",
    [
        ("svd_lowrank", {"q": 3}, (2, 8, 5)),
        ("svd_lowrank", {"q": 4, "niter": 1}, (2, 8, 5)),
        ("svd_lowrank", {"q": 3}, (4, 9)),
        ("pca_lowrank", {}, (2, 8, 5)),
        ("pca_lowrank", {"q": 2, "center": False}, (2, 8, 5)),
    ],
)
def test_lowrank_matches_torch_for_a_seed(fn, kwargs, shape):
    a = np.random.default_rng(0).normal(size=shape)
    out = []
    for L in (rg, torch):
        L.manual_seed(0)
        U, S, V = getattr(L, fn)(L.tensor(a), **kwargs)
        out.append((U.numpy(), S.numpy(), V.numpy()))
    (u1, s1, v1), (u2, s2, v2) = out
    sign = np.sign(u1[..., :1, :] * u2[..., :1, :])  # singular vectors are defined up to sign
    np.testing.assert_allclose(s1, s2, rtol=1e-10)
    np.testing.assert_allclose(u1 * sign, u2, atol=1e-10)
    np.testing.assert_allclose(v1 * sign, v2, atol=1e-10)


def test_from_file_matches_torch(tmp_path):
    path = tmp_path / "data.bin"
    np.linspace(-1, 1, 12).tofile(path)
    for kwargs in [{"size": 12, "dtype": "float64"}, {"size": 5, "dtype": "float32"}, {"size": 3, "dtype": "int64"}]:
        k = dict(kwargs)
        dt = k.pop("dtype")
        a = rg.from_file(str(path), dtype=getattr(rg, dt), **k)
        b = torch.from_file(str(path), dtype=getattr(torch, dt), **k)
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda L, xs, ys: L._foreach_add(xs, ys, alpha=0.5),
        lambda L, xs, ys: L._foreach_add(xs, [1.5, -2.0]),
        lambda L, xs, ys: L._foreach_add(xs, L.tensor(2.0, dtype=L.float64), alpha=3),
        lambda L, xs, ys: L._foreach_sub(xs, L.tensor(2.0, dtype=L.float64)),
        lambda L, xs, ys: L._foreach_sub(xs, ys, alpha=2),
        lambda L, xs, ys: L._foreach_mul(xs, 0.5),
        lambda L, xs, ys: L._foreach_div(xs, ys),
        lambda L, xs, ys: L._foreach_maximum(xs, 0.1),
        lambda L, xs, ys: L._foreach_clamp_max(xs, ys),
        lambda L, xs, ys: L._foreach_addcmul(xs, ys, ys, 0.3),
        lambda L, xs, ys: L._foreach_addcdiv(xs, ys, ys, L.tensor([0.5, 2.0], dtype=L.float64)),
        lambda L, xs, ys: L._foreach_lerp(xs, ys, [0.25, 0.75]),
        lambda L, xs, ys: L._foreach_pow(xs, ys),
        lambda L, xs, ys: L._foreach_norm(xs, 3),
        lambda L, xs, ys: L._foreach_sign(xs),
    ],
)
def test_foreach_binary_matches_pytorch(call):
    r = np.random.default_rng(5)
    xs = [np.abs(r.standard_normal(4)) + 0.1, np.abs(r.standard_normal((2, 3))) + 0.1]
    ys = [np.abs(r.standard_normal(4)) + 0.2, np.abs(r.standard_normal((2, 3))) + 0.2]
    got = call(rg, [rg.tensor(x) for x in xs], [rg.tensor(y) for y in ys])
    want = call(torch, [torch.tensor(x) for x in xs], [torch.tensor(y) for y in ys])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12)
