"""Mixed precision: autocast (which ops cast to what, nesting, decorators, gradients, the state
functions, custom_fwd/custom_bwd) and GradScaler (a hand-computed sequence of scales with
injected infs, skipped steps, the state machine's errors, enabled=False)."""

import pickle
import threading
import warnings

import numpy as np
import pytest

import retrograd as rg

F = rg.nn.functional


def _r(*shape, dtype=rg.float32):
    g = rg.Generator().manual_seed(sum(shape))
    return (rg.rand(*shape, generator=g) + 0.5).to(dtype)


# ops PyTorch's CPU autocast runs in the autocast dtype, given float32 inputs
LOWER = {
    "conv1d": lambda d: F.conv1d(_r(1, 2, 5, dtype=d), _r(3, 2, 2, dtype=d), _r(3, dtype=d)),
    "conv2d": lambda d: F.conv2d(_r(1, 2, 5, 5, dtype=d), _r(3, 2, 2, 2, dtype=d)),
    "conv3d": lambda d: F.conv3d(_r(1, 2, 4, 4, 4, dtype=d), _r(3, 2, 2, 2, 2, dtype=d)),
    "conv_transpose1d": lambda d: F.conv_transpose1d(_r(1, 2, 5, dtype=d), _r(2, 3, 2, dtype=d)),
    "conv_transpose2d": lambda d: F.conv_transpose2d(_r(1, 2, 5, 5, dtype=d), _r(2, 3, 2, 2, dtype=d)),
    "conv_transpose3d": lambda d: F.conv_transpose3d(_r(1, 2, 3, 3, 3, dtype=d), _r(2, 3, 2, 2, 2, dtype=d)),
    "mm": lambda d: rg.mm(_r(3, 4, dtype=d), _r(4, 2, dtype=d)),
    "bmm": lambda d: rg.bmm(_r(2, 3, 4, dtype=d), _r(2, 4, 2, dtype=d)),
    "matmul": lambda d: rg.matmul(_r(3, 4, dtype=d), _r(4, 2, dtype=d)),
    "@": lambda d: _r(3, 4, dtype=d) @ _r(4, 2, dtype=d),
    "addmm": lambda d: rg.addmm(_r(3, 2, dtype=d), _r(3, 4, dtype=d), _r(4, 2, dtype=d)),
    "baddbmm": lambda d: rg.baddbmm(_r(2, 3, 2, dtype=d), _r(2, 3, 4, dtype=d), _r(2, 4, 2, dtype=d)),
    "addbmm": lambda d: rg.addbmm(_r(3, 2, dtype=d), _r(2, 3, 4, dtype=d), _r(2, 4, 2, dtype=d)),
    "linear": lambda d: F.linear(_r(3, 4, dtype=d), _r(2, 4, dtype=d), _r(2, dtype=d)),
    "vecdot": lambda d: rg.linalg.vecdot(_r(3, 4, dtype=d), _r(3, 4, dtype=d)),
    "prelu": lambda d: F.prelu(_r(2, 3, dtype=d), _r(1, dtype=d)),
    "scaled_dot_product_attention": lambda d: F.scaled_dot_product_attention(
        _r(1, 2, 3, 4, dtype=d), _r(1, 2, 3, 4, dtype=d), _r(1, 2, 3, 4, dtype=d)
    ),
    "einsum": lambda d: rg.einsum("ij,jk->ik", _r(3, 4, dtype=d), _r(4, 2, dtype=d)),
    "tensordot": lambda d: rg.tensordot(_r(3, 4, dtype=d), _r(4, 2, dtype=d), dims=1),
    "multi_dot": lambda d: rg.linalg.multi_dot([_r(3, 4, dtype=d), _r(4, 2, dtype=d)]),
}

