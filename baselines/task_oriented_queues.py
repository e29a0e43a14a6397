"""Classical policies for SemCom-TaskOriented-v2 (image arrivals, deadlines, per-slot channels; docs/policies.md).

v1's local rules act on v2 unchanged (:mod:`semcom_baselines.task_oriented`): each reads its own gain
feature, which on v2 is this slot's ``|h|``, and the server ignores a request from a user without an
image. ``equal`` and ``fra`` plan for ``U`` users sharing the budgets; ``local_select`` (``k = 2``,
``tau = 0.05`` here) joins when its image would succeed at ``1/k`` of the budgets. This module adds:

- ``grant_select`` (local): ``local_select`` whose ``k`` follows the user's own last grant (module
  :class:`GrantSelect`): the only trace of the others' load a user has.
- ``knapsack`` (full information): the best allocation of the slot in which each served user gets the
  same share ``s_i`` of the bandwidth and of the power (:class:`Knapsack`).

Parameters of the local rules were chosen on seeds 900 (tuning) of SemCom-TaskOriented-v2, never on the
evaluation seeds (``benchmarks/task_oriented_task_study.py --v2``).
"""

from __future__ import annotations

import numpy as np

from semcom_baselines.task_oriented import O_GRID, LocalSelect, _TaskOrientedPolicy
from semcom_envs.scenarios.task_oriented_queues import TaskOrientedQueues

LOCAL_SELECT_V2 = {"k": 2, "tau": 0.05}
"""``local_select``'s parameters on v2: the best of ``k`` in {1, 2, 3, 4, 6, 8, 10}, ``tau`` in {0, 0.05, 0.1, 0.2,
0.3} on 16 episodes of seed 900."""


def local_select(scenario: TaskOrientedQueues, **kwargs: float) -> LocalSelect:
    """v1's ``local_select`` with v2's parameters (:data:`LOCAL_SELECT_V2`, overridable)."""
    return LocalSelect(scenario, **{**LOCAL_SELECT_V2, **kwargs})


def multiple_choice_knapsack(units: np.ndarray, values: np.ndarray, capacity: int) -> np.ndarray:
    """Exact multiple-choice knapsack by dynamic programming over integer capacity, batched.

    ``units`` (int) and ``values`` are ``(B, U, K)``: item ``u`` of copy ``b`` taken with option ``k``
    uses ``units[b, u, k]`` of ``capacity`` and earns ``values[b, u, k]`` (``-inf``: not allowed);
    at most one option per item. Returns ``(B, U)`` the chosen option per item, -1 for none, of a
    selection with the largest total value (ties: the first option and item found). ``O(U K capacity)``
    array operations of size ``B x (capacity + 1)``.
    """
    b, u, k = units.shape
    best = np.zeros((b, capacity + 1))  # best[c]: the largest value within c units of the items so far
    choice = np.full((u, b, capacity + 1), -1, dtype=np.int64)
    cap = np.arange(capacity + 1)
    for i in range(u):
        new, pick = best.copy(), choice[i]
        for j in range(k):
            source = cap[None, :] - units[:, i, j, None]
            gain = np.take_along_axis(best, np.clip(source, 0, capacity), axis=1) + values[:, i, j, None]
            gain = np.where(source >= 0, gain, -np.inf)
            better = gain > new
            new = np.where(better, gain, new)
            pick[better] = j
        best = new
    out = np.full((b, u), -1, dtype=np.int64)
    left, rows = np.full(b, capacity), np.arange(b)
    for i in reversed(range(u)):
        j = choice[i, rows, left]
        out[:, i] = j
        left = left - np.where(j >= 0, units[rows, i, np.maximum(j, 0)], 0)
    return out


