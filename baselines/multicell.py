"""Classical policies for SemCom-MultiCell-v0 (the source's baselines and references, docs/policies.md), all batched.

Local-information policies (``uses_global_state = False``) read only their own observation: the
last slot's power, SINR, desired power ``b`` and interference-plus-noise ``i``. From these a BS
estimates its own channel ``h_mm = b / p`` and, assuming the other cells keep last slot's powers,
the SINR of each of its own candidate powers ``p h_mm / i``. It does not see its
user's drawn requirements, so it scores QoE with their distribution means
(:meth:`MultiCell.expected_requirements`):

- ``greedy``: each BS maximises its own QoE per watt of its own transmit plus static power over
  all (power, k) pairs.
- ``full_power`` / ``min_power``: a fixed power level (p_max / the lowest non-zero level), and per
  cell the k that maximises its expected QoE at the SINR it would get (a local search over k; a
  "best fixed k" for ``full_power`` is read the same way, which can only help it).
- ``adaptive_k``: fixed power, the smallest k meeting a target
  accuracy.

Full-CSI references (``uses_global_state = True``) read the global state, the channel the next
action meets, and the users' actual requirements:

- ``max_sum_rate``: WMMSE power control for the sum of Shannon rates, continuous powers rounded to
  the nearest level, one fixed k for every cell (default 8): the semantics-blind allocation. Up to
  1000 iterations (tol 1e-6): on MultiCell channels WMMSE can plateau for 100+ iterations before
  improving, and 100 iterations left the mean sum rate 2-5% short of convergence. Best of 4 starts.
- ``oracle``: the per-slot maximiser of the configured reward. For a fixed power vector the total
  power is fixed and each cell's QoE depends only on its own k, so ``max over joint actions`` =
  ``max over power vectors of (sum over cells of max over k)``: exact, with ``Q^M`` power
  vectors instead of ``(20 Q)^M`` joint actions, evaluated in chunks whose (B, chunk, M, 20)
  arrays stay below ``memory_mb``. Exhaustive for ``M <= exact_max_cells`` (default 3); above it,
  coordinate ascent over power levels from several starts (``approximate = True``).
"""

from __future__ import annotations

import numpy as np

from semcom_baselines.policy import ScenarioPolicy
from semcom_baselines.search import chunk_size, chunked_argmax, joint_grid
from semcom_baselines.wmmse import wmmse_power
from semcom_envs.physics import radio
from semcom_envs.physics.semantics import DEEPSC_K_MAX, deepsc_similarity
from semcom_envs.scenarios.multicell import MultiCell

_K_IDX = np.arange(DEEPSC_K_MAX)
# float64 arrays of shape (B, chunk, M, 20) alive at once while the oracle scores a chunk (peak
# measured with tracemalloc, rounded up): sets the chunk size for a memory budget.
_LIVE_ARRAYS = 8
DPP_V, LOCAL_DPP_V = 10.0, 30.0
"""Drift-plus-penalty weights of the reward against the queues of ``dpp`` and ``local_dpp``: each the best of
{0.03, 0.1, ..., 300} on SemCom-MultiCell-v1 at evaluation seeds 900-901 (disjoint from the leaderboard's,
docs/benchmark-tasks.md)."""


class _MultiCellPolicy(ScenarioPolicy):
    """Common plumbing: scenario checks, action encoding."""

    name = "multicell"
    scenario_class = MultiCell
    scenario: MultiCell

    def __init__(self, scenario: MultiCell) -> None:
        super().__init__(scenario)
        self.levels_w = scenario.power_levels.astype(np.float64)

    def _encode(self, level: np.ndarray, k_idx: np.ndarray) -> dict[str, np.ndarray]:
        """Per-agent actions of (B, M) level and k-index arrays."""
        agents = self.scenario.agents
        if self.scenario.config.flat_actions:
            return {a: level[:, i] * DEEPSC_K_MAX + k_idx[:, i] for i, a in enumerate(agents)}
        return {a: np.stack([level[:, i], k_idx[:, i]], axis=-1) for i, a in enumerate(agents)}


