"""Batched WMMSE power control for the sum of Shannon rates in a single-antenna interference channel.

Reference: Q. Shi, M. Razaviyayn, Z.-Q. Luo and C. He, "An iteratively weighted MMSE approach to
distributed sum-utility maximization for a MIMO interfering broadcast channel", IEEE Trans. Signal
Process. 59(9), 2011; in the scalar form used as the teacher algorithm by H. Sun, X. Chen, Q. Shi,
M. Hong, X. Fu and N. D. Sidiropoulos, "Learning to optimize: training deep neural networks for
interference management", IEEE Trans. Signal Process. 66(20), 2018 (their Algorithm 1).

Problem. ``M`` links, transmitter ``j`` serves receiver ``j``; ``h_jm >= 0`` is the *power* gain from
transmitter ``j`` to receiver ``m`` (``gain[b, j, m]``, transmitter first)::

    maximise  sum_m log2(1 + gamma_m),   gamma_m = p_m h_mm / (sum_{j != m} p_j h_jm + sigma^2),
    s.t.      0 <= p_m <= p_max_m.

WMMSE. With transmit amplitudes ``v_m = sqrt(p_m)`` and channel amplitudes ``a_jm = sqrt(h_jm)``,
receiver ``m`` sees ``y_m = a_mm v_m s_m + sum_{j != m} a_jm v_j s_j + n_m``. For a scalar receive
filter ``u_m`` the mean squared error is ``e_m = (1 - u_m a_mm v_m)^2 + sum_{j != m} u_m^2 h_jm v_j^2
+ u_m^2 sigma^2``, and Shi et al. show that maximising the sum rate is equivalent to::

    minimise over (u, w, v)   sum_m (w_m e_m - ln w_m)     s.t. 0 <= v_m <= sqrt(p_max_m),

whose blocks each have a closed-form minimiser (block-coordinate descent):

- ``u_m = a_mm v_m / T_m`` with ``T_m = sum_j h_jm v_j^2 + sigma^2`` (MMSE receiver);
- ``w_m = 1 / e_m = 1 / (1 - u_m a_mm v_m) = T_m / I_m = 1 + gamma_m`` with ``I_m = T_m - h_mm v_m^2``
  (computed as ``1 + gamma_m`` with the interference summed over ``j != m``: ``1 - u a v``
  cancels catastrophically when the SINR is large);
- ``v_m = clip(w_m u_m a_mm / sum_j w_j u_j^2 h_mj, 0, sqrt(p_max_m))`` (the objective is a convex
  quadratic in each ``v_m`` separately, so the box-constrained minimiser is the clipped stationary
  point; all transmitters update at once, as in Sun et al.).

At the optimal ``(u, w)`` for a given ``v`` the equivalent objective equals ``M - ln 2 * sum rate``,
so the sum rate is non-decreasing over iterations, and limit points are stationary points of the
sum-rate problem (not necessarily global maxima: the problem is NP-hard in general).

Numerics. The iteration runs in normalised units: powers in units of ``p_max_m`` and noise in units
of ``sigma^2``, i.e. on the gains ``h_jm p_max_j / sigma^2`` with unit noise and ``v_m in [0, 1]``.
This is mathematically identical and keeps float64 well-conditioned when gains span ``1e-20`` to
``1e-3`` and the noise is ``~4e-15`` W. With unit noise every ``T_m`` and ``I_m`` is ``>= 1``, so
only the ``v`` update can divide by zero; its denominator is zero only when its numerator is too
(no own-link signal, e.g. ``p_max_m = 0``, ``h_mm = 0`` or ``v_m = 0``), and the link is then set off.
Note that ``v_m = 0`` is a fixed point: a link that starts at zero power stays off, which is why the
default (and Sun et al.'s) initial point is full power.
"""

from __future__ import annotations

import numpy as np

_LN2 = float(np.log(2.0))


