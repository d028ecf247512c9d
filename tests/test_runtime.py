"""Process-level settings (threads, determinism, matmul precision, default device), typename,
can_cast, the window functions, and poisson/binomial sampling."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import retrograd as rg
from retrograd import _runtime


@pytest.fixture
def restore_runtime():
    saved = dict(_runtime._state)
    yield
    _runtime._state.update(saved)
    rg.set_default_device(None)


def test_threads_are_recorded(restore_runtime):
    assert rg.get_num_threads() >= 1 and rg.get_num_interop_threads() >= 1
    rg.set_num_interop_threads(3)
    assert rg.get_num_interop_threads() == 3
    with pytest.raises(RuntimeError, match="positive"):
        rg.set_num_threads(0)
    with pytest.raises(TypeError):
        rg.set_num_threads(1.5)


def _blas_threads_in_fresh_process(code, **env):
    """Run ``code`` after ``import retrograd`` in a new interpreter whose environment sizes no
    thread pool except through ``env``; return what NumPy's BLAS libraries report."""
    clean = {k: v for k, v in os.environ.items() if k not in _runtime.THREAD_ENV_VARS}
    script = (
        "import retrograd, json\n" + code + "\nfrom threadpoolctl import threadpool_info\n"
        "print(json.dumps([p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env={**clean, **env}, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    return json.loads(out.splitlines()[-1])


def test_blas_pool_starts_at_one_thread_and_set_num_threads_resizes_it():
    counts = _blas_threads_in_fresh_process("")
    assert counts and set(counts) == {1}, counts
    counts = _blas_threads_in_fresh_process("retrograd.set_num_threads(2); assert retrograd.get_num_threads() == 2")
    assert set(counts) == {2}, counts


def test_an_environment_thread_setting_is_left_alone():
    counts = _blas_threads_in_fresh_process("", OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2", MKL_NUM_THREADS="2")
    assert set(counts) == {2}, counts


def test_determinism_flags(restore_runtime):
    assert not rg.are_deterministic_algorithms_enabled() and rg.get_deterministic_debug_mode() == 0
    rg.use_deterministic_algorithms(True, warn_only=True)
    assert rg.are_deterministic_algorithms_enabled() and rg.is_deterministic_algorithms_warn_only_enabled()
    assert rg.get_deterministic_debug_mode() == 1
    rg.set_deterministic_debug_mode("error")
    assert rg.get_deterministic_debug_mode() == 2 and not rg.is_deterministic_algorithms_warn_only_enabled()
    rg.set_deterministic_debug_mode(0)
    assert not rg.are_deterministic_algorithms_enabled()
    with pytest.raises(RuntimeError, match="debug_mode"):
        rg.set_deterministic_debug_mode("loud")


def test_matmul_precision(restore_runtime):
    assert rg.get_float32_matmul_precision() == "highest"
    rg.set_float32_matmul_precision("high")
    assert rg.get_float32_matmul_precision() == "high"
    with pytest.warns(UserWarning, match="no effect"):
        rg.set_float32_matmul_precision("low")
    assert rg.get_float32_matmul_precision() == "high"


def test_default_device(restore_runtime):
    assert rg.get_default_device() == rg.device("cpu")
    rg.set_default_device("cpu")
    assert rg.zeros(2).device.type == "cpu" and rg.tensor([1.0]).device.type == "cpu"
    rg.set_default_device(None)
    assert rg.get_default_device().type == "cpu"


def test_typename_and_can_cast():
    assert rg.typename(rg.ones(1)) == rg.ones(1).type()
    assert rg.typename(3) == "int"
    assert rg.typename(rg.nn.Linear) == "retrograd.nn.modules.linear.Linear"
    expected = {
        (rg.float64, rg.int32): False,
        (rg.int64, rg.uint8): True,
        (rg.bool, rg.float16): True,
        (rg.int8, rg.bool): False,
        (rg.float64, rg.float16): True,
        (rg.uint8, rg.int8): True,
    }
    for (a, b), ok in expected.items():
        assert rg.can_cast(a, b) is ok, (a, b)


@pytest.mark.parametrize(
    "name, ref",
    [
        ("hann_window", np.hanning),
        ("hamming_window", np.hamming),
        ("blackman_window", np.blackman),
        ("bartlett_window", np.bartlett),
        ("kaiser_window", lambda n: np.kaiser(n, 12.0)),
    ],
)
def test_windows(name, ref):
    fn = getattr(rg, name)
    np.testing.assert_allclose(fn(6, periodic=False, dtype=rg.float64).numpy(), ref(6), atol=1e-12)
    np.testing.assert_allclose(fn(6, dtype=rg.float64).numpy(), ref(7)[:-1], atol=1e-12)
    assert fn(1).tolist() == [1.0] and fn(0).shape == (0,) and fn(4).dtype == rg.float32
    with pytest.raises(RuntimeError, match="floating point"):
        fn(3, dtype=rg.int64)


def test_window_parameters():
    np.testing.assert_allclose(
        rg.hamming_window(5, False, 0.5, 0.5, dtype=rg.float64).numpy(), np.hanning(5), atol=1e-12
    )
    np.testing.assert_allclose(rg.kaiser_window(5, False, 5.0, dtype=rg.float64).numpy(), np.kaiser(5, 5.0), atol=1e-12)


def test_poisson_and_binomial():
    rg.manual_seed(3)
    rates = rg.full((4000,), 3.0)
    s = rg.poisson(rates)
    assert s.dtype == rg.float32 and (s >= 0).all() and (s == s.round()).all()
    assert abs(s.mean().item() - 3.0) < 0.2
    rg.manual_seed(3)
    assert rg.equal(rg.poisson(rates), s)
    b = rg.binomial(rg.full((4000,), 10.0), rg.full((4000,), 0.3))
    assert (b >= 0).all() and (b <= 10).all() and abs(b.mean().item() - 3.0) < 0.2
    with pytest.raises(RuntimeError, match="prob"):
        rg.binomial(rg.ones(2), rg.tensor([0.5, 1.5]))
    with pytest.raises(RuntimeError, match="non-negative"):
        rg.poisson(rg.tensor([-1.0]))
