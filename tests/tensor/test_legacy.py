"""The legacy surface older scripts use: typed constructors, Tensor.new, resize_, storage(),
size= on factories, and Python ranges as indices."""

import numpy as np
import pytest

import retrograd as rg


@pytest.mark.parametrize(
    "cls, dtype",
    [
        (rg.FloatTensor, rg.float32),
        (rg.DoubleTensor, rg.float64),
        (rg.HalfTensor, rg.float16),
        (rg.LongTensor, rg.int64),
        (rg.IntTensor, rg.int32),
        (rg.ShortTensor, rg.int16),
        (rg.CharTensor, rg.int8),
        (rg.ByteTensor, rg.uint8),
        (rg.BoolTensor, rg.bool),
    ],
)
def test_typed_constructors_give_their_dtype(cls, dtype):
    t = cls([1, 0])
    assert type(t) is rg.Tensor and t.dtype == dtype and t.tolist() == [1, 0]
    assert cls(3).shape == (3,) and cls(3).dtype == dtype
    assert cls(2, 3).shape == (2, 3) and cls(rg.Size([4, 1])).shape == (4, 1)
    assert cls().shape == (0,)
    assert isinstance(t, cls) and not t.requires_grad


def test_typed_constructor_values_and_isinstance():
    assert rg.FloatTensor([1, 2]).tolist() == [1.0, 2.0]
    assert rg.LongTensor([[1, 2], [3, 4]]).shape == (2, 2)
    assert isinstance(rg.ones(2), rg.FloatTensor) and not isinstance(rg.ones(2), rg.LongTensor)
    assert isinstance(rg.tensor([1]), rg.LongTensor) and not isinstance([1.0], rg.FloatTensor)
    assert rg.Tensor().shape == (0,)


def test_typed_constructors_refuse_bad_input():
    with pytest.raises(RuntimeError, match="negative dimension"):
        rg.FloatTensor(-1)
    with pytest.raises(TypeError, match="size of ints"):
        rg.FloatTensor(2, 2.5)
    with pytest.raises(TypeError, match="Tensor argument"):
        rg.FloatTensor(rg.ones(2))
    with pytest.raises(RuntimeError, match="CPU tensor type"):
        rg.FloatTensor(2, device="cuda")
    with pytest.raises(RuntimeError, match="overflow"):
        rg.ByteTensor([300])


def test_new_keeps_dtype_and_device():
    x = rg.zeros(2, dtype=rg.float64)
    assert x.new([1, 2]).dtype == rg.float64 and x.new([1, 2]).tolist() == [1.0, 2.0]
    assert x.new(2, 3).shape == (2, 3) and x.new(2, 3).dtype == rg.float64
    assert x.new((4,)).tolist() == [4.0]  # a tuple is data, as in PyTorch
    assert x.new().shape == (0,) and x.new().dtype == rg.float64
    assert rg.tensor([1, 2]).new([3]).dtype == rg.int64
    with pytest.raises(TypeError):
        x.new(2, "a")


def test_resize_keeps_the_leading_elements():
    a = rg.arange(6.0)
    v0 = a._version
    assert a.resize_(2, 2) is a and a.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert a._version > v0
    a.resize_(3, 2)
    assert a.shape == (3, 2) and a[:2].tolist() == [[0.0, 1.0], [2.0, 3.0]]
    a.resize_((6,))
    assert a.shape == (6,)
    b = rg.zeros(2, 3)
    b.resize_as_(rg.ones(3, 2))
    assert b.shape == (3, 2)


def test_resize_refuses_what_pytorch_refuses():
    with pytest.raises(RuntimeError, match="require grad"):
        rg.ones(2, requires_grad=True).resize_(3)
    with pytest.raises(RuntimeError, match="negative"):
        rg.ones(2).resize_(-1)
    with pytest.raises(RuntimeError, match="view"):
        rg.ones(4)[:2].resize_(3)
    with pytest.raises(NotImplementedError, match="memory_format"):
        rg.ones(2).resize_(2, memory_format=rg.channels_last)


