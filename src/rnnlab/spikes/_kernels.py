r"""Smoothing kernels for firing-rate estimation (Dayan & Abbott 2001, sec. 1.2).

Every kernel is a probability density over time lags ``t`` (units 1/s) with standard
deviation ``sigma``, parametrised as in Elephant 1.2 (``elephant.kernels``):

    gaussian      K(t) = exp(-t^2 / (2 sigma^2)) / (sigma sqrt(2 pi))
    rectangular   K(t) = 1 / (2 tau)                 |t| <  tau,  tau = sqrt(3) sigma
    triangular    K(t) = (1 - |t| / tau) / tau       |t| <  tau,  tau = sqrt(6) sigma
    epanechnikov  K(t) = 3 / (4 d) (1 - t^2 / d^2)   |t| <  d,    d   = sqrt(5) sigma
    exponential   K(t) = exp(-t / tau) / tau         t   >= 0,    tau = sigma
    alpha         K(t) = t exp(-t / tau) / tau^2     t   >  0,    tau = sigma / sqrt(2)

and 0 elsewhere. The exponential and alpha kernels are *causal*: a spike only raises the
rate after it, as a synaptic current would. Their mean lag is not 0 (sigma and
sqrt(2) sigma), but their standard deviation is sigma like the others.
"""

import math

import numpy as np

from rnnlab.errors import UserError

KERNELS = ("gaussian", "rectangular", "triangular", "epanechnikov", "exponential", "alpha")
CAUSAL_KERNELS = frozenset({"exponential", "alpha"})

# Smallest half-width, in units of sigma, that holds the kernel's support (or enough of
# the Gaussian-like tails); Elephant's ``Kernel.min_cutoff``.
MIN_CUTOFF = {
    "gaussian": 3.0,
    "rectangular": math.sqrt(3.0),
    "triangular": math.sqrt(6.0),
    "epanechnikov": math.sqrt(5.0),
    "exponential": 3.0,
    "alpha": 3.0,
}


def check_kernel(kind: str) -> str:
    """The kernel name in lower case, or a :class:`UserError` listing the known names."""
    name = str(kind).strip().lower()
    if name not in KERNELS:
        raise UserError(f"unknown kernel {kind!r}; choose one of {', '.join(KERNELS)}")
    return name


def kernel_pdf(kind: str, t, sigma: float) -> np.ndarray:
    """Kernel ``K(t)`` in 1/s at lags ``t`` (seconds), standard deviation ``sigma``.

    >>> import numpy as np
    >>> t = np.linspace(-1.0, 1.0, 20001)
    >>> round(float(np.sum(kernel_pdf("triangular", t, 0.1)) * (t[1] - t[0])), 6)
    1.0
    """
    kind = check_kernel(kind)
    if not (math.isfinite(float(sigma)) and sigma > 0):
        raise UserError(f"sigma must be a positive number (seconds), got {sigma!r}")
    t = np.asarray(t, dtype=np.float64)
    if kind == "gaussian":
        return np.exp(-0.5 * (t / sigma) ** 2) / (sigma * math.sqrt(2.0 * math.pi))
    if kind == "rectangular":
        tau = math.sqrt(3.0) * sigma
        return np.where(np.abs(t) < tau, 1.0 / (2.0 * tau), 0.0)
    if kind == "triangular":
        tau = math.sqrt(6.0) * sigma
        return np.maximum(0.0, 1.0 - np.abs(t) / tau) / tau
    if kind == "epanechnikov":
        d = math.sqrt(5.0) * sigma
        return 3.0 / (4.0 * d) * np.maximum(0.0, 1.0 - (t / d) ** 2)
    if kind == "exponential":
        tau = sigma
        # Clamp the exponent so that large negative lags give 0, not overflow.
        return np.where(t >= 0, np.exp(-np.maximum(t, 0.0) / tau) / tau, 0.0)
    tau = sigma / math.sqrt(2.0)  # alpha
    tp = np.maximum(t, 0.0)
    return tp * np.exp(-tp / tau) / tau**2
