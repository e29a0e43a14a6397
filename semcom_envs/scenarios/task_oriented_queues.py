"""SemCom-TaskOriented-v2: task-oriented uplink with image arrivals, deadlines across slots and per-slot channels.

Source: v1's (:mod:`semcom_envs.scenarios.task_oriented`, after Liu et al., "Adaptable Semantic Compression and
Resource Allocation for Task-Oriented Communications"), whose physics it keeps: the ASC accuracy ``eta(o)``,
the rate (6), the delay (7), the server's proportional split of ``B_max`` and ``P_max`` (14a)-(14g) and v1's
``benchmark`` preset (delta on the power-gain scale, 147,456-bit features, 10 mW, service weights). The
traffic model below (cited "A1".."A4") is this version's own, written here because the source allocates
for one image per user, always present, on statistical CSI.

Why v2 (issue 17): on v1 every user has an image in every slot and the reward is a delivery *probability*
of the large-scale gains, so an episode repeats one problem and whether a user can meet the deadline
is its own gain's question: the best local rule (``local_select``) scores 0.95 between random and the
full-information reference, and seventeen regimes of the source's model (budgets, deadlines, users,
per-slot channel knowledge, clustered users) left it at 0.88-1.15. What the server knows and a user does
not is *who else has an image now and how good their channel is in this slot*: with images arriving in
bursts, waiting at most ``D`` slots, and the slot's fading deciding delivery, how many users can share
the budgets and still deliver changes from slot to slot, and only the server sees it.

==================  =========================================================================
Action space        as v1 (``action_type``): ``Box(-1, 1, (3,))`` (compression, bandwidth share,
                    power share) or ``MultiDiscrete([20, 5, 5])``. A user is selected iff both
                    shares exceed ``select_threshold`` **and it has an image waiting** (A3: the
                    server knows every user's buffer from its buffer-status reports and ignores
                    a request with nothing to send). The selected users split the budgets as
                    in v1 and each sends its oldest image.
Observation space   ``Box(8 + D,)`` float32 per user, only what a user really has: v1's seven
                    features, where the gain feature is this slot's channel ``|h|`` (A2) and the
                    seventh its own last-slot success ``eta 1[delivered]`` (the server's ACK),
                    then its queue by age ``q_0 .. q_{D-1}`` (1 if an image that arrived ``j``
                    slots ago waits) and ``grant_last``, the bandwidth share ``B_i / B_max`` it
                    was granted last slot (0 if not served): its own downlink grant. Not
                    observed: the others' queues, channels and grants (a user decodes only its
                    own grant), and its camera's ON/OFF state.
State space         ``Box(U (D + 3) + 1,)`` float32: every user's gain feature, weight, queue by
                    age and camera state (1 = ON), and the number of users served last slot / U.
Reward              per user ``w_i eta(o_i) 1[t_i <= t0]`` for the image it sent (0 if none):
                    the realised form of v1's ``w_i beta_i Phi_i``; team reward their mean, the
                    primary metric ``weighted_success``.
Starting state      user distances ``U[100, 1000] m``, weights and ON/OFF states (stationary)
                    per episode; the queues hold slot 0's arrivals.
Episode end         truncation after ``max_steps`` slots (default 100 = 0.5 s).
Infos               per user: ``arrivals``, ``delivered``, ``expired`` (images), ``backlog`` (images
                    waiting after the slot, before the next arrivals), ``success`` (``eta
                    1[delivered]``), ``eta``, ``delay_s``, ``selected``, ``compression``,
                    ``bandwidth_hz``, ``power_w``; network: ``objective`` (``sum_i w_i eta_i
                    1[delivered_i]``), ``served``.
==================  =========================================================================

Model:

- A1 arrivals: each user's camera is an ON/OFF source (a two-state Markov chain with
  ``on_to_off_prob``, ``off_to_on_prob`` per slot; default 0.02 each, bursts of 50 slots = 250 ms and
  half the time ON), and while ON an image arrives at the start of a slot with probability
  ``task_prob_on`` (default 0.3: a 60 frame/s camera on 5 ms slots, one frame every 3.3 slots). Mean
  arrivals ``U pi_on task_prob_on`` = 1.5 images per slot at U = 10, 300 images/s in the cell.
- A2 channel: slots of ``t0 = deadline_s`` (5 ms): a transmission must finish within its slot (the
  source's delay bound). Each slot's channel is v1's Lemma 1 draw ``h ~ N(0, delta^2)``, independent across
  slots, known before the allocation: each user learns its own ``|h|`` from the server's pilot, the server
  all of them. Independence across 5 ms slots is the channel of an uplink that hops frequency every slot
  (NR PUSCH's inter-slot hopping, IEEE 802.15.4 TSCH) by more than the coherence bandwidth, or of terminals
  at vehicular speed (at 2 GHz and 54 km/h, Jakes' correlation after 5 ms is ``J0(2 pi 100 Hz 5 ms) =
  -0.30``). A static camera on one channel sees fading correlated over tens of slots: ``fading_correlation``
  ``rho`` makes a user's fading an AR(1) process, ``n_t = rho n_{t-1} + sqrt(1 - rho^2) w_t`` (stationary N(0, 1),
  Jakes' lag-one correlation ``rho = J0(2 pi f_D t0)``: 0.994 at a 5 Hz Doppler); default 0, the independent slots
  above, exactly. An image is delivered iff its realised delay (7) ``d0 (1 - o) / R`` at ``|h|`` meets ``t0``, so
  delivery is a step in the allocation, not v1's probability.
- A3 queue and deadline: an image must be delivered within ``D = deadline_slots`` slots of its arrival
  (default 4, 20 ms end to end); a user sends at most one image per slot, its oldest; an image not
  delivered stays (the server's NACK asks for it again) until it is ``D - 1`` slots old after a slot,
  then it expires. So exactly ``backlog_next = backlog + arrivals_next - delivered - expired``.
- A4 reward: what v1 maximises, realised: ``w_i eta(o_i)`` per delivered image. An expired image
  scores 0 (its task failed), as does a failed transmission.

Seeding: see :mod:`semcom_envs.streams`; a batch seeded with ``s`` runs copy ``i`` exactly like a
single environment seeded with ``s + i``.

Version history: v2 (this version), image arrivals with deadlines and per-slot channels; v1 the source's
model at the benchmark preset; v0 the source's model (:mod:`semcom_envs.scenarios.task_oriented`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium
import numpy as np
from numpy.typing import NDArray

from semcom_envs import streams
from semcom_envs.api.core import AgentArrays, State, Transition
from semcom_envs.config import Integer, Real, param
from semcom_envs.physics import radio, traffic
from semcom_envs.scenarios.task_oriented import (
    BENCHMARK_PRESETS,
    GAIN_FEATURE,
    TaskOrientedConfig,
    TaskOrientedV1,
)

MAX_DEADLINE_SLOTS = 16
_V1_FEATURES = 7

# Stream domains (semcom_envs.streams): v1's 0-2 (positions, weights, fading) are reused by the
# inherited reset; the per-slot channel and the traffic draw from their own.
_D_SLOT_FADING, _D_SOURCE = 3, 4


@dataclasses.dataclass(frozen=True)
class TaskOrientedQueuesConfig(TaskOrientedConfig):
    """Validated configuration of SemCom-TaskOriented-v2 (allowed values: ``docs/configuration.md``)."""

    deadline_slots: int = param(4, Integer(1, MAX_DEADLINE_SLOTS), "slots within which an image must be delivered (D)")
    on_to_off_prob: float = param(0.02, Real(1e-3, 1.0), "probability per slot that an ON camera turns OFF")
    off_to_on_prob: float = param(0.02, Real(1e-3, 1.0), "probability per slot that an OFF camera turns ON")
    task_prob_on: float = param(0.3, Real(1e-3, 1.0), "probability that an image arrives in a slot while ON")
    fading_correlation: float = param(0.0, Real(0.0, 1.0, high_open=True),
                                      "correlation of a user's fading from one slot to the next (AR(1), A2; 0: independent "
                                      "slots; Jakes: J0(2 pi f_D t0))")


PRESETS: dict[str, dict[str, Any]] = {"benchmark": {**BENCHMARK_PRESETS["benchmark"], "max_steps": 100}}
"""v2's defaults: v1's benchmark preset, episodes of 100 slots (0.5 s: each camera switches about twice)."""


class TaskOrientedQueues(TaskOrientedV1):
    """Batched core of SemCom-TaskOriented-v2 (documentation: the module docstring)."""

    env_id: ClassVar[str] = "SemCom-TaskOriented-v2"
    pettingzoo_name: ClassVar[str] = "task_oriented_v2"
    config_class: ClassVar[type] = TaskOrientedQueuesConfig
    presets: ClassVar[dict[str, dict[str, Any]]] = PRESETS
    metrics: ClassVar[dict[str, str]] = {
        "weighted_success": "service-weighted successes per user and slot (1/U) sum_i w_i eta_i 1[delivered_i]: "
                            "the team reward",
        "timely_fraction": "per slot, images delivered / max(images arrived, 1): a slot-level ratio (the share of all "
                           "images delivered is delivered / arrivals)",
        "delivered": "images delivered per user and slot",
        "expired": "images expired per user and slot",
        "arrivals": "images arrived per user and slot",
        "backlog": "images waiting per user after a slot",
        "served": "users the server served per slot (selected with an image)",
    }
    primary_metric: ClassVar[str] = "weighted_success"

    def __init__(self, config: TaskOrientedQueuesConfig | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        c = self.config
        u, d = self.num_agents, c.deadline_slots
        self.deadline = d
        self.pi_on = c.off_to_on_prob / (c.on_to_off_prob + c.off_to_on_prob)
        low, high = self._obs_space.low, self._obs_space.high
        self._obs_space = gymnasium.spaces.Box(np.concatenate([low, np.zeros(d + 1)]).astype(np.float32),
                                               np.concatenate([high, np.ones(d + 1)]).astype(np.float32), dtype=np.float32)
        g_lo, g_hi = GAIN_FEATURE.bounds
        self.state_space = gymnasium.spaces.Box(
            np.concatenate([np.full(u, g_lo), np.zeros(u * (d + 2) + 1)]).astype(np.float32),
            np.concatenate([np.full(u, g_hi), np.ones(u * (d + 2) + 1)]).astype(np.float32), dtype=np.float32)

    # ------------------------------------------------------------ randomness
    def _slot_fading(self, keys: NDArray[np.uint64], t: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
        """This slot's fading ``n ~ N(0, 1)`` (A2): ``n_t = rho n_{t-1} + sqrt(1 - rho^2) w_t`` with a fresh
        ``w_t ~ N(0, 1)``, stationary; ``n_0 = w_0`` (``previous`` None). At ``rho = 0``, ``n_t = w_t`` exactly."""
        fresh = streams.normals(keys, t, _D_SLOT_FADING, self.num_agents)
        if previous is None:
            return fresh
        return radio.gauss_markov_step(previous, fresh, self.config.fading_correlation)

    def _traffic(self, keys: NDArray[np.uint64], t: np.ndarray, on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(next ON states, arrivals) at slot ``t`` (A1) given the ON states of slot ``t - 1`` (at t = 0: a
        stationary draw, ``on`` ignored)."""
        c, u = self.config, self.num_agents
        draw = streams.uniforms(keys, t, _D_SOURCE, u)  # (B, 2U): the source's transition, the arrival
        flip, arrive = draw[:, :u], draw[:, u:]
        stay_on = traffic.on_off_step(on, flip, c.on_to_off_prob, c.off_to_on_prob)
        on_now = np.where((t == 0)[:, None], flip < self.pi_on, stay_on)
        return on_now, on_now & (arrive < c.task_prob_on)

    # ------------------------------------------------------------------ reset
    def reset(self, keys: NDArray[np.uint64]) -> tuple[State, AgentArrays]:
        state = self.initial_state(keys)
        on, arrivals = self._traffic(state["key"], state["t"], np.zeros(state["weight"].shape, dtype=bool))
        queue = np.zeros((*on.shape, self.deadline))
        queue[..., 0] = arrivals
        fading = self._slot_fading(state["key"], state["t"], None)
        state.update(mean_delta2=state["delta2"], fading=fading, delta2=np.square(fading) * state["delta2"], on=on,
                     queue=queue, arrivals=arrivals.astype(np.float64), served_last=np.zeros(on.shape[0]),
                     grant_last=np.zeros(on.shape))
        return state, self._observe(state)

    # ------------------------------------------------------------------- step
    def step(self, state: State, actions: Mapping[str, np.ndarray]) -> Transition:
        c, d = self.config, self.deadline
        queue = state["queue"]
        waiting = queue.sum(axis=-1) > 0
        alloc = self.decode_actions(actions, eligible=waiting)  # A3: the server ignores users without an image
        if alloc["selected"].shape[0] != state["t"].shape[0]:
            raise ValueError(f"actions have batch size {alloc['selected'].shape[0]}, the state {state['t'].shape[0]}")
        sel = alloc["selected"]
        o = alloc["compression"]
        delay = self.slot_delay_s(state, alloc)
        delivered = sel & (delay <= c.deadline_s)
        eta = np.where(sel, self.task_success(o), 0.0)
        success = np.where(delivered, eta, 0.0)
        reward = state["weight"] * success  # A4
        # A3: the oldest image leaves if delivered; the queue ages; what is D - 1 slots old expires.
        oldest = d - 1 - np.argmax(queue[..., ::-1] > 0, axis=-1)
        after = queue.copy()
        b_idx, u_idx = np.nonzero(delivered)
        after[b_idx, u_idx, oldest[b_idx, u_idx]] -= 1.0
        expired = after[..., -1]
        next_t = state["t"] + 1
        on, arrivals = self._traffic(state["key"], next_t, state["on"])
        new_queue = np.concatenate([arrivals[..., None].astype(np.float64), after[..., :-1]], axis=-1)
        served = sel.sum(axis=1).astype(np.float64)
        fading = self._slot_fading(state["key"], next_t, state["fading"])
        new_state = {**state, "t": next_t, "last_success": success, "on": on, "queue": new_queue,
                     "arrivals": arrivals.astype(np.float64), "served_last": served,
                     "grant_last": np.where(sel, alloc["bandwidth_hz"] / c.bandwidth_max_hz, 0.0),
                     "fading": fading, "delta2": np.square(fading) * state["mean_delta2"]}
        truncated = next_t >= c.max_steps
        terminated = np.zeros(truncated.shape, dtype=bool)
        infos = {
            "arrivals": state["arrivals"], "delivered": delivered, "expired": expired, "backlog": after[..., :-1].sum(axis=-1),
            "success": success, "eta": eta, "delay_s": np.where(sel, delay, 0.0), "selected": sel, "compression": o,
            "bandwidth_hz": alloc["bandwidth_hz"], "power_w": alloc["power_w"], "objective": reward.sum(axis=1),
            "served": served,
        }
        return Transition(new_state, self._observe(new_state), {a: reward[:, i] for i, a in enumerate(self.agents)},
                          {a: terminated for a in self.agents}, {a: truncated for a in self.agents}, infos)

    def slot_delay_s(self, state: State, alloc: Mapping[str, np.ndarray]) -> np.ndarray:
        """``(B, U)`` delay (7) of each selected user's image at its allocation (``decode_actions``) and this slot's
        ``|h|`` (A2; > 0 for Box-Muller); unselected users get a placeholder (1 Hz, 1 W), to be masked."""
        sel = alloc["selected"]
        bw, pw = np.where(sel, alloc["bandwidth_hz"], 1.0), np.where(sel, alloc["power_w"], 1.0)
        return self.delay_s(self.config.data_bits * (1.0 - alloc["compression"]), bw, pw, np.sqrt(state["delta2"]))

    def step_metrics(self, team_reward: np.ndarray, infos: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        u = self.num_agents
        arrived = infos["arrivals"].sum(axis=1)
        return {"weighted_success": infos["objective"] / u,
                "timely_fraction": infos["delivered"].sum(axis=1) / np.maximum(arrived, 1.0),
                "delivered": infos["delivered"].sum(axis=1) / u, "expired": infos["expired"].sum(axis=1) / u,
                "arrivals": arrived / u, "backlog": infos["backlog"].sum(axis=1) / u, "served": infos["served"]}

    # ------------------------------------------------------------ observation
    def _observe(self, state: State) -> AgentArrays:
        base = np.stack([v for v in super()._observe(state).values()], axis=1)  # (B, U, 7): this slot's |h|
        extra = np.concatenate([state["queue"], state["grant_last"][..., None]], axis=-1)
        obs = np.concatenate([base, extra.astype(np.float32)], axis=-1)
        return {a: obs[:, i] for i, a in enumerate(self.agents)}

    def render_rgb(self, state: State, infos: Mapping[str, np.ndarray] | None, index: int) -> np.ndarray:
        from semcom_envs.render import grouped_bars

        c = self.config
        title = f"{self.env_id}  slot {int(state['t'][index])}"
        waiting = {"images waiting / D": state["queue"][index].sum(axis=-1) / self.deadline}
        if infos is None:
            return grouped_bars(self.agents, {"service weight": state["weight"][index], **waiting}, title)
        return grouped_bars(self.agents, {
            "compression o": infos["compression"][index],
            "bandwidth / B_max": infos["bandwidth_hz"][index] / c.bandwidth_max_hz,
            "power / P_max": infos["power_w"][index] / c.power_max_w,
            "success (eta, if delivered)": infos["success"][index], **waiting,
        }, title)

    def global_state(self, state: State) -> np.ndarray:
        b = state["t"].shape[0]
        return np.concatenate([super().global_state(state), state["queue"].reshape(b, -1), state["on"].astype(np.float64),
                               (state["served_last"] / self.num_agents)[:, None]], axis=1).astype(np.float32)

    def decode_global_state(self, global_state: np.ndarray) -> dict[str, np.ndarray]:
        """v1's ``delta2`` (this slot's ``|h|^2``) and ``weight``, and ``queue`` ``(B, U, D)``, ``on``, ``served_last``."""
        gs = np.asarray(global_state, dtype=np.float64)
        u, d = self.num_agents, self.deadline
        out = super().decode_global_state(gs[:, :2 * u])
        out["queue"] = gs[:, 2 * u:2 * u + u * d].reshape(-1, u, d)
        out["on"] = gs[:, u * (d + 2):u * (d + 3)]
        out["served_last"] = gs[:, -1] * u
        return out

    def decode_observation(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        """v1's ``delta2`` (this slot's ``|h|^2``) and ``weight``, the user's own ``queue`` ``(B, U, D)`` and
        ``grant_last`` (what a local policy knows)."""
        obs = np.asarray(observation, dtype=np.float64)
        out = super().decode_observation(obs)
        out["queue"] = obs[..., _V1_FEATURES:_V1_FEATURES + self.deadline]
        out["grant_last"] = obs[..., -1]
        return out


__all__ = ["TaskOrientedQueues", "TaskOrientedQueuesConfig"]
