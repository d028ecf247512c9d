"""``explain_grad(tensor, loss)``: why is ``tensor.grad`` None (or zero) after ``loss.backward()``?

The usual reasons, checked in this order:

- the tensor has an integer or bool dtype (only floating point tensors get gradients);
- it does not require grad (a frozen parameter, or a tensor made without requires_grad);
- it is not a leaf and did not call ``retain_grad()`` (non-leaf ``.grad`` is not stored);
- ``loss`` has no graph at all (computed under ``no_grad``, or from tensors that need no grad);
- the graph of ``loss`` does not reach the tensor: it was not used, or only through
  ``detach()`` / ``.data`` (found when a node of the graph saved a tensor that shares its
  storage), under ``no_grad()``, or before ``requires_grad`` was set;
- the graph reaches it but backward has not run since (or ``.grad`` was reset to None);
- the gradient that reaches it is zero: when the graph is still alive, a backward with hooks
  finds the node where a nonzero gradient turns into a zero one.
"""

from .graph import OpNode


def explain_grad(tensor, loss):
    """A sentence or two saying why ``tensor.grad`` is None or zero for ``loss.backward()``."""
    from .._tensor import Tensor

    if not isinstance(tensor, Tensor) or not isinstance(loss, Tensor):
        raise TypeError("explain_grad(tensor, loss) expects two Tensors")
    name = _describe(tensor)
    kind = tensor._data.dtype.kind
    if kind not in "fcV":
        return (
            f"{name} has dtype {tensor.dtype}: only floating point (and complex) tensors can "
            f"require gradients, so its .grad is always None. Convert it (e.g. .float()) "
            f"before the computation if it should be learned."
        )
    if not tensor._rg:
        frozen = "a frozen parameter" if type(tensor).__name__ == "Parameter" else "frozen"
        return (
            f"{name} does not require grad (requires_grad=False): it is {frozen}, so autograd "
            f"does not compute its gradient. Call .requires_grad_() on it before computing "
            f"the loss."
        )
    if tensor.grad_fn is not None and not tensor._retains:
        return (
            f"{name} is not a leaf (it was computed by {tensor.grad_fn.name()}): autograd "
            f"does not store .grad for non-leaf tensors. Call .retain_grad() on it before "
            f"backward, or get its gradient with autograd.grad(loss, tensor)."
        )
    if loss.grad_fn is None:
        why = (
            "it is a leaf that requires grad: its gradient is its own"
            if loss._rg
            else "nothing it was computed from required grad, or it was computed under no_grad() / "
            "inference_mode(), or from detached tensors"
        )
        return f"the loss has no graph (grad_fn is None): {why}. No gradient flows from it."

    target = tensor.grad_fn if tensor.grad_fn is not None else tensor._grad_acc
    path = _path_to(loss.grad_fn, target)
    if path is None:
        return _no_path(name, tensor, loss)
    steps = " -> ".join(n.name() for n in path)
    g = tensor._grad
    if g is None:
        return (
            f"{name} is reached from the loss ({steps}), but its .grad is None: backward has "
            f"not run since the loss was computed, or .grad was reset to None (e.g. by "
            f"zero_grad()), or backward(inputs=...) left it out."
        )
    if bool((g._data != 0).any()):
        return f"{name} has a nonzero gradient (reached through {steps}): nothing to explain."
    return _zero(name, tensor, loss, path, steps)


def _describe(t):
    shape = list(t._data.shape)
    what = "the parameter" if type(t).__name__ == "Parameter" else "the tensor"
    return f"{what} of shape {shape}"


def _path_to(root, target):
    """One chain of nodes from ``root`` to ``target`` (both included), or None."""
    if target is None:
        return None
    parent = {root: None}
    stack = [root]
    while stack:
        node = stack.pop()
        if node is target:
            chain = []
            while node is not None:
                chain.append(node)
                node = parent[node]
            return chain[::-1]
        for e in node._next:
            if e is not None and e[0] not in parent:
                parent[e[0]] = node
                stack.append(e[0])
    return None


