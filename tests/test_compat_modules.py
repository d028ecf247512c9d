"""Modules training scripts import before their first step: accelerator, backends, testing,
multiprocessing, jit, onnx, hub, utils.tensorboard."""

import importlib
import pickle
import subprocess
import sys

import pytest

import retrograd as rg
from retrograd import multiprocessing as rmp


def test_new_modules_load_lazily():
    code = (
        "import sys, retrograd; names = ['accelerator', 'testing', 'multiprocessing', 'jit', 'onnx', "
        "'hub', 'fx', 'backends']; print([n for n in names if 'retrograd.' + n in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_accelerator_answers_for_cuda_through_cupy():
    if rg.cuda.is_available():
        assert rg.accelerator.is_available() and rg.accelerator.current_accelerator() == rg.device("cuda")
        assert rg.accelerator.device_count() == rg.cuda.device_count()
        assert rg.accelerator.current_device_index() == rg.cuda.current_device()
        return
    assert rg.accelerator.is_available() is False
    assert rg.accelerator.current_accelerator() is None
    assert rg.accelerator.current_accelerator(check_available=True) is None
    assert rg.accelerator.device_count() == 0
    for call in (
        rg.accelerator.current_device_index,
        rg.accelerator.synchronize,
        lambda: rg.accelerator.set_device_index(0),
        lambda: rg.accelerator.device_index(0).__enter__(),
    ):
        with pytest.raises(RuntimeError, match="no accelerator"):
            call()
    with rg.accelerator.device_index(None):  # no switch asked for: nothing needed
        pass


def test_assert_allclose_is_deprecated_with_its_own_tolerances():
    t = rg.tensor
    with pytest.warns(FutureWarning, match="assert_close"):
        rg.testing.assert_allclose(t([1.0]), t([1.00005]))  # float32: rtol 1e-4 (assert_close: 1.3e-6)
    with pytest.raises(AssertionError):
        rg.testing.assert_allclose(t([1.0]), t([1.0002]))
    with pytest.raises(AssertionError):
        rg.testing.assert_close(t([1.0]), t([1.00005]))
    d = rg.float64
    rg.testing.assert_allclose(t([0.0], dtype=d), t([5e-9], dtype=d))  # float64: atol 1e-8
    with pytest.raises(AssertionError):
        rg.testing.assert_allclose(t([0.0], dtype=d), t([2e-8], dtype=d))
    rg.testing.assert_allclose(t([float("nan")]), t([float("nan")]))  # NaNs equal by default
    rg.testing.assert_allclose([1.0, 2.0], [1.0, 2.0])  # numbers become tensors
    rg.testing.assert_allclose(t([1, 2]), t([1.0, 2.0]))  # no dtype check
    with pytest.raises(AssertionError, match="^custom$"):
        rg.testing.assert_allclose(t([1.0]), t([2.0]), msg="custom")


def test_default_backend_for_device_is_mpi():
    assert rg.distributed.get_default_backend_for_device("cpu") == "mpi"
    assert rg.distributed.get_default_backend_for_device(rg.device("cuda")) == "mpi"
    with pytest.raises(ValueError, match="meta"):
        rg.distributed.get_default_backend_for_device("meta")


def test_backends_is_a_package_of_flag_modules():
    cudnn = importlib.import_module("retrograd.backends.cudnn")
    assert rg.backends.cudnn is cudnn
    assert cudnn.is_available() is False and cudnn.version() is None
    saved = cudnn.benchmark, cudnn.deterministic
    try:
        cudnn.benchmark, cudnn.deterministic = True, True
        assert rg.backends.cudnn.benchmark and rg.backends.cudnn.deterministic
        with cudnn.flags(enabled=False, benchmark=False, deterministic=False, allow_tf32=False):
            assert not cudnn.enabled and not cudnn.allow_tf32 and not cudnn.benchmark
        assert cudnn.enabled and cudnn.allow_tf32 and cudnn.benchmark
    finally:
        cudnn.benchmark, cudnn.deterministic = saved
    import retrograd.backends.cuda as bcuda

    bcuda.matmul.allow_tf32 = True
    assert rg.backends.cuda.matmul.allow_tf32
    bcuda.matmul.allow_tf32 = False
    with pytest.raises(AttributeError):
        bcuda.matmul.allow_tf33 = True  # a misspelt flag is an error, not a new attribute
    assert rg.backends.mps.is_available() is False and rg.backends.mps.is_built() is False
    assert rg.backends.mkldnn.is_available() is False and rg.backends.openmp.is_available() is False
    assert rg.backends.cpu.get_cpu_capability() == "DEFAULT"


# ------------------------------------------------------------------ testing.assert_close
def test_assert_close_default_tolerances_per_dtype():
    close = rg.testing.assert_close
    close(rg.ones(3), rg.ones(3) + 5e-6)  # float32: atol 1e-5
    close(rg.tensor([1000.0]), rg.tensor([1000.001]))  # float32: rtol 1.3e-6
    with pytest.raises(AssertionError):
        close(rg.ones(3, dtype=rg.float64), rg.ones(3, dtype=rg.float64) + 5e-6)  # float64: 1e-7
    close(rg.ones(2, dtype=rg.float16), rg.ones(2, dtype=rg.float16) * (1 + 2**-10))
    with pytest.raises(AssertionError, match="not equal"):
        close(rg.tensor([1, 2]), rg.tensor([1, 3]))  # integers: exact
    close(rg.ones(2), rg.ones(2) + 0.05, rtol=0.0, atol=0.1)
    close(1.0, 1.0 + 1e-8)
    with pytest.raises(AssertionError, match="Scalars are not close"):
        close(1.0, 1.1)


def test_assert_close_messages():
    with pytest.raises(AssertionError) as e:
        rg.testing.assert_close(rg.tensor([1.0, 2.0, 3.0]), rg.tensor([1.0, 2.5, 3.0]))
    text = str(e.value)
    assert text.startswith("Tensor-likes are not close!")
    assert "Mismatched elements: 1 / 3 (33.3%)" in text
    assert "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)" in text
    assert "Greatest relative difference: 0.2 at index (1,) (up to 1.3e-06 allowed)" in text
    with pytest.raises(AssertionError, match=r"'dtype' do not match: retrograd.float32 != retrograd.float64"):
        rg.testing.assert_close(rg.ones(2), rg.ones(2, dtype=rg.float64))
    rg.testing.assert_close(rg.ones(2), rg.ones(2, dtype=rg.float64), check_dtype=False)
    with pytest.raises(AssertionError, match=r"'shape' do not match: \[2\] != \[3\]"):
        rg.testing.assert_close(rg.ones(2), rg.ones(3))
    with pytest.raises(AssertionError, match=r"item \['b'\]\[1\]"):
        rg.testing.assert_close({"a": rg.ones(1), "b": [1, 2]}, {"a": rg.ones(1), "b": [1, 3]})
    with pytest.raises(AssertionError, match="^custom$"):
        rg.testing.assert_close(rg.ones(1), rg.zeros(1), msg="custom")
    with pytest.raises(AssertionError, match="^got: Tensor-likes"):
        rg.testing.assert_close(rg.ones(1), rg.zeros(1), msg=lambda m: "got: " + m)


def test_assert_close_nan_inf_and_bad_input():
    nan, inf = float("nan"), float("inf")
    with pytest.raises(AssertionError):
        rg.testing.assert_close(rg.tensor([nan]), rg.tensor([nan]))
    rg.testing.assert_close(rg.tensor([nan, inf]), rg.tensor([nan, inf]), equal_nan=True)
    with pytest.raises(AssertionError):
        rg.testing.assert_close(rg.tensor([inf]), rg.tensor([-inf]))
    with pytest.raises(ValueError, match="rtol.*atol"):
        rg.testing.assert_close(rg.ones(1), rg.ones(1), rtol=1e-3)
    with pytest.raises(TypeError, match="cannot compare"):
        rg.testing.assert_close(rg.ones(1), 1.0)
    with pytest.raises(AssertionError, match="length"):
        rg.testing.assert_close([1, 2], [1])


# ------------------------------------------------------------------ multiprocessing
def _put_double(rank, queue, t):
    queue.put((rank, t * 2))


def _fail_on_one(rank):
    if rank == 1:
        raise ValueError("rank one fails")


def test_multiprocessing_reexports_the_standard_library():
    import multiprocessing

    for name in ("Process", "Queue", "Pool", "get_context", "SimpleQueue", "cpu_count"):
        assert getattr(rmp, name) is getattr(multiprocessing, name)


def test_tensors_cross_processes_by_value_and_spawn_runs_each_rank():
    ctx = rmp.get_context("spawn")
    queue = ctx.SimpleQueue()
    t = rg.tensor([1.0, 2.0], dtype=rg.float64)
    rmp.spawn(_put_double, args=(queue, t), nprocs=2)
    got = dict(queue.get() for _ in range(2))
    assert sorted(got) == [0, 1]
    assert all(v.dtype == rg.float64 and v.tolist() == [2.0, 4.0] for v in got.values())


def test_spawn_reports_a_failing_rank():
    with pytest.raises(rmp.ProcessRaisedException, match="rank one fails"):
        rmp.spawn(_fail_on_one, nprocs=2)
    with pytest.raises(ValueError, match="nprocs"):
        rmp.spawn(_fail_on_one, nprocs=0)
    with pytest.raises(ValueError, match="start_method"):
        rmp.spawn(_fail_on_one, start_method="fork")


def test_sharing_strategy_is_checked():
    assert rmp.get_sharing_strategy() in rmp.get_all_sharing_strategies()
    with pytest.raises(ValueError, match="unknown strategy"):
        rmp.set_sharing_strategy("shm")
    exc = rmp.ProcessRaisedException("m", 1, 7)
    assert pickle.loads(pickle.dumps(exc)).pid == 7


# ------------------------------------------------------------------ jit, onnx, hub
def test_jit_returns_what_it_is_given():
    model = rg.nn.Linear(2, 1)

    @rg.jit.script
    def f(x):
        return x + 1

    @rg.jit.ignore
    def g(x):
        return x

    assert rg.jit.script(model) is model and rg.jit.trace(model, rg.ones(1, 2)) is model
    assert f(rg.ones(1)).tolist() == [2.0] and g(3) == 3 and rg.jit.ignore(drop=True)(g) is g
    assert rg.jit.is_scripting() is False and rg.jit.wait(rg.jit.fork(f, rg.zeros(1))).tolist() == [1.0]
    with pytest.raises(NotImplementedError, match="retrograd.save"):
        rg.jit.save(model, "m.pt")


def test_onnx_and_hub_raise_on_use():
    assert rg.onnx.is_in_onnx_export() is False
    with pytest.raises(NotImplementedError, match="ONNX export is not supported"):
        rg.onnx.export(rg.nn.Linear(2, 1), rg.ones(1, 2), "m.onnx")
    with pytest.raises(RuntimeError, match="no network"):
        rg.hub.load("pytorch/vision", "resnet18")
    with pytest.raises(RuntimeError, match="no network"):
        rg.hub.load_state_dict_from_url("https://example.com/w.pth")


# ------------------------------------------------------------------ tensorboard
def test_tensorboard_without_the_package_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    monkeypatch.delitem(sys.modules, "retrograd.utils.tensorboard", raising=False)
    monkeypatch.delitem(sys.modules, "retrograd.utils.tensorboard._writer", raising=False)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        importlib.import_module("retrograd.utils.tensorboard")


def test_summary_writer_writes_events(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from retrograd.utils.tensorboard import SummaryWriter

    with SummaryWriter(tmp_path) as w:
        w.add_scalar("loss", rg.tensor(0.5), 1)
        w.add_scalar("loss", 0.25, 2)
        w.add_text("note", "hello", 0)
        w.add_scalars("run", {"a": 1.0, "b": 2.0}, 3)
        with pytest.raises(ValueError, match="single value"):
            w.add_scalar("bad", rg.ones(2))
        with pytest.raises(TypeError, match="a str"):
            w.add_text("bad", 3)
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [(1, 0.5), (2, 0.25)]
    assert (tmp_path / "run_a").is_dir() and (tmp_path / "run_b").is_dir()


def test_hub_cache_dir_and_hash_regex(monkeypatch, tmp_path):
    """get_dir/set_dir name the local cache as PyTorch's do; HASH_REGEX reads a file's hash."""
    import os

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(rg.hub, "_hub_dir", None)
    assert rg.hub.get_dir() == os.path.join(str(tmp_path), "hub")
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert rg.hub.get_dir() == os.path.join(str(tmp_path / "xdg"), "torch", "hub")
    rg.hub.set_dir(str(tmp_path / "mine"))
    assert rg.hub.get_dir() == str(tmp_path / "mine")
    assert rg.hub.HASH_REGEX.search("resnet18-5c106cde.pth").group(1) == "5c106cde"
    assert rg.hub.urlparse("https://a.b/c/w.pth").path == "/c/w.pth"


def test_jit_annotations_module_has_the_typing_names():
    import typing

    from retrograd.jit.annotations import BroadcastingList2, Dict, List, Optional, Tuple

    assert (List, Dict, Optional, Tuple) == (typing.List, typing.Dict, typing.Optional, typing.Tuple)
    assert BroadcastingList2[int] == typing.List[int]


def test_fx_wrap_returns_its_argument_and_tracing_raises():
    @rg.fx.wrap
    def leaf(x):
        return x + 1

    assert leaf(1) == 2 and rg.fx.wrap("len") == "len"
    assert {"leaf", "len"} <= rg.fx._wrapped
    with pytest.raises(TypeError, match="function or a function's name"):
        rg.fx.wrap(3)
    with pytest.raises(NotImplementedError, match="symbolic tracing is not supported"):
        rg.fx.symbolic_trace(rg.nn.Linear(2, 2))
    with pytest.raises(AttributeError, match="has only wrap"):
        rg.fx.GraphModule  # noqa: B018
