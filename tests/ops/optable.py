"""The op table: one entry per op drives forward, gradcheck, gradgradcheck and dtype checks.

The table is split by family into ``table_<family>.py`` files, each with a ``build(rg)`` that
returns a list of ``OpSpec``; ``all_specs`` gathers every family.

Each ``OpSpec`` names the op, the call (written against the library module passed to ``build``,
so ``build(torch)`` gives the same specs for PyTorch), an independent NumPy reference, and sample
inputs (shapes, with value ranges that keep the op smooth). ``grad`` says what backward must do
(see ``GRAD_KINDS``); the table checks it for every spec, so an output detached by mistake fails.
A check that does not apply is skipped with its reason in ``skip``: "gradcheck", "gradgradcheck",
"forward_ad" (forward mode against reverse mode, where the two legitimately differ),
"dtype", and for the comparison with PyTorch "parity" (the whole spec) or "parity_grad" (the
gradients only), each naming the difference.
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


GRAD_KINDS = {
    "nonzero": "the result records a node and some sample has a non-zero gradient",
    "zero": "the result records a node and every gradient is zero (floor, sign, ...)",
    "none": "the result does not require grad (integer or boolean results, ...)",
    "raises": "the result records a node and backward raises (no derivative exists)",
}


@dataclass
class OpSpec:
    name: str
    fn: Callable  # fn(*tensors) -> Tensor
    ref: Callable  # ref(*arrays) -> ndarray (NumPy)
    shapes: list  # list of input-shape tuples, one per sample
    low: float = -2.0
    high: float = 2.0
    skip: dict = field(default_factory=dict)  # check name -> reason
    atol: float = 1e-5
    rtol: float = 1e-4
    grad: str = "nonzero"  # one of GRAD_KINDS

    def __post_init__(self):
        if self.grad not in GRAD_KINDS:
            raise ValueError(f"OpSpec {self.name}: grad={self.grad!r} is not one of {sorted(GRAD_KINDS)}")

    def samples(self, rng, dtype=np.float64):
        for shapes in self.shapes:
            yield [rng.uniform(self.low, self.high, s).astype(dtype) for s in shapes]


def all_specs(rg):
    """Every OpSpec of every ``table_*.py`` family file in this folder, in file order."""
    import importlib
    import pathlib

    specs = []
    for path in sorted(pathlib.Path(__file__).parent.glob("table_*.py")):
        module = importlib.import_module(f"{__package__}.{path.stem}")
        specs.extend(module.build(rg))
    return specs
