"""The registry walk: every declared function (ops/_declare.py) is exercised by an op-table spec
(tests/ops/table_*.py) or has a stated exemption, and the declarations bind what they say.

Coverage is found by running each spec once under a profiler and recording the declared
functions it calls directly (not those they call in turn), so a spec counts for the function it
calls, whatever its name, and a composite does not cover the ops it is built from."""

import sys

import numpy as np
import pytest

import retrograd as rg
from retrograd.ops import _declare
from retrograd.ops._declare import REGISTRY, declare, inplace_form

from .optable import all_specs

NO_GRAD = "a boolean, integer or index result: there is no gradient; behaviour and property tests check its values"
RANDOM = "a random result: checked statistically by the dropout, sampling and in-place tests"
FACTORY = "makes a tensor from its arguments: no tensor input to differentiate"
QUERY = "a query, or a memory no-op on CPU tensors"
INPLACE_FN = "the in-place spelling of a spec'd activation (F.X(inplace=True)); tests/nn checks it against X"
TORCH_ORDER = "a torch.* spelling with ATen's argument order of an nn.functional op whose spec covers the maths"

# (family file, name) -> why the function has no op-table spec
EXEMPT = {
    **{
        ("elementwise", n): NO_GRAD
        for n in (
            "logical_or",
            "logical_xor",
            "bitwise_and",
            "bitwise_or",
            "bitwise_xor",
            "bitwise_not",
            "isnan",
            "isinf",
            "isposinf",
            "isneginf",
            "isfinite",
            "isclose",
            "allclose",
            "equal",
        )
    },
    **{
        ("activation", n): INPLACE_FN
        for n in ("relu_", "selu_", "celu_", "threshold_", "leaky_relu_", "elu_", "hardtanh_")
    },
    ("activation", "rrelu_"): RANDOM,
    ("attention", "multi_head_attention_forward"): "a composite of linear, sdpa and reshapes taking a dozen "
    "weight arguments: tests/nn/test_attention.py checks it against MultiheadAttention and by gradcheck",
    ("activation", "gumbel_softmax"): RANDOM,
    ("shape", "view_as_dtype"): "reinterprets the bytes as another dtype: not differentiable, as in PyTorch",
    ("shape", "broadcast_shapes"): "computes a shape from shapes: no tensors involved",
    **{
        ("construct", n): FACTORY
        for n in ("asarray", "scalar_tensor", "empty_strided", "tril_indices", "triu_indices", "unravel_index")
    },
    ("conv", "conv_transpose3d"): "no 3-D reference written yet; the N-d code it shares is spec'd through "
    "conv_transpose1d/2d and compared with PyTorch in the conv parity tests",
    **{("indexing", n): NO_GRAD for n in ("nonzero", "argwhere", "one_hot", "nonzero_static")},
    **{("reduction", n): NO_GRAD for n in ("all", "any", "count_nonzero", "argmax", "argmin")},
    **{
        ("layers", n): RANDOM
        for n in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")
    },
    **{
        ("inplace", n): RANDOM
        for n in (
            "uniform_",
            "normal_",
            "bernoulli_",
            "random_",
            "exponential_",
            "log_normal_",
            "cauchy_",
            "geometric_",
        )
    },
    ("inplace", "fill_"): "in place only; gradients through fill_ are checked in tests/autograd/test_inplace.py",
    ("inplace", "zero_"): "in place only; its zero gradient is checked in tests/autograd/test_inplace.py",
    ("inplace", "copy_"): "in place only; gradients through copy_ are checked in tests/autograd/test_inplace.py",
    ("inplace", "apply_"): "runs a Python function per element; refused on tensors that require grad",
    ("inplace", "map_"): "runs a Python function per pair of elements; refused on tensors that require grad",
    ("loss", "triplet_margin_with_distance_loss"): "no spec yet: with its default distance it is "
    "triplet_margin_loss, which is spec'd",
    **{("integer", n): NO_GRAD for n in ("bitwise_left_shift", "bitwise_right_shift")},
    ("statistics", "histogram"): NO_GRAD,
    ("statistics", "histogramdd"): NO_GRAD,
    ("decomposition", "geqrf"): "not differentiable, as in PyTorch (its backward raises); values checked against "
    "LAPACK's through NumPy and PyTorch in tests/ops/test_lu.py",
    **{
        ("lowrank", n): "a random projection (randn) then qr and svd (spec'd): checked against the full SVD, "
        "gradcheck'd with a fixed seed in tests/ops/test_lowrank.py and equal to PyTorch's for a seed in the "
        "parity suite"
        for n in ("svd_lowrank", "pca_lowrank")
    },
    **{
        ("stft", n): "a composite of pad, unfold, the window product and the FFTs (all spec'd); checked against "
        "NumPy, inverted and gradcheck'd in tests/ops/test_stft.py and compared with PyTorch in the parity suite"
        for n in ("stft", "istft")
    },
    ("construct", "range"): NO_GRAD,
    **{("complex", n): QUERY for n in ("is_conj", "is_neg", "isreal")},
    **{("storage", n): QUERY for n in ("pin_memory", "is_pinned", "share_memory_", "is_shared", "new_empty_strided")},
    ("copies", "detach"): "cuts the graph: checked by the engine tests",
    **{("fft", n): FACTORY for n in ("fftfreq", "rfftfreq")},
    **{
        ("incomplete_gamma", n): "no NumPy reference without SciPy: checked against series and recurrences in "
        "tests/ops/test_incomplete_gamma.py and against PyTorch in the distributions "
        "parity tests"
        for n in ("igamma", "igammac")
    },
    **{
        ("nn_toplevel", n): RANDOM
        for n in ("dropout", "dropout_", "alpha_dropout", "feature_dropout", "feature_alpha_dropout", "rrelu")
    },
    **{
        ("nn_toplevel", n): TORCH_ORDER
        for n in ("group_norm", "batch_norm", "instance_norm", "cosine_embedding_loss", "triplet_margin_loss")
    },
    **{("floating", n): NO_GRAD for n in ("signbit", "heaviside", "nextafter")},
    **{("integer", n): NO_GRAD for n in ("gcd", "lcm")},
    ("pool", "max_pool3d_with_indices"): "max_pool3d is spec'd; the indices are an integer result",
    **{
        ("resample", n): "a deprecated spelling of interpolate (spec'd), checked equal to it with its warning in "
        "tests/nn/test_utils_extra.py"
        for n in ("upsample_nearest", "upsample_bilinear")
    },
    **{
        ("pool", n): RANDOM
        for n in (
            "fractional_max_pool2d",
            "fractional_max_pool3d",
            "fractional_max_pool2d_with_indices",
            "fractional_max_pool3d_with_indices",
        )
    },
    **{
        ("pool", n): "the N-d code is spec'd through the 1-d and 2-d forms; compared with PyTorch in "
        "tests/parity/test_nn_added_modules_parity.py"
        for n in ("lp_pool3d", "max_unpool3d")
    },
    ("loss", "ctc_loss"): "no NumPy reference of the CTC recursion yet; values and gradients are compared with "
    "PyTorch's in tests/parity/test_nn_added_modules_parity.py",
    **{
        ("signal_windows", n): FACTORY
        for n in ("hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window")
    },
    **{("sorting", n): NO_GRAD for n in ("searchsorted", "bucketize", "unique", "unique_consecutive")},
    **{("statistics", n): NO_GRAD for n in ("histc", "bincount", "isin")},
}


