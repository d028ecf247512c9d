"""Bad input raises the exception type PyTorch raises (``bad_input_cases.CASES``, checked against
PyTorch itself by ``tests/parity/test_bad_input_parity.py``), with messages that name the op and
the shapes, and never a NumPy warning in place of an error; inputs PyTorch accepts silently
(float division by zero, log(0)) give their values without NumPy warnings."""

import warnings

import numpy as np
import pytest

import retrograd as rg

from .bad_input_cases import CASES

_NUMPY_WARNING = ("encountered in",)


def _numpy_warnings(caught):
    return [str(w.message) for w in caught if any(s in str(w.message) for s in _NUMPY_WARNING)]


@pytest.mark.parametrize("name,call,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_pytorchs_exception_type(name, call, expected):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(expected):
            call(rg)
    assert not _numpy_warnings(caught), name


@pytest.mark.parametrize(
    "call,words",
    [
        (lambda: rg.ones(2, 3) + rg.ones(4), ["add", "tensor a (3)", "tensor b (4)", "dimension 1", "[2, 3]", "[4]"]),
        (lambda: rg.ones(2, 3, requires_grad=True) * rg.ones(3, 2), ["mul", "[2, 3]", "[3, 2]"]),
        (lambda: rg.ones(5, 2, 3) < rg.ones(4, 1, 3), ["less", "tensor a (5)", "tensor b (4)", "dimension 0"]),
        (lambda: rg.where(rg.ones(3) > 0, rg.ones(2, 3), rg.ones(4)), ["where", "[2, 3]", "[4]"]),
        (lambda: rg.broadcast_tensors(rg.ones(2, 3), rg.ones(4)), ["broadcast_tensors", "[2, 3]", "[4]"]),
        (lambda: rg.ones(2, 3) @ rg.ones(3, 2, dtype=rg.float64), ["matmul", "float32", "float64", "[2, 3]"]),
        (lambda: rg.addmm(rg.ones(2, 2, dtype=rg.float64), rg.ones(2, 3), rg.ones(3, 2)), ["addmm", "float64"]),
        (lambda: rg.ones(3, dtype=rg.int64) // 0, ["ZeroDivisionError", "floor_divide", "[3]"]),
        (lambda: rg.fmod(rg.ones(2, dtype=rg.int32), rg.zeros(2, dtype=rg.int32)), ["ZeroDivisionError", "fmod"]),
        (lambda: rg.arange(0, 10, -1), ["arange", "inconsistent with step sign", "step=-1"]),
        (lambda: rg.empty(2**45), ["not enough memory", "[35184372088832]", "float32"]),
        (lambda: rg.ones(3).expand(2**45, 3).contiguous(), ["clone", "not enough memory", "[35184372088832, 3]"]),
        (lambda: rg.tensor([300], dtype=rg.uint8), ["uint8", "300"]),
    ],
)
def test_messages_name_the_op_and_shapes(call, words):
    with pytest.raises(RuntimeError) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_broadcast_error_does_not_chain_numpys_error():
    with pytest.raises(RuntimeError) as info:
        rg.ones(2, 3) - rg.ones(4)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_other_forward_value_errors_pass_through_unchanged():
    # only NumPy's broadcast and allocation errors are translated
    with pytest.raises(ValueError, match="dropout probability"):
        rg.nn.functional.dropout(rg.ones(3), p=2.0)


# --------------------------------------------------------------------------- silent in PyTorch
@pytest.mark.parametrize(
    "call,expected",
    [
        (lambda: rg.ones(3) / 0, [np.inf] * 3),
        (lambda: rg.zeros(2) / rg.zeros(2), [np.nan] * 2),
        (lambda: rg.tensor([5]) / 0, [np.inf]),
        (lambda: rg.ones(2) // 0, [np.inf] * 2),
        (lambda: rg.ones(2) % 0, [np.nan] * 2),
        (lambda: rg.fmod(rg.ones(2), 0), [np.nan] * 2),
        (lambda: rg.tensor([5]) // 0.0, [np.inf]),
        (lambda: rg.log(rg.zeros(1)), [-np.inf]),
        (lambda: rg.sqrt(-rg.ones(1)), [np.nan]),
        (lambda: rg.exp(rg.tensor([1000.0])), [np.inf]),
        (lambda: rg.tensor([3e38]) * 10, [np.inf]),
        (lambda: rg.tensor([1e40], dtype=rg.float32), [np.inf]),
        (lambda: rg.tensor([-(2**63)]) // -1, [-(2**63)]),
    ],
)
def test_float_edge_values_without_numpy_warnings(call, expected):
    with warnings.catch_warnings(record=True) as caught:
        # pytest collected this module inside its own catch_warnings, which dropped the filter
        # installed at import: the first op installs it again
        warnings.filterwarnings("always")
        out = call()
    np.testing.assert_array_equal(out.numpy(), np.array(expected, dtype=out.numpy().dtype))
    assert not _numpy_warnings(caught)


def test_float_gradient_through_division_by_zero_without_numpy_warnings():
    x = rg.tensor([1.0, 0.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always")
        (x / 0).sum().backward()
    assert not _numpy_warnings(caught)
    assert np.isinf(x.grad.numpy()).all()


# --------------------------------------------------------------------------- PyTorch's values
def test_integer_pow_with_negative_tensor_exponents_truncates_like_pytorch():
    base = rg.tensor([2, 3, 0, 1, -1, -1, 5])
    exp = rg.tensor([-1, -2, -1, -3, -1, -2, 2])
    assert (base**exp).tolist() == [0, 0, 0, 1, -1, 1, 25]
    assert rg.pow(2, rg.tensor([-1, 3])).tolist() == [0, 8]


def test_negative_ints_wrap_into_unsigned_dtypes_as_in_pytorch():
    assert rg.tensor([-1, -255], dtype=rg.uint8).tolist() == [255, 1]
    assert rg.full((2,), -1, dtype=rg.uint8).tolist() == [255, 255]
    assert rg.tensor([1.5, 2**70]).tolist() == [1.5, float(2**70)]  # a float makes it all float
    assert rg.tensor([2**63], dtype=rg.float32).item() == float(2**63)
    assert rg.tensor([2**63 - 1]).item() == 2**63 - 1


def test_arange_edges_pytorch_accepts():
    assert rg.arange(5, 5).tolist() == []
    assert rg.arange(0, 10, float("inf")).tolist() == []  # ceil(10 / inf) == 0 elements
    assert rg.arange(2**62, 2**62 + 3).tolist() == [2**62, 2**62 + 1, 2**62 + 2]  # exact
    assert rg.arange(10, 0, -3).tolist() == [10, 7, 4, 1]


def test_integer_cast_of_a_tensor_requiring_grad_does_not_require_grad():
    x = rg.ones(2, requires_grad=True)
    assert not x.long().requires_grad and x.long().grad_fn is None
    assert x.double().requires_grad


def test_accepted_forms_next_to_the_refused_ones():
    assert rg.where(rg.tensor([1, 0], dtype=rg.uint8), rg.ones(2), rg.zeros(2)).tolist() == [1.0, 0.0]
    assert rg.ones(3).tile(2).shape == (6,) and rg.ones(3).tile(2, 1).shape == (2, 3)
    assert rg.broadcast_shapes(3, (2, 1)) == (2, 3)
    assert rg.manual_seed(-1).initial_seed() == 2**64 - 1
    assert rg.ones(3).narrow(0, -3, 3).shape == (3,)
    assert float(rg.ones(1)) == 1.0 and int(rg.ones(1, 1)) == 1


_IMPORT_INSIDE_CATCH_WARNINGS = """
import warnings
with warnings.catch_warnings():  # as pytest imports test modules: the filters are restored on exit
    import retrograd as torch
warnings.simplefilter("error")  # any warning now raises
print(torch.log(torch.zeros(1)).item(), (torch.ones(1) / 0).item(), torch.sqrt(-torch.ones(1)).isnan().item())
print(torch.tensor([3e38]).bfloat16().to(torch.int64).dtype, (torch.tensor([60000.0]).half() * 2).item())
with warnings.catch_warnings():
    warnings.simplefilter("error")
    print(torch.log(torch.zeros(1)).item())
"""


def test_float_warnings_stay_silent_when_imported_inside_catch_warnings():
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", _IMPORT_INSIDE_CATCH_WARNINGS], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["-inf", "inf", "True", "retrograd.int64", "inf", "-inf"]
    assert run.stderr == ""