# ops autocast runs in float32, given inputs in the autocast dtype
FLOAT32 = {
    "prod": lambda d: rg.prod(_r(3, 4, dtype=d)),
    "quantile": lambda d: rg.quantile(_r(5, dtype=d), 0.5),
    "cdist": lambda d: rg.cdist(_r(3, 4, dtype=d), _r(2, 4, dtype=d)),
    "trace": lambda d: rg.trace(_r(3, 3, dtype=d)),
    "inverse": lambda d: rg.inverse(_r(3, 3, dtype=d) + 3 * rg.eye(3, dtype=d)),
    "cholesky": lambda d: rg.linalg.cholesky(rg.eye(3, dtype=d) * 2),
    "svd": lambda d: rg.linalg.svd(_r(3, 3, dtype=d))[1],
    "max_pool3d": lambda d: F.max_pool3d(_r(1, 1, 4, 4, 4, dtype=d), 2),
    "avg_pool3d": lambda d: F.avg_pool3d(_r(1, 1, 4, 4, 4, dtype=d), 2),
    "pad replicate": lambda d: F.pad(_r(1, 2, 5, 5, dtype=d), (1, 1, 1, 1), mode="replicate"),
    "pad reflect": lambda d: F.pad(_r(1, 2, 5, dtype=d), (1, 1), mode="reflect"),
    "mse_loss": lambda d: F.mse_loss(_r(3, dtype=d), _r(3, dtype=d)),
    "cross_entropy": lambda d: F.cross_entropy(_r(3, 4, dtype=d), rg.tensor([0, 1, 3])),
    "nll_loss": lambda d: F.nll_loss(_r(3, 4, dtype=d), rg.tensor([0, 1, 3])),
    "binary_cross_entropy_with_logits": lambda d: F.binary_cross_entropy_with_logits(
        _r(3, dtype=d), _r(3, dtype=d) / 2
    ),
    "kl_div": lambda d: F.kl_div(_r(3, dtype=d), _r(3, dtype=d), reduction="batchmean"),
    "grid_sample": lambda d: F.grid_sample(_r(1, 1, 4, 4, dtype=d), _r(1, 2, 2, 2, dtype=d) - 1, align_corners=False),
}

# ops on neither list keep their inputs' dtype (several of them are built from listed ones)
UNLISTED = {
    "mv": lambda d: rg.mv(_r(3, 4, dtype=d), _r(4, dtype=d)),
    "dot": lambda d: rg.dot(_r(3, dtype=d), _r(3, dtype=d)),
    "bilinear": lambda d: F.bilinear(_r(3, 2, dtype=d), _r(3, 4, dtype=d), _r(5, 2, 4, dtype=d)),
    "softmax": lambda d: rg.softmax(_r(3, dtype=d), 0),
    "layer_norm": lambda d: F.layer_norm(_r(2, 3, dtype=d), (3,)),
    "sum": lambda d: rg.sum(_r(3, dtype=d)),
    "exp": lambda d: rg.exp(_r(3, dtype=d)),
    "adaptive_avg_pool2d": lambda d: F.adaptive_avg_pool2d(_r(1, 1, 4, 4, dtype=d), 2),
    "pad constant": lambda d: F.pad(_r(1, 2, 5, dtype=d), (1, 1)),
}


@pytest.mark.parametrize("low", [rg.bfloat16, rg.float16], ids=["bf16", "f16"])
@pytest.mark.parametrize("name", sorted(LOWER))
def test_listed_ops_run_in_the_autocast_dtype(name, low):
    with rg.autocast("cpu", dtype=low):
        assert LOWER[name](rg.float32).dtype is low
    assert LOWER[name](rg.float32).dtype is rg.float32  # outside the region: as they are


@pytest.mark.parametrize("name", sorted(FLOAT32))
def test_float32_ops_widen_the_autocast_dtype(name):
    with rg.autocast("cpu"):
        assert FLOAT32[name](rg.bfloat16).dtype is rg.float32
        assert FLOAT32[name](rg.float32).dtype is rg.float32


@pytest.mark.parametrize("name", sorted(UNLISTED))
def test_other_ops_keep_their_dtype(name):
    with rg.autocast("cpu"):
        assert UNLISTED[name](rg.float32).dtype is rg.float32
        assert UNLISTED[name](rg.bfloat16).dtype is rg.bfloat16


def test_float64_and_mixed_inputs():
    with rg.autocast("cpu"):
        assert (_r(3, 4, dtype=rg.float64) @ _r(4, 2, dtype=rg.float64)).dtype is rg.float64  # not eligible
        # a bfloat16 activation meets a float32 weight: both cast, no dtype mismatch
        assert F.linear(_r(3, 4, dtype=rg.bfloat16), _r(2, 4), _r(2)).dtype is rg.bfloat16
        assert (_r(3, 4, dtype=rg.bfloat16) + _r(3, 4)).dtype is rg.float32  # widest type


