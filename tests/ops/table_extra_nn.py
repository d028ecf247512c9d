"""Op table: pixel_shuffle, pixel_unshuffle, channel_shuffle and F.embedding_bag."""
import numpy as np

from .optable import OpSpec


def _pixel_shuffle(x, r):
    *lead, c, h, w = x.shape
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    y = np.transpose(y, tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def _pixel_unshuffle(x, r):
    *lead, c, h, w = x.shape
    out = np.empty((*lead, c * r * r, h // r, w // r))
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                out[..., ch * r * r + i * r + j, :, :] = x[..., ch, i::r, j::r]
    return out


def _channel_shuffle(x, g):
    n, c = x.shape[:2]
    out = np.empty_like(x)
    k = c // g
    for a in range(g):
        for b in range(k):
            out[:, b * g + a] = x[:, a * k + b]
    return out


INDICES = [2, 0, 4, 2, 1, 3, 3]
OFFSETS = [0, 2, 2, 5]  # bags [2, 0], [], [4, 2, 1], [3, 3]


def _bag_ref(weight, mode, psw=None, padding_idx=None):
    ends = OFFSETS[1:] + [len(INDICES)]
    out = []
    for s, e in zip(OFFSETS, ends):
        rows = [weight[i] * (1 if psw is None else psw[k]) for k, i in zip(range(s, e), INDICES[s:e])
                if i != padding_idx]
        if not rows:
            out.append(np.zeros(weight.shape[1]))
        elif mode == "sum":
            out.append(np.sum(rows, 0))
        elif mode == "mean":
            out.append(np.mean(rows, 0))
        else:
            out.append(np.max(rows, 0))
    return np.stack(out)


def build(rg):
    F = rg.nn.functional
    idx = rg.tensor(INDICES)
    offs = rg.tensor(OFFSETS)
    T = [
        OpSpec("pixel_shuffle", lambda x: F.pixel_shuffle(x, 2), lambda x: _pixel_shuffle(x, 2),
               [[(1, 8, 2, 3)], [(12, 1, 2)], [(2, 1, 8, 1, 2)]]),
        OpSpec("pixel_shuffle_r3", lambda x: rg.pixel_shuffle(x, 3), lambda x: _pixel_shuffle(x, 3), [[(9, 2, 1)]]),
        OpSpec("pixel_unshuffle", lambda x: F.pixel_unshuffle(x, 2), lambda x: _pixel_unshuffle(x, 2),
               [[(1, 2, 4, 6)], [(3, 2, 2)]]),
        OpSpec("channel_shuffle", lambda x: F.channel_shuffle(x, 3), lambda x: _channel_shuffle(x, 3),
               [[(2, 6, 3)], [(1, 3, 2, 2)]]),
    ]
    for mode in ("sum", "mean", "max"):
        T.append(OpSpec(f"embedding_bag_{mode}", lambda w, m=mode: F.embedding_bag(idx, w, offs, mode=m),
                        lambda w, m=mode: _bag_ref(w, m), [[(5, 3)]]))
    T += [
        OpSpec("embedding_bag_per_sample_weights",
               lambda w, p: F.embedding_bag(idx, w, offs, mode="sum", per_sample_weights=p),
               lambda w, p: _bag_ref(w, "sum", p), [[(5, 3), (7,)]]),
        OpSpec("embedding_bag_padding_idx", lambda w: F.embedding_bag(idx, w, offs, padding_idx=2),
               lambda w: _bag_ref(w, "mean", padding_idx=2), [[(5, 3)]]),
        OpSpec("embedding_bag_2d", lambda w: F.embedding_bag(rg.tensor([[0, 1], [4, 4]]), w, mode="sum"),
               lambda w: np.stack([w[0] + w[1], 2 * w[4]]), [[(5, 2)]]),
        OpSpec("embedding_bag_include_last_offset",
               lambda w: F.embedding_bag(idx, w, rg.tensor([0, 2, 7]), include_last_offset=True),
               lambda w: np.stack([w[INDICES[:2]].mean(0), w[INDICES[2:]].mean(0)]), [[(5, 2)]]),
    ]
    return T
