"""Throughput benchmark: environment steps per second of the batched core and of each API.

A benchmark measures, it never asserts. Actions are drawn once up front (uniform over the action
space) so that only the environment is timed. Anchors from other packages are measured in the
same run where they are installed (the ``bench`` extra: ``pip install -e '.[bench]'``), so ratios are side by side.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from semcom_baselines.random_policy import RandomPolicy
from semcom_envs.api.parallel import SemComParallelEnv
from semcom_envs.api.runner import BatchRunner
from semcom_envs.registration import make_scenario, make_vector_env
from semcom_envs.scenarios import SCENARIOS


def _rate(step: Callable[[], Any], min_seconds: float) -> float:
    """Calls per second of ``step`` over at least ``min_seconds`` (after a warm-up call)."""
    step()
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(8):
            step()
        calls += 8
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return calls / elapsed


def core_steps_per_second(env_id: str, batch: int, min_seconds: float = 1.0, **config: Any) -> float:
    """Batched steps per second of the scenario core (one step = ``batch`` env steps)."""
    scenario = make_scenario(env_id, **config)
    runner = BatchRunner(scenario, batch)
    runner.reset(seed=0)
    policy = RandomPolicy(scenario)
    policy.reset(0)
    obs = {a: np.zeros((batch, 1)) for a in scenario.agents}
    actions = [policy.act(obs, None) for _ in range(4)]
    i = 0

    def step() -> None:
        nonlocal i
        i += 1
        if i % scenario.config.max_steps == 0:
            runner.reset()
        runner.step(actions[i % 4])

    return _rate(step, min_seconds)


def vector_steps_per_second(env_id: str, batch: int, min_seconds: float = 1.0, **config: Any) -> float:
    """Steps per second of the Gymnasium vector env (auto-reset included)."""
    env = make_vector_env(env_id, num_envs=batch, **config)
    env.reset(seed=0)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(4)]
    i = 0

    def step() -> None:
        nonlocal i
        i += 1
        env.step(actions[i % 4])

    return _rate(step, min_seconds)


def parallel_seconds_per_step(env_id: str, min_seconds: float = 1.0, **config: Any) -> float:
    """Seconds per step of one environment through the PettingZoo parallel API (resets included)."""
    env = SemComParallelEnv(make_scenario(env_id, **config))
    env.reset(seed=0)
    for a in env.possible_agents:
        env.action_space(a).seed(0)
    actions = [{a: env.action_space(a).sample() for a in env.possible_agents} for _ in range(4)]
    i = 0

    def step() -> None:
        nonlocal i
        i += 1
        if not env.agents:
            env.reset()
        env.step(actions[i % 4])

    return 1.0 / _rate(step, min_seconds)


def anchors(min_seconds: float = 1.0) -> dict[str, float]:
    """Reference throughputs of other packages, where installed (missing ones are skipped)."""
    out: dict[str, float] = {}
    try:
        from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

        cart = CartPoleVectorEnv(num_envs=4096)
        cart.reset(seed=0)
        acts = np.zeros(4096, dtype=np.int64)
        out["gymnasium CartPoleVectorEnv (numpy), env-steps/s @4096"] = 4096 * _rate(lambda: cart.step(acts), min_seconds)
    except ImportError:
        pass
    try:
        from mpe2 import simple_spread_v3

        mpe = simple_spread_v3.parallel_env()
        mpe.reset(seed=0)
        mpe_actions = {a: 0 for a in mpe.possible_agents}

        def mpe_step() -> None:
            if not mpe.agents:
                mpe.reset()
            mpe.step(mpe_actions)

        out["MPE2 simple_spread (3 agents), us/step (PettingZoo parallel API)"] = 1e6 / _rate(mpe_step, min_seconds)
    except ImportError:
        pass
    try:
        import torch
        import vmas

        venv = vmas.make_env("simple_spread", num_envs=4096, device="cpu", continuous_actions=True, seed=0)
        venv.reset()
        vacts = [torch.zeros(4096, 2) for _ in venv.agents]
        agents = len(venv.agents)
        out[f"VMAS simple_spread ({agents} agents), agent-steps/s @4096"] = (
            4096 * agents * _rate(lambda: venv.step(vacts), min_seconds))
    except ImportError:
        pass
    return out


def run(env_id: str, batches: Iterable[int], sizes: Iterable[int], min_seconds: float = 1.0,
        with_anchors: bool = True) -> list[dict[str, Any]]:
    """Rows of measurements for every (number of agents, batch) pair, plus the single-env API latency.

    ``sizes`` set the scenario's ``size_field`` (MultiCell ``num_cells``, Offloading ``num_devices``).
    """
    field = SCENARIOS[env_id].size_field if env_id in SCENARIOS else "num_agents"
    rows: list[dict[str, Any]] = []
    for n in sizes:
        size = {field: n}
        for b in batches:
            core = core_steps_per_second(env_id, b, min_seconds, **size)
            vec = vector_steps_per_second(env_id, b, min_seconds, **size)
            rows.append({"what": f"core {field}={n} batch={b}", "env_steps_per_s": b * core,
                         "agent_steps_per_s": b * n * core, "vector_env_steps_per_s": b * vec})
        us = 1e6 * parallel_seconds_per_step(env_id, min_seconds, **size)
        rows.append({"what": f"PettingZoo parallel {field}={n} batch=1", "us_per_step": us})
    if with_anchors:
        rows.extend({"what": name, "value": value} for name, value in anchors(min_seconds).items())
    return rows
