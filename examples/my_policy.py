"""A policy of your own on the leaderboard (docs/leaderboard.md, "Bring your own policy").

``semcom leaderboard run --submit margin=examples/my_policy.py:make_policy --env SemCom-IoTAuction-v2 ...``
calls :func:`make_policy` with the benchmark's scenario core and evaluates the returned object on the
protocol's runs, exactly like a shipped baseline. The interface (:class:`semcom_baselines.policy.Policy`):
``act(observations, global_state)`` maps ``{agent: (batch, *obs_shape)}`` to ``{agent: (batch,
*action_shape)}`` for a whole batch of copies at once; ``reset(seed)`` (optional) starts an evaluation;
``uses_global_state`` (optional, default ``False``) must be ``True`` if the policy reads ``global_state``.

This one bids its value less a fixed margin in the first-price auction of SemCom-IoTAuction-v2: every
device reads only its own observation, whose first entry is its value ``v``, and v2's action is the bid's
fraction of the value, so the scenario's ``bids_to_actions(bids, values)`` converts the bid.
"""

from __future__ import annotations

import numpy as np

MARGIN = 0.1
"""Value units below the value that a device bids (never below 0)."""


class ValueLessMargin:
    """Each device bids ``max(v - MARGIN, 0)`` (local: its own value only)."""

    uses_global_state = False

    def __init__(self, scenario) -> None:
        self.scenario = scenario

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        return {agent: self.scenario.bids_to_actions(np.maximum(obs[:, :1] - MARGIN, 0.0), obs[:, :1])
                for agent, obs in observations.items()}


def make_policy(scenario) -> ValueLessMargin:
    """The factory ``--submit NAME=examples/my_policy.py:make_policy`` calls with the benchmark's scenario."""
    if scenario.env_id != "SemCom-IoTAuction-v2":
        raise ValueError(f"this example bids in SemCom-IoTAuction-v2, not {scenario.env_id}")
    return ValueLessMargin(scenario)