class _LocalPolicy(_MultiCellPolicy):
    """Own-link model from local observations; remembers ``h_mm`` across silent slots."""

    def __init__(self, scenario: MultiCell) -> None:
        super().__init__(scenario)
        self.requirements = scenario.expected_requirements()
        self._gain_estimate: np.ndarray | None = None

    def reset(self, seed: int | None = None) -> None:
        self._gain_estimate = None

    def _expected_qoe(self, observations: dict[str, np.ndarray], levels: np.ndarray) -> np.ndarray:
        """(B, M, len(levels), 20) expected QoE of each own (level, k), the others' powers unchanged."""
        return self._expected_terms(observations, levels)[0]

    def _expected_terms(self, observations: dict[str, np.ndarray], levels: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Expected QoE, service ``s / (phi D)`` (0 without queues) and accuracy, each (B, M, len(levels), 20), of
        each own (level, k), the others' powers unchanged. With queues the QoE is the queued one at
        the own backlog and the traffic's ``phi`` and ``xi`` (the BS knows both); only the UT's
        weight and steepnesses are taken at their means."""
        local = self.scenario.decode_observations(observations)
        sent = local["prev_power"] > 0
        fresh = np.where(sent, local["desired_w"] / np.where(sent, local["prev_power"], 1.0), np.nan)
        if self._gain_estimate is None or self._gain_estimate.shape != fresh.shape:
            self._gain_estimate = np.where(sent, fresh, 0.0)
        self._gain_estimate = np.where(sent, fresh, self._gain_estimate)
        p = self.levels_w[levels]
        sinr = p * (self._gain_estimate / local["interference_w"])[..., None]  # (B, M, L)
        sinr_db = 10.0 * np.log10(np.maximum(sinr, 1e-30))[..., None]
        silent = (p <= 0)[:, None]
        if not self.scenario.config.queued:
            accuracy, _, qoe = self.scenario.semantic_qoe(sinr_db, silent, _K_IDX, self.requirements)
            return qoe, np.zeros_like(qoe), accuracy
        own = {name: local[name][..., None, None] for name in ("accuracy_req", "rate_req")}
        accuracy, _, qoe, served = self.scenario.queued_qoe(sinr_db, silent, _K_IDX, {**self.requirements, **own},
                                                            local["backlog"][..., None, None])
        return qoe, served / (own["rate_req"] * self.scenario.config.delay_req_s), accuracy


class Greedy(_LocalPolicy):
    """Each BS maximises own expected QoE per watt of own transmit plus static power (local info).

    With ``v`` set (``local_dpp``, queues only) each BS instead maximises the local drift-plus-penalty
    score ``v EE_m + Z_m s_m / (phi_m D)``: ``EE_m = QoE_m (P_tot_max / M) / (M^2 (p_m + P_static / M))``
    is its share of the network EE were every cell like it (the shares sum to eq. (9)'s EE when
    all cells use one power), ``Z_m = backlog / (phi_m D)`` its queue in units of the delay
    requirement and ``s_m`` what the slot would serve: :class:`Oracle`'s ``dpp`` score from own
    information (own backlog and traffic class, own last-slot CQI and interference).
    """

    name = "greedy"

    def __init__(self, scenario: MultiCell, v: float | None = None, name: str = "greedy") -> None:
        super().__init__(scenario)
        if v is not None and not (scenario.config.queued and v > 0):
            raise ValueError(f"v={v} is invalid: the drift-plus-penalty weight needs traffic='bursty' and v > 0")
        self.v, self.name = v, name

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        sc, levels = self.scenario, np.arange(len(self.levels_w))
        qoe, served, _ = self._expected_terms(observations, levels)  # (B, M, L, K)
        static_per_cell = sc.static_power_w / sc.num_agents
        score = qoe / (self.levels_w + static_per_cell)[:, None]
        if self.v is not None:
            backlog_ratio = observations_delay_ratio(sc, observations)[..., None, None]
            score = self.v * score * (sc.p_tot_max / sc.num_agents ** 3) + backlog_ratio * served
        flat = score.reshape(*score.shape[:2], -1).argmax(axis=-1)
        level, k_idx = np.divmod(flat, DEEPSC_K_MAX)
        return self._encode(level, k_idx)


def observations_delay_ratio(scenario: MultiCell, observations: dict[str, np.ndarray]) -> np.ndarray:
    """(B, M) own backlog over ``phi D`` from the local observations (traffic="bursty")."""
    local = scenario.decode_observations(observations)
    return local["backlog"] / (local["rate_req"] * scenario.config.delay_req_s)


def local_dpp(scenario: MultiCell, v: float = LOCAL_DPP_V) -> Greedy:
    """``local_dpp``: the drift-plus-penalty rule on own information (:class:`Greedy` with ``v``)."""
    return Greedy(scenario, v=v, name="local_dpp")


class MaxWeight(_LocalPolicy):
    """``max_weight``: backpressure on semantic goodput, the queue-stabilising rule of scheduling theory.

    Each BS sends at ``p_max`` and picks the k that maximises ``Z_m s_m xi_m`` (backlog in units
    of the delay requirement x units served x their expected accuracy at its last-slot CQI);
    with one queue per BS the weight ``Z_m`` scales all its options alike, so this is the k of
    the largest expected goodput. It ignores energy: what queue awareness alone achieves.
    """

    name = "max_weight"

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        sc = self.scenario
        if not sc.config.queued:
            raise ValueError("max_weight needs traffic='bursty' (queues to weigh)")
        level = len(self.levels_w) - 1
        _, served, accuracy = self._expected_terms(observations, np.array([level]))
        k_idx = (served * accuracy)[:, :, 0].argmax(axis=-1)
        return self._encode(np.full_like(k_idx, level), k_idx)


class FixedPower(_LocalPolicy):
    """One power level everywhere; per cell the k with the best expected QoE at its SINR."""

    def __init__(self, scenario: MultiCell, level: int, name: str) -> None:
        super().__init__(scenario)
        self.level = level
        self.name = name

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        qoe = self._expected_qoe(observations, np.array([self.level]))[:, :, 0]  # (B, M, K)
        k_idx = qoe.argmax(axis=-1)
        return self._encode(np.full_like(k_idx, self.level), k_idx)


def full_power(scenario: MultiCell) -> FixedPower:
    """``full_power``: p_max in every cell, locally best k."""
    return FixedPower(scenario, scenario.config.num_power_levels - 1, "full_power")


def min_power(scenario: MultiCell) -> FixedPower:
    """``min_power``: the lowest non-zero level in every cell, locally best k."""
    return FixedPower(scenario, scenario.lowest_active_level, "min_power")


class MaxSumRate(_MultiCellPolicy):
    """WMMSE sum-rate power control with full CSI, powers rounded to the nearest level, fixed k.

    WMMSE converges to a stationary point that depends on where it starts (from full power it can
    stop at a corner under strong symmetric interference), so it runs from full power and
    ``starts - 1`` seeded random power vectors, all copies and starts in one batched call, and
    keeps each copy's best sum rate.
    """

    name = "max_sum_rate"
    uses_global_state = True

    def __init__(self, scenario: MultiCell, k: int = 8, iterations: int = 1000, starts: int = 4) -> None:
        super().__init__(scenario)
        if not 1 <= k <= DEEPSC_K_MAX:
            raise ValueError(f"k={k} is invalid: must be an integer in [1, {DEEPSC_K_MAX}]")
        if starts < 1:
            raise ValueError(f"starts={starts} is invalid: must be an integer >= 1")
        self.k_idx = k - 1
        self.iterations = iterations
        self.starts = starts
        self.rng = np.random.default_rng(0)

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        if global_state is None:
            raise ValueError("max_sum_rate needs the global state (full CSI)")
        gain = self.scenario.decode_global_state(global_state)["gain"]
        b, m = gain.shape[:2]
        p_max = self.levels_w[-1]
        init = np.concatenate([np.full((1, b, m), p_max), self.rng.uniform(0, p_max, (self.starts - 1, b, m))])
        p, history = wmmse_power(np.tile(gain, (self.starts, 1, 1)), float(self.scenario.noise_w), p_max,
                                 iterations=self.iterations, p_init=init.reshape(-1, m))
        best = history[:, -1].reshape(self.starts, b).argmax(axis=0)
        p = p.reshape(self.starts, b, m)[best, np.arange(b)]
        level = np.abs(p[..., None] - self.levels_w).argmin(axis=-1)
        return self._encode(level, np.full_like(level, self.k_idx))


class Oracle(_MultiCellPolicy):
    """Per-slot maximiser of the configured reward with full CSI (exact for small M).

    Two variants serve the queued task (``traffic="bursty"``), where a per-slot maximum is not an
    optimal policy (serving now changes what later slots must serve):

    - ``v`` (``dpp``): maximise the drift-plus-penalty score ``v R + sum_m Z_m s_m / (phi_m D)``
      instead of the reward ``R`` (Neely's Lyapunov rule for the queues ``Z_m = backlog / (phi_m D)``:
      minimising the drift of ``sum Z^2 / 2`` minus ``v`` times the reward). Still separable: for a
      power vector, each cell's k maximises ``v a(P) QoE_m + Z_m s_m / (phi_m D)`` with
      ``R = a(P) sum QoE`` (every reward option is linear in the summed QoE).
    - ``csi_delay=1`` (``*_delayed``): the channel of the previous call instead of the current one,
      what a central controller with one slot of CSI feedback delay knows; queues and requirements
      are current (they live at the BSs). At the first call after :meth:`reset` there is no
      previous slot and it uses the current channel (one slot of an episode).
    """

    name = "oracle"
    uses_global_state = True

    def __init__(self, scenario: MultiCell, exact_max_cells: int = 3, restarts: int = 4,
                 memory_mb: float = 64.0, v: float | None = None, csi_delay: int = 0, name: str = "oracle") -> None:
        super().__init__(scenario)
        if v is not None and not (scenario.config.queued and v > 0):
            raise ValueError(f"v={v} is invalid: the drift-plus-penalty weight needs traffic='bursty' and v > 0")
        if csi_delay not in (0, 1):
            raise ValueError(f"csi_delay={csi_delay} is invalid: must be 0 or 1 (slots)")
        self.v, self.csi_delay, self.name = v, csi_delay, name
        self._previous_gain: np.ndarray | None = None
        self.approximate = scenario.num_agents > exact_max_cells
        self.restarts = restarts
        self.memory_bytes = memory_mb * 2**20
        self.rng = np.random.default_rng(0)
        m, q = scenario.num_agents, len(self.levels_w)
        if not self.approximate:
            self.combos = joint_grid(q, m)  # (q^m, m)

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self._previous_gain = None

    def value(self, decoded: dict[str, np.ndarray], levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best reward and best k of candidate power-level vectors ``levels`` (B, C, M).

        Returns ``(value (B, C), k_idx (B, C, M))``: for each power vector, each cell's k that
        maximises its QoE (exact, since k does not affect total power or other cells).
        """
        p = self.levels_w[levels]
        sinr, _, _ = radio.interference_matrix_sinr(p, decoded["gain"][:, None], float(self.scenario.noise_w))
        sinr_db = 10.0 * np.log10(np.maximum(sinr, 1e-30))[..., None]
        requirements = {k: decoded[k][:, None, :, None] for k in ("rate_req", "accuracy_req", "lam", "beta_qoe", "weight")}
        if self.scenario.config.queued:
            return self._queued_value(decoded, p, sinr_db, requirements)
        _, _, qoe = self.scenario.semantic_qoe(sinr_db, (p <= 0)[..., None], _K_IDX, requirements)
        best_k = qoe.argmax(axis=-1)
        sum_qoe = np.take_along_axis(qoe, best_k[..., None], axis=-1)[..., 0].sum(axis=-1)
        reward, _ = self.scenario.objective(sum_qoe, p.sum(axis=-1) + self.scenario.static_power_w)
        return reward, best_k

    def _queued_value(self, decoded: dict[str, np.ndarray], p: np.ndarray, sinr_db: np.ndarray,
                      requirements: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`value` with queues: the reward, or with ``v`` the drift-plus-penalty score."""
        sc = self.scenario
        _, _, qoe, served = sc.queued_qoe(sinr_db, (p <= 0)[..., None], _K_IDX, requirements, decoded["backlog"][:, None, :, None])
        per_qoe, _ = sc.objective(np.ones(1), p.sum(axis=-1) + sc.static_power_w)  # (B, C): reward per unit of sum QoE
        cell = qoe * per_qoe[..., None, None]
        if self.v is not None:
            scale = requirements["rate_req"] * sc.config.delay_req_s
            cell = self.v * cell + (decoded["backlog"][:, None, :, None] / scale) * (served / scale)
        best_k = cell.argmax(axis=-1)
        return np.take_along_axis(cell, best_k[..., None], axis=-1)[..., 0].sum(axis=-1), best_k

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        if global_state is None:
            raise ValueError(f"{self.name} needs the global state (full CSI)")
        decoded = self.scenario.decode_global_state(global_state)
        if self.csi_delay:
            current = decoded["gain"]
            if self._previous_gain is not None and self._previous_gain.shape == current.shape:
                decoded["gain"] = self._previous_gain
            self._previous_gain = current
        level, k_idx = self._exhaustive(decoded) if not self.approximate else self._coordinate_ascent(decoded)
        return self._encode(level, k_idx)

    def _exhaustive(self, decoded: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        b, m = decoded["gain"].shape[0], self.scenario.num_agents
        chunk = chunk_size(self.memory_bytes, b * m * DEEPSC_K_MAX * 8 * _LIVE_ARRAYS)
        _, level, k_idx = chunked_argmax(
            self.combos, b, chunk, lambda part: self.value(decoded, np.broadcast_to(part, (b, *part.shape))))
        return level, k_idx

    def _coordinate_ascent(self, decoded: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        b, m, q = decoded["gain"].shape[0], self.scenario.num_agents, len(self.levels_w)
        starts = [np.full((b, m), q - 1), np.full((b, m), self.scenario.lowest_active_level)]
        starts += [self.rng.integers(0, q, size=(b, m)) for _ in range(max(0, self.restarts - 2))]
        level = np.stack(starts, axis=1)  # (B, R, M)
        r = level.shape[1]
        flat_decoded = {key: np.repeat(value, r, axis=0) for key, value in decoded.items()}
        level = level.reshape(b * r, m)
        for _sweep in range(20):
            changed = False
            for cell in range(m):
                candidates = np.repeat(level[:, None, :], q, axis=1)  # (B R, Q, M)
                candidates[:, :, cell] = np.arange(q)
                value, _ = self.value(flat_decoded, candidates)
                choice = value.argmax(axis=1)
                changed |= bool(np.any(choice != level[:, cell]))
                level[:, cell] = choice
            if not changed:
                break
        value, k_idx = self.value(flat_decoded, level[:, None, :])
        best = value[:, 0].reshape(b, r).argmax(axis=1)
        rows = np.arange(b) * r + best
        return level[rows], k_idx[rows, 0]


class AdaptiveK(_MultiCellPolicy):
    """``adaptive_k``: fixed power, the smallest k whose table accuracy at the last SINR meets ``target``.

    The "link adaptation" rule a practitioner writes first: the strongest compression (highest
    semantic rate) that its own last measured SINR still decodes accurately enough. Default power:
    the lowest non-zero level.
    """

    name = "adaptive_k"

    def __init__(self, scenario: MultiCell, power_level: int | None = None, target_accuracy: float = 0.9) -> None:
        super().__init__(scenario)
        q = scenario.config.num_power_levels
        if power_level is None:
            power_level = scenario.lowest_active_level
        if not -q <= power_level < q:
            raise ValueError(f"power_level={power_level} is invalid: must be in [{-q}, {q - 1}]")
        if not 0.0 < target_accuracy < 1.0:
            raise ValueError(f"target_accuracy={target_accuracy} is invalid: must be in (0, 1)")
        self.level = power_level % q
        self.target = target_accuracy

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        sinr_db = self.scenario.decode_observations(observations)["sinr_db"]
        accuracy = deepsc_similarity(_K_IDX + 1, sinr_db[..., None])  # (B, M, K)
        meets = accuracy >= self.target
        # Smallest k that meets the target; if none does, the most robust k (highest accuracy).
        k_idx = np.where(meets.any(axis=-1), meets.argmax(axis=-1), accuracy.argmax(axis=-1))
        return self._encode(np.full_like(k_idx, self.level), k_idx)


def oracle_delayed(scenario: MultiCell) -> Oracle:
    """``oracle_delayed``: the per-slot maximiser on the previous slot's channel (one slot of CSI delay)."""
    return Oracle(scenario, csi_delay=1, name="oracle_delayed")


def dpp(scenario: MultiCell, v: float = DPP_V) -> Oracle:
    """``dpp``: the full-CSI drift-plus-penalty rule (queues)."""
    return Oracle(scenario, v=v, name="dpp")


def dpp_delayed(scenario: MultiCell, v: float = DPP_V) -> Oracle:
    """``dpp_delayed``: the drift-plus-penalty rule on the previous slot's channel."""
    return Oracle(scenario, v=v, csi_delay=1, name="dpp_delayed")
