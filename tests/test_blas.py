"""The CBLAS gemm path (retrograd/backend/blas.py): the ctypes binding checked against NumPy's
own bundled OpenBLAS (so these run without the optional mkl wheel), the dispatch that routes
linear, conv, matmul and the RNN layers through it, and MKL itself when it is installed."""

import os
import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import retrograd as rg
import retrograd.nn.functional as F
from retrograd.backend import blas


OPENBLAS = blas.load_numpy_blas()
needs_cblas = pytest.mark.skipif(OPENBLAS is None, reason="NumPy's BLAS exports no CBLAS gemm this test can find")


class Counting:
    """A Cblas stand-in that counts the products it computes."""

    __slots__ = ("inner", "name", "calls")

    def __init__(self, inner):
        self.inner, self.name, self.calls = inner, "counting", 0

    def matmul(self, a, b, out=None):
        r = self.inner.matmul(a, b, out)
        self.calls += r is not None
        return r


@pytest.fixture
def routed():
    """Products routed through NumPy's OpenBLAS via ctypes, counted; the previous path after."""
    if OPENBLAS is None:
        pytest.skip("NumPy's BLAS exports no CBLAS gemm this test can find")
    lib = Counting(OPENBLAS)
    prev = blas.use(lib)
    yield lib
    blas.use(prev)


def _rtol(dtype):
    return 1e-5 if dtype == np.float32 else 1e-12


def _layouts(x):
    """x as C order, F order, a transposed view, and a slice of a wider matrix."""
    wide = np.zeros((x.shape[0], x.shape[1] + 3), x.dtype)
    wide[:, 1 : 1 + x.shape[1]] = x
    return {
        "C": np.ascontiguousarray(x),
        "F": np.asfortranarray(x),
        "T-view": np.ascontiguousarray(x.T).T,
        "slice": wide[:, 1 : 1 + x.shape[1]],
        "slice-T": np.ascontiguousarray(wide.T)[1 : 1 + x.shape[1]].T,
    }


@needs_cblas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_every_layout_matches_numpy(dtype):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((7, 5)).astype(dtype), rng.standard_normal((5, 9)).astype(dtype)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    for na, a2 in _layouts(a).items():
        for nb, b2 in _layouts(b).items():
            r = OPENBLAS.matmul(a2, b2)
            assert r is not None, (na, nb)
            np.testing.assert_allclose(r, ref, rtol=_rtol(dtype), atol=_rtol(dtype), err_msg=f"{na} @ {nb}")
            for nc, out in _layouts(np.full((7, 9), np.nan, dtype)).items():
                assert OPENBLAS.matmul(a2, b2, out) is out
                np.testing.assert_allclose(
                    out, ref, rtol=_rtol(dtype), atol=_rtol(dtype), err_msg=f"{na} @ {nb} -> {nc}"
                )


@needs_cblas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_accumulates_into_every_layout(dtype):
    # beta = 1: out += a @ b, whatever the size (no min_work), into any layout BLAS can address
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((7, 5)).astype(dtype), rng.standard_normal((5, 9)).astype(dtype)
    start = rng.standard_normal((7, 9)).astype(dtype)
    ref = start.astype(np.float64) + a.astype(np.float64) @ b.astype(np.float64)
    big = blas.Cblas.__new__(blas.Cblas)
    big.name, big.min_work, big._gemm, big._int_max = "x", 10**9, OPENBLAS._gemm, OPENBLAS._int_max
    for nc, out in _layouts(start).items():
        for lib in (OPENBLAS, big):
            o = out.copy() if nc in ("C", "F") else _layouts(start)[nc]
            assert lib.matmul(a, b, o, accumulate=True) is o
            np.testing.assert_allclose(o, ref, rtol=_rtol(dtype), atol=_rtol(dtype), err_msg=nc)