class Knapsack(_TaskOrientedPolicy):
    """``knapsack`` (full information): the slot's best allocation among those giving each served user the same
    share ``s_i`` of the bandwidth and of the power.

    With ``B_i = s_i B_max`` and ``P_i = s_i P_max`` a user's SNR is its full-budget SNR ``|h_i| P_max / (N0
    B_max)`` whatever ``s_i``, so its rate (6) is ``s_i C_i``, ``C_i = B_max log2(1 + |h_i| P_max / (N0 B_max))``,
    and its image at compression ``o`` is delivered iff ``s_i >= d0 (1 - o) / (t0 C_i)``. Choosing who is
    served and at which ``o`` (from 0.01, 0.03, ..., 0.99) to maximise ``sum w_i eta(o_i)`` subject to ``sum s_i <=
    1`` is then a multiple-choice knapsack, solved exactly on ``capacity`` units of the budgets
    (:func:`multiple_choice_knapsack`), each need rounded *up* to whole units (and to at least ``B_min /
    B_max`` and ``P_min / P_max``), so every selected image is delivered. The served users' shares are then
    scaled up to use the whole budgets. Myopic: it maximises the slot's weighted success; ``deadline_bonus``
    ``b`` weighs an image in its last slot ``1 + b`` times (default 0: bonuses of 1, 3 and 10 did not raise the
    weighted success, ``benchmarks/task_oriented_task_study.py --v2``). Full information: every user's
    channel ``|h|``, weight and queue.
    """

    name = "knapsack"
    scenario_class = TaskOrientedQueues
    scenario: TaskOrientedQueues

    def __init__(self, scenario: TaskOrientedQueues, capacity: int = 200, o_step: int = 2, deadline_bonus: float = 0.0) -> None:
        super().__init__(scenario)
        self.capacity, self.deadline_bonus = capacity, deadline_bonus
        self.options = self.o_grid[::o_step]

    def act(self, observations, global_state):
        sc, c = self.scenario, self.scenario.config
        slot = self.known_slot(observations, global_state)
        h, weight = np.sqrt(slot["delta2"]), slot["weight"]
        waiting = slot["queue"].sum(axis=-1) > 0.5
        # A share s of both budgets gives s times the full-budget rate, so the share an image needs is its delay (7)
        # at the full budgets over the deadline.
        full_delay = sc.delay_s(c.data_bits * (1.0 - self.options), c.bandwidth_max_hz, c.power_max_w, h[..., None])
        floor = max(c.bandwidth_min_hz / c.bandwidth_max_hz, c.power_min_w / c.power_max_w)
        need = np.maximum(full_delay / c.deadline_s, floor)  # (B, U, K)
        # Needs above the whole budget are infeasible: capped before the integer conversion (which overflows near inf).
        units = np.ceil(np.minimum(need, 2.0) * self.capacity * (1.0 + 1e-9)).astype(np.int64)
        allowed = waiting[..., None] & (units <= self.capacity)
        urgent = slot["queue"][..., -1] > 0.5  # an image in its last slot
        worth = weight * np.where(urgent, 1.0 + self.deadline_bonus, 1.0)
        values = self.item_values(slot, need, np.where(allowed, worth[..., None] * sc.task_success(self.options), -np.inf))
        pick = multiple_choice_knapsack(np.minimum(units, self.capacity + 1), values, self.capacity)
        selected = pick >= 0
        j = np.maximum(pick, 0)
        share = np.where(selected, np.take_along_axis(need, j[..., None], axis=-1)[..., 0], 0.0)
        share = share / np.maximum(share.sum(axis=1, keepdims=True), 1e-300)
        o = np.where(selected, self.options[j], O_GRID[-1])
        return sc.encode_allocation(o, share * c.bandwidth_max_hz, share * c.power_max_w, selected)


    def item_values(self, slot: dict[str, np.ndarray], need: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The knapsack's item values ``(B, U, K)`` (``-inf``: not allowed) given the slot and each option's share
        ``need``: a hook for variants with costs or constraints of their own (the task study's energy-harvesting
        cameras); here unchanged."""
        return values


class GrantSelect(LocalSelect):
    """``grant_select`` (local): ``local_select`` planning for ``k = clip(round(scale / g), 1, U)`` users, where
    ``g`` is the bandwidth share the user was granted last slot, and for ``k0`` users if it was not served.

    A user's own grant is the only trace of the others' load it has (the server splits in proportion, so
    ``g`` is about ``1 / (users served)``); ``k`` sets the compression it plans for, whether it joins and its
    request, ``1 / k`` of both budgets (the server splits in proportion to the requests). ``k0 = 2``,
    ``scale = 0.5``, ``tau = 0.05``: the best of ``k0`` in
    {1, 2, 3}, ``scale`` in {0.5, 1, 1.5, 2}, ``tau`` in {0.05, 0.1} on 16 episodes of seed 900.
    """

    name = "grant_select"
    scenario_class = TaskOrientedQueues
    scenario: TaskOrientedQueues

    def __init__(self, scenario: TaskOrientedQueues, k0: int = 2, scale: float = 0.5, tau: float = 0.05) -> None:
        super().__init__(scenario, k0, tau)
        self.k0, self.scale = k0, scale

    def plan(self, own: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(o, k, selected)`` ``(B, U)`` from each user's own observation (``decode_observation``)."""
        grant = own["grant_last"]
        k = np.where(grant > 0, np.clip(np.round(self.scale / np.maximum(grant, 1e-12)), 1, self.scenario.num_agents), self.k0)
        o, _, _, selected = self.select(own["delta2"], own["weight"], k)
        return o, k, selected

    def act(self, observations, global_state):
        o, k, selected = self.plan(self.known_slot(observations, global_state))
        # Each user requests 1 / k of both budgets, a number of its own (the server splits in proportion to the
        # requests); encode_allocation would normalise the requests by the largest one, which is not local.
        return self.scenario.encode_shares(o, 1.0 / k, 1.0 / k, selected)


__all__ = ["LOCAL_SELECT_V2", "GrantSelect", "Knapsack", "local_select", "multiple_choice_knapsack"]
