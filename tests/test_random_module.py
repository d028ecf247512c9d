"""``retrograd.random`` (``torch.random``): the default generator's functions under their module
name, and ``fork_rng``, which leaves the stream outside its block as it was."""

import pytest

import retrograd as rg
import retrograd.random as rr


def test_names_are_the_default_generators():
    assert rr.default_generator is rg.default_generator
    assert rr.manual_seed(5) is rg.default_generator
    assert rr.initial_seed() == 5
    state = rr.get_rng_state()
    a = rg.rand(4)
    rr.set_rng_state(state)
    assert rg.equal(rg.rand(4), a)
    assert isinstance(rr.Generator(), rg.Generator)
    assert set(rr.__all__) <= set(dir(rr))


def _after_block(block, **kw):
    """The draws after running ``block`` under fork_rng(**kw), from seed 0."""
    rg.manual_seed(0)
    with rr.fork_rng(**kw):
        block()
    return rg.randn(5)


def test_fork_rng_restores_the_stream():
    rg.manual_seed(0)
    plain = rg.randn(5)
    inside = []
    assert rg.equal(_after_block(lambda: inside.append(rg.randn(5))), plain)
    assert rg.equal(inside[0], plain)  # the block itself starts from the same state
    # draws of several kinds inside the block (the generator's whole state comes back)
    assert rg.equal(_after_block(lambda: (rg.rand(3), rg.randint(0, 9, (7,)), rg.randperm(11))), plain)
    assert rg.equal(_after_block(lambda: rg.randn(3), devices=[]), plain)


def test_fork_rng_disabled_leaves_the_draws_in_place():
    rg.manual_seed(0)
    rg.randn(5)
    moved = rg.randn(5)
    assert rg.equal(_after_block(lambda: rg.randn(5), enabled=False), moved)


def test_fork_rng_restores_after_an_exception_and_as_a_decorator():
    rg.manual_seed(0)
    plain = rg.randn(5)
    rg.manual_seed(0)
    with pytest.raises(ValueError):
        with rr.fork_rng():
            rg.randn(100)
            raise ValueError("inside")
    assert rg.equal(rg.randn(5), plain)

    @rr.fork_rng()
    def draw():
        return rg.randn(100)

    rg.manual_seed(0)
    draw()
    assert rg.equal(rg.randn(5), plain)


def test_fork_rng_refuses_devices_that_are_not_there():
    if rg.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="cuda"):
        with rr.fork_rng(devices=[0]):
            pass
    with pytest.raises(RuntimeError, match="xpu"):
        with rr.fork_rng(devices=[0], device_type="xpu"):
            pass