@pytest.mark.parametrize("lib", ["cblas", "numpy"])
def test_matmul_add_into_a_window_of_a_flat_buffer(lib):
    # the convolution's use: a (rows, n) window at any offset of a wider (rows, n + spare) buffer
    prev = blas.use_adding(OPENBLAS if lib == "cblas" else None)
    try:
        if lib == "cblas" and blas.adding() is None:
            pytest.skip("NumPy's BLAS exports no CBLAS gemm this test can find")
        rng = np.random.default_rng(4)
        for n in (10, blas._ADD_MIN_OUT // 3 + 5):  # below and above the size that takes BLAS's beta
            a, b = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((4, n)).astype(np.float32)
            buf = rng.standard_normal((3, n + 4)).astype(np.float32)
            ref = buf.astype(np.float64)
            ref[:, 3 : n + 3] += a.astype(np.float64) @ b
            assert blas.matmul_add(a, b, buf[:, 3 : n + 3]) is not None
            np.testing.assert_allclose(buf, ref, rtol=1e-5, atol=1e-5)
            np.testing.assert_array_equal(buf[:, :3], ref[:, :3].astype(np.float32))
            np.testing.assert_array_equal(buf[:, n + 3 :], ref[:, n + 3 :].astype(np.float32))
        c = np.zeros((3, 10), np.int64)  # what BLAS cannot take still adds, through NumPy
        blas.matmul_add(np.ones((3, 4), np.int64), np.ones((4, 10), np.int64), c)
        assert (c == 4).all()
    finally:
        blas.use_adding(prev)


@needs_cblas
def test_gemm_vectors_as_matrices():
    rng = np.random.default_rng(1)
    for m, k, n in ((1, 4, 3), (3, 4, 1), (1, 1, 1), (4, 1, 3)):
        a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
        for a2 in _layouts(a).values():
            for b2 in _layouts(b).values():
                np.testing.assert_allclose(OPENBLAS.matmul(a2, b2), a @ b, rtol=1e-12)


@needs_cblas
def test_gemm_declines_what_blas_cannot_take():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((6, 4)), rng.standard_normal((4, 5))
    np.testing.assert_allclose(OPENBLAS.matmul(a[::2], b), a[::2] @ b, rtol=1e-12)  # every other row: lda = 2k
    assert OPENBLAS.matmul(a[:, ::2], b[:2]) is None  # no unit stride in either direction
    assert OPENBLAS.matmul(rng.standard_normal((6, 4, 2))[:, :, 0], b) is None
    assert OPENBLAS.matmul(a[:, ::-1], b) is None  # negative stride
    assert OPENBLAS.matmul(a.astype(np.float16), b.astype(np.float16)) is None
    assert OPENBLAS.matmul(a.astype(np.int64), b.astype(np.int64)) is None
    assert OPENBLAS.matmul(a, b.astype(np.float32)) is None
    assert OPENBLAS.matmul(a[:0], b) is None and OPENBLAS.matmul(a[:, :0], b[:0]) is None
    assert OPENBLAS.matmul(a, b, np.empty((6, 5), np.float32)) is None  # out of another dtype
    assert OPENBLAS.matmul(a, b, np.empty((5, 6)).T[:, ::1]) is not None  # an F-order out is fine
    sq = rng.standard_normal((4, 4))
    assert OPENBLAS.matmul(sq, sq.copy(), sq) is None  # out overlaps an input
    raw = np.zeros(6 * 4 * 8 + 1, np.uint8)[1:].view(np.float64).reshape(6, 4)  # misaligned
    raw[...] = a
    assert OPENBLAS.matmul(raw, b) is None
    big = blas.Cblas.__new__(blas.Cblas)
    big.name, big.min_work, big._gemm, big._int_max = "x", 10**9, OPENBLAS._gemm, OPENBLAS._int_max
    assert big.matmul(a, b) is None  # below min_work


def test_dispatch_falls_back_to_numpy(routed):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((6, 4)), rng.standard_normal((4, 5))
    cases = [
        (a[:, ::2], b[:2]),  # no unit stride
        (a[:0], b),  # empty rows
        (a[:, :0], b[:0]),  # empty shared dim: zeros
        (a.astype(np.int64), b.astype(np.int64)),
        (np.stack([a, a]), b),  # a stack of two matrices
        (a[0], b),  # a vector
    ]
    for x, y in cases:
        before = routed.calls
        r = blas.matmul(x, y)
        np.testing.assert_array_equal(r, x @ y)
        assert r.shape == (x @ y).shape and r.dtype == (x @ y).dtype
        assert routed.calls == before
    sq = rng.standard_normal((4, 4))
    ref = sq @ sq
    assert blas.matmul(sq, sq, out=sq) is sq  # overlapping out: NumPy's matmul copies first
    np.testing.assert_allclose(sq, ref, rtol=1e-12)


def test_dispatch_out_and_batch_of_one(routed):
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((1, 1, 6, 4)).astype(np.float32), rng.standard_normal((1, 4, 5)).astype(np.float32)
    r = blas.matmul(a, b)
    assert r.shape == (1, 1, 6, 5) and routed.calls == 1
    np.testing.assert_allclose(r, a @ b, rtol=1e-5)
    out = np.empty((1, 1, 6, 5), np.float32)
    assert blas.matmul(a, b, out=out) is out and routed.calls == 2
    np.testing.assert_allclose(out, a @ b, rtol=1e-5)
    rows = np.zeros((10, 5), np.float32)
    blas.matmul(a[0, 0], b[0], out=rows[2:8])  # a row block of a larger array
    np.testing.assert_allclose(rows[2:8], (a @ b)[0, 0], rtol=1e-5)
    assert not rows[:2].any() and not rows[8:].any()


def test_dispatch_off_keeps_numpy():
    prev = blas.use(None)
    try:
        a = np.ones((3, 3), np.float32)
        np.testing.assert_array_equal(blas.matmul(a, a), a @ a)
        assert rg.backends.mkl.is_available() is False
    finally:
        blas.use(prev)


def _grads(fn, *arrays):
    ts = [rg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    out.backward(rg.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape).astype(arrays[0].dtype)))
    return [out.detach().numpy()] + [t.grad.numpy() for t in ts]


