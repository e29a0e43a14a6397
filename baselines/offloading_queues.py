"""Classical policies for SemCom-Offloading-v1 (queues, shared uplink and edge GPU), all batched.

Every policy scores candidate actions with :meth:`OffloadingQueues.device_outcome`, the
environment's own slot model, so no baseline re-implements the physics. With ``access="ofdma"`` a
device's slot depends on the other devices only through the number ``m`` of offloaders of the slot
(its share ``B / m`` of the band and ``1 / m`` of the edge GPU); with ``access="shared"`` also
through the interference ``sum p_j g_j`` of the other offloaders at the BS. The policies differ in
what they know and what they score.

Scores (per device, summed over devices by the joint references):

- ``reward``: the slot's reward (energy and this slot's deadline and accuracy violations).
- ``dpp``, drift-plus-penalty (Neely's Lyapunov rule): maximise ``V (reward) + Q s`` per slot, where
  ``Q`` is the device's backlog (words, this slot's arrivals included) and ``s`` the words it
  serves: the backlog-weighted service minus ``V`` times the cost. ``V`` is set from the deadline,
  not tuned: with the reward in units of ``e_ref a`` (module ``offloading_queues``), the score is
  ``reward + Q s / (D a^2)``, so a word is served when its energy relative to the cheapest local
  decoding, ``e_word / e_ref``, is below ``Q / (D a)``, the backlog relative to ``D a`` (the backlog
  at which the mean arrivals reach the deadline).
- ``service``: serve as many words as possible, then the least energy (max-weight's choice for one
  queue: ``V = 0`` drift-plus-penalty, energy only as the tie-break).

Local-information policies (``uses_global_state = False``) read only their own observation: queue
by age, current channel gain, last slot's number of offloaders (broadcast by the BS) and whether
they offloaded themselves. A device that offloads assumes ``m = others + 1`` with ``others`` last
slot's other offloaders (exact when the others repeat their choice). With ``access="shared"`` it
cannot know the others' powers and channels; as v0's own view does, it assumes that each of the
``others`` is received at its own candidate received power ``p g`` ("the others look like me":
interference ``others p g``, a symmetric estimate from nothing it does not observe). It is exact
for equal received powers and errs on near-far: a strong device overestimates its interference, a
weak one underestimates it. With one other offloader it expects an SINR just below 0 dB (accuracy
0.84, enough), with two or more at most -3 dB (not enough); in fact, of two offloaders received
more than 0.47 dB apart only the stronger meets the accuracy requirement.

- ``local_only``: always decode locally, at the frequency level serving the most words, then the
  cheapest (the energy-optimal level whenever it clears the queue).
- ``offload_all``: always offload, assuming all ``N`` devices do (``m = N``, exact under
  ``offload_all``); the (frequency, power) level serving the most words, then the cheapest.
- ``greedy``: each device maximises its own slot reward (myopic: it holds until words are due).
- ``max_weight``: the ``service`` rule over all its actions.
- ``local_dpp``: the ``dpp`` rule over all its actions.
- ``opportunistic``: channel-aware random access (Qin and Berry, INFOCOM 2003; Adireddy and Tong), the
  classical distributed rule for a collision channel: a device transmits only when its channel is
  good relative to its own mean, with a threshold set so that about one device transmits per slot.
  It offloads iff its queue is not empty and ``g_t > tau_k gbar_k``, with ``gbar_k`` the running mean
  of the ``k`` linear gains it observed before this slot since ``reset`` (memory across calls; the
  maximum-likelihood estimate of its large-scale gain ``L``, fixed within an episode). Threshold,
  from the physics, not tuned: with Rayleigh fading ``g_t = L |h|^2``, ``|h|^2 ~ Exp(1)``, a known
  ``L`` gives ``P(transmit) = exp(-tau)``, and ``tau = ln n`` one transmitter per slot on average
  among ``n`` devices with traffic; with the estimate, ``k gbar_k / L ~ Gamma(k, 1)`` independent of
  ``g_t``, so ``P(g_t > tau gbar_k) = (1 + tau / k)^(-k)`` exactly and ``tau_k = k (n^(1/k) - 1)``
  (which decreases to ``ln n``; within 3% of it from ``k = 20``) keeps ``1 / n`` in every slot; in
  the first slot since ``reset`` it knows nothing and does not offload. ``n = N``: a device knows
  ``N`` (its ``m_last`` is broadcast relative to it), not how many others have traffic, and ``N``
  bounds that number, so the expected transmitters per slot are at most one (exactly one when all
  are backlogged): the error is on the side of fewer collisions. Otherwise it decodes locally when
  its oldest words are due (age ``D - 1``, dropped after this slot) and holds if not: a word decoded
  locally costs the same energy in any slot and holding costs nothing, so deferring local decoding
  to the deadline loses nothing and gives each word up to ``D`` fading draws to be offloaded in
  (always decoding locally would leave it backlogged only in its arrival slots). Levels: within the
  chosen mode, the ``service`` rule as if alone on the band (``m = 1``, no interference, the slot the
  threshold aims at): locally, ``local_only``'s choice (the energy-optimal level); offloading, the
  (frequency, power) serving the most words, then the cheapest. It assumes one episode per batch
  copy between resets (as :func:`~semcom_envs.evaluation.evaluate` runs): a copy restarted with new
  positions keeps the old mean until ``reset``.

Full-information references (``uses_global_state = True``), exact over the discrete joint grid for
``N <= max_devices``. OFDMA: given the set of offloaders (``2^N`` sets), every device's best action is
independent of the others', so the joint optimum is the best set with each device's best action in
it, ``2^N (F P N + F + 1)`` evaluations instead of ``(3 F P)^N`` (default limit 12 devices).
Shared access: an offloader's outcome also depends on the others' powers, so the search enumerates
every joint assignment of (not offloading, or offloading at one of ``P`` powers), ``(P + 1)^N``;
given one, each offloader's best frequency and each other device's best (mode, frequency) are
independent (a frequency changes only its own device's slot): ``(P + 1)^N N F + N (2 F)``
evaluations instead of ``(3 F P)^N``, scored in chunks under ``memory_mb`` (default limit 6
devices: 15,625 assignments at ``P = 4``).

- ``exhaustive``: maximises the team reward of the current slot from the decoded global state (the
  per-slot optimum: with queues it is not an optimal policy, it ignores what serving now saves
  later, and it bounds only what any policy can earn in one slot from the same state).
- ``exhaustive_delayed``: the same optimiser fed the previous slot's global state (what a central
  controller with a one-slot feedback delay knows: last slot's queues and channels, and its own
  last decision, through which it advances those queues by the model); the new arrivals and
  fading are unknown to it. It holds in the first slot of an evaluation, when it knows nothing.
- ``dpp_delayed``: the joint ``dpp`` rule with the same one-slot delay.
- ``dpp``: the joint ``dpp`` rule on the current global state; with queues it can beat the per-slot
  optimum, since it serves when serving is cheap relative to the backlog. It is a reference, not
  an optimal policy: no exact optimum of the queued problem is computed here.
"""

