"""Every nn module class as PyTorch lays it out: the same state_dict keys, shapes and order (so
checkpoints load both ways), the same named parameters and buffers, and the same printout."""

import warnings

import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

# constructor arguments where a class has required ones
ARGS = {
    "Linear": (4, 3),
    "Bilinear": (4, 5, 3),
    "Conv1d": (2, 4, 3),
    "Conv2d": (2, 4, 3),
    "Conv3d": (2, 4, 3),
    "ConvTranspose1d": (2, 4, 3),
    "ConvTranspose2d": (2, 4, 3),
    "ConvTranspose3d": (2, 4, 3),
    "BatchNorm1d": (4,),
    "BatchNorm2d": (4,),
    "BatchNorm3d": (4,),
    "InstanceNorm1d": (4,),
    "InstanceNorm2d": (4,),
    "InstanceNorm3d": (4,),
    "LayerNorm": (4,),
    "GroupNorm": (2, 4),
    "LocalResponseNorm": (2,),
    "RMSNorm": (4,),
    "SyncBatchNorm": (4,),
    "Embedding": (10, 4),
    "EmbeddingBag": (10, 4),
    "RNN": (4, 5),
    "LSTM": (4, 5),
    "GRU": (4, 5),
    "RNNCell": (4, 5),
    "LSTMCell": (4, 5),
    "GRUCell": (4, 5),
    "MultiheadAttention": (8, 2),
    "TransformerEncoderLayer": (8, 2, 16),
    "TransformerDecoderLayer": (8, 2, 16),
    "AdaptiveLogSoftmaxWithLoss": (8, 20, [5, 10]),
    "ChannelShuffle": (2,),
    "CrossMapLRN2d": (3,),
    "Fold": ((4, 5), 2),
    "Unfold": (2,),
    "FractionalMaxPool2d": (2, 3),
    "FractionalMaxPool3d": (2, 3),
    "PixelShuffle": (2,),
    "PixelUnshuffle": (2,),
    "Threshold": (0.1, 20.0),
    "Unflatten": (1, (2, 3)),
    "RNNBase": ("LSTM", 4, 5),
}
for _n in ("AvgPool", "MaxPool", "MaxUnpool", "AdaptiveAvgPool", "AdaptiveMaxPool"):
    for _d in "123":
        ARGS[f"{_n}{_d}d"] = (2,)
for _d in "123":
    ARGS[f"LPPool{_d}d"] = (2, 3)
    ARGS[f"ConstantPad{_d}d"] = (1, 0.5)
    for _n in ("CircularPad", "ReflectionPad", "ReplicationPad", "ZeroPad"):
        ARGS[f"{_n}{_d}d"] = (1,)
VARIANTS = [
    (
        "Transformer",
        (),
        {"d_model": 8, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1, "dim_feedforward": 16},
    ),
    ("LSTM", (4, 5), {"num_layers": 2, "bidirectional": True, "proj_size": 3}),
    ("GRU", (4, 5), {"num_layers": 2, "bias": False}),
    ("MultiheadAttention", (8, 2), {"kdim": 6, "vdim": 5}),
    ("MultiheadAttention", (8, 2), {"add_bias_kv": True}),
    ("BatchNorm1d", (4,), {"affine": False}),
    ("BatchNorm1d", (4,), {"track_running_stats": False}),
    ("InstanceNorm1d", (4,), {"affine": True, "track_running_stats": True}),
    ("LayerNorm", (4,), {"bias": False}),
    ("LayerNorm", (4,), {"elementwise_affine": False}),
    ("EmbeddingBag", (10, 4), {"mode": "sum", "padding_idx": 2}),
    ("Conv2d", (2, 4, 3), {"bias": False, "groups": 2, "padding_mode": "reflect", "padding": 1}),
    ("Embedding", (10, 4), {"padding_idx": 0, "max_norm": 1.0}),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "dilation": 2, "return_indices": True, "ceil_mode": True}),
    (
        "AvgPool2d",
        (3,),
        {"stride": 1, "padding": 1, "ceil_mode": True, "count_include_pad": False, "divisor_override": 2},
    ),
    ("ZeroPad2d", ((1, 2, 3, 4),), {}),
    ("Upsample", (), {"scale_factor": 2, "mode": "bilinear", "align_corners": False}),
]


def _classes():
    names = []
    for n in dir(torch.nn):
        c = getattr(torch.nn, n)
        if isinstance(c, type) and issubclass(c, torch.nn.Module) and not n.startswith("Lazy") and hasattr(rg.nn, n):
            names.append(n)
    return names


CASES = [(n, ARGS.get(n, ()), {}) for n in _classes()] + VARIANTS


def _layout(module):
    sd = module.state_dict()
    return (
        [(k, tuple(v.shape)) for k, v in sd.items()],
        [k for k, _ in module.named_parameters()],
        [k for k, _ in module.named_buffers()],
        repr(module),
    )


@pytest.mark.parametrize("name, args, kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_same_layout_and_printout(name, args, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = getattr(torch.nn, name)(*args, **kwargs)
        except Exception:
            pytest.skip(f"{name} needs arguments this test does not give")
        ours = getattr(rg.nn, name)(*args, **kwargs)
    assert _layout(ours) == _layout(theirs)
