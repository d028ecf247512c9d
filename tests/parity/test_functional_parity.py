"""Optional parity with PyTorch for nn.functional: the same call on the same float64 inputs under
torch and retrograd gives the same values and the same gradients of sum(out * w)."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
import retrograd.nn.functional as RF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

R = np.random.default_rng(0)
X = R.standard_normal((3, 5))
XL = R.standard_normal((3, 4))
BIG = np.array([[-1000.0, 0.0, 1000.0], [1000.0, 1000.0, -1000.0]])
T3, T_IGN, T_ND = np.array([0, 2, 1]), np.array([0, -100, 3]), np.array([[0, 1], [3, -100]])
W4 = R.random(4)
P34 = R.random((3, 4))
SIGNS = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
BOOL_MASK = R.random((4, 6)) > 0.3


class Case:
    """``fn(F, lib, *inputs)``: F is the functional module, lib the top-level module (for
    constants). ``inputs`` are float arrays that get gradients; ``consts`` are passed as
    tensors without gradients by keyword."""

    def __init__(self, name, fn, *inputs, consts=None, tol=1e-7):
        self.name, self.fn, self.inputs, self.consts, self.tol = name, fn, inputs, consts or {}, tol


def _cases():
    C = []
    for n in [
        "relu",
        "relu6",
        "leaky_relu",
        "elu",
        "selu",
        "celu",
        "gelu",
        "silu",
        "mish",
        "softplus",
        "softsign",
        "hardtanh",
        "hardsigmoid",
        "hardswish",
        "logsigmoid",
        "tanhshrink",
        "hardshrink",
        "softshrink",
    ]:
        C.append(Case(n, lambda F, L, a, n=n: getattr(F, n)(a), X * 3))
        C.append(Case(n + "_extreme", lambda F, L, a, n=n: getattr(F, n)(a), BIG))
    C += [
        Case("gelu_tanh", lambda F, L, a: F.gelu(a, approximate="tanh"), X * 3),
        Case("softplus_beta_threshold", lambda F, L, a: F.softplus(a, beta=2, threshold=1.5), X),
        Case("threshold", lambda F, L, a: F.threshold(a, 0.1, -2.0), X),
        Case("prelu", lambda F, L, a, w: F.prelu(a, w), R.standard_normal((2, 3, 4)), R.random(3)),
        Case("glu", lambda F, L, a: F.glu(a, 0), R.standard_normal((4, 3))),
        Case("erf", lambda F, L, a: L.erf(a), X * 2),
        Case("erfc", lambda F, L, a: L.erfc(a), X * 2),
    ]
    for d in (0, 1, -1):
        for n in ("softmax", "log_softmax", "softmin"):
            C.append(Case(f"{n}_dim{d}", lambda F, L, a, n=n, d=d: getattr(F, n)(a, d), R.standard_normal((3, 4, 5))))
    C += [
        Case("softmax_extreme", lambda F, L, a: F.softmax(a, 1), BIG),
        Case("log_softmax_extreme", lambda F, L, a: F.log_softmax(a, 1), BIG),
        Case(
            "linear",
            lambda F, L, a, w, b: F.linear(a, w, b),
            R.standard_normal((2, 3, 4)),
            R.standard_normal((5, 4)),
            R.standard_normal(5),
        ),
        Case(
            "bilinear",
            lambda F, L, a, b, w, c: F.bilinear(a, b, w, c),
            R.standard_normal((2, 3)),
            R.standard_normal((2, 4)),
            R.standard_normal((5, 3, 4)),
            R.standard_normal(5),
        ),
        Case(
            "embedding_padding_freq",
            lambda F, L, w, idx: F.embedding(idx, w, padding_idx=2, scale_grad_by_freq=True),
            R.standard_normal((5, 3)),
            consts={"idx": np.array([[0, 2, 2], [4, 0, 1]])},
        ),
        Case(
            "embedding_max_norm",
            lambda F, L, w, idx: F.embedding(idx, w * 1.0, max_norm=1.0),
            R.standard_normal((5, 3)) * 2,
            consts={"idx": np.array([[0, 2, 2], [4, 0, 1]])},
        ),
        Case(
            "layer_norm",
            lambda F, L, a, w, b: F.layer_norm(a, (4,), w, b),
            R.standard_normal((2, 3, 4)),
            R.standard_normal(4),
            R.standard_normal(4),
        ),
        Case("rms_norm", lambda F, L, a, w: F.rms_norm(a, (4,), w), R.standard_normal((2, 3, 4)), R.standard_normal(4)),
        Case(
            "group_norm",
            lambda F, L, a, w, b: F.group_norm(a, 2, w, b),
            R.standard_normal((2, 4, 3)),
            R.standard_normal(4),
            R.standard_normal(4),
        ),
        Case(
            "batch_norm_train",
            lambda F, L, a, w, b: F.batch_norm(a, None, None, w, b, training=True),
            R.standard_normal((3, 4, 2)),
            R.standard_normal(4),
            R.standard_normal(4),
        ),
        Case(
            "instance_norm",
            lambda F, L, a, w, b: F.instance_norm(a, weight=w, bias=b),
            R.standard_normal((3, 4, 5)),
            R.standard_normal(4),
            R.standard_normal(4),
        ),
        Case("normalize", lambda F, L, a: F.normalize(a, p=1, dim=0), XL),
        Case("cosine_similarity", lambda F, L, a, b: F.cosine_similarity(a, b, dim=-1), XL, R.standard_normal(4)),
        Case("pairwise_distance", lambda F, L, a, b: F.pairwise_distance(a, b, p=3, keepdim=True), XL, XL[::-1].copy()),
        Case("pdist", lambda F, L, a: F.pdist(a), R.standard_normal((4, 3))),
    ]
    for red in ("mean", "sum", "none"):
        C += [
            Case(
                f"cross_entropy_{red}",
                lambda F, L, a, t, w, red=red: F.cross_entropy(a, t, weight=w, reduction=red, label_smoothing=0.2),
                XL,
                consts={"t": T_IGN, "w": W4},
            ),
            Case(
                f"cross_entropy_nd_{red}",
                lambda F, L, a, t, red=red: F.cross_entropy(a, t, reduction=red, label_smoothing=0.1),
                R.standard_normal((2, 4, 2)),
                consts={"t": T_ND},
            ),
            Case(
                f"cross_entropy_probs_{red}",
                lambda F, L, a, p, w, red=red: F.cross_entropy(a, p, weight=w, reduction=red, label_smoothing=0.1),
                XL,
                P34,
                consts={"w": W4},
            ),
            Case(
                f"nll_loss_{red}",
                lambda F, L, a, t, w, red=red: F.nll_loss(a, t, weight=w, reduction=red),
                XL,
                consts={"t": T_IGN, "w": W4},
            ),
            Case(f"mse_{red}", lambda F, L, a, b, red=red: F.mse_loss(a, b, reduction=red), XL, P34),
            Case(f"l1_{red}", lambda F, L, a, b, red=red: F.l1_loss(a, b, reduction=red), XL, P34),
            Case(
                f"smooth_l1_{red}", lambda F, L, a, b, red=red: F.smooth_l1_loss(a, b, reduction=red, beta=0.5), XL, P34
            ),
            Case(f"huber_{red}", lambda F, L, a, b, red=red: F.huber_loss(a, b, reduction=red, delta=0.5), XL, P34),
            Case(
                f"bce_{red}",
                lambda F, L, a, b, w, red=red: F.binary_cross_entropy(a, b, w, reduction=red),
                P34 * 0.9 + 0.05,
                R.random((3, 4)),
                consts={"w": R.random((3, 4))},
            ),
            Case(
                f"bce_with_logits_{red}",
                lambda F, L, a, b, w, pw, red=red: F.binary_cross_entropy_with_logits(
                    a, b, w, reduction=red, pos_weight=pw
                ),
                XL,
                P34,
                consts={"w": R.random((3, 4)), "pw": W4},
            ),
            Case(f"kl_div_{red}", lambda F, L, a, b, red=red: F.kl_div(a, b, reduction=red), XL, P34),
            Case(
                f"kl_div_log_target_{red}",
                lambda F, L, a, b, red=red: F.kl_div(a, b, reduction=red, log_target=True),
                XL,
                XL * 0.5,
            ),
            Case(
                f"poisson_nll_{red}",
                lambda F, L, a, b, red=red: F.poisson_nll_loss(a, b, reduction=red, full=True),
                XL,
                P34 * 3,
            ),
            Case(
                f"gaussian_nll_{red}",
                lambda F, L, a, b, v, red=red: F.gaussian_nll_loss(a, b, v, reduction=red, full=True),
                XL,
                XL * 0.5,
                P34 + 0.1,
            ),
            Case(
                f"margin_ranking_{red}",
                lambda F, L, a, b, t, red=red: F.margin_ranking_loss(a, b, t, margin=0.1, reduction=red),
                R.standard_normal(5),
                R.standard_normal(5),
                consts={"t": SIGNS},
            ),
            Case(
                f"hinge_embedding_{red}",
                lambda F, L, a, t, red=red: F.hinge_embedding_loss(a, t, reduction=red),
                R.standard_normal(5),
                consts={"t": SIGNS},
            ),
            Case(
                f"soft_margin_{red}",
                lambda F, L, a, t, red=red: F.soft_margin_loss(a, t, reduction=red),
                R.standard_normal(5),
                consts={"t": SIGNS},
            ),
            Case(
                f"multilabel_soft_margin_{red}",
                lambda F, L, a, t, red=red: F.multilabel_soft_margin_loss(a, t, reduction=red),
                XL,
                consts={"t": (P34 > 0.5) * 1.0},
            ),
            Case(
                f"cosine_embedding_{red}",
                lambda F, L, a, b, t, red=red: F.cosine_embedding_loss(a, b, t, margin=0.2, reduction=red),
                XL,
                XL[::-1].copy(),
                consts={"t": np.array([1.0, -1, -1])},
            ),
            Case(
                f"triplet_margin_{red}",
                lambda F, L, a, b, c, red=red: F.triplet_margin_loss(a, b, c, reduction=red, swap=True),
                XL,
                XL * 0.5,
                XL[::-1].copy(),
            ),
            Case(
                f"multi_margin_{red}",
                lambda F, L, a, t, w, red=red: F.multi_margin_loss(a, t, p=2, reduction=red, weight=w),
                XL,
                consts={"t": T3, "w": W4},
            ),
            Case(
                f"multilabel_margin_{red}",
                lambda F, L, a, t, red=red: F.multilabel_margin_loss(a, t, reduction=red),
                XL,
                consts={"t": np.array([[3, 0, -1, 1], [1, 2, 3, -1], [2, 2, -1, 0]])},
            ),
        ]
    C += [
        Case("cross_entropy_extreme", lambda F, L, a, t: F.cross_entropy(a, t), BIG, consts={"t": np.array([0, 2])}),
        Case(
            "bce_with_logits_extreme",
            lambda F, L, a, b: F.binary_cross_entropy_with_logits(a, b),
            BIG,
            np.full(BIG.shape, 0.3),
        ),
        Case("kl_div_batchmean", lambda F, L, a, b: F.kl_div(a, b, reduction="batchmean"), XL, P34),
    ]
    q, k, v = R.standard_normal((2, 3, 4, 5)), R.standard_normal((2, 3, 6, 5)), R.standard_normal((2, 3, 6, 7))
    sdpa = "scaled_dot_product_attention"
    C += [
        Case("sdpa", lambda F, L, a, b, c: getattr(F, sdpa)(a, b, c), q, k, v),
        Case("sdpa_causal_scale", lambda F, L, a, b, c: getattr(F, sdpa)(a, b, c, is_causal=True, scale=0.3), q, k, v),
        Case(
            "sdpa_bool_mask",
            lambda F, L, a, b, c, m: getattr(F, sdpa)(a, b, c, attn_mask=m),
            q,
            k,
            v,
            consts={"m": BOOL_MASK},
        ),
        Case(
            "sdpa_float_mask",
            lambda F, L, a, b, c, m: getattr(F, sdpa)(a, b, c, attn_mask=m),
            q,
            k,
            v,
            R.standard_normal((3, 4, 6)),
        ),
        Case(
            "sdpa_fully_masked_row",
            lambda F, L, a, b, c, m: getattr(F, sdpa)(a, b, c, attn_mask=m),
            q,
            k,
            v,
            consts={"m": np.array([[True] * 6, [False] * 6, [True, False] * 3, [False] * 6])},
        ),
        Case(
            "sdpa_gqa",
            lambda F, L, a, b, c: getattr(F, sdpa)(a, b, c, enable_gqa=True),
            R.standard_normal((2, 4, 3, 5)),
            R.standard_normal((2, 2, 6, 5)),
            R.standard_normal((2, 2, 6, 5)),
        ),
        Case(
            "multi_head_attention_forward_packed",
            lambda F, L, x, w, b, bk, bv, wo, bo, kpm, am: F.multi_head_attention_forward(
                x, x, x, 6, 2, w, b, bk, bv, True, 0.0, wo, bo, key_padding_mask=kpm, attn_mask=am
            )[0],
            R.standard_normal((4, 2, 6)),
            R.standard_normal((18, 6)),
            R.standard_normal(18),
            R.standard_normal((1, 1, 6)),
            R.standard_normal((1, 1, 6)),
            R.standard_normal((6, 6)),
            R.standard_normal(6),
            consts={
                "kpm": np.array([[False] * 4, [False, False, True, True]]),
                "am": np.triu(np.ones((4, 4), bool), 1),
            },
        ),
        Case(
            "multi_head_attention_forward_separate_weights",
            lambda F, L, q, kv, wq, wk, wv, b, wo: F.multi_head_attention_forward(
                query=q,
                key=kv,
                value=kv,
                embed_dim_to_check=6,
                num_heads=3,
                in_proj_weight=None,
                in_proj_bias=b,
                bias_k=None,
                bias_v=None,
                add_zero_attn=False,
                dropout_p=0.0,
                out_proj_weight=wo,
                out_proj_bias=None,
                use_separate_proj_weight=True,
                q_proj_weight=wq,
                k_proj_weight=wk,
                v_proj_weight=wv,
                average_attn_weights=False,
            )[1],
            R.standard_normal((1, 2, 6)),
            R.standard_normal((5, 2, 4)),
            R.standard_normal((6, 6)),
            R.standard_normal((6, 4)),
            R.standard_normal((6, 4)),
            R.standard_normal(18),
            R.standard_normal((6, 6)),
        ),
    ]
    return C


CASES = _cases()


def _run(case, F, L):
    inputs = [L.tensor(a, requires_grad=True) for a in case.inputs]
    consts = {k: L.tensor(v) for k, v in case.consts.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = case.fn(F, L, *inputs, **consts)
    w = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (out * L.tensor(w)).sum().backward()
    grads = [None if t.grad is None else t.grad.numpy() for t in inputs]
    return out.detach().numpy(), grads


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_matches_torch(case):
    want, want_g = _run(case, TF, torch)
    got, got_g = _run(case, RF, rg)
    np.testing.assert_allclose(got, want, rtol=case.tol, atol=1e-9)
    for g, h in zip(got_g, want_g):
        assert (g is None) == (h is None)
        if g is not None:
            np.testing.assert_allclose(g, h, rtol=case.tol, atol=1e-9)


@pytest.mark.parametrize("low", ["float16", "bfloat16"])
@pytest.mark.parametrize(
    "call",
    [
        lambda F, x, w, b: F.layer_norm(x.reshape(8, 6), (6,), w, b),
        lambda F, x, w, b: F.group_norm(x.reshape(4, 6, 2), 3, w, b),
        lambda F, x, w, b: F.batch_norm(x.reshape(8, 6), None, None, w, b, training=True),
        lambda F, x, w, b: F.instance_norm(x.reshape(4, 6, 2), weight=w, bias=b),
        lambda F, x, w, b: F.rms_norm(x.reshape(8, 6), (6,), w),
    ],
)
def test_norms_of_a_half_input_with_float32_parameters_match_pytorch(low, call):
    """Mixed precision: the output (and the input's gradient) keep the input's dtype."""
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((4, 12)), rng.standard_normal(6), rng.standard_normal(6)
    outs = []
    for lib, F in ((rg, RF), (torch, TF)):
        xt = lib.tensor(x, dtype=getattr(lib, low), requires_grad=True)
        wt = lib.tensor(w, dtype=lib.float32, requires_grad=True)
        y = call(F, xt, wt, lib.tensor(b, dtype=lib.float32))
        (y.float() * lib.arange(y.numel(), dtype=lib.float32).reshape(y.shape) / y.numel()).sum().backward()
        outs.append((str(y.dtype), y.detach().float().numpy(), xt.grad, wt.grad.numpy()))
    (d_r, y_r, gx_r, gw_r), (d_t, y_t, gx_t, gw_t) = outs
    assert d_r.split(".")[-1] == d_t.split(".")[-1] == low
    assert str(gx_r.dtype).split(".")[-1] == low
    tol = 3e-2 if low == "bfloat16" else 3e-3
    np.testing.assert_allclose(y_r, y_t, rtol=tol, atol=tol)
    np.testing.assert_allclose(gw_r, gw_t, rtol=tol, atol=tol)
    np.testing.assert_allclose(gx_r.float().numpy(), gx_t.float().numpy(), rtol=tol, atol=tol)