def _key(decl):
    return decl.module.rsplit(".", 1)[-1], decl.name


def _covered():
    """The declarations some op-table spec reaches (one sample of each spec, under a profiler)."""
    by_code = {}
    for d in REGISTRY:
        code = getattr(d.fn, "__code__", None)
        if code is not None:
            by_code.setdefault(code, []).append(d)
    derived_code = inplace_form("probe", len).__code__
    reached = set()
    inside = []  # the frames of declared functions being run

    def profile(frame, event, arg):
        code = frame.f_code
        if code not in by_code and code is not derived_code:
            return
        if event == "return":
            if inside and inside[-1] is frame:
                inside.pop()
            return
        if event != "call":
            return
        if not inside:
            if code is derived_code:  # a derived in-place form: which function does it write?
                fn = frame.f_locals.get("fn")
                fn = getattr(fn, "__wrapped__", fn)  # the op itself, not its NumPy-names form
                reached.update(id(d) for d in REGISTRY if d.fn is fn)
            else:
                reached.update(id(d) for d in by_code[code])
        inside.append(frame)

    rng = np.random.default_rng(0)
    for spec in all_specs(rg):
        arrays = next(iter(spec.samples(rng)))
        inputs = [rg.tensor(a) for a in arrays]
        sys.setprofile(profile)
        try:
            spec.fn(*inputs)
        except Exception:  # a spec that raises is the op table's failure to report, not this one's
            pass
        finally:
            sys.setprofile(None)
            inside.clear()
    return reached