@pytest.mark.parametrize(
    "name, fn, shapes, through",
    [
        ("matmul", lambda x, y: x @ y, [(5, 4), (4, 6)], True),
        ("matmul-T", lambda x, y: x.t() @ y, [(4, 5), (4, 6)], True),
        ("linear", lambda x, w, b: F.linear(x, w, b), [(2, 3, 4), (6, 4), (6,)], True),
        ("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=1), [(2, 3, 6, 6), (4, 3, 3, 3), (4,)], True),
        ("conv2d-stride", lambda x, w: F.conv2d(x, w, stride=2), [(2, 3, 7, 7), (4, 3, 3, 3)], True),
        # two groups at stride 2: stacks of two products, left to NumPy
        ("conv1d-groups", lambda x, w: F.conv1d(x, w, stride=2, groups=2), [(3, 4, 9), (6, 2, 3)], False),
        # at stride 1 the input gradient is one 2-D product per tap and group
        ("conv1d-groups-1", lambda x, w: F.conv1d(x, w, groups=2), [(3, 4, 9), (6, 2, 3)], True),
    ],
)
def test_ops_through_cblas_match_numpy(routed, name, fn, shapes, through):
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s) for s in shapes]
    via_blas = _grads(fn, *arrays)
    assert (routed.calls > 0) == through
    prev = blas.use(None)
    try:
        via_numpy = _grads(fn, *arrays)
    finally:
        blas.use(prev)
    for got, want in zip(via_blas, via_numpy):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_rnn_layers_through_cblas_match_numpy(routed, kind):
    rg.manual_seed(0)
    layer = getattr(rg.nn, kind)(3, 5, num_layers=2, bidirectional=True).double()
    x = np.random.default_rng(6).standard_normal((4, 2, 3))

    def run():
        layer.zero_grad()
        xt = rg.tensor(x, requires_grad=True)
        out = layer(xt)[0]
        (out * out).sum().backward()
        return [out.detach().numpy(), xt.grad.numpy()] + [p.grad.numpy().copy() for p in layer.parameters()]

    via_blas = run()
    assert routed.calls > 0
    prev = blas.use(None)
    try:
        via_numpy = run()
    finally:
        blas.use(prev)
    for got, want in zip(via_blas, via_numpy):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_linear_gradcheck_through_cblas(routed):
    rng = np.random.default_rng(7)
    x, w, b = (rg.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 4), (2, 4), (2,)))
    assert rg.autograd.gradcheck(F.linear, (x, w, b))
    assert rg.autograd.gradgradcheck(F.linear, (x, w, b))


def test_blas_env_switch_turns_it_off():
    env = dict(os.environ, RETROGRAD_BLAS="numpy")
    code = "import retrograd; print(retrograd.backends.mkl.is_available())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ------------------------------------------------------------------ MKL, when the wheel is installed
@pytest.fixture
def mkl():
    """MKL as the active library for the test, whatever the CPU (it is loaded by default only on
    Intel's); skipped where the optional wheel is not installed or RETROGRAD_BLAS=numpy."""
    if os.environ.get("RETROGRAD_BLAS", "").lower() == "numpy":
        pytest.skip("RETROGRAD_BLAS=numpy")
    lib = blas.active()
    if lib is None or lib.name != "mkl":
        lib = blas.load_mkl()
    if lib is None:
        pytest.skip("the optional mkl wheel is not installed")
    prev = blas.use(lib)
    yield lib
    blas.use(prev)


