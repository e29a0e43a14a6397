"""Classical policies for SemCom-Offloading-v0 (docs/policies.md), all batched.

Every policy scores candidate decisions with :meth:`Offloading.outcome`, the environment's own
energy/latency/accuracy/reward model, so a baseline never re-implements the physics.

Local-information policies (``uses_global_state = False``) read only their device's observation:
its task (``n_sent``, ``L``), its channel gain in this slot and last slot's number of offloaders.
A device cannot see the other devices, so it evaluates its own candidates in an **own view**: a
virtual network of itself and ``m`` other offloaders that are copies of itself (same task, same
gain, same frequency and transmit power as the candidate). Under OFDMA only their number matters
(the band is split ``B / (m + x)``), so the own view is exact when ``m`` is. Under ``access =
"shared"`` a device cannot know the interference; the own view assumes each other offloader is
received at the device's own received power (``m p g`` of interference: "the others look like
me"), a symmetric estimate that needs nothing the device does not observe.

- ``local_only``: ``x = 0`` and the lowest frequency level meeting the deadline for the observed
  task (the highest level if none does).
- ``offload_all``: ``x = 1``, all ``N`` devices offloading (``m = N - 1``: bandwidth ``B / N``,
  exact under ``offload_all``), and the lowest power level, then the lowest frequency level,
  meeting the deadline (the highest of both if none does). By design, only the deadline
  drives the choice, not the accuracy requirement.
- ``greedy``: each device picks, over all its own ``(x, f, p)`` levels, the one minimising its own
  cost ``-reward`` (energy ratio plus deadline and accuracy penalties, as the environment rewards
  it) given last slot's congestion: ``m`` = last slot's number of offloaders (capped at ``N - 1``).

Full-information reference (``uses_global_state = True``):

- ``exhaustive``: the maximiser of the team reward over the discrete joint action grid for the
  current slot, from the decoded global state. A device's GPU frequency changes only its own
  energy and latency, so for each joint assignment of (local, or offload at one of ``P`` powers)
  -- ``(P + 1) ** N`` of them, not ``(2 F P) ** N`` -- each device's best frequency is chosen
  independently: exact. The joint assignments are scored in chunks under ``memory_mb``; above
  ``max_devices`` (default 8: 390,625 assignments) it raises rather than approximate.

All policies act in both action variants; for ``action_type="continuous"`` they return the Box
action that decodes to the same grid point (``x`` as +1/-1, a level as its normalised position),
so ``exhaustive`` is the optimum over the discrete grid, not over the continuous action space.
"""

from __future__ import annotations

import numpy as np

from semcom_baselines.policy import ScenarioPolicy
from semcom_baselines.search import chunk_size, chunked_argmax, joint_grid, product_grid
from semcom_envs.scenarios.offloading import Offloading

# float64 arrays of shape (B, chunk, F, N) alive at once while ``exhaustive`` scores a chunk (peak 8,
# measured with tracemalloc in both access modes, plus a margin): sets the chunk size for a memory budget.
_LIVE_ARRAYS = 10


class _OffloadingPolicy(ScenarioPolicy):
    """Common plumbing: scenario check, grid levels, action encoding for both action variants."""

    name = "offloading"
    scenario_class = Offloading
    scenario: Offloading

    def __init__(self, scenario: Offloading) -> None:
        super().__init__(scenario)
        self.num_freq = len(scenario.freq_levels_hz)
        self.num_power = len(scenario.tx_power_levels_w)

    def encode(self, x: np.ndarray, f_idx: np.ndarray, p_idx: np.ndarray) -> dict[str, np.ndarray]:
        """Per-agent actions of (B, N) offload decisions and frequency/power level indices."""
        sc = self.scenario
        if sc.config.action_type == "discrete":
            a = np.stack([x, f_idx, p_idx], axis=-1).astype(np.int64)
        else:  # the Box point decoding to the same levels: x = 1 iff a0 >= 0, u = (a + 1) / 2
            position = [f_idx / max(self.num_freq - 1, 1), p_idx / max(self.num_power - 1, 1)]
            a = np.stack([2.0 * x - 1.0, *(2.0 * u - 1.0 for u in position)], axis=-1).astype(np.float32)
        return {agent: a[:, i] for i, agent in enumerate(sc.agents)}


