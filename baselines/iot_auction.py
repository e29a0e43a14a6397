"""Bidding policies for SemCom-IoTAuction-v0 (spec iot_auction §5).

- ``truthful``: bid the private value, ``b = v`` (a dominant strategy under second price, Myerson
  and MyersonNet, which are truthful mechanisms).
- ``shaded``: bid a fraction ``alpha`` of the value (default 0.8), ``b = alpha v``: what bidders
  do in a first-price auction, and a deviation that must not pay under a truthful mechanism.

Bids are capped at the scenario's ``bid_max`` (a value above it cannot be bid) and sent as the
normalised action; ``random`` bidding is the generic :class:`~baselines.random_policy.RandomPolicy`
(uniform over the normalised action, so uniform bids in ``[0, bid_max]``).
"""

from __future__ import annotations

import numpy as np

from baselines.policy import ScenarioPolicy
from semcom_envs.config import check_real
from semcom_envs.scenarios.iot_auction import IoTAuction


class Shaded(ScenarioPolicy):
    """``b = min(alpha v, bid_max)`` for every device."""

    scenario_class = IoTAuction
    scenario: IoTAuction

    def __init__(self, scenario: IoTAuction, alpha: float = 0.8) -> None:
        super().__init__(scenario)
        self.alpha = check_real("alpha", alpha, 0.0, 1e6)
        self.name = "truthful" if self.alpha == 1.0 else f"shaded_{self.alpha:g}" if alpha != 0.8 else "shaded"

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        sc = self.scenario
        return {a: sc.bids_to_actions(np.minimum(self.alpha * obs[:, :1].astype(np.float64), sc.config.bid_max))
                for a, obs in observations.items()}


def truthful(scenario: IoTAuction) -> Shaded:
    """Bid the value."""
    return Shaded(scenario, alpha=1.0)
