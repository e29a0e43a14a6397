"""Radio-channel models shared by every scenario: unit conversions, path loss, fading, SINR, rate.

Pure numpy functions with no hidden state. Arrays may carry any number of leading batch axes.
All powers are in watts and all gains are linear unless the name says ``_db`` / ``_dbm``:
decibels exist only at the configuration boundary (DESIGN.md, "Units").
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.floating]


def db_to_linear(x_db: ArrayLike) -> FloatArray:
    """Power ratio of a value in dB (10 dB -> 10)."""
    return np.power(10.0, np.asarray(x_db, dtype=np.float64) / 10.0)


def linear_to_db(x: ArrayLike) -> FloatArray:
    """Value in dB of a non-negative power ratio; 0 maps to -inf (callers clip where they need)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(x, dtype=np.float64))


def dbm_to_watts(p_dbm: ArrayLike) -> FloatArray:
    """Power in watts of a value in dBm (30 dBm -> 1 W)."""
    return db_to_linear(np.asarray(p_dbm, dtype=np.float64) - 30.0)


def watts_to_dbm(p_w: ArrayLike) -> FloatArray:
    """Power in dBm of a value in watts; 0 W maps to -inf."""
    return linear_to_db(p_w) + 30.0


def path_loss_db(distance_m: ArrayLike, intercept_db: float = 120.9, slope_db: float = 37.6) -> FloatArray:
    """Log-distance path loss ``intercept + slope * log10(d / 1 km)`` in dB (3GPP-style macro model).

    The defaults are the multi-cell source's ``120.9 + 37.6 log10 d[km]`` (docs/scenarios.md).
    """
    d_km = np.asarray(distance_m, dtype=np.float64) / 1000.0
    return intercept_db + slope_db * np.log10(d_km)


SPEED_OF_LIGHT_M_S = 299_792_458.0


def free_space_path_loss_db(distance_m: ArrayLike, carrier_hz: float) -> FloatArray:
    """Friis free-space path loss ``20 log10(4 pi d f_c / c)`` in dB (isotropic antennas).

    The least loss any propagation law may give at distance ``d``: a log-distance law fitted at
    hundreds of metres (e.g. ``120.9 + 37.6 log10 d[km]``, which crosses free space at 53 m for
    2 GHz) predicts less below its crossing, which no real link can have.
    """
    d = np.asarray(distance_m, dtype=np.float64)
    return 20.0 * np.log10(4.0 * np.pi * d * carrier_hz / SPEED_OF_LIGHT_M_S)


def polar_points(radius_m: ArrayLike, u_angle: ArrayLike) -> FloatArray:
    """Points at distance ``radius_m`` from the origin and angle ``2 pi u_angle`` (``u_angle`` uniform on [0, 1): a
    uniform direction), as ``(..., 2)`` x-y coordinates in metres. The drops of the scenarios' terminals around their
    base station or server; how the radius is drawn (uniform in radius or in area) is each scenario's."""
    angle = 2.0 * np.pi * np.asarray(u_angle)
    radius = np.asarray(radius_m)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=-1)


def cn01_from_uniforms(u_radius: ArrayLike, u_phase: ArrayLike) -> FloatArray:
    """Circularly-symmetric CN(0, 1) samples from two independent U(0, 1] arrays (Box-Muller).

    ``|g|^2 = -ln(u_radius)`` is Exp(1) and the phase is uniform, so ``g ~ CN(0, 1)`` exactly.
    Returns real and imaginary parts stacked on axis -2: shape ``(..., 2, n)`` for inputs of
    shape ``(..., n)``. Real arrays rather than complex ones because numpy's float32 sin/cos are
    vectorised (~10x faster than float64) and contiguous parts stream faster; taking uniforms
    lets callers use counter-based random streams (see ``semcom_envs.streams``).
    """
    u_radius, u_phase = np.asarray(u_radius), np.asarray(u_phase)
    radius = np.sqrt(-np.log(u_radius))
    phase = u_phase * u_phase.dtype.type(2.0 * np.pi)
    out = np.empty((*radius.shape[:-1], 2, radius.shape[-1]), dtype=radius.dtype)
    np.multiply(radius, np.cos(phase), out=out[..., 0, :])
    np.multiply(radius, np.sin(phase), out=out[..., 1, :])
    return out


