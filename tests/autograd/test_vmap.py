"""vmap: in_dims/out_dims forms, nesting, chunk_size, randomness modes, the errors PyTorch raises,
batching rules against a loop, the fallback, and vmap(grad) per-example gradients."""

import warnings

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn as nn
import retrograd.nn.functional as F
from retrograd.func import functional_call, grad, vmap

R = np.random.default_rng(0)


def t(*shape):
    return rg.tensor(R.standard_normal(shape))


def close(a, b, tol=1e-10):
    a, b = np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy())
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * (1 + np.abs(b).max(initial=0)))


def loop(fn, *args, in_dims=0, out_dim=0):
    dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    outs = [fn(*[a.select(d, i) if d is not None else a for a, d in zip(args, dims)]) for i in range(size)]
    return rg.stack(outs, out_dim)


# ----------------------------------------------------------------------------- semantics
def test_vmap_is_exported_in_both_places():
    assert rg.vmap is vmap and "vmap" in rg.func.__all__


def test_in_dims_int_none_and_negative():
    x, y = t(4, 3), t(3, 5)
    close(vmap(lambda a, b: a @ b, in_dims=(0, None))(x, y), x @ y)
    z = t(3, 4)
    close(vmap(lambda a: a * 2, in_dims=1)(z), (z * 2).T)
    close(vmap(lambda a: a.sum(), in_dims=-1)(z), z.sum(0))


def test_nested_in_dims_for_tuples_lists_and_dicts():
    a, b, c = t(4, 2), t(4, 2), t(2)
    out = vmap(lambda p, q: p[0] * p[1] + q["k"], in_dims=((0, 0), {"k": None}))((a, b), {"k": c})
    close(out, a * b + c)
    out = vmap(lambda p: p[0] - p[1], in_dims=([0, 1],))([a, b.T])
    close(out, a - b)
    out = vmap(lambda p: p["x"].exp())({"x": a})  # an int applies to every tensor beneath it
    close(out, a.exp())


def test_non_tensor_arguments_and_kwargs_pass_through():
    x = t(3, 2)
    close(vmap(lambda a, n, scale=1.0: a * n * scale, in_dims=(0, None))(x, 3, scale=2.0), x * 6)


def test_out_dims_forms():
    x = t(4, 3)
    out = vmap(lambda a: (a * 2, a.sum()), out_dims=(1, 0))(x)
    close(out[0], (x * 2).T)
    close(out[1], x.sum(1))
    y = t(3)
    same = vmap(lambda a, b: b * 2, in_dims=(0, None), out_dims=0)(x, y)  # unbatched output: expanded
    close(same, (y * 2).expand(4, 3))
    shared = vmap(lambda a, b: (a + b, b * 2), in_dims=(0, None), out_dims=(0, None))(x, y)
    close(shared[1], y * 2)
    out = vmap(lambda a: {"s": a.sum()})(x)
    close(out["s"], x.sum(1))


def test_nested_vmap():
    x = t(2, 3, 4)
    close(vmap(vmap(lambda a: a.softmax(0)))(x), x.softmax(-1))
    y = t(3, 4)
    # the inner vmap maps y's dim 0, the outer x's dim 0 (y shared)
    out = vmap(vmap(lambda a, b: (a * b).sum(), in_dims=(0, 0)), in_dims=(0, None))(x, y)
    close(out, (x * y).sum(-1))
    m = t(4, 5)
    out = vmap(vmap(lambda a: a @ m, in_dims=1), in_dims=0)(t(2, 4, 3) * 1)
    assert out.shape == (2, 3, 5)


def test_chunk_size_gives_the_same_result():
    x, w = t(10, 3), t(3, 2)
    f = vmap(lambda a: (a @ w).tanh(), chunk_size=3)
    close(f(x), (x @ w).tanh())
    close(vmap(lambda a: a.sum(), chunk_size=4, out_dims=0)(x), x.sum(1))
    with pytest.raises(ValueError, match="chunk_size"):
        vmap(lambda a: a, chunk_size=0)


