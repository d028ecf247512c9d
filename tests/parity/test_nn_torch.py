"""Optional parity with PyTorch: load a torch module's state dict into the retrograd module of
the same name and configuration, then compare outputs, parameter gradients and buffers."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
from retrograd import nn  # noqa: E402


def to_rg(v):
    return rg.tensor(v.detach().numpy()) if isinstance(v, torch.Tensor) else v


def flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [] if out is None else [out]


def pair(name, *args, **kwargs):
    """The torch and retrograd modules, the latter loaded (strictly) from the former."""
    torch.manual_seed(0)
    t = getattr(torch.nn, name)(*args, **kwargs).double()
    r = getattr(nn, name)(*args, **kwargs).double()
    r.load_state_dict({k: to_rg(v) for k, v in t.state_dict().items()})
    return t, r


def check(t, r, inputs, kwargs=None, train=True, grads=True, rtol=1e-7, atol=1e-9):
    kwargs = kwargs or {}
    t.train(train)
    r.train(train)
    t_in = [
        torch.tensor(x, requires_grad=grads and x.dtype.kind == "f") if isinstance(x, np.ndarray) else x for x in inputs
    ]
    r_in = [
        rg.tensor(x, requires_grad=grads and x.dtype.kind == "f") if isinstance(x, np.ndarray) else x for x in inputs
    ]
    t_kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    r_kw = {k: rg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    t_out, r_out = flat(t(*t_in, **t_kw)), flat(r(*r_in, **r_kw))
    assert len(t_out) == len(r_out)
    for a, b in zip(t_out, r_out):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=rtol, atol=atol)
    for (name, a), (_, b) in zip(t.named_buffers(), r.named_buffers()):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=rtol, atol=atol, err_msg=name)
    if not grads:
        return
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(tuple(o.shape)) for o in t_out if o.is_floating_point()]
    sum(
        ((o * torch.tensor(w)).sum() for o, w in zip([o for o in t_out if o.is_floating_point()], weights)),
        torch.zeros((), dtype=torch.float64),
    ).backward()
    r_float = [o for o in r_out if o.is_floating_point()]
    sum(((o * rg.tensor(w)).sum() for o, w in zip(r_float, weights)), rg.zeros((), dtype=rg.float64)).backward()
    for (name, a), (_, b) in zip(t.named_parameters(), r.named_parameters()):
        if a.grad is None:
            assert b.grad is None, name
            continue
        g = b.grad.to_dense() if b.grad.is_sparse else b.grad
        np.testing.assert_allclose(g.numpy(), a.grad.to_dense().numpy(), rtol=1e-6, atol=1e-8, err_msg=name)
    for a, b in zip(t_in, r_in):
        if isinstance(a, torch.Tensor) and a.grad is not None:
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-6, atol=1e-8)


R = np.random.default_rng(1)


def randn(*shape):
    return R.standard_normal(shape)


CASES = [
    ("Linear", (5, 3), {}, lambda: [randn(2, 4, 5)]),
    ("Bilinear", (3, 4, 2), {}, lambda: [randn(5, 3), randn(5, 4)]),
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=1), lambda: [randn(2, 3, 9)]),
    ("Conv2d", (4, 6, 3), dict(groups=2, dilation=2, padding="same"), lambda: [randn(2, 4, 7, 6)]),
    ("Conv2d", (2, 3, 3), dict(padding=1, padding_mode="reflect"), lambda: [randn(1, 2, 5, 5)]),
    ("ConvTranspose2d", (4, 2, 3), dict(stride=2, padding=1, output_padding=1), lambda: [randn(2, 4, 3, 4)]),
    ("MaxPool2d", (3,), dict(stride=2, padding=1), lambda: [randn(2, 3, 7, 7)]),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, count_include_pad=False), lambda: [randn(2, 3, 7, 7)]),
    ("AdaptiveAvgPool2d", ((3, 2),), {}, lambda: [randn(2, 3, 7, 5)]),
    ("BatchNorm1d", (4,), {}, lambda: [randn(8, 4, 3)]),
    ("BatchNorm2d", (3,), dict(momentum=None), lambda: [randn(4, 3, 2, 2)]),
    ("LayerNorm", ((3, 4),), {}, lambda: [randn(2, 3, 4)]),
    ("RMSNorm", (4,), {}, lambda: [randn(2, 3, 4)]),
    ("GroupNorm", (2, 4), {}, lambda: [randn(2, 4, 3)]),
    ("Embedding", (10, 3), dict(padding_idx=1), lambda: [np.array([[1, 2, 2], [9, 0, 1]])]),
    ("EmbeddingBag", (10, 3), dict(mode="max"), lambda: [np.array([1, 2, 2, 9, 0, 1]), np.array([0, 2])]),
    ("LSTM", (3, 4), dict(num_layers=2, bidirectional=True, batch_first=True), lambda: [randn(2, 5, 3)]),
    ("LSTM", (3, 5), dict(proj_size=2), lambda: [randn(4, 2, 3)]),
    ("GRU", (3, 4), dict(num_layers=2), lambda: [randn(5, 2, 3)]),
    ("RNN", (3, 4), dict(nonlinearity="relu", bidirectional=True), lambda: [randn(5, 3)]),
    ("MultiheadAttention", (8, 2), dict(batch_first=True), lambda: [randn(2, 4, 8), randn(2, 5, 8), randn(2, 5, 8)]),
    (
        "MultiheadAttention",
        (8, 2),
        dict(kdim=3, vdim=5, add_bias_kv=True, add_zero_attn=True),
        lambda: [randn(4, 2, 8), randn(5, 2, 3), randn(5, 2, 5)],
    ),
    ("GELU", (), dict(approximate="tanh"), lambda: [randn(3, 4)]),
    ("Softplus", (), dict(beta=2.0, threshold=1.0), lambda: [randn(3, 4)]),
    ("PReLU", (3,), {}, lambda: [randn(2, 3, 4)]),
    ("LogSoftmax", (), dict(dim=1), lambda: [randn(3, 4)]),
    ("GLU", (), dict(dim=1), lambda: [randn(3, 4)]),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_module_matches_torch(case):
    name, args, kwargs, inputs = case
    t, r = pair(name, *args, **kwargs)
    check(t, r, inputs())
    if any(True for _ in t.buffers()):
        check(t, r, inputs(), train=False)


def test_mha_masks_match_torch():
    t, r = pair("MultiheadAttention", 8, 2, batch_first=True)
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    pad = np.array([[False] * 4, [False, False, True, True]])
    for need_weights in (True, False):
        check(
            t,
            r,
            [randn(2, 4, 8)] * 3,
            dict(attn_mask=causal, key_padding_mask=pad, need_weights=need_weights, average_attn_weights=False),
        )


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_matches_torch(norm_first):
    torch.manual_seed(0)
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=norm_first, activation="gelu")
    t = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False).double()
    rl = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=norm_first, activation="gelu")
    r = nn.TransformerEncoder(rl, 2, norm=nn.LayerNorm(8)).double()
    r.load_state_dict({k: to_rg(v) for k, v in t.state_dict().items()})
    mask = np.triu(np.full((5, 5), -np.inf), 1)
    check(t, r, [randn(2, 5, 8)], dict(mask=mask), train=False)


LOSSES = [
    ("CrossEntropyLoss", dict(label_smoothing=0.1), lambda: [randn(4, 5), np.array([0, 2, 4, 1])]),
    (
        "CrossEntropyLoss",
        dict(weight=rg.tensor(np.arange(1.0, 6.0)), ignore_index=2),
        lambda: [randn(4, 5, 2), np.array([[0, 2], [4, 1], [2, 2], [3, 0]])],
    ),
    ("NLLLoss", dict(reduction="sum"), lambda: [randn(4, 5), np.array([0, 2, 4, 1])]),
    ("MSELoss", {}, lambda: [randn(3, 4), randn(3, 4)]),
    ("L1Loss", dict(reduction="none"), lambda: [randn(3, 4), randn(3, 4)]),
    ("SmoothL1Loss", dict(beta=0.5), lambda: [randn(3, 4), randn(3, 4)]),
    ("HuberLoss", dict(delta=0.5), lambda: [randn(3, 4), randn(3, 4)]),
    ("BCELoss", {}, lambda: [R.uniform(0.05, 0.95, (3, 4)), R.uniform(0, 1, (3, 4))]),
    (
        "BCEWithLogitsLoss",
        dict(pos_weight=rg.tensor(np.array([1.0, 2.0, 0.5, 3.0]))),
        lambda: [randn(3, 4), R.uniform(0, 1, (3, 4))],
    ),
    ("KLDivLoss", dict(reduction="batchmean"), lambda: [randn(3, 4), R.uniform(0.1, 1, (3, 4))]),
    ("CosineEmbeddingLoss", dict(margin=0.2), lambda: [randn(4, 3), randn(4, 3), np.array([1.0, -1, 1, -1])]),
    ("MarginRankingLoss", dict(margin=0.3), lambda: [randn(4), randn(4), np.array([1.0, -1, 1, -1])]),
    ("TripletMarginLoss", dict(swap=True), lambda: [randn(4, 3), randn(4, 3), randn(4, 3)]),
]


@pytest.mark.parametrize("case", LOSSES, ids=[f"{c[0]}-{i}" for i, c in enumerate(LOSSES)])
def test_loss_matches_torch(case):
    name, kwargs, inputs = case
    t_kwargs = {k: torch.tensor(v.numpy()).double() if isinstance(v, rg.Tensor) else v for k, v in kwargs.items()}
    r_kwargs = {k: v.double() if isinstance(v, rg.Tensor) else v for k, v in kwargs.items()}
    t = getattr(torch.nn, name)(**t_kwargs)
    r = getattr(nn, name)(**r_kwargs)
    check(t, r, inputs())
