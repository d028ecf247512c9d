"""Warnings raised by ops name the user's line, however the op was reached (through an out=
wrapper, an nn module, a composite op)."""

import warnings

import retrograd as rg


def _caught(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    assert caught, "expected a warning"
    return caught[0]


def test_a_function_with_an_out_form_warns_at_the_callers_line():
    w = _caught(lambda: rg.range(0, 3))  # torch.range is wrapped for out=
    assert w.filename == __file__


def test_the_resize_warning_of_out_names_the_callers_line():
    out = rg.zeros(5)
    w = _caught(lambda: rg.add(rg.ones(2), rg.ones(2), out=out))
    assert "resized" in str(w.message) and w.filename == __file__


def test_a_warning_from_inside_an_nn_module_names_the_callers_line():
    loss = rg.nn.MSELoss()
    w = _caught(lambda: loss(rg.ones(3, 1), rg.ones(3)))  # target size differs from input size
    assert w.filename == __file__


def test_deprecated_loss_arguments_warn_at_the_callers_line():
    w = _caught(lambda: rg.nn.functional.mse_loss(rg.ones(2), rg.ones(2), size_average=True))
    assert w.filename == __file__


def test_float_of_a_tensor_that_requires_grad_warns_once_per_process(monkeypatch):
    import retrograd._tensor as tensor_module

    monkeypatch.setattr(tensor_module, "_scalar_warned", [])
    x = rg.tensor([1.5, 2.5], requires_grad=True)
    m = x.mean()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert m.item() == 2.0 and int(m) == 2 and f"{m:.1f}" == "2.0"  # these do not warn
        assert not caught
        assert float(m) == 2.0 and "%.1f" % m == "2.0" and complex(m) == 2.0
    assert len(caught) == 1 and caught[0].filename == __file__
    assert "requires_grad=True to a scalar" in str(caught[0].message)
    monkeypatch.setattr(tensor_module, "_scalar_warned", [])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        float(m.detach())
    assert not caught
