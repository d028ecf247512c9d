"""Result dtypes (and the values that follow from them) where PyTorch's promotion rules differ
from NumPy's: Python scalars, 0-d tensors and mixed integer widths."""

import numpy as np
import pytest

import retrograd as rg


def test_where_of_two_python_scalars_takes_their_promoted_dtype():
    cond = rg.tensor([True, False])
    out = rg.where(cond, 1, 0.5)
    assert out.dtype == rg.float32 and out.tolist() == [1.0, 0.5]
    assert rg.where(cond, 2, 3).dtype == rg.int64
    assert rg.where(cond, True, False).dtype == rg.bool
    assert rg.where(cond, 2, False).tolist() == [2, 0]
    z = rg.where(cond, 1, 1j)
    assert z.dtype == rg.complex64
    np.testing.assert_array_equal(z.numpy(), [1 + 0j, 1j])


def test_integer_operands_of_floating_ops_go_straight_to_float():
    # the common dtype of a uint8 tensor and a 0-d int8 tensor is uint8, but true division and
    # the other floating ops convert each operand to float32 directly: -1 stays -1.0, not 255.0
    u = rg.tensor([2, 0, 4], dtype=rg.uint8)
    m = rg.tensor(-1, dtype=rg.int8)
    a, b = np.array([2.0, 0.0, 4.0], dtype=np.float32), np.float32(-1.0)
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal((u / m).numpy(), a / b)
        np.testing.assert_array_equal((m / u).numpy(), b / a)
        np.testing.assert_array_equal(rg.xlogy(m, u).numpy(), b * np.log(a))
    np.testing.assert_allclose(rg.atan2(m, u).numpy(), np.arctan2(b, a))
    np.testing.assert_array_equal(rg.copysign(u, m).numpy(), -a)
    np.testing.assert_array_equal(rg.copysign(u, -3).numpy(), -a)
    assert (u / m).dtype == rg.float32


def test_floating_ops_keep_the_promoted_float_or_complex_dtype():
    h = rg.tensor([1.5], dtype=rg.float16)
    assert rg.ldexp(rg.tensor([True]), h).dtype == rg.float16
    assert rg.special.xlog1py(h, rg.tensor([True])).dtype == rg.float16
    # hypot promotes before squaring (a float16 operand is not squared in float16)
    x16 = rg.tensor([0.1], dtype=rg.float16)
    got = rg.hypot(x16, rg.tensor([0.2])).item()
    assert got == np.float32(np.hypot(np.float32(np.float16(0.1)), np.float32(0.2)))
    # complex operands keep their imaginary parts
    z = rg.logaddexp(rg.tensor([1 + 1j, -2 + 3j]), rg.tensor([True, False]))
    assert z.dtype == rg.complex64
    np.testing.assert_allclose(z.numpy(), np.log(np.exp([1 + 1j, -2 + 3j]) + np.exp([1.0, 0.0])), rtol=1e-6)
    p = rg.float_power(rg.tensor([1j, 2]), 2)
    assert p.dtype == rg.complex128 and p.tolist() == [-1 + 0j, 4 + 0j]
    assert rg.float_power(rg.tensor([2]), 1j).dtype == rg.complex128


def test_a_0d_complex_operand_keeps_a_dimensioned_floats_precision():
    z = rg.tensor(1j, dtype=rg.complex128)
    assert (rg.ones(2) + z).dtype == rg.complex64
    assert (rg.ones(2, dtype=rg.float64) * rg.tensor(1j, dtype=rg.complex64)).dtype == rg.complex128
    assert (rg.ones(2, dtype=rg.int32) + z).dtype == rg.complex128
    assert rg.result_type(rg.ones(2), z) == rg.complex64


def test_alpha_scales_other_in_the_result_dtype():
    b = rg.tensor([True, False])
    out = rg.add(b, b, alpha=2)
    assert out.dtype == rg.bool and out.tolist() == [True, False]
    i8 = rg.tensor([1, -2], dtype=rg.int8)
    assert rg.add(i8, b, alpha=3).dtype == rg.int8
    assert rg.add(i8, b, alpha=3).tolist() == [4, -2]
    s = rg.sub(rg.tensor(2, dtype=rg.int32), 3, alpha=2)
    assert s.dtype == rg.int32 and s.item() == -4
    u = rg.tensor([1, 2], dtype=rg.uint8)
    with pytest.raises(RuntimeError, match="alpha must not be a floating point number"):
        rg.add(u, u, alpha=1.5)
    with pytest.raises(RuntimeError, match="Boolean alpha"):
        rg.add(u, u, alpha=True)


