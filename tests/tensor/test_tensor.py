"""Tensor basics: factories, dtypes and promotion, metadata, conversion, repr."""

import numpy as np
import pytest

import retrograd as rg


class TestFactories:
    def test_tensor_infers_pytorch_dtypes(self):
        assert rg.tensor([1.0, 2.0]).dtype == rg.float32
        assert rg.tensor([1, 2]).dtype == rg.int64
        assert rg.tensor([True]).dtype == rg.bool
        assert rg.tensor(np.array([1.0])).dtype == rg.float64
        assert rg.tensor(3.5).shape == ()

    def test_tensor_copies_but_from_numpy_shares(self):
        a = np.zeros(3, dtype=np.float32)
        t = rg.tensor(a)
        s = rg.from_numpy(a)
        a[0] = 5
        assert t[0].item() == 0 and s[0].item() == 5

    def test_as_tensor_shares_when_possible(self):
        a = np.zeros(3, dtype=np.float32)
        t = rg.as_tensor(a)
        a[1] = 2
        assert t[1].item() == 2

    @pytest.mark.parametrize(
        "fn,expected",
        [
            (lambda: rg.zeros(2, 3), np.zeros((2, 3))),
            (lambda: rg.ones((2, 3)), np.ones((2, 3))),
            (lambda: rg.full((2,), 7.0), np.full(2, 7.0)),
            (lambda: rg.eye(3), np.eye(3)),
            (lambda: rg.arange(5), np.arange(5)),
            (lambda: rg.arange(1, 2, 0.25), np.arange(1, 2, 0.25)),
            (lambda: rg.linspace(0, 1, 5), np.linspace(0, 1, 5)),
        ],
    )
    def test_factories_match_numpy(self, fn, expected):
        np.testing.assert_allclose(fn().numpy(), expected)

    def test_factory_keywords(self):
        t = rg.zeros(2, dtype=rg.float64, requires_grad=True, device="cpu")
        assert t.dtype == rg.float64 and t.requires_grad and t.device == rg.device("cpu")
        assert rg.arange(3).dtype == rg.int64 and rg.arange(3.0).dtype == rg.float32
        assert rg.full((1,), 2).dtype == rg.int64

    def test_like_factories(self):
        x = rg.randn(2, 3, dtype=rg.float64)
        for f in (rg.zeros_like, rg.ones_like, rg.empty_like, rg.rand_like, rg.randn_like):
            y = f(x)
            assert y.shape == (2, 3) and y.dtype == rg.float64
        assert rg.full_like(x, 3.0).sum().item() == 18.0

    def test_random_is_seeded(self):
        rg.manual_seed(3)
        a = rg.randn(4)
        rg.manual_seed(3)
        b = rg.randn(4)
        assert rg.equal(a, b)
        r = rg.randint(0, 5, (100,))
        assert r.dtype == rg.int64 and r.min().item() >= 0 and r.max().item() < 5
        u = rg.rand(1000)
        assert 0 <= u.min().item() and u.max().item() < 1

    def test_negative_size_is_an_error(self):
        with pytest.raises(RuntimeError, match="negative dimension"):
            rg.zeros(-1)


