"""set_printoptions changes how tensors print (it was accepted and ignored)."""

import pytest

import retrograd as rg


@pytest.fixture(autouse=True)
def default_options():
    yield
    rg.set_printoptions(profile="default")


def test_precision_and_sci_mode():
    x = rg.tensor([1.123456, 2.5, -3.25])
    assert repr(x) == "tensor([ 1.1235,  2.5000, -3.2500])"
    rg.set_printoptions(precision=2)
    assert repr(x) == "tensor([ 1.12,  2.50, -3.25])"
    rg.set_printoptions(precision=2, sci_mode=True)
    assert "1.12e+00" in repr(x) and "-3.25e+00" in repr(x)
    rg.set_printoptions(profile="default")
    assert repr(x) == "tensor([ 1.1235,  2.5000, -3.2500])"


def test_threshold_edgeitems_and_profiles():
    rg.set_printoptions(threshold=5, edgeitems=1)
    assert "..." in repr(rg.arange(10.0)) and "8." not in repr(rg.arange(10.0))
    rg.set_printoptions(profile="full")
    assert "..." not in repr(rg.arange(2000))
    rg.set_printoptions(profile="short")
    assert repr(rg.tensor([1.123])) == "tensor([1.12])"
    with pytest.raises(ValueError, match="profile"):
        rg.set_printoptions(profile="long")
