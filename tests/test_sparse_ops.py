"""SparseTensor's own surface, the sparse ops graph networks use, and their gradients
(values against dense NumPy references; gradients by gradcheck in float64)."""

import copy

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import gradcheck
from retrograd.sparse import SparseTensor

# a 3x4 matrix with a repeated entry (1, 0): uncoalesced
IDX = [[0, 1, 2, 1, 2], [1, 0, 3, 0, 1]]
VALS = [1.0, 2.0, 3.0, 4.0, -5.0]


def _dense(idx=IDX, vals=VALS, shape=(3, 4)):
    d = np.zeros(shape)
    np.add.at(d, tuple(np.asarray(idx)), np.asarray(vals, dtype=np.float64))
    return d


def _values(requires_grad=True):
    return rg.tensor(VALS, dtype=rg.float64, requires_grad=requires_grad)


def _s(vals=None, shape=(3, 4)):
    return rg.sparse_coo_tensor(IDX, _values(False) if vals is None else vals, shape)


def _rand(*shape, seed=0):
    return rg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


# --------------------------------------------------------------------------- the class's surface
def test_sparse_coo_api():
    s = _s()
    assert s.is_sparse and s.layout is rg.sparse_coo and rg.zeros(1).layout is rg.strided
    assert s.shape == (3, 4) and s.size() == rg.Size([3, 4]) and s.size(1) == 4 and s.dim() == 2
    assert s.ndim == 2 and len(s) == 3 and s.numel() == 12
    assert s.dtype == rg.float64 and s.device.type == "cpu" and s.is_floating_point()
    low = rg.tensor([[0.0, 1.5], [2.0, 0.0]], dtype=rg.bfloat16).to_sparse()
    assert low.dtype == rg.bfloat16 and low.is_floating_point()
    assert not rg.tensor([[0, 1]]).to_sparse().is_floating_point()
    assert s._nnz() == 5 and not hasattr(s, "nnz") and s.sparse_dim() == 2 and s.dense_dim() == 0
    assert not s.is_coalesced() and not s.requires_grad and s.grad is None and s.is_leaf
    assert s._indices().tolist() == IDX and s._values().tolist() == VALS
    c = s.coalesce()
    assert c.is_coalesced() and c.coalesce() is c and c._nnz() == 4
    assert c.indices().tolist() == [[0, 1, 2, 2], [1, 0, 1, 3]] and c.values().tolist() == [1.0, 6.0, -5.0, 3.0]
    with pytest.raises(RuntimeError, match="uncoalesced"):
        s.values()
    np.testing.assert_array_equal(s.to_dense().numpy(), _dense())
    assert s.to_dense(dtype=rg.float32).dtype == rg.float32
    r = repr(s)
    assert "indices=tensor(" in r and "nnz=5" in r and "layout=retrograd.sparse_coo" in r


def test_clone_detach_to_and_copies_are_independent():
    s = _s()
    c = s.clone()
    c.mul_(2.0)
    np.testing.assert_array_equal(s.to_dense().numpy(), _dense())
    np.testing.assert_array_equal(c.to_dense().numpy(), 2 * _dense())
    assert s.detach()._values()._data is s._data.values
    f = s.to(rg.float32)
    assert f.is_sparse and f.dtype == rg.float32 and s.dtype == rg.float64
    assert s.to("cpu") is s and s.to(rg.float64, copy=True) is not s
    assert s.to(dtype=rg.float32).dtype == rg.float32 and s.float().dtype == rg.float32
    with pytest.raises(TypeError, match="memory_format"):
        s.to(memory_format=rg.contiguous_format)
    d = copy.deepcopy(s)
    assert d is not s and d._values()._data is not s._values()._data


def test_it_is_its_own_class_not_a_tensor_with_methods_blocked():
    s = _s()
    assert not isinstance(s, rg.Tensor) and rg.is_tensor(s)
    assert not issubclass(SparseTensor, rg.Tensor)
    assert "exp" not in dir(SparseTensor) and "view" not in dir(SparseTensor)