class TestPromotion:
    def test_int_tensor_and_python_float_gives_float32(self):
        assert (rg.tensor([1, 2]) * 1.5).dtype == rg.float32
        assert (rg.tensor([1, 2]) / 2).dtype == rg.float32

    def test_python_scalars_do_not_upcast(self):
        assert (rg.tensor([1.0], dtype=rg.float16) * 2.5).dtype == rg.float16
        assert (rg.tensor([1], dtype=rg.int32) + 2).dtype == rg.int32

    def test_zero_dim_tensor_does_not_upcast_same_category(self):
        a = rg.ones(3)
        b = rg.tensor(2.0, dtype=rg.float64)
        assert (a * b).dtype == rg.float32
        assert (rg.ones(3, dtype=rg.int32) * rg.tensor(2.0, dtype=rg.float64)).dtype == rg.float64

    def test_higher_category_wins_without_widening(self):
        assert (rg.ones(2, dtype=rg.float32) * rg.ones(2, dtype=rg.int64)).dtype == rg.float32
        assert (rg.ones(2, dtype=rg.float16) + rg.ones(2, dtype=rg.int32)).dtype == rg.float16
        assert rg.promote_types(rg.int64, rg.float32) == rg.float32
        assert rg.promote_types(rg.uint8, rg.int8) == rg.int16
        x = rg.linspace(-1, 1, 5)
        assert x.unsqueeze(-1).pow(rg.tensor([1, 2, 3])).dtype == rg.float32

    def test_tensor_tensor_promotion(self):
        assert (rg.ones(2, dtype=rg.float32) + rg.ones(2, dtype=rg.float64)).dtype == rg.float64
        assert (rg.ones(2, dtype=rg.int32) + rg.ones(2, dtype=rg.int64)).dtype == rg.int64
        assert (rg.ones(2, dtype=rg.bool) + rg.ones(2, dtype=rg.bool)).dtype == rg.bool

    def test_comparisons_give_bool_without_grad(self):
        x = rg.randn(3, requires_grad=True)
        c = x > 0
        assert c.dtype == rg.bool and not c.requires_grad


class TestMetadataAndConversion:
    def test_shape_and_size(self):
        x = rg.zeros(2, 3, 4)
        assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(-1) == 4
        assert x.dim() == 3 and x.ndim == 3 and x.numel() == 24 and len(x) == 2
        assert repr(x.shape) == "retrograd.Size([2, 3, 4])"

    def test_item_tolist_numpy(self):
        x = rg.tensor([[1.0, 2.0]])
        assert x.tolist() == [[1.0, 2.0]] and x[0, 1].item() == 2.0
        with pytest.raises(RuntimeError, match="2 elements"):
            x.item()
        assert np.asarray(x).shape == (1, 2)

    def test_casts(self):
        x = rg.tensor([1.5, 2.5])
        assert x.double().dtype == rg.float64 and x.long().dtype == rg.int64
        assert x.long().tolist() == [1, 2]
        assert x.to(rg.float64).dtype == rg.float64 and x.to("cpu") is x
        assert x.float() is x
        assert x.to(rg.int32).dtype == rg.int32

    def test_clone_and_contiguous(self):
        x = rg.tensor([[1.0, 2.0], [3.0, 4.0]])
        c = x.clone()
        c[0, 0] = 9.0
        assert x[0, 0].item() == 1.0
        t = x.T
        assert not t.is_contiguous() and t.contiguous().is_contiguous()

    def test_transposes(self):
        x = rg.randn(2, 3, 4)
        assert x.mT.shape == (2, 4, 3)
        assert rg.randn(2, 3).T.shape == (3, 2)

    def test_repr(self):
        assert repr(rg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
        assert repr(rg.tensor([1.5, 2.25], requires_grad=True)) == "tensor([1.5000, 2.2500], requires_grad=True)"
        assert repr(rg.tensor([1, 2])) == "tensor([1, 2])"
        assert "dtype=retrograd.float64" in repr(rg.tensor([1.0], dtype=rg.float64))

    def test_in_place_arithmetic_bumps_version(self):
        x = rg.zeros(3)
        v = x._version
        x += 1
        x.mul_(2)
        assert x._version == v + 2 and x.tolist() == [2.0, 2.0, 2.0]

    def test_in_place_on_leaf_requiring_grad_is_an_error(self):
        x = rg.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x.add_(1)
        with rg.no_grad():
            x.add_(1)
        assert x.tolist() == [1.0, 1.0, 1.0]

    def test_in_place_on_saved_tensor_is_caught_at_backward(self):
        x = rg.randn(3, requires_grad=True)
        y = x * 1
        _z = y.exp()  # saves its output
        w = y * y  # saves y
        with rg.no_grad():
            y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation.*MulBackward0"):
            w.sum().backward()
        z2 = x.exp()
        z2.add_(1)
        with pytest.raises(RuntimeError, match="ExpBackward0"):
            z2.sum().backward()
