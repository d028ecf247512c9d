"""The random stream follows PyTorch's CPU generator. The pinned values below were produced by
PyTorch 2.13 on the CPU with the same seeds and calls (tests/parity checks many more against
PyTorch itself); the helpers are checked against plain reference computations."""

from fractions import Fraction

import numpy as np
import pytest

import retrograd as rg
from retrograd import _fma, _random_kernels
from retrograd._mt19937 import MT19937


def values(t):
    return [float(v) for v in t.detach().numpy().ravel()]


def test_seeded_stream_pins_pytorch_values():
    rg.manual_seed(0)
    assert values(rg.rand(3)) == [0.49625658988952637, 0.7682217955589294, 0.08847743272781372]
    assert values(rg.randn(3)) == [0.3643381893634796, 0.13439632952213287, 0.16421625018119812]
    block = rg.randn(20).numpy()  # 16 or more: the blockwise Box-Muller path
    assert [float(block[i]) for i in (0, 7, 8, 19)] == [
        -0.20410172641277313,
        -0.4926769733428955,
        0.2484147548675537,
        -1.4688938856124878,
    ]
    block64 = rg.randn(17, dtype=rg.float64).numpy()
    assert [float(block64[0]), float(block64[16])] == [0.2376812444167561, 0.727512359262504]
    assert values(rg.rand(2, dtype=rg.float64)) == [0.6294804827173239, 0.6268684703401436]
    assert rg.randint(0, 10, (8,)).tolist() == [0, 7, 4, 5, 3, 3, 7, 3]
    assert rg.randperm(10).tolist() == [0, 2, 7, 3, 5, 8, 9, 4, 1, 6]
    u = rg.empty(20).uniform_(-0.3, 0.7).numpy()
    assert [float(u[0]), float(u[19])] == [0.5579254031181335, 0.4742029905319214]
    assert rg.empty(12).bernoulli_(0.3).tolist() == [1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0]
    state = rg.get_rng_state().numpy()
    assert state.size == 5056
    assert state[:24].tolist() == [0] * 8 + [191, 1, 0, 0, 1, 0, 0, 0, 178] + [0] * 7
    assert int(state[24:5016].view(np.uint64).sum()) == 1322303873258


def test_dropout_loader_generator_and_init_pins():
    rg.manual_seed(42)
    assert rg.nn.functional.dropout(rg.ones(10), 0.5).tolist() == [2, 2, 2, 2, 0, 2, 0, 0, 2, 2]
    loader = rg.utils.data.DataLoader(list(range(10)), batch_size=4, shuffle=True)
    assert [b.tolist() for b in loader] == [[8, 2, 7, 5], [9, 4, 3, 6], [0, 1]]
    g = rg.Generator().manual_seed(7)
    assert values(rg.randn(2, generator=g, dtype=rg.float64)) == [-0.1467950974849952, 0.7861412987235358]
    assert rg.randperm(5, generator=g).tolist() == [3, 4, 1, 2, 0]
    assert values(rg.empty(2, dtype=rg.float64).exponential_(1.5, generator=g)) == [
        1.7052375662093686,
        1.2198293942759606,
    ]
    assert rg.multinomial(rg.tensor([0.2, 0.3, 0.5]), 6, replacement=True, generator=g).tolist() == [1, 2, 2, 2, 0, 0]
    assert values(rg.nn.Linear(3, 2).weight) == [
        -0.45574307441711426,
        -0.2661644518375397,
        -0.16302913427352905,
        -0.34714481234550476,
        0.05449211969971657,
        -0.5702368021011353,
    ]


def test_state_round_trip_keeps_the_normal_cache():
    rg.manual_seed(5)
    rg.randn(3, dtype=rg.float64)  # an odd count leaves the sine half of the last pair cached
    saved = rg.get_rng_state()
    assert int.from_bytes(saved.numpy()[5040:5044].tobytes(), "little") == 1  # normal_is_valid
    first = rg.randn(4, dtype=rg.float64)
    rg.set_rng_state(saved)
    assert rg.randn(4, dtype=rg.float64).tolist() == first.tolist()
    assert rg.get_rng_state().numpy().tobytes() != saved.numpy().tobytes()


