"""Source-selection policies for SemCom-CDRL-v0 (the source's baselines, docs/policies.md), all batched over copies and targets.

A target sees, per source, the cosine similarity of parameters, its last probed relatedness (-1:
never probed), the transfer size and last round's grant. The link budget
``scenario.budget_bits`` is shared by the ``K`` targets and the coordinator grants in a random
order, so every baseline requests at most its **fair share**: ``share = floor(budget_bits /
K / model_bits)`` sources per target and round. All requests then fit and are granted, which keeps
the comparison at equal bandwidth and independent of the grant order.

- ``no_transfer``: never requests, never probes (the target trains alone).
- ``random``: ``share`` sources drawn uniformly without replacement per target and round; never
  probes. (It replaces the generic uniform-action ``random`` for this scenario: that one requests
  about half of all sources and leaves the budget to the coordinator's lottery.)
- ``structural``: the ``share`` sources of highest cosine similarity; never probes.
- ``structural_semantic`` (the source's idea): probes the ``probe_top`` sources of highest cosine
  it has not probed yet (so ``probe_top`` in round 0, and later only sources that enter the
  top-``probe_top`` as the target's own parameters change), scores every source ``s_j = lambda
  (cos_j + 1) / 2 + (1 - lambda) rel_j`` and solves the 0/1 knapsack "maximise the sum of ``s_j -
  threshold`` under the fair share of bits" exactly by dynamic programming (:func:`knapsack`).
  ``rel_j`` is relatedness normalised between the *goal-free floor* ``-step_cost`` (the reward per
  step of a policy that never reaches the target's goal during the probe: the random-policy proxy)
  and the best relatedness this target has probed (the solved-return proxy: the target cannot
  compute its task's solved return, and a source that solves it is its best probe), clipped to
  [0, 1]; 0 for an unprobed source. The ``threshold`` (default 0.5) matters because the target
  merges the *mean* of what it is granted: a second, weaker source dilutes a good one, and an
  unrelated one pulls the Q-table away from the task, so a source is worth its bits only if it
  scores clearly. In round 0 nothing is probed yet, every score is below the threshold and
  nothing is requested.
- ``semantic``: ``structural_semantic`` with ``lambda = 0`` (relatedness only) and every source
  probed (``probe_top = n``): all sources are probed in round 0, none later; from round 1 it
  requests the most related sources whose normalised relatedness exceeds the threshold, at most
  ``share``.
- ``oracle`` (full information, exact one-round lookahead): for each target, the subset of at most
  ``share`` sources that maximises the target's exact return after the round, found by exhaustive
  enumeration over subsets (``n <= max_sources``, default 10) and evaluated with the scenario's
  own :meth:`~semcom_envs.scenarios.cdrl.CDRL.step` (merge, the round's Q-learning with its actual
  random draws, and exact policy evaluation) on copies of the current state. Targets do not
  interact once every request is granted, so all targets are optimised in the same enumeration.
  The state (Q-tables, training keys) is not in ``global_state``, so the oracle reads it from the
  :class:`~semcom_envs.api.runner.BatchRunner` given to :meth:`Oracle.bind` (the reproduction
  binds it; ``evaluate`` does not, and the oracle then raises). It never probes. It is greedy per
  round: the maximum of the next return, not of the episode's final return.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from semcom_baselines.policy import ScenarioPolicy
from semcom_baselines.search import chunk_size, chunked_argmax, joint_grid
from semcom_envs.api.runner import BatchRunner
from semcom_envs.scenarios.cdrl import CDRL, CDRLV1

# Bytes of the scenario's step per copy and candidate subset (dominated by the aligned source
# Q-tables (K, n, S^2, 4) and the training draws), times a margin: sets the oracle's chunk size.
_STEP_BYTES_PER_VALUE = 8 * 4


def fair_share(scenario: CDRL) -> int:
    """Sources a target may request per round so that all targets' requests fit the shared budget."""
    return int(math.floor(scenario.budget_bits / scenario.num_agents / scenario.model_bits + 1e-9))


def request_share(scenario: CDRL) -> int:
    """Sources a local baseline requests per round: the fair share; on SemCom-CDRL-v1 at least 1.

    v1's budget is below one model per target and round (the targets compete for the link), so a
    fair share would be 0: each target then requests its best source and the coordinator's random
    priority order decides which requests fit (requests are refused, never partly granted).
    """
    share = fair_share(scenario)
    return max(share, 1) if isinstance(scenario, CDRLV1) else share