from __future__ import annotations

import numpy as np

from semcom_baselines.policy import ScenarioPolicy
from semcom_baselines.search import chunk_size, chunked_argmax, joint_grid, product_grid
from semcom_envs.scenarios.offloading_queues import HOLD, LOCAL, MODES, OFFLOAD, OffloadingQueues

# Default device limits of the exact references: 2^12 = 4,096 offloader sets (OFDMA); (P + 1)^6 =
# 15,625 joint offload-power assignments at P = 4 (shared access), each scored for N F frequency choices.
MAX_DEVICES_OFDMA, MAX_DEVICES_SHARED = 12, 6

# float64 arrays alive at once while the shared-access search scores a chunk: of shape (B, chunk, N, F),
# (B, chunk, N, F, D) and (B, chunk, N, N) (the interference). The peak measured with tracemalloc over
# D = 1..16, F = 1..20, N = 3..6 is 0.63-0.86 of the bound these counts give; sets the chunk size for
# a memory budget.
_LIVE_ARRAYS, _LIVE_QUEUE_ARRAYS, _LIVE_LINK_ARRAYS = 12, 2, 2


class _QueuesPolicy(ScenarioPolicy):
    """Common plumbing: candidates, their outcomes, the scores, action encoding."""

    name = "offloading_queues"
    scenario_class = OffloadingQueues
    scenario: OffloadingQueues
    rule = "reward"

    def __init__(self, scenario: OffloadingQueues) -> None:
        super().__init__(scenario)
        grid = product_grid(np.arange(MODES), np.arange(len(scenario.freq_levels_hz)),
                            np.arange(len(scenario.tx_power_levels_w)))
        # A device that does not offload ignores its power: one candidate per (mode, frequency) for it.
        self.all_candidates = grid[(grid[:, 0] == OFFLOAD) | (grid[:, 2] == 0)]

    def encode(self, choice: np.ndarray) -> dict[str, np.ndarray]:
        """Per-agent MultiDiscrete actions of (B, N, 3) ``(mode, f level, p level)``."""
        return {agent: choice[:, i].astype(np.int64) for i, agent in enumerate(self.scenario.agents)}

    def outcomes(self, backlog: np.ndarray, gain: np.ndarray, candidates: np.ndarray,
                 offloaders: np.ndarray | int, interference_w: np.ndarray | float = 0.0) -> dict[str, np.ndarray]:
        """Outcomes ``(*gain.shape, K)`` of candidates ``(K, 3)`` for queues ``backlog`` ``(*gain.shape, D)``;
        ``offloaders`` and ``interference_w`` [W] broadcast against ``(*gain.shape, K)``."""
        sc = self.scenario
        mode, f_idx, p_idx = candidates.T
        return sc.device_outcome(backlog[..., None, :], gain[..., None], mode, sc.freq_levels_hz[f_idx],
                                 sc.tx_power_levels_w[p_idx], offloaders, interference_w)

    def score(self, out: dict[str, np.ndarray]) -> np.ndarray:
        """The value of each outcome under this policy's rule (module docstring); higher is better."""
        sc = self.scenario
        if self.rule == "reward":
            return out["reward"]
        if self.rule == "dpp":
            return out["reward"] + out["backlog_before"] * out["served"] / (sc.deadline * sc.mean_arrival_words**2)
        if self.rule == "service":  # most words, then least energy: rank energies within equal service
            energy = out["energy_j"]
            top = energy.max(axis=-1, keepdims=True)
            energy_rank = np.divide(energy, 2.0 * top, out=np.zeros_like(energy), where=top > 0)
            return out["served"] - energy_rank  # energy_rank in [0, 1/2]: never outweighs one word
        raise ValueError(f"unknown rule {self.rule!r}")


