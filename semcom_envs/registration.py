"""Entry points of every API for every scenario, and their Gymnasium registration."""

from __future__ import annotations

from typing import Any

import gymnasium

from semcom_envs.api.core import BatchedScenario
from semcom_envs.api.gym_env import SemComGymEnv
from semcom_envs.api.runner import DEFAULT_CHUNK_SIZE
from semcom_envs.api.vector import SemComVectorEnv
from semcom_envs.scenarios import SCENARIOS


def make_scenario(env_id: str, **kwargs: Any) -> BatchedScenario:
    """The batched core of ``env_id`` configured by ``kwargs`` (config fields; unknown ones raise)."""
    try:
        cls = SCENARIOS[env_id]
    except KeyError:
        raise ValueError(f"unknown environment id {env_id!r}: known ids are {', '.join(SCENARIOS)}") from None
    return cls(**kwargs)


def make_gym_env(env_id: str, render_mode: str | None = None, **kwargs: Any) -> SemComGymEnv:
    """Gymnasium entry point: the joint single-environment view."""
    return SemComGymEnv(make_scenario(env_id, **kwargs), render_mode=render_mode)


def make_vector_env(env_id: str, num_envs: int = 1, render_mode: str | None = None,
                    max_episode_steps: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE,
                    num_threads: int | None = None, **kwargs: Any) -> SemComVectorEnv:
    """Gymnasium vector entry point.

    ``max_episode_steps``, if given, sets the scenario's ``max_steps``; ``chunk_size`` and
    ``num_threads`` tune how the batch is stepped (never what it computes).
    """
    if max_episode_steps is not None:
        kwargs["max_steps"] = max_episode_steps
    return SemComVectorEnv(make_scenario(env_id, **kwargs), num_envs=num_envs, render_mode=render_mode,
                           chunk_size=chunk_size, num_threads=num_threads)


def register_all() -> None:
    """Register every scenario id with Gymnasium (idempotent)."""
    for env_id in SCENARIOS:
        if env_id in gymnasium.registry:
            continue
        gymnasium.register(
            id=env_id,
            entry_point=make_gym_env,
            vector_entry_point=make_vector_env,
            kwargs={"env_id": env_id},
            disable_env_checker=False,
        )