def test_values_are_the_low_precision_product():
    a, b = _r(3, 4), _r(4, 2)
    with rg.autocast("cpu"):
        got = a @ b
    want = a.bfloat16() @ b.bfloat16()
    assert got.dtype is rg.bfloat16 and got.float().tolist() == want.float().tolist()


def test_gradients_flow_back_in_the_original_dtype():
    lin = rg.nn.Linear(4, 3)
    x = _r(2, 4).requires_grad_()
    with rg.autocast("cpu"):
        out = lin(x)
        loss = F.mse_loss(out, rg.zeros(2, 3))
    assert out.dtype is rg.bfloat16 and loss.dtype is rg.float32
    loss.backward()
    assert lin.weight.grad.dtype is rg.float32 and x.grad.dtype is rg.float32
    # against float32 autograd through the same bfloat16 roundings
    w, b, x32 = lin.weight.detach(), lin.bias.detach(), x.detach()
    out_ref = (x32.bfloat16() @ w.bfloat16().T + b.bfloat16()).float()
    g = 2 * out_ref / out_ref.numel()  # d mse / d out
    np.testing.assert_allclose(lin.bias.grad.numpy(), g.sum(0).numpy(), rtol=2e-2, atol=1e-3)
    np.testing.assert_allclose(lin.weight.grad.numpy(), (g.T @ x32).numpy(), rtol=3e-2, atol=2e-3)


def test_backward_inside_the_region_does_not_cast():
    w = _r(3, 4).requires_grad_()
    with rg.autocast("cpu"):
        y = rg.mv(w, _r(4))  # float32: mv is not listed
        y.sum().backward()
    assert w.grad.dtype is rg.float32
    np.testing.assert_allclose(w.grad.numpy(), np.tile(_r(4).numpy(), (3, 1)), rtol=1e-6)


def test_nesting_and_disabling():
    a = _r(2, 2)
    assert not rg.is_autocast_enabled("cpu")
    with rg.autocast("cpu"):
        assert rg.is_autocast_enabled("cpu") and rg.get_autocast_dtype("cpu") is rg.bfloat16
        with rg.autocast("cpu", enabled=False):
            assert not rg.is_autocast_enabled("cpu") and (a @ a).dtype is rg.float32
            with rg.autocast("cpu", dtype=rg.float16):
                assert (a @ a).dtype is rg.float16 and rg.get_autocast_dtype("cpu") is rg.float16
            assert (a @ a).dtype is rg.float32
        assert (a @ a).dtype is rg.bfloat16 and rg.get_autocast_dtype("cpu") is rg.bfloat16
    assert not rg.is_autocast_enabled("cpu") and (a @ a).dtype is rg.float32
    assert rg.amp.autocast is rg.autocast
    with rg.amp.autocast(device_type="cpu"):
        assert (a @ a).dtype is rg.bfloat16


def test_an_error_inside_restores_the_state():
    with pytest.raises(ZeroDivisionError):
        with rg.autocast("cpu"):
            1 / 0
    assert not rg.is_autocast_enabled("cpu") and (_r(2, 2) @ _r(2, 2)).dtype is rg.float32


def test_as_a_decorator_and_recursive():
    @rg.autocast("cpu")
    def f(x, depth):
        assert rg.is_autocast_enabled("cpu")
        return x @ x if depth == 0 else f(x, depth - 1) @ x.bfloat16()

    assert f(_r(2, 2), 2).dtype is rg.bfloat16
    assert not rg.is_autocast_enabled("cpu")


def test_state_is_per_thread():
    seen = []
    with rg.autocast("cpu"):
        t = threading.Thread(target=lambda: seen.append((rg.is_autocast_enabled("cpu"), (_r(2, 2) @ _r(2, 2)).dtype)))
        t.start()
        t.join()
    assert seen == [(False, rg.float32)]