class _Local(_QueuesPolicy):
    """Each device picks its best own candidate under ``rule``, from its own observation."""

    modes: tuple[int, ...] = (HOLD, LOCAL, OFFLOAD)
    assume_all_offload = False

    def __init__(self, scenario: OffloadingQueues) -> None:
        super().__init__(scenario)
        self.candidates = self.all_candidates[np.isin(self.all_candidates[:, 0], self.modes)]

    def values(self, own: dict[str, np.ndarray], others: np.ndarray) -> np.ndarray:
        """Scores ``(B, N, K)`` of the candidates for decoded observations ``own`` when ``others`` ``(B, N)``
        other devices offload as well, each looking like the device itself (module docstring)."""
        sc = self.scenario
        offloading = self.candidates[:, 0] == OFFLOAD
        offloaders = np.where(offloading, others[..., None] + 1.0, 0.0)
        # Shared access: the others look like me (each received at my own received power p g).
        own_rx = sc.tx_power_levels_w[self.candidates[:, 2]] * own["gain"][..., None]
        interference = np.where(offloading, others[..., None] * own_rx, 0.0) if sc.shared else 0.0
        return self.score(self.outcomes(own["backlog"], own["gain"], self.candidates, offloaders, interference))

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        sc = self.scenario
        own = sc.decode_observations(observations)
        others = np.full_like(own["gain"], sc.num_agents - 1) if self.assume_all_offload else own["others_offloading"]
        return self.encode(self.candidates[self.values(own, others).argmax(axis=-1)])


class LocalOnly(_Local):
    """``local_only``: always decode locally; the level serving most, then the cheapest."""

    name = "local_only"
    modes = (LOCAL,)
    rule = "service"


class OffloadAll(_Local):
    """``offload_all``: always offload (assuming everyone does); the levels serving most, then the cheapest."""

    name = "offload_all"
    modes = (OFFLOAD,)
    rule = "service"
    assume_all_offload = True


class Greedy(_Local):
    """``greedy``: each device maximises its own slot reward given last slot's load."""

    name = "greedy"


class MaxWeight(_Local):
    """``max_weight``: each device serves as many words as it can, then at the least energy."""

    name = "max_weight"
    rule = "service"


class LocalDPP(_Local):
    """``local_dpp``: each device's own drift-plus-penalty choice given last slot's load."""

    name = "local_dpp"
    rule = "dpp"


