"""Classical policies behind the :class:`~semcom_baselines.policy.Policy` interface, and their registry.

A policy name can mean a different class per scenario (``greedy`` is one rule for MultiCell and
another for Offloading), so the registry is keyed by environment id: :data:`REGISTRY` maps each id
to its ``name -> factory`` table, ``random`` works on every scenario, and :data:`POLICIES` maps
every registered name to a factory that picks the class for the scenario it is given. A
scenario's own entry takes precedence over a generic one of the same name (CDRL's ``random``
draws sources within the bandwidth share instead of uniform actions).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from semcom_baselines import (
    cdrl,
    iot_auction,
    multicell,
    offloading,
    offloading_queues,
    task_oriented,
    task_oriented_queues,
)
from semcom_baselines.policy import Policy
from semcom_baselines.random_policy import RandomPolicy
from semcom_envs.api.core import BatchedScenario
from semcom_envs.scenarios import (
    CDRL,
    CDRLV1,
    IoTAuction,
    IoTAuctionV1,
    IoTAuctionV2,
    MultiCell,
    MultiCellV1,
    Offloading,
    OffloadingQueues,
    TaskOriented,
    TaskOrientedQueues,
    TaskOrientedV1,
)

Factory = Callable[..., Policy]

GENERIC: dict[str, Factory] = {"random": RandomPolicy}
"""Policies that act in any scenario."""

REGISTRY: dict[str, dict[str, Factory]] = {
    MultiCell.env_id: {
        "greedy": multicell.Greedy,
        "full_power": multicell.full_power,
        "min_power": multicell.min_power,
        "adaptive_k": multicell.AdaptiveK,
        "max_sum_rate": multicell.MaxSumRate,
        "oracle": multicell.Oracle,
    },
    MultiCellV1.env_id: {
        "greedy": multicell.Greedy,
        "full_power": multicell.full_power,
        "min_power": multicell.min_power,
        "adaptive_k": multicell.AdaptiveK,
        "max_weight": multicell.MaxWeight,
        "local_dpp": multicell.local_dpp,
        "max_sum_rate": multicell.MaxSumRate,
        "oracle": multicell.Oracle,
        "oracle_delayed": multicell.oracle_delayed,
        "dpp": multicell.dpp,
        "dpp_delayed": multicell.dpp_delayed,
    },
    Offloading.env_id: {
        "local_only": offloading.LocalOnly,
        "offload_all": offloading.OffloadAll,
        "greedy": offloading.Greedy,
        "exhaustive": offloading.Exhaustive,
    },
    OffloadingQueues.env_id: {
        "local_only": offloading_queues.LocalOnly,
        "offload_all": offloading_queues.OffloadAll,
        "greedy": offloading_queues.Greedy,
        "max_weight": offloading_queues.MaxWeight,
        "local_dpp": offloading_queues.LocalDPP,
        "opportunistic": offloading_queues.Opportunistic,
        "exhaustive": offloading_queues.Exhaustive,
        "exhaustive_delayed": offloading_queues.ExhaustiveDelayed,
        "dpp_delayed": offloading_queues.DppDelayed,
        "dpp": offloading_queues.DriftPlusPenalty,
    },
    IoTAuction.env_id: {
        "truthful": iot_auction.truthful,
        "shaded": iot_auction.Shaded,
    },
    **{cls.env_id: {
        "truthful": iot_auction.truthful,
        "shaded": iot_auction.Shaded,
        "equilibrium": iot_auction.Equilibrium,
        "price_anchored": iot_auction.PriceAnchored,
        "capped": iot_auction.Capped,
        "complete_information_nash": iot_auction.CompleteInformationNash,
    } for cls in (IoTAuctionV1, IoTAuctionV2)},
    CDRL.env_id: {
        "no_transfer": cdrl.NoTransfer,
        "random": cdrl.RandomSources,
        "structural": cdrl.Structural,
        "semantic": cdrl.Semantic,
        "structural_semantic": cdrl.StructuralSemantic,
        "oracle": cdrl.Oracle,
    },
    CDRLV1.env_id: {
        "no_transfer": cdrl.NoTransfer,
        "random": cdrl.RandomSources,
        "structural": cdrl.Structural,
        "semantic": cdrl.Semantic,
        "structural_semantic": cdrl.StructuralSemantic,
        "semantic_yield": cdrl.SemanticYield,
        "oracle": cdrl.OracleV1,
    },
    TaskOriented.env_id: {
        "equal": task_oriented.Equal,
        "msr": task_oriented.MSR,
        "fcr": task_oriented.FCR,
        "fra": task_oriented.FRA,
        "crra": task_oriented.CRRA,
        "crraus": task_oriented.CRRAUS,
    },
    TaskOrientedV1.env_id: {
        "equal": task_oriented.Equal,
        "msr": task_oriented.MSR,
        "fcr": task_oriented.FCR,
        "fra": task_oriented.FRA,
        "local_select": task_oriented.LocalSelect,
        "crra": task_oriented.CRRA,
        "crraus": task_oriented.CRRAUS,
    },
    TaskOrientedQueues.env_id: {
        "equal": task_oriented.Equal,
        "fra": task_oriented.FRA,
        "local_select": task_oriented_queues.local_select,
        "grant_select": task_oriented_queues.GrantSelect,
        "knapsack": task_oriented_queues.Knapsack,
    },
}
"""Scenario-specific policies, per environment id."""


def policies_for(env_id: str) -> tuple[str, ...]:
    """Names of the policies that act in the scenario ``env_id``."""
    return tuple(dict.fromkeys([*GENERIC, *REGISTRY.get(env_id, {})]))


def make_policy(name: str, scenario: BatchedScenario, **kwargs: Any) -> Policy:
    """The policy registered as ``name`` for ``scenario``; raises if unknown or unsupported there."""
    env_id = scenario.env_id
    factory = REGISTRY.get(env_id, {}).get(name) or GENERIC.get(name)
    if factory is None:
        supported = ", ".join(policies_for(env_id))
        if name in POLICIES:
            raise ValueError(f"policy {name!r} does not support {env_id}: policies for it are {supported}")
        raise ValueError(f"unknown policy {name!r}: known policies are {', '.join(POLICIES)}; "
                         f"for {env_id}: {supported}")
    policy = factory(scenario, **kwargs)
    if not policy.supports(env_id):
        raise ValueError(f"policy {name!r} does not support {env_id}")
    return policy


_NAMES = dict.fromkeys([*GENERIC, *(name for table in REGISTRY.values() for name in table)])
POLICIES: dict[str, Factory] = {name: partial(make_policy, name) for name in _NAMES}
"""Every registered name, mapped to a factory ``(scenario, **kwargs) -> Policy`` for any scenario it supports."""

__all__ = ["GENERIC", "POLICIES", "REGISTRY", "Policy", "make_policy", "policies_for"]
