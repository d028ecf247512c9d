"""retrograd.compile over library ops that do array work outside their Op: index searches
(argmax, sort, topk, median, cummax, max-pool indices), masks (isnan, logical ops), shape-only
constants (adaptive pooling matrices, interpolation weights) and value checks (embedding rows,
probabilities). Each is recorded, so a compiled function using it replays and a replay sees the
current values; a branch of library code on tensor values is a graph break instead of a baked-in
choice."""

import warnings

import numpy as np
import pytest

import retrograd as torch
from retrograd.nn import functional as F


def _replays(fn):
    return sum(c.eager is None for c in fn.cache)


def _calls(fn, make_args, n=4, seed=0):
    """Results of ``fn`` (compiled) and of its eager function on ``n`` different inputs."""
    rng = np.random.default_rng(seed)
    compiled = torch.compile(fn)
    got, want = [], []
    for _ in range(n):
        args = make_args(rng)
        got.append(compiled(*args))
        want.append(fn(*args))
    return compiled, got, want


def _same(a, b):
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b))
    return a.dtype == b.dtype and np.array_equal(a.detach().numpy(), b.detach().numpy(), equal_nan=True)


GRID = torch.tensor(np.random.default_rng(3).uniform(-1.1, 1.1, (2, 5, 4, 2)))  # a few points outside


def _matrix(rng, shape=(5, 7)):
    return (torch.tensor(rng.standard_normal(shape)),)


@pytest.mark.parametrize(
    "name, fn",
    [
        ("argmax", lambda x: x.argmax(1)),
        ("argmin_all", lambda x: x.argmin()),
        ("max_dim", lambda x: tuple(x.max(1))),
        ("min_dim_keepdim", lambda x: tuple(x.min(0, keepdim=True))),
        ("sort", lambda x: tuple(x.sort(1, descending=True))),
        ("argsort", lambda x: x.argsort(0)),
        ("topk", lambda x: tuple(x.topk(3, 1))),
        ("kthvalue", lambda x: tuple(x.kthvalue(2, 1))),
        ("median_dim", lambda x: tuple(x.median(1))),
        ("median_all", lambda x: x.median()),
        ("cummax", lambda x: tuple(x.cummax(1))),
        ("nansum", lambda x: torch.where(x > 1, float("nan"), x).nansum(1)),
        ("isfinite_and", lambda x: torch.logical_and(torch.isfinite(x), x > 0)),
        ("any_all", lambda x: ((x > 0).any(1), (x > -3).all())),
        ("count_nonzero", lambda x: torch.count_nonzero(x > 0, 1)),
        ("accuracy", lambda x: (x.argmax(1) == torch.arange(5) % 7).float().mean()),
        ("nonzero", lambda x: (x > 0).nonzero()),
        ("one_hot", lambda x: F.one_hot(x.argmax(1), 7)),
        ("bincount", lambda x: torch.bincount(x.argmax(1))),
    ],
)
def test_index_and_mask_ops_replay_with_current_values(name, fn):
    compiled, got, want = _calls(fn, _matrix)
    # nonzero and bincount: a capture per size of their result (a checked graph break), here
    # a new size at each call, so they end up running eagerly (results sized by values, below)
    assert _replays(compiled) == 1 or name in ("nonzero", "bincount"), compiled.reasons
    for g, w in zip(got, want):
        assert _same(g, w), name


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
        lambda x: F.adaptive_avg_pool2d(x, 1),
        lambda x: F.adaptive_max_pool2d(x, 3),
        lambda x: tuple(F.max_pool2d(x, 2, return_indices=True)),
        lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
        lambda x: F.interpolate(x, size=(5, 9), mode="bicubic", align_corners=True),
        lambda x: F.grid_sample(x, GRID, align_corners=False),
        lambda x: F.grid_sample(x, GRID, mode="nearest", padding_mode="reflection", align_corners=True),
    ],
)
def test_pooling_and_resizing_replay_with_gradients(fn):
    def forward(x):
        out = fn(x)
        first = out[0] if isinstance(out, tuple) else out
        return (first * first).sum(), out

    rng = np.random.default_rng(1)
    compiled = torch.compile(forward)
    for _ in range(4):
        data = rng.standard_normal((2, 3, 8, 8))
        x, x2 = torch.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        (loss, out), (loss2, out2) = compiled(x), forward(x2)
        assert _same(out, out2) and _same(loss, loss2)
        loss.backward()
        loss2.backward()
        assert np.array_equal(x.grad.numpy(), x2.grad.numpy())
    assert _replays(compiled) == 1, compiled.cache[-1].eager