class Opportunistic(_Local):
    """``opportunistic``: channel-aware random access (Qin and Berry 2003), from its own observation.

    Device ``i`` offloads iff its queue is not empty and ``g_t > tau_k gbar_k``: ``g_t`` its gain this
    slot, ``gbar_k`` the mean of the ``k`` linear gains it observed in the earlier slots since
    :meth:`reset` (the maximum-likelihood estimate of its large-scale gain ``L``, fixed within an
    episode), ``tau_k = k (n^(1/k) - 1)`` with ``n = N``. Otherwise it decodes locally if its oldest
    words are due (age ``D - 1``), and holds if not. Choices and derivation: the module docstring.
    """

    name = "opportunistic"
    rule = "service"

    def __init__(self, scenario: OffloadingQueues) -> None:
        super().__init__(scenario)
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        """Forget the gains observed so far (a new evaluation: new positions)."""
        self.gain_sum: np.ndarray | None = None  # (B, N): sum of the linear gains observed since reset
        self.slots = 0  # how many: every copy of a batch sees one gain per call

    def threshold(self, slots: int) -> float:
        """``tau_k``, ``k = slots`` >= 1, solving ``P(g_t > tau_k gbar_k) = (1 + tau_k / k)^(-k) = 1 / N``."""
        return slots * float(np.expm1(np.log(self.scenario.num_agents) / slots))

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        own = self.scenario.decode_observations(observations)
        gain, backlog = own["gain"], own["backlog"]
        if self.gain_sum is None or self.gain_sum.shape != gain.shape:  # a new batch: nothing known yet
            self.gain_sum, self.slots = np.zeros_like(gain), 0
        transmit = np.zeros(gain.shape, dtype=bool) if self.slots == 0 else (
            (backlog.sum(axis=-1) > 0) & (gain * self.slots > self.threshold(self.slots) * self.gain_sum))
        mode = np.where(transmit, OFFLOAD, np.where(backlog[..., -1] > 0, LOCAL, HOLD))
        # Within the chosen mode, the levels that serve the most, then the cheapest, as if alone on the band.
        value = np.where(self.candidates[:, 0] == mode[..., None], self.values(own, np.zeros_like(gain)), -np.inf)
        self.gain_sum, self.slots = self.gain_sum + gain, self.slots + 1
        return self.encode(self.candidates[value.argmax(axis=-1)])


