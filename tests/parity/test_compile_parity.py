"""compile's module wrapper and errors against PyTorch's: OptimizedModule's parameter and
state_dict names, its attributes, and the exception classes of its arguments and graph breaks
(built only: nothing here runs a compiled call under PyTorch)."""

import pytest

import retrograd as rg

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _keep_distribution_validation():
    """torch.compile turns PyTorch's distribution argument validation off for the process (a
    side effect of loading torch._dynamo); later parity tests need it on."""
    validate = torch.distributions.Distribution._validate_args
    yield
    torch.distributions.Distribution.set_default_validate_args(validate)


def _net(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def test_optimized_module_names_match():
    ours, theirs = rg.compile(_net(rg)), torch.compile(_net(torch))
    assert type(ours).__name__ == type(theirs).__name__ == "OptimizedModule"
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    ours.eval()
    theirs.eval()
    assert ours.training == theirs.training == ours._orig_mod.training is False


def test_module_compile_keeps_names():
    ours, theirs = _net(rg), _net(torch)
    ours.compile()
    theirs.compile()
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_error_classes():
    assert issubclass(rg._dynamo.exc.Unsupported, RuntimeError)
    assert issubclass(torch._dynamo.exc.Unsupported, RuntimeError)
    for kwargs in ({"mode": "nonsense"}, {"mode": "default", "options": {"a": 1}}):
        with pytest.raises(RuntimeError):
            torch.compile(lambda x: x, **kwargs)
        with pytest.raises(RuntimeError):
            rg.compile(lambda x: x, **kwargs)