def test_in_dims_errors():
    x = t(3, 2)
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        vmap(lambda a, b: a + b)(x, t(4, 2))
    with pytest.raises(ValueError, match="in_dim"):
        vmap(lambda a: a, in_dims=2)(x)
    with pytest.raises(ValueError, match="non-Tensor"):
        vmap(lambda a, n: a, in_dims=(0, 0))(x, 3)
    with pytest.raises(ValueError, match="in_dims"):
        vmap(lambda a, b: a, in_dims=(0,))(x, x)
    with pytest.raises(ValueError, match="in_dims"):
        vmap(lambda a: a, in_dims=[0])(x)
    with pytest.raises(ValueError, match="at least one"):
        vmap(lambda a: a, in_dims=None)(x) if False else vmap(lambda a: a, in_dims=(None,))(x)
    with pytest.raises(RuntimeError, match="randomness"):
        vmap(lambda a: a, randomness="other")


def test_out_dims_errors():
    x = t(3, 2)
    with pytest.raises(ValueError, match="out_dim is None"):
        vmap(lambda a: a * 2, out_dims=None)(x)
    with pytest.raises(ValueError, match="must only return Tensors"):
        vmap(lambda a: (a, 3))(x)


def test_item_and_data_dependent_control_flow_raise():
    x = t(3, 2)
    with pytest.raises(RuntimeError, match=r"\.item\(\)"):
        vmap(lambda a: a.sum().item())(x)
    with pytest.raises(RuntimeError, match="data-dependent control flow"):
        vmap(lambda a: a if a.sum() > 0 else -a)(x)


def test_inplace_on_batched_tensor_and_refused_into_unbatched():
    x = t(3, 2)
    out = vmap(lambda a: a.clone().mul_(2).add_(1))(x)
    close(out, x * 2 + 1)
    y = t(2)
    with pytest.raises(RuntimeError, match="vmapped over but `self` not"):
        vmap(lambda a, b: b.add_(a), in_dims=(0, None))(x, y.clone())
    base = x.clone()
    vmap(lambda a: a.mul_(3))(base)  # writes through to the input, as PyTorch's does
    close(base, x * 3)


def test_an_escaped_batched_tensor_is_refused():
    kept = []
    vmap(lambda a: kept.append(a * 2) or a)(t(3, 2))
    with pytest.raises(RuntimeError, match="escaped"):
        kept[0] + 1


def test_randomness_modes():
    x = rg.zeros(4, 3)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda a: a + rg.rand(3))(x)
    same = vmap(lambda a: a + rg.rand(3), randomness="same")(x)
    assert np.allclose(same.numpy(), same.numpy()[0])
    different = vmap(lambda a: a + rg.rand(3), randomness="different")(x)
    assert different.shape == (4, 3) and not np.allclose(different.numpy(), different.numpy()[0])
    drop = vmap(lambda a: F.dropout(a + 1, 0.5), randomness="different")(x)
    assert drop.shape == (4, 3)


def test_fallback_loops_with_a_warning_naming_the_op():
    from retrograd.func import _batch_rules

    x = t(4, 5)
    _batch_rules._warned.discard("scatter_add")
    index = rg.tensor([[0, 1, 0, 2, 1]])
    fn = lambda a: rg.zeros(3, 5, dtype=rg.float64).scatter_add(0, index, a.unsqueeze(0))  # noqa: E731
    with pytest.warns(UserWarning, match="batching rule for scatter_add"):
        out = vmap(fn)(x)
    close(out, loop(fn, x))


