"""retrograd.cuda and retrograd.backends answer what PyTorch scripts ask, with or without a GPU."""

import importlib.util

import retrograd as rg


def test_is_available_is_false_without_cupy_and_a_bool_otherwise():
    available = rg.cuda.is_available()
    assert isinstance(available, bool)
    if importlib.util.find_spec("cupy") is None:
        assert not available and rg.cuda.device_count() == 0
    device = "cuda" if rg.cuda.is_available() else "cpu"
    assert rg.zeros(2, device=device).device.type == device


def test_backend_flags_are_settable():
    rg.backends.cudnn.benchmark = True
    assert rg.backends.cudnn.benchmark
    rg.backends.cudnn.benchmark = False
    assert rg.backends.mps.is_available() is False


def test_cuda_manual_seed_seeds_the_generator():
    rg.cuda.manual_seed(5)
    a = rg.randn(3)
    rg.cuda.manual_seed_all(5)
    assert rg.equal(a, rg.randn(3))


def test_memory_statistics():
    names = ("memory_allocated", "memory_reserved", "max_memory_allocated", "max_memory_reserved")
    if importlib.util.find_spec("cupy") is None:  # no cuda memory was ever allocated: 0, as PyTorch
        assert all(getattr(rg.cuda, n)() == 0 for n in names)
        assert rg.cuda.reset_peak_memory_stats() is None and rg.cuda.reset_max_memory_allocated() is None
        return
    import pytest

    assert rg.cuda.memory_allocated() <= rg.cuda.memory_reserved()
    with pytest.raises(NotImplementedError, match="peak"):
        rg.cuda.max_memory_allocated()
