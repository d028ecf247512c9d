"""Indexing, sorting/scans and linear algebra against PyTorch itself (optional: needs torch).

Each case runs the same call under both libraries on the same float64 inputs and compares the
values and the gradients of sum(out * w) for a fixed random w."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")


def _compare(call, shapes, seed=0, low=-2.0, high=2.0, grads=True):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(low, high, s) for s in shapes]
    results = []
    for lib in (rg, torch):
        ins = [lib.tensor(a, dtype=lib.float64, requires_grad=grads) for a in arrays]
        out = call(lib, *ins)
        w = np.random.default_rng(seed + 1).standard_normal(tuple(out.shape))
        if grads:
            (out * lib.tensor(w, dtype=out.dtype)).sum().backward()
        results.append((out.detach().numpy(), [t.grad.numpy() if grads and t.grad is not None else None for t in ins]))
    (o1, g1), (o2, g2) = results
    np.testing.assert_allclose(o1, o2, rtol=1e-7, atol=1e-9)
    for a, b in zip(g1, g2):
        if a is None or b is None:
            assert a is None and b is None or np.allclose(a if a is not None else b, 0)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def _idx(lib, values):
    return lib.tensor(values, dtype=lib.int64)


def _set(lib, x, v):
    y = x * 1
    y[0, :, [0, 2]] = v
    y[1][1:] = 0.5
    return y


CASES = {
    "getitem_int_array": (lambda lib, x: x[0, :, [0, 1, 0]], [(2, 3, 4)]),
    "getitem_repeat_mask": (lambda lib, x: x[[0, 0, 1]][x[[0, 0, 1]] > 0], [(2, 3)]),
    "getitem_separated": (lambda lib, x: x[[0, 1], 1:, [2, 0]], [(2, 3, 4)]),
    "setitem_non_leaf": (_set, [(2, 3, 4), (3, 2)]),
    "index_add": (lambda lib, x, s: x.index_add(1, _idx(lib, [2, 0, 2]), s, alpha=0.5), [(2, 3), (2, 3)]),
    "masked_fill": (lambda lib, x: x.masked_fill(x > 0.3, -1.0), [(3, 4)]),
    "take_along_dim": (lambda lib, x: lib.take_along_dim(x, _idx(lib, [[[0], [-1]]]), 1), [(2, 3, 4)]),
    "diag_embed": (lambda lib, x: lib.diag_embed(x, -1, 0, 2), [(2, 3)]),
    "triu": (lambda lib, x: x.triu(-1), [(2, 3, 4)]),
    "diagonal": (lambda lib, x: x.diagonal(1, 2, 0), [(3, 2, 4)]),
    "sort": (lambda lib, x: x.sort(1, descending=True).values, [(3, 4)]),
    "topk": (lambda lib, x: x.topk(2, 0, largest=False).values, [(4, 3)]),
    "median": (lambda lib, x: x.median(1).values, [(3, 4)]),
    "kthvalue": (lambda lib, x: x.kthvalue(2, 0).values, [(3, 4)]),
    "cummax": (lambda lib, x: x.cummax(1).values, [(3, 5)]),
    "cumsum": (lambda lib, x: x.cumsum(0), [(3, 4)]),
    "cumprod": (lambda lib, x: x.cumprod(1), [(3, 4)]),
    "diff": (lambda lib, x: lib.diff(x, 2, 0, prepend=x[:1] * 2), [(4, 3)]),
    "einsum_batch": (lambda lib, a, b: lib.einsum("...ij,jk->...ki", a, b), [(2, 3, 4), (4, 2)]),
    "einsum_diag": (lambda lib, a, b: lib.einsum("ii,ij->j", a, b), [(3, 3), (3, 2)]),
    "einsum_three": (lambda lib, a, b, c: lib.einsum("ab,bc,cd->ad", a, b, c), [(2, 3), (3, 4), (4, 2)]),
    "tensordot": (lambda lib, a, b: lib.tensordot(a, b, dims=([1, 0], [0, 2])), [(3, 4, 2), (4, 2, 3)]),
    "kron": (lambda lib, a, b: lib.kron(a, b), [(2, 3), (3, 2)]),
    "inv": (lambda lib, a: lib.linalg.inv(a + 3 * lib.eye(3, dtype=a.dtype)), [(2, 3, 3)]),
    "det": (lambda lib, a: lib.linalg.det(a), [(2, 3, 3)]),
    "slogdet": (lambda lib, a: lib.linalg.slogdet(a).logabsdet, [(3, 3)]),
    "solve": (lambda lib, a, b: lib.linalg.solve(a + 3 * lib.eye(3, dtype=a.dtype), b), [(2, 3, 3), (3, 2)]),
    "solve_triangular": (
        lambda lib, a, b: lib.linalg.solve_triangular(a + 3 * lib.eye(3, dtype=a.dtype), b, upper=True, left=False),
        [(3, 3), (2, 3)],
    ),
    "cholesky": (lambda lib, a: lib.linalg.cholesky(a @ a.mT + 3 * lib.eye(3, dtype=a.dtype)), [(3, 3)]),
    "qr": (lambda lib, a: lib.cat([t.flatten() for t in lib.linalg.qr(a)]), [(4, 3)]),
    "qr_wide": (lambda lib, a: lib.cat([t.flatten() for t in lib.linalg.qr(a)]), [(2, 4)]),
    "eigh": (
        lambda lib, a: (lambda e: lib.cat([e[0], (e[1] * e[1][:1].sign()).flatten()]))(lib.linalg.eigh(a + a.mT)),
        [(3, 3)],
    ),
    "svd": (
        lambda lib, a: (lambda u, s, vh: lib.cat([(u * u[:1].sign()).flatten(), s, (vh * vh[:, :1].sign()).flatten()]))(
            *lib.linalg.svd(a, full_matrices=False)
        ),
        [(4, 3)],
    ),
    "pinv": (lambda lib, a: lib.linalg.pinv(a), [(3, 4)]),
    "matrix_norm_nuc": (lambda lib, a: lib.linalg.matrix_norm(a, "nuc"), [(2, 3, 4)]),
    "norm_inf": (lambda lib, a: lib.linalg.norm(a, float("inf")), [(3, 4)]),
    "matrix_power": (lambda lib, a: lib.linalg.matrix_power(a, -3), [(3, 3)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    call, shapes = CASES[name]
    _compare(call, shapes)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_pytorch(reduce, include_self):
    index = [[0, 2, 1, 0], [1, 1, 0, 2]]
    _compare(
        lambda lib, x, s: x.scatter_reduce(0, _idx(lib, index), s, reduce, include_self=include_self),
        [(3, 4), (2, 4)],
        low=0.5,
        high=1.5,
    )


def test_cumprod_with_zeros_matches_pytorch():
    x = np.array([[2.0, 0.0, 3.0, 0.0, 1.5], [0.0, 1.0, 2.0, 3.0, 0.5]])
    out = []
    for lib in (rg, torch):
        t = lib.tensor(x, requires_grad=True)
        w = lib.tensor(np.arange(10.0).reshape(2, 5))
        (t.cumprod(1) * w).sum().backward()
        out.append(t.grad.numpy())
    np.testing.assert_allclose(out[0], out[1])


def test_integer_results_match_pytorch():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, (3, 6))
    seq = np.sort(rng.integers(0, 10, 7))
    for lib in (rg, torch):
        t = lib.tensor(a)
        res = [
            t.sort(dim=1, stable=True).indices,
            t.argsort(dim=0, descending=True, stable=True),
            lib.searchsorted(lib.tensor(seq), t, right=True),
            lib.bucketize(t, lib.tensor(seq)),
            lib.unique(t, return_inverse=True, return_counts=True)[1],
            t.cummax(1).indices,
            lib.nn.functional.one_hot(t.flatten(), 6),
        ]
        if lib is rg:
            ours = [r.numpy() for r in res]
        else:
            for mine, theirs in zip(ours, res):
                np.testing.assert_array_equal(mine, theirs.numpy())


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize(
    "sa, sb", [((5, 3), (5, 2)), ((5, 3), (5,)), ((3, 5), (3, 2)), ((2, 5, 3), (1, 5, 2)), ((2, 5, 3), (2, 5))]
)
def test_lstsq_matches_pytorch(sa, sb, driver):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    ours = rg.linalg.lstsq(rg.tensor(a), rg.tensor(b), driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    for x, y in zip(ours, theirs):
        assert tuple(x.shape) == tuple(y.shape) and str(x.dtype).split(".")[1] == str(y.dtype).split(".")[1]
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (4, 3), (3, 5)])
def test_linalg_lu_matches_pytorch(shape):
    a = np.random.default_rng(0).standard_normal(shape)
    for fn in ("lu_factor_ex", "lu"):
        ours, theirs = getattr(rg.linalg, fn)(rg.tensor(a)), getattr(torch.linalg, fn)(torch.tensor(a))
        for x, y in zip(ours, theirs):
            assert tuple(x.shape) == tuple(y.shape) and str(x.dtype).split(".")[1] == str(y.dtype).split(".")[1]
            np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_linalg_lu_solve_matches_pytorch(left, adjoint):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 4, 4)), rng.standard_normal((2, 4, 4))
    ours = rg.linalg.lu_solve(*rg.linalg.lu_factor(rg.tensor(a)), rg.tensor(b), left=left, adjoint=adjoint)
    theirs = torch.linalg.lu_solve(
        *torch.linalg.lu_factor(torch.tensor(a)), torch.tensor(b), left=left, adjoint=adjoint
    )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_linalg_vander_tensorinv_tensorsolve_match_pytorch():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3))
    for kw in ({}, {"N": 5}):
        np.testing.assert_allclose(
            rg.linalg.vander(rg.tensor(x), **kw).numpy(), torch.linalg.vander(torch.tensor(x), **kw).numpy()
        )
    assert rg.linalg.vander(rg.tensor([1, 2, 3])).tolist() == torch.linalg.vander(torch.tensor([1, 2, 3])).tolist()
    a = rng.standard_normal((4, 6, 8, 3))
    np.testing.assert_allclose(
        rg.linalg.tensorinv(rg.tensor(a)).numpy(), torch.linalg.tensorinv(torch.tensor(a)).numpy(), rtol=1e-8
    )
    a, b = rng.standard_normal((6, 2, 3)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(
        rg.linalg.tensorsolve(rg.tensor(a), rg.tensor(b), dims=(0,)).numpy(),
        torch.linalg.tensorsolve(torch.tensor(a), torch.tensor(b), dims=(0,)).numpy(),
        rtol=1e-8,
    )


def test_ex_forms_match_pytorch_info_and_results():
    a = np.tile(np.eye(3), (2, 1, 1))
    a[1, 2, 2] = -1.0
    s = np.tile(np.eye(3), (2, 1, 1))
    s[1, 1, 1] = 0.0
    rng = np.random.default_rng(0)
    m = rng.standard_normal((2, 3, 3))
    p = m @ np.swapaxes(m, -1, -2) + 3 * np.eye(3)
    for name, args in (
        ("cholesky_ex", (a,)),
        ("cholesky_ex", (p,)),
        ("inv_ex", (s,)),
        ("inv_ex", (p,)),
        ("solve_ex", (s, p[..., 0])),
    ):
        ours = getattr(rg.linalg, name)(*(rg.tensor(x) for x in args))
        theirs = getattr(torch.linalg, name)(*(torch.tensor(x) for x in args))
        assert ours[1].tolist() == theirs[1].tolist()
        good = theirs[1].numpy() == 0
        np.testing.assert_allclose(ours[0].numpy()[good], theirs[0].numpy()[good], rtol=1e-10, atol=1e-12)
        if not good.all():
            with pytest.raises(RuntimeError):
                getattr(torch.linalg, name)(*(torch.tensor(x) for x in args), check_errors=True)
            with pytest.raises(RuntimeError):
                getattr(rg.linalg, name)(*(rg.tensor(x) for x in args), check_errors=True)


def test_index_node_names_match_pytorch():
    import itertools

    parts = [0, -1, slice(None), slice(1, None), slice(0, 100), slice(None, None, 2), None, Ellipsis]
    t = torch.randn(3, 4, requires_grad=True)
    r = rg.randn(3, 4, requires_grad=True)
    indices = list(parts) + [p for p in itertools.product(parts, repeat=2) if p.count(Ellipsis) < 2]
    for index in indices:
        assert r[index].grad_fn.name() == t[index].grad_fn.name(), index
