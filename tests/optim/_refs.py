"""Independent NumPy references of the optimizers' update rules (float64), written from the
algorithms' pseudo-code: each takes the initial parameter and the list of gradients and returns
the parameter after every step."""

import math

import numpy as np


def sgd(theta, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    theta = theta.copy()
    b = None
    out = []
    for g in grads:
        g = -g if maximize else g.copy()
        g = g + weight_decay * theta
        if momentum:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
        out.append(theta.copy())
    return out


def adam(
    theta, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False, decoupled=False
):
    b1, b2 = betas
    theta = theta.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    vmax = np.zeros_like(theta)
    out = []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g.copy()
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1**t)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vhat = vmax / (1 - b2**t)
        else:
            vhat = v / (1 - b2**t)
        theta = theta - lr * mhat / (np.sqrt(vhat) + eps)
        out.append(theta.copy())
    return out


def rmsprop(theta, grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False):
    theta = theta.copy()
    v = np.zeros_like(theta)
    gavg = np.zeros_like(theta)
    b = np.zeros_like(theta)
    out = []
    for g in grads:
        g = -g if maximize else g.copy()
        g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g * g
        vt = v
        if centered:
            gavg = alpha * gavg + (1 - alpha) * g
            vt = v - gavg * gavg
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(vt) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(vt) + eps)
        out.append(theta.copy())
    return out


