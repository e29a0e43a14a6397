"""Independent deep Q-learning on the batched core: the machinery DQN and DRQN share.

What a reader of :mod:`semcom_agents.dqn` or :mod:`semcom_agents.drqn` needs to know about this module:

- **Learner axis.** Every network parameter has a leading *learner* axis ``L``, and every layer is
  a batched matrix product over it (``torch.baddbmm``), so all agents' networks are evaluated and
  updated in one forward/backward pass. Independent learners: one network per (run, agent),
  ``L = runs * N``. Parameter sharing: one network per run, ``L = runs``, with the agent's one-hot id
  appended to its input. The loss is a sum over learners of each learner's own mean loss, and
  RMSProp acts element-wise, so the batched update equals ``L`` separate updates.
- **Runs.** A trainer steps ``runs`` independent training runs in lockstep on one batched core:
  run ``r`` acts in ``num_envs`` environment copies, copy ``e`` seeded with ``(seed + r) * num_envs + e``
  (MAPPO's rule; with one copy, the suite's batch seeding rule ``seed + r``), networks
  initialised from ``torch.Generator().manual_seed(seed + r)`` and exploration and minibatch draws
  from the counter-based stream of ``seed + r``. Several seeds therefore cost one process; a run
  in a batch draws the same random numbers as the same seed trained alone, never interacts with
  the other runs (exactly), and agrees with the run trained alone up to float rounding (kernels may
  order sums differently for learner axes of different sizes; a greedy argmax can amplify that).
- **Schedule** (the multi-cell source group's public code): ``learning_starts`` slots of uniform
  random actions fill the replay memory; then one learning step per ``train_frequency`` slots;
  slots are environment steps per run, so with ``num_envs`` copies a trainer step adds ``num_envs``
  slots and makes the learning steps that fall due in them (``train_frequency`` is the inverse replay
  ratio: ``num_envs = 16, train_frequency = 16`` steps 16x the environment per learning step, the
  batch of an Ape-X-style actor set or of CleanRL's and SB3's ``num_envs``);
  ``epsilon = max(epsilon_end, epsilon_start / (1 + epsilon_decay) ** learning_steps)``; learning
  rate ``lr / (1 + lr_decay * learning_steps)`` (Keras' time-based decay); hard target update every
  ``target_update`` learning steps; squared TD error on ``r + gamma * max_a' Q_target(s', a')``,
  bootstrapping through truncation (episodes end by time limit, not by a terminal state).
- **Actions.** Discrete spaces are used as is; a MultiDiscrete space is flattened to
  ``prod(nvec)`` actions in row-major order (for MultiCell ``level * 20 + (k - 1)``, the same
  decoding as its ``flat_actions`` option).
- **Checkpoints.** :meth:`QTrainer.state_dict` holds everything a run depends on (networks,
  optimiser, replay memory, the environments' states and episode counters, the exploration
  counter, the logged curve), so a resumed run continues exactly where the interrupted one was.
  Policy files (:func:`save_policy`) hold only tensors and plain metadata and load with
  ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from semcom_agents.common import BatchedLinear as BatchedLinear  # re-exported: dqn, drqn and tests import it from here
from semcom_agents.common import BatchedLSTM as BatchedLSTM
from semcom_agents.common import atomic_save as atomic_save
from semcom_agents.common import accumulate_slot, check_hyperparameter_names, init_learners, learner_apply, stack_observations
from semcom_agents.common import check_checkpoint, check_policy_file, load_policy_weights, run_weights, uniform_spaces
from semcom_agents.common import save_policy as save_policy
from semcom_envs import streams
from semcom_envs.api.core import BatchedScenario
from semcom_envs.api.runner import BatchRunner
from semcom_envs.config import ConfigError, check_int, check_real

POLICY_FORMAT = 1
"""Version of the policy-file layout written by :func:`save_policy`."""

_AGENT_STREAM = 2**62
"""Episode index reserved for the agents' own random stream (environments never reach it)."""
_DOMAIN_EXPLORE, _DOMAIN_SAMPLE = 1, 2


