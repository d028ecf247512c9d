"""PyTorch's documented names of torch, torch.nn, torch.nn.functional, torch.optim,
torch.utils.data and Tensor (tests/pytorch_docs/, generated once from PyTorch's documentation by
tools/gen_documented_names.py): each is in retrograd or on the not-yet list with why
(tests/pytorch_docs/not_yet.txt); docs/api.md shows the coverage (tests/test_api_doc.py keeps it
current)."""

import pytest

from ._tools import load_tool

gen = load_tool("gen_api_doc")
COVERAGE = gen.coverage()
NOT_YET = gen.not_yet()
# Documented nn classes that are not layers (tests below require every documented layer)
NN_NOT_LAYERS = {
    # the options of LinearCrossEntropyLoss's chunked evaluation, which is not implemented
    "LinearCrossEntropyOptions",
}


@pytest.mark.parametrize("ns", sorted(COVERAGE))
def test_every_documented_name_is_here_or_listed_as_not_yet(ns):
    names, missing = COVERAGE[ns]
    unlisted = [n for n in missing if n not in NOT_YET[ns]]
    assert not unlisted, f"PyTorch's documented {ns} names neither in retrograd nor on the not-yet list: {unlisted}"
    print(f"\n{ns}: {len(names) - len(missing)} of {len(names)} documented names")


@pytest.mark.parametrize("ns", sorted(COVERAGE))
def test_the_not_yet_list_names_only_documented_names_that_are_missing(ns):
    names, missing = COVERAGE[ns]
    stale = sorted(set(NOT_YET[ns]) - set(missing))
    assert not stale, f"on the {ns} not-yet list but present or not documented (delete their lines): {stale}"


def test_every_documented_nn_layer_is_here():
    _, missing = COVERAGE["nn"]
    layers = [n for n in missing if "." not in n and n[0].isupper() and n not in NN_NOT_LAYERS]
    assert not layers, f"documented nn classes missing: {layers}"


def test_the_lists_cover_each_namespace():
    # generated from the documentation, not from dir(): a sample of each namespace's names
    expected = {
        "torch": {"cat", "no_grad", "manual_seed", "save", "einsum"},
        "nn": {"Conv2d", "LSTM", "utils.rnn.pad_sequence", "utils.clip_grad_norm_", "Flatten"},
        "nn.functional": {"conv2d", "cross_entropy", "scaled_dot_product_attention"},
        "optim": {"Adam", "lr_scheduler.OneCycleLR", "Optimizer.zero_grad", "swa_utils.AveragedModel"},
        "utils.data": {"DataLoader", "random_split", "DistributedSampler"},
        "Tensor": {"backward", "view", "T", "add_"},
    }
    for ns, sample in expected.items():
        assert sample <= set(COVERAGE[ns][0]), (ns, sample - set(COVERAGE[ns][0]))
    assert not gen.present("torch", "no_such_name") and gen.present("nn", "utils.rnn.pad_sequence")