def _nodes(root):
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        for e in node._next:
            if e is not None and e[0] not in seen:
                seen.add(e[0])
                stack.append(e[0])


def _no_path(name, tensor, loss):
    from .._tensor import Tensor

    vc = tensor._vc
    freed = False
    for node in _nodes(loss.grad_fn):
        if not isinstance(node, OpNode):
            continue
        if node._is_released():
            freed = True
            continue
        saved = node._saved
        for item in saved if vc is not None else ():
            if isinstance(item, Tensor) and item is not tensor and item._vc is vc and not _same_history(item, tensor):
                return (
                    f"the graph of the loss does not reach {name}: it uses a tensor that "
                    f"shares its storage but not its history (made by detach() or .data), "
                    f"at {node.name()}. Gradients stop at that boundary: use the tensor itself "
                    f"instead of its detached copy."
                )
    hint = ""
    if tensor.grad_fn is None and tensor._grad_acc is None:
        hint = (
            " No recorded op has ever used it: it was used only under no_grad() or through a "
            "detached copy, or requires_grad was set after the loss was computed."
        )
    if freed:
        hint += (
            " (backward already freed the graph's saved tensors; call explain_grad before "
            "backward to locate a detach() boundary.)"
        )
    return (
        f"the graph of the loss does not reach {name}: it was not used to compute the loss, "
        f"or only through detach() / .data, or under no_grad() / inference_mode(), so no "
        f"gradient can flow to it.{hint}"
    )


def _same_history(a, b):
    """Whether gradient reaching ``a`` reaches ``b`` (same node and output, or same leaf)."""
    if a.grad_fn is not None:
        return a.grad_fn is b.grad_fn and a._out_nr == b._out_nr
    return a._rg and a._grad_acc is not None and a._grad_acc is b._grad_acc


def _zero(name, tensor, loss, path, steps):
    """Rerun the backward with node hooks to find where the gradient along ``path`` vanishes."""
    from . import grad as autograd_grad
    from .._creation import ones_like

    on_path = set(path)
    seen = {}
    handles = []
    for node in path[:-1]:

        def hook(grad_inputs, grad_outputs, node=node):
            seen[node] = (grad_inputs, grad_outputs)

        handles.append(node.register_hook(hook))
    try:
        autograd_grad(loss, tensor, ones_like(loss), retain_graph=True, allow_unused=True)
    except RuntimeError:
        return (
            f"the gradient that reaches {name} (through {steps}) is zero everywhere. The graph "
            f"was freed by backward, so the node where it vanishes cannot be found: compute the "
            f"loss again and call explain_grad before backward, or backward with "
            f"retain_graph=True."
        )
    finally:
        for h in handles:
            h.remove()
    for node in path[:-1]:
        record = seen.get(node)
        if record is None:
            continue
        grad_inputs, grad_outputs = record
        if not any(g is not None and bool((g._data != 0).any()) for g in grad_outputs):
            continue
        for e, g in zip(node._next, grad_inputs):
            if e is not None and e[0] in on_path and (g is None or not bool((g._data != 0).any())):
                where = _forward_site(node)
                return (
                    f"the gradient that reaches {name} is zero everywhere: it becomes zero at "
                    f"{node.name()}{where}, which receives a nonzero gradient but passes zero "
                    f"on toward the tensor (e.g. a ReLU or clamp whose inputs are all in the "
                    f"flat region, a mask, a multiplication by zero, or a comparison/rounding "
                    f"op). Path: {steps}."
                )
    return (
        f"the gradient that reaches {name} (through {steps}) is zero everywhere: the loss "
        f"itself does not change with it at this point (e.g. the gradient of the loss is "
        f"zero)."
    )


def _forward_site(node):
    if node._extra and node._extra.get("trace"):
        frame = node._extra["trace"][-1]
        return f" (created at {frame.filename}:{frame.lineno})"
    return ""


__all__ = ["explain_grad"]