@dataclasses.dataclass(frozen=True)
class QConfig:
    """Hyperparameters shared by DQN and DRQN; defaults are the multi-cell source's Table 2."""

    learning_rate: float = 5e-4
    """RMSProp step size at the start of learning."""
    lr_decay: float = 1e-4
    """Time-based decay: ``lr / (1 + lr_decay * learning_steps)``."""
    gamma: float = 0.5
    """Discount factor."""
    replay_size: int = 500
    """Replay memory per agent, in transitions."""
    batch_size: int = 32
    """Minibatch per agent and learning step."""
    learning_starts: int = 256
    """Slots of uniform random actions before the first learning step."""
    train_frequency: int = 1
    """Slots per learning step (1 = learn every slot, as the source)."""
    epsilon_start: float = 0.6
    epsilon_end: float = 0.1
    epsilon_decay: float = 1e-4
    """Epsilon is divided by ``1 + epsilon_decay`` per learning step, down to ``epsilon_end``."""
    target_update: int = 100
    """Learning steps between hard copies of the online network into the target network."""
    rmsprop_alpha: float = 0.9
    """RMSProp smoothing (Keras' ``rho``; the source group's code is Keras)."""
    rmsprop_eps: float = 1e-7
    parameter_sharing: bool = False
    """One network per run for all agents, with the agent's one-hot id in its input."""
    bf16_matmul: bool = False
    """Learning steps' matrix products in bfloat16 (``torch.autocast``): about 2x faster DRQN
    updates on CPUs with native bfloat16 (AVX512-BF16 or AMX), at 8-bit mantissa precision; acting stays
    float32. On a CPU without it bfloat16 is emulated, about 8x slower (docs/performance.md), so there the
    learning steps run in float32 and the trainer warns (:func:`native_bf16`; a leaderboard row's
    ``hardware.cpu_flags`` and a run's ``meta.json`` say which ran)."""
    num_envs: int = 1
    """Environment copies each run acts in at once (1: the source's single environment); at most
    ``replay_size`` (one trainer step writes ``num_envs`` transitions per agent)."""

    def __post_init__(self) -> None:
        for name in ("learning_rate", "rmsprop_eps"):
            check_real(name, getattr(self, name), low=0.0, low_open=True)
        for name in ("lr_decay", "epsilon_decay"):
            check_real(name, getattr(self, name), low=0.0)
        check_real("gamma", self.gamma, low=0.0, high=1.0, high_open=True)
        check_real("rmsprop_alpha", self.rmsprop_alpha, low=0.0, high=1.0, high_open=True)
        check_real("epsilon_start", self.epsilon_start, low=0.0, high=1.0)
        check_real("epsilon_end", self.epsilon_end, low=0.0, high=self.epsilon_start)
        for name in ("replay_size", "batch_size", "train_frequency", "target_update"):
            check_int(name, getattr(self, name), low=1)
        check_int("num_envs", self.num_envs, low=1, high=self.replay_size)
        check_int("learning_starts", self.learning_starts, low=0)
        for name in ("parameter_sharing", "bf16_matmul"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name}={getattr(self, name)!r} is invalid: must be True or False")

    @property
    def window_length(self) -> int:
        """Observations per network input: 1, the current one (DRQN: its sequence length)."""
        return 1

    def epsilon(self, learning_steps: int) -> float:
        """Exploration rate after ``learning_steps`` learning steps."""
        return max(self.epsilon_end, self.epsilon_start * (1.0 + self.epsilon_decay) ** -learning_steps)


def build_qconfig(cls: type[QConfig], overrides: Mapping[str, Any]) -> QConfig:
    """``cls`` with ``overrides``; an unknown name raises, listing the accepted ones."""
    check_hyperparameter_names(cls, overrides)
    return cls(**overrides)