# ----------------------------------------------------------------------------- rules
RULE_CASES = {
    "matmul_vec_mat": (lambda a, b: a @ b, (t(4, 3), t(3, 2)), (0, None)),
    "matmul_mat_vec": (lambda a, b: a @ b, (t(4, 2, 3), t(4, 3)), (0, 0)),
    "matmul_batched_both": (lambda a, b: a @ b, (t(4, 5, 2, 3), t(3, 4, 2)), (0, 1)),
    "matmul_unbatched_batch_dims": (lambda a, b: a @ b, (t(4, 2, 3), t(5, 3, 2)), (0, None)),
    "linear_shared": (lambda a, w, b: F.linear(a, w, b), (t(4, 6, 3), t(2, 3), t(2)), (0, None, None)),
    "linear_per_example": (lambda a, w, b: F.linear(a, w, b), (t(4, 3), t(4, 2, 3), t(4, 2)), (0, 0, 0)),
    "conv2d_shared": (lambda a, w: F.conv2d(a, w, padding=1), (t(3, 2, 2, 5, 5), t(4, 2, 3, 3)), (0, None)),
    "conv2d_per_example": (
        lambda a, w, b: F.conv2d(a, w, b, stride=2, groups=2),
        (t(3, 2, 4, 5, 5), t(3, 4, 2, 3, 3), t(4, 3)),
        (0, 0, 1),
    ),
    "conv2d_unbatched_input": (lambda a, w: F.conv2d(a, w), (t(4, 5, 5), t(3, 2, 4, 3, 3)), (None, 0)),
    "conv1d_per_example": (lambda a, w: F.conv1d(a, w), (t(3, 2, 7), t(3, 4, 2, 3)), (0, 0)),
    "max_pool2d": (lambda a: F.max_pool2d(a, 2), (t(3, 2, 4, 6, 6),), (0,)),
    "avg_pool2d_unbatched": (lambda a: F.avg_pool2d(a, 3, 2), (t(4, 2, 7, 7),), (1,)),
    "softmax": (lambda a: F.softmax(a, 1), (t(3, 4, 5),), (2,)),
    "log_softmax": (lambda a: F.log_softmax(a, -1), (t(3, 4, 5),), (0,)),
    "layer_norm": (lambda a, w, b: F.layer_norm(a, (4,), w, b), (t(3, 2, 4), t(4), t(4)), (0, None, None)),
    "layer_norm_per_example": (lambda a, w, b: F.layer_norm(a, (4,), w, b), (t(3, 2, 4), t(3, 4), t(4)), (0, 0, None)),
    "cross_entropy_batched_target": (
        lambda a, y: F.cross_entropy(a, y),
        (t(3, 5, 4), rg.tensor(R.integers(0, 4, (3, 5)))),
        (0, 0),
    ),
    "cross_entropy_single": (
        lambda a, y: F.cross_entropy(a, y, label_smoothing=0.1),
        (t(6, 4), rg.tensor(R.integers(0, 4, (6,)))),
        (0, 0),
    ),
    "nll_loss_weighted_ignore": (
        lambda a, y, w: F.nll_loss(a, y, w, ignore_index=1),
        (t(3, 5, 4), rg.tensor(R.integers(0, 4, (3, 5))), t(4).abs()),
        (0, 0, None),
    ),
    "cross_entropy_shared_target": (
        lambda a, y: F.cross_entropy(a, y, reduction="sum"),
        (t(3, 5, 4), rg.tensor(R.integers(0, 4, (5,)))),
        (0, None),
    ),
    "mse_loss": (lambda a, b: F.mse_loss(a, b), (t(3, 4), t(4)), (0, None)),
    "embedding_batched_indices": (
        lambda i, w: F.embedding(i, w),
        (rg.tensor(R.integers(0, 6, (3, 4))), t(6, 2)),
        (1, None),
    ),
    "embedding_per_example_tables": (
        lambda i, w: F.embedding(i, w),
        (rg.tensor(R.integers(0, 6, (4, 3))), t(3, 6, 2)),
        (1, 0),
    ),
    "embedding_batched_both": (
        lambda i, w: F.embedding(i, w, padding_idx=0),
        (rg.tensor(R.integers(0, 6, (3, 4))), t(3, 6, 2)),
        (0, 0),
    ),
    "gather_batched_index": (lambda a, i: a.gather(0, i), (t(3, 4), rg.tensor(R.integers(0, 4, (3, 2)))), (0, 0)),
    "getitem_basic": (lambda a: a[1:, None, ::2][..., 0], (t(3, 4, 5),), (0,)),
    "getitem_tensor_index": (lambda a, i: a[i], (t(3, 5), rg.tensor(R.integers(0, 5, (3, 2)))), (0, 0)),
    "attention": (
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        (t(3, 2, 4, 8), t(2, 4, 8), t(3, 2, 4, 8)),
        (0, None, 0),
    ),
    "view_permute_expand_cat": (
        lambda a, b: rg.cat([a.view(2, 3).T.expand(2, 3, 2), b], 0),
        (t(4, 6), t(4, 1, 3, 2)),
        (0, 0),
    ),
    "reductions": (
        lambda a: (
            a.amax(0) + a.mean(-1, keepdim=True).squeeze(-1)[0] + a.logsumexp(1).sum() + a.norm() + a.prod(1).sum()
        ),
        (t(3, 2, 4),),
        (0,),
    ),
    "scans_pad_tril": (
        lambda a: F.pad(a.cumsum(-1).cumprod(0).logcumsumexp(1).tril(), (1, 2, 0, 1)),
        (t(3, 4, 4),),
        (2,),
    ),
    "where_and_compare": (lambda a, b: rg.where(a > b, a, b * 2), (t(3, 4), t(4)), (0, None)),
}