def _fresh_choice(monkeypatch, vendor, mode=None):
    """What active() picks on a CPU of ``vendor`` with RETROGRAD_BLAS=``mode``, as at start-up."""
    loaded = object()
    monkeypatch.setattr(blas, "cpu_vendor", lambda: vendor)
    monkeypatch.setattr(blas, "load_mkl", lambda: loaded)
    if mode is None:
        monkeypatch.delenv("RETROGRAD_BLAS", raising=False)
    else:
        monkeypatch.setenv("RETROGRAD_BLAS", mode)
    monkeypatch.setattr(blas, "_active", [blas._UNSET])
    return blas.active() is loaded


def test_mkl_chosen_by_cpu_vendor_and_env(monkeypatch):
    assert _fresh_choice(monkeypatch, "GenuineIntel")
    assert _fresh_choice(monkeypatch, None)  # vendor unknown (not Linux): the wheel was asked for
    assert not _fresh_choice(monkeypatch, "AuthenticAMD")  # MKL's generic kernels: slower there
    assert not _fresh_choice(monkeypatch, "HygonGenuine")
    assert _fresh_choice(monkeypatch, "AuthenticAMD", "mkl")
    assert _fresh_choice(monkeypatch, "AuthenticAMD", "MKL")
    assert not _fresh_choice(monkeypatch, "GenuineIntel", "numpy")


def test_cpu_vendor_reads_cpuinfo():
    v = blas.cpu_vendor()
    if os.path.exists("/proc/cpuinfo") and "vendor_id" in open("/proc/cpuinfo").read():
        assert v and v.isalnum()
    else:
        assert v is None


def _copy_at(x, offset):
    """x copied into a buffer starting ``offset`` bytes past a 64-byte boundary."""
    buf = np.empty(x.nbytes + 128, np.uint8)
    start = (-buf.ctypes.data) % 64 + offset
    v = buf[start : start + x.nbytes].view(x.dtype).reshape(x.shape)
    v[...] = x
    return v


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mkl_matches_numpy(mkl, dtype):
    assert rg.backends.mkl.is_available() is True
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((130, 150)).astype(dtype), rng.standard_normal((150, 140)).astype(dtype)
    ref = a.astype(np.float64) @ b
    for a2 in _layouts(a).values():
        for b2 in _layouts(b).values():
            r = mkl.matmul(a2, b2)
            assert r is not None
            np.testing.assert_allclose(r, ref, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-4)


def test_mkl_same_bits_at_every_alignment(mkl):
    """A replayed step (compile) must reproduce eager mode bit for bit, though its buffers sit at
    other addresses; MKL runs in its reproducible mode for this."""
    rng = np.random.default_rng(9)
    for m, k, n in ((32, 128, 512), (128, 784, 512), (333, 77, 1000)):
        a, b = rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((k, n)).astype(np.float32)
        ref = mkl.matmul(a, b)
        for oa in (0, 4, 8, 16, 32):
            for ob in (0, 4, 12, 48):
                for oc in (0, 4, 36):
                    out = _copy_at(np.empty((m, n), np.float32), oc)
                    np.testing.assert_array_equal(mkl.matmul(_copy_at(a, oa), _copy_at(b, ob), out), ref)


def test_mkl_threads_follow_set_num_threads(mkl):
    before = rg.get_num_threads()
    try:
        rg.set_num_threads(2)
        pools = {p["internal_api"]: p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"}
        assert pools.get("mkl") == 2
        rg.set_num_threads(1)
        pools = {p["internal_api"]: p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"}
        assert pools.get("mkl") == 1
    finally:
        rg.set_num_threads(before)


def test_no_mkl_library_means_numpy(monkeypatch):
    monkeypatch.setattr(blas, "_find_mkl", lambda: None)
    assert blas.load_mkl() is None


@pytest.mark.parametrize("env, expected", [({}, 1), ({"MKL_NUM_THREADS": "2"}, 2), ({"OPENBLAS_NUM_THREADS": "2"}, 2)])
def test_mkl_pool_size_at_load(mkl, env, expected):
    """MKL starts at the size of NumPy's pool (one thread by default), or at MKL_NUM_THREADS."""
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    clean["RETROGRAD_BLAS"] = "mkl"
    code = (
        "import retrograd\n"
        "from threadpoolctl import threadpool_info\n"
        "assert retrograd.backends.mkl.is_available()\n"
        "print([p['num_threads'] for p in threadpool_info() if p['internal_api'] == 'mkl'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == f"[{expected}]"