def test_generators_are_independent_and_checked():
    g, h = rg.Generator().manual_seed(3), rg.Generator().manual_seed(3)
    rg.manual_seed(0)
    a = rg.rand(5, generator=g)
    rg.rand(7)
    assert rg.rand(5, generator=h).tolist() == a.tolist()
    assert g.initial_seed() == 3 and rg.initial_seed() == 0
    s = rg.Generator().seed()
    assert 0 <= s < 2**64
    with pytest.raises(TypeError, match="uint8"):
        g.set_state(rg.zeros(5056))
    with pytest.raises(RuntimeError, match="size"):
        g.set_state(rg.zeros(10, dtype=rg.uint8))
    with pytest.raises(TypeError, match="retrograd.Generator"):
        rg.rand(3, generator=object())


def test_negative_and_wide_seeds_wrap_to_64_bits():
    rg.manual_seed(-1)
    assert rg.initial_seed() == 2**64 - 1
    a = rg.rand(4)
    rg.manual_seed(2**32 - 1)  # only the low 32 bits reach the mt19937 state
    assert rg.rand(4).tolist() == a.tolist()
    with pytest.raises(ValueError, match="Overflow"):
        rg.manual_seed(2**64)


def test_bad_arguments_raise_as_pytorch_does():
    with pytest.raises(RuntimeError, match="uniform_"):
        rg.rand(3, dtype=rg.int64)
    with pytest.raises(RuntimeError, match="from=.* > to="):
        rg.empty(3).uniform_(2.0, 1.0)
    with pytest.raises(RuntimeError, match="normal_"):
        rg.empty(3, dtype=rg.int32).normal_()
    with pytest.raises(RuntimeError, match="lambda > 0"):
        rg.empty(3).exponential_(0.0)
    with pytest.raises(RuntimeError, match="in \\(0, 1\\)"):
        rg.empty(3).geometric_(1.0)
    with pytest.raises(RuntimeError, match="std > 0"):
        rg.empty(3).log_normal_(0.0, 0.0)
    with pytest.raises(RuntimeError, match="without replacement"):
        rg.multinomial(rg.tensor([1.0, 2.0]), 3)
    with pytest.warns(UserWarning, match="out of bounds"):
        rg.randint(0, 2**30, (2,), dtype=rg.float32)
    with pytest.raises(TypeError, match="integers"):
        rg.randint(0, 10.0, (3,))
    assert rg.randint(0, rg.tensor(3), (4,)).max().item() < 3


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_draws_are_float32_draws_rounded(dtype):
    """PyTorch computes float16 and bfloat16 samples in float32 from 24-bit uniforms and rounds
    them: a uniform that rounds up to the interval's end becomes its start; a normal tensor of
    n >= 16 draws only its full blocks' uniforms before the last block's fresh 16."""
    low = getattr(rg, dtype)
    rg.manual_seed(3)
    h = rg.rand(50000, dtype=low).float().numpy()
    rg.manual_seed(3)
    f = rg.rand(50000).to(low).float().numpy()
    ends = f == 1
    assert ends.any() and 0 <= h.min() and h.max() < 1  # some round up to 1: they wrap to 0
    np.testing.assert_array_equal(h, np.where(ends, 0, f))
    rg.manual_seed(4)
    n = rg.randn(100, dtype=low).float().numpy()
    rg.manual_seed(4)
    blocks, tail = rg.randn(96), rg.randn(16)  # 96 uniforms, then 16 fresh for the last block
    want = rg.cat([blocks[:84], tail]).to(low).float().numpy()
    np.testing.assert_array_equal(n, want)