def test_subtraction_with_any_bool_tensor_is_refused():
    b = rg.tensor([True, False])
    u = rg.tensor([1, 2], dtype=rg.uint8)
    for f in (lambda: b - u, lambda: u - b, lambda: b - 1, lambda: 1 - b, lambda: rg.tensor([1.5]) - b):
        with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with a bool tensor"):
            f()


def test_python_ints_wrap_into_an_integer_tensors_dtype():
    # PyTorch reads the number in the tensor's dtype (uint8 + -3 is uint8 + 253), where NumPy 2
    # raises OverflowError
    u = rg.tensor([5, 200], dtype=rg.uint8)
    i = rg.tensor([5, -100], dtype=rg.int8)
    un, inp = np.array([5, 200], dtype=np.uint8), np.array([5, -100], dtype=np.int8)
    assert (u + -3).dtype == rg.uint8 and (u + -3).tolist() == (un + np.uint8(253)).tolist()
    assert (u * -1).tolist() == (un * np.uint8(255)).tolist()
    assert (-3 - u).tolist() == (np.uint8(253) - un).tolist()
    assert (i + 300).tolist() == (inp + np.int8(44)).tolist()
    assert (u // -3).tolist() == [0, 0] and (u % -3).tolist() == [5, 200]
    assert (u > -3).tolist() == [False, False]  # against 253
    assert (u / -1).tolist() == [-5.0, -200.0]  # true division reads the number as it is
    with pytest.raises(RuntimeError, match="overflow"):
        rg.where(u > 6, u, 300)


def test_a_python_number_to_an_integer_tensors_power_keeps_its_dtype():
    t = rg.tensor([-2, 0, 3], dtype=rg.int32)
    assert (2**t).dtype == rg.int32 and (2**t).tolist() == [0, 1, 8]
    assert ((-1) ** t).tolist() == [1, 1, -1]
    assert rg.pow(3, rg.tensor([1, 2], dtype=rg.int8)).dtype == rg.int8
    assert (2.5**t).dtype == rg.float32


def test_hardtanh_keeps_integer_dtypes_and_square_of_bool_is_int64():
    F = rg.nn.functional
    out = F.hardtanh(rg.tensor([-3, 0, 8]))
    assert out.dtype == rg.int64 and out.tolist() == [-1, 0, 1]
    assert F.relu6(rg.tensor([-3, 2, 8], dtype=rg.int8)).tolist() == [0, 2, 6]
    assert F.relu6(rg.tensor([-3, 2, 8], dtype=rg.int8)).dtype == rg.int8
    with pytest.raises(RuntimeError, match="unsigned type with negative limits"):
        F.hardtanh(rg.tensor([3], dtype=rg.uint8))
    with pytest.raises(RuntimeError, match="Bool inputs"):
        F.hardtanh(rg.tensor([True]))
    sq = rg.square(rg.tensor([True, False]))
    assert sq.dtype == rg.int64 and sq.tolist() == [1, 0]


def test_ldexp_dtype_and_precision_follow_pytorch():
    h = rg.tensor([1.5], dtype=rg.float16)
    assert rg.ldexp(h, rg.tensor([3], dtype=rg.int32)).dtype == rg.float16
    assert rg.ldexp(rg.tensor([3]), h).dtype == rg.float16
    assert rg.ldexp(rg.tensor([3], dtype=rg.int8), rg.tensor([3])).dtype == rg.float32
    # 2 ** other is taken in other's own dtype (float16 here), then multiplied in float32
    e = np.float16(0.673)
    got = rg.ldexp(rg.tensor([1.3]), rg.tensor([e], dtype=rg.float16)).item()
    assert got == np.float32(1.3) * np.float32(np.exp2(e))