def adagrad(theta, grads, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    theta = theta.copy()
    s = np.full_like(theta, initial_accumulator_value)
    out = []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g.copy()
        g = g + weight_decay * theta
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        theta = theta - clr * g / (np.sqrt(s) + eps)
        out.append(theta.copy())
    return out


def adadelta(theta, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    theta = theta.copy()
    v = np.zeros_like(theta)
    u = np.zeros_like(theta)
    out = []
    for g in grads:
        g = -g if maximize else g.copy()
        g = g + weight_decay * theta
        v = rho * v + (1 - rho) * g * g
        dx = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * dx * dx
        theta = theta - lr * dx
        out.append(theta.copy())
    return out


def sparse_adam(theta, grads, lr, betas=(0.9, 0.999), eps=1e-8, maximize=False):
    """``grads`` are dense arrays whose all-zero rows count as absent (rows not in the sparse
    gradient): only present rows are updated."""
    b1, b2 = betas
    theta = theta.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    out = []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        rows = np.flatnonzero(np.any(g != 0, axis=1))
        m[rows] = b1 * m[rows] + (1 - b1) * g[rows]
        v[rows] = b2 * v[rows] + (1 - b2) * g[rows] ** 2
        step = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        theta[rows] = theta[rows] - step * m[rows] / (np.sqrt(v[rows]) + eps)
        out.append(theta.copy())
    return out


def lazy_adamw(theta, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
    """AdamW restricted to the rows present (non-zero) in each gradient."""
    b1, b2 = betas
    theta = theta.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    vmax = np.zeros_like(theta)
    out = []
    for t, g in enumerate(grads, 1):
        r = np.flatnonzero(np.any(g != 0, axis=1))
        theta[r] *= 1 - lr * weight_decay
        m[r] = b1 * m[r] + (1 - b1) * g[r]
        v[r] = b2 * v[r] + (1 - b2) * g[r] ** 2
        vv = v[r]
        if amsgrad:
            vmax[r] = np.maximum(vmax[r], v[r])
            vv = vmax[r]
        theta[r] -= lr / (1 - b1**t) * m[r] / (np.sqrt(vv / (1 - b2**t)) + eps)
        out.append(theta.copy())
    return out


def adamax(theta, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
    b1, b2 = betas
    theta = theta.copy()
    m = np.zeros_like(theta)
    u = np.zeros_like(theta)
    out = []
    for t, g in enumerate(grads, 1):
        g = (-g if maximize else g) + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        theta = theta - lr / (1 - b1**t) * m / u
        out.append(theta.copy())
    return out


def nadam(
    theta,
    grads,
    lr,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    momentum_decay=4e-3,
    decoupled_weight_decay=False,
    maximize=False,
):
    """The product of the momentum coefficients is kept in float32, as PyTorch keeps it."""
    b1, b2 = betas
    theta = theta.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    prod = np.float32(1.0)
    out = []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        if decoupled_weight_decay:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        prod = np.float32(prod * np.float32(mu))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v / (1 - b2**t)) + eps
        theta = (
            theta
            - lr * (1 - mu) / (1 - float(prod)) * g / denom
            - lr * mu_next / (1 - float(prod) * mu_next) * m / denom
        )
        out.append(theta.copy())
    return out


def radam(
    theta, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False, maximize=False
):
    b1, b2 = betas
    theta = theta.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    rho_inf = 2 / (1 - b2) - 1
    out = []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        if decoupled_weight_decay:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1**t)
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            theta = theta - lr * mhat * rect * math.sqrt(1 - b2**t) / (np.sqrt(v) + eps)
        else:
            theta = theta - lr * mhat
        out.append(theta.copy())
    return out


def rprop(theta, grads, lr, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
    theta = theta.copy()
    prev = np.zeros_like(theta)
    size = np.full_like(theta, lr)
    out = []
    for g in grads:
        g = -g if maximize else g.copy()
        prod = g * prev
        size = np.clip(size * np.where(prod > 0, etas[1], np.where(prod < 0, etas[0], 1.0)), *step_sizes)
        g[prod < 0] = 0
        theta = theta - np.sign(g) * size
        prev = g
        out.append(theta.copy())
    return out


def asgd(theta, grads, lr, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False, average=False):
    """``eta`` and ``mu`` are rounded to float32, as PyTorch keeps them. With ``average`` the
    averaged iterates (``ax``) are returned instead."""
    theta = theta.copy()
    ax = np.zeros_like(theta)
    eta, mu = float(np.float32(lr)), 1.0
    out = []
    for t, g in enumerate(grads, 1):
        g = (-g if maximize else g) + weight_decay * theta
        theta = theta * (1 - lambd * eta) - eta * g
        ax = theta.copy() if mu == 1 else ax + mu * (theta - ax)
        eta = float(np.float32(lr / (1 + lambd * lr * t) ** alpha))
        mu = float(np.float32(1 / max(1, t - t0)))
        out.append((ax if average else theta).copy())
    return out


def lbfgs(x, fg, lr=1.0, max_iter=20, history_size=100, iterations=None):
    """Plain L-BFGS iterations (no line search, no stopping tests), from the pseudo-code of the
    two-loop recursion: the first step is ``min(1, 1/|g|_1) lr`` along ``-g``, later steps
    ``lr`` along ``-H g``. ``fg(x)`` returns the loss and the gradient. Returns the iterates."""
    x = x.copy()
    pairs = []
    out = []
    gamma = 1.0
    g_prev = d_prev = t_prev = None
    for k in range(iterations):
        _, g = fg(x)
        if k == 0:
            d = -g
            t = min(1.0, 1.0 / np.abs(g).sum()) * lr
        else:
            y, s = g - g_prev, t_prev * d_prev
            if y @ s > 1e-10:
                pairs = (pairs + [(s, y)])[-history_size:]
                gamma = (y @ s) / (y @ y)
            q = -g
            alphas = []
            for s_i, y_i in reversed(pairs):
                a = (s_i @ q) / (y_i @ s_i)
                alphas.append(a)
                q = q - a * y_i
            d = gamma * q
            for (s_i, y_i), a in zip(pairs, reversed(alphas)):
                b = (y_i @ d) / (y_i @ s_i)
                d = d + (a - b) * s_i
            t = lr
        x = x + t * d
        g_prev, d_prev, t_prev = g, d, t
        out.append(x.copy())
    return out


def adafactor(theta, grads, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, maximize=False):
    eps1 = np.finfo(theta.dtype).eps if eps[0] is None else eps[0]
    theta = theta.copy()
    matrix = theta.ndim > 1
    r = np.zeros(theta.shape[:-1] + (1,)) if matrix else None
    c = np.zeros(theta.shape[:-2] + (1, theta.shape[-1])) if matrix else None
    v = np.zeros_like(theta)
    out = []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        beta_hat = t**beta2_decay
        alpha = max(eps[1], np.sqrt(np.mean(theta**2))) * min(lr, t**-0.5)
        theta = theta * (1 - lr * weight_decay)
        if matrix:
            r = (1 - beta_hat) * r + beta_hat * np.mean(g * g, axis=-1, keepdims=True)
            c = (1 - beta_hat) * c + beta_hat * np.mean(g * g, axis=-2, keepdims=True)
            vhat = r @ c / np.maximum(np.mean(r, axis=-2, keepdims=True), eps1)
        else:
            v = (1 - beta_hat) * v + beta_hat * g * g
            vhat = v
        u = g / np.sqrt(np.maximum(vhat, eps1**2))
        theta = theta - alpha / max(1.0, np.sqrt(np.mean(u * u)) / d) * u
        out.append(theta.copy())
    return out
