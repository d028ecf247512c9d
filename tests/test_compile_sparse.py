"""Compiled replay of functions that use sparse COO tensors: a sparse argument, or one the
function reaches (a global, a closure variable, a module attribute), in sparse @ dense products
(forward, backward into the dense operand and into the sparse values), ``to_dense`` and
``coalesce``. A replay binds the sparse tensor's current indices and values, so each test
changes them between calls (same nnz: the same capture replays; another nnz: a new capture) and
compares every result with eager mode bit for bit. What a replay cannot repeat (a sparse
gradient into a leaf, an in-place write into a sparse tensor) keeps the function eager, with
the reason."""

import warnings

import numpy as np
import pytest

import retrograd as torch
from retrograd import nn
from retrograd.nn import functional as F

N, FEAT = 12, 5


def _replayed(step):
    """How many calls of ``step`` ran a replay (the first of each capture is checked against
    eager mode, and counts)."""
    return sum(c.replay.calls for c in step.cache if c.eager is None and c.replay is not None)


def _graph(rng, nnz, n=N, coalesce=True):
    """A random sparse (n, n) matrix of ``nnz`` distinct entries (float64)."""
    flat = rng.choice(n * n, size=nnz, replace=False)
    idx = np.stack([flat // n, flat % n])
    s = torch.sparse_coo_tensor(torch.tensor(idx), torch.tensor(rng.standard_normal(nnz)), (n, n))
    return s.coalesce() if coalesce else s


def _same(a, b):
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def _set_entries(s, rng):
    """New indices and values for the coalesced sparse tensor ``s``, keeping its nnz, written
    into its arrays."""
    c = s._data
    nnz = c.indices.shape[1]
    flat = np.sort(rng.choice(N * N, size=nnz, replace=False))
    c.indices[...] = np.stack([flat // N, flat % N])
    c.values[...] = rng.standard_normal(nnz)


# --------------------------------------------------------------------------- sparse arguments
@pytest.mark.parametrize("product", ["sparse.mm", "spmm", "matmul"])
def test_sparse_argument_product_forward_and_backward_to_the_dense_operand(product):
    rng = np.random.default_rng(0)
    w = torch.tensor(rng.standard_normal((FEAT, 3)), requires_grad=True)
    mm = {"sparse.mm": torch.sparse.mm, "spmm": torch.spmm, "matmul": lambda a, b: a @ b}[product]

    def step(adj, x):
        w.grad = None
        h = mm(adj, x @ w).tanh()
        loss = (h * h).sum()
        loss.backward()
        return loss, h

    c = torch.compile(step)
    for i in range(6):
        adj = _graph(rng, 30)  # a new tensor, new entries, the same nnz: the capture replays
        x = torch.tensor(rng.standard_normal((N, FEAT)))
        (lc, hc), gc = c(adj, x), w.grad.numpy().copy()
        (le, he), ge = step(adj, x), w.grad.numpy().copy()
        _same(lc, le)
        _same(hc, he)
        np.testing.assert_array_equal(gc, ge)
    assert len(c.cache) == 1 and c.reasons == [] and _replayed(c) == 5

    adj = _graph(rng, 41)  # another nnz: the kernels' shapes change, so it captures again
    x = torch.tensor(rng.standard_normal((N, FEAT)))
    _same(c(adj, x)[0], step(adj, x)[0])
    assert len(c.cache) == 2 and "tensor argument 0" in c.recompiles[-1]
    _same(c(adj, x)[0], step(adj, x)[0])
    assert _replayed(c) == 6


def test_sparse_argument_aliasing_and_coalescing_are_guarded():
    rng = np.random.default_rng(1)
    a = _graph(rng, 20)

    def f(s, t, x):
        return torch.sparse.mm(s, x) + torch.sparse.mm(t, x)

    c = torch.compile(f)
    x = torch.randn(N, 2, dtype=torch.float64)
    for _ in range(3):
        _same(c(a, a, x), f(a, a, x))
    b = _graph(rng, 20)  # same metadata, but no longer the same tensor twice
    _same(c(a, b, x), f(a, b, x))
    assert "alias" in c.recompiles[-1]
    u = _graph(rng, 20, coalesce=False)  # an uncoalesced tensor takes other paths
    _same(c(u, b, x), f(u, b, x))
    assert "tensor argument 0" in c.recompiles[-1]


# --------------------------------------------------------------------------- sparse state
ADJ = None


def test_global_sparse_tensor_changed_in_place_and_rebound():
    global ADJ
    rng = np.random.default_rng(2)
    ADJ = _graph(rng, 25)
    w = torch.tensor(rng.standard_normal((FEAT, 4)), requires_grad=True)

    def step(x):
        w.grad = None
        loss = torch.spmm(ADJ, x @ w).relu().sum()
        loss.backward()
        return loss

    c = torch.compile(step)
    try:
        for _ in range(5):
            _set_entries(ADJ, rng)  # new indices and values in the same arrays
            x = torch.tensor(rng.standard_normal((N, FEAT)))
            lc, gc = c(x), w.grad.numpy().copy()
            le, ge = step(x), w.grad.numpy().copy()
            _same(lc, le)
            np.testing.assert_array_equal(gc, ge)
        assert len(c.cache) == 1 and _replayed(c) == 4
        ADJ = _graph(rng, 25)  # the global rebound: captures again
        x = torch.tensor(rng.standard_normal((N, FEAT)))
        _same(c(x), step(x))
        assert len(c.cache) == 2 and "ADJ" in c.recompiles[-1]
    finally:
        ADJ = None


def test_closure_sparse_tensor_given_new_arrays_of_another_nnz():
    rng = np.random.default_rng(3)
    adj = _graph(rng, 25)

    def f(x):
        return torch.sparse.mm(adj, x).sum(0)

    c = torch.compile(f)
    x = torch.randn(N, 3, dtype=torch.float64)
    for _ in range(3):
        _same(c(x), f(x))
    other = _graph(rng, 31)._data  # the same tensor object, now with 31 entries
    adj._data.indices, adj._data.values = other.indices, other.values
    _same(c(x), f(x))
    assert len(c.cache) == 2 and "sparse tensor" in c.recompiles[-1] and "nnz" in c.recompiles[-1]
    _same(c(x), f(x))


class SparseLayer(nn.Module):
    def __init__(self, adj):
        super().__init__()
        self.adj = adj
        self.lin = nn.Linear(FEAT, 3, dtype=torch.float64)

    def forward(self, x):
        return torch.sparse.mm(self.adj, self.lin(x))


def test_module_attribute_sparse_tensor_backward_outside():
    rng = np.random.default_rng(4)
    m = SparseLayer(_graph(rng, 30))
    cm = torch.compile(m)
    for _ in range(4):
        _set_entries(m.adj, rng)
        x = torch.tensor(rng.standard_normal((N, FEAT)), requires_grad=True)
        m.zero_grad()
        yc = cm(x)
        yc.pow(2).sum().backward()
        gc = [p.grad.numpy().copy() for p in m.parameters()] + [x.grad.numpy().copy()]
        x.grad = None
        m.zero_grad()
        ye = m(x)
        ye.pow(2).sum().backward()
        ge = [p.grad.numpy().copy() for p in m.parameters()] + [x.grad.numpy().copy()]
        _same(yc, ye)
        for a, b in zip(gc, ge):
            np.testing.assert_array_equal(a, b)
    compiled = cm._compiled if hasattr(cm, "_compiled") else None
    if compiled is not None:
        assert compiled.reasons == []
    m.adj = _graph(rng, 30)  # rebinding the attribute captures again
    x = torch.tensor(rng.standard_normal((N, FEAT)))
    _same(cm(x), m(x))


# --------------------------------------------------------------------------- values that require grad
@pytest.mark.parametrize("product", ["sparse.mm", "spmm"])
def test_gradient_into_the_sparse_values(product):
    """The adjacency's values are a parameter (edge weights): the product's sparse (masked)
    or dense gradient flows back through ``sparse_coo_tensor`` into them."""
    rng = np.random.default_rng(5)
    nnz = 28
    flat = np.sort(rng.choice(N * N, size=nnz, replace=False))
    idx = torch.tensor(np.stack([flat // N, flat % N]))
    ew = torch.tensor(rng.standard_normal(nnz), requires_grad=True)
    w = torch.tensor(rng.standard_normal((FEAT, 3)), requires_grad=True)
    mm = torch.sparse.mm if product == "sparse.mm" else torch.spmm

    def step(x):
        ew.grad = w.grad = None
        a = torch.sparse_coo_tensor(idx, ew, (N, N), is_coalesced=True)
        loss = mm(a, x @ w).sin().sum()
        loss.backward()
        return loss

    c = torch.compile(step)
    for _ in range(5):
        flat = np.sort(rng.choice(N * N, size=nnz, replace=False))
        idx._data[...] = np.stack([flat // N, flat % N])  # new edges, read by the replay
        with torch.no_grad():
            ew.copy_(torch.tensor(rng.standard_normal(nnz)))
        x = torch.tensor(rng.standard_normal((N, FEAT)))
        lc, gc = c(x), (ew.grad.numpy().copy(), w.grad.numpy().copy())
        le, ge = step(x), (ew.grad.numpy().copy(), w.grad.numpy().copy())
        _same(lc, le)
        for a, b in zip(gc, ge):
            np.testing.assert_array_equal(a, b)
    assert c.reasons == [] and _replayed(c) == 4


def test_sparse_coo_tensor_index_check_runs_at_every_replay():
    idx = torch.tensor([[0, 1, 2], [1, 2, 0]])
    v = torch.ones(3, dtype=torch.float64)

    def f(x):
        return torch.sparse.mm(torch.sparse_coo_tensor(idx, v, (3, 3)), x)

    c = torch.compile(f)
    x = torch.ones(3, 2, dtype=torch.float64)
    for _ in range(3):
        _same(c(x), f(x))
    idx._data[1, 0] = 7
    with pytest.raises(RuntimeError, match="size is inconsistent with indices"):
        c(x)


# --------------------------------------------------------------------------- to_dense, coalesce
def test_to_dense_and_coalesce_replay_and_recapture_when_duplicates_change():
    rng = np.random.default_rng(6)
    w = torch.tensor(rng.standard_normal((N, 3)), requires_grad=True)

    def f(s):
        w.grad = None
        d = s.coalesce().to_dense()
        loss = (d @ w).square().sum() + s.to_dense().sum()
        loss.backward()
        return loss, d

    def uncoalesced(dups):
        base = rng.choice(N * N, size=20, replace=False)
        flat = np.concatenate([base, base[:dups]])  # ``dups`` entries twice
        idx = np.stack([flat // N, flat % N])
        return torch.sparse_coo_tensor(torch.tensor(idx), torch.tensor(rng.standard_normal(flat.size)), (N, N))

    c = torch.compile(f)
    for dups in (3, 3, 3, 3):
        s = uncoalesced(dups)
        (lc, dc), gc = c(s), w.grad.numpy().copy()
        (le, de), ge = f(s), w.grad.numpy().copy()
        _same(lc, le)
        _same(dc, de)
        np.testing.assert_array_equal(gc, ge)
    assert len(c.cache) == 1 and _replayed(c) == 3
    # 23 entries again, but a different number of distinct ones: coalesce's result has another
    # nnz, a graph break the replay checks: it stops there and that path is captured
    s = torch.sparse_coo_tensor(
        torch.tensor(np.stack([np.arange(23) % 4, np.arange(23) % 3])),
        torch.tensor(rng.standard_normal(23)),
        (N, N),
    )
    (lc, dc), (le, de) = c(s), f(s)
    _same(lc, le)
    _same(dc, de)
    assert "coalesce" in c.recompiles[-1]


@pytest.mark.parametrize("coalesced", [True, False])
def test_to_dense_gradient_into_sparse_values(coalesced):
    """The gradient of ``to_dense`` is kept on the input's coalesced pattern: of a coalesced
    tensor it replays; of an uncoalesced one the number of distinct entries depends on the
    indices, a value inside a backward, so that function runs eagerly (with the reason)."""
    rng = np.random.default_rng(7)
    idx = torch.tensor(np.stack([np.arange(N), (np.arange(N) * 5) % N]))
    ev = torch.tensor(rng.standard_normal(N), requires_grad=True)

    def f(x):
        ev.grad = None
        a = torch.sparse_coo_tensor(idx, ev, (N, N), is_coalesced=coalesced).to_dense()
        loss = (a @ x).exp().sum()
        loss.backward()
        return loss

    c = torch.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(4):
            x = torch.tensor(rng.standard_normal((N, 2)))
            idx._data[1] = rng.permutation(N)
            lc, gc = c(x), ev.grad.numpy().copy()
            le, ge = f(x), ev.grad.numpy().copy()
            _same(lc, le)
            np.testing.assert_array_equal(gc, ge)
    if coalesced:
        assert c.reasons == [] and _replayed(c) == 3
    else:
        assert _replayed(c) == 0 and "uncoalesced" in c.reasons[0]


# --------------------------------------------------------------------------- fails closed
def _eager_reason(f, *args):
    c = torch.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            out = c(*args)
    assert _replayed(c) == 0 and c.reasons
    return c.reasons[0], out


def test_sparse_gradient_of_a_leaf_runs_eagerly():
    rng = np.random.default_rng(8)
    s = _graph(rng, 20).requires_grad_()
    x = torch.randn(N, 2, dtype=torch.float64)

    def f(s, x):
        loss = torch.sparse.mm(s, x).sum()
        loss.backward()
        return loss

    reason, _ = _eager_reason(f, s, x)
    assert "sparse gradient" in reason


def test_embedding_sparse_with_sgd_runs_eagerly():
    emb = nn.Embedding(10, 3, sparse=True)
    opt = torch.optim.SGD(emb.parameters(), lr=0.1)
    idx = torch.tensor([1, 2, 2, 5])

    def step():
        opt.zero_grad()
        loss = emb(idx).sum()
        loss.backward()
        opt.step()
        return loss

    reason, _ = _eager_reason(step)
    assert "sparse gradient" in reason


def test_in_place_write_into_a_sparse_tensor_runs_eagerly():
    rng = np.random.default_rng(9)
    s = _graph(rng, 20)
    x = torch.randn(N, 2, dtype=torch.float64)

    def f(x):
        s.mul_(0.5)
        return torch.sparse.mm(s, x)

    before = s._data.values.copy()
    reason, _ = _eager_reason(f, x)
    assert "mul_ on a sparse tensor" in reason
    np.testing.assert_array_equal(s._data.values, before * 0.5**3)  # every call wrote


def test_a_sparse_result_or_unsupported_op_runs_eagerly():
    rng = np.random.default_rng(10)
    s = _graph(rng, 20)
    x = torch.randn(N, 2, dtype=torch.float64)
    reason, out = _eager_reason(lambda s: s * 2.0, s)  # its arrays would be the capture call's
    assert "sparse tensor other than an argument" in reason
    _same(out.to_dense(), s.to_dense() * 2.0)
    for f in (
        lambda x: torch.sparse.mm(x.to_sparse(), x.t()),  # nonzero pattern: made outside recording
        lambda x: torch.sparse.mm(torch.sparse.softmax(s, 1), x),
        lambda x: torch.sparse.sum(s) * x,
    ):
        reason, out = _eager_reason(f, x)
        assert any(op in reason for op in ("to_sparse", "sparse.softmax", "sparse.sum"))
        _same(out, f(x))


def test_sparse_arithmetic_and_sparse_gradients_between_nodes():
    """Scaling, clone, sparse + sparse, dense + sparse, a transpose: each a recorded kernel; the
    sparse gradients they pass each other (summed when a tensor is used twice) are recorded
    arrays too, down to the edge weights."""
    rng = np.random.default_rng(11)
    nnz = 20
    flat = np.sort(rng.choice(N * N, size=nnz, replace=False))
    idx = torch.tensor(np.stack([flat // N, flat % N]))
    ev = torch.tensor(rng.standard_normal(nnz), requires_grad=True)

    def f(x):
        ev.grad = None
        a = torch.sparse_coo_tensor(idx, ev, (N, N), is_coalesced=True)
        b = ((a * 0.5).clone() + a).coalesce()  # checked: its nnz depends on the indices
        h = torch.sparse.mm(b, x) + torch.sparse.mm(b, x.flip(0)) + b.t() @ x
        loss = h.tanh().sum() + (x[:, :1].expand(N, N) + b).square().sum() + b.to_dense().sum()
        loss.backward()
        return loss

    c = torch.compile(f)
    for _ in range(4):
        x = torch.tensor(rng.standard_normal((N, N)))
        with torch.no_grad():
            ev.copy_(torch.tensor(rng.standard_normal(nnz)))
        lc, gc = c(x), ev.grad.numpy().copy()
        le, ge = f(x), ev.grad.numpy().copy()
        _same(lc, le)
        np.testing.assert_array_equal(gc, ge)
    assert c.reasons == [] and _replayed(c) == 3


# --------------------------------------------------------------------------- a GCN training step
def normalized_adjacency(n, edges):
    """D^-1/2 (A + I) D^-1/2 of an undirected graph, as a coalesced sparse COO tensor."""
    a = np.zeros((n, n))
    a[edges[0], edges[1]] = a[edges[1], edges[0]] = 1.0
    a += np.eye(n)
    d = 1.0 / np.sqrt(a.sum(1))
    a = d[:, None] * a * d[None, :]
    r, k = np.nonzero(a)
    return torch.sparse_coo_tensor(torch.tensor(np.stack([r, k])), torch.tensor(a[r, k], dtype=torch.float32), (n, n))


class GraphConvolution(nn.Module):
    def __init__(self, fin, fout):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(fin, fout))
        self.bias = nn.Parameter(torch.zeros(fout))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, x, adj):
        return torch.sparse.mm(adj, x @ self.weight) + self.bias


class GCN(nn.Module):
    def __init__(self, fin, hidden, classes, dropout=0.5):
        super().__init__()
        self.gc1 = GraphConvolution(fin, hidden)
        self.gc2 = GraphConvolution(hidden, classes)
        self.dropout = dropout

    def forward(self, x, adj):
        x = F.relu(self.gc1(x, adj))
        x = F.dropout(x, self.dropout, training=self.training)
        return F.log_softmax(self.gc2(x, adj), dim=1)


def gcn_problem(n=60, fin=16, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    edges = rng.integers(0, n, size=(2, 3 * n))
    adj = normalized_adjacency(n, edges).coalesce()
    x = torch.tensor(rng.standard_normal((n, fin)).astype(np.float32))
    y = torch.tensor(rng.integers(0, classes, n))
    train = torch.tensor(np.arange(n // 2))
    return adj, x, y, train


def gcn_step(model, opt, adj, x, y, train):
    def step():
        model.train()
        opt.zero_grad()
        out = model(x, adj)
        loss = F.nll_loss(out[train], y[train])
        loss.backward()
        opt.step()
        return loss

    return step


def test_gcn_training_step_replays_bit_identically():
    adj, x, y, train = gcn_problem()
    start = adj._data.values.copy()
    runs = []
    for compiled in (False, True):
        torch.manual_seed(0)
        model = GCN(x.shape[1], 8, 4)
        opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
        step = gcn_step(model, opt, adj, x, y, train)
        if compiled:
            step = torch.compile(step)
        torch.manual_seed(1)
        rec = []
        for i in range(6):
            if i == 3:  # new edge weights (same pattern), read by the replay
                adj._data.values[...] *= 0.9
            loss = step()
            rec.append(
                [loss.detach().numpy().copy()]
                + [p.grad.numpy().copy() for p in model.parameters()]
                + [p.detach().numpy().copy() for p in model.parameters()]
            )
        adj._data.values[...] = start
        runs.append((rec, step))
    (eager, _), (comp, step) = runs
    for a, b in zip(eager, comp):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)
    assert step.reasons == [] and len(step.cache) == 1 and _replayed(step) == 5


def test_dense_in_place_write_into_sparse_values_replays_and_is_checked_once():
    """``s._values()`` is a dense tensor over the sparse tensor's values: an in-place op on it
    is a recorded write into a source. The check of the first replay puts the values back
    before running eagerly, so the call writes once, as eager mode does."""
    rng = np.random.default_rng(12)
    a = _graph(rng, 15)
    b = torch.sparse_coo_tensor(a._indices(), a._values().clone(), (N, N), is_coalesced=True)

    def step(s):
        def f(x):
            with torch.no_grad():
                s._values().mul_(0.5)
            return torch.sparse.mm(s, x)

        return f

    c, f = torch.compile(step(a)), step(b)
    x = torch.randn(N, 2, dtype=torch.float64)
    for _ in range(4):
        _same(c(x), f(x))
        np.testing.assert_array_equal(a._data.values, b._data.values)
    assert c.reasons == [] and _replayed(c) == 3