def test_state_functions():
    assert rg.is_autocast_enabled() is False  # no device type: cuda's, as in PyTorch
    assert rg.get_autocast_dtype("cuda") is rg.float16
    rg.set_autocast_enabled("cpu", True)
    try:
        assert rg.is_autocast_enabled("cpu") and (_r(2, 2) @ _r(2, 2)).dtype is rg.bfloat16
        rg.set_autocast_dtype("cpu", rg.float16)
        assert (_r(2, 2) @ _r(2, 2)).dtype is rg.float16
    finally:
        rg.set_autocast_enabled("cpu", False)
        rg.set_autocast_dtype("cpu", rg.bfloat16)
    assert (_r(2, 2) @ _r(2, 2)).dtype is rg.float32
    assert rg.amp.is_autocast_available("cpu") and rg.amp.is_autocast_available("cuda")
    assert not rg.amp.is_autocast_available("mps")
    with rg.autocast("cpu") as region:
        assert isinstance(region, rg.autocast)
    with pytest.raises(ValueError, match="device_type"):
        rg.autocast(rg.device("cpu"))
    with pytest.raises(RuntimeError, match="not supported"):
        rg.autocast("xyz")


def test_weight_casts_are_cached_for_the_region():
    w = _r(3, 4).requires_grad_()
    with rg.autocast("cpu"):
        first = F.linear(_r(2, 4), w).grad_fn.next_functions[1][0]
        second = F.linear(_r(2, 4), w).grad_fn.next_functions[1][0]
        assert first is second  # the one ToCopyBackward node of the one cast
    with rg.autocast("cpu"):
        third = F.linear(_r(2, 4), w).grad_fn.next_functions[1][0]
    assert third is not first
    with rg.autocast("cpu", cache_enabled=False):
        a = F.linear(_r(2, 4), w).grad_fn.next_functions[1][0]
        b = F.linear(_r(2, 4), w).grad_fn.next_functions[1][0]
        assert a is not b


def test_unsupported_settings_warn_and_disable():
    with pytest.warns(UserWarning, match="CUDA is not available"):
        ac = rg.autocast("cuda")
    with ac:
        assert not rg.is_autocast_enabled("cuda")
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        ac = rg.autocast("cpu", dtype=rg.float64)
    with ac:
        assert not rg.is_autocast_enabled("cpu") and (_r(2, 2) @ _r(2, 2)).dtype is rg.float32


def test_the_deprecated_spellings():
    with pytest.warns(FutureWarning, match=r"Please use `torch\.amp\.autocast\('cpu', args\.\.\.\)` instead\.$"):
        ac = rg.cpu.amp.autocast()
    with ac:
        assert (_r(2, 2) @ _r(2, 2)).dtype is rg.bfloat16
    from retrograd.cuda.amp import GradScaler, autocast  # older scripts import them so

    with pytest.warns(FutureWarning), pytest.warns(UserWarning, match="CUDA is not available"):
        assert not GradScaler().is_enabled()
    with pytest.warns(FutureWarning), pytest.warns(UserWarning, match="CUDA is not available"):
        autocast()
    with pytest.warns(FutureWarning, match=r"Please use `torch\.amp\.GradScaler\('cpu', args\.\.\.\)` instead\.$"):
        assert rg.cpu.amp.GradScaler().is_enabled()
    with pytest.warns(
        FutureWarning, match=r"Please use `torch\.amp\.custom_fwd\(args\.\.\., device_type='cuda'\)` instead\.$"
    ):
        rg.cuda.amp.custom_fwd(lambda ctx, x: x)


class _Scale(rg.autograd.Function):
    @staticmethod
    @rg.amp.custom_fwd(device_type="cpu", cast_inputs=rg.float32)
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        ctx.inside = (rg.is_autocast_enabled("cpu"), x.dtype)
        return x @ w

    @staticmethod
    @rg.amp.custom_bwd(device_type="cpu")
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        ctx.backward_autocast = rg.is_autocast_enabled("cpu")
        return g @ w.T, x.T @ g


def test_custom_fwd_casts_inputs_and_turns_autocast_off():
    x, w = _r(2, 3, dtype=rg.bfloat16).requires_grad_(), _r(3, 2).requires_grad_()
    with rg.autocast("cpu"):
        out = _Scale.apply(x, w)
    assert out.dtype is rg.float32 and out.grad_fn.inside == (False, rg.float32)
    out.sum().backward()
    assert out.grad_fn.backward_autocast is False
    assert x.grad.dtype is rg.bfloat16 and w.grad.dtype is rg.float32


