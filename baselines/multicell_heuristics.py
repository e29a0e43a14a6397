"""Simple local-information heuristics for SemCom-MultiCell-v0.

``adaptive_k``: every BS sends at one fixed power level (by default the lowest non-zero one: in
the default preset SNRs are high, so little power is needed) and picks the strongest compression (the
smallest ``k``, i.e. the highest semantic rate) whose DeepSC accuracy at its last measured SINR
still reaches a target. It is the "link adaptation" rule a practitioner would write first: it uses
only the agent's own observation (its SINR of the last slot), no learning and no channel state of
the other cells.
"""

from __future__ import annotations

import numpy as np

from semcom_envs.physics.semantics import DEEPSC_K_MAX, deepsc_similarity
from semcom_envs.scenarios.multicell import OBS_DB_SCALE, MultiCell


class AdaptiveK:
    """Fixed power level, smallest ``k`` whose table accuracy at the last SINR meets ``target``."""

    name = "adaptive_k"
    uses_global_state = False

    def __init__(self, scenario: MultiCell, power_level: int | None = None, target_accuracy: float = 0.9) -> None:
        if not isinstance(scenario, MultiCell):
            raise TypeError("adaptive_k supports SemCom-MultiCell-v0 only")
        q = scenario.config.num_power_levels
        if power_level is None:
            power_level = int(np.flatnonzero(scenario.power_levels > 0)[0])
        if not -q <= power_level < q:
            raise ValueError(f"power_level={power_level} is invalid: must be in [{-q}, {q - 1}]")
        if not 0.0 < target_accuracy < 1.0:
            raise ValueError(f"target_accuracy={target_accuracy} is invalid: must be in (0, 1)")
        self.scenario = scenario
        self.level = power_level % q
        self.target = target_accuracy

    def supports(self, env_id: str) -> bool:
        return env_id == MultiCell.env_id

    def reset(self, seed: int | None = None) -> None:
        """Deterministic: nothing to reset."""

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        agents = self.scenario.agents
        sinr_db = OBS_DB_SCALE * np.stack([observations[a][:, 1] for a in agents], axis=1)  # (B, M)
        k = np.arange(1, DEEPSC_K_MAX + 1)
        accuracy = deepsc_similarity(k, sinr_db[..., None].astype(np.float64))  # (B, M, K)
        meets = accuracy >= self.target
        # Smallest k that meets the target; if none does, the most robust k (highest accuracy).
        k_idx = np.where(meets.any(axis=-1), meets.argmax(axis=-1), accuracy.argmax(axis=-1))
        if self.scenario.config.flat_actions:
            return {a: self.level * DEEPSC_K_MAX + k_idx[:, i] for i, a in enumerate(agents)}
        level = np.full_like(k_idx, self.level)
        return {a: np.stack([level[:, i], k_idx[:, i]], axis=-1) for i, a in enumerate(agents)}