@pytest.mark.parametrize(
    "call,err,match",
    [
        (lambda s: s.exp(), NotImplementedError, "exp: not supported for sparse COO"),
        (lambda s: s.view(12), NotImplementedError, "view: not supported"),
        (lambda s: s.mean(), NotImplementedError, "mean: not supported"),
        (lambda s: s.T, NotImplementedError, "T: not supported"),
        (lambda s: s[0], NotImplementedError, "__getitem__"),
        (lambda s: s < s, NotImplementedError, "__lt__"),
        (lambda s: s == s, NotImplementedError, "__eq__"),
        (lambda s: s**2, NotImplementedError, "__pow__"),
        (lambda s: 1 / s, NotImplementedError, "__rtruediv__"),
        (lambda s: s.no_such_name, AttributeError, "no attribute 'no_such_name'"),
        (lambda s: s.__setitem__(0, 1.0), TypeError, "Cannot assign to a sparse tensor"),
        (lambda s: s.numpy(), TypeError, "to_dense"),
        (lambda s: bool(s), RuntimeError, "ambiguous"),
        (lambda s: rg.exp(s), NotImplementedError, "exp: not supported for sparse COO"),
        (lambda s: rg.relu(s), NotImplementedError, "not supported for sparse COO"),
        (lambda s: s + rg.ones(3, 4, dtype=rg.float64), RuntimeError, r"add\(sparse, dense\) is not supported"),
        (lambda s: s * rg.ones(3, 4, dtype=rg.float64), NotImplementedError, "scaled by a number"),
        (lambda s: s * s, NotImplementedError, "scaled by a number"),
        (lambda s: rg.ones(4, 4, dtype=rg.float64) @ s, RuntimeError, r"dense \[4, 4\] @ sparse \[3, 4\]"),
        (lambda s: rg.mm(rg.ones(4, 3), s), RuntimeError, "same dtype"),
        (lambda s: rg.ones(2, 4, 3, dtype=rg.float64) @ s, RuntimeError, "1-D or 2-D"),
        (lambda s: rg.sparse.mm(s, s.t()), NotImplementedError, "two sparse tensors"),
        (lambda s: rg.sparse.mm(s, rg.ones(3, 2, dtype=rg.float64)), RuntimeError, "cannot be multiplied"),
        (lambda s: rg.sparse.mm(s, rg.ones(4, 2)), RuntimeError, "same dtype"),
        (lambda s: rg.sparse.sum(s, 2), IndexError, "out of range"),
        (lambda s: rg.sparse.sum(rg.ones(2)), RuntimeError, "expected a sparse tensor"),
        (lambda s: s.sum(keepdim=True), NotImplementedError, "keepdim"),
        (lambda s: s.to_sparse(1), RuntimeError, "2 sparse dims cannot be converted to 1"),
        (lambda s: rg.ones(2, 2).to_sparse(layout=rg.strided), NotImplementedError, "layout"),
        (lambda s: rg.ones(2, 2).to_sparse(3), RuntimeError, "sparse_dim must be in"),
        (lambda s: rg.tensor(1.0).to_sparse(), RuntimeError, "sparse_dim must be in"),
    ],
)
def test_unsupported_ops_name_themselves(call, err, match):
    with pytest.raises(err, match=match):
        call(_s())


# --------------------------------------------------------------------------- values
def test_to_sparse_and_sparse_coo_tensor_round_trips():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 3, 2)) * (rng.random((4, 3, 2)) < 0.4)
    a[1] = 0  # a whole empty slice
    x = rg.tensor(a)
    s = x.to_sparse()
    assert s.is_coalesced() and s.sparse_dim() == 3 and s._nnz() == np.count_nonzero(a)
    np.testing.assert_array_equal(s.to_dense().numpy(), a)
    for s2 in (x.to_sparse(2), x.to_sparse(dense_dim=1)):
        assert s2.sparse_dim() == 2 and s2.dense_dim() == 1 and s2._values().shape[1:] == (2,)
        assert s2._nnz() == np.count_nonzero(np.abs(a).sum(-1))
        np.testing.assert_array_equal(s2.to_dense().numpy(), a)
    assert x.to_sparse_coo().sparse_dim() == 3 and s.to_sparse() is s and s.to_sparse_coo() is s
    back = rg.sparse_coo_tensor(s.indices(), s.values(), s.shape)
    np.testing.assert_array_equal(back.to_dense().numpy(), a)
    assert x.to_dense() is x


