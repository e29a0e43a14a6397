"""Traffic sources shared by the queueing scenarios: pure, vectorised numpy functions."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def on_off_step(on: ArrayLike, u: ArrayLike, on_to_off_prob: float, off_to_on_prob: float) -> NDArray[np.bool_]:
    """Next states of two-state (ON/OFF) Markov sources, given their states ``on`` and one uniform ``u`` in [0, 1)
    each: an ON source turns OFF iff ``u < on_to_off_prob``, an OFF one turns ON iff ``u < off_to_on_prob``.

    Bursts last ``1 / on_to_off_prob`` slots on average, and the stationary ON share is
    ``off_to_on_prob / (on_to_off_prob + off_to_on_prob)`` (SemCom-Offloading-v1's Q1, SemCom-TaskOriented-v2's A1).
    """
    u = np.asarray(u)
    return np.where(np.asarray(on, dtype=bool), u >= on_to_off_prob, u < off_to_on_prob)


__all__ = ["on_off_step"]
