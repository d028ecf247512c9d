"""Op table: addbmm, addr, adjoint, chain_matmul, the in-place addmm_/addmv_/baddbmm_, put,
fill, fill_diagonal_, gradient, and the *_copy aliases."""
import numpy as np

from .optable import OpSpec


def _put(x, src, idx, accumulate):
    out = x.copy().reshape(-1)
    if accumulate:
        np.add.at(out, idx, src.reshape(-1))
    else:
        out[idx] = src.reshape(-1)
    return out.reshape(x.shape)


def _fill_diagonal(x, v, wrap=False):
    out = x.copy()
    np.fill_diagonal(out, v, wrap=wrap)
    return out


def build(rg):
    idx = [5, 0, 11, 5]
    return [
        OpSpec("addbmm", lambda i, a, b: rg.addbmm(i, a, b, beta=0.5, alpha=2.0),
               lambda i, a, b: 0.5 * i + 2.0 * np.einsum("bij,bjk->ik", a, b), [[(3, 2), (4, 3, 5), (4, 5, 2)]]),
        OpSpec("addr", lambda i, a, b: i.addr(a, b, alpha=3.0), lambda i, a, b: i + 3.0 * np.outer(a, b),
               [[(3, 4), (3,), (4,)], [(4,), (3,), (4,)]]),
        OpSpec("addmm_", lambda i, a, b: (i * 1).addmm_(a, b, beta=2.0), lambda i, a, b: 2.0 * i + a @ b,
               [[(3, 2), (3, 4), (4, 2)]]),
        OpSpec("addmv_", lambda i, a, b: (i * 1).addmv_(a, b, alpha=0.5), lambda i, a, b: i + 0.5 * (a @ b),
               [[(3,), (3, 4), (4,)]]),
        OpSpec("baddbmm_", lambda i, a, b: (i * 1).baddbmm_(a, b), lambda i, a, b: i + a @ b,
               [[(2, 3, 2), (2, 3, 4), (2, 4, 2)]]),
        OpSpec("adjoint", lambda x: x.adjoint() * 1, lambda x: np.swapaxes(x, -1, -2), [[(3, 4)], [(2, 3, 4)]]),
        OpSpec("chain_matmul", rg.chain_matmul, lambda a, b, c: a @ b @ c, [[(2, 3), (3, 4), (4, 2)]]),
        OpSpec("put", lambda x, s: rg.put(x, rg.tensor(idx), s), lambda x, s: _put(x, s, idx, False),
               [[(3, 4), (4,)]], skip={"gradcheck": "index 5 is written twice: the last write wins, an "
                                                    "order the finite differences do not see alike",
                                       "gradgradcheck": "as gradcheck",
                                       "forward_ad": "index 5 is written twice: its tangent is the last "
                                                     "write's (as its value is), backward's differs"}),
        OpSpec("put_accumulate", lambda x, s: (x * 1).put_(rg.tensor(idx), s, accumulate=True),
               lambda x, s: _put(x, s, idx, True), [[(3, 4), (2, 2)]]),
        OpSpec("put_unique", lambda x, s: x.put(rg.tensor([1, 7, -1]), s), lambda x, s: _put(x, s, [1, 7, 11], False),
               [[(3, 4), (3,)]]),
        OpSpec("fill", lambda x, v: rg.fill(x, v) * x, lambda x, v: np.full_like(x, v) * x, [[(3, 4), ()]]),
        OpSpec("fill_diagonal_", lambda x: (x * 1).fill_diagonal_(2.0), lambda x: _fill_diagonal(x, 2.0),
               [[(3, 4)], [(3, 3, 3)]]),
        OpSpec("fill_diagonal_wrap", lambda x: (x * 1).fill_diagonal_(-1.0, wrap=True),
               lambda x: _fill_diagonal(x, -1.0, True), [[(7, 3)]]),
        OpSpec("gradient", lambda x: rg.gradient(x)[0], lambda x: np.gradient(x), [[(6,)]]),
        OpSpec("gradient_2d_spacing", lambda x: rg.gradient(x, spacing=0.5)[1], lambda x: np.gradient(x, 0.5)[1],
               [[(4, 5)]]),
        OpSpec("gradient_edge_order_2", lambda x: rg.gradient(x, dim=0, edge_order=2)[0],
               lambda x: np.gradient(x, axis=0, edge_order=2), [[(5, 2)]]),
        OpSpec("gradient_coordinates", lambda x: rg.gradient(x, spacing=(rg.tensor([0.0, 0.5, 2.0, 2.5, 4.0]),),
                                                             dim=1, edge_order=2)[0],
               lambda x: np.gradient(x, [0.0, 0.5, 2.0, 2.5, 4.0], axis=1, edge_order=2), [[(3, 5)]]),
        OpSpec("gradient_coordinates_edge1", lambda x: rg.gradient(x, spacing=[rg.tensor([0.0, 1.0, 3.0, 3.5])])[0],
               lambda x: np.gradient(x, [0.0, 1.0, 3.0, 3.5]), [[(4,)]]),
        OpSpec("transpose_copy", lambda x: rg.transpose_copy(x, 0, 1), lambda x: x.T, [[(3, 4)]]),
        OpSpec("unfold_copy", lambda x: rg.unfold_copy(x, 0, 2, 1), lambda x: np.stack([x[:-1], x[1:]], -1), [[(5,)]]),
        OpSpec("select_copy", lambda x: rg.select_copy(x, 1, 2), lambda x: x[:, 2], [[(3, 4)]]),
    ]
