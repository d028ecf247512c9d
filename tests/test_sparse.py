"""Sparse COO tensors: construction, coalescing, arithmetic, use as gradients."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.ops._registry import Op, apply


def _sp(rows, vals, shape):
    return rg.sparse_coo_tensor(rg.tensor([rows]), rg.tensor(vals, dtype=rg.float64), shape)


def _dense_of(rows, vals, shape):
    d = np.zeros(shape)
    np.add.at(d, np.asarray(rows), np.asarray(vals, dtype=np.float64))
    return d


ROWS = [3, 0, 3, 1]
VALS = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]


def test_construction_and_properties():
    s = _sp(ROWS, VALS, (5, 2))
    assert s.is_sparse and not rg.zeros(2).is_sparse
    assert s.shape == (5, 2) and s.size() == rg.Size([5, 2]) and s.dim() == 2
    assert s.dtype == rg.float64 and s._nnz() == 4
    assert s.sparse_dim() == 1 and s.dense_dim() == 1
    assert not s.is_coalesced()
    np.testing.assert_array_equal(s.to_dense().numpy(), _dense_of(ROWS, VALS, (5, 2)))
    assert "nnz=4" in repr(s) and "sparse_coo" in repr(s)


def test_size_is_inferred():
    s = rg.sparse_coo_tensor([[0, 2], [1, 0]], [1.0, 2.0])
    assert s.shape == (3, 2) and s.dtype == rg.float32
    np.testing.assert_array_equal(s.to_dense().numpy(), [[0, 1], [0, 0], [2, 0]])


def test_coalesce_sums_duplicates_and_sorts():
    s = _sp(ROWS, VALS, (5, 2))
    with pytest.raises(RuntimeError, match="uncoalesced"):
        s.indices()
    with pytest.raises(RuntimeError, match="uncoalesced"):
        s.values()
    c = s.coalesce()
    assert c.is_coalesced() and c.coalesce() is c
    assert c.indices().tolist() == [[0, 1, 3]]
    assert c.values().tolist() == [[3.0, 4.0], [7.0, 8.0], [6.0, 8.0]]
    np.testing.assert_array_equal(c.to_dense().numpy(), s.to_dense().numpy())


def test_coalesce_without_duplicates_and_several_sparse_dims():
    s = rg.sparse_coo_tensor([[1, 0, 1, 1], [2, 1, 0, 2]], [1.0, 2.0, 3.0, 4.0], (2, 3))
    c = s.coalesce()
    assert c.indices().tolist() == [[0, 1, 1], [1, 0, 2]]
    assert c.values().tolist() == [2.0, 3.0, 5.0]
    u = rg.sparse_coo_tensor([[2, 0]], [[1.0], [2.0]], (3, 1)).coalesce()
    assert u.indices().tolist() == [[0, 2]] and u.values().tolist() == [[2.0], [1.0]]


def test_add_sparse_sparse_stays_sparse():
    a = _sp(ROWS, VALS, (5, 2))
    b = _sp([4, 3], [[1.0, 1.0], [2.0, 2.0]], (5, 2))
    c = a + b
    assert c.is_sparse and c._nnz() == 6
    np.testing.assert_array_equal(c.to_dense().numpy(), a.to_dense().numpy() + b.to_dense().numpy())
    d = a.sub(b)
    np.testing.assert_array_equal(d.to_dense().numpy(), a.to_dense().numpy() - b.to_dense().numpy())


def test_add_dense_plus_sparse_is_dense_and_sparse_plus_dense_is_refused_as_in_pytorch():
    a = _sp(ROWS, VALS, (5, 2))
    dense = rg.tensor(np.arange(10.0).reshape(5, 2))
    want = a.to_dense().numpy() + np.arange(10.0).reshape(5, 2)
    for r, w in (
        (dense + a, want),
        (rg.add(dense, a), want),
        (dense.add(a, alpha=2), want + a.to_dense().numpy()),
        (dense - a, want - 2 * a.to_dense().numpy()),
        (rg.sub(dense, a), want - 2 * a.to_dense().numpy()),
    ):
        assert not r.is_sparse
        np.testing.assert_array_equal(r.numpy(), w)
    np.testing.assert_array_equal(dense.numpy(), np.arange(10.0).reshape(5, 2))  # untouched
    for f in (lambda: a + dense, lambda: a.add(dense), lambda: rg.add(a, dense), lambda: a - dense):
        with pytest.raises(RuntimeError, match=r"(add|sub)\(sparse, dense\) is not supported"):
            f()


def test_scalar_mul_div_neg():
    a = _sp(ROWS, VALS, (5, 2))
    for r, f in ((a * 2, 2.0), (2 * a, 2.0), (a / 4, 0.25), (-a, -1.0), (a * rg.tensor(3.0), 3.0)):
        assert r.is_sparse
        np.testing.assert_allclose(r.to_dense().numpy(), f * a.to_dense().numpy())
    b = a.clone()
    b.mul_(0.5)
    np.testing.assert_allclose(b.to_dense().numpy(), 0.5 * a.to_dense().numpy())


def test_zero_():
    a = _sp(ROWS, VALS, (5, 2))
    a.zero_()
    assert a._nnz() == 0 and not a.to_dense().numpy().any()


@pytest.mark.parametrize(
    "make,err,match",
    [
        (lambda: rg.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (3,)), RuntimeError, "size is 3 but found index 5"),
        (lambda: rg.sparse_coo_tensor([[0, -1]], [1.0, 2.0], (3,)), RuntimeError, "negative index"),
        (lambda: rg.sparse_coo_tensor([[0, 1]], [1.0, 2.0, 3.0], (3,)), RuntimeError, "nnz"),
        (lambda: rg.sparse_coo_tensor([0, 1], [1.0, 2.0], (3,)), RuntimeError, "2-D"),
        (lambda: rg.sparse_coo_tensor([[0.5]], [1.0], (3,)), RuntimeError, "int64"),
        (lambda: rg.sparse_coo_tensor([[0]], [[1.0, 2.0]], (3, 3)), RuntimeError, "dense shape"),
        (lambda: _sp(ROWS, VALS, (5, 2)) + _sp([0], [[1.0, 1.0]], (6, 2)), RuntimeError, "same shape"),
        (lambda: _sp(ROWS, VALS, (5, 2)) + 1.0, RuntimeError, "can only be added"),
        (lambda: 1.0 + _sp(ROWS, VALS, (5, 2)), RuntimeError, "can only be added"),
        (lambda: _sp(ROWS, VALS, (5, 2)) * rg.ones(5, 2), NotImplementedError, "scaled"),
        (lambda: _sp(ROWS, VALS, (5, 2)).exp(), NotImplementedError, "to_dense"),
        (lambda: _sp(ROWS, VALS, (5, 2)).mean(), NotImplementedError, "mean: not supported for sparse"),
        (lambda: _sp(ROWS, VALS, (5, 2))[0], NotImplementedError, "to_dense"),
        (lambda: _sp(ROWS, VALS, (5, 2)).numpy(), TypeError, "to_dense"),
    ],
)
def test_errors(make, err, match):
    with pytest.raises(err, match=match):
        make()


def test_is_accepted_as_grad_of_a_dense_parameter():
    w = rg.zeros(5, 2, dtype=rg.float64, requires_grad=True)
    w.grad = _sp(ROWS, VALS, (5, 2))
    assert w.grad.is_sparse
    with pytest.raises(RuntimeError, match="dtype"):
        w.grad = rg.sparse_coo_tensor([[0]], [[1.0, 1.0]], (5, 2))  # float32 into float64


# --------------------------------------------------------------------------- through the engine
def _take_rows_vjp(g, w, idx):
    from retrograd.sparse import SparseTensor

    gd = g._data.reshape(-1, w._data.shape[1])
    return SparseTensor._from_parts(idx.reshape(1, -1), gd.copy(), w._data.shape)


TAKE_ROWS = Op("take_rows", lambda xp, w, idx: w[idx], _take_rows_vjp, save=("x",))


def _take(w, idx):
    return apply(TAKE_ROWS, (w,), (np.asarray(idx),))


def test_engine_accumulates_sparse_gradients_sparsely():
    w = rg.tensor(np.arange(12.0).reshape(6, 2), requires_grad=True)
    (_take(w, [1, 4]) * 2).sum().backward()
    assert w.grad.is_sparse and w.grad._nnz() == 2
    _take(w, [4, 5, 5]).sum().backward()  # a second backward adds sparse to sparse
    assert w.grad.is_sparse and w.grad._nnz() == 5
    want = np.zeros((6, 2))
    want[[1, 4]] += 2
    np.add.at(want, [4, 5, 5], 1)
    np.testing.assert_array_equal(w.grad.to_dense().numpy(), want)


def test_engine_sums_two_sparse_uses_in_one_backward():
    w = rg.tensor(np.ones((4, 3)), requires_grad=True)
    (_take(w, [0, 1]).sum() + 3 * _take(w, [1, 3]).sum()).backward()
    assert w.grad.is_sparse
    np.testing.assert_array_equal(w.grad.to_dense().numpy(), [[1, 1, 1], [4, 4, 4], [0, 0, 0], [3, 3, 3]])


def test_engine_sparse_plus_dense_use_gives_dense():
    w = rg.tensor(np.ones((4, 3)), requires_grad=True)
    (_take(w, [0, 0]).sum() + (w * 2).sum()).backward()
    assert not w.grad.is_sparse
    want = np.full((4, 3), 2.0)
    want[0] += 2
    np.testing.assert_array_equal(w.grad.numpy(), want)
    _take(w, [3]).sum().backward()  # dense .grad plus a sparse gradient
    assert not w.grad.is_sparse
    want[3] += 1
    np.testing.assert_array_equal(w.grad.numpy(), want)


@pytest.mark.parametrize("sparse_first", [True, False])
def test_engine_sums_a_sparse_and_a_dense_gradient_in_either_order(sparse_first):
    w = rg.tensor(np.ones((4, 3)), requires_grad=True)
    h = w * 1  # a non-leaf: both gradients meet in its node's buffer
    parts = [lambda: _take(h, [1, 1]).sum(), lambda: (h * 2).sum()]
    a, b = parts if sparse_first else parts[::-1]
    x = a()
    (x + b()).backward()
    want = np.full((4, 3), 2.0)
    want[1] += 2
    assert not w.grad.is_sparse
    np.testing.assert_array_equal(w.grad.numpy(), want)


def test_embedding_grad_helper():
    from retrograd.sparse import embedding_grad

    idx = rg.tensor([[1, 3], [1, 0]])
    g = rg.tensor(np.arange(8.0).reshape(2, 2, 2))
    s = embedding_grad(g, idx, 5)
    assert s.is_sparse and s.shape == (5, 2) and s._nnz() == 4
    want = np.zeros((5, 2))
    np.add.at(want, [1, 3, 1, 0], np.arange(8.0).reshape(4, 2))
    np.testing.assert_array_equal(s.to_dense().numpy(), want)
    p = embedding_grad(g, idx, 5, padding_idx=1)
    assert p._nnz() == 2
    want[1] = 0
    np.testing.assert_array_equal(p.to_dense().numpy(), want)
    b = rg.ones(2).expand(4, 2)  # a broadcast upstream gradient: values must not alias it
    e = embedding_grad(b, rg.tensor([0, 1, 2, 3]), 4)
    e.mul_(3.0)
    assert b.tolist() == [[1.0, 1.0]] * 4 and e.to_dense().numpy().tolist() == [[3.0, 3.0]] * 4


@pytest.mark.filterwarnings("ignore:Anomaly Detection")
def test_sparse_gradients_under_anomaly_detection():
    w = rg.tensor(np.ones((4, 3)), requires_grad=True)
    with rg.autograd.detect_anomaly():
        _take(w, [0, 2]).sum().backward()
    assert w.grad.is_sparse
    v = rg.tensor(np.ones((4, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match="nan"):
        with rg.autograd.detect_anomaly():
            (_take(v, [1]) * float("nan")).sum().backward()


def test_dense_in_place_add_of_sparse():
    s = _sp(ROWS, VALS, (5, 2))
    w = rg.zeros(5, 2, dtype=rg.float64, requires_grad=True)
    with rg.no_grad():
        w.add_(s, alpha=-0.5)
        w -= s * 0.5
        v = w._version
        w.sub_(s)
    assert w._version == v + 1
    np.testing.assert_array_equal(w.detach().numpy(), -2 * s.to_dense().numpy())
    a = rg.zeros(5, 2, dtype=rg.float64, requires_grad=True)
    b = a * 1
    b.add_(s)  # recorded: through the dense equivalent
    b.sum().backward()
    assert a.grad.tolist() == [[1.0, 1.0]] * 5


def test_embedding_grad_scale_by_freq():
    from retrograd.sparse import embedding_grad

    s = embedding_grad(rg.ones(4, 2), rg.tensor([2, 0, 2, 2]), 3, padding_idx=-1, scale_grad_by_freq=True)
    np.testing.assert_allclose(s.to_dense().numpy(), [[1, 1], [0, 0], [1, 1]])


@pytest.mark.parametrize("rows", [[4, 1, 0], [3, 0, 3, 1, 3, 0], [2, 2, 2], [5, 1] + [3] * 9 + [1, 0, 5]])
@pytest.mark.parametrize("width", [(), (3,), (2, 2)])
def test_add_into_sums_every_entry_once(rows, width):
    from retrograd.sparse import add_into

    rng = np.random.default_rng(0)
    vals = rng.standard_normal((len(rows),) + width)
    s = rg.sparse_coo_tensor([rows], vals, (6,) + width)
    ref = rng.standard_normal((6,) + width)
    want = ref.copy()
    np.add.at(want, np.asarray(rows), -0.5 * vals)
    for t in (s, s.coalesce()):
        got = ref.copy()
        assert add_into(got, t, -0.5) is got
        np.testing.assert_allclose(got, want, rtol=1e-13)
        add_into(got, t)  # alpha 1: the values themselves
        np.testing.assert_allclose(got, want + (want - ref) * -2, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(s._values().numpy(), vals)  # the sparse tensor is untouched
    strided = np.zeros((6, 2) + width)[:, 0]  # not C-contiguous
    strided[...] = ref
    add_into(strided, s, -0.5)
    np.testing.assert_allclose(strided, want, rtol=1e-13)


def test_add_into_two_sparse_dims_with_repeats():
    from retrograd.sparse import add_into

    idx = [[1, 0, 1, 1, 0], [2, 1, 2, 0, 1]]
    vals = np.arange(10.0).reshape(5, 2)
    s = rg.sparse_coo_tensor(idx, vals, (2, 3, 2))
    want = np.ones((2, 3, 2))
    np.add.at(want, (np.asarray(idx[0]), np.asarray(idx[1])), vals)
    got = np.ones((2, 3, 2))
    add_into(got, s)
    np.testing.assert_array_equal(got, want)


def test_embedding_grad_values_are_owned():
    from retrograd.sparse import embedding_grad

    g = rg.ones(2, 3, 4)
    for grad in (g, rg.ones(2, 1, 4).expand(2, 3, 4)):
        v = embedding_grad(grad, rg.tensor([[0, 1, 1], [2, 0, 4]]), 5)._values()._data
        assert v.flags.writeable and not np.may_share_memory(v, grad._data)
        v *= 2
    assert g.tolist() == np.ones((2, 3, 4)).tolist()


def _broadcast_grad_case():
    """An embedding gradient that is a broadcast along the lookups (as from a mean over them),
    with repeated rows, and its dense equivalent."""
    from retrograd.sparse import embedding_grad

    ids = np.array([[3, 0, 3], [5, 3, 1]])
    g = np.random.default_rng(0).standard_normal((2, 1, 4))
    s = embedding_grad(rg.tensor(g).expand(2, 3, 4), rg.tensor(ids), 6)
    want = np.zeros((6, 4))
    np.add.at(want, ids.reshape(-1), np.broadcast_to(g, (2, 3, 4)).reshape(-1, 4))
    return s, want, np.broadcast_to(g, (2, 3, 4)).reshape(-1, 4)


def test_broadcast_embedding_grad_keeps_values_unmade_until_used():
    from retrograd.sparse import add_into

    s, want, vals = _broadcast_grad_case()
    assert s._data.expand is not None  # not made yet
    assert s.dtype == rg.float64 and s.device.type == "cpu" and s.shape == (6, 4) and s._nnz() == 6
    base = np.random.default_rng(1).standard_normal((6, 4))
    got = base.copy()
    add_into(got, s, -0.5)
    np.testing.assert_allclose(got, base - 0.5 * want, rtol=1e-13)
    assert s._data.expand is not None  # add_into never made them
    np.testing.assert_allclose(s.to_dense().numpy(), want, rtol=1e-13)
    v = s._values().numpy()
    assert s._data.expand is None and v.flags.writeable and v.flags.c_contiguous
    np.testing.assert_array_equal(v, vals)


def test_broadcast_embedding_grad_in_place_ops_and_copies():
    s, want, _ = _broadcast_grad_case()
    c = s.clone()
    s.mul_(2)
    np.testing.assert_allclose(s.to_dense().numpy(), 2 * want, rtol=1e-13)
    np.testing.assert_allclose(c.to_dense().numpy(), want, rtol=1e-13)
    s2, _, _ = _broadcast_grad_case()
    s2.zero_()
    assert s2._nnz() == 0 and not s2.to_dense().numpy().any()
    s3, _, _ = _broadcast_grad_case()
    np.testing.assert_allclose((s3 + s3).coalesce().to_dense().numpy(), 2 * want, rtol=1e-13)


def test_mean_pooled_sparse_embedding_sgd_step_matches_dense():
    ids = rg.tensor(np.array([[1, 4, 1, 0], [4, 4, 2, 1]]))
    w0 = np.random.default_rng(2).standard_normal((6, 3)).astype(np.float32)
    out = []
    for sparse in (True, False):
        emb = rg.nn.Embedding(6, 3, sparse=sparse)
        with rg.no_grad():
            emb.weight.copy_(rg.tensor(w0))
        opt = rg.optim.SGD(emb.parameters(), lr=0.1)
        for _ in range(2):
            (emb(ids).mean(dim=1) ** 2).sum().backward()
            assert emb.weight.grad.is_sparse == sparse
            opt.step()
            opt.zero_grad()
        out.append(emb.weight.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6, atol=1e-7)


def test_copy_takes_the_sources_shape_indices_and_casts_values():
    a = _sp(ROWS, VALS, (5, 2)).float()
    src = _sp([0, 0, 3], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (6, 2))
    before = a._version
    out = a.copy_(src)
    assert out is a and a._version == before + 1
    assert a.dtype == rg.float32 and tuple(a.shape) == (6, 2) and not a.is_coalesced()
    expected = np.zeros((6, 2))
    expected[0] = [4.0, 6.0]
    expected[3] = [5.0, 6.0]
    np.testing.assert_array_equal(a.to_dense().numpy(), expected)
    src.mul_(2.0)  # the copy owns its values
    np.testing.assert_array_equal(a.to_dense().numpy(), expected)


def test_copy_between_sparse_and_dense_is_refused():
    a = _sp(ROWS, VALS, (5, 2))
    with pytest.raises(RuntimeError, match="dense tensor .* into a sparse"):
        a.copy_(rg.ones(5, 2))
    with pytest.raises(RuntimeError, match="sparse tensor .* into a dense"):
        rg.ones(5, 2).copy_(a)
    src = _sp(ROWS, VALS, (5, 2)).requires_grad_()
    with pytest.raises(NotImplementedError, match="requires grad"):
        a.copy_(src)
    with rg.no_grad():
        a.copy_(src)
    assert not a.requires_grad