class Exhaustive(_QueuesPolicy):
    """``exhaustive``: the joint per-slot maximiser of the team reward (full information)."""

    name = "exhaustive"
    uses_global_state = True
    approximate = False

    def __init__(self, scenario: OffloadingQueues, max_devices: int | None = None, memory_mb: float = 64.0) -> None:
        super().__init__(scenario)
        n, powers = scenario.num_agents, len(scenario.tx_power_levels_w)
        options, what = (powers + 1, "offload-power choices") if scenario.shared else (2, "offloader sets")
        if max_devices is None:
            max_devices = MAX_DEVICES_SHARED if scenario.shared else MAX_DEVICES_OFDMA
        if n > max_devices:
            raise ValueError(f"{self.name}: {n} devices exceed max_devices={max_devices} ({options}^{n} joint {what}); "
                             "pass a larger max_devices to wait")
        self.memory_bytes = memory_mb * 2**20
        self.subsets = joint_grid(2, n).astype(bool)  # (2^N, N): who offloads
        # Shared access: 0 = not offloading, 1 + j = offloading at power level j.
        self.assignments = joint_grid(options, n) if scenario.shared else None
        self.offload_candidates = self.all_candidates[self.all_candidates[:, 0] == OFFLOAD]
        self.other_candidates = self.all_candidates[self.all_candidates[:, 0] != OFFLOAD]

    def solve(self, backlog: np.ndarray, gain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The joint choice ``(B, N, 3)`` maximising the summed score, and that sum ``(B,)``, for queues
        ``backlog`` ``(B, N, D)`` and gains ``(B, N)``."""
        if self.scenario.shared:
            return self._solve_shared(backlog, gain)
        n = self.scenario.num_agents
        rows = np.arange(gain.shape[0])[:, None]
        stay = self.score(self.outcomes(backlog, gain, self.other_candidates, 0))  # (B, N, K0): m is irrelevant
        m = np.arange(1, n + 1)[:, None]  # every possible number of offloaders
        go = self.score(self.outcomes(backlog[:, :, None], gain[:, :, None], self.offload_candidates, m))  # (B, N, N, K1)
        go_best, go_arg = go.max(axis=-1), go.argmax(axis=-1)  # (B, N, N)
        count = self.subsets.sum(axis=1)  # offloaders in each set
        go_in_set = go_best[:, np.arange(n)[None, :], np.maximum(count, 1)[:, None] - 1]  # (B, 2^N, N)
        total = np.where(self.subsets, go_in_set, stay.max(axis=-1)[:, None, :]).sum(axis=-1)
        best = total.argmax(axis=1)  # ties: the first set in grid order (fewest offloaders first among equals)
        chosen = self.subsets[best]  # (B, N)
        off_idx = go_arg[rows, np.arange(n)[None, :], np.maximum(count[best], 1)[:, None] - 1]
        choice = np.where(chosen[..., None], self.offload_candidates[off_idx],
                          self.other_candidates[stay.argmax(axis=-1)])
        return choice, total[np.arange(len(best)), best]

    def _solve_shared(self, backlog: np.ndarray, gain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`solve` with interference: every joint (offload, power) assignment, each offloader's
        best frequency and each other device's best (mode, frequency) given it, in chunks."""
        sc = self.scenario
        b, n = gain.shape
        stay = self.score(self.outcomes(backlog, gain, self.other_candidates, 0))  # (B, N, K0): no interference
        stay_best = stay.max(axis=-1)
        f_hz = sc.freq_levels_hz  # (F,)

        def score(part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            offload = part > 0  # (c, N)
            p_w = sc.tx_power_levels_w[np.maximum(part - 1, 0)]
            interference = sc.uplink_interference_w(offload, p_w, gain[:, None, :])  # (B, c, N)
            out = sc.device_outcome(backlog[:, None, :, None, :], gain[:, None, :, None], OFFLOAD, f_hz,
                                    p_w[..., None], offload.sum(axis=-1)[:, None, None], interference[..., None])
            go = self.score(out)  # (B, c, N, F)
            total = np.where(offload, go.max(axis=-1), stay_best[:, None, :]).sum(axis=-1)
            return total, go.argmax(axis=-1)

        d = backlog.shape[-1]
        planes = (_LIVE_ARRAYS + _LIVE_QUEUE_ARRAYS * d) * len(f_hz) + _LIVE_LINK_ARRAYS * n
        chunk = chunk_size(self.memory_bytes, 8 * b * n * planes)
        value, assignment, f_idx = chunked_argmax(self.assignments, b, chunk, score)
        offloading = np.stack([np.full_like(f_idx, OFFLOAD), f_idx, np.maximum(assignment - 1, 0)], axis=-1)
        choice = np.where((assignment > 0)[..., None], offloading, self.other_candidates[stay.argmax(axis=-1)])
        return choice, value

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        if global_state is None:
            raise ValueError(f"{self.name} needs the global state (full information)")
        slot = self.scenario.decode_global_state(global_state)
        return self.encode(self.solve(slot["backlog"], slot["gain"])[0])


class ExhaustiveDelayed(Exhaustive):
    """``exhaustive_delayed``: :class:`Exhaustive` with a one-slot feedback delay.

    At slot ``t`` it knows the global state of slot ``t - 1`` (it keeps the previous call's) and the
    action it chose then, so it advances the queues it saw through that slot with the model (FIFO
    service and deadline drops, exact) and ages them by one slot; it cannot know slot ``t``'s
    arrivals (taken as none) or fading (the stale gains are used). In the first slot of an
    evaluation it knows nothing yet and holds.
    """

    name = "exhaustive_delayed"

    def __init__(self, scenario: OffloadingQueues, max_devices: int | None = None, memory_mb: float = 64.0) -> None:
        super().__init__(scenario, max_devices, memory_mb)
        self.previous: tuple[np.ndarray, np.ndarray] | None = None

    def reset(self, seed: int | None = None) -> None:
        self.previous = None

    def predicted_slot(self, stale_state: np.ndarray, stale_choice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(backlog, gain)`` of this slot as known from last slot's global state and last slot's choice."""
        sc = self.scenario
        slot = sc.decode_global_state(stale_state)
        mode, f_idx, p_idx = np.moveaxis(stale_choice, -1, 0)
        out = sc.outcome(slot["backlog"], slot["gain"], mode, sc.freq_levels_hz[f_idx], sc.tx_power_levels_w[p_idx])
        aged = np.concatenate([np.zeros_like(out["remaining"][..., :1]), out["remaining"][..., :-1]], axis=-1)
        return aged, slot["gain"]

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        if global_state is None:
            raise ValueError(f"{self.name} needs the global state (full information)")
        n = self.scenario.num_agents
        if self.previous is None or self.previous[0].shape != global_state.shape:  # nothing known yet: hold
            choice = np.zeros((global_state.shape[0], n, 3), dtype=np.int64)
        else:
            choice = self.solve(*self.predicted_slot(*self.previous))[0]
        self.previous = (np.array(global_state, copy=True), choice)
        return self.encode(choice)


class DppDelayed(ExhaustiveDelayed):
    """``dpp_delayed``: the joint drift-plus-penalty rule with a one-slot feedback delay (as ``exhaustive_delayed``)."""

    name = "dpp_delayed"
    rule = "dpp"


class DriftPlusPenalty(Exhaustive):
    """``dpp``: the joint drift-plus-penalty rule on the current global state (full information)."""

    name = "dpp"
    rule = "dpp"