def test_storage_is_the_base_storage():
    x = rg.arange(6, dtype=rg.int32).reshape(2, 3)
    s = x.storage()
    assert s.size() == len(s) == 6 and s.element_size() == 4 and s.nbytes() == 24
    assert s.dtype == rg.int32 and s.device == rg.device("cpu") and s[4] == 4
    assert s.tolist() == [0, 1, 2, 3, 4, 5] and s.data_ptr() == x.data_ptr()
    assert x[1].storage() == s and x[1].storage().size() == 6  # a view's storage is its base's
    assert rg.is_storage(s) and rg.is_storage(x.untyped_storage()) and not rg.is_storage(x)
    u = s.untyped()
    assert u.nbytes() == 24 and u.element_size() == 1 and u.tolist()[:4] == list(np.int32(0).tobytes())


def test_kinds_a_tensor_never_has():
    x = rg.ones(1)
    for name in ("is_xpu", "is_meta", "is_mkldnn", "is_mps", "is_quantized", "is_nested", "is_sparse_csr"):
        assert getattr(x, name) is False, name


def test_factories_take_size_as_a_keyword():
    assert rg.empty(size=(2, 3)).shape == (2, 3)
    assert rg.zeros(size=[4]).tolist() == [0.0] * 4 and rg.ones(size=2).shape == (2,)
    assert rg.rand(size=(3,)).shape == (3,) and rg.randn(size=(1, 2), dtype=rg.float64).dtype == rg.float64
    assert rg.full(size=(2,), fill_value=3).tolist() == [3, 3]
    with pytest.raises(TypeError, match="both"):
        rg.zeros(2, size=(2,))
    with pytest.raises(TypeError, match="sequence of ints"):
        rg.empty(size=(2.5,))


def test_a_range_is_an_index():
    x = rg.arange(12.0).reshape(3, 4)
    assert x[range(3), rg.tensor([0, 1, 2])].tolist() == [0.0, 5.0, 10.0]
    assert x[range(1, 3)].tolist() == x[[1, 2]].tolist()
    assert x[range(0)].shape == (0, 4)
    y = rg.zeros(3)
    y[range(2)] = 1.0
    assert y.tolist() == [1.0, 1.0, 0.0]
    with pytest.raises(IndexError, match="out of bounds"):
        x[range(5)]


def test_type_names_and_casts_as_pytorch():
    x = rg.ones(2, 2, dtype=rg.float64)
    assert x.type() == "torch.DoubleTensor" and rg.typename(x) == "torch.DoubleTensor"
    assert x.type("torch.DoubleTensor") is x  # already that type: no copy
    assert x.type(rg.FloatTensor).dtype == rg.float32
    assert x.type(rg.LongTensor).dtype == rg.int64
    assert x.type("torch.IntTensor").dtype == rg.int32
    assert x.type(rg.float16).type() == "torch.HalfTensor"
    assert rg.equal(x.type(rg.LongTensor), rg.ones(2, 2, dtype=rg.int64))
    for bad in ("torch.Foo", "foo.IntTensor", "float32"):
        with pytest.raises(ValueError, match="invalid type"):
            x.type(bad)


def test_type_of_the_tensor_class_is_the_default_dtype():
    # Tensor = torch.cuda.FloatTensor if cuda else torch.Tensor; x.type(Tensor): the default
    # float dtype, itself when already of it; other classes are refused as invalid types
    i = rg.arange(3)
    f = i.type(rg.Tensor)
    assert f.dtype == rg.float32 and f.tolist() == [0.0, 1.0, 2.0]
    assert f.type(rg.Tensor) is f
    old = rg.get_default_dtype()
    rg.set_default_dtype(rg.float64)
    try:
        assert i.type(rg.Tensor).dtype == rg.float64 and f.type(rg.Tensor).dtype == rg.float64
    finally:
        rg.set_default_dtype(old)
    for bad in (rg.nn.Parameter, int):
        with pytest.raises(ValueError, match=f"invalid type: '{bad.__name__}'"):
            f.type(bad)
