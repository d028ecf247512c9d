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


def _norm_coords(n, align):
    if n == 1:
        return np.zeros(1)
    return np.linspace(-1, 1, n) if align else (np.arange(n) * 2 + 1) / n - 1


def _affine_grid_ref(theta, size, align):
    n, _, h, w = size
    ys, xs = np.meshgrid(_norm_coords(h, align), _norm_coords(w, align), indexing="ij")
    base = np.stack([xs, ys, np.ones_like(xs)], -1)  # (H, W, 3)
    return np.einsum("hwk,njk->nhwj", base, theta)


def _reflect_ref(c, lo2, hi2):
    if lo2 == hi2:
        return 0.0
    lo, span = lo2 / 2, (hi2 - lo2) / 2
    d = abs(c - lo)
    flips = np.floor(d / span)
    extra = d - flips * span
    return extra + lo if flips % 2 == 0 else span - extra + lo


def _grid_sample_ref(x, g, mode, pad, align):
    """2-D grid_sample, one output point at a time."""
    n_, c_, h, w = x.shape
    out = np.zeros((n_, c_) + g.shape[1:3])

    def coord(v, size):
        p = (v + 1) / 2 * (size - 1) if align else ((v + 1) * size - 1) / 2
        if pad == "reflection":
            p = _reflect_ref(p, 0, 2 * (size - 1)) if align else _reflect_ref(p, -1, 2 * size - 1)
        if pad != "zeros":
            p = min(max(p, 0), size - 1)
        return p

    for n in range(n_):
        for i in range(g.shape[1]):
            for j in range(g.shape[2]):
                px, py = coord(g[n, i, j, 0], w), coord(g[n, i, j, 1], h)
                if mode == "nearest":
                    taps = [(np.round(py), np.round(px), 1.0)]
                else:
                    x0, y0 = np.floor(px), np.floor(py)
                    fx, fy = px - x0, py - y0
                    taps = [(y0 + a, x0 + b, (fy if a else 1 - fy) * (fx if b else 1 - fx))
                            for a in (0, 1) for b in (0, 1)]
                for yy, xx, wt in taps:
                    if 0 <= yy < h and 0 <= xx < w:
                        out[n, :, i, j] += wt * x[n, :, int(yy), int(xx)]
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
    for align in (True, False):
        T.append(OpSpec(f"affine_grid{'_align' if align else ''}",
                        lambda t, a=align: F.affine_grid(t, (2, 3, 3, 4), align_corners=a),
                        lambda t, a=align: _affine_grid_ref(t, (2, 3, 3, 4), a), [[(2, 2, 3)]]))
        for mode, pad in (("bilinear", "zeros"), ("bilinear", "border"), ("bilinear", "reflection"),
                          ("nearest", "zeros"), ("nearest", "reflection")):
            T.append(OpSpec(f"grid_sample_{mode}_{pad}{'_align' if align else ''}",
                            lambda x, g, m=mode, p=pad, a=align: F.grid_sample(x, g, m, p, a),
                            lambda x, g, m=mode, p=pad, a=align: _grid_sample_ref(x, g, m, p, a),
                            [[(2, 2, 3, 4), (2, 2, 3, 2)]], low=-1.3, high=1.3))
    T.append(OpSpec("grid_sample_3d", lambda x, g: F.grid_sample(x, g, align_corners=False),
                    lambda x, g: _grid_sample_3d_ref(x, g), [[(1, 2, 2, 3, 2), (1, 1, 2, 2, 3)]], low=-1.1, high=1.1))
    return T


def _grid_sample_3d_ref(x, g):
    """Trilinear sampling, zeros padding, align_corners=False."""
    _, c_, d, h, w = x.shape
    out = np.zeros((1, c_) + g.shape[1:4])
    for idx in np.ndindex(*g.shape[1:4]):
        px, py, pz = (((g[(0,) + idx][k] + 1) * s - 1) / 2 for k, s in enumerate((w, h, d)))
        corner = np.floor([pz, py, px])
        frac = np.array([pz, py, px]) - corner
        for bits in np.ndindex(2, 2, 2):
            zz, yy, xx = (corner + bits).astype(int)
            wt = np.prod([f if b else 1 - f for f, b in zip(frac, bits)])
            if 0 <= zz < d and 0 <= yy < h and 0 <= xx < w:
                out[(0, slice(None)) + idx] += wt * x[0, :, zz, yy, xx]
    return out
