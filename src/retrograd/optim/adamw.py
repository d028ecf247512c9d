"""AdamW: Adam with decoupled weight decay (Loshchilov and Hutter)."""

from .adam import Adam


class AdamW(Adam):
    r"""AdamW, PyTorch's update rule: each step first shrinks the parameter,
    :math:`\theta \leftarrow \theta(1 - \gamma\lambda)`, then applies the Adam update (see
    :func:`~retrograd.optim.adam.adam`) to the gradient without weight decay. ``weight_decay``
    defaults to 1e-2.

    Sparse gradients (which PyTorch's AdamW refuses) get a *lazy* row-wise update: only the rows
    present in the gradient are decayed and have their moments and values updated, with the
    parameter's step count ``t`` in the bias corrections; rows absent from a step's gradient are
    left exactly as they are (no decay, no momentum carry-over), as in TensorFlow's LazyAdam.
    The cost of a step then scales with the rows touched, not with the table. This is *not* the
    trajectory dense AdamW would give a parameter whose gradient is zero outside those rows.
    """

    _sparse_refusal = None

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
        foreach=None,
        capturable=False,
        differentiable=False,
        fused=None,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
