"""SemCom-CDRL-v0: source-agent selection for collaborative RL under a bandwidth budget.

Source: the semantic-aware collaborative DRL case study of a magazine article on edge-driven semantic
communication (what our copy holds of it: docs/scenarios.md).

``K`` target agents (``target_0 .. target_{K-1}``) each learn a gridworld navigation task with
tabular Q-learning. ``n`` source agents have solved related or unrelated tasks (value iteration at
reset). Every round each target may *probe* sources (run its own task under a source's greedy
policy for ``probe_steps`` steps: the semantic relatedness, which costs environment steps) and
*request* sources' Q-tables over a shared link; a coordinator grants requests in a random priority
order within the round's bit budget, each target merges what it was granted, then trains
``train_steps`` steps of epsilon-greedy Q-learning. The reward is the improvement of the target's
exact greedy-policy return. Real RL runs inside the environment, vectorised over copies, targets
and sources (no Python loop over them).

==================  =========================================================================
Action space        ``MultiDiscrete([2] * 2n)`` per agent: ``[request_0..request_{n-1},
                    probe_0..probe_{n-1}]`` (the model's two ``MultiBinary(n)`` sets as one
                    MultiDiscrete, which every agent and adapter of the suite supports).
Observation space   ``Box(2 + 4n,)`` float32 per agent: ``[own return, round / R]`` then per
                    source ``[cosine similarity of raw parameters, last probed relatedness (-1:
                    never probed), bits / dense bits, granted last round]``.
State space         ``Box(K (2 + 4n) + n K,)``: every target's observation and the true benefit
                    indicator matrix (which sources share a target's goal) for oracles.
Reward              per agent: its exact greedy-policy return after the round minus before.
Starting state      tasks drawn per episode (below); targets are pre-trained ``train_steps``
                    steps from zero Q-tables (one round of learning before the first choice).
Episode end         truncation after ``max_steps`` rounds (R, default 10).
Infos               per agent: ``return_before``, ``return`` (after the round), ``bits_used``,
                    ``probe_steps``, ``granted`` (count), ``ungranted`` (requests refused),
                    ``requested``;
                    network: ``bits_used_total``, ``budget_bits``; with ``probe_cost =
                    "train_steps"`` also ``train_steps`` (left for learning), ``probes_refused``.
==================  =========================================================================

Tasks: an ``S x S`` grid (default 7) shared by the episode's tasks, with ``num_walls`` wall
cells; 4 physical moves (up, right, down, left), a move into a wall or off the grid stays; with
probability ``slip`` the move is replaced by a uniformly random one. Reward +1 on reaching the goal
(terminal), step cost -0.01, discount 0.95, horizon ``4 S``. A task is ``(goal, slip, action
permutation)``: the permutation relabels the agent's 4 actions. Sources per episode (config
``source_mix`` = fractions near / permuted / unrelated): *near* sources copy a random target's task
with the goal moved 1-2 cells and the same action labels (similar parameters, different optimal
actions near the goal); *permuted* copies share a target's goal and slip under different labels
(cosine similarity fails, relatedness is full); *unrelated* sources have a goal at least 3 cells
from every target, under a target's labels.

Returns are exact: the expected discounted return over the horizon from a uniform start cell,
by backward policy evaluation. Relatedness is the average reward per step collected over
``probe_steps`` steps of the target's task under the source's greedy policy (episodes restart at
the goal or the horizon).

Where the model fills a gap of the source or departs from it (say so when comparing with the source):
- "Greedy-action-aligned" merging: every agent knows its own action labelling, so a Q-table is
  sent in physical-move order and the target maps it to its own labels; the *cosine similarity* is
  computed on the labelled parameters as they are stored, which is what makes it miss permuted
  sources. It is computed on the action-centred tables (advantages): raw Q-values are dominated by
  the state value shared by all actions (measured cosine 0.994-0.999 between a solved table and
  its own action-permuted copy), so raw cosine could not tell any two models apart.
- Sparsified transfer (``sparsity`` 0.5/0.9) keeps the largest-magnitude entries (zeros elsewhere)
  and costs ``kept * (32 + ceil(log2 P))`` bits (values and positions); dense costs ``32 P``.
- The budget ``budget_models`` is in dense models per target and round, shared by all targets:
  ``budget_bits = budget_models * K * 32 P``. Requests are granted in a random priority order while
  they fit (all sources cost the same, so this is a prefix of the order).
- Probes of a round happen before its transfers; their relatedness is observed next round. Probe
  steps are reported in infos (and are the price of semantic information), not subtracted from
  the reward (v0, ``probe_cost = "free"``; v1 pays them from the round's steps: below).
- A linear Q-function option is not offered: a linear Q on one-hot features with
  SGD is the tabular update, so it would be the same environment.

Seeding: see :mod:`semcom_envs.streams`; a batch seeded with ``s`` runs copy ``i`` exactly like a
single environment seeded with ``s + i``.

SemCom-CDRL-v1 (:class:`CDRLV1`, preset ``benchmark``; v0 and its presets are unchanged, the new
fields default to v0's behaviour): the benchmark task, where collaboration matters.

- *Little own experience* (the source's setting: transfer pays when the target has learned little
  itself): an 11 x 11 grid (horizon 44), ``train_steps = 40`` per round and ``max_steps = 5``
  rounds, so a target alone stays near a policy that never reaches its goal, while one merged
  solved table nearly solves it. (Measured at 7 x 7, 200 steps, 10 rounds: no_transfer reached
  91% of the exhaustive oracle, so selection hardly mattered.)
- *Probes cost learning steps* (``probe_cost = "train_steps"``): a round is
  ``train_steps`` environment steps of the target; each probe (``probe_steps = 10``) is paid from
  them before learning, in source order while it fits, and a probe that does not fit is refused
  (infos ``train_steps``, ``probes_refused``). Semantic information therefore costs learning.
- *A budget that binds*: one dense model per round for the K = 3 targets (``budget_models =
  1/3``): the targets' requests compete and the coordinator's random priority order refuses all
  but one. (At v0's 2 models per target the budget never bound.)
- *Placement* (``placement = "strict"``): distinct target goals; every unrelated source's goal at
  least ``FAR_DISTANCE = 3`` cells (Chebyshev) from every target goal, guaranteed by the config
  check ``25 K + num_walls < S^2`` (each goal excludes a 5 x 5 square). v0's fallback (measured
  over 4,096 episodes in ``benchmarks/cdrl_task_study.py``: on 5 x 5, 25.4% of unrelated sources
  within 2 cells of a target goal and 12.1% of episodes with two equal target goals; at 7 x 7,
  0% and 6.5%; at the benchmark's 11 x 11, 0% and 2.4%) stays v0's.
- *Objective*: the reward is the target's return after the round (``reward = "return"``), so an
  episode's return is the area under the learning curve, which is what the primary metric
  ``return`` averages (mean over rounds and targets) and what the reference oracle
  (:class:`semcom_baselines.cdrl.OracleV1`, a one-round lookahead over joint allocations) maximises
  round by round. v0's reward, the improvement, sums to the final return minus the initial one:
  another objective than v0's metric.

Version history: v0, first release; v1, the benchmark task (above).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium
import numpy as np
from numpy.typing import NDArray

from semcom_envs import streams
from semcom_envs.api.core import AgentArrays, BatchedScenario, State, Transition
from semcom_envs.config import Choice, ConfigError, Fractions, Integer, Interval, Real, Text, param, validate_fields

MOVES = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])
"""Physical moves (row, column): up, right, down, left."""
BITS_PER_VALUE = 32

_D_MAP, _D_TASK, _D_PERM, _D_TRAIN, _D_PROBE, _D_GRANT, _D_PRETRAIN, _D_GOALS = range(8)
FAR_DISTANCE = 3
"""Chebyshev distance (cells) of an unrelated source's goal from every target goal."""
_FAR_ZONE = (2 * FAR_DISTANCE - 1) ** 2
"""Cells closer than ``FAR_DISTANCE`` to one goal (a square of side 2 FAR_DISTANCE - 1 around it)."""
_BLOCK = 1024
"""Inner steps whose draws are turned into labels, moves and restart cells at once (bounds the scratch memory)."""