def test_custom_bwd_runs_with_the_forward_state():
    class Plain(rg.autograd.Function):
        @staticmethod
        @rg.amp.custom_fwd(device_type="cpu")
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @rg.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            ctx.state = (rg.is_autocast_enabled("cpu"), (g.float() @ g.float().T).dtype)
            return g * 2

    x = _r(2, 2).requires_grad_()
    with rg.autocast("cpu"):
        out = Plain.apply(x)
    out.sum().backward()
    assert out.grad_fn.state == (True, rg.bfloat16)
    assert not rg.is_autocast_enabled("cpu")


# --------------------------------------------------------------------------- GradScaler
def _model_and_opt():
    rg.manual_seed(0)
    lin = rg.nn.Linear(3, 1)
    return lin, rg.optim.SGD(lin.parameters(), lr=0.1)


def _iteration(scaler, lin, opt, inject_inf=False):
    opt.zero_grad()
    x = rg.ones(2, 3)
    scaler.scale(lin(x).sum()).backward()
    if inject_inf:
        lin.weight.grad[0, 1] = float("inf")
    before = lin.weight.detach().clone()
    scaler.step(opt)
    scaler.update()
    return not rg.equal(before, lin.weight.detach())


def test_scale_sequence_with_injected_infs():
    lin, opt = _model_and_opt()
    scaler = rg.amp.GradScaler("cpu", init_scale=8.0, growth_factor=2.0, backoff_factor=0.25, growth_interval=3)
    assert scaler.get_scale() == 8.0 and scaler.is_enabled()
    pattern = [False, False, True, False, False, False, True, True, False]
    # by hand: +1 tracker per clean step, x2 on the third in a row, x0.25 (tracker reset) on an inf
    want_scales = [8.0, 8.0, 2.0, 2.0, 2.0, 4.0, 1.0, 0.25, 0.25]
    want_trackers = [1, 2, 0, 1, 2, 0, 0, 0, 1]
    got = []
    for inf in pattern:
        stepped = _iteration(scaler, lin, opt, inf)
        assert stepped is not inf  # a step with an inf gradient is skipped
        got.append((scaler.get_scale(), scaler._get_growth_tracker()))
    assert got == list(zip(want_scales, want_trackers))
    assert scaler.state_dict() == {
        "scale": 0.25,
        "growth_factor": 2.0,
        "backoff_factor": 0.25,
        "growth_interval": 3,
        "_growth_tracker": 1,
    }


