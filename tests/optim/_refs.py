"""Independent NumPy references of the optimizers' update rules (float64), written from the
algorithms' pseudo-code: each takes the initial parameter and the list of gradients and returns
the parameter after every step."""
import math

import numpy as np


def sgd(theta, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
        maximize=False):
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


def adam(theta, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
         maximize=False, decoupled=False):
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
        mhat = m / (1 - b1 ** t)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vhat = vmax / (1 - b2 ** t)
        else:
            vhat = v / (1 - b2 ** t)
        theta = theta - lr * mhat / (np.sqrt(vhat) + eps)
        out.append(theta.copy())
    return out


def rmsprop(theta, grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
            centered=False, maximize=False):
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


def adagrad(theta, grads, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
            eps=1e-10, maximize=False):
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
        step = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
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
        theta[r] -= lr / (1 - b1 ** t) * m[r] / (np.sqrt(vv / (1 - b2 ** t)) + eps)
        out.append(theta.copy())
    return out