@dataclasses.dataclass(frozen=True)
class CDRLConfig:
    """Validated configuration of SemCom-CDRL-v0 (allowed values: ``docs/configuration.md``)."""

    preset: str = param("default", Text(), "named defaults: `default`, `walls`")
    grid_size: int = param(7, Integer(3, 15), "gridworld side S")
    num_walls: int = param(0, Integer(0, 15**2 // 4), "wall cells per episode map (<= grid_size^2 // 4)")
    slip_range: tuple[float, float] = param((0.0, 0.3), Interval(0.0, 1.0), "range of the tasks' slip probability")
    num_targets: int = param(3, Integer(1, 16), "target agents K (agents)")
    num_sources: int = param(8, Integer(1, 32), "source agents whose Q-tables can be received")
    source_mix: tuple[float, float, float] = param((0.375, 0.25, 0.375), Fractions(("near", "permuted", "unrelated")),
                                                   "shares of the source kinds")
    budget_models: float = param(2.0, Real(0.0, 1e3), "link budget in dense models per target and round")
    sparsity: float = param(0.0, Choice((0.0, 0.5, 0.9)), "share of Q-table entries dropped before sending")
    mix: float = param(0.5, Real(0.0, 1.0), "weight of the received models when merging")
    train_steps: int = param(200, Integer(0, 100_000), "inner Q-learning steps per round")
    probe_steps: int = param(20, Integer(1, 100_000), "steps of a relatedness probe")
    learning_rate: float = param(0.1, Real(0.0, 1.0, low_open=True), "inner Q-learning step size")
    epsilon: float = param(0.1, Real(0.0, 1.0), "inner epsilon-greedy exploration")
    gamma: float = param(0.95, Real(0.0, 1.0, high_open=True), "gridworld discount")
    step_cost: float = param(0.01, Real(0.0, 1.0), "gridworld reward per step")
    max_steps: int = param(10, Integer(1, 10_000), "rounds per episode (truncation)")
    value_iterations: int = param(200, Integer(1, 100_000), "value-iteration sweeps of the reference solutions")
    probe_cost: str = param("free", Choice(("free", "train_steps")),
                            "`free`: probe steps are only reported (v0); `train_steps`: probes are paid from the round's "
                            "train_steps environment steps, a probe that does not fit is refused")
    placement: str = param("fallback", Choice(("fallback", "strict")),
                           "`fallback` (v0): unrelated goals >= 3 cells from every target goal when such a cell "
                           "exists, else anywhere but the base target's goal; `strict`: distinct target goals and "
                           "unrelated goals always >= 3 cells away (needs 25 num_targets + num_walls < grid_size^2)")
    reward: str = param("improvement", Choice(("improvement", "return")),
                        "`improvement` (v0): the return gained over the round; `return`: the return after the round "
                        "(the area under the learning curve, what the `return` metric averages)")

    def __post_init__(self) -> None:
        validate_fields(self)
        if self.num_walls > self.grid_size**2 // 4:
            raise ConfigError(f"num_walls={self.num_walls} is invalid with grid_size={self.grid_size}: at most a quarter "
                              f"of the cells can be walls, num_walls <= grid_size^2 // 4 = {self.grid_size**2 // 4}; "
                              "change one of num_walls, grid_size")
        if self.placement == "strict" and _FAR_ZONE * self.num_targets + self.num_walls >= self.grid_size**2:
            raise ConfigError(f"placement='strict' is invalid with num_targets={self.num_targets}, num_walls="
                              f"{self.num_walls}, grid_size={self.grid_size}: a cell >= {FAR_DISTANCE} cells from every "
                              f"target goal is guaranteed only if {_FAR_ZONE} num_targets + num_walls < grid_size^2; "
                              "change one of placement, num_targets, num_walls, grid_size")

    @property
    def horizon(self) -> int:
        """Episode length of the gridworld tasks, ``4 S``."""
        return 4 * self.grid_size

    def source_counts(self) -> tuple[int, int, int]:
        """Numbers of near, permuted and unrelated sources (largest remainders)."""
        raw = np.array(self.source_mix) * self.num_sources
        counts = np.floor(raw).astype(int)
        counts[np.argsort(-(raw - counts), kind="stable")[: self.num_sources - counts.sum()]] += 1
        return int(counts[0]), int(counts[1]), int(counts[2])


PRESETS: dict[str, dict[str, Any]] = {"default": {}, "walls": {"num_walls": 6}}


def grid_transitions(size: int, walls: np.ndarray) -> NDArray[np.int64]:
    """``(B, S^2, 4)`` next cell of every cell and physical move; moves off the grid or into a wall stay."""
    cells = np.arange(size * size)
    row, col = np.divmod(cells, size)
    r2, c2 = row[:, None] + MOVES[:, 0], col[:, None] + MOVES[:, 1]
    inside = (r2 >= 0) & (r2 < size) & (c2 >= 0) & (c2 < size)
    target = np.where(inside, r2 * size + c2, cells[:, None])  # (S^2, 4)
    blocked = np.take_along_axis(walls[:, None, :].repeat(size * size, 1), target[None].repeat(len(walls), 0), axis=2)
    return np.where(blocked, cells[None, :, None], target[None])


class CDRL(BatchedScenario):
    """Batched core of SemCom-CDRL-v0 (documentation: the module docstring)."""

    env_id: ClassVar[str] = "SemCom-CDRL-v0"
    pettingzoo_name: ClassVar[str] = "cdrl_v0"
    config_class: ClassVar[type] = CDRLConfig
    presets: ClassVar[dict[str, dict[str, Any]]] = PRESETS
    size_field: ClassVar[str] = "num_targets"
    metrics: ClassVar[dict[str, str]] = {
        "return": "targets' mean exact greedy-policy return after each round, averaged over the episode's rounds "
                  "(the final return after the last round: docs/reproduce-cdrl.md)",
        "improvement": "team reward per round (return improvement)",
        "bits_used": "bits transferred per round",
        "probe_steps": "probe steps per target and round",
    }
    primary_metric: ClassVar[str] = "return"
    higher_is_better: ClassVar[bool] = True

    def __init__(self, config: CDRLConfig | None = None, **kwargs: Any) -> None:
        self.config = self._configure(config, kwargs)
        c = self.config
        self.num_agents = c.num_targets
        self.agents = tuple(f"target_{k}" for k in range(c.num_targets))
        self.num_cells = c.grid_size**2
        self.params = self.num_cells * 4
        self.dense_bits = BITS_PER_VALUE * self.params
        kept = math.ceil((1.0 - c.sparsity) * self.params)
        self.model_bits = self.dense_bits if c.sparsity == 0 else kept * (BITS_PER_VALUE + math.ceil(math.log2(self.params)))
        self.budget_bits = c.budget_models * c.num_targets * self.dense_bits
        n = c.num_sources
        self.action_nvec = np.full(2 * n, 2, dtype=np.int64)
        self.action_labels = tuple(f"request_{j}" for j in range(n)) + tuple(f"probe_{j}" for j in range(n))
        self._act_space = gymnasium.spaces.MultiDiscrete(self.action_nvec)
        per_source_low, per_source_high = [-1.0, -1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]
        low = np.array([-2.0, 0.0] + per_source_low * n, dtype=np.float32)
        high = np.array([1.0, 1.0] + per_source_high * n, dtype=np.float32)
        self._obs_space = gymnasium.spaces.Box(low, high, dtype=np.float32)
        k = c.num_targets
        self.state_space = gymnasium.spaces.Box(np.concatenate([np.tile(low, k), np.zeros(n * k)]).astype(np.float32),
                                                np.concatenate([np.tile(high, k), np.ones(n * k)]).astype(np.float32),
                                                dtype=np.float32)

    # ------------------------------------------------------------ the MDPs
    def _task_arrays(self, goal: np.ndarray, slip: np.ndarray, walls: np.ndarray) -> dict[str, np.ndarray]:
        """Per task ``(B, T)``: next cells ``(B, T, S^2, 4)``, reward on arrival and terminal masks ``(B, T, S^2)``."""
        c = self.config
        cells = np.arange(self.num_cells)
        at_goal = cells == goal[..., None]
        return {"goal": goal, "slip": slip, "terminal": at_goal,
                "arrival_reward": np.where(at_goal, 1.0, 0.0) - c.step_cost,
                "start_ok": ~at_goal & ~walls[:, None, :]}

    @staticmethod
    def _arrival_index(nxt: np.ndarray) -> NDArray[np.int64]:
        """``(4, B, T, S^2)`` flat index, into a ``(B, T, S^2)`` array, of the cell each move leads to.

        Built once per solve or evaluation, so that every Bellman backup reads its next-state values
        with one gather; the move axis leads, so the per-move arithmetic runs on contiguous rows.
        """
        b, t, cells = nxt.shape[:3]
        return np.moveaxis(np.arange(b * t).reshape(b, t, 1, 1) * cells + nxt, -1, 0)

    def _backup(self, index: np.ndarray, task: Mapping[str, np.ndarray],
                value: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One Bellman backup of the next-state values ``value`` ``(B, T, S^2)``.

        Returns the value of arriving at each cell, flat; the value of arriving by each physical move
        ``(4, B, T, S^2)``; and their mean ``(B, T, S^2)`` (where a slip leads, summed in move order):
        ``Q(s, m) = (1 - slip) arrive[m] + slip mean`` at non-terminal cells, 0 at the goal.
        ``index``: :meth:`_arrival_index`.
        """
        c = self.config
        w = (task["arrival_reward"] + c.gamma * np.where(task["terminal"], 0.0, value)).reshape(-1)
        arrive = w[index]
        return w, arrive, (((arrive[0] + arrive[1]) + arrive[2]) + arrive[3]) / 4.0

    def solve(self, nxt: np.ndarray, task: Mapping[str, np.ndarray]) -> np.ndarray:
        """Optimal ``Q(s, m)`` in physical-move order by value iteration, ``(B, T, S^2, 4)``.

        A sweep needs only ``max_m Q(s, m) = (1 - slip) max_m arrive[m] + slip mean``: rounding is
        monotonic, so scaling by ``1 - slip >= 0`` and adding the move-independent term commute with
        the maximum in every bit, and the full table is formed once, from the last sweep.
        """
        index = self._arrival_index(nxt)
        slip, terminal = task["slip"][..., None], task["terminal"]
        value = np.zeros(terminal.shape)
        for _ in range(self.config.value_iterations):
            _, arrive, mean = self._backup(index, task, value)
            best = np.maximum(np.maximum(arrive[0], arrive[1]), np.maximum(arrive[2], arrive[3]))
            value, previous = np.where(terminal, 0.0, (1.0 - slip) * best + slip * mean), value
            if np.array_equal(value, previous):  # an exact fixed point: further sweeps return this same q
                break
        q = np.where(terminal, 0.0, (1.0 - slip) * arrive + slip * mean)
        return np.ascontiguousarray(np.moveaxis(q, 0, -1))

    def policy_return(self, nxt: np.ndarray, task: Mapping[str, np.ndarray], moves: np.ndarray) -> np.ndarray:
        """Exact expected return ``(B, T)`` over the horizon of the physical policy ``moves`` ``(B, T, S^2)``, uniform start."""
        index = self._arrival_index(nxt)
        chosen = np.take_along_axis(index, moves[None], axis=0)[0]  # the flat index of the policy's move
        slip, terminal = task["slip"][..., None], task["terminal"]
        value = np.zeros(terminal.shape)
        for _ in range(self.config.horizon):
            w, _, mean = self._backup(index, task, value)
            value = np.where(terminal, 0.0, (1.0 - slip) * w[chosen] + slip * mean)
        start = task["start_ok"]
        return (value * start).sum(axis=-1) / start.sum(axis=-1)

    # --------------------------------------------------------------- reset
    def reset(self, keys: NDArray[np.uint64]) -> tuple[State, AgentArrays]:
        c = self.config
        b, k, n = keys.shape[0], c.num_targets, c.num_sources
        t0 = np.zeros(b, dtype=np.int64)
        s = c.grid_size
        # The episode's map: num_walls distinct wall cells.
        walls = np.zeros((b, self.num_cells), dtype=bool)
        if c.num_walls:
            order = np.argsort(streams.uniforms(keys, t0, _D_MAP, (self.num_cells + 1) // 2)[:, : self.num_cells], axis=1)
            np.put_along_axis(walls, order[:, : c.num_walls], True, axis=1)
        u = streams.uniforms(keys, t0, _D_TASK, 4 * (k + n))
        free_rank = lambda x, mask: _pick(mask, x)  # noqa: E731
        if c.placement == "strict":  # k distinct free cells, uniformly (a random order of the free cells)
            order_u = streams.uniforms(keys, t0, _D_GOALS, (self.num_cells + 1) // 2)[:, : self.num_cells]
            target_goal = np.argsort(np.where(walls, 2.0, order_u), axis=1, kind="stable")[:, :k]
        else:
            target_goal = free_rank(u[:, :k], np.broadcast_to(~walls[:, None], (b, k, self.num_cells)))
        target_slip = c.slip_range[0] + (c.slip_range[1] - c.slip_range[0]) * u[:, k:2 * k]
        perms = np.argsort(streams.uniforms(keys, t0, _D_PERM, 2 * (k + n))[:, : 4 * (k + n)].reshape(b, k + n, 4), axis=-1)
        target_perm = perms[:, :k]
        # Sources: which target each derives from, and its kind (0 near, 1 permuted, 2 unrelated).
        near, permuted, unrelated = c.source_counts()
        kind = np.repeat([0, 1, 2], [near, permuted, unrelated])
        base = np.minimum((u[:, 2 * k:2 * k + n] * k).astype(np.int64), k - 1)
        rows = np.arange(b)[:, None]
        goal_b, slip_b, perm_b = target_goal[rows, base], target_slip[rows, base], target_perm[rows, base]
        cells = np.arange(self.num_cells)
        grow, gcol = np.divmod(cells, s)
        dist = lambda g: np.maximum(np.abs(grow - np.divmod(g, s)[0][..., None]), np.abs(gcol - np.divmod(g, s)[1][..., None]))  # noqa: E731
        free = ~walls[:, None, :]
        near_mask = free & (dist(goal_b) >= 1) & (dist(goal_b) <= 2)
        far_mask = free & np.all(dist(target_goal) >= FAR_DISTANCE, axis=1)[:, None, :]  # far from every target
        if c.placement == "fallback":  # (strict: the config guarantees a far cell)
            far_mask = np.where(far_mask.any(axis=-1, keepdims=True), far_mask, free & (dist(goal_b) >= 1))
        pick_u = u[:, 2 * k + n:2 * k + 2 * n]
        source_goal = np.where(kind == 0, _pick(near_mask, pick_u), np.where(kind == 1, goal_b, _pick(far_mask, pick_u)))
        other_perm = perms[:, k:]
        same = np.all(other_perm == perm_b, axis=-1)
        other_perm = np.where(same[..., None], np.roll(perm_b, 1, axis=-1), other_perm)  # a permuted copy must differ
        source_perm = np.where((kind == 1)[None, :, None], other_perm, perm_b)
        source_slip = np.where(kind == 2, c.slip_range[0] + (c.slip_range[1] - c.slip_range[0]) * u[:, 2 * k + 2 * n:2 * k + 3 * n],
                               slip_b)
        nxt = grid_transitions(s, walls)
        task_t = self._task_arrays(target_goal, target_slip, walls)
        task_s = self._task_arrays(source_goal, source_slip, walls)
        nxt_t, nxt_s = np.broadcast_to(nxt[:, None], (b, k, *nxt.shape[1:])), np.broadcast_to(nxt[:, None], (b, n, *nxt.shape[1:]))
        q_phys = self.solve(nxt_s, task_s)
        source_q = _to_labels(q_phys, source_perm)  # what a source holds: Q in its own action labels
        state: State = {
            "key": keys.copy(), "t": t0, "walls": walls, "target_goal": target_goal, "target_slip": target_slip,
            "target_perm": target_perm, "source_goal": source_goal, "source_slip": source_slip, "source_perm": source_perm,
            "source_kind": np.broadcast_to(kind, (b, n)).copy(), "source_base": base, "source_q": source_q,
            "sent_q_phys": _sparsify(q_phys, self.config.sparsity),
            "q": np.zeros((b, k, self.num_cells, 4)),
            "relatedness": np.full((b, k, n), -1.0), "granted": np.zeros((b, k, n), dtype=bool),
        }
        state["q"] = self._train(state, nxt_t, task_t, state["q"], t0, _D_PRETRAIN)
        state["return"] = self.policy_return(nxt_t, task_t, self._greedy_moves(state["q"], target_perm))
        return state, self._observe(state)

    # ------------------------------------------------------------- learning
    @staticmethod
    def _greedy_moves(q: np.ndarray, perm: np.ndarray) -> np.ndarray:
        """Physical move ``(B, T, S^2)`` of the greedy action of labelled Q-tables ``(B, T, S^2, 4)``."""
        return np.take_along_axis(perm[:, :, None, :], q.argmax(axis=-1)[..., None], axis=-1)[..., 0]

    def _train(self, state: State, nxt: np.ndarray, task: Mapping[str, np.ndarray], q: np.ndarray, slot: np.ndarray,
               domain: int = _D_TRAIN, budget: np.ndarray | None = None) -> np.ndarray:
        """``train_steps`` steps of epsilon-greedy Q-learning of every target on its own task.

        ``budget`` ``(B, K)`` (``probe_cost = "train_steps"``): a target learns only in its first
        ``budget`` steps (what its probes left of the round's steps) and is frozen afterwards; the
        draws of a step are the same whatever the budget.

        The steps are sequential; what a step draws (exploration, random labels, slips, random moves,
        restart cells) does not depend on Q, so it is derived for a block of steps at once, and every
        table is read and written through flat indices: per step, one gather per quantity.
        """
        c = self.config
        b, k = q.shape[:2]
        steps = c.train_steps
        if steps == 0:
            return q
        q = q.copy()
        limit = np.full((b, k), steps) if budget is None else budget
        draws = streams.uniforms(state["key"], slot, domain, (5 * steps * k + 1) // 2)[:, : 5 * steps * k].reshape(b, steps, 5, k)
        cells = self.num_cells
        table = (np.arange(b)[:, None] * k + np.arange(k)) * cells  # (B, K) flat index of each target's cell 0
        q_rows, q_flat = q.reshape(-1, 4), q.reshape(-1)  # views: row (copy, target, cell), entry (.., label)
        nxt_flat = np.ascontiguousarray(nxt).reshape(-1)
        perm_flat, perm_base = state["target_perm"].reshape(-1), table // cells * 4
        terminal, arrival = task["terminal"].reshape(-1), task["arrival_reward"].reshape(-1)
        free, count = _free_cells(task["start_ok"])
        free = free.reshape(-1)
        pos = free[table + _rank(count, draws[:, 0, 0])]
        t = np.zeros((b, k), dtype=np.int64)
        slip = task["slip"][:, None]
        gamma, rate, horizon = c.gamma, c.learning_rate, c.horizon
        for first in range(0, steps, _BLOCK):
            block = draws[:, first:first + _BLOCK]  # (B, steps of the block, 5, K)
            explore = block[:, :, 0] < c.epsilon
            random_label = (block[:, :, 1] * 4).astype(np.int64).clip(0, 3)
            slipped = block[:, :, 2] < slip
            random_move = (block[:, :, 3] * 4).astype(np.int64).clip(0, 3)
            restart_cell = free[table[:, None] + _rank(count[:, None], block[:, :, 4])]
            for i in range(block.shape[1]):
                active = first + i < limit
                row = table + pos
                label = np.where(explore[:, i], random_label[:, i], q_rows[row].argmax(-1))
                move = np.where(slipped[:, i], random_move[:, i], perm_flat[perm_base + label])
                new_row = table + nxt_flat[row * 4 + move]
                done = terminal[new_row]
                target = arrival[new_row] + gamma * np.where(done, 0.0, q_rows[new_row].max(-1))
                entry = row * 4 + label
                q_flat[entry] += np.where(active, rate * (target - q_flat[entry]), 0.0)
                restart = done | (t + 1 >= horizon)
                pos = np.where(active, np.where(restart, restart_cell[:, i], new_row - table), pos)
                t = np.where(active, np.where(restart, 0, t + 1), t)
        return q

    def _probe(self, state: State, nxt: np.ndarray, task: Mapping[str, np.ndarray], probe: np.ndarray) -> np.ndarray:
        """Average reward per step of each target's task under each source's greedy policy, ``(B, K, n)``.

        Only the probed (copy, target, source) triples are walked (each walk uses its own draws, so the
        others' results would be discarded unchanged); per step, one flat gather per quantity.
        """
        c = self.config
        b, k, n = probe.shape
        relatedness = state["relatedness"].copy()
        copy, target, source = np.nonzero(probe)
        if len(copy) == 0:
            return relatedness
        cells = self.num_cells
        policy = self._greedy_moves(state["source_q"], state["source_perm"]).reshape(-1)  # (B, n, S^2) physical moves
        policy_base = (copy * n + source) * cells
        draws = streams.uniforms(state["key"], state["t"], _D_PROBE, (3 * c.probe_steps * k * n + 1) // 2)
        draws = draws[:, : 3 * c.probe_steps * k * n].reshape(b, c.probe_steps, 3, k, n)[copy, :, :, target, source]
        table = (copy * k + target) * cells  # flat index of the walk's target's cell 0
        nxt_flat = np.ascontiguousarray(nxt).reshape(-1)
        terminal, arrival = task["terminal"].reshape(-1), task["arrival_reward"].reshape(-1)
        free, count = _free_cells(task["start_ok"])
        free, count = free.reshape(-1), count.reshape(-1)[table // cells]
        pos = free[table + _rank(count, draws[:, 0, 0])]
        t = np.zeros(len(copy), dtype=np.int64)
        total = np.zeros(len(copy))
        slip = task["slip"][copy, target][:, None]
        horizon = c.horizon
        for first in range(0, c.probe_steps, _BLOCK):
            block = draws[:, first:first + _BLOCK]  # (walks, steps of the block, 3)
            slipped = block[:, :, 0] < slip
            random_move = (block[:, :, 1] * 4).astype(np.int64).clip(0, 3)
            restart_cell = free[table[:, None] + _rank(count[:, None], block[:, :, 2])]
            for i in range(block.shape[1]):
                move = np.where(slipped[:, i], random_move[:, i], policy[policy_base + pos])
                new_row = table + nxt_flat[(table + pos) * 4 + move]
                total += arrival[new_row]
                done = terminal[new_row]
                t += 1
                restart = done | (t >= horizon)
                pos = np.where(restart, restart_cell[:, i], new_row - table)
                t = np.where(restart, 0, t)
        relatedness[copy, target, source] = total / c.probe_steps
        return relatedness

    # ----------------------------------------------------------------- step
    def step(self, state: State, actions: Mapping[str, np.ndarray]) -> Transition:
        c = self.config
        a = self.stack_actions(actions).astype(bool)
        b, k, n = a.shape[0], c.num_targets, c.num_sources
        if b != state["t"].shape[0]:
            raise ValueError(f"actions have batch size {b}, the state {state['t'].shape[0]}")
        request, probe = a[..., :n], a[..., n:]
        nxt = grid_transitions(c.grid_size, state["walls"])
        nxt = np.broadcast_to(nxt[:, None], (b, k, *nxt.shape[1:]))
        task = self._task_arrays(state["target_goal"], state["target_slip"], state["walls"])
        budget = None
        if c.probe_cost == "train_steps":  # probes are paid from the round's steps, in source order while they fit
            asked = probe
            probe = probe & (np.cumsum(probe, axis=-1) * c.probe_steps <= c.train_steps)
            budget = c.train_steps - probe.sum(axis=-1) * c.probe_steps
        relatedness = self._probe(state, nxt, task, probe)
        # Grants in a random priority order over all (target, source) requests, while the budget lasts.
        priority = streams.uniforms(state["key"], state["t"], _D_GRANT, (k * n + 1) // 2)[:, : k * n]
        order = np.argsort(np.where(request.reshape(b, -1), priority, 2.0), axis=1, kind="stable")
        requested_sorted = np.take_along_axis(request.reshape(b, -1), order, axis=1)
        fits = np.cumsum(requested_sorted * self.model_bits, axis=1) <= self.budget_bits + 1e-9
        granted_flat = np.zeros((b, k * n), dtype=bool)
        np.put_along_axis(granted_flat, order, requested_sorted & fits, axis=1)
        granted = granted_flat.reshape(b, k, n)
        # Merge: Q <- (1 - mix) Q + mix * mean of the granted sources, aligned to the target's labels.
        aligned = _to_labels(state["sent_q_phys"][:, None], state["target_perm"][:, :, None])  # (B, K, n, S^2, 4)
        count = granted.sum(axis=-1)
        mean = (aligned * granted[..., None, None]).sum(axis=2) / np.maximum(count, 1)[..., None, None]
        q = np.where((count > 0)[..., None, None], (1.0 - c.mix) * state["q"] + c.mix * mean, state["q"])
        q = self._train(state, nxt, task, q, state["t"] + 1, budget=budget)
        new_return = self.policy_return(nxt, task, self._greedy_moves(q, state["target_perm"]))
        reward = new_return - state["return"] if c.reward == "improvement" else new_return
        next_t = state["t"] + 1
        new_state = {**state, "t": next_t, "q": q, "return": new_return, "relatedness": relatedness, "granted": granted}
        truncated = next_t >= c.max_steps
        terminated = np.zeros(b, dtype=bool)
        bits = granted.sum(axis=-1) * self.model_bits
        infos = {"return_before": state["return"], "return": new_return, "bits_used": bits.astype(np.float64),
                 "probe_steps": probe.sum(-1) * float(c.probe_steps),
                 "granted": count.astype(np.float64), "ungranted": (request & ~granted).sum(-1).astype(np.float64),
                 "requested": request.sum(-1).astype(np.float64), "bits_used_total": bits.sum(-1).astype(np.float64),
                 "budget_bits": np.full(b, float(self.budget_bits))}
        if budget is not None:
            infos["train_steps"] = budget.astype(np.float64)
            infos["probes_refused"] = (asked & ~probe).sum(-1).astype(np.float64)
        return Transition(new_state, self._observe(new_state), {ag: reward[:, i] for i, ag in enumerate(self.agents)},
                          {ag: terminated for ag in self.agents}, {ag: truncated for ag in self.agents}, infos)

    def step_metrics(self, team_reward: np.ndarray, infos: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"return": infos["return"].mean(axis=1), "improvement": team_reward,
                "bits_used": infos["bits_used_total"], "probe_steps": infos["probe_steps"].mean(axis=1)}

    # ---------------------------------------------------------- observation
    def _observe(self, state: State) -> AgentArrays:
        c = self.config
        b, k, n = state["q"].shape[0], c.num_targets, c.num_sources
        obs = np.empty((b, k, 2 + 4 * n), dtype=np.float32)
        obs[..., 0] = np.clip(state["return"], -2.0, 1.0)
        obs[..., 1] = (state["t"] / c.max_steps)[:, None]
        per_source = obs[..., 2:].reshape(b, k, n, 4)
        per_source[..., 0] = cosine(state["q"], state["source_q"])
        per_source[..., 1] = np.clip(state["relatedness"], -1.0, 1.0)
        per_source[..., 2] = self.model_bits / self.dense_bits
        per_source[..., 3] = state["granted"]
        return {ag: obs[:, i] for i, ag in enumerate(self.agents)}

    def render_rgb(self, state: State, infos: Mapping[str, np.ndarray] | None, index: int) -> np.ndarray:
        from semcom_envs.render import grid_tasks

        return grid_tasks(self.config.grid_size, state["walls"][index], state["target_goal"][index],
                          state["source_goal"][index], state["source_kind"][index],
                          title=f"{self.env_id}  round {int(state['t'][index])}")

    def global_state(self, state: State) -> np.ndarray:
        obs = self._observe(state)
        same_goal = state["source_goal"][:, None, :] == state["target_goal"][:, :, None]  # (B, K, n)
        return np.concatenate([*(obs[a] for a in self.agents), same_goal.reshape(len(same_goal), -1)], axis=1).astype(np.float32)


def cosine(q: np.ndarray, source_q: np.ndarray) -> np.ndarray:
    """Structural similarity ``(B, K, n)``: cosine similarity of the action-centred parameters (0 where a norm is 0).

    Each Q-table is centred over its actions first (its advantage table): raw Q-values are dominated
    by the state value that all actions share, which makes any two tables look alike (measured:
    cosine 0.994-0.999 between a solved table and its own action-permuted copy).

    Each centred table is first scaled by the power of two that brings its largest entry into
    [0.5, 1): exact (the cosine does not change in any bit for ordinary tables), and the products
    and norms of tiny tables (e.g. a merge with ``mix`` near 1e-160) do not underflow, so the
    cosine stays in [-1, 1] up to rounding and is never 0 for a non-zero table.
    """
    a = _unit_scale(q - q.mean(axis=-1, keepdims=True))
    bq = _unit_scale(source_q - source_q.mean(axis=-1, keepdims=True))
    a = a.reshape(*a.shape[:2], 1, -1)
    bq = bq.reshape(bq.shape[0], 1, bq.shape[1], -1)
    dot = (a * bq).sum(-1)
    norm = np.linalg.norm(a, axis=-1) * np.linalg.norm(bq, axis=-1)
    return np.where(norm > 0, dot / np.where(norm > 0, norm, 1.0), 0.0)


def _unit_scale(table: np.ndarray) -> np.ndarray:
    """``table`` (last two axes: one model) times the power of two that puts its largest magnitude in [0.5, 1)."""
    _, exponent = np.frexp(np.abs(table).max(axis=(-2, -1), keepdims=True))
    return np.ldexp(table, -exponent)


def _to_labels(q_phys: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """Q in an agent's labels from physical-move order: label ``a`` is physical move ``perm[a]`` (broadcasting)."""
    index = perm[..., None, :]
    shape = np.broadcast_shapes(q_phys.shape, index.shape)
    return np.take_along_axis(np.broadcast_to(q_phys, shape), np.broadcast_to(index, shape), axis=-1)


def _sparsify(q: np.ndarray, sparsity: float) -> np.ndarray:
    """Top-magnitude sparsification of each model (the last two axes): the rest is sent as 0."""
    if sparsity == 0:
        return q
    flat = np.abs(q.reshape(*q.shape[:-2], -1))
    kept = math.ceil((1.0 - sparsity) * flat.shape[-1])
    threshold = -np.sort(-flat, axis=-1)[..., kept - 1: kept]
    return np.where(np.abs(q) >= threshold[..., None], q, 0.0)


def _rank(counts: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Rank in ``[0, counts)`` of the entry that uniforms ``u`` pick among ``counts`` (0 where there are none)."""
    return np.minimum((u * counts).astype(np.int64), np.maximum(counts - 1, 0))


def _pick(mask: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of a uniformly chosen True entry of ``mask`` (last axis) per row, from uniforms ``u``."""
    return np.argmax(np.cumsum(mask, axis=-1) > _rank(mask.sum(axis=-1), u)[..., None], axis=-1)


def _free_cells(mask: np.ndarray) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``(order, counts)``: ``order[..., r]`` is the index of the ``r``-th True entry of ``mask`` (last axis).

    So ``order[..., _rank(counts, u)]`` is :func:`_pick` of ``(mask, u)`` (index 0 where a row has no
    True entry, as there), a gather instead of a cumulative sum over the row.
    """
    return np.argsort(~mask, axis=-1, kind="stable"), mask.sum(axis=-1)


BENCHMARK_PRESETS: dict[str, dict[str, Any]] = {
    "benchmark": {"grid_size": 11, "num_targets": 3, "num_sources": 8, "budget_models": 1.0 / 3.0, "train_steps": 40,
                  "probe_steps": 10, "max_steps": 5, "probe_cost": "train_steps", "placement": "strict",
                  "reward": "return"},
}
"""SemCom-CDRL-v1's presets: the benchmark task (module docstring, "SemCom-CDRL-v1")."""


class CDRLV1(CDRL):
    """SemCom-CDRL-v1: the benchmark task, the same core at the ``benchmark`` preset (module docstring)."""

    env_id: ClassVar[str] = "SemCom-CDRL-v1"
    pettingzoo_name: ClassVar[str] = "cdrl_v1"
    presets: ClassVar[dict[str, dict[str, Any]]] = BENCHMARK_PRESETS