class _OwnView(_OffloadingPolicy):
    """Scores each device's own candidate actions in its own view (module docstring)."""

    def own_outcome(self, observations: dict[str, np.ndarray], others: np.ndarray,
                    candidates: np.ndarray) -> dict[str, np.ndarray]:
        """Each device's outcome ``(B, N, K)`` for its candidates ``(K, 3)`` of ``(x, f level, p level)``.

        ``others`` ``(B, N)``: the number of other offloaders a device assumes (<= N - 1). The
        virtual network of device ``i`` has the candidate in slot 0 and, in the other ``N - 1``
        slots, copies of device ``i`` of which the first ``others[i]`` offload.
        """
        sc = self.scenario
        n = sc.num_agents
        own = sc.decode_observations(observations)
        x, f_idx, p_idx = candidates.T
        shape = (*others.shape, len(candidates), n)
        clones = np.arange(1, n) <= others[..., None, None]  # (B, N, 1, N - 1)
        x_virtual = np.concatenate([np.broadcast_to(x[:, None], (*shape[:-1], 1)),
                                    np.broadcast_to(clones, (*shape[:-1], n - 1))], axis=-1)
        out = sc.outcome(own["n_sent"][..., None, None], own["length"][..., None, None], own["gain"][..., None, None],
                         x_virtual, sc.freq_levels_hz[f_idx][:, None], sc.tx_power_levels_w[p_idx][:, None])
        return {key: value[..., 0] for key, value in out.items()}

    def first_meeting_deadline(self, observations: dict[str, np.ndarray], others: np.ndarray,
                               candidates: np.ndarray) -> dict[str, np.ndarray]:
        """Actions: per device the first candidate (in the given order) meeting the deadline, else the last."""
        meets = ~self.own_outcome(observations, others, candidates)["deadline_violation"]
        choice = np.where(meets.any(axis=-1), meets.argmax(axis=-1), len(candidates) - 1)
        return self.encode(*np.moveaxis(candidates[choice], -1, 0))


class LocalOnly(_OwnView):
    """``local_only``: never offload; the lowest frequency level meeting the deadline."""

    name = "local_only"

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        candidates = product_grid(np.array([0]), np.arange(self.num_freq), np.array([0]))
        none = np.zeros((next(iter(observations.values())).shape[0], self.scenario.num_agents), dtype=np.int64)
        return self.first_meeting_deadline(observations, none, candidates)


class OffloadAll(_OwnView):
    """``offload_all``: always offload; the lowest power, then frequency, level meeting the deadline."""

    name = "offload_all"

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        n = self.scenario.num_agents
        # Power-major order: the lowest power level first, then within it the lowest frequency level.
        candidates = product_grid(np.array([1]), np.arange(self.num_power), np.arange(self.num_freq))[:, [0, 2, 1]]
        everyone = np.full((next(iter(observations.values())).shape[0], n), n - 1)
        return self.first_meeting_deadline(observations, everyone, candidates)


class Greedy(_OwnView):
    """``greedy``: each device minimises its own cost given last slot's congestion."""

    name = "greedy"

    def __init__(self, scenario: Offloading) -> None:
        super().__init__(scenario)
        self.candidates = product_grid(np.arange(2), np.arange(self.num_freq), np.arange(self.num_power))

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        n = self.scenario.num_agents
        last_offloaders = self.scenario.decode_observations(observations)["last_offloaders"].astype(np.int64)
        others = np.minimum(last_offloaders, n - 1)
        reward = self.own_outcome(observations, others, self.candidates)["reward"]
        return self.encode(*np.moveaxis(self.candidates[reward.argmax(axis=-1)], -1, 0))


class Exhaustive(_OffloadingPolicy):
    """``exhaustive``: the per-slot joint optimum of the team reward over the discrete grid (full information)."""

    name = "exhaustive"
    uses_global_state = True
    approximate = False

    def __init__(self, scenario: Offloading, max_devices: int = 8, memory_mb: float = 64.0) -> None:
        super().__init__(scenario)
        n = scenario.num_agents
        if n > max_devices:
            raise ValueError(f"exhaustive: {n} devices exceed max_devices={max_devices} "
                             f"({self.num_power + 1}^{n} joint assignments); pass a larger max_devices to wait")
        self.memory_bytes = memory_mb * 2**20
        self.assignments = joint_grid(self.num_power + 1, n)  # 0: local, 1 + j: offload at power level j

    def solve(self, n_sent: np.ndarray, length: np.ndarray, gain: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Optimal ``(x, f level, p level)`` (each (B, N)) and team reward (B,) of the slots ``(B, N)``."""
        sc = self.scenario
        b, n = gain.shape
        task = [v[:, None, None, :] for v in (n_sent, length, gain)]
        f_hz = sc.freq_levels_hz[:, None]

        def score(part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            x = part > 0
            p_w = sc.tx_power_levels_w[np.maximum(part - 1, 0)]
            reward = sc.outcome(*task, x[:, None], f_hz, p_w[:, None])["reward"]  # (B, c, F, N)
            return reward.max(axis=2).sum(axis=-1), reward.argmax(axis=2)

        chunk = chunk_size(self.memory_bytes, b * self.num_freq * n * 8 * _LIVE_ARRAYS)
        value, assignment, f_idx = chunked_argmax(self.assignments, b, chunk, score)
        return (assignment > 0).astype(np.int64), f_idx, np.maximum(assignment - 1, 0), value / n

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        if global_state is None:
            raise ValueError("exhaustive needs the global state (full information)")
        slot = self.scenario.decode_global_state(global_state)
        x, f_idx, p_idx, _ = self.solve(slot["n_sent"], slot["length"], slot["gain"])
        return self.encode(x, f_idx, p_idx)
