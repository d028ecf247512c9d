"""Optimizers consuming sparse gradients (uncoalesced, with repeated rows)."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim

from . import _refs

N, D, STEPS = 8, 3, 5


def _data(seed=0):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal((N, D))
    sparse = []
    for _ in range(STEPS):
        rows = rng.integers(0, N, 6)  # repeats: the gradient is uncoalesced
        vals = rng.standard_normal((6, D))
        sparse.append((rows, vals))
    dense = []
    for rows, vals in sparse:
        d = np.zeros((N, D))
        np.add.at(d, rows, vals)
        dense.append(d)
    return theta, sparse, dense


def _run(cls, kw, theta, sparse):
    p = rg.tensor(theta, requires_grad=True)
    opt = cls([p], **kw)
    out = []
    for rows, vals in sparse:
        p.grad = rg.sparse_coo_tensor(rg.tensor(rows[None]), rg.tensor(vals), (N, D))
        opt.step()
        out.append(p.detach().numpy().copy())
    return out, opt, p


def _compare(got, want):
    for i, (a, b) in enumerate(zip(got, want)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"step {i + 1}")


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.1),
        dict(lr=0.1, maximize=True),
        dict(lr=0.1, momentum=0.9),
        dict(lr=0.1, momentum=0.9, dampening=0.3, maximize=True),
        dict(lr=0.1, momentum=0.9, nesterov=True),
        dict(lr=0.1, momentum=0.9, weight_decay=0.1),
    ],
)
def test_sgd_sparse_equals_dense_rule(kw):
    theta, sparse, dense = _data()
    got, opt, p = _run(optim.SGD, kw, theta, sparse)
    _compare(got, _refs.sgd(theta, dense, **kw))
    if kw.get("momentum") and not kw.get("weight_decay"):
        buf = opt.state[p]["momentum_buffer"]
        assert buf.is_sparse and buf.is_coalesced() and buf._nnz() <= N


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.1),
        dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.2, maximize=True),
    ],
)
def test_adagrad_sparse_equals_dense_rule(kw):
    theta, sparse, dense = _data()
    got, _, _ = _run(optim.Adagrad, kw, theta, sparse)
    _compare(got, _refs.adagrad(theta, dense, **kw))


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.05, betas=(0.5, 0.8), eps=1e-3, maximize=True)])
def test_sparse_adam(kw):
    theta, sparse, dense = _data()
    got, opt, p = _run(optim.SparseAdam, kw, theta, sparse)
    _compare(got, _refs.sparse_adam(theta, dense, **kw))
    assert opt.state[p]["step"] == STEPS


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.1, weight_decay=0.3, amsgrad=True)])
def test_adamw_lazy_rows(kw):
    theta, sparse, dense = _data()
    got, _, _ = _run(optim.AdamW, kw, theta, sparse)
    _compare(got, _refs.lazy_adamw(theta, dense, **kw))


def test_adamw_lazy_leaves_untouched_rows_alone():
    theta, _, _ = _data()
    got, _, _ = _run(optim.AdamW, dict(lr=0.1, weight_decay=0.5), theta, [(np.array([2, 2]), np.ones((2, D)))])
    untouched = [r for r in range(N) if r != 2]
    np.testing.assert_array_equal(got[0][untouched], theta[untouched])
    assert not np.allclose(got[0][2], theta[2])


@pytest.mark.parametrize(
    "cls,match",
    [
        (optim.Adam, "Adam does not support sparse gradients"),
        (optim.RMSprop, "RMSprop does not support sparse gradients"),
        (optim.Adadelta, "Adadelta does not support sparse gradients"),
        (optim.Adamax, "Adamax does not support sparse gradients"),
        (optim.NAdam, "NAdam does not support sparse gradients"),
        (optim.RAdam, "RAdam does not support sparse gradients"),
        (optim.Rprop, "Rprop does not support sparse gradients"),
        (optim.ASGD, "ASGD does not support sparse gradients"),
        (optim.Adafactor, "Adafactor does not support sparse gradients"),
        (optim.Muon, "Muon does not support sparse gradients"),
    ],
)
def test_sparse_refused(cls, match):
    theta, sparse, _ = _data()
    with pytest.raises(RuntimeError, match=match):
        _run(cls, {}, theta, sparse)


def test_sparse_adam_refuses_dense_gradients():
    p = rg.zeros(3, requires_grad=True)
    opt = optim.SparseAdam([p])
    p.grad = rg.ones(3)
    with pytest.raises(RuntimeError, match="does not support dense gradients"):
        opt.step()


def test_adagrad_sparse_refuses_weight_decay():
    theta, sparse, _ = _data()
    with pytest.raises(RuntimeError, match="weight_decay option is not compatible with sparse"):
        _run(optim.Adagrad, dict(weight_decay=0.1), theta, sparse)


def test_sparse_momentum_buffer_round_trips_through_state_dict():
    theta, sparse, dense = _data()
    _, opt, p = _run(optim.SGD, dict(lr=0.1, momentum=0.9), theta, sparse[:3])
    q = rg.tensor(p.detach().numpy().copy(), requires_grad=True)
    opt2 = optim.SGD([q], lr=0.1, momentum=0.9)
    opt2.load_state_dict(opt.state_dict())
    for rows, vals in sparse[3:]:
        for t, o in ((p, opt), (q, opt2)):
            t.grad = rg.sparse_coo_tensor(rg.tensor(rows[None]), rg.tensor(vals), (N, D))
            o.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    np.testing.assert_allclose(p.detach().numpy(), _refs.sgd(theta, dense, lr=0.1, momentum=0.9)[-1], rtol=1e-12)


def test_zero_grad_set_to_false_on_sparse_grad():
    p = rg.zeros(4, 2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = rg.sparse_coo_tensor([[1]], [[1.0, 1.0]], (4, 2))
    opt.zero_grad(set_to_none=False)
    assert p.grad.is_sparse and p.grad._nnz() == 0
    opt.step()
    assert not p.detach().numpy().any()


# --------------------------------------------------------------------------- end to end
def _embedding_model(sparse, bag=False, seed=0):
    rg.manual_seed(seed)
    if bag:
        emb = rg.nn.EmbeddingBag(20, 4, mode="mean", sparse=sparse, dtype=rg.float64)
    else:
        emb = rg.nn.Embedding(20, 4, padding_idx=0, sparse=sparse, dtype=rg.float64)
    head = rg.nn.Linear(4, 3, dtype=rg.float64)
    return emb, head


@pytest.mark.parametrize("bag", [False, True])
@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: optim.SGD(ps, lr=0.5),
        lambda ps: optim.SGD(ps, lr=0.5, momentum=0.9),
        lambda ps: optim.Adagrad(ps, lr=0.5),
    ],
)
def test_sparse_embedding_training_equals_dense(bag, make_opt):
    """Embedding(sparse=True) gives the same trajectory as dense gradients for optimizers whose
    rule is linear in zero-gradient rows, gradients accumulated over two backward passes."""
    rng = np.random.default_rng(0)
    ids = [rg.tensor(rng.integers(0, 20, (6, 3))) for _ in range(4)]
    ys = [rg.tensor(rng.integers(0, 3, 6)) for _ in range(4)]
    out = []
    for sparse in (True, False):
        emb, head = _embedding_model(sparse, bag)
        opt = make_opt(list(emb.parameters()) + list(head.parameters()))
        for x, y in zip(ids, ys):
            opt.zero_grad()
            for half in (slice(0, 3), slice(3, 6)):  # two micro-batches accumulate
                h = emb(x[half]) if bag else emb(x[half]).mean(dim=1)
                rg.nn.functional.cross_entropy(head(h), y[half]).backward()
            assert emb.weight.grad.is_sparse == sparse
            opt.step()
        out.append(emb.weight.detach().numpy().copy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12, atol=1e-14)


def test_sparse_embedding_with_sparse_adam_and_lazy_adamw():
    rng = np.random.default_rng(1)
    x = rg.tensor(rng.integers(0, 20, (8, 2)))
    y = rg.tensor(rng.integers(0, 3, 8))
    for make in (
        lambda e, h: [optim.SparseAdam(e.parameters(), lr=0.1), optim.Adam(h.parameters(), lr=0.1)],
        lambda e, h: [optim.AdamW(list(e.parameters()) + list(h.parameters()), lr=0.1)],
    ):
        emb, head = _embedding_model(True)
        opts = make(emb, head)
        w0 = emb.weight.detach().numpy().copy()
        losses = []
        for _ in range(20):
            for o in opts:
                o.zero_grad()
            loss = rg.nn.functional.cross_entropy(head(emb(x).mean(dim=1)), y)
            loss.backward()
            for o in opts:
                o.step()
            losses.append(loss.item())
        assert losses[-1] < losses[0]
        untouched = sorted(set(range(20)) - set(x.numpy().ravel().tolist()))
        np.testing.assert_array_equal(emb.weight.detach().numpy()[untouched], w0[untouched])