def gauss_markov_step(g: ArrayLike, innovation: ArrayLike, rho: float) -> FloatArray:
    """First-order Gauss-Markov (Jakes-correlated) fading update ``rho g + sqrt(1 - rho^2) e``.

    With ``g ~ CN(0, 1)`` and ``e ~ CN(0, 1)`` independent, the result is again CN(0, 1), so the
    process is stationary with lag-one correlation ``rho`` (the multi-cell source's eq. (4)). The update
    is linear, so it applies equally to complex arrays and to stacked (real, imaginary) parts.
    """
    g, innovation = np.asarray(g), np.asarray(innovation)
    real = g.real.dtype.type
    out = innovation * real(np.sqrt(1.0 - rho * rho))
    out += g * real(rho)
    return out


def interference_matrix_sinr(power_w: ArrayLike, gain: ArrayLike, noise_w: float | ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """SINR of every link in a network where transmitter ``j`` serves receiver ``j``.

    ``power_w`` has shape (..., M); ``gain`` has shape (..., M, M) with ``gain[..., j, m]`` the linear
    gain from transmitter j to receiver m. Returns ``(sinr, desired, interference_plus_noise)``,
    each of shape (..., M), where ``desired_m = p_m g_mm`` and
    ``interference_plus_noise_m = sum_{j != m} p_j g_jm + noise`` (the multi-cell source's eqs. (1)-(2)).
    """
    p = np.asarray(power_w)
    g = np.asarray(gain)
    # Mask the diagonal instead of subtracting it from the total: the desired signal can exceed the
    # noise by 100 dB, and "total - desired" would then cancel catastrophically.
    interference = np.einsum("...j,...jm->...m", p, g * _off_diagonal(g.shape[-1], g.dtype)) + noise_w
    desired = p * np.diagonal(g, axis1=-2, axis2=-1)
    return desired / interference, desired, interference


@functools.lru_cache(maxsize=32)
def _off_diagonal(m: int, dtype: np.dtype) -> FloatArray:
    """Constant (m, m) mask with zeros on the diagonal."""
    mask = 1.0 - np.eye(m, dtype=dtype)
    mask.setflags(write=False)
    return mask


def shannon_rate(bandwidth_hz: float | ArrayLike, sinr: ArrayLike) -> FloatArray:
    """Shannon capacity ``W log2(1 + sinr)`` in bit/s."""
    return np.asarray(bandwidth_hz) * np.log2(1.0 + np.asarray(sinr))


_LOG2_E = float(np.log2(np.e))


def shannon_rate_positive(bandwidth_hz: float | ArrayLike, sinr: ArrayLike) -> FloatArray:
    """:func:`shannon_rate`, but positive for every positive SINR (bit/s).

    ``1 + sinr`` rounds to 1 below ``sinr`` = 2^-53 (float64; 2^-24 in float32), where
    :func:`shannon_rate` returns 0 and a transmission time ``bits / rate`` becomes infinite. There
    ``log2(1 + sinr) = sinr log2(e)`` to the working precision, which is returned instead; everywhere
    else the result is :func:`shannon_rate`'s, bit for bit.
    """
    sinr = np.asarray(sinr)
    one_plus = 1.0 + sinr
    return np.asarray(bandwidth_hz) * np.where(one_plus > 1.0, np.log2(one_plus), sinr * _LOG2_E)


@dataclasses.dataclass(frozen=True)
class DbFeature:
    """A linear gain as a network input of order one: ``(clip(10 log10 g, low_db, high_db) + offset_db) / scale_db``.

    Scenarios observe channel gains in dB; one object per scenario holds the clip range and the
    affine scaling, and gives the exact observation bounds and the inverse (inside the clip range).
    """

    low_db: float
    high_db: float
    offset_db: float
    scale_db: float

    @property
    def bounds(self) -> tuple[float, float]:
        """Smallest and largest feature value."""
        return ((self.low_db + self.offset_db) / self.scale_db, (self.high_db + self.offset_db) / self.scale_db)

    def encode(self, gain: ArrayLike) -> FloatArray:
        """The feature of linear gains."""
        return (np.clip(10.0 * np.log10(gain), self.low_db, self.high_db) + self.offset_db) / self.scale_db

    def decode(self, feature: ArrayLike) -> FloatArray:
        """Linear gains of features (exact inside the clip range, up to the features' rounding)."""
        return 10.0 ** ((np.asarray(feature, dtype=np.float64) * self.scale_db - self.offset_db) / 10.0)