def test_sparse_mm_spmm_matmul_and_addmm_values():
    s = _s()
    d = np.random.default_rng(2).standard_normal((4, 5))
    want = _dense() @ d
    for r in (
        rg.sparse.mm(s, rg.tensor(d)),
        rg.spmm(s, rg.tensor(d)),
        rg.mm(s, rg.tensor(d)),
        rg.matmul(s, rg.tensor(d)),
        s @ rg.tensor(d),
        s.mm(rg.tensor(d)),
    ):
        assert not r.is_sparse
        np.testing.assert_allclose(r.numpy(), want, rtol=1e-12, atol=1e-12)
    vec = rg.tensor(d[:, 0])
    for r in (s @ vec, rg.mv(s, vec), rg.matmul(s, vec), s.mv(vec)):
        np.testing.assert_allclose(r.numpy(), want[:, 0], rtol=1e-12, atol=1e-12)
    m = np.random.default_rng(3).standard_normal((3, 5))
    r = rg.sparse.addmm(rg.tensor(m), s, rg.tensor(d), beta=0.5, alpha=2.0)
    np.testing.assert_allclose(r.numpy(), 0.5 * m + 2 * want, rtol=1e-12, atol=1e-12)
    nan = rg.full((3, 5), float("nan"), dtype=rg.float64)
    np.testing.assert_allclose(rg.sparse.addmm(nan, s, rg.tensor(d), beta=0).numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("coalesce, n, scatters", [(True, 9, False), (False, 9, False), (False, 70000, True)])
def test_sparse_mm_rows_in_order_and_out_of_order(coalesce, n, scatters, monkeypatch):
    """Rows in order (coalesced) sum by segments; rows out of order are sorted first (a radix
    sort, up to 2^16 rows) or, past that, scattered. All with empty rows, rows of many entries
    and (uncoalesced) repeated entries, against NumPy; gradients (S^T @ g: the columns, out of
    order) against NumPy and by gradcheck."""
    from retrograd.sparse import _linalg

    scattered = []
    scatter = _linalg.add_into
    monkeypatch.setattr(_linalg, "add_into", lambda *a: scattered.append(1) or scatter(*a))
    rng = np.random.default_rng(11)
    m, p = 7, 3
    idx = np.stack([rng.integers(0, 9, 40), rng.integers(0, m, 40)])
    idx[0][idx[0] == 4] = 5  # row 4 empty
    idx[0][:3] = n - 1  # the last row, out of order
    vals = rng.standard_normal(40)
    want = _dense(idx, vals, (n, m))
    s = rg.sparse_coo_tensor(idx, vals, (n, m))
    if coalesce:
        s = s.coalesce()
        assert (np.diff(s.indices().numpy()[0]) >= 0).all()
    d = rng.standard_normal((m, p))
    np.testing.assert_allclose(rg.sparse.mm(s, rg.tensor(d)).numpy(), want @ d, rtol=1e-12, atol=1e-12)
    assert bool(scattered) is scatters
    g = rng.standard_normal((n, p))
    dt = rg.tensor(d, requires_grad=True)
    rg.sparse.mm(s, dt).backward(rg.tensor(g))
    np.testing.assert_allclose(dt.grad.numpy(), want.T @ g, rtol=1e-12, atol=1e-12)
    if n < 100:
        assert gradcheck(lambda x: rg.sparse.mm(s, x), (rg.tensor(d, requires_grad=True),))
    one = rg.sparse_coo_tensor([[2], [3]], rg.tensor([1.5], dtype=rg.float64), (n, m))  # a single entry
    np.testing.assert_allclose(rg.sparse.mm(one, rg.tensor(d)).numpy(), _dense([[2], [3]], [1.5], (n, m)) @ d)


@pytest.mark.parametrize("dim", [None, 0, 1, 2, -1, (0, 1), (0, 2), (1, 2), (0, 1, 2)])
def test_sparse_sum_values(dim):
    idx = [[0, 2, 2, 1, 0], [1, 0, 0, 3, 1]]
    vals = np.random.default_rng(4).standard_normal((5, 2))
    s = rg.sparse_coo_tensor(idx, vals, (3, 4, 2))
    d = _dense(idx, vals, (3, 4, 2))
    r = rg.sparse.sum(s) if dim is None else rg.sparse.sum(s, dim)
    want = d.sum() if dim is None else d.sum(axis=dim)
    got = r.to_dense().numpy() if r.is_sparse else r.numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # sparse while a sparse dim (0 or 1) is left
    assert r.is_sparse == (dim is not None and not {0, 1} <= {d % 3 for d in np.atleast_1d(dim)})
    if r.is_sparse:
        assert r.is_coalesced()
    if dim is None:
        assert s.sum().item() == pytest.approx(float(want))


def _masked_softmax(d, mask, dim, log):
    z = np.where(mask, d, -np.inf)
    with np.errstate(invalid="ignore"):  # rows without entries: nan, masked away below
        z = z - np.max(z, axis=dim, keepdims=True)
        e = np.where(mask, np.exp(z), 0)
        p = e / e.sum(axis=dim, keepdims=True)
    return np.where(mask, np.log(np.where(mask, p, 1)) if log else p, 0)


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sparse_softmax_values(dim, log):
    c = _s().coalesce()
    mask = _dense(c.indices().tolist(), np.ones(c._nnz()), (3, 4)) > 0
    fn = rg.sparse.log_softmax if log else rg.sparse.softmax
    r = fn(_s(), dim)
    assert r.is_sparse and r._nnz() == c._nnz()
    np.testing.assert_allclose(
        r.to_dense().numpy(), _masked_softmax(c.to_dense().numpy(), mask, dim, log), rtol=1e-12, atol=1e-12
    )


def test_arithmetic_with_sparse_and_scalars():
    s = _s()
    o = rg.sparse_coo_tensor([[2, 0], [3, 0]], rg.tensor([1.0, 1.0], dtype=rg.float64), (3, 4))
    d, od = _dense(), _dense([[2, 0], [3, 0]], [1.0, 1.0])
    for r, want in (
        (s + o, d + od),
        (s - o, d - od),
        (s.add(o, alpha=3), d + 3 * od),
        (rg.add(s, o), d + od),
        (s * 2, 2 * d),
        (2 * s, 2 * d),
        (rg.mul(s, 2), 2 * d),
        (s / 4, d / 4),
        (rg.div(s, 4), d / 4),
        (-s, -d),
        (s * rg.tensor(3.0), 3 * d),
        (s.t(), d.T),
    ):
        assert r.is_sparse
        np.testing.assert_allclose(r.to_dense().numpy(), want, rtol=1e-12)
    i = rg.sparse_coo_tensor([[0, 1]], [1, 2], (3,))
    assert (i / 2).dtype == rg.float32 and (i * 2).dtype == rg.int64
    f32 = rg.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (3,))
    assert (i + f32).dtype == rg.float32 and (f32 + s.to_dense()[0, :3].to_sparse()).dtype == rg.float64
    assert (rg.ones(3) + s.to_dense()[0, :3].to_sparse()).dtype == rg.float64
    assert (rg.ones(3, dtype=rg.int64) + f32).dtype == rg.float32


