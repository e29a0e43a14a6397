"""Counter-based random streams: one independent stream per environment copy, drawn in one array op.

Why not ``np.random.Generator``: a batched core must draw the randomness of thousands of copies in
one numpy call, yet copy ``i`` of a batch must reproduce a single environment seeded with
``seed + i`` (Gymnasium's vector-env seeding convention), also after copies auto-reset at different
times. A shared Generator cannot give both. Here every random number is a pure function
``hash(episode_key, slot, domain, element)`` (the SplitMix64 finaliser, which passes BigCrush as a
counter-based generator), so a copy's draws depend only on its own key and counters, never on the
batch size or on the other copies. This is the design of JAX's and Philox's counter-based RNGs,
written in vectorised numpy.

Seeding contract (documented in every environment):
- ``seed_key(s)`` maps a user seed ``s >= 0`` to a 64-bit base key; a batch seeded with ``s`` gives
  copy ``i`` the base key ``seed_key(s + i)``.
- Episode ``e`` of a copy (``e = 0`` right after ``reset(seed=...)``, then 1, 2, ... for every
  reset or auto-reset without a seed) uses ``episode_key(base, e)``.
- Within an episode, draws are addressed by ``(slot, domain)``: the slot index ``t`` and a small
  integer naming what is drawn (fading, positions, ...), so adding a new kind of draw never shifts
  the others.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike, NDArray

U64 = NDArray[np.uint64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_S41, _S18 = np.uint64(41), np.uint64(18)
_MASK23_U32 = np.uint32(0x7FFFFF)
_ONE_F32_BITS = np.uint32(0x3F800000)  # bit pattern of 1.0f
_ONE_MINUS_HALF_ULP = np.float32(1.0 - 0.5 / (1 << 23))
_EPISODE_SALT = np.uint64(0xD1B54A32D192ED03)
_SLOT_SALT = np.uint64(0x8CB92BA72F3D8DD7)
_DOMAINS = np.uint64(64)
MAX_SEED = 2**63 - 1
"""Largest accepted seed."""
NORMAL_BOUND = float(np.sqrt(-2.0 * np.log(0.5 / (1 << 23))))
"""Largest magnitude :func:`normals` can return (23-bit uniforms bound Box-Muller), about 5.77."""


def _mix(z: U64) -> U64:
    """SplitMix64 finaliser, applied in place to a fresh uint64 array."""
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


def seed_key(seeds: ArrayLike) -> U64:
    """Base key(s) of user seed(s); seeds must be integers in [0, 2**63 - 1]."""
    s = np.asarray(seeds)
    if s.dtype.kind not in "iu" or np.any(s < 0) or np.any(s > MAX_SEED):
        raise ValueError(f"seed={seeds!r} is invalid: must be an integer in [0, {MAX_SEED}]")
    return _mix(np.atleast_1d(s).astype(np.uint64) * _GOLDEN + _GOLDEN)


def episode_key(base: U64, episode: ArrayLike) -> U64:
    """Key of episode ``episode`` of the copies whose base keys are ``base``."""
    e = np.atleast_1d(episode).astype(np.uint64)
    return _mix((base ^ _EPISODE_SALT) + _mix(e * _GOLDEN + _EPISODE_SALT))


def _bits(key: U64, slot: ArrayLike, domain: int, n: int) -> U64:
    """(batch, n) uint64 words of stream ``key`` at ``(slot, domain)``; one mix per word."""
    t = np.atleast_1d(slot).astype(np.uint64)
    address = _mix(key + (t * _DOMAINS + (_SLOT_SALT + np.uint64(domain))) * _GOLDEN)
    return _mix(address[:, None] + _weyl(n))


@functools.lru_cache(maxsize=64)
def _weyl(n: int) -> U64:
    """Element offsets ``(1..n) * golden`` of a stream (cached: they are constants)."""
    w = np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN
    w.setflags(write=False)
    return w


def uniforms(key: U64, slot: ArrayLike, domain: int, n: int, dtype: type = np.float64) -> NDArray[np.floating]:
    """(batch, 2n) independent U(0, 1) numbers ``(j + 1/2) / 2^23``, never exactly 0 or 1.

    Each 64-bit word yields two 23-bit uniforms: enough resolution for physics draws, exact in
    float32 (so float32 callers get the same numbers as float64 ones, rounded), and half the
    hashing cost of one uniform per word.
    """
    z = _bits(key, slot, domain, n)
    # 23 random bits as the mantissa of a float32 in [1, 2), then one subtraction: exact and
    # cheaper than converting 64-bit integers to floats.
    bits = np.empty((z.shape[0], 2 * n), dtype=np.uint32)
    np.right_shift(z, _S41, out=bits[:, :n], casting="unsafe")
    np.right_shift(z, _S18, out=bits[:, n:], casting="unsafe")
    bits[:, n:] &= _MASK23_U32
    bits |= _ONE_F32_BITS
    out = bits.view(np.float32)
    out -= _ONE_MINUS_HALF_ULP
    return out if dtype is np.float32 else out.astype(dtype)


def normals(key: U64, slot: ArrayLike, domain: int, n: int, dtype: type = np.float64) -> NDArray[np.floating]:
    """(batch, n) standard normal numbers (Box-Muller on :func:`uniforms`)."""
    half = (n + 1) // 2
    u = uniforms(key, slot, domain, half, dtype)
    radius = np.sqrt(-2.0 * np.log(u[:, :half]))
    angle = (2.0 * np.pi) * u[:, half:]
    out = np.concatenate([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return out[:, :n]