def test_a_scalar_output_gets_its_gradient_through_the_compiled_backward():
    # the first replay's check against eager mode seeded a 0-d output with a NumPy scalar
    f = torch.compile(lambda x: (x * x).sum())
    for k in range(3):
        x = torch.tensor(np.arange(6.0).reshape(2, 3) + k, requires_grad=True)
        (g,) = torch.autograd.grad(f(x), [x])
        np.testing.assert_array_equal(g.numpy(), 2 * x.detach().numpy())
    assert _replays(f) == 1


def test_value_checks_run_at_every_replay():
    emb = torch.compile(lambda w, i: F.embedding(i, w).sum())
    bce = torch.compile(lambda p, y: F.binary_cross_entropy(p, y))
    w = torch.randn(4, 3)
    for _ in range(3):
        emb(w, torch.tensor([0, 3, 1]))
        bce(torch.rand(5), torch.rand(5))
    assert _replays(emb) == 1 and _replays(bce) == 1
    with pytest.raises(IndexError, match="index out of range"):
        emb(w, torch.tensor([0, 4]))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        bce(torch.tensor([0.5, 1.5, 0.2, 0.1, 0.3]), torch.rand(5))


@pytest.mark.parametrize("fn", [lambda x: x.prod(1), lambda x: x.cumprod(1)])
def test_a_backward_that_branches_on_values_is_replayed_whole(fn):
    # prod's gradient has one formula without zeros (g * out / x) and another with them; a
    # replay of the first, recorded kernel by kernel, would give 0 / 0 where an input is zero
    compiled = torch.compile(fn)
    for data in ([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]], [[1.0, 0.0, 3.0]], [[0.0, 0.0, 3.0]]):
        x, x2 = torch.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        compiled(x).sum().backward()
        fn(x2).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), x2.grad.numpy())
    assert _replays(compiled) == 1, compiled.cache[-1].eager


def test_a_backward_inside_into_an_argument_runs_eagerly():
    # the recorded accumulation names its leaf: replayed, it would fill the first call's tensor
    def step(x):
        (x * x).sum().backward()

    compiled = torch.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(3):
            x = torch.tensor([1.0, 2.0 + k], requires_grad=True)
            compiled(x)
            np.testing.assert_array_equal(x.grad.numpy(), 2 * x.detach().numpy())
    assert _replays(compiled) == 0 and "other than a parameter" in compiled.cache[-1].eager


def test_equal_and_inferred_one_hot_size_are_graph_breaks():
    for fn in (lambda x: torch.equal(x, x), lambda x: F.one_hot(x.argmax(1))):
        with pytest.raises(torch._dynamo.exc.Unsupported):
            torch.compile(fn, fullgraph=True)(torch.randn(3, 4))


WRITES = {
    "zero_": lambda x: (x * 2).zero_() + x,
    "fill_": lambda x: (x * 2).fill_(3.0) * x,
    "fill_tensor": lambda x: torch.empty(5, 7).fill_(x.sum()) - x,
    "copy_": lambda x: torch.empty(5, 7).copy_(x.exp()) + 1,
    "copy_broadcast": lambda x: torch.zeros(5, 7).copy_(x[0]) * x,
}


