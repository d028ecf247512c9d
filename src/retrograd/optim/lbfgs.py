"""L-BFGS (Nocedal), with an optional strong-Wolfe line search, as PyTorch's ``optim.LBFGS``.

The algorithm works on the parameters as one flat vector (all parameters of its only group,
concatenated in order); the update directions, gradients and history live in flat arrays of
that length. Scalars (inner products, step lengths) keep the parameters' dtype, so a float32
model computes them in float32 as PyTorch does.
"""

import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from ..sparse import SparseTensor
from .optimizer import Optimizer, check_arguments, _closure_loss


def _scalar(a):
    """A 0-d array (NumPy or CuPy) or a dtype scalar as a NumPy scalar of its dtype."""
    return a if isinstance(a, np.generic) else a.dtype.type(a.item())


def _dot(a, b):
    return _scalar(a.dot(b))


def _abs_max(a):
    return _scalar(abs(a).max())


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through ``(x1, f1)`` and ``(x2, f2)`` with slopes ``g1`` and
    ``g2``, clamped to ``bounds`` (default: the interval between the points); their midpoint
    when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1**2 - g1 * g2
    if not disc >= 0:
        return (lo + hi) / 2.0
    d2 = np.sqrt(disc)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    r"""A step length ``t`` along ``d`` satisfying the strong Wolfe conditions
    (:math:`f(t) \le f + c_1 t\, g^\top d` and :math:`|g(t)^\top d| \le -c_2\, g^\top d`), found by
    bracketing then zooming with cubic interpolation (Nocedal and Wright, algorithms 3.5-3.6),
    with at most ``max_ls`` evaluations after the first. ``evaluate(t)`` returns the loss and
    flat gradient at ``x + t d``. Returns ``(f_new, g_new, t, evaluations)``."""
    d_norm = _abs_max(d)
    g = g.copy()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = _dot(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    bracket = None
    # bracketing: widen the step until an interval holds a point satisfying the conditions
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        lo_step, hi_step = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(lo_step, hi_step))
        f_prev, g_prev, gtd_prev = f_new, g_new.copy(), gtd_new
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]
    # zoom: shrink the bracket until a point satisfies the conditions
    insufficient = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # keep clear of the bracket's ends unless the last steps made enough progress
        b_min, b_max = min(bracket), max(bracket)
        eps = 0.1 * (b_max - b_min)
        if min(b_max - t, t - b_min) < eps:
            if insufficient or t >= b_max or t <= b_min:
                t = b_max - eps if abs(t - b_max) < abs(t - b_min) else b_min + eps
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new.copy(), gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new.copy(), gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


def _wrap(a):
    return Tensor._make(a, None, False)


def _unwrap(v):
    """A state entry as the step uses it: an array for a tensor (a dtype scalar for a 0-d one)."""
    if isinstance(v, Tensor):
        return _scalar(v._data) if v.ndim == 0 else v._data
    if isinstance(v, list):
        return [_unwrap(x) for x in v]
    return v


def _pack(v):
    """A value for the state dict: tensors for arrays and dtype scalars, as PyTorch keeps them."""
    if isinstance(v, np.generic):
        return _wrap(np.asarray(v))
    if isinstance(v, list):
        return [_pack(x) for x in v]
    if v is None or isinstance(v, (int, float)):
        return v
    return _wrap(v)