@pytest.mark.parametrize("name", sorted(RULE_CASES))
def test_batching_rules_against_a_loop(name):
    fn, args, dims = RULE_CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = vmap(fn, in_dims=dims)(*args)
    close(out, loop(fn, *args, in_dims=dims))


def test_shared_weight_ops_take_their_rule_not_the_loop(recwarn):
    """The ops a CNN, an MLP and a transformer block use run by rule: no fallback warning."""
    block = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double()
    cnn = nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(4, 3),
    ).double()
    warnings.simplefilter("always")
    vmap(block)(t(3, 5, 8))
    vmap(cnn)(t(3, 2, 1, 10, 10))
    vmap(lambda a: F.gelu(F.layer_norm(a, (4,))).sum(-1).mean())(t(3, 2, 4))
    vmap(nn.Embedding(6, 8).double())(rg.tensor(R.integers(0, 6, (3, 5))))
    assert not [w for w in recwarn if "performance drop" in str(w.message)], [str(w.message) for w in recwarn]


# ----------------------------------------------------------------------------- vmap(grad)
def _per_example_check(model, x, y, loss_fn, tol=1e-9):
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, xi, yi):
        return loss_fn(functional_call(model, p, (xi.unsqueeze(0),)), yi.unsqueeze(0))

    batched = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    for i in range(x.shape[0]):
        single = grad(loss)(params, x[i], y[i])
        for k in params:
            close(batched[k][i], single[k], tol)


def test_per_sample_grads_cnn():
    rg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(3, 4, 3),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(4, 5),
    ).double()
    _per_example_check(model, t(6, 1, 10, 10), rg.tensor(R.integers(0, 5, (6,))), F.cross_entropy)


def test_per_sample_grads_mlp_and_transformer():
    rg.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    _per_example_check(mlp, t(5, 4), t(5, 1), F.mse_loss)
    block = nn.Sequential(
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), nn.Flatten(), nn.Linear(24, 3)
    ).double()
    _per_example_check(block, t(4, 3, 8), rg.tensor(R.integers(0, 3, (4,))), F.cross_entropy, 1e-8)


def test_per_sample_grads_embedding_model():
    rg.manual_seed(0)
    model = nn.Sequential(nn.Embedding(7, 4), nn.Flatten(), nn.Linear(12, 2)).double()
    _per_example_check(model, rg.tensor(R.integers(0, 7, (5, 3))), t(5, 2), F.mse_loss)