@pytest.mark.parametrize("name", sorted(WRITES))
@pytest.mark.parametrize("verify", [True, False])
def test_writes_with_nothing_to_record_replay_with_current_values(name, verify, monkeypatch):
    """zero_, fill_ and copy_ outside autograd (no input requires grad) write with NumPy: each
    write is a kernel of the schedule, so a replay writes the current values (with the check
    of the first replay against eager mode off too)."""
    monkeypatch.setattr(torch._dynamo.config, "verify", verify)
    compiled, got, want = _calls(WRITES[name], _matrix)
    assert _replays(compiled) == 1, compiled.reasons
    assert all(_same(a, b) for a, b in zip(got, want))


def test_a_write_into_a_buffer_under_no_grad_replays():
    class Ema(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("avg", torch.zeros(7))

        def forward(self, x):
            with torch.no_grad():
                self.avg.copy_(0.9 * self.avg + 0.1 * x.mean(0))
            return x - self.avg

    eager, model = Ema(), Ema()
    compiled = torch.compile(model)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = torch.tensor(rng.standard_normal((5, 7)))
        assert _same(compiled(x), eager(x))
        assert _same(model.avg, eager.avg)
    assert _replays(compiled._compiled) == 1, compiled._compiled.reasons


@pytest.mark.parametrize("mask_kind", ["float", "bool"])
def test_attention_with_a_mask_replays_its_backward(mask_kind):
    """scaled_dot_product_attention's backward computes with NumPy (one vjp kernel) and holds a
    float mask as a tensor among its arguments: a train step through a TransformerEncoder
    with a causal mask replays, bit for bit."""

    def train(compiled):
        torch.manual_seed(0)
        layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1)
        model = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        mask = torch.nn.Transformer.generate_square_subsequent_mask(5)
        if mask_kind == "bool":
            mask = mask == 0

        def step(x):
            opt.zero_grad()
            loss = model(x, mask=mask).pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        run = torch.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        losses = [run(torch.tensor(rng.standard_normal((5, 3, 8)), dtype=torch.float32)) for _ in range(4)]
        return losses, run

    eager, _ = train(False)
    got, run = train(True)
    assert all(_same(a, b) for a, b in zip(got, eager))
    assert _replays(run) == 1, run.reasons


def _repeat_then_vary(fn, make_args, n=5, seed=0):
    """``fn`` compiled and eagerly on the same arguments twice (so the first replay, the one
    checked against eager mode, sees the recorded values), then on ``n`` other ones."""
    rng = np.random.default_rng(seed)
    first = make_args(rng)
    calls = [first, first] + [make_args(rng) for _ in range(n)]
    compiled = torch.compile(fn)
    got = [compiled(*a) for a in calls]
    want = [fn(*a) for a in calls]
    return compiled, got, want


_TABLE = torch.tensor(np.random.default_rng(1).standard_normal((6, 4)))

TENSOR_INDEXES = {
    "rows": (lambda x, i: x[i], lambda r: (_matrix(r, (6, 4))[0], torch.tensor(r.integers(0, 6, (3, 2))))),
    "table_rows": (lambda i: _TABLE[i] * 2, lambda r: (torch.tensor(r.integers(0, 6, (3, 2))),)),
    "pairs": (
        lambda x, i: x[torch.arange(3), i],
        lambda r: (_matrix(r, (3, 4))[0], torch.tensor(r.integers(0, 4, 3))),
    ),
    "int_then_tensor": (
        lambda x, i: x[1, :, i],
        lambda r: (_matrix(r, (2, 3, 4))[0], torch.tensor(r.integers(0, 4, 2))),
    ),
    "put": (
        lambda x, i: x.clone().index_put_((i,), torch.ones(3), accumulate=True),
        lambda r: (_matrix(r, (6,))[0], torch.tensor(r.integers(0, 6, 3))),
    ),
    "setitem": (lambda x, i: _set(x.clone(), i), lambda r: (_matrix(r, (6, 2))[0], torch.tensor(r.integers(0, 6, 2)))),
    "index_select": (
        lambda x, i: x.index_select(1, i),
        lambda r: (_matrix(r, (3, 5))[0], torch.tensor(r.integers(0, 5, 4))),
    ),
    "zero_dim_index": (lambda x, i: x[i] * 2, lambda r: (_matrix(r, (6, 2))[0], torch.tensor(int(r.integers(0, 2))))),
    "list_index": (lambda x: x[[0, 2]] + x[[1, 1]], lambda r: _matrix(r, (3, 2))),
}