class LBFGS(Optimizer):
    r"""L-BFGS, PyTorch's algorithm: each ``step(closure)`` runs up to ``max_iter`` iterations,
    each moving the parameters along the quasi-Newton direction :math:`-H g` (two-loop recursion
    over the last ``history_size`` curvature pairs) by ``lr`` (the first iteration ever by
    :math:`\min(1, 1/\|g\|_1)\,\mathrm{lr}`), or by a step found by the strong-Wolfe line search
    when ``line_search_fn="strong_wolfe"``.

    An iteration stops the step when the gradient's largest element is at most
    ``tolerance_grad``, when the step or the change of the loss is under ``tolerance_change``, or
    when the closure has been evaluated ``max_eval`` times (default ``max_iter * 5 // 4``).
    ``closure`` is required: it must zero the gradients, compute the loss, call ``backward`` and
    return the loss; ``step`` returns the loss of its first evaluation.

    There is one parameter group (no per-parameter options). The state (of the first parameter,
    as in PyTorch) holds ``func_evals``, ``n_iter``, the last direction ``d`` and step ``t``, the
    history ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad`` and ``prev_loss``;
    it round-trips through ``state_dict``. A parameter without a gradient counts as a zero
    gradient; a sparse gradient is made dense.
    """

    def __init__(
        self,
        params,
        lr=1,
        max_iter=20,
        max_eval=None,
        tolerance_grad=1e-7,
        tolerance_change=1e-9,
        history_size=100,
        line_search_fn=None,
    ):
        check_arguments("LBFGS", lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # ------------------------------------------------------------------ flat views
    def _flat_grad(self):
        parts = []
        for p in self.param_groups[0]["params"]:
            g = p._grad
            if g is None:
                parts.append(array_module(p._data).zeros(p.numel(), p._data.dtype))
            elif type(g) is SparseTensor:
                parts.append(g.to_dense()._data.reshape(-1))
            else:
                parts.append(g._data.reshape(-1))
        return array_module(parts[0]).concatenate(parts)

    def _add(self, t, d):
        """The parameters += t * d (d flat)."""
        t = float(t)
        o = 0
        for p in self.param_groups[0]["params"]:
            pd = p._data
            n = pd.size
            pd += t * d[o : o + n].reshape(pd.shape)
            o += n
            p._version_counter().bump()

    def _evaluate(self, closure, x, t, d):
        """The loss and flat gradient at ``x + t d``; the parameters are then ``x`` again."""
        self._add(t, d)
        loss = float(_closure_loss(closure))
        g = self._flat_grad()
        for p, a in zip(self.param_groups[0]["params"], x):
            p._data[...] = a
            p._version_counter().bump()
        return loss, g

    # ------------------------------------------------------------------ step
    def step(self, closure):
        """Run the iterations (see the class); returns the loss the closure gave first."""
        if closure is None:
            raise TypeError("LBFGS.step requires a closure that re-evaluates the model and returns the loss")
        group = self.param_groups[0]
        params = group["params"]
        lr = float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search = group["history_size"], group["line_search_fn"]
        if line_search not in (None, "strong_wolfe"):  # checked here, as PyTorch does
            raise RuntimeError(
                f"LBFGS: only 'strong_wolfe' is supported as line_search_fn (or None), got {line_search!r}"
            )

        state = self.state[params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = _closure_loss(closure)
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if _abs_max(flat_grad) <= tolerance_grad:
            return orig_loss

        d, t = _unwrap(state.get("d")), _unwrap(state.get("t"))
        old_dirs, old_stps = _unwrap(state.get("old_dirs")), _unwrap(state.get("old_stps"))
        ro, H_diag = _unwrap(state.get("ro")), _unwrap(state.get("H_diag"))
        prev_flat_grad, prev_loss = _unwrap(state.get("prev_flat_grad")), state.get("prev_loss")
        al = _unwrap(state.get("al"))

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                # the new curvature pair, kept when it is positive enough
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = _dot(y, s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / _dot(y, y)
                # two-loop recursion: d = -H g, H the inverse Hessian approximation
                if al is None:
                    al = [None] * history_size
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = _dot(old_stps[i], q) * ro[i]
                    q -= float(al[i]) * old_dirs[i]
                d = q * H_diag
                for i in range(len(old_dirs)):
                    be_i = _dot(old_dirs[i], d) * ro[i]
                    d += float(al[i] - be_i) * old_stps[i]
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / _scalar(abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = _dot(flat_grad, d)
            if gtd > -tolerance_change:  # not a descent direction
                break

            ls_evals = 0
            if line_search is not None:
                x0 = [p._data.copy() for p in params]
                loss, flat_grad, t, ls_evals = _strong_wolfe(
                    lambda step: self._evaluate(closure, x0, step, d),
                    t,
                    d,
                    loss,
                    flat_grad,
                    gtd,
                    max_ls=max_eval - evals,
                )
                self._add(t, d)
                opt_cond = _abs_max(flat_grad) <= tolerance_grad
            else:
                self._add(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    # re-evaluate, except after the last iteration (the next step will)
                    loss = float(_closure_loss(closure))
                    flat_grad = self._flat_grad()
                    opt_cond = _abs_max(flat_grad) <= tolerance_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if _abs_max(d * t) <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        state["d"], state["t"] = _pack(d), _pack(t)
        state["old_dirs"], state["old_stps"] = _pack(old_dirs), _pack(old_stps)
        state["ro"], state["H_diag"] = _pack(ro), _pack(H_diag)
        state["prev_flat_grad"], state["prev_loss"] = _pack(prev_flat_grad), prev_loss
        if al is not None:
            state["al"] = _pack(al)
        return orig_loss
