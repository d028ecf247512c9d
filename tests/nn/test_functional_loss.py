"""Behaviour of the loss functions beyond the op table: target validation, stability at
extreme logits, reductions and PyTorch's clamping rules."""

import math
import warnings

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F


# --------------------------------------------------------------------------- target validation
def test_cross_entropy_batch_size_mismatch_names_both_sizes():
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(4\)"):
        F.cross_entropy(rg.randn(3, 5), rg.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"batch_size \(3\).*batch_size \(4\)"):
        F.nll_loss(rg.randn(3, 5), rg.tensor([0, 1, 2, 3]))


def test_cross_entropy_spatial_target_shape_mismatch_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 5\], got \[2, 4\]"):
        F.cross_entropy(rg.randn(2, 3, 5), rg.zeros(2, 4, dtype=rg.int64))


def test_cross_entropy_target_dtype():
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Float"):
        F.cross_entropy(rg.randn(3, 4), rg.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="but got Int"):
        F.cross_entropy(rg.randn(3, 4), rg.tensor([0, 1, 2], dtype=rg.int32))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        F.nll_loss(rg.randn(3, 4), rg.zeros(3, 2, dtype=rg.int64))


def test_cross_entropy_target_out_of_bounds():
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.cross_entropy(rg.randn(3, 4), rg.tensor([0, 5, 1]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.nll_loss(rg.randn(3, 4), rg.tensor([0, -1, 1]))


def test_cross_entropy_weight_and_smoothing_arguments():
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 4 classes"):
        F.cross_entropy(rg.randn(3, 4), rg.tensor([0, 1, 2]), weight=rg.ones(5))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(rg.randn(3, 4), rg.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.cross_entropy(rg.randn(3, 4), rg.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.mse_loss(rg.randn(3), rg.randn(3), reduction="avg")


# --------------------------------------------------------------------------- stability
def test_cross_entropy_with_logits_of_1000():
    x = rg.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]], requires_grad=True)
    t = rg.tensor([1, 2])
    loss = F.cross_entropy(x, t, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [2000.0, math.log(2)])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1, -1, 0], [0, 0.5, -0.5]], atol=1e-12)
    x.grad = None
    F.cross_entropy(x, t, label_smoothing=0.1).backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_cross_entropy_float32_large_logits():
    x = rg.tensor([[1000.0, -1000.0]], dtype=rg.float32, requires_grad=True)
    loss = F.cross_entropy(x, rg.tensor([0]))
    assert loss.dtype == rg.float32 and loss.item() == 0.0
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0]])


def test_bce_with_logits_at_1000():
    x = rg.tensor([1000.0, -1000.0, 1000.0, -1000.0], requires_grad=True)
    y = rg.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=rg.tensor(2.0))
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 0.0, 1000.0, 2000.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 1.0, -2.0])


def test_bce_clamps_the_log_at_minus_100():
    x = rg.tensor([0.0, 1.0, 0.5], requires_grad=True)
    y = rg.tensor([1.0, 0.0, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy(x, y, reduction="none")
        np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0, math.log(2)], rtol=1e-6)
        loss.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(x.grad.numpy(), [-1e12, 1e12, 0.0], rtol=1e-6)


def test_bce_checks_range_and_size():
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(rg.tensor([1.5]), rg.tensor([1.0]))
    with pytest.raises(ValueError, match=r"target size \(retrograd.Size\(\[3, 1\]\)\) that is different"):
        F.binary_cross_entropy(rg.rand(3), rg.rand(3, 1))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(rg.rand(3), rg.rand(3, 1))


# --------------------------------------------------------------------------- reductions
def test_nll_mean_with_weights_divides_by_the_weight_sum():
    x = rg.tensor([[-1.0, -2.0], [-3.0, -4.0], [-5.0, -6.0]])
    t = rg.tensor([0, 1, 1])
    w = rg.tensor([2.0, 0.5])
    want = (2 * 1 + 0.5 * 4 + 0.5 * 6) / (2 + 0.5 + 0.5)
    assert F.nll_loss(x, t, weight=w).item() == pytest.approx(want)
    assert F.cross_entropy(x, t, weight=w).item() == pytest.approx(F.nll_loss(F.log_softmax(x, 1), t, weight=w).item())