# ---------------------------------------------------------------------------------------------
# Spaces
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SpaceCodec:
    """Agents' observations as one ``(B, N, obs_dim)`` float32 array, actions as flat indices."""

    agents: tuple[str, ...]
    obs_dim: int
    n_actions: int
    nvec: tuple[int, ...] | None
    """MultiDiscrete sizes, or None for Discrete."""
    start: int
    """Discrete ``start`` (0 for MultiDiscrete)."""

    @classmethod
    def for_scenario(cls, scenario: BatchedScenario) -> SpaceCodec:
        """The codec of ``scenario``; raises TypeError if its spaces are not supported."""
        obs, first = uniform_spaces(scenario, "Q-learning")
        if isinstance(first, spaces.Discrete):
            return cls(scenario.agents, int(np.prod(obs.shape)), int(first.n), None, int(first.start))
        if isinstance(first, spaces.MultiDiscrete) and first.nvec.ndim == 1:
            nvec = tuple(int(n) for n in first.nvec)
            return cls(scenario.agents, int(np.prod(obs.shape)), int(np.prod(nvec)), nvec, 0)
        raise TypeError(f"{scenario.env_id}: Q-learning needs Discrete or 1-d MultiDiscrete actions, got {first}")

    def encode(self, observations: Mapping[str, np.ndarray]) -> np.ndarray:
        """``(B, N, obs_dim)`` float32 observations."""
        return stack_observations(observations, self.agents)

    def decode(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Flat action indices ``(B, N)`` as each agent's action batch."""
        if self.nvec is None:
            return {a: flat[:, i] + self.start for i, a in enumerate(self.agents)}
        parts = np.stack(np.unravel_index(flat, self.nvec), axis=-1)  # (B, N, len(nvec))
        return {a: parts[:, i] for i, a in enumerate(self.agents)}


def supports_q_learning(scenario: BatchedScenario) -> bool:
    """Whether DQN/DRQN can act in ``scenario``."""
    try:
        SpaceCodec.for_scenario(scenario)
    except TypeError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Q-values of (run, agent, sample) features
# ---------------------------------------------------------------------------------------------

NetworkBuilder = Callable[[QConfig, int, int, int], nn.Module]
"""``(config, learners, input_dim, n_actions) -> module`` mapping ``(L, n, *F) -> (L, n, n_actions)``."""


def input_dim(codec: SpaceCodec, sharing: bool) -> int:
    """Network input width: the observation, plus the agent id when parameters are shared."""
    return codec.obs_dim + (len(codec.agents) if sharing else 0)


def push_window(window: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """``window`` ``(..., T, D)`` shifted by one slot with ``obs`` ``(..., D)`` as its newest entry."""
    return np.concatenate([window[..., 1:, :], obs[..., None, :]], axis=-2)


# ---------------------------------------------------------------------------------------------
# The trainer
# ---------------------------------------------------------------------------------------------


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX tiles), where ``bf16_matmul`` pays."""
    cpu = torch.cpu
    return any(bool(getattr(cpu, probe, lambda: False)()) for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


class QTrainer:
    """``runs`` independent training runs of one Q-learning agent on ``scenario``, stepped together."""

    def __init__(self, agent: str, scenario: BatchedScenario, config: QConfig, builder: NetworkBuilder,
                 seed: int, runs: int = 1) -> None:
        check_int("runs", runs, low=1)
        check_int("seed", seed, low=0, high=(streams.MAX_SEED + 1) // config.num_envs - runs)
        self.agent, self.scenario, self.config, self.builder = agent, scenario, config, builder
        self.seed, self.runs = seed, runs
        self.bf16 = config.bf16_matmul and native_bf16()
        """Whether the learning steps run in bfloat16: ``bf16_matmul`` where the CPU has native bfloat16."""
        if config.bf16_matmul and not self.bf16:
            warnings.warn("bf16_matmul=True, but this CPU has no native bfloat16 (AVX512-BF16 or AMX), where bfloat16 "
                          "products are emulated about 8x slower: the learning steps run in float32", stacklevel=2)
        self.codec = SpaceCodec.for_scenario(scenario)
        self.seeds = [seed + r for r in range(runs)]
        n_agents = len(scenario.agents)
        learners = runs * (1 if config.parameter_sharing else n_agents)
        dim = input_dim(self.codec, config.parameter_sharing)
        self.online = builder(config, learners, dim, self.codec.n_actions)
        self.target = builder(config, learners, dim, self.codec.n_actions)
        init_learners(self.online, self.seeds)
        self.target.load_state_dict(self.online.state_dict())
        self.target.requires_grad_(False)
        self.optimizer = torch.optim.RMSprop(self.online.parameters(), lr=config.learning_rate,
                                             alpha=config.rmsprop_alpha, eps=config.rmsprop_eps)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: 1.0 / (1.0 + config.lr_decay * s))
        self.keys = streams.episode_key(streams.seed_key(np.array(self.seeds, dtype=np.int64)), _AGENT_STREAM)

        t, d = config.window_length, self.codec.obs_dim
        feat = (d,) if t == 1 else (t, d)
        cap = config.replay_size
        self.replay = {
            "obs": torch.zeros(runs, cap, n_agents, *feat),
            "next_obs": torch.zeros(runs, cap, n_agents, *feat),
            "action": torch.zeros(runs, cap, n_agents, dtype=torch.int64),
            "reward": torch.zeros(runs, cap, n_agents),
            "terminated": torch.zeros(runs, cap, n_agents),
        }
        self.replay_fill = 0
        e = config.num_envs
        self.runner = BatchRunner(scenario, runs * e, num_threads=1)
        obs = self.codec.encode(self.runner.reset([s * e + i for s in self.seeds for i in range(e)]))
        self.window = np.zeros((runs * e, n_agents, t, d), dtype=np.float32)  # copies run-major: run r's are r*e .. r*e+e-1
        self.window[:, :, -1] = obs
        self.slot = 0
        self.learning_steps = 0
        self.curve: list[dict[str, float]] = []
        self._log_sums: dict[str, np.ndarray] = {}
        self._log_count = 0
        self._loss_sum = np.zeros(runs)
        self._loss_count = 0

    # -- acting --------------------------------------------------------------------------------

    def features(self, window: np.ndarray) -> np.ndarray:
        """Network input per (run, agent): the newest observation, or the whole window (DRQN)."""
        return window[:, :, -1] if self.config.window_length == 1 else window

    @property
    def epsilon(self) -> float:
        return 1.0 if self.slot < self.config.learning_starts else self.config.epsilon(self.learning_steps)

    first_update_set_by = "learning_starts, train_frequency"

    @property
    def first_update_step(self) -> int:
        """Env steps per run by which the first learning step has run: the first multiple of ``train_frequency``
        past ``learning_starts``."""
        return (self.config.learning_starts // self.config.train_frequency + 1) * self.config.train_frequency

    def status(self) -> str:
        """Short progress-bar text: the current exploration rate."""
        return f"eps {self.epsilon:.3f}"

    def act(self) -> np.ndarray:
        """Epsilon-greedy flat actions ``(R * E, N)`` for the current slot of every copy."""
        runs, e, n_agents = self.runs, self.config.num_envs, len(self.scenario.agents)
        count = e * n_agents
        u = streams.uniforms(self.keys, self.slot, _DOMAIN_EXPLORE, count)
        explore = (u[:, :count] < self.epsilon).reshape(runs * e, n_agents)
        random_action = np.minimum((u[:, count:] * self.codec.n_actions).astype(np.int64),
                                   self.codec.n_actions - 1).reshape(runs * e, n_agents)
        if explore.all():
            return random_action
        with torch.no_grad():
            feats = torch.from_numpy(self.features(self.window))  # (R * E, N, *F)
            feats = feats.view(runs, e, *feats.shape[1:]).transpose(1, 2)  # (R, N, E, *F): copies are samples
            q = learner_apply(self.online, feats, self.config.parameter_sharing)  # (R, N, E, A)
            greedy = q.argmax(-1).transpose(1, 2).reshape(runs * e, n_agents).numpy()
        return np.where(explore, random_action, greedy)

    # -- learning ------------------------------------------------------------------------------

    def learn(self, index: int = 0) -> np.ndarray:
        """One learning step on a minibatch per (run, agent); returns each run's mean squared TD error.

        ``index``: the learning step's number within the trainer step (several fall due with ``num_envs``
        copies); the minibatch draws are addressed by ``(slot, index)``, so none repeats.
        """
        cfg = self.config
        runs, n_agents = self.runs, len(self.scenario.agents)
        count = n_agents * cfg.batch_size
        u = streams.uniforms(self.keys, self.slot + (index << 32), _DOMAIN_SAMPLE, (count + 1) // 2)[:, :count]
        idx = torch.from_numpy(np.minimum((u * self.replay_fill).astype(np.int64), self.replay_fill - 1))
        idx = idx.view(runs, n_agents, cfg.batch_size)
        r_ix = torch.arange(runs).view(runs, 1, 1)
        a_ix = torch.arange(n_agents).view(1, n_agents, 1)
        batch = {name: buf[r_ix, idx, a_ix] for name, buf in self.replay.items()}  # (R, N, batch, ...)

        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            q = learner_apply(self.online, batch["obs"], cfg.parameter_sharing).float()
            with torch.no_grad():
                q_next = learner_apply(self.target, batch["next_obs"], cfg.parameter_sharing).float().amax(-1)
        q_taken = q.gather(-1, batch["action"].unsqueeze(-1)).squeeze(-1)
        target = batch["reward"] + cfg.gamma * (1.0 - batch["terminated"]) * q_next
        sq = (q_taken - target).square()
        # Each learner's own mean loss, summed: gradients equal those of separate learners.
        loss = sq.mean(dim=(1, 2)).sum() if cfg.parameter_sharing else sq.mean(dim=2).sum()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        self.learning_steps += 1
        if self.learning_steps % cfg.target_update == 0:
            self.target.load_state_dict(self.online.state_dict())
        return sq.detach().mean(dim=(1, 2)).numpy().astype(np.float64)

    def _store(self, action: np.ndarray, next_window: np.ndarray, rewards: np.ndarray, terminated: np.ndarray) -> None:
        """Write every copy's transition ``(R * E, N, ...)``: run ``r``'s copies at slots ``slot .. slot + E - 1``."""
        e = self.config.num_envs
        pos = torch.from_numpy((self.slot + np.arange(e)) % self.config.replay_size)

        def per_run(x: np.ndarray, dtype: np.dtype = np.float32) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(x, dtype=dtype).reshape(self.runs, e, *x.shape[1:]))

        self.replay["obs"][:, pos] = per_run(self.features(self.window))
        self.replay["next_obs"][:, pos] = per_run(self.features(next_window))
        self.replay["action"][:, pos] = per_run(action, np.int64)
        self.replay["reward"][:, pos] = per_run(rewards)
        self.replay["terminated"][:, pos] = per_run(terminated)
        self.replay_fill = min(self.replay_fill + e, self.config.replay_size)

    def step(self) -> None:
        """One slot of every copy of every run: act, step the environments, store, learn (the learning steps
        due in the ``num_envs`` slots), log."""
        agents = self.scenario.agents
        action = self.act()
        tr = self.runner.step(self.codec.decode(action))
        obs = self.codec.encode(tr.observations)
        rewards = np.stack([tr.rewards[a] for a in agents], axis=1)
        terminated = np.stack([tr.terminated[a] for a in agents], axis=1)
        done = terminated.all(axis=1) | np.stack([tr.truncated[a] for a in agents], axis=1).all(axis=1)
        next_window = push_window(self.window, obs)
        self._store(action, next_window, rewards, terminated)
        self._accumulate(self.scenario.team_reward(tr.rewards), tr.infos)
        if done.any():
            self.runner.reset_copies(done, tr.observations)
            next_window[done] = 0.0
            next_window[done, :, -1] = self.codec.encode(tr.observations)[done]
        self.window = next_window
        cfg = self.config
        before = max(self.slot, cfg.learning_starts)
        self.slot += cfg.num_envs
        # The slots s in (before, slot] with s % train_frequency == 0 (one copy: this slot if it is one).
        due = max(0, self.slot // cfg.train_frequency - before // cfg.train_frequency)
        for index in range(due):
            self._loss_sum += self.learn(index)
            self._loss_count += 1

    # -- logging -------------------------------------------------------------------------------

    def _accumulate(self, team_reward: np.ndarray, infos: Mapping[str, np.ndarray]) -> None:
        """Add this slot's team reward and every numeric info (mean over agents) to the log window."""
        accumulate_slot(self._log_sums, team_reward, infos, self.runs)
        self._log_count += 1

    def flush_log(self) -> list[dict[str, float]]:
        """Close the log window: one row per run (step, seed, means over the window, loss, epsilon, lr)."""
        rows = []
        loss = self._loss_sum / self._loss_count if self._loss_count else np.full(self.runs, np.nan)
        for r, seed in enumerate(self.seeds):
            row = {"step": self.slot, "seed": seed, "epsilon": self.epsilon,
                   "lr": self.optimizer.param_groups[0]["lr"], "loss": float(loss[r])}
            row.update({name: float(s[r] / max(self._log_count, 1)) for name, s in self._log_sums.items()})
            rows.append(row)
        self.curve.extend(rows)
        self._log_sums, self._log_count, self._loss_sum, self._loss_count = {}, 0, np.zeros(self.runs), 0
        return rows

    # -- checkpoints ---------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything the continuation of these runs depends on (see the module docstring)."""
        return {
            "agent": self.agent, "seed": self.seed, "runs": self.runs,
            "config": dataclasses.asdict(self.config), "env_id": self.scenario.env_id,
            "env_config": dataclasses.asdict(self.scenario.config),
            "online": self.online.state_dict(), "target": self.target.state_dict(),
            "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
            "replay": self.replay, "replay_fill": self.replay_fill,
            "runner": self.runner.snapshot(), "window": self.window,
            "slot": self.slot, "learning_steps": self.learning_steps, "curve": self.curve,
            "log": (self._log_sums, self._log_count, self._loss_sum, self._loss_count),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue the runs saved in ``state``; raises if they were another agent, env or config."""
        mine = {"agent": self.agent, "seed": self.seed, "runs": self.runs, "env_id": self.scenario.env_id,
                "config": dataclasses.asdict(self.config), "env_config": dataclasses.asdict(self.scenario.config)}
        check_checkpoint(state, mine)
        self.online.load_state_dict(state["online"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.replay = {name: t.clone() for name, t in state["replay"].items()}
        self.replay_fill = state["replay_fill"]
        self.runner.restore(state["runner"])
        self.window = state["window"].copy()
        self.slot, self.learning_steps = state["slot"], state["learning_steps"]
        self.curve = list(state["curve"])
        self._log_sums, self._log_count, self._loss_sum, self._loss_count = state["log"]

    def policy_state(self, run: int) -> dict[str, Any]:
        """The greedy policy of run ``run`` as a policy-file payload (tensors and plain data only)."""
        learners_per_run = 1 if self.config.parameter_sharing else len(self.scenario.agents)
        weights = run_weights(self.online, run, learners_per_run)
        return {
            "format": POLICY_FORMAT, "agent": self.agent, "seed": self.seeds[run], "steps": self.slot,
            "config": dataclasses.asdict(self.config), "env_id": self.scenario.env_id,
            "env_config": dataclasses.asdict(self.scenario.config), "weights": weights,
        }

    def policy(self, run: int = 0) -> QPolicy:
        """Run ``run``'s current greedy policy (a copy: training on does not change it)."""
        return QPolicy.from_state(self.policy_state(run), self.scenario, type(self.config), self.builder)

    def close(self) -> None:
        self.runner.close()


# ---------------------------------------------------------------------------------------------
# The trained policy
# ---------------------------------------------------------------------------------------------


class QPolicy:
    """Greedy actions of a trained DQN/DRQN run, batched over environment copies (the ``Policy`` interface).

    DRQN keeps a window of each copy's recent observations; :meth:`reset` clears it, so call it
    at the start of every episode batch (the evaluation does).
    """

    uses_global_state = False

    def __init__(self, name: str, scenario: BatchedScenario, config: QConfig, net: nn.Module, trained_on: str) -> None:
        self.name, self.config, self.net, self.trained_on = name, config, net, trained_on
        self.codec = SpaceCodec.for_scenario(scenario)
        self.window: np.ndarray | None = None

    @classmethod
    def from_state(cls, state: Mapping[str, Any], scenario: BatchedScenario, config_class: type[QConfig],
                   builder: NetworkBuilder, name: str | None = None) -> QPolicy:
        """A policy from a policy-file payload; raises if ``scenario``'s agents or spaces differ."""
        check_policy_file(state, scenario, POLICY_FORMAT)
        config = config_class(**state["config"])
        codec = SpaceCodec.for_scenario(scenario)
        learners = 1 if config.parameter_sharing else len(scenario.agents)
        net = builder(config, learners, input_dim(codec, config.parameter_sharing), codec.n_actions)
        load_policy_weights(net, state, scenario)
        net.requires_grad_(False)
        return cls(name or f"{state['agent']}-seed{state['seed']}", scenario, config, net, state["env_id"])

    def supports(self, env_id: str) -> bool:
        return env_id == self.trained_on

    def reset(self, seed: int | None = None) -> None:
        self.window = None

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        obs = self.codec.encode(observations)  # (B, N, D)
        t = self.config.window_length
        if self.window is None or self.window.shape[0] != obs.shape[0]:
            self.window = np.zeros((obs.shape[0], obs.shape[1], t, obs.shape[2]), dtype=np.float32)
        self.window = push_window(self.window, obs)
        feats = obs if t == 1 else self.window
        with torch.no_grad():
            # Copies play the role of samples: (1 run, N agents, B copies, *F).
            x = torch.from_numpy(np.ascontiguousarray(np.swapaxes(feats, 0, 1))).unsqueeze(0)
            greedy = learner_apply(self.net, x, self.config.parameter_sharing)[0].argmax(-1).numpy()  # (N, B)
        return self.codec.decode(greedy.T)
