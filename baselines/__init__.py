"""Classical policies behind the :class:`~baselines.policy.Policy` interface, and their registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from baselines.multicell import AdaptiveK, Greedy, MaxSumRate, Oracle, full_power, min_power
from baselines.policy import Policy
from baselines.random_policy import RandomPolicy
from semcom_envs.api.core import BatchedScenario

POLICIES: dict[str, Callable[..., Policy]] = {
    "random": RandomPolicy,
    "greedy": Greedy,
    "full_power": full_power,
    "min_power": min_power,
    "adaptive_k": AdaptiveK,
    "max_sum_rate": MaxSumRate,
    "oracle": Oracle,
}


def make_policy(name: str, scenario: BatchedScenario, **kwargs: Any) -> Policy:
    """The policy registered as ``name`` for ``scenario``; raises if unknown or unsupported."""
    try:
        factory = POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown policy {name!r}: known policies are {', '.join(POLICIES)}") from None
    policy = factory(scenario, **kwargs)
    if not policy.supports(scenario.env_id):
        raise ValueError(f"policy {name!r} does not support {scenario.env_id}")
    return policy


__all__ = ["POLICIES", "Policy", "make_policy"]
