"""Reproductions of the source papers' experiments, one module per paper (``semcom reproduce-*``).

- :mod:`semcom_reproductions.multicell`: the multi-cell semantic EE paper's Figs. 4-5 (DRQN, DQN, DQN
  without energy term against the baselines).
- :mod:`semcom_reproductions.offloading`: the semantic offloading paper's energy per task against the
  number of offloading users (MAPPO, PPO, the exhaustive optimum).
- :mod:`semcom_reproductions.iot_auction`: the wireless-powered IoT auction paper's revenue against the
  number of devices (MyersonNet, second price, Myerson) and the learned bidders.
- :mod:`semcom_reproductions.cdrl`: the collaborative-DRL paper's semantic source selection against
  structural and random selection.
- :mod:`semcom_reproductions.task_oriented`: the task-oriented ASC paper's CRRA/CRRAUS against FRA,
  MSR and FCR.

The algorithms they train live in :mod:`semcom_agents`, the rules they compare with in
:mod:`semcom_baselines`; this package only runs, tabulates and plots. ``docs/reproduce-*.md`` hold
the measured results.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def fmt_ci(mean_half: Sequence[float], scale: float = 1.0, digits: int = 3) -> str:
    """``"mean ± half-width"`` of a ``(mean, 95% CI half-width)`` pair, times ``scale``; the mean alone
    when the half-width is not finite (a single seed)."""
    mean, half = mean_half
    return f"{scale * mean:.{digits}f} ± {scale * half:.{digits}f}" if np.isfinite(half) else f"{scale * mean:.{digits}f}"
