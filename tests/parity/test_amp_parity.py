"""Autocast and GradScaler against PyTorch itself (optional: needs torch): the dtype every op
gives under CPU autocast (bfloat16 and float16, from float32 inputs and from inputs already in
the autocast dtype), and GradScaler's scale sequence, growth tracker and parameters with infs
injected at the same steps."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")


def _r(torch, dtype, *shape):
    g = torch.Generator().manual_seed(0)
    return torch.rand(*shape, generator=g).to(dtype) + 0.5


def _calls():
    F = lambda torch: torch.nn.functional  # noqa: E731
    r = _r
    return [
        ("conv1d", lambda t, d: F(t).conv1d(r(t, d, 1, 2, 5), r(t, d, 3, 2, 2))),
        ("conv2d", lambda t, d: F(t).conv2d(r(t, d, 1, 2, 5, 5), r(t, d, 3, 2, 2, 2))),
        ("conv3d", lambda t, d: F(t).conv3d(r(t, d, 1, 2, 4, 4, 4), r(t, d, 3, 2, 2, 2, 2))),
        ("conv_transpose1d", lambda t, d: F(t).conv_transpose1d(r(t, d, 1, 2, 5), r(t, d, 2, 3, 2))),
        ("conv_transpose2d", lambda t, d: F(t).conv_transpose2d(r(t, d, 1, 2, 5, 5), r(t, d, 2, 3, 2, 2))),
        ("conv_transpose3d", lambda t, d: F(t).conv_transpose3d(r(t, d, 1, 2, 3, 3, 3), r(t, d, 2, 3, 2, 2, 2))),
        ("torch.conv2d", lambda t, d: t.conv2d(r(t, d, 1, 2, 5, 5), r(t, d, 3, 2, 2, 2))),
        ("mm", lambda t, d: t.mm(r(t, d, 3, 4), r(t, d, 4, 2))),
        ("bmm", lambda t, d: t.bmm(r(t, d, 2, 3, 4), r(t, d, 2, 4, 2))),
        ("matmul", lambda t, d: t.matmul(r(t, d, 3, 4), r(t, d, 4, 2))),
        ("__matmul__", lambda t, d: r(t, d, 3, 4) @ r(t, d, 4, 2)),
        ("Tensor.matmul", lambda t, d: r(t, d, 3, 4).matmul(r(t, d, 4, 2))),
        ("Tensor.mm", lambda t, d: r(t, d, 3, 4).mm(r(t, d, 4, 2))),
        ("addmm", lambda t, d: t.addmm(r(t, d, 3, 2), r(t, d, 3, 4), r(t, d, 4, 2))),
        ("baddbmm", lambda t, d: t.baddbmm(r(t, d, 2, 3, 2), r(t, d, 2, 3, 4), r(t, d, 2, 4, 2))),
        ("addbmm", lambda t, d: t.addbmm(r(t, d, 3, 2), r(t, d, 2, 3, 4), r(t, d, 2, 4, 2))),
        ("linear", lambda t, d: F(t).linear(r(t, d, 3, 4), r(t, d, 2, 4), r(t, d, 2))),
        ("nn.Linear", lambda t, d: t.nn.Linear(4, 2).to(d)(r(t, d, 3, 4))),
        ("linalg.vecdot", lambda t, d: t.linalg.vecdot(r(t, d, 3, 4), r(t, d, 3, 4))),
        ("prelu", lambda t, d: F(t).prelu(r(t, d, 2, 3), r(t, d, 1))),
        (
            "scaled_dot_product_attention",
            lambda t, d: F(t).scaled_dot_product_attention(
                r(t, d, 1, 2, 3, 4), r(t, d, 1, 2, 3, 4), r(t, d, 1, 2, 3, 4)
            ),
        ),
        ("mv", lambda t, d: t.mv(r(t, d, 3, 4), r(t, d, 4))),
        ("addmv", lambda t, d: t.addmv(r(t, d, 3), r(t, d, 3, 4), r(t, d, 4))),
        ("addr", lambda t, d: t.addr(r(t, d, 3, 4), r(t, d, 3), r(t, d, 4))),
        ("dot", lambda t, d: t.dot(r(t, d, 3), r(t, d, 3))),
        ("einsum", lambda t, d: t.einsum("ij,jk->ik", r(t, d, 3, 4), r(t, d, 4, 2))),
        ("tensordot", lambda t, d: t.tensordot(r(t, d, 3, 4), r(t, d, 4, 2), dims=1)),
        ("chain_matmul", lambda t, d: t.linalg.multi_dot([r(t, d, 3, 4), r(t, d, 4, 2), r(t, d, 2, 2)])),
        ("bilinear", lambda t, d: F(t).bilinear(r(t, d, 3, 2), r(t, d, 3, 4), r(t, d, 5, 2, 4))),
        # float32 list (CPU)
        ("prod", lambda t, d: t.prod(r(t, d, 3, 4))),
        ("quantile", lambda t, d: t.quantile(r(t, d, 5), 0.5)),
        ("nanquantile", lambda t, d: t.nanquantile(r(t, d, 5), 0.5)),
        ("cdist", lambda t, d: t.cdist(r(t, d, 3, 4), r(t, d, 2, 4))),
        ("trace", lambda t, d: t.trace(r(t, d, 3, 3))),
        ("inverse", lambda t, d: t.inverse(r(t, d, 3, 3) + 3 * t.eye(3, dtype=d))),
        ("pinverse", lambda t, d: t.pinverse(r(t, d, 3, 3))),
        ("cholesky", lambda t, d: t.linalg.cholesky(t.eye(3, dtype=d) * 2)),
        ("linalg.inv", lambda t, d: t.linalg.inv(r(t, d, 3, 3) + 3 * t.eye(3, dtype=d))),
        ("linalg.norm", lambda t, d: t.linalg.norm(r(t, d, 3, 3))),
        ("linalg.vector_norm", lambda t, d: t.linalg.vector_norm(r(t, d, 3, 3))),
        ("linalg.matrix_norm", lambda t, d: t.linalg.matrix_norm(r(t, d, 3, 3))),
        ("qr", lambda t, d: t.linalg.qr(r(t, d, 3, 3))[0]),
        ("svd", lambda t, d: t.linalg.svd(r(t, d, 3, 3))[1]),
        ("max_pool3d", lambda t, d: F(t).max_pool3d(r(t, d, 1, 1, 4, 4, 4), 2)),
        ("max_pool2d", lambda t, d: F(t).max_pool2d(r(t, d, 1, 1, 4, 4), 2)),
        ("avg_pool3d", lambda t, d: F(t).avg_pool3d(r(t, d, 1, 1, 4, 4, 4), 2)),
        ("avg_pool2d", lambda t, d: F(t).avg_pool2d(r(t, d, 1, 1, 4, 4), 2)),
        ("adaptive_avg_pool3d", lambda t, d: F(t).adaptive_avg_pool3d(r(t, d, 1, 1, 4, 4, 4), 2)),
        ("adaptive_avg_pool2d", lambda t, d: F(t).adaptive_avg_pool2d(r(t, d, 1, 1, 4, 4), 2)),
        ("adaptive_max_pool3d", lambda t, d: F(t).adaptive_max_pool3d(r(t, d, 1, 1, 4, 4, 4), 2)),
        ("pad reflect 1d", lambda t, d: F(t).pad(r(t, d, 1, 2, 5), (1, 1), mode="reflect")),
        ("pad reflect 2d", lambda t, d: F(t).pad(r(t, d, 1, 2, 5, 5), (1, 1, 1, 1), mode="reflect")),
        ("pad replicate 2d", lambda t, d: F(t).pad(r(t, d, 1, 2, 5, 5), (1, 1, 1, 1), mode="replicate")),
        ("pad replicate 3d", lambda t, d: F(t).pad(r(t, d, 1, 2, 3, 3, 3), (1, 1, 1, 1, 1, 1), mode="replicate")),
        ("pad constant", lambda t, d: F(t).pad(r(t, d, 1, 2, 5), (1, 1))),
        ("mse_loss", lambda t, d: F(t).mse_loss(r(t, d, 3), r(t, d, 3))),
        ("l1_loss", lambda t, d: F(t).l1_loss(r(t, d, 3), r(t, d, 3))),
        ("smooth_l1_loss", lambda t, d: F(t).smooth_l1_loss(r(t, d, 3), r(t, d, 3))),
        ("huber_loss", lambda t, d: F(t).huber_loss(r(t, d, 3), r(t, d, 3))),
        ("cross_entropy", lambda t, d: F(t).cross_entropy(r(t, d, 3, 4), t.tensor([0, 1, 3]))),
        ("nll_loss", lambda t, d: F(t).nll_loss(r(t, d, 3, 4), t.tensor([0, 1, 3]))),
        ("kl_div", lambda t, d: F(t).kl_div(r(t, d, 3), r(t, d, 3), reduction="batchmean")),
        ("binary_cross_entropy", lambda t, d: F(t).binary_cross_entropy(r(t, d, 3) / 2, r(t, d, 3) / 2)),
        (
            "binary_cross_entropy_with_logits",
            lambda t, d: F(t).binary_cross_entropy_with_logits(r(t, d, 3), r(t, d, 3) / 2),
        ),
        ("margin_ranking_loss", lambda t, d: F(t).margin_ranking_loss(r(t, d, 3), r(t, d, 3), r(t, d, 3).sign())),
        ("hinge_embedding_loss", lambda t, d: F(t).hinge_embedding_loss(r(t, d, 3), r(t, d, 3).sign())),
        (
            "cosine_embedding_loss",
            lambda t, d: F(t).cosine_embedding_loss(r(t, d, 3, 2), r(t, d, 3, 2), r(t, d, 3).sign()),
        ),
        ("poisson_nll_loss", lambda t, d: F(t).poisson_nll_loss(r(t, d, 3), r(t, d, 3))),
        ("soft_margin_loss", lambda t, d: F(t).soft_margin_loss(r(t, d, 3), r(t, d, 3).sign())),
        ("triplet_margin_loss", lambda t, d: F(t).triplet_margin_loss(r(t, d, 3, 2), r(t, d, 3, 2), r(t, d, 3, 2))),
        ("multi_margin_loss", lambda t, d: F(t).multi_margin_loss(r(t, d, 3, 4), t.tensor([0, 1, 3]))),
        (
            "multilabel_margin_loss",
            lambda t, d: F(t).multilabel_margin_loss(r(t, d, 3, 4), t.tensor([[0, 1, -1, 0]] * 3)),
        ),
        (
            "grid_sample",
            lambda t, d: F(t).grid_sample(r(t, d, 1, 1, 4, 4), r(t, d, 1, 2, 2, 2) - 1, align_corners=False),
        ),
        # not listed for CPU: keep the widest input type
        ("exp", lambda t, d: t.exp(r(t, d, 3))),
        ("log", lambda t, d: t.log(r(t, d, 3))),
        ("softmax", lambda t, d: t.softmax(r(t, d, 3), 0)),
        ("log_softmax", lambda t, d: F(t).log_softmax(r(t, d, 3), 0)),
        ("layer_norm", lambda t, d: F(t).layer_norm(r(t, d, 2, 3), (3,))),
        ("group_norm", lambda t, d: F(t).group_norm(r(t, d, 2, 4, 3), 2)),
        ("batch_norm", lambda t, d: F(t).batch_norm(r(t, d, 2, 3), None, None, training=True)),
        ("sum", lambda t, d: t.sum(r(t, d, 3))),
        ("cumsum", lambda t, d: t.cumsum(r(t, d, 3), 0)),
        ("pow", lambda t, d: t.pow(r(t, d, 3), 2)),
        ("norm", lambda t, d: t.norm(r(t, d, 3))),
        ("cosine_similarity", lambda t, d: F(t).cosine_similarity(r(t, d, 3, 2), r(t, d, 3, 2))),
        ("dist", lambda t, d: t.dist(r(t, d, 3), r(t, d, 3))),
        ("relu", lambda t, d: t.relu(r(t, d, 3))),
        ("gelu", lambda t, d: F(t).gelu(r(t, d, 3))),
        ("add", lambda t, d: r(t, d, 3) + r(t, d, 3)),
        ("embedding", lambda t, d: F(t).embedding(t.tensor([0, 2]), r(t, d, 3, 2))),
        ("dropout", lambda t, d: F(t).dropout(r(t, d, 3), 0.0)),
        ("interpolate", lambda t, d: F(t).interpolate(r(t, d, 1, 1, 4), scale_factor=2)),
        ("renorm", lambda t, d: t.renorm(r(t, d, 3, 2), 2, 0, 1.0)),
        ("logsumexp", lambda t, d: t.logsumexp(r(t, d, 3), 0)),
    ]


CALLS = dict(_calls())
CASES = [(low, ind) for low in ("bfloat16", "float16") for ind in ("float32", low)]


def _dtype_under_autocast(lib, fn, low, ind):
    with lib.autocast("cpu", dtype=getattr(lib, low)):
        return str(fn(lib, getattr(lib, ind)).dtype).rsplit(".", 1)[-1]


@pytest.mark.parametrize("name", sorted(CALLS))
def test_autocast_output_dtypes_match_pytorch(name):
    fn = CALLS[name]
    want = [_dtype_under_autocast(torch, fn, low, ind) for low, ind in CASES]
    got = [_dtype_under_autocast(rg, fn, low, ind) for low, ind in CASES]
    assert got == want, f"{name}: (autocast dtype, input dtype) {CASES}"


def _scaler_run(lib, pattern, **kw):
    lib.manual_seed(0)
    w = lib.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    b = lib.tensor([0.25], requires_grad=True)
    opt = lib.optim.SGD([w, b], lr=0.1, momentum=0.9)
    scaler = lib.amp.GradScaler("cpu", **kw)
    x = lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    trace = []
    for i, inf in enumerate(pattern):
        opt.zero_grad()
        with lib.autocast("cpu"):
            loss = ((x @ w.T + b) ** 2).float().mean()
        scaler.scale(loss).backward()
        if inf:
            w.grad[0, i % 3] = float(inf)
        if i % 2:
            scaler.unscale_(opt)
            lib.nn.utils.clip_grad_norm_([w, b], 1.0)
        scaler.step(opt)
        scaler.update()
        trace.append(
            (scaler.get_scale(), scaler._get_growth_tracker(), w.detach().numpy().copy(), b.detach().numpy().copy())
        )
    return trace, scaler.state_dict()


@pytest.mark.parametrize(
    "kw",
    [
        dict(init_scale=2.0**10, growth_interval=2),
        dict(init_scale=3.0, growth_factor=3.0, backoff_factor=0.3, growth_interval=1),
    ],
)
def test_grad_scaler_sequences_match_pytorch(kw):
    pattern = [0, 0, "inf", 0, "nan", 0, 0, 0, "-inf", 0, 0]
    want, want_state = _scaler_run(torch, pattern, **kw)
    got, got_state = _scaler_run(rg, pattern, **kw)
    assert got_state == want_state
    for (gs, gt, gw, gb), (ws, wt, ww, wb) in zip(got, want):
        assert (gs, gt) == (ws, wt)
        np.testing.assert_allclose(gw, ww, rtol=1e-2, atol=1e-3)  # bfloat16 forward: a few ulps apart
        np.testing.assert_allclose(gb, wb, rtol=1e-2, atol=1e-3)


def test_disabled_and_deprecated_scalers_match_pytorch():
    import warnings

    for make in (
        lambda lib: lib.amp.GradScaler("cuda"),
        lambda lib: lib.cuda.amp.GradScaler(),
        lambda lib: lib.cpu.amp.GradScaler(),
        lambda lib: lib.amp.GradScaler("cpu", enabled=False),
    ):
        seen = []
        for lib in (torch, rg):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                s = make(lib)
            seen.append((s.is_enabled(), s.get_scale(), s.state_dict(), sorted({w.category.__name__ for w in caught})))
        assert seen[0] == seen[1]


def _state_trace(lib):
    import warnings

    name = lambda d: str(d).rsplit(".", 1)[-1]  # noqa: E731
    out = [
        lib.is_autocast_enabled(),
        name(lib.get_autocast_dtype("cpu")),
        name(lib.get_autocast_dtype("cuda")),
        lib.amp.is_autocast_available("cpu"),
        lib.amp.is_autocast_available("cuda"),
    ]
    with lib.autocast("cpu") as region:
        out += [isinstance(region, lib.autocast), lib.is_autocast_enabled("cpu"), lib.is_autocast_enabled()]
        with lib.autocast("cpu", enabled=False):
            out.append(lib.is_autocast_enabled("cpu"))
            with lib.autocast("cpu", dtype=lib.float16):
                out += [lib.is_autocast_enabled("cpu"), name(lib.get_autocast_dtype("cpu"))]
        out.append(name(lib.get_autocast_dtype("cpu")))
    out.append(lib.is_autocast_enabled("cpu"))
    for make in (
        lambda: lib.autocast("cuda"),
        lambda: lib.autocast("cpu", dtype=lib.float64),
        lambda: lib.cpu.amp.autocast(),
        lambda: lib.cuda.amp.autocast(),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            region = make()
        with region:
            enabled = lib.is_autocast_enabled(region.device)
        out.append((enabled, sorted({w.category.__name__ for w in caught})))
    return out


def test_autocast_state_matches_pytorch():
    assert _state_trace(rg) == _state_trace(torch)