# --------------------------------------------------------------------------- gradients
def test_gradcheck_through_construction_to_dense_and_coalesce():
    v = _values()
    assert gradcheck(lambda v: rg.sparse_coo_tensor(IDX, v, (3, 4)).to_dense(), (v,))
    assert gradcheck(lambda v: rg.sparse_coo_tensor(IDX, v, (3, 4)).coalesce().to_dense() * 2, (v,))
    assert gradcheck(lambda v: rg.sparse_coo_tensor(IDX, v, (3, 4)).coalesce().values(), (v,))

    def arithmetic(v):
        s = rg.sparse_coo_tensor(IDX, v, (3, 4)).t()
        return (s * 3 - s / 2 + (-s).clone().to(rg.float64)).to_dense()

    assert gradcheck(arithmetic, (v,))
    x = _rand(3, 4)
    assert gradcheck(lambda x: x.to_sparse().to_dense(masked_grad=False) * 2, (x,))
    assert gradcheck(lambda x: x.to_sparse(1).coalesce().to_dense(), (x,))


def test_dense_times_sparse_is_dense_with_dense_gradients():
    # PyTorch multiplies a dense matrix (or vector) by a sparse one: a dense, transposed-layout
    # result, and a dense gradient for the sparse leaf (graph convolutions write D @ A @ D)
    s = _s()
    d = np.random.default_rng(4).standard_normal((5, 3))
    for r in (rg.tensor(d) @ s, rg.mm(rg.tensor(d), s), rg.matmul(rg.tensor(d), s)):
        assert not r.is_sparse and r.stride() == (1, 5)
        np.testing.assert_allclose(r.numpy(), d @ _dense(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose((rg.tensor(d[0]) @ s).numpy(), d[0] @ _dense(), rtol=1e-12, atol=1e-12)
    leaf = _s().requires_grad_()
    (rg.tensor(d) @ leaf).sum().backward()
    assert not leaf.grad.is_sparse
    np.testing.assert_allclose(leaf.grad.numpy(), d.sum(0)[:, None] * np.ones((3, 4)), rtol=1e-12)

    def f(v, x):
        s = rg.sparse_coo_tensor(IDX, v, (3, 4))
        return x @ s + x[0] @ s

    assert gradcheck(f, (_values(), _rand(2, 3)))


@pytest.mark.parametrize("op", ["sparse.mm", "spmm", "mm", "matmul", "mv", "addmm"])
def test_gradcheck_products_wrt_values_and_dense(op):
    fns = {
        "sparse.mm": rg.sparse.mm,
        "spmm": rg.spmm,
        "mm": rg.mm,
        "matmul": lambda s, d: s @ d,
        "mv": lambda s, d: rg.mv(s, d[:, 0]) * 2 + s @ d[:, 1],
        "addmm": lambda s, d: rg.sparse.addmm(m, s, d, beta=0.5, alpha=-2.0),
    }
    m = _rand(3, 2, seed=5)
    f = fns[op]
    assert gradcheck(lambda v, d: f(rg.sparse_coo_tensor(IDX, v, (3, 4)), d), (_values(), _rand(4, 2)))
    if op == "addmm":  # the added matrix too, broadcast from a row
        assert gradcheck(
            lambda m: rg.sparse.addmm(m, _s(), rg.ones(4, 2, dtype=rg.float64), beta=0.5), (_rand(1, 2, seed=8),)
        )
        with pytest.raises(RuntimeError, match="cannot be broadcast"):
            rg.sparse.addmm(rg.ones(4, 2, dtype=rg.float64), _s(), rg.ones(4, 2, dtype=rg.float64))


@pytest.mark.parametrize("dim", [None, 0, 1, 2, (0, 2), (0, 1)])
def test_gradcheck_sparse_sum(dim):
    idx = [[0, 2, 2, 1, 0], [1, 0, 0, 3, 1]]
    v = _rand(5, 2, seed=6)

    def f(v):
        r = rg.sparse.sum(rg.sparse_coo_tensor(idx, v, (3, 4, 2)), dim)
        return r.to_dense() if r.is_sparse else r

    assert gradcheck(f, (v,))


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [0, 1])
def test_gradcheck_sparse_softmax(dim, log):
    fn = rg.sparse.log_softmax if log else rg.sparse.softmax
    w = rg.tensor(np.arange(12.0).reshape(3, 4))
    assert gradcheck(lambda v: fn(rg.sparse_coo_tensor(IDX, v, (3, 4)), dim).to_dense() * w, (_values(),))


def test_gradcheck_dense_plus_and_minus_sparse():
    assert gradcheck(lambda x, v: x + rg.sparse_coo_tensor(IDX, v, (3, 4)), (_rand(3, 4), _values()))
    assert gradcheck(lambda x, v: x.sub(rg.sparse_coo_tensor(IDX, v, (3, 4)), alpha=2), (_rand(3, 4), _values()))


def test_sparse_mm_gives_a_sparse_leaf_a_sparse_gradient_on_its_pattern_and_mm_a_dense_one():
    d = _rand(4, 2)
    g_dense = _dense() * 0 + (np.ones((3, 2)) @ d.detach().numpy().T)  # dL/dS for L = sum(S @ d)
    s = rg.sparse_coo_tensor(IDX, VALS, (3, 4), dtype=rg.float64, requires_grad=True)
    assert s.is_leaf and s.requires_grad
    rg.sparse.mm(s, d).sum().backward()
    assert s.grad.is_sparse and s.grad.is_coalesced() and s.grad._nnz() == 4
    mask = _dense(IDX, np.ones(5)) > 0
    np.testing.assert_allclose(s.grad.to_dense().numpy(), np.where(mask, g_dense, 0), rtol=1e-12)
    np.testing.assert_allclose(d.grad.numpy(), _dense().T @ np.ones((3, 2)), rtol=1e-12)
    rg.sparse.mm(s, d).sum().backward()  # a second sparse gradient is summed sparsely
    assert s.grad.is_sparse
    np.testing.assert_allclose(s.grad.to_dense().numpy(), 2 * np.where(mask, g_dense, 0), rtol=1e-12)
    t = rg.sparse_coo_tensor(IDX, VALS, (3, 4), dtype=rg.float64, requires_grad=True)
    (t @ d).sum().backward()
    assert not t.grad.is_sparse
    np.testing.assert_allclose(t.grad.numpy(), g_dense, rtol=1e-12)
    u = rg.sparse_coo_tensor(IDX, VALS, (3, 4), dtype=rg.float64, requires_grad=True)
    (u.to_dense() * 2).sum().backward()
    assert u.grad.is_sparse
    np.testing.assert_array_equal(u.grad.to_dense().numpy(), np.where(mask, 2.0, 0))


def test_autograd_grad_and_hooks_on_a_sparse_leaf():
    s = rg.sparse_coo_tensor(IDX, VALS, (3, 4), dtype=rg.float64, requires_grad=True)
    seen = []
    s.register_hook(lambda g: seen.append(g.is_sparse))
    (g,) = rg.autograd.grad(rg.sparse.sum(s) * 3, s)
    assert g.is_sparse and seen == [True]
    np.testing.assert_array_equal(g.to_dense().numpy(), np.where(_dense(IDX, np.ones(5)) > 0, 3.0, 0))
    assert s.grad is None


def test_saved_dense_operand_modified_in_place_is_an_error():
    d = _rand(4, 2)
    v = _values()
    out = rg.sparse.mm(rg.sparse_coo_tensor(IDX, v, (3, 4)), d)
    with rg.no_grad():
        d.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_second_backward_and_double_backward_are_refused():
    v = _values()
    out = rg.sparse.sum(rg.sparse_coo_tensor(IDX, v, (3, 4)) * 2)
    out.backward(retain_graph=True)
    out.backward()
    np.testing.assert_array_equal(v.grad.numpy(), 4 * np.ones(5))
    with pytest.raises(RuntimeError, match="second time"):
        out.backward()
    with pytest.raises(RuntimeError, match="double backward"):
        rg.autograd.grad(rg.sparse.sum(rg.sparse_coo_tensor(IDX, v, (3, 4))), v, create_graph=True)


def test_nodes_that_save_nothing_allow_a_second_backward():
    s = rg.sparse_coo_tensor(IDX, VALS, (3, 4), dtype=rg.float64, requires_grad=True)
    out = (rg.zeros(3, 4, dtype=rg.float64) + (s.clone().coalesce() * 2).t().t()).sum()
    out.backward()
    out.backward()
    np.testing.assert_array_equal(s.grad.to_dense().numpy(), np.full((3, 4), 4.0))


def test_in_place_on_a_sparse_tensor_that_requires_grad_is_refused():
    s = rg.sparse_coo_tensor(IDX, VALS, (3, 4), requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        s.mul_(2)
    with rg.no_grad():
        s.mul_(2)
    assert s._values().tolist() == [2 * v for v in VALS]


def test_a_small_gcn_with_a_sparse_adjacency_trains_like_the_dense_one():
    rng = np.random.default_rng(7)
    n, f, h = 6, 4, 3
    edges = np.array([[0, 1, 1, 2, 3, 4, 5, 0], [1, 0, 2, 1, 4, 3, 0, 5]])
    x = rg.tensor(rng.standard_normal((n, f)).astype(np.float32))
    y = rg.tensor(rng.integers(0, 2, n))
    w0 = rng.standard_normal((f, h)).astype(np.float32)
    results = []
    for sparse in (True, False):
        adj = rg.sparse_coo_tensor(edges, np.full(edges.shape[1], 0.5, np.float32), (n, n))
        if not sparse:
            adj = adj.to_dense()
        lin1, lin2 = rg.nn.Linear(f, h, bias=False), rg.nn.Linear(h, 2)
        with rg.no_grad():
            lin1.weight.copy_(rg.tensor(w0.T))
            lin2.weight.fill_(0.1)
            lin2.bias.zero_()
        opt = rg.optim.SGD([*lin1.parameters(), *lin2.parameters()], lr=0.1)
        for _ in range(3):
            hid = rg.relu(rg.sparse.mm(adj, lin1(x)) if sparse else adj @ lin1(x))
            out = rg.sparse.mm(adj, lin2(hid)) if sparse else adj @ lin2(hid)
            loss = rg.nn.functional.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        results.append(lin1.weight.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)