def test_bfloat16_is_a_floating_dtype_for_the_random_ops():
    """bfloat16 (NumPy kind "V") takes every float draw: uniform values are float32 draws
    rounded, a value rounding up to ``to`` is taken as ``from`` (the range stays half open)."""
    rg.manual_seed(3)
    u = rg.empty(20000, dtype=rg.bfloat16).uniform_(-2, 3)
    rg.manual_seed(3)
    f = rg.empty(20000).uniform_(-2, 3).numpy()
    want = f.astype(u._data.dtype).astype(np.float32)
    want[want == 3] = -2
    assert u.dtype == rg.bfloat16 and np.array_equal(u.float().numpy(), want)
    assert -2 <= float(u.min()) and float(u.max()) < 3
    x = rg.empty(500, dtype=rg.bfloat16)
    for fill in (lambda: x.normal_(), lambda: x.exponential_(), lambda: x.cauchy_(), lambda: x.log_normal_()):
        assert np.isfinite(fill().float().numpy()).all()
    assert set(x.random_(2, 5).float().tolist()) == {2.0, 3.0, 4.0}
    v = x.random_().float().numpy()  # [0, 2**8]: bfloat16 holds 8 significand bits
    assert v.min() >= 0 and v.max() <= 256 and (v == np.round(v)).all() and v.max() > 200
    with pytest.warns(UserWarning, match="out of bounds"):  # past 2**8, as PyTorch warns
        r = rg.randint(-300, 1000, (400,), dtype=rg.bfloat16).float().numpy()
    assert r.min() >= -300 and r.max() < 1000
    assert sorted(rg.randperm(200, dtype=rg.bfloat16).tolist()) == list(range(200))
    with pytest.raises(RuntimeError, match="too large"):
        rg.randperm(258, dtype=rg.bfloat16)
    p = rg.tensor([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 2.0]], dtype=rg.bfloat16)
    assert rg.multinomial(p, 1)[0].tolist() == [1]
    assert sorted(rg.multinomial(p[1], 2).tolist()) == [2, 3]
    assert set(rg.multinomial(p[0], 5, replacement=True).tolist()) == {1}
    w = rg.empty(4, 6, dtype=rg.bfloat16)
    rg.nn.init.kaiming_uniform_(w)
    rg.nn.init.trunc_normal_(w)
    assert w.dtype == rg.bfloat16 and float(w.abs().max()) <= 2
    with pytest.raises(RuntimeError, match="uniform_"):
        rg.empty(3, dtype=rg.float8_e4m3fn).uniform_()


def test_uniform_stays_half_open_when_values_round_to_the_upper_bound():
    # float32 values 1 + u * 2**-20 round to the bound for u near 1: those become the lower
    # bound, as in PyTorch; bfloat16 draws rounding up to 1 become 0
    hi = 1 + 2**-20
    rg.manual_seed(0)
    x = rg.empty(20000).uniform_(1.0, hi).numpy()
    rg.manual_seed(0)
    raw = rg._random_kernels._uniform(rg._random._engine(None), 20000, np.dtype(np.float32), 1.0, hi)
    hit = raw == np.float32(hi)
    assert hit.sum() > 1000 and x.max() < np.float32(hi)
    np.testing.assert_array_equal(x, np.where(hit, np.float32(1.0), raw))
    rg.manual_seed(0)
    b = rg.rand(5000, dtype=rg.bfloat16).float().numpy()
    rg.manual_seed(0)
    f = rg.rand(5000).numpy()
    up = f.astype(rg.bfloat16.np).astype(np.float32) == 1
    assert up.any() and b.max() < 1
    np.testing.assert_array_equal(b[up], 0.0)


def test_bfloat16_fills_draw_as_float32_and_round():
    # in-place fills take bfloat16 tensors (nn.Linear(dtype=bfloat16) initialises with uniform_):
    # the values are the float32 draws of the same stream, rounded
    for op in [
        lambda t: t.uniform_(-0.5, 2.0),
        lambda t: t.normal_(0.5, 2.0),
        lambda t: t.exponential_(1.5),
        lambda t: t.log_normal_(0.0, 0.5),
        lambda t: t.cauchy_(0.0, 1.0),
        lambda t: t.geometric_(0.3),
    ]:
        for n in (5, 16, 48):
            rg.manual_seed(3)
            want = op(rg.empty(n)).numpy()
            rg.manual_seed(3)
            got = op(rg.empty(n, dtype=rg.bfloat16))
            assert got.dtype == rg.bfloat16
            np.testing.assert_array_equal(got.float().numpy(), want.astype(rg.bfloat16.np).astype(np.float32))
    lin = rg.nn.Linear(6, 4, dtype=rg.bfloat16)
    assert lin.weight.dtype == rg.bfloat16 and float(lin.weight.detach().abs().max()) <= 6**-0.5
    emb = rg.nn.Embedding(5, 3, dtype=rg.bfloat16)
    assert emb.weight.dtype == rg.bfloat16 and emb.weight.float().std().item() > 0