def _set(x, i):
    x[i] = -1.0
    return x


@pytest.mark.parametrize("name", sorted(TENSOR_INDEXES))
def test_tensor_indexes_replay_with_the_current_indices(name):
    """An index tensor's values are read by the replay, not kept from the recording, even after
    a first replay (the one checked against eager mode) with the recorded values."""
    fn, make = TENSOR_INDEXES[name]
    compiled, got, want = _repeat_then_vary(fn, make)
    assert all(_same(a, b) for a, b in zip(got, want))
    assert _replays(compiled) >= 1, compiled.reasons


def test_an_embedding_table_indexed_by_a_tensor_trains_bit_for_bit():
    """makemore's bigram model: logits = table[idx], cross-entropy with ignore_index."""

    def train(compiled):
        table = torch.nn.Parameter(torch.zeros(5, 5))
        opt = torch.optim.AdamW([table], lr=0.1)

        def step(idx, targets):
            logits = table[idx]
            loss = F.cross_entropy(logits.view(-1, 5), targets.view(-1), ignore_index=-1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        run = torch.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        batches = [
            (torch.tensor(rng.integers(0, 5, (4, 3))), torch.tensor(rng.integers(-1, 5, (4, 3)))) for _ in range(4)
        ]
        losses = [run(*b) for b in [batches[0]] + batches]
        return losses, table, run

    eager, eager_table, _ = train(False)
    got, table, run = train(True)
    assert all(_same(a, b) for a, b in zip(got, eager)) and _same(table, eager_table)
    assert _replays(run) == 1, run.reasons


SIZED_BY_VALUES = {
    "mask": lambda x: x[x > 0].sum() * x[x > 0].shape[0],
    "masked_select": lambda x: torch.masked_select(x, x < 0).numel() + x,
    "nonzero": lambda x: torch.nonzero(x > 0).shape[0] * x,
    "nonzero_tuple": lambda x: x[torch.nonzero(x > 0, as_tuple=True)] * len(torch.nonzero(x > 0, as_tuple=True)[0]),
    "bincount": lambda x: (
        torch.bincount((x.abs() * 2).long()).float().sum() * len(torch.bincount((x.abs() * 2).long()))
    ),
}


@pytest.mark.parametrize("name", sorted(SIZED_BY_VALUES))
def test_results_sized_by_values_check_their_size_at_each_replay(name):
    """A result whose size depends on the values (a boolean mask's selection, nonzero,
    bincount) is a graph break on its shape: Python code after it reads that size as a
    constant, so a replay that finds another size captures that path instead."""
    values = [[1.0, -1, 2, 3], [1.0, -1, 2, 3], [1.0, 2, 3, 4], [-1.0, -2, 3, -4], [2.0, 1, 0, 5], [1.0, 2, 3, 4]]
    compiled = torch.compile(SIZED_BY_VALUES[name])
    for v in values:
        assert _same(compiled(torch.tensor(v)), SIZED_BY_VALUES[name](torch.tensor(v)))
    assert _replays(compiled) >= 1 and compiled.breaks, compiled.reasons


def test_attention_with_a_float_mask_replays_its_backward():
    # the mask is both an input (it gets a gradient) and an argument of the op's backward
    def f(q, m):
        return F.scaled_dot_product_attention(q, q, q, attn_mask=m).sum()

    compiled = torch.compile(f)
    rng = np.random.default_rng(0)
    for _ in range(4):
        q, m = rng.standard_normal((2, 4, 6)), rng.standard_normal((4, 4))
        a = [torch.tensor(v, requires_grad=True) for v in (q, m)]
        b = [torch.tensor(v, requires_grad=True) for v in (q, m)]
        compiled(*a).backward()
        f(*b).backward()
        for x, y in zip(a, b):
            assert np.array_equal(x.grad.numpy(), y.grad.numpy())
    assert _replays(compiled) == 1, compiled.cache[-1].eager
