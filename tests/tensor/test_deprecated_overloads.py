"""PyTorch's deprecated overloads that put the scalar factor first, as older optimizers call
them (``p.add_(-lr, grad)``, ``v.addcmul_(1 - beta, g, g)``): the same values and gradients as
the keyword forms, one warning per name, and TypeError for what neither form accepts."""

import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd.ops import elementwise


def _t(*shape, seed=0):
    return rg.tensor(np.random.default_rng(seed).standard_normal(shape))


CASES = [
    ("add", lambda x, a, b: rg.add(x, -0.5, a), lambda x, a, b: rg.add(x, a, alpha=-0.5)),
    ("add method", lambda x, a, b: x.add(2, a), lambda x, a, b: x.add(a, alpha=2)),
    ("add_", lambda x, a, b: x.clone().add_(-0.5, a), lambda x, a, b: x.clone().add_(a, alpha=-0.5)),
    ("sub", lambda x, a, b: rg.sub(x, 3, a), lambda x, a, b: rg.sub(x, a, alpha=3)),
    ("sub_", lambda x, a, b: x.clone().sub_(0.25, a), lambda x, a, b: x.clone().sub_(a, alpha=0.25)),
    ("addcmul", lambda x, a, b: rg.addcmul(x, 0.5, a, b), lambda x, a, b: rg.addcmul(x, a, b, value=0.5)),
    ("addcmul_", lambda x, a, b: x.clone().addcmul_(0.5, a, b), lambda x, a, b: x.clone().addcmul_(a, b, value=0.5)),
    ("addcdiv", lambda x, a, b: x.addcdiv(-2, a, b), lambda x, a, b: x.addcdiv(a, b, value=-2)),
    ("addcdiv_", lambda x, a, b: x.clone().addcdiv_(-2, a, b), lambda x, a, b: x.clone().addcdiv_(a, b, value=-2)),
]


@pytest.mark.parametrize("name, old, new", CASES, ids=[c[0] for c in CASES])
def test_same_values_and_gradients_as_the_keyword_form(name, old, new):
    x, a, b = _t(3, 4), _t(3, 4, seed=1), _t(4, seed=2).abs() + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(old(x, a, b).numpy(), new(x, a, b).numpy())
        ts = [t.clone().requires_grad_() for t in (x, a, b)]
        assert rg.autograd.gradcheck(lambda x, a, b: old(x, a, b), ts)


def test_one_warning_per_name_naming_both_signatures(monkeypatch):
    monkeypatch.setattr(elementwise, "_warned_overloads", set())
    x, g = _t(3), _t(3, seed=1)
    with pytest.warns(UserWarning, match=r"This overload of add_ is deprecated:\n\tadd_\(Number alpha, Tensor other\)"):
        x.add_(1, g)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.add_(1, g)  # once per name
    with pytest.warns(UserWarning, match=r"addcmul\(Tensor input, Tensor tensor1, Tensor tensor2, \*, Number value"):
        rg.addcmul(x, 2, g, g)


def test_out_with_the_deprecated_form():
    x, g = _t(3), _t(3, seed=1)
    out = rg.empty(3, dtype=rg.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert rg.add(x, 2, g, out=out) is out
    np.testing.assert_array_equal(out.numpy(), (x + 2 * g).numpy())


def test_what_neither_form_accepts_is_a_type_error():
    x, g = _t(3), _t(3, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError, match="add"):
            rg.add(x, g, g)  # a tensor where the deprecated form wants the number
        with pytest.raises(TypeError, match="alpha"):
            x.add_(2, g, alpha=3)  # the factor twice
        with pytest.raises(TypeError, match="addcmul"):
            rg.addcmul(x, 2, g, g, g)
        with pytest.raises(TypeError):
            x.sub_(1, 2)  # the deprecated form needs a tensor last
