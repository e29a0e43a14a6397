"""WMMSE power control for the sum of Shannon rates (batched).

Shi, Razaviyayn, Luo, He, "An Iteratively Weighted MMSE Approach to Distributed Sum-Utility
Maximization for a MIMO Interfering Broadcast Channel", IEEE Trans. Signal Process. 2011, in the
scalar single-antenna interference-channel form used by Sun et al., "Learning to Optimize", 2018.
WMMSE is a block-coordinate ascent on an equivalent weighted-MSE problem, so the sum rate never
decreases over iterations and converges to a stationary point.
"""

from __future__ import annotations

import numpy as np


def sum_rate(gain: np.ndarray, p: np.ndarray, noise_w: float) -> np.ndarray:
    """(B,) sum of ``log2(1 + SINR)`` for powers ``p`` (B, M); ``gain[b, j, m]``: transmitter j to receiver m."""
    g = np.asarray(gain, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    received = np.einsum("bj,bjm->bm", p, g)
    desired = p * np.diagonal(g, axis1=1, axis2=2)
    interference = np.maximum(received - desired, 0.0) + noise_w
    return np.log2(1.0 + desired / interference).sum(axis=1)


def wmmse_power(gain: np.ndarray, noise_w: float, p_max: float | np.ndarray, *, iterations: int = 100,
                tol: float = 1e-6, p_init: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sum-rate-maximising powers in ``[0, p_max]`` for every copy of a batch.

    ``gain`` (B, M, M) linear power gains, ``gain[b, j, m]`` from transmitter j to receiver m.
    Returns ``(p, history)``: powers (B, M) and the sum rate [bit/s/Hz] after each iteration
    (B, n + 1), column 0 the starting point (``p_init``, default ``p_max``). Copies whose relative
    sum-rate change falls below ``tol`` stop moving; their history repeats the last value.
    """
    g = np.asarray(gain, dtype=np.float64) / noise_w  # unit noise: same optimum, safer numerics
    b, m, _ = g.shape
    p_cap = np.broadcast_to(np.asarray(p_max, dtype=np.float64), (b, m))
    v_max = np.sqrt(p_cap)
    v = np.sqrt(np.clip(p_init, 0.0, p_cap)) if p_init is not None else v_max.copy()
    direct = np.sqrt(np.diagonal(g, axis1=1, axis2=2))  # amplitude gains h_mm
    history = [sum_rate(g, v**2, 1.0)]
    active = np.ones(b, dtype=bool)
    for _ in range(iterations):
        received = np.einsum("bj,bjm->bm", v**2, g) + 1.0  # sum_j |h_mj|^2 v_j^2 + sigma^2
        u = direct * v / received
        w = 1.0 / np.maximum(1.0 - u * direct * v, 1e-300)
        denominator = np.einsum("bkm,bm->bk", g, w * u**2)  # sum_m w_m u_m^2 |h_mk|^2
        v_new = np.clip(w * u * direct / np.maximum(denominator, 1e-300), 0.0, v_max)
        v = np.where(active[:, None], v_new, v)
        rate = sum_rate(g, v**2, 1.0)
        active &= np.abs(rate - history[-1]) > tol * np.maximum(np.abs(history[-1]), 1e-12)
        history.append(rate)
        if not active.any():
            break
    return v**2, np.stack(history, axis=1)
