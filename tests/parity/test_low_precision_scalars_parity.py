"""float16 and bfloat16 arithmetic with a Python number against PyTorch itself (optional: needs
torch): the results' bits, for each op, dtype and number, on random tensors over several
magnitudes."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

SCALARS = [0.3, 1 / 3, 2.5, -1e-3, 1e4, 257, -7]

OPS = {
    "add": lambda m, x, s: x + s,
    "radd": lambda m, x, s: s + x,
    "sub": lambda m, x, s: x - s,
    "rsub": lambda m, x, s: s - x,
    "mul": lambda m, x, s: x * s,
    "rmul": lambda m, x, s: s * x,
    "div": lambda m, x, s: x / s,
    "rdiv": lambda m, x, s: s / x,
    "fmod": lambda m, x, s: m.fmod(x, s),
    "remainder": lambda m, x, s: m.remainder(x, s),
    "rremainder": lambda m, x, s: s % x,
    "floor_divide": lambda m, x, s: x // s,
    "div_floor": lambda m, x, s: m.div(x, s, rounding_mode="floor"),
    "div_trunc": lambda m, x, s: m.div(x, s, rounding_mode="trunc"),
    "pow": lambda m, x, s: x.abs() ** s,
    "rpow": lambda m, x, s: abs(s) ** x,
    "add_alpha": lambda m, x, s: m.add(x, x.flip(0), alpha=s),
    "sub_alpha": lambda m, x, s: m.sub(x, x.flip(0), alpha=s),
    "add_number_alpha": lambda m, x, s: m.add(x, 3, alpha=s),
    "add_": lambda m, x, s: x.clone().add_(s),
    "sub_": lambda m, x, s: x.clone().sub_(s),
    "mul_": lambda m, x, s: x.clone().mul_(s),
    "div_": lambda m, x, s: x.clone().div_(s),
    "add_alpha_": lambda m, x, s: x.clone().add_(x.flip(0), alpha=s),
    "add_0d": lambda m, x, s: x + m.tensor(s),
    "eq": lambda m, x, s: x == m.tensor(s).to(x.dtype),
    "gt": lambda m, x, s: x > s,
}


def _bits(t):
    a = t.float().numpy() if t.dtype != torch.bool else t.numpy().astype(np.float32)
    return np.where(np.isnan(a), np.float32(np.nan), a).view(np.int32)


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", list(OPS))
def test_number_operand_bits(name, dt):
    g = torch.Generator().manual_seed(0)
    # a multiple of every SIMD width: PyTorch computes add's alpha product in the dtype itself
    # for the elements past the last full vector (its scalar loop), in float32 for the others
    base = torch.randn(2048, generator=g) * torch.tensor([0.01, 1.0, 10.0, 1000.0]).repeat(512)
    t = base.to(getattr(torch, dt))
    r = rg.tensor(t.float().numpy()).to(getattr(rg, dt))
    f = OPS[name]
    with np.errstate(all="ignore"):
        for s in SCALARS:
            want = f(torch, t, s)
            got = f(rg, r, s)
            assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
            w = _bits(want)
            gb = _bits(got.to(rg.float32)) if got.dtype != rg.bool else got.numpy().astype(np.float32).view(np.int32)
            bad = np.flatnonzero(w != gb)
            assert bad.size == 0, f"{name} {dt} {s}: {bad.size} elements differ, first at {bad[:3]}"
