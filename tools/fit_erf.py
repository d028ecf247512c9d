"""Compute the polynomial coefficients used by retrograd.ops.special (erf, erfc).

Each smooth function below is interpolated at Chebyshev nodes on its interval with 50-digit
arithmetic (mpmath), converted to the power basis of the scaled variable v in [-1, 1], and
checked against mpmath at 2000 points in the target precision. Run: python tools/fit_erf.py
"""

import numpy as np
from mpmath import mp, mpf, erf, erfc, exp, sqrt, pi, cos

mp.dps = 50

# name, f(v) on v in [-1, 1], degree for float64, degree for float32
FUNCTIONS = [
    (
        "P1: erf(z)/z with v = 2 z^2 - 1, z in [0, 1]",
        lambda v: erf(sqrt((v + 1) / 2)) / sqrt((v + 1) / 2) if v > -1 else 2 / sqrt(pi),
        11,
        5,
    ),
    ("P2: exp(z^2) erfc(z) with v = z - 2, z in [1, 3]", lambda v: exp((v + 2) ** 2) * erfc(v + 2), 19, 9),
    (
        "P3: z exp(z^2) erfc(z) with v = 6/z - 1, z >= 3",
        lambda v: (6 / (v + 1)) * exp((6 / (v + 1)) ** 2) * erfc(6 / (v + 1)) if v > -1 else 1 / sqrt(pi),
        17,
        6,
    ),
]


def chebyshev_power_coeffs(f, degree):
    """Power-basis coefficients of the degree-``degree`` Chebyshev interpolant of f on [-1, 1]."""
    n = degree + 1
    nodes = [cos(pi * (k + mpf(0.5)) / n) for k in range(n)]
    values = [f(t) for t in nodes]
    cheb = [2 * sum(values[i] * cos(pi * j * (i + mpf(0.5)) / n) for i in range(n)) / n for j in range(n)]
    cheb[0] /= 2
    basis = [[mpf(1)], [mpf(0), mpf(1)]]  # T_k in the power basis
    for k in range(2, n):
        a = [mpf(0)] + [2 * c for c in basis[k - 1]]
        b = basis[k - 2] + [mpf(0)] * (len(a) - len(basis[k - 2]))
        basis.append([p - q for p, q in zip(a, b)])
    power = [mpf(0)] * n
    for j in range(n):
        for i, c in enumerate(basis[j]):
            power[i] += cheb[j] * c
    return [float(c) for c in power]


def max_relative_error(f, coeffs, dtype):
    v = np.linspace(-1, 1, 2001)
    r = np.zeros_like(v, dtype=dtype) + dtype(coeffs[-1])
    for c in coeffs[-2::-1]:
        r = r * v.astype(dtype) + dtype(c)
    exact = np.array([float(f(mpf(float(t)))) for t in v])
    return float(np.max(np.abs(r.astype(np.float64) - exact) / np.abs(exact)))


if __name__ == "__main__":
    for name, f, deg64, deg32 in FUNCTIONS:
        for dtype, deg in ((np.float64, deg64), (np.float32, deg32)):
            coeffs = chebyshev_power_coeffs(f, deg)
            err = max_relative_error(f, coeffs, dtype)
            print(f"{name} [{dtype.__name__}, degree {deg}, max rel. error {err:.2e}]")
            print(tuple(coeffs))
