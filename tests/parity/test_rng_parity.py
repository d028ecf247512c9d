"""Parity of random numbers with PyTorch's CPU generator: the same seed and the same calls give
the same values bit for bit, up to the last bit of float64 transforms (see ``same``), and leave
the generators in the same state."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
import retrograd.nn as rnn  # noqa: E402
import retrograd.nn.functional as RF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from retrograd.nn import init as rinit  # noqa: E402
from torch.nn import init as tinit  # noqa: E402

SEEDS = [0, 1, 2**40 + 7]
SHAPES = [(), (1,), (5,), (15,), (16,), (17,), (3, 7), (4, 8), (33, 31), (300, 301)]
FLOATS = [(torch.float32, rg.float32), (torch.float64, rg.float64)]
# float16 and bfloat16: PyTorch computes their samples in float32 (24-bit uniforms) and rounds
LOW = [(torch.float16, rg.float16), (torch.bfloat16, rg.bfloat16)]
INTS = [
    (torch.int64, rg.int64),
    (torch.int32, rg.int32),
    (torch.int16, rg.int16),
    (torch.int8, rg.int8),
    (torch.uint8, rg.uint8),
]


def same(t, r):
    """Equal bit for bit (NaNs and signed zeros included), same dtype and shape. float64 values
    may differ in their last bits (1e-14 relative or absolute at most): the normal draws pass the
    same random bits through log and cos, and in float64 NumPy's and PyTorch's math libraries
    round a few results differently on some CPUs (a misaligned stream would differ everywhere, by
    far more)."""
    if t.dtype == torch.bfloat16:  # NumPy has no bfloat16: compared through float32, which holds it
        assert r.dtype == rg.bfloat16, r.dtype
        t, r = t.float(), r.float()
    a, b = t.detach().numpy(), r.detach().numpy()
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    if a.dtype == np.float64:
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-14)
        return
    assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), (
        f"{(a != b).sum()} of {a.size} differ; first torch {a.ravel()[:3]}, retrograd {b.ravel()[:3]}"
    )


def seed_both(s):
    torch.manual_seed(s)
    rg.manual_seed(s)


def same_state():
    assert torch.get_rng_state().numpy().tobytes() == rg.get_rng_state().numpy().tobytes()


@pytest.mark.parametrize("s", SEEDS + [-5, 2**64 - 1])
def test_seeded_state_bytes(s):
    seed_both(s)
    same_state()
    assert torch.initial_seed() == rg.initial_seed()


@pytest.mark.parametrize("s", SEEDS)
@pytest.mark.parametrize("tdt,rdt", FLOATS + LOW)
def test_rand_randn(s, tdt, rdt):
    seed_both(s)
    for shape in SHAPES:
        same(torch.rand(shape, dtype=tdt), rg.rand(shape, dtype=rdt))
        same(torch.randn(shape, dtype=tdt), rg.randn(shape, dtype=rdt))
    same_state()


@pytest.mark.parametrize("tdt,rdt", FLOATS)
def test_normal_drawn_in_chunks_is_one_stream(tdt, rdt):
    # normal_ draws its uniforms a chunk at a time (to bound its temporaries); more than two
    # chunks and a partial block of 16 at the end still give PyTorch's values
    from retrograd import _random_kernels

    n = 2 * _random_kernels._CHUNK + 16 * 1000 + 5
    seed_both(11)
    same(torch.randn(n, dtype=tdt), rg.randn(n, dtype=rdt))
    same(torch.empty(n, dtype=tdt).normal_(0.5, 2.0), rg.empty(n, dtype=rdt).normal_(0.5, 2.0))
    same_state()


def test_normal_cache_across_calls():
    # the scalar sampler keeps the sine half of each pair in the generator between calls
    seed_both(3)
    for n, tdt, rdt in [
        (3, torch.float32, rg.float32),
        (1, torch.float64, rg.float64),
        (20, torch.float32, rg.float32),
        (5, torch.float64, rg.float64),
        (2, torch.float32, rg.float32),
    ]:
        same(torch.randn(n, dtype=tdt), rg.randn(n, dtype=rdt))
        same_state()


@pytest.mark.parametrize("tdt,rdt", FLOATS + LOW)
def test_uniform_normal_inplace(tdt, rdt):
    seed_both(11)
    for shape in [(7,), (16,), (50,), (64, 40)]:
        for a, b in [(0.0, 1.0), (-0.3, 0.7), (-0.05, 0.05), (2.0, 3.5), (0.0, 0.0), (-1.5, -1.5)]:
            same(torch.empty(shape, dtype=tdt).uniform_(a, b), rg.empty(shape, dtype=rdt).uniform_(a, b))
        for mean, std in [(0.0, 1.0), (0.5, 2.5), (0.0, 0.02), (-3.0, 1.0)]:
            same(torch.empty(shape, dtype=tdt).normal_(mean, std), rg.empty(shape, dtype=rdt).normal_(mean, std))
    same_state()


def test_non_contiguous_fills_walk_memory_order():
    seed_both(4)
    for op in [
        lambda t: t.normal_(),
        lambda t: t.uniform_(-1, 2),
        lambda t: t.bernoulli_(0.3),
        lambda t: t.exponential_(2.0),
    ]:
        t, r = torch.empty(40, 30).t(), rg.empty(40, 30).t()
        same(op(t), op(r))
        t, r = torch.zeros(10, 12)[:, ::2], rg.zeros(10, 12)[:, ::2]
        same(op(t), op(r))
    same(torch.randn_like(torch.empty(20, 6).t()), rg.randn_like(rg.empty(20, 6).t()))
    same_state()


def test_like_factories_and_generators():
    assert torch.Generator().get_state().numpy().tobytes() == rg.Generator().get_state().numpy().tobytes()
    g, h = torch.Generator().manual_seed(9), rg.Generator().manual_seed(9)
    x, y = torch.empty(4, 5, dtype=torch.float64), rg.empty(4, 5, dtype=rg.float64)
    same(torch.rand_like(x, generator=g), rg.rand_like(y, generator=h))
    same(torch.randn_like(x, generator=g), rg.randn_like(y, generator=h))
    same(torch.randint_like(x, 3, 10, generator=g), rg.randint_like(y, 3, 10, generator=h))
    same(torch.randn(40, generator=g), rg.randn(40, generator=h))
    same(torch.randperm(50, generator=g), rg.randperm(50, generator=h))
    assert g.get_state().numpy().tobytes() == h.get_state().numpy().tobytes()
    assert g.initial_seed() == h.initial_seed() == 9


@pytest.mark.filterwarnings("ignore:to - 1 is out of bounds")  # both warn for float32 beyond 2**24
@pytest.mark.parametrize("tdt,rdt", INTS + FLOATS)
def test_randint_random(tdt, rdt):
    seed_both(5)
    for low, high in [(0, 10), (-5, 100), (3, 120), (0, 2), (0, 2**40)]:
        try:
            expected = torch.randint(low, high, (300,), dtype=tdt)
        except RuntimeError:
            continue
        same(expected, rg.randint(low, high, (300,), dtype=rdt))
    same(torch.empty(200, dtype=tdt).random_(), rg.empty(200, dtype=rdt).random_())
    same(torch.empty(200, dtype=tdt).random_(7), rg.empty(200, dtype=rdt).random_(7))
    same(torch.empty(200, dtype=tdt).random_(2, 9), rg.empty(200, dtype=rdt).random_(2, 9))
    same_state()


def test_random_bool_and_full_range():
    seed_both(6)
    same(torch.empty(100, dtype=torch.bool).random_(), rg.empty(100, dtype=rg.bool).random_())
    same(
        torch.empty(100, dtype=torch.int64).random_(-(2**63), None),
        rg.empty(100, dtype=rg.int64).random_(-(2**63), None),
    )
    same_state()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 1000, 100_003])
def test_randperm(n):
    seed_both(n)
    same(torch.randperm(n), rg.randperm(n))
    same(torch.randperm(n, dtype=torch.float32), rg.randperm(n, dtype=rg.float32))
    same_state()


def test_normal_overloads():
    seed_both(8)
    m, s = np.linspace(-2, 2, 24).reshape(4, 6), np.linspace(0.1, 3, 6)
    tm, ts = torch.tensor(m, dtype=torch.float32), torch.tensor(s, dtype=torch.float32)
    rm, rs = rg.tensor(m, dtype=rg.float32), rg.tensor(s, dtype=rg.float32)
    same(torch.normal(tm, ts), rg.normal(rm, rs))
    same(torch.normal(tm, 0.7), rg.normal(rm, 0.7))
    same(torch.normal(1.5, ts), rg.normal(1.5, rs))
    same(torch.normal(0.5, 2.0, (3, 9)), rg.normal(0.5, 2.0, (3, 9)))
    same(torch.normal(tm.double(), ts.double()), rg.normal(rm.double(), rs.double()))
    same_state()


def test_bernoulli_forms():
    seed_both(12)
    for tdt, rdt in FLOATS:
        probs_t = torch.rand(7, 9, dtype=tdt)
        probs_r = rg.rand(7, 9, dtype=rdt)
        same(torch.bernoulli(probs_t), rg.bernoulli(probs_r))
        same(torch.bernoulli(probs_t, 0.25), rg.bernoulli(probs_r, 0.25))
        same(torch.empty(7, 9).bernoulli_(probs_t), rg.empty(7, 9).bernoulli_(probs_r))
        same(torch.empty(50, dtype=tdt).bernoulli_(0.6), rg.empty(50, dtype=rdt).bernoulli_(0.6))
    same(torch.empty(30, dtype=torch.int64).bernoulli_(0.5), rg.empty(30, dtype=rg.int64).bernoulli_(0.5))
    same_state()


@pytest.mark.parametrize("tdt,rdt", FLOATS + LOW)
def test_other_distributions(tdt, rdt):
    seed_both(13)
    for shape in [(5,), (300,)]:
        same(torch.empty(shape, dtype=tdt).exponential_(2.5), rg.empty(shape, dtype=rdt).exponential_(2.5))
        same(torch.empty(shape, dtype=tdt).geometric_(0.3), rg.empty(shape, dtype=rdt).geometric_(0.3))
        same(torch.empty(shape, dtype=tdt).cauchy_(1.0, 0.5), rg.empty(shape, dtype=rdt).cauchy_(1.0, 0.5))
        same(torch.empty(shape, dtype=tdt).log_normal_(0.2, 0.7), rg.empty(shape, dtype=rdt).log_normal_(0.2, 0.7))
    same_state()


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
def test_low_precision_fills_and_factories(name):
    # compared through float32 (same() needs a NumPy dtype both sides share)
    tdt, rdt = getattr(torch, name), getattr(rg, name)

    def bf(t, r):
        assert t.dtype == tdt and r.dtype == rdt
        same(t.float(), r.float())

    seed_both(21)
    for shape in [(5,), (16,), (17,), (37,), (48,), (300, 7)]:
        bf(torch.randn(shape, dtype=tdt), rg.randn(shape, dtype=rdt))
        bf(torch.rand(shape, dtype=tdt), rg.rand(shape, dtype=rdt))
        for op, args in [
            ("normal_", (0.5, 2.0)),
            ("uniform_", (-1.0, 3.0)),
            ("exponential_", (1.5,)),
            ("log_normal_", (0.0, 0.5)),
            ("cauchy_", (0.0, 1.0)),
            ("bernoulli_", (0.3,)),
            ("geometric_", (0.3,)),
            ("random_", ()),
            ("random_", (10,)),
            ("random_", (-100, 200)),
        ]:
            t = getattr(torch.empty(shape, dtype=tdt), op)(*args)
            r = getattr(rg.empty(shape, dtype=rdt), op)(*args)
            bf(t, r)
        bf(
            torch.empty(shape[::-1], dtype=tdt).t().normal_(),
            rg.empty(shape[::-1], dtype=rdt).t().normal_(),
        )
        bf(
            torch.randint(-50, 50, shape, dtype=tdt),
            rg.randint(-50, 50, shape, dtype=rdt),
        )
    bf(torch.nn.Linear(9, 5, dtype=tdt).weight, rnn.Linear(9, 5, dtype=rdt).weight)
    bf(torch.nn.Embedding(9, 5, dtype=tdt).weight, rnn.Embedding(9, 5, dtype=rdt).weight)
    same_state()


@pytest.mark.parametrize("tdt,rdt", FLOATS)
def test_multinomial(tdt, rdt):
    seed_both(14)
    w = np.array([[0.1, 2.0, 0.0, 3.0, 1.0, 0.5], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]])
    tw, rw = torch.tensor(w, dtype=tdt), rg.tensor(w, dtype=rdt)
    same(torch.multinomial(tw, 1), rg.multinomial(rw, 1))
    same(torch.multinomial(tw, 4), rg.multinomial(rw, 4))
    same(torch.multinomial(tw, 50, replacement=True), rg.multinomial(rw, 50, replacement=True))
    same(torch.multinomial(tw[0], 3), rg.multinomial(rw[0], 3))
    same_state()


@pytest.mark.parametrize("tdt,rdt", FLOATS + LOW)
def test_dropout_masks(tdt, rdt):
    seed_both(15)
    x = np.linspace(-3, 3, 2 * 6 * 5 * 4).reshape(2, 6, 5, 4)
    tx, rx = torch.tensor(x, dtype=tdt), rg.tensor(x, dtype=rdt)
    for p in [0.1, 0.5, 0.9]:
        same(TF.dropout(tx, p), RF.dropout(rx, p))
        same(torch.nn.Dropout(p)(tx), rnn.Dropout(p)(rx))
        same(TF.dropout2d(tx, p), RF.dropout2d(rx, p))
        same(TF.dropout1d(tx[0], p), RF.dropout1d(rx[0], p))
        same(TF.dropout3d(tx, p), RF.dropout3d(rx, p))
        same(TF.alpha_dropout(tx, p, training=True), RF.alpha_dropout(rx, p, training=True))
        same(TF.feature_alpha_dropout(tx, p, training=True), RF.feature_alpha_dropout(rx, p, training=True))
        same(TF.dropout(tx.transpose(1, 3), p), RF.dropout(rx.transpose(1, 3), p))
    same_state()


@pytest.mark.parametrize("tdt,rdt", FLOATS)
def test_init_functions(tdt, rdt):
    seed_both(16)
    for shape in [(30, 20), (8, 3, 3, 3), (5, 4)]:
        for name, kw in [
            ("uniform_", {"a": -0.2, "b": 0.4}),
            ("normal_", {"mean": 0.1, "std": 0.3}),
            ("xavier_uniform_", {}),
            ("xavier_normal_", {"gain": 2.0}),
            ("kaiming_uniform_", {"a": math.sqrt(5)}),
            ("kaiming_normal_", {"mode": "fan_out"}),
            ("constant_", {"val": 0.3}),
        ]:
            same(
                getattr(tinit, name)(torch.empty(shape, dtype=tdt), **kw),
                getattr(rinit, name)(rg.empty(shape, dtype=rdt), **kw),
            )
        for kw in [{"std": 0.02}, {"std": 1.0}, {"mean": 0.5, "a": 1.0, "b": 2.0}]:  # normal / uniform rejection
            same(
                tinit.trunc_normal_(torch.empty(shape, dtype=tdt), **kw),
                rinit.trunc_normal_(rg.empty(shape, dtype=rdt), **kw),
            )
            same_state()
        # QR is each library's own LAPACK call: values agree to rounding
        t, r = tinit.orthogonal_(torch.empty(shape, dtype=tdt)), rinit.orthogonal_(rg.empty(shape, dtype=rdt))
        np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=1e-4, atol=1e-5)
        same_state()
    same(tinit.sparse_(torch.empty(12, 5, dtype=tdt), 0.3), rinit.sparse_(rg.empty(12, 5, dtype=rdt), 0.3))
    same_state()


MODULES = [
    lambda L: L.nn.Linear(20, 30),
    lambda L: L.nn.Conv2d(3, 8, 3),
    lambda L: L.nn.Embedding(10, 4),
    lambda L: L.nn.LSTM(5, 7, num_layers=2),
    lambda L: L.nn.GRU(4, 6),
    lambda L: L.nn.RNN(3, 4),
    lambda L: L.nn.MultiheadAttention(8, 2),
    lambda L: L.nn.TransformerEncoderLayer(16, 4, 32),
    lambda L: L.nn.ConvTranspose2d(3, 5, 3),
    lambda L: L.nn.Bilinear(3, 4, 5),
    lambda L: L.nn.EmbeddingBag(10, 3),
]


@pytest.mark.parametrize("make", MODULES)
def test_default_module_initialisation(make):
    seed_both(17)
    tm, rm = make(torch), make(rg)
    t_params, r_params = dict(tm.named_parameters()), dict(rm.named_parameters())
    assert list(t_params) == list(r_params)
    for name in t_params:
        same(t_params[name], r_params[name])
    same_state()


def test_random_activations_and_attention_dropout():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4)).astype(np.float32)
    tx, rx = torch.tensor(x), rg.tensor(x)
    seed_both(20)
    same(TF.rrelu(tx, training=True), RF.rrelu(rx, training=True))
    # the noise is drawn as PyTorch draws it; softmax and matmul round in each library's own way
    np.testing.assert_allclose(RF.gumbel_softmax(rx).numpy(), TF.gumbel_softmax(tx).numpy(), atol=1e-6)
    np.testing.assert_allclose(
        RF.scaled_dot_product_attention(rx, rx, rx, dropout_p=0.3).numpy(),
        TF.scaled_dot_product_attention(tx, tx, tx, dropout_p=0.3).numpy(),
        atol=1e-5,
    )
    same_state()


def test_sampler_and_dataloader_order():
    data = list(range(37))
    seed_both(18)
    for _ in range(2):  # each pass draws a fresh seed from the global stream
        assert list(torch.utils.data.RandomSampler(data)) == list(rg.utils.data.RandomSampler(data))
    t_loader = torch.utils.data.DataLoader(data, batch_size=5, shuffle=True)
    r_loader = rg.utils.data.DataLoader(data, batch_size=5, shuffle=True)
    for _ in range(2):
        assert [b.tolist() for b in t_loader] == [b.tolist() for b in r_loader]
    same_state()
    g, h = torch.Generator().manual_seed(3), rg.Generator().manual_seed(3)
    t_loader = torch.utils.data.DataLoader(data, batch_size=4, shuffle=True, generator=g)
    r_loader = rg.utils.data.DataLoader(data, batch_size=4, shuffle=True, generator=h)
    assert [b.tolist() for b in t_loader] == [b.tolist() for b in r_loader]
    assert list(torch.utils.data.SubsetRandomSampler(data[:9])) == list(rg.utils.data.SubsetRandomSampler(data[:9]))
    assert list(torch.utils.data.RandomSampler(data, replacement=True, num_samples=70)) == list(
        rg.utils.data.RandomSampler(data, replacement=True, num_samples=70)
    )
    weights = [0.1, 0.5, 2.0, 1.0]
    assert list(torch.utils.data.WeightedRandomSampler(weights, 12)) == list(
        rg.utils.data.WeightedRandomSampler(weights, 12)
    )
    ts = torch.utils.data.random_split(data, [0.5, 0.5])
    rs = rg.utils.data.random_split(data, [0.5, 0.5])
    assert [list(s.indices) for s in ts] == [list(s.indices) for s in rs]
    same_state()


def test_states_load_across_libraries():
    seed_both(19)
    torch.randn(3, dtype=torch.float64)  # leaves a cached normal in the state
    rg.set_rng_state(rg.tensor(torch.get_rng_state().numpy()))
    same(torch.randn(5, dtype=torch.float64), rg.randn(5, dtype=rg.float64))
    rg.rand(100)
    torch.set_rng_state(torch.from_numpy(rg.get_rng_state().numpy().copy()))
    same(torch.rand(9), rg.rand(9))
    same_state()


def test_seed_and_initial_seed():
    s = rg.seed()
    assert 0 <= s < 2**64 and rg.initial_seed() == s
    torch.manual_seed(s)
    same(torch.rand(4), rg.rand(4))


@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_dropout_in_training(batch_first):
    # every dropout of the layer (attention, residual, feed-forward) draws PyTorch's masks, which
    # needs the attention output in PyTorch's memory layout
    seed_both(2)
    t = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.3, batch_first=batch_first)
    r = rnn.TransformerEncoderLayer(8, 2, 16, 0.3, batch_first=batch_first)
    x = np.random.default_rng(1).standard_normal((5, 3, 8)).astype(np.float32)
    seed_both(3)
    np.testing.assert_allclose(r(rg.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), atol=1e-5)
    same_state()


def test_attention_dropout_with_a_transposed_query():
    # multi-head attention hands SDPA (N, H, L, E) views of (L, N, H, E) memory; with L == E the
    # query's shape equals the weights' and the mask must still be drawn in the weights' order
    x = np.random.default_rng(2).standard_normal((4, 2, 8, 8)).astype(np.float32)
    tq, rq = (
        torch.tensor(x).transpose(1, 2).contiguous().transpose(1, 2),
        rg.tensor(x).transpose(1, 2).contiguous().transpose(1, 2),
    )
    seed_both(21)
    np.testing.assert_allclose(
        RF.scaled_dot_product_attention(rq, rq, rq, dropout_p=0.2).numpy(),
        TF.scaled_dot_product_attention(tq, tq, tq, dropout_p=0.2).numpy(),
        atol=1e-5,
    )
    same_state()


def test_fork_rng_gives_pytorchs_draws_inside_and_after():
    for lib in (torch, rg):
        lib.manual_seed(3)
    with torch.random.fork_rng(devices=[]), rg.random.fork_rng(devices=[]):
        same(torch.randn(7), rg.randn(7))
        same(torch.rand(3, 2), rg.rand(3, 2))
    same(torch.randn(7), rg.randn(7))
    assert torch.random.initial_seed() == rg.random.initial_seed() == 3


def same_bf16(t, r):
    assert t.dtype == torch.bfloat16 and r.dtype == rg.bfloat16
    same(t.float(), r.float())


def test_bfloat16_draws():
    """bfloat16 takes the float draws (uniform values from float32 draws, rounded; one rounding
    up to ``to`` becomes ``from``) and the integer ones on 8 significand bits."""
    seed_both(15)
    for lo, hi in [(0, 1), (-2, 3), (5, 6), (0.5, 100)]:
        same_bf16(
            torch.empty(20000, dtype=torch.bfloat16).uniform_(lo, hi),
            rg.empty(20000, dtype=rg.bfloat16).uniform_(lo, hi),
        )
    same_bf16(torch.rand(7, dtype=torch.bfloat16), rg.rand(7, dtype=rg.bfloat16))
    same_bf16(torch.randn(7, dtype=torch.bfloat16), rg.randn(7, dtype=rg.bfloat16))
    for shape in [(5,), (300,)]:
        t, r = torch.empty(shape, dtype=torch.bfloat16), rg.empty(shape, dtype=rg.bfloat16)
        same_bf16(t.exponential_(2.5), r.exponential_(2.5))
        same_bf16(t.cauchy_(1.0, 0.5), r.cauchy_(1.0, 0.5))
        same_bf16(t.log_normal_(0.2, 0.7), r.log_normal_(0.2, 0.7))
        same_bf16(t.geometric_(0.3), r.geometric_(0.3))
        same_bf16(t.random_(3, 9), r.random_(3, 9))
        same_bf16(t.random_(), r.random_())
        same_bf16(t.random_(100), r.random_(100))
    same_bf16(torch.randint(0, 200, (50,), dtype=torch.bfloat16), rg.randint(0, 200, (50,), dtype=rg.bfloat16))
    same_bf16(torch.randperm(100, dtype=torch.bfloat16), rg.randperm(100, dtype=rg.bfloat16))
    w = np.array([[0.1, 2.0, 0.0, 3.0, 1.0, 0.5], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]])
    tw, rw = torch.tensor(w, dtype=torch.bfloat16), rg.tensor(w, dtype=rg.bfloat16)
    same(torch.multinomial(tw, 1), rg.multinomial(rw, 1))
    same(torch.multinomial(tw, 4), rg.multinomial(rw, 4))
    same(torch.multinomial(tw, 50, replacement=True), rg.multinomial(rw, 50, replacement=True))
    tk, rk = torch.empty(8, 5, dtype=torch.bfloat16), rg.empty(8, 5, dtype=rg.bfloat16)
    same_bf16(tinit.kaiming_uniform_(tk), rinit.kaiming_uniform_(rk))
    same_state()
