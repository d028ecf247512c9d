"""The op table: one entry per op drives forward, gradcheck, gradgradcheck and dtype checks.

The table is split by family into ``table_<family>.py`` files, each with a ``build(rg)`` that
returns a list of ``OpSpec``; ``all_specs`` gathers every family.

Each ``OpSpec`` names the op, the retrograd call, an independent NumPy reference, and sample
inputs (shapes, with value ranges that keep the op smooth). A check that does not apply is
skipped with its reason in ``skip``.
"""
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class OpSpec:
    name: str
    fn: Callable                 # fn(*tensors) -> Tensor (retrograd)
    ref: Callable                # ref(*arrays) -> ndarray (NumPy)
    shapes: list                 # list of input-shape tuples, one per sample
    low: float = -2.0
    high: float = 2.0
    skip: dict = field(default_factory=dict)   # check name -> reason
    atol: float = 1e-5
    rtol: float = 1e-4

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