def _sum_rate_normalised(h_off: np.ndarray, diag: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum rate (B,) in bit/s/Hz, desired power and interference-plus-noise (B, M), unit noise.

    ``h_off`` is the normalised gain with a zero diagonal, ``diag`` its removed diagonal and ``q``
    the normalised power. The interference sums only ``j != m`` (never ``total - desired``) so that
    a desired signal 100 dB above the noise does not cancel the interference away.
    """
    interference = np.einsum("bj,bjm->bm", q, h_off) + 1.0
    desired = diag * q
    rate = np.log1p(desired / interference).sum(axis=-1) / _LN2
    return rate, desired, interference


def sum_rate(gain: np.ndarray, p: np.ndarray, noise_w: float) -> np.ndarray:
    """(B,) sum of ``log2(1 + SINR)`` in bit/s/Hz for powers ``p`` (B, M) [W].

    ``gain`` (B, M, M) holds linear power gains with ``gain[b, j, m]`` from transmitter ``j`` to
    receiver ``m``; ``noise_w`` is the noise power in W. Extra leading axes are allowed (``(..., M, M)``
    gains with ``(..., M)`` powers give ``(...)`` rates). This is the objective :func:`wmmse_power`
    maximises, exposed so that callers score other power allocations with the same formula.
    """
    g = np.asarray(gain, dtype=np.float64)
    q = np.asarray(p, dtype=np.float64)
    noise = float(noise_w)
    if not noise > 0.0:
        raise ValueError(f"noise_w={noise_w!r} is invalid: must be a positive noise power in W")
    if g.ndim < 2 or g.shape[-1] != g.shape[-2]:
        raise ValueError(f"gain has shape {g.shape}: expected (..., M, M)")
    m = g.shape[-1]
    off = g * (1.0 - np.eye(m))
    interference = np.einsum("...j,...jm->...m", q, off) / noise + 1.0
    desired = q * np.diagonal(g, axis1=-2, axis2=-1) / noise
    return np.log1p(desired / interference).sum(axis=-1) / _LN2


def wmmse_power(gain: np.ndarray, noise_w: float, p_max: float | np.ndarray, *, iterations: int = 100,
                tol: float = 1e-6, p_init: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """WMMSE sum-rate power control for a batch of interference channels (Shi et al. 2011).

    ``gain``: (B, M, M) linear channel power gains with ``gain[b, j, m]`` the gain from transmitter
    ``j`` to receiver ``m`` (note: this orientation, transmitter first). ``noise_w``: noise power in
    W (> 0). ``p_max``: maximum transmit power in W, a scalar or (B, M) (zero entries switch a link
    off). ``p_init``: initial powers (B, M), clipped to ``[0, p_max]``; default ``p_max`` everywhere
    (links initialised at zero stay at zero: ``v = 0`` is a WMMSE fixed point).

    Returns ``(p, history)``: ``p`` (B, M) float64 powers in ``[0, p_max]``; ``history``
    (B, n_iter + 1) the sum rate in bit/s/Hz after each iteration, column 0 being the initial point,
    where ``n_iter <= iterations`` is the number of iterations the slowest copy ran. Each copy
    iterates until its relative sum-rate change ``|R_k - R_{k-1}| <= tol * |R_{k-1}|`` or
    ``iterations`` is reached; a copy that converged keeps its powers (it is no longer updated,
    which also saves the work) and its history row is padded with its last value. The sum rate is
    non-decreasing along each row up to rounding; the result is a stationary point, not necessarily
    the global optimum.
    """
    g = np.asarray(gain, dtype=np.float64)
    if g.ndim != 3 or g.shape[1] != g.shape[2]:
        raise ValueError(f"gain has shape {g.shape}: expected (B, M, M)")
    if not np.all(np.isfinite(g)) or np.any(g < 0.0):
        raise ValueError("gain must be finite and non-negative (linear power gains)")
    noise = float(noise_w)
    if not (np.isfinite(noise) and noise > 0.0):
        raise ValueError(f"noise_w={noise_w!r} is invalid: must be a finite positive noise power in W")
    if int(iterations) != iterations or iterations < 0:
        raise ValueError(f"iterations={iterations!r} is invalid: must be an integer >= 0")
    if not tol >= 0.0:
        raise ValueError(f"tol={tol!r} is invalid: must be >= 0")
    b, m, _ = g.shape
    try:
        pmax = np.broadcast_to(np.asarray(p_max, dtype=np.float64), (b, m))
    except ValueError:
        raise ValueError(f"p_max has shape {np.shape(p_max)}: expected a scalar or ({b}, {m})") from None
    if not np.all(np.isfinite(pmax)) or np.any(pmax < 0.0):
        raise ValueError("p_max must be finite and non-negative")

    # Normalised problem: q = p / p_max in [0, 1], gains h_jm p_max_j / sigma^2, unit noise.
    hn = g * (pmax[:, :, None] / noise)
    if not np.all(np.isfinite(hn)):
        raise ValueError("gain * p_max / noise_w overflows float64")
    diag = np.diagonal(hn, axis1=1, axis2=2).copy()
    h_off = hn * (1.0 - np.eye(m))
    amp = np.sqrt(diag)  # own-link amplitude a_mm

    if p_init is None:
        v = np.ones((b, m))
    else:
        try:
            p0 = np.broadcast_to(np.asarray(p_init, dtype=np.float64), (b, m))
        except ValueError:
            raise ValueError(f"p_init has shape {np.shape(p_init)}: expected ({b}, {m})") from None
        if not np.all(np.isfinite(p0)):
            raise ValueError("p_init must be finite")
        q0 = np.divide(np.clip(p0, 0.0, pmax), pmax, out=np.zeros((b, m)), where=pmax > 0.0)
        v = np.sqrt(np.clip(q0, 0.0, 1.0))

    rate, desired, interference = _sum_rate_normalised(h_off, diag, v * v)
    history = np.empty((b, int(iterations) + 1))
    history[:, 0] = rate

    # Working set: the copies still iterating (compacted only when some converge).
    idx = np.arange(b)
    v_out = v.copy()
    hn_a, h_off_a, diag_a, amp_a, v_a = hn, h_off, diag, amp, v
    n_iter = 0
    for k in range(1, int(iterations) + 1):
        if idx.size == 0:
            break
        n_iter = k
        total = interference + desired
        u = amp_a * v_a / total                  # MMSE receiver
        w = 1.0 + desired / interference        # MSE weight 1 / e_m = 1 + SINR_m
        num = w * u * amp_a
        den = np.einsum("bmj,bj->bm", hn_a, w * u * u)
        v_a = np.clip(np.divide(num, den, out=np.zeros_like(num), where=den > 0.0), 0.0, 1.0)

        new_rate, desired, interference = _sum_rate_normalised(h_off_a, diag_a, v_a * v_a)
        history[idx, k] = new_rate
        done = np.abs(new_rate - rate) <= tol * np.abs(rate)
        rate = new_rate
        if np.any(done):
            v_out[idx[done]] = v_a[done]
            history[idx[done], k + 1:] = new_rate[done, None]
            keep = ~done
            idx = idx[keep]
            hn_a, h_off_a, diag_a, amp_a, v_a = hn_a[keep], h_off_a[keep], diag_a[keep], amp_a[keep], v_a[keep]
            rate, desired, interference = rate[keep], desired[keep], interference[keep]
    v_out[idx] = v_a

    p = np.minimum(pmax * (v_out * v_out), pmax)
    return p, history[:, : n_iter + 1]