def test_grad_of_a_closure_and_nested_vmap_grad():
    w, x = t(3), t(4, 3)
    g = vmap(lambda xi: grad(lambda ww: (ww * xi).sum() ** 2)(w))(x)
    close(g, loop(lambda xi: grad(lambda ww: (ww * xi).sum() ** 2)(w), x))
    xs = t(2, 4, 3)
    g2 = vmap(vmap(grad(lambda ww, xi: (ww * xi).sin().sum()), in_dims=(None, 0)), in_dims=(None, 0))(w, xs)
    close(g2, (xs * w).cos() * xs)


def test_other_reverse_transforms_inside_vmap_run_per_example():
    from retrograd.func import hessian, jacrev, vjp

    x = t(3, 4)
    f = lambda a: (a.sin() * a).cumsum(0)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        close(vmap(jacrev(f))(x), loop(jacrev(f), x))
        close(vmap(hessian(lambda a: f(a).sum()))(x), loop(hessian(lambda a: f(a).sum()), x))
        close(vmap(lambda a: vjp(f, a)[1](a)[0])(x), loop(lambda a: vjp(f, a)[1](a)[0], x))


def test_transforms_of_an_unbatched_input_with_a_batched_closure():
    # the differentiated input is the same for every example and the batch comes in through
    # another argument or a closure: each example must still get its own derivative (these
    # were zeros when the transforms ran on the batching wrappers)
    from retrograd.func import hessian, jacfwd, jacrev, jvp, vjp

    w, x = t(3), t(4, 3)
    f = lambda ww, xi: (ww * xi).sin()  # noqa: E731
    s = lambda ww, xi: (ww * xi).sin().sum()  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for transform in (jacrev, jacfwd):
            close(vmap(transform(f), (None, 0))(w, x), loop(transform(f), w, x, in_dims=(None, 0)))
            close(vmap(transform(s), (None, 0))(w, x), (w * x).cos() * x)
        close(vmap(hessian(s), (None, 0))(w, x), loop(hessian(s), w, x, in_dims=(None, 0)))
        close(vmap(lambda xi: vjp(lambda ww: f(ww, xi), w)[1](xi)[0])(x), (w * x).cos() * x * x)
        close(vmap(lambda xi: jvp(lambda ww: s(ww, xi), (w,), (xi,))[1])(x), ((w * x).cos() * x * x).sum(1))
        params = {"w": w}
        jd = vmap(jacrev(lambda p, xi: s(p["w"], xi)), (None, 0))(params, x)
        close(jd["w"], (w * x).cos() * x)
        xs = t(2, 4, 3)  # nested: both levels fall back to a loop
        close(vmap(vmap(jacrev(s), (None, 0)), (None, 0))(w, xs), (w * xs).cos() * xs)


def test_forward_mode_inside_vmap_runs_per_example_and_vmap_inside_jvp_batches():
    from retrograd.func import jacfwd, jvp

    x = t(3, 4)
    f = lambda a: a.sin() * a  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        close(vmap(lambda a: jvp(f, (a,), (a,))[1])(x), x * (x.cos() * x + x.sin()))
        close(vmap(jacfwd(f))(x), loop(jacfwd(f), x))
    out, tangent = jvp(vmap(f), (x,), (x * 0 + 1,))
    close(tangent, x.cos() * x + x.sin())


def test_vmap_inside_grad():
    x = t(4, 3).requires_grad_()
    w = t(3)
    out = vmap(lambda a: (a * w).tanh().sum())(x)
    (gx,) = rg.autograd.grad(out.sum(), x)
    close(gx, (1 - (x * w).tanh() ** 2) * w)


def test_basic_indexing_takes_its_rule(recwarn):
    warnings.simplefilter("always")
    x = t(3, 4, 5)
    close(vmap(lambda a: a[1:, None, ::2][..., 0] * a[0, 0])(x), loop(lambda a: a[1:, None, ::2][..., 0] * a[0, 0], x))
    assert not [w for w in recwarn if "performance drop" in str(w.message)]