def test_gradients_are_unscaled_before_the_step():
    lin, opt = _model_and_opt()
    scaler = rg.amp.GradScaler("cpu", init_scale=1024.0)
    x = rg.ones(2, 3)
    scaler.scale(lin(x).sum()).backward()
    assert lin.weight.grad.tolist() == [[2048.0] * 3]
    scaler.unscale_(opt)
    assert lin.weight.grad.tolist() == [[2.0] * 3]
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    w = lin.weight.detach().clone()
    scaler.step(opt)  # does not unscale a second time
    np.testing.assert_allclose(lin.weight.detach().numpy(), (w - 0.1 * 2.0).numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    scaler.update()
    assert scaler.get_scale() == 1024.0 and scaler._get_growth_tracker() == 1


def test_growth_stops_at_an_infinite_scale():
    w = rg.ones(2, requires_grad=True)
    opt = rg.optim.SGD([w], lr=0.1)
    scaler = rg.amp.GradScaler("cpu", init_scale=3e38, growth_interval=1)
    scaler.scale((w * 0).sum()).backward()  # zero gradients: finite at any scale
    scaler.step(opt)
    scaler.update()  # 6e38 overflows float32: the scale stays, the tracker restarts
    assert scaler.get_scale() == float(np.float32(3e38)) and scaler._get_growth_tracker() == 0


def test_update_needs_a_step_and_takes_a_new_scale():
    lin, opt = _model_and_opt()
    scaler = rg.amp.GradScaler("cpu")
    with pytest.raises(AssertionError, match="_scale is None"):
        scaler.update()
    scaler.scale(rg.ones(1))
    with pytest.raises(AssertionError, match="No inf checks"):
        scaler.update()
    scaler.update(new_scale=4.0)
    assert scaler.get_scale() == 4.0
    scaler.update(new_scale=rg.tensor([16.0]))
    assert scaler.get_scale() == 16.0
    with pytest.raises(AssertionError, match="1-element"):
        scaler.update(new_scale=rg.tensor([1.0], requires_grad=True))
    with pytest.raises(RuntimeError, match="Closure"):
        scaler.step(opt, closure=lambda: None)
    with pytest.raises(AssertionError, match="No inf checks were recorded for this optimizer"):
        scaler.step(opt)  # no parameter has a gradient


def test_state_dict_round_trip_and_pickling():
    lin, opt = _model_and_opt()
    a = rg.amp.GradScaler("cpu", init_scale=64.0, growth_interval=5)
    for inf in (False, True, False):
        _iteration(a, lin, opt, inf)
    b = rg.amp.GradScaler("cpu")
    b.load_state_dict(a.state_dict())
    assert (
        b.state_dict()
        == a.state_dict()
        == {"scale": 32.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 5, "_growth_tracker": 1}
    )
    c = pickle.loads(pickle.dumps(a))
    assert c.state_dict() == a.state_dict()
    with pytest.raises(RuntimeError, match="empty"):
        b.load_state_dict({})


def test_sparse_gradients_are_unscaled_and_checked():
    emb = rg.nn.Embedding(5, 2, sparse=True)
    opt = rg.optim.SGD(emb.parameters(), lr=1.0)
    scaler = rg.amp.GradScaler("cpu", init_scale=8.0)
    w = emb.weight.detach().clone()
    scaler.scale(emb(rg.tensor([1, 3])).sum()).backward()
    assert emb.weight.grad.is_sparse
    scaler.step(opt)
    scaler.update()
    expected = w.clone()
    expected[[1, 3]] -= 1.0
    assert rg.equal(emb.weight.detach(), expected) and scaler.get_scale() == 8.0
    opt.zero_grad()
    scaler.scale(emb(rg.tensor([0])).sum() * float("inf")).backward()
    w = emb.weight.detach().clone()
    scaler.step(opt)
    scaler.update()
    assert rg.equal(emb.weight.detach(), w) and scaler.get_scale() == 4.0


def test_float16_gradients_are_refused():
    w = rg.ones(2, dtype=rg.float16, requires_grad=True)
    opt = rg.optim.SGD([w], lr=0.1)
    scaler = rg.amp.GradScaler("cpu")
    scaler.scale((w * 2).sum()).backward()
    with pytest.raises(ValueError, match="FP16 gradients"):
        scaler.step(opt)


def test_disabled_scaler_passes_everything_through():
    lin, opt = _model_and_opt()
    scaler = rg.amp.GradScaler("cpu", enabled=False)
    loss = lin(rg.ones(2, 3)).sum()
    assert scaler.scale(loss) is loss
    loss.backward()
    grad = lin.weight.grad.clone()
    scaler.unscale_(opt)
    assert rg.equal(lin.weight.grad, grad)
    w = lin.weight.detach().clone()
    scaler.step(opt)
    assert not rg.equal(w, lin.weight.detach())
    scaler.update()
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {} and not scaler.is_enabled()
    scaler.load_state_dict({})  # a no-op when disabled


def test_cuda_scaler_without_a_gpu_disables_itself():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scaler = rg.amp.GradScaler()
    if rg.cuda.is_available():
        assert scaler.is_enabled()
    else:
        assert not scaler.is_enabled() and scaler.get_scale() == 1.0
        assert any("CUDA is not available" in str(w.message) for w in caught)


def test_scale_of_a_list_and_bfloat16_outputs():
    scaler = rg.amp.GradScaler("cpu", init_scale=4.0)
    a, b = scaler.scale([rg.ones(2), (rg.ones(1, dtype=rg.bfloat16),)])
    assert a.tolist() == [4.0, 4.0] and b[0].dtype is rg.bfloat16 and b[0].tolist() == [4.0]
    with pytest.raises(ValueError, match="iterable of Tensors"):
        scaler.scale(3.0)
