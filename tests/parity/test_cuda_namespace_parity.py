"""torch.cuda on a machine without CUDA: retrograd answers as PyTorch's CPU build does (the same
values, or the same exception types). (``device(None)`` is a no-op as PyTorch documents; its
build raises TypeError there, comparing None with 0.)"""

import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

if rg.cuda.is_available() or torch.cuda.is_available():
    pytest.skip("CUDA is available: these are the answers of a machine without it", allow_module_level=True)

CALLS = {
    "is_available": lambda c: c.is_available(),
    "device_count": lambda c: c.device_count(),
    "is_bf16_supported": lambda c: c.is_bf16_supported(),
    "get_arch_list": lambda c: c.get_arch_list(),
    "get_gencode_flags": lambda c: c.get_gencode_flags(),
    "is_initialized": lambda c: c.is_initialized(),
    "memory_stats": lambda c: dict(c.memory_stats()),
    "memory_allocated": lambda c: c.memory_allocated(),
    "memory_reserved": lambda c: c.memory_reserved(),
    "max_memory_allocated": lambda c: c.max_memory_allocated(),
    "get_rng_state_all": lambda c: c.get_rng_state_all(),
    "seed": lambda c: c.seed(),
    "seed_all": lambda c: c.seed_all(),
    "manual_seed_all": lambda c: c.manual_seed_all(3),
    "current_device": lambda c: c.current_device(),
    "get_device_capability": lambda c: c.get_device_capability(),
    "get_device_properties": lambda c: c.get_device_properties(0),
    "get_device_name": lambda c: c.get_device_name(),
    "mem_get_info": lambda c: c.mem_get_info(),
    "current_stream": lambda c: c.current_stream(),
    "default_stream": lambda c: c.default_stream(),
    "init": lambda c: c.init(),
    "initial_seed": lambda c: c.initial_seed(),
    "get_rng_state": lambda c: c.get_rng_state(),
    "synchronize": lambda c: c.synchronize(),
    "Stream": lambda c: c.Stream(),
    "device(0)": lambda c: c.device(0).__enter__(),
    "device(-1)": lambda c: c.device(-1).__enter__(),
    "FloatTensor(2)": lambda c: c.FloatTensor(2),
    "manual_seed('x')": lambda c: c.manual_seed("x"),
}


def _outcome(f, lib):
    try:
        return "value", f(lib.cuda)
    except Exception as e:
        return "raises", type(e).__name__


@pytest.mark.parametrize("name", sorted(CALLS))
def test_same_answer_as_a_cpu_only_pytorch(name):
    assert _outcome(CALLS[name], rg) == _outcome(CALLS[name], torch)


def test_cuda_seeding_leaves_the_cpu_stream_alone():
    def draws(lib):
        lib.manual_seed(0)
        a = lib.randn(3)
        lib.cuda.manual_seed(7)
        lib.cuda.manual_seed_all(7)
        return [float(v) for v in lib.cat([a, lib.randn(3)])]

    assert draws(rg) == pytest.approx(draws(torch))