def top_k_mask(score: np.ndarray, k: int | np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the ``k`` highest scores on the last axis (ties: lower index first), within ``allowed``."""
    if allowed is not None:
        score = np.where(allowed, score, -np.inf)
    rank = np.argsort(np.argsort(-score, axis=-1, kind="stable"), axis=-1, kind="stable")
    mask = rank < np.asarray(k)[..., None] if np.ndim(k) else rank < k
    return mask if allowed is None else mask & allowed


def knapsack(values: np.ndarray, weights: np.ndarray, capacity: int) -> np.ndarray:
    """Exact 0/1 knapsack by dynamic programming, batched over the leading axes of ``values``.

    ``values`` ``(..., n)``, ``weights`` ``(n,)`` positive integers, ``capacity`` an integer.
    Returns the chosen items ``(..., n)`` (bool) maximising the total value with total weight <=
    ``capacity``; items of value <= 0 are never taken. Weights and capacity are divided by their
    greatest common divisor first (equal transfer sizes give a table of ``share + 1`` columns).
    The loop runs over the ``n`` items only (n <= 32 in the scenario).
    """
    weights = np.asarray(weights, dtype=np.int64)
    g = math.gcd(int(capacity), *map(int, weights))
    weights, cap = weights // g, int(capacity) // g
    lead, n = values.shape[:-1], values.shape[-1]
    v = values.reshape(-1, n)
    best = np.zeros((len(v), cap + 1))
    take = np.zeros((n, len(v), cap + 1), dtype=bool)
    for j in range(n):
        w = int(weights[j])
        if w > cap:
            continue
        with_j = np.full_like(best, -np.inf)
        with_j[:, w:] = best[:, : cap + 1 - w] + v[:, j: j + 1]
        take[j] = with_j > best
        best = np.maximum(best, with_j)
    rows, room = np.arange(len(v)), np.full(len(v), cap)
    chosen = np.zeros((len(v), n), dtype=bool)
    for j in reversed(range(n)):
        chosen[:, j] = take[j, rows, room]
        room -= chosen[:, j] * weights[j]
    return chosen.reshape(*lead, n)


class _CDRLPolicy(ScenarioPolicy):
    """Common plumbing: observation decoding, the fair share and action encoding."""

    name = "cdrl"
    scenario_class = CDRL
    scenario: CDRL

    def __init__(self, scenario: CDRL) -> None:
        super().__init__(scenario)
        self.share = request_share(scenario)
        self.n = scenario.config.num_sources
        self.floor = -scenario.config.step_cost

    def decode(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Observation fields, ``(B, K)`` for ``return``/``round`` and ``(B, K, n)`` per source."""
        obs = np.stack([observations[a] for a in self.scenario.agents], axis=1)
        per_source = obs[..., 2:].reshape(*obs.shape[:2], self.n, 4)
        return {"return": obs[..., 0], "round": obs[..., 1], "cosine": per_source[..., 0],
                "relatedness": per_source[..., 1], "probed": per_source[..., 1] > -1.0, "granted": per_source[..., 3] > 0.5}

    def encode(self, request: np.ndarray, probe: np.ndarray) -> dict[str, np.ndarray]:
        """Per-agent ``MultiDiscrete`` actions ``[request_0..n-1, probe_0..n-1]`` from ``(B, K, n)`` masks."""
        a = np.concatenate([request, probe], axis=-1).astype(np.int64)
        return {agent: a[:, i] for i, agent in enumerate(self.scenario.agents)}

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        request, probe = self.choose(self.decode(observations))
        return self.encode(request, probe)

    def choose(self, obs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Request and probe masks ``(B, K, n)`` from the decoded observations."""
        raise NotImplementedError


class NoTransfer(_CDRLPolicy):
    """``no_transfer``: train alone."""

    name = "no_transfer"

    def choose(self, obs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        none = np.zeros(obs["cosine"].shape, dtype=bool)
        return none, none


class RandomSources(_CDRLPolicy):
    """``random``: ``share`` uniformly drawn sources per target and round, from a seeded Generator."""

    name = "random"

    def __init__(self, scenario: CDRL) -> None:
        super().__init__(scenario)
        self.rng = np.random.default_rng()

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def choose(self, obs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        request = top_k_mask(self.rng.random(obs["cosine"].shape), self.share)
        return request, np.zeros_like(request)


class Structural(_CDRLPolicy):
    """``structural``: the ``share`` sources of highest cosine similarity."""

    name = "structural"

    def choose(self, obs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        request = top_k_mask(obs["cosine"], self.share)
        return request, np.zeros_like(request)


class StructuralSemantic(_CDRLPolicy):
    """``structural_semantic``: cosine + normalised relatedness, top-``probe_top`` probing, knapsack (module docstring)."""

    name = "structural_semantic"

    def __init__(self, scenario: CDRL, weight: float = 0.5, probe_top: int = 4, threshold: float = 0.5) -> None:
        super().__init__(scenario)
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight={weight!r} is invalid: must be in [0, 1]")
        self.weight, self.probe_top, self.threshold = weight, min(int(probe_top), self.n), threshold

    def normalised_relatedness(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Relatedness in [0, 1] between the goal-free floor and the target's best probe; 0 if unprobed."""
        rel = np.where(obs["probed"], obs["relatedness"], self.floor)
        span = rel.max(axis=-1, keepdims=True) - self.floor
        return np.where(span > 1e-9, np.clip((rel - self.floor) / np.where(span > 1e-9, span, 1.0), 0.0, 1.0), 0.0)

    def choose(self, obs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        probe = top_k_mask(obs["cosine"], self.probe_top) & ~obs["probed"]
        score = self.weight * (obs["cosine"] + 1.0) / 2.0 + (1.0 - self.weight) * self.normalised_relatedness(obs)
        sc = self.scenario
        weights = np.full(self.n, sc.model_bits, dtype=np.int64)
        capacity = max(int(sc.budget_bits // sc.num_agents), self.share * sc.model_bits)  # v1: one model (request_share)
        request = knapsack(score - self.threshold, weights, capacity)
        return request, probe


class Semantic(StructuralSemantic):
    """``semantic``: relatedness only (``weight = 0``), every source probed once (module docstring)."""

    name = "semantic"

    def __init__(self, scenario: CDRL, threshold: float = 0.5) -> None:
        super().__init__(scenario, weight=0.0, probe_top=scenario.config.num_sources, threshold=threshold)


class SemanticYield(Semantic):
    """``semantic_yield`` (SemCom-CDRL-v1, local): ``semantic`` that leaves the link to the others once it is served.

    Under v1's budget (one model per round for all targets) a request of a target that already
    follows a solved table takes the round's only grant from a target that still needs one. A
    target sees its own exact return (in its observation), so it stops requesting once that return exceeds
    ``served`` (default 0.2: a merged related table gives about 0.5 on the benchmark, a target
    alone about -0.1, so any value in between separates them). Uses only the target's observation.
    """

    name = "semantic_yield"

    def __init__(self, scenario: CDRL, threshold: float = 0.5, served: float = 0.2) -> None:
        super().__init__(scenario, threshold=threshold)
        self.served = served

    def choose(self, obs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        request, probe = super().choose(obs)
        return request & (obs["return"] < self.served)[..., None], probe


class Oracle(_CDRLPolicy):
    """``oracle``: per target, the subset of at most ``share`` sources maximising its exact next return (module docstring)."""

    name = "oracle"
    uses_global_state = True

    def __init__(self, scenario: CDRL, max_sources: int = 10, memory_mb: float = 256.0) -> None:
        super().__init__(scenario)
        if self.n > max_sources:
            raise ValueError(f"oracle: {self.n} sources exceed max_sources={max_sources} (2^{self.n} subsets); "
                             "pass a larger max_sources to wait")
        grid = joint_grid(2, self.n).astype(bool)
        self.subsets = grid[grid.sum(axis=1) <= self.share]
        c = scenario.config
        per_copy = c.num_targets * (c.num_sources + 1) * scenario.num_cells * 4 + 5 * c.train_steps * c.num_targets
        self.bytes_per_candidate_copy = per_copy * _STEP_BYTES_PER_VALUE
        self.memory_bytes = memory_mb * 2**20
        self.runner: BatchRunner | None = None

    def bind(self, runner: BatchRunner) -> None:
        """Read the scenario state of ``runner`` (the copies this oracle acts for) at every decision."""
        if runner.scenario is not self.scenario:
            raise ValueError("oracle: the runner steps another scenario object")
        self.runner = runner

    def best_subsets(self, state: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Per copy and target, the best subset ``(B, K, n)`` and the return after the round it gives ``(B, K)``."""
        sc = self.scenario
        b, k = state["t"].shape[0], sc.num_agents
        step: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] = lambda part: self._score(state, part)  # noqa: E731
        chunk = chunk_size(self.memory_bytes, b * self.bytes_per_candidate_copy)
        value, subset, _ = chunked_argmax(self.subsets, b * k, chunk, step)
        return subset.reshape(b, k, self.n), value.reshape(b, k)

    def _score(self, state: dict[str, Any], part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every target's return ``(B K, c)`` after requesting subset ``part[s]`` (all targets at once)."""
        sc = self.scenario
        b, c, k = state["t"].shape[0], len(part), sc.num_agents
        copies = {name: np.repeat(value, c, axis=0) for name, value in state.items()}
        request = np.broadcast_to(part[None, :, None, :], (b, c, k, self.n)).reshape(b * c, k, self.n)
        returns = sc.step(copies, self.encode(request, np.zeros_like(request))).infos["return"]
        value = returns.reshape(b, c, k).transpose(0, 2, 1).reshape(b * k, c)
        return value, value[..., None]

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        if self.runner is None or self.runner.state is None:
            raise ValueError("oracle needs the scenario state: call bind(runner) with the runner it acts for")
        request, _ = self.best_subsets(self.runner.state)
        return self.encode(request, np.zeros_like(request))



class OracleV1(Oracle):
    """``oracle`` of SemCom-CDRL-v1: the joint allocation of the round's budget maximising the targets' mean next return.

    v1's budget does not cover one model per target, so the targets interact through the grants: the
    oracle enumerates every joint request in which each target asks for at most one source and at
    most ``floor(budget_bits / model_bits)`` targets ask (all of them fit, so all are granted), and
    scores it with the scenario's own step on copies of the state (the round's actual draws, exact
    policy evaluation). It never probes (it knows which sources help). One source per target keeps
    the enumeration small ((n + 1)^K candidates before the budget filter: 729 at K = 3, n = 8); a
    target's merge averages what it is granted, so a second source can only dilute the best one
    when the best one solves the target's task (permuted copies do).
    """

    def __init__(self, scenario: CDRL, max_candidates: int = 4096, memory_mb: float = 256.0) -> None:
        _CDRLPolicy.__init__(self, scenario)
        k, n = scenario.num_agents, self.n
        if (n + 1) ** k > max_candidates:
            raise ValueError(f"oracle: (n + 1)^K = {(n + 1) ** k} joint requests exceed max_candidates={max_candidates}")
        choice = joint_grid(n + 1, k) - 1  # (C, K): the source each target requests, -1 for none
        total = int(math.floor(scenario.budget_bits / scenario.model_bits + 1e-9))
        choice = choice[(choice >= 0).sum(axis=1) <= total]
        self.subsets = (choice[..., None] == np.arange(n)).astype(bool)  # (C, K, n)
        c = scenario.config
        per_copy = c.num_targets * (c.num_sources + 1) * scenario.num_cells * 4 + 5 * c.train_steps * c.num_targets
        self.bytes_per_candidate_copy = per_copy * _STEP_BYTES_PER_VALUE
        self.memory_bytes = memory_mb * 2**20
        self.runner = None

    def best_subsets(self, state: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Per copy, the best joint request ``(B, K, n)`` and the targets' mean return after the round ``(B,)``."""
        b = state["t"].shape[0]
        step: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] = lambda part: self._score(state, part)  # noqa: E731
        chunk = chunk_size(self.memory_bytes, b * self.bytes_per_candidate_copy)
        value, subset, _ = chunked_argmax(self.subsets, b, chunk, step)
        return subset, value

    def _score(self, state: dict[str, Any], part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The targets' mean return ``(B, c)`` after the joint requests ``part`` ``(c, K, n)``."""
        sc = self.scenario
        b, c = state["t"].shape[0], len(part)
        copies = {name: np.repeat(value, c, axis=0) for name, value in state.items()}
        request = np.broadcast_to(part[None], (b, *part.shape)).reshape(b * c, *part.shape[1:])
        value = sc.step(copies, self.encode(request, np.zeros_like(request))).infos["return"].mean(axis=1).reshape(b, c)
        return value, value[..., None]