def test_mean_over_only_ignored_targets_is_nan():
    t = rg.tensor([-100, -100])
    assert math.isnan(F.cross_entropy(rg.randn(2, 3), t).item())
    assert F.cross_entropy(rg.randn(2, 3), t, reduction="sum").item() == 0.0


def test_ignore_index_gets_no_gradient():
    x = rg.randn(3, 4, requires_grad=True)
    F.cross_entropy(x, rg.tensor([1, 7, 2]), ignore_index=7, label_smoothing=0.2).backward()
    np.testing.assert_array_equal(x.grad.numpy()[1], 0)


def test_legacy_size_average_and_reduce():
    x, y = rg.tensor([1.0, 2.0]), rg.tensor([0.0, 0.0])
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert F.mse_loss(x, y, size_average=False).item() == 5.0
    with pytest.warns(UserWarning):
        assert F.mse_loss(x, y, reduce=False).tolist() == [1.0, 4.0]


def test_kl_div_mean_warns_and_batchmean_divides_by_batch():
    x, y = rg.log(rg.tensor([[0.2, 0.8], [0.5, 0.5]])), rg.tensor([[0.5, 0.5], [0.1, 0.9]])
    with pytest.warns(UserWarning, match="batchmean"):
        m = F.kl_div(x, y)
    s = F.kl_div(x, y, reduction="sum")
    assert F.kl_div(x, y, reduction="batchmean").item() == pytest.approx(s.item() / 2)
    assert m.item() == pytest.approx(s.item() / 4)
    assert F.kl_div(x, rg.zeros(2, 2), reduction="sum").item() == 0.0  # 0 log 0 = 0


def test_mse_broadcast_warns():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(rg.randn(3, 4), rg.randn(4))


def test_toplevel_losses_take_integer_reductions():
    x, y = rg.randn(3, 4), rg.rand(3, 4)
    np.testing.assert_allclose(
        rg.binary_cross_entropy_with_logits(x, y, None, None, 2).item(),
        F.binary_cross_entropy_with_logits(x, y, reduction="sum").item(),
    )
    np.testing.assert_allclose(rg.kl_div(x, y, 0).numpy(), F.kl_div(x, y, reduction="none").numpy())
    s = rg.tensor([1.0, -1.0, 1.0])
    np.testing.assert_allclose(
        rg.margin_ranking_loss(x[:, 0], x[:, 1], s, 0.1, 1).item(),
        F.margin_ranking_loss(x[:, 0], x[:, 1], s, 0.1).item(),
    )


def test_ignored_rows_add_zero_even_where_their_log_probabilities_are_nan():
    # a fully masked row (all -inf logits) has a nan log_softmax; ignoring its target drops it
    inf = float("inf")
    x = rg.tensor([[-inf, -inf, -inf], [1.0, 2.0, 3.0]], dtype=rg.float64)
    t = rg.tensor([1, 2])
    want = math.log(math.exp(1) + math.exp(2) + math.exp(3)) - 3
    for smoothing in (0.0, 0.1):
        per_row = F.cross_entropy(x, t, ignore_index=1, reduction="none", label_smoothing=smoothing)
        assert per_row[0].item() == 0.0 and math.isfinite(per_row[1].item())
        assert math.isfinite(F.cross_entropy(x, t, ignore_index=1, label_smoothing=smoothing).item())
    assert F.cross_entropy(x, t, ignore_index=1).item() == pytest.approx(want)
    lp = rg.tensor([[math.nan, 1.0], [-inf, -1.0]], dtype=rg.float64, requires_grad=True)
    assert F.nll_loss(lp, rg.tensor([0, 0]), ignore_index=0, reduction="none").tolist() == [0.0, 0.0]
    loss = F.nll_loss(lp, rg.tensor([0, 1]), ignore_index=0)
    assert loss.item() == 1.0
    loss.backward()
    assert lp.grad.tolist() == [[0.0, 0.0], [0.0, -1.0]]