@pytest.fixture(scope="module")
def covered():
    return _covered()


def test_every_declared_function_has_a_spec_or_a_stated_exemption(covered):
    missing = sorted(_key(d) for d in REGISTRY if id(d) not in covered and _key(d) not in EXEMPT)
    assert not missing, (
        "declared functions that no op-table spec reaches; add an OpSpec to "
        f"tests/ops/table_<family>.py or an exemption with its reason: {missing}"
    )


def test_every_exemption_is_still_needed(covered):
    keys = {_key(d): d for d in REGISTRY}
    unknown = sorted(k for k in EXEMPT if k not in keys)
    assert not unknown, f"exemptions for functions that are not declared: {unknown}"
    spec_d = sorted(k for k, d in keys.items() if k in EXEMPT and id(d) in covered)
    assert not spec_d, f"these now have a spec; delete their exemption: {spec_d}"


def test_the_declarations_bind_what_they_say():
    for decl in REGISTRY:
        for ns, module in (
            ("torch", rg),
            ("special", rg.special),
            ("linalg", rg.linalg),
            ("fft", rg.fft),
            ("functional", rg.nn.functional),
        ):
            for n in decl.bindings(ns):
                f = getattr(module, n)
                assert getattr(f, "__wrapped__", f) is decl.fn or f is decl.fn, f"{ns}.{n} is not {decl}"
        if decl.method:
            for n in decl.names:
                expected = decl.fn if decl.method is True else decl.method
                m = getattr(rg.Tensor, n)
                assert getattr(m, "__wrapped__", m) is expected, f"Tensor.{n} is not {decl}'s method"
        if decl.inplace is not None:
            for n in decl.names:
                assert callable(getattr(rg.Tensor, n + "_")), f"Tensor.{n}_ missing for {decl}"
        for n in decl.torch_inplace:
            assert getattr(rg, n) is getattr(rg.Tensor, decl.name + "_"), f"torch.{n} is not Tensor.{decl.name}_"


def test_a_derived_inplace_form_writes_the_function_result():
    x = rg.tensor([0.5, 1.5, 2.0])
    y = x.clone()
    assert y.exp_() is y
    np.testing.assert_allclose(y.numpy(), np.exp(x.numpy()))
    assert rg.Tensor.exp_.__name__ == "exp_" and rg.Tensor.exp_.__module__ == "retrograd.ops.elementwise"


def test_declare_refuses_malformed_declarations():
    before = len(REGISTRY)
    with pytest.raises(ValueError, match="without an in-place form"):
        declare(len, torch_inplace=("len_",))
    with pytest.raises(TypeError, match="tuple of names"):
        declare(len, special="len")
    with pytest.raises(TypeError, match="torch must be"):
        declare(len, torch="len")
    assert len(REGISTRY) == before


def test_a_name_declared_twice_is_an_error():
    REGISTRY.append(_declare.Decl(len, ("add",), True, False, None, (), False, (), (), ()))
    try:
        with pytest.raises(RuntimeError, match="declared twice"):
            _declare.namespace("torch")
    finally:
        REGISTRY.pop()
