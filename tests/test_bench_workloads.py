"""The benchmark suite's workloads build and run one step under retrograd, from the inputs the
worker hands each library (bench/worker.py): a workload that fails there is missing from every
benchmark table."""

import os
import sys

import numpy as np
import pytest

import retrograd

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
sys.path.insert(0, BENCH)
import worker  # noqa: E402
import workloads  # noqa: E402

sys.path.remove(BENCH)


def test_own_copy_copies_arrays_and_keeps_plain_values():
    data = {"x": np.arange(3.0), "n": 5}
    own = worker.own_copy(data)
    own["x"][0] = 7
    assert data["x"][0] == 0 and own["n"] == 5


@pytest.mark.parametrize("name", sorted(workloads.WORKLOADS))
def test_workload_runs_a_step(name):
    step = workloads.build(name, retrograd, worker.own_copy(workloads.make_data(name)))
    step()
