"""retrograd.cuda and retrograd.backends answer what PyTorch scripts ask, with or without a GPU."""

import importlib.util

import pytest

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


def test_cuda_manual_seed_seeds_the_generator_cuda_draws_from():
    rg.manual_seed(0)
    a = rg.randn(3)
    rg.cuda.manual_seed(5)
    b = rg.randn(3)
    rg.cuda.manual_seed_all(5)
    c = rg.randn(3)
    if rg.cuda.is_available():  # cuda tensors draw from the default generator: it is reseeded
        assert rg.equal(b, c)
    else:  # nothing starts CUDA: the CPU stream goes on (PyTorch queues the call, never run)
        rg.manual_seed(0)
        assert rg.equal(rg.randn(9), rg.cat([a, b, c]))
    with pytest.raises(ValueError):  # the argument is checked as PyTorch does, CUDA or not
        rg.cuda.manual_seed("x")
    with pytest.raises(TypeError):
        rg.cuda.manual_seed(None)


def test_without_cuda_the_answers_of_a_cpu_only_build():
    if rg.cuda.is_available():
        pytest.skip("CUDA is available")
    c = rg.cuda
    assert c.is_bf16_supported() is False and c.get_arch_list() == [] and c.get_gencode_flags() == ""
    assert c.memory_stats() == {} and c.is_initialized() is False and "not started" in c.memory_summary()
    assert c.get_rng_state_all() == [] and c.seed() is None and c.seed_all() is None
    assert c.set_rng_state(rg.zeros(5, dtype=rg.uint8)) is None and c.set_rng_state_all([]) is None
    for f in (
        c.current_device,
        c.get_device_capability,
        c.get_device_properties,
        c.get_device_name,
        c.mem_get_info,
        c.current_stream,
        c.default_stream,
        c.init,
        c.initial_seed,
        c.get_rng_state,
        c.synchronize,
        lambda: c.set_device(0),
    ):
        with pytest.raises(AssertionError, match="CUDA is not available"):
            f()
    for f in (c.Event, c.Stream, lambda: c.device(0).__enter__()):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            f()
    with c.device(None), c.device(-1), c.device_of(rg.zeros(1)), c.stream(None):
        pass  # no device asked for: nothing to do
    with pytest.raises(TypeError, match="not available"):
        c.FloatTensor(3)
    assert not isinstance(rg.zeros(2), c.FloatTensor) and isinstance(rg.zeros(2), rg.FloatTensor)
    assert c.LongTensor.dtype == rg.int64 and c.BoolTensor.dtype == rg.bool
    with pytest.warns(FutureWarning, match="memory_reserved"):
        assert c.memory_cached() == 0
    with pytest.warns(FutureWarning, match="max_memory_reserved"):
        assert c.max_memory_cached() == 0


def test_out_of_memory_error_is_one_class_and_cupys_is_converted():
    from retrograd.backend import _converting_allocator

    assert rg.OutOfMemoryError is rg.cuda.OutOfMemoryError and issubclass(rg.OutOfMemoryError, RuntimeError)

    class CupyOOM(MemoryError):
        pass

    def malloc(size):
        if size > 10:
            raise CupyOOM(f"Out of memory allocating {size} bytes")
        return ("pointer", size)

    allocate = _converting_allocator(malloc, CupyOOM)
    assert allocate(4) == ("pointer", 4)
    with pytest.raises(rg.cuda.OutOfMemoryError, match="CUDA out of memory: Out of memory allocating 11") as info:
        allocate(11)
    assert isinstance(info.value.__cause__, CupyOOM)


def test_with_cuda_devices_streams_and_events():
    if not rg.cuda.is_available():
        pytest.skip("CUDA is not available")
    c = rg.cuda
    major, minor = c.get_device_capability()
    p = c.get_device_properties(0)
    assert (p.major, p.minor) == (major, minor) and p.total_memory > 0 and p.name == c.get_device_name()
    free, total = c.mem_get_info()
    assert 0 < free <= total == p.total_memory
    assert c.is_initialized() and set(c.memory_stats()) >= {"allocated_bytes.all.current"}
    with c.device(0), c.device_of(rg.zeros(1, device="cuda")):
        assert c.current_device() == 0
    s = c.Stream()
    start, end = c.Event(enable_timing=True), c.Event(enable_timing=True)
    with c.stream(s):
        start.record()
        x = rg.ones(256, 256, device="cuda") @ rg.ones(256, 256, device="cuda")
        end.record()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) >= 0 and float(x[0, 0]) == 256
    c.current_stream().wait_stream(s)
    c.synchronize()
    assert isinstance(rg.ones(2, device="cuda"), c.FloatTensor) and c.LongTensor(2).device.type == "cuda"


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
