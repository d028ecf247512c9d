"""Sparse COO tensors against PyTorch: construction and round trips, sparse.mm / torch.mm /
addmm gradients (to the dense operand, the values and a sparse leaf), sparse.sum and
sparse.softmax with their gradients, and the layout of each gradient."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

IDX = [[0, 1, 2, 1, 2, 0], [1, 0, 3, 0, 1, 1]]  # repeated entries (1, 0) and (0, 1)
SHAPE = (3, 4)


def _vals(lib, seed=0, shape=(6,)):
    return lib.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=lib.float64, requires_grad=True)


def _dense_of(t):
    t = t.detach() if hasattr(t, "detach") else t
    return t.to_dense().numpy() if t.is_sparse else t.numpy()


def _close(a, b):
    np.testing.assert_allclose(_dense_of(a), _dense_of(b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sparse_dim", [None, 1, 2])
def test_to_sparse_and_sparse_coo_tensor_round_trips(sparse_dim):
    a = np.random.default_rng(1).standard_normal((4, 3, 2)) * (np.arange(24).reshape(4, 3, 2) % 3 == 0)
    ours = rg.tensor(a).to_sparse(*(() if sparse_dim is None else (sparse_dim,)))
    theirs = torch.tensor(a).to_sparse(*(() if sparse_dim is None else (sparse_dim,)))
    assert ours.sparse_dim() == theirs.sparse_dim() and ours.dense_dim() == theirs.dense_dim()
    assert ours._nnz() == theirs._nnz() and ours.is_coalesced() == theirs.is_coalesced()
    assert ours.indices().tolist() == theirs.indices().tolist()
    np.testing.assert_array_equal(ours.values().numpy(), theirs.values().numpy())
    back_o = rg.sparse_coo_tensor(ours.indices(), ours.values(), ours.shape)
    back_t = torch.sparse_coo_tensor(theirs.indices(), theirs.values(), theirs.shape)
    np.testing.assert_array_equal(back_o.to_dense().numpy(), back_t.to_dense().numpy())
    assert back_o.is_coalesced() == back_t.is_coalesced()
    co, ct = back_o.coalesce(), back_t.coalesce()
    assert co.indices().tolist() == ct.indices().tolist()


def test_uncoalesced_construction_and_coalesce():
    vo, vt = _vals(rg), _vals(torch)
    so, st = rg.sparse_coo_tensor(IDX, vo, SHAPE), torch.sparse_coo_tensor(IDX, vt, SHAPE)
    assert so.is_coalesced() == st.is_coalesced() and so._nnz() == st._nnz()
    assert so.grad_fn.name() == type(st.grad_fn).__name__
    co, ct = so.coalesce(), st.coalesce()
    assert co.indices().tolist() == ct.indices().tolist() and co._nnz() == ct._nnz()
    np.testing.assert_allclose(co.values().detach().numpy(), ct.values().detach().numpy(), rtol=1e-12)
    inferred = rg.sparse_coo_tensor([[0, 2]], [1.0, 2.0])
    assert inferred.shape == tuple(torch.sparse_coo_tensor([[0, 2]], [1.0, 2.0]).shape)


@pytest.mark.parametrize("op", ["sparse.mm", "mm", "spmm", "matmul", "addmm", "mv"])
def test_product_gradients_to_values_and_dense(op):
    def run(lib):
        v, d = _vals(lib), _vals(lib, 1, (4, 5))
        s = lib.sparse_coo_tensor(IDX, v, SHAPE)
        m = lib.tensor(np.ones((3, 5)), dtype=lib.float64)
        out = {
            "sparse.mm": lambda: lib.sparse.mm(s, d),
            "mm": lambda: lib.mm(s, d),
            "spmm": lambda: lib.spmm(s, d),
            "matmul": lambda: s @ d,
            "addmm": lambda: lib.sparse.addmm(m, s, d, beta=0.5, alpha=2.0),
            "mv": lambda: lib.mv(s, d[:, 1]),
        }[op]()
        w = lib.tensor(np.arange(1.0, out.numel() + 1).reshape(out.shape))
        (out * w).sum().backward()
        return out, v.grad, d.grad, out.grad_fn

    (oo, ov, od, of), (to, tv, td, tf) = run(rg), run(torch)
    _close(oo, to)
    _close(ov, tv)
    _close(od, td)
    if op != "mv":  # retrograd's sparse matrix-vector product is mm on a column (SqueezeBackward)
        assert of.name() == type(tf).__name__


@pytest.mark.parametrize("op", ["sparse.mm", "mm", "to_dense", "sum"])
def test_gradient_of_a_sparse_leaf_has_pytorchs_layout_and_value(op):
    def run(lib):
        s = lib.sparse_coo_tensor(IDX, np.arange(1.0, 7.0), SHAPE, dtype=lib.float64, requires_grad=True)
        d = lib.tensor(np.random.default_rng(2).standard_normal((4, 2)))
        out = {
            "sparse.mm": lambda: lib.sparse.mm(s, d),
            "mm": lambda: lib.mm(s, d),
            "to_dense": lambda: s.to_dense() * 3,
            "sum": lambda: lib.sparse.sum(s, 1).to_dense(),
        }[op]()
        out.sum().backward()
        return s.grad

    ours, theirs = run(rg), run(torch)
    assert ours.is_sparse == theirs.is_sparse
    _close(ours, theirs)
    if ours.is_sparse:
        assert ours.coalesce().indices().tolist() == theirs.coalesce().indices().tolist()


@pytest.mark.parametrize("dim", [None, 0, 1, 2, (0, 1), (1, 2)])
def test_sparse_sum_and_its_gradient(dim):
    def run(lib):
        v = _vals(lib, 3, (6, 2))
        s = lib.sparse_coo_tensor(IDX, v, SHAPE + (2,))
        r = lib.sparse.sum(s) if dim is None else lib.sparse.sum(s, dim)
        dense = r.to_dense() if r.is_sparse else r
        (dense * lib.tensor(np.arange(1.0, dense.numel() + 1).reshape(dense.shape))).sum().backward()
        return r, v.grad

    (ro, go), (rt, gt) = run(rg), run(torch)
    assert ro.is_sparse == rt.is_sparse and tuple(ro.shape) == tuple(rt.shape)
    _close(ro, rt)
    _close(go, gt)


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [0, 1])
def test_sparse_softmax_and_its_gradient(dim, log):
    def run(lib):
        v = _vals(lib, 4)
        fn = lib.sparse.log_softmax if log else lib.sparse.softmax
        r = fn(lib.sparse_coo_tensor(IDX, v, SHAPE), dim)
        (r.to_dense() * lib.tensor(np.arange(12.0).reshape(SHAPE))).sum().backward()
        return r, v.grad

    (ro, go), (rt, gt) = run(rg), run(torch)
    _close(ro, rt)
    _close(go, gt)


def test_dense_plus_sparse_and_sparse_plus_dense():
    sums = []
    for lib in (rg, torch):
        s = lib.sparse_coo_tensor(IDX, np.arange(6.0), SHAPE)
        d = lib.ones(SHAPE, dtype=lib.float64)
        assert not (d + s).is_sparse
        sums.append((d - s).numpy())
        with pytest.raises(RuntimeError):
            s + d
    np.testing.assert_array_equal(*sums)