def test_bfloat16_normal_redraws_a_partial_last_block():
    # 16 or more elements: whole blocks of 16 from float32 uniforms; a partial last block is
    # drawn again from 16 new uniforms (only the whole blocks' uniforms are drawn before it)
    rg.manual_seed(5)
    got = rg.randn(37, dtype=rg.bfloat16).float().numpy()
    rg.manual_seed(5)
    head = rg.randn(32).numpy()
    tail = rg.randn(16).numpy()
    want = np.concatenate([head[:21], tail]).astype(rg.bfloat16.np).astype(np.float32)
    np.testing.assert_array_equal(got, want)


def test_bfloat16_random_and_randint_are_integers_in_range():
    rg.manual_seed(0)
    r = rg.empty(400, dtype=rg.bfloat16).random_().float().numpy()
    assert r.min() >= 0 and r.max() <= 256 and np.all(r == np.round(r))  # 8 significand bits
    r = rg.randint(-20, 20, (300,), dtype=rg.bfloat16).float().numpy()
    assert r.min() >= -20 and r.max() < 20 and np.all(r == np.round(r))
    with pytest.warns(UserWarning, match=r"out of bounds \[-\(2\^8\), 2\^8\]"):
        rg.empty(3, dtype=rg.bfloat16).random_(0, 1000)


@pytest.mark.parametrize("dtype", ["float8_e4m3fn", "float8_e5m2"])
def test_float8_random_fills_are_refused(dtype):
    dt = getattr(rg, dtype)
    t = rg.empty(4, dtype=dt)
    for op in ["normal_", "uniform_", "exponential_", "log_normal_", "cauchy_", "random_"]:
        with pytest.raises(NotImplementedError, match=dtype):
            getattr(t, op)()
    for op in ["bernoulli_", "geometric_"]:
        with pytest.raises(NotImplementedError, match=dtype):
            getattr(t, op)(0.5)
    for factory in [rg.rand, rg.randn]:
        with pytest.raises(NotImplementedError, match=dtype):
            factory(3, dtype=dt)


def test_forward_swaps_matches_the_loop():
    rng = np.random.default_rng(0)
    for n in [1, 2, 3, 7, 64, 2000]:
        targets = np.array([i + rng.integers(0, n - i) for i in range(n - 1)], dtype=np.int64)
        a = list(range(n))
        for i, j in enumerate(targets.tolist()):
            a[i], a[j] = a[j], a[i]
        assert _random_kernels.forward_swaps(targets).tolist() == a


def test_fma_helpers_round_once():
    rng = np.random.default_rng(1)
    a32 = rng.standard_normal(3000).astype(np.float32)
    b32, c32 = np.float32(0.3721), np.float32(-1.25)
    got = _fma.fma32(a32, b32, c32)
    exact = [np.float32(float(Fraction(float(x)) * Fraction(float(b32)) + Fraction(float(c32)))) for x in a32]
    assert got.tolist() == [float(v) for v in exact]
    # a product landing exactly half-way between float32 values after float64 rounding
    tie = _fma.fma32(np.array([1 + 2.0**-23], np.float32), np.float32(1 + 2.0**-23), np.float32(2.0**-60))
    want = Fraction(1 + 2**-23) ** 2 + Fraction(2) ** -60
    assert float(tie[0]) == float(np.float32(float(want)))
    a64 = rng.standard_normal(3000)
    got = _fma.fma64(a64, 0.3721, -1.25)
    exact = [float(Fraction(float(x)) * Fraction(0.3721) + Fraction(-1.25)) for x in a64]
    assert got.tolist() == exact


def test_engine_state_bytes_round_trip():
    e = MT19937(123)
    fresh = e.get_state()
    e.random(10)
    mid = e.get_state()
    later = e.random(5).tolist()
    e.set_state(mid)
    assert e.random(5).tolist() == later
    e.set_state(fresh)
    assert e.get_state() == fresh


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normal_draws_the_same_stream_in_any_chunk_size(monkeypatch, dtype):
    def draws(chunk):
        monkeypatch.setattr(_random_kernels, "_CHUNK", chunk)
        eng = MT19937(7)
        return _random_kernels.normal(eng, 16 * 300 + 9, dtype, 0.0, 1.0, True), eng.random(3)

    whole, after = draws(1 << 20)
    for chunk in (16, 16 * 7, 16 * 64):
        part, after_part = draws(chunk)
        assert part.tobytes() == whole.tobytes() and np.array_equal(after, after_part)
