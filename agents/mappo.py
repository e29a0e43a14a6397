"""MAPPO: multi-agent PPO with a centralised critic, batched over runs, agents and environment copies.

One file, CleanRL style: the hyperparameters (:class:`MAPPOConfig`) first, then the networks, the
rollout and the update. The algorithm is Yu et al., "The Surprising Effectiveness of PPO in
Cooperative Multi-Agent Games", NeurIPS 2022 Datasets and Benchmarks (arXiv:2103.01955), and its
reference code ``marlbenchmark/on-policy`` (``onpolicy/config.py``,
``onpolicy/algorithms/r_mappo/r_mappo.py``, ``onpolicy/algorithms/utils/{mlp,act,distributions}.py``,
``onpolicy/utils/valuenorm.py``, ``onpolicy/utils/shared_buffer.py``):

- **Actor.** One network shared by all agents (``parameter_sharing=True``, the paper's default),
  the agent's one-hot id appended to its observation; or one actor per agent. MLP as the
  reference's ``MLPBase``: input LayerNorm (``use_feature_normalization``), then ``layers`` hidden
  layers ``Linear -> ReLU -> LayerNorm`` of width 64, then the action head.
- **Episode memory** (``memory="episode_mean"``, not in the reference, whose memory is a recurrent actor): the
  actor's input also holds the mean of the agent's observations over the episode so far and ``1 / t``
  (:class:`EpisodeMeanMemory`).
- **Centralised critic** ``V(s)`` on the scenario's ``global_state`` (``critic_input="global"``),
  or the paper's agent-specific state: global state + the agent's observation + its one-hot id
  (``"agent_specific"``). Same MLP body, one output.
- **Action heads** (``act.py``): ``Discrete`` a categorical; ``MultiDiscrete`` one categorical per
  component whose log-probabilities are *summed* (the factorised joint distribution; the
  reference concatenates them, with a "could be wrong" comment) and entropies summed; ``Box`` a
  diagonal Gaussian with a state-independent learned log-std (initially 0, as the reference's
  ``DiagGaussian``). The Gaussian sample is clipped to the Box bounds only when it is sent to the
  environment: the stored action and its log-probability are the unclipped sample's, so the PPO
  ratio is that of the distribution actually sampled. ``box_distribution="beta"`` replaces the
  Gaussian with one Beta(alpha, beta) per Box dimension (Chou, Maturana, Scherer, "Improving
  Stochastic Policy Gradients in Continuous Control with Deep Reinforcement Learning using the
  Beta Distribution", ICML 2017), ``alpha, beta = 1 + softplus(outputs)`` (unimodal), sampled in
  [0, 1] by inverse CDF and mapped affinely onto the Box, so no clipping: the stored action, its
  log-probability and the entropy are those of the [0, 1] sample (the affine map's Jacobian is a
  constant, which cancels in the PPO ratio and does not change the entropy's gradient).
  Deterministic actions (evaluation, policy files) are the modes: argmax per component, the
  clipped Gaussian mean, the Beta mode ``(alpha - 1) / (alpha + beta - 2)`` mapped onto the Box
  (the mean ``alpha / (alpha + beta)`` where ``alpha + beta <= 2``, which happens only when both
  softplus outputs underflow to 0).
- **Update** (``r_mappo.py``): GAE(gamma, lambda) on ValueNorm-denormalised values, advantages
  normalised per learner, ``ppo_epoch`` epochs of ``num_mini_batch`` minibatches, PPO clipped
  surrogate, entropy bonus, clipped value loss with a Huber loss (delta 10) on ValueNorm-normalised
  returns, separate Adam optimisers for actor and critic, gradient norms clipped at 10.
- **Orthogonal initialisation**, biases 0: hidden layers gain ``sqrt(2)`` (ReLU) or ``5/3`` (tanh),
  actor output gain 0.01, value output gain 1.
- **Episode ends.** A copy whose agents are all truncated (time limit) bootstraps: the critic's
  value of the final observation and global state, computed *before* the copy is reset, replaces
  the next state's value in the TD error. A terminated copy does not bootstrap. (The reference
  ignores time limits by default, ``use_proper_time_limits=False``; bootstrapping them is the
  correct treatment for episodes that end only by truncation, as MultiCell's.)

Batching and seeding: ``runs`` independent runs (seeds ``seed .. seed + runs - 1``) step together
on one :class:`~semcom_envs.api.runner.BatchRunner` of ``runs * num_envs`` copies. Copy ``e`` of
run ``r`` is the environment seeded with ``(seed + r) * num_envs + e``; run ``r``'s networks are
initialised from ``torch.Generator().manual_seed(seed + r)``; its action samples and minibatch
permutations come from the counter-based stream of ``seed + r`` (:mod:`semcom_envs.streams`).
Every parameter has a learner axis (``L = runs`` shared, ``runs * agents`` otherwise), losses are
sums of per-learner means, gradients are clipped per learner and Adam is element-wise: so runs in
a batch never interact (a run's numbers do not depend on the other runs' data, exactly), and ``R``
runs cost one forward/backward pass. Trained alone, a run agrees with its run in a batch up to
float rounding: kernels (MKL's batched GEMM, reductions) may order sums differently for a learner
axis of 1 or ``R``, and later updates amplify such rounding chaotically, as any training does.

Steps: :attr:`MAPPOTrainer.slot` counts environment steps *per run* (``num_envs`` per call of
:meth:`~MAPPOTrainer.step`); one PPO update follows every ``rollout_length`` calls.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.special
import torch
from gymnasium import spaces
from torch import nn
from torch.nn import functional as F

from semcom_agents.common import (
    BatchedLinear,
    accumulate_slot,
    check_checkpoint,
    check_hyperparameter_names,
    check_policy_file,
    load_policy_weights,
    learner_apply,
    run_weights,
    stack_observations,
    uniform_spaces,
)
from semcom_envs import streams
from semcom_envs.api.core import BatchedScenario
from semcom_envs.api.runner import BatchRunner
from semcom_envs.config import ConfigError, check_choice, check_int, check_real

POLICY_FORMAT = 1
"""Version of MAPPO's policy-file layout."""

_AGENT_STREAM = 2**62
"""Episode index reserved for the agent's own random stream (environments never reach it)."""
_DOMAIN_ACT, _DOMAIN_MINIBATCH = 1, 2
BOX_DISTRIBUTIONS = ("gaussian", "beta")
"""Accepted values of :attr:`MAPPOConfig.box_distribution`."""
MEMORIES = ("none", "episode_mean")
"""Accepted values of :attr:`MAPPOConfig.memory`."""
_BETA_EPS = 1e-6
"""Beta samples are kept in ``[eps, 1 - eps]``: log-densities stay finite where alpha or beta > 1."""

# ---------------------------------------------------------------------------------------------
# Hyperparameters
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MAPPOConfig:
    """MAPPO hyperparameters. Defaults: the paper's MPE table (Yu et al. 2022, appendix, "Common
    hyperparameters" and "MPE" tables) and the reference ``onpolicy/config.py`` where the paper
    gives none; ``num_envs``/``rollout_length`` are ``config.py``'s ``n_rollout_threads=32``,
    ``episode_length=200``."""

    actor_lr: float = 7e-4
    """Adam step size of the actor (paper, MPE table; config.py's default is 5e-4)."""
    critic_lr: float = 7e-4
    """Adam step size of the critic (paper, MPE table)."""
    adam_eps: float = 1e-5
    """Adam epsilon (``opti_eps``)."""
    ppo_epoch: int = 10
    """Passes over each rollout (paper, MPE; 15 in config.py and for SMAC)."""
    num_mini_batch: int = 1
    """Minibatches per pass; a remainder of the rollout that does not fill one is dropped, as the reference."""
    clip: float = 0.2
    """PPO ratio clip, also the value clip (``clip_param``)."""
    entropy_coef: float = 0.01
    value_loss_coef: float = 1.0
    gamma: float = 0.99
    gae_lambda: float = 0.95
    max_grad_norm: float = 10.0
    """Gradient-norm clip, actor and critic separately, per learner."""
    huber_delta: float = 10.0
    """Huber loss threshold of the value loss (``use_huber_loss=True``)."""
    use_valuenorm: bool = True
    """Critic predicts returns normalised by running mean/std (``ValueNorm``, beta 0.99999)."""
    clipped_value_loss: bool = True
    advantage_norm: bool = True
    """Advantages standardised per learner and update (the reference always does)."""
    hidden: int = 64
    layers: int = 2
    """Hidden layers of actor and critic (the reference's ``fc1`` plus ``layer_N=1``)."""
    activation: str = "relu"
    """``"relu"`` (``use_ReLU=True``) or ``"tanh"``."""
    feature_norm: bool = True
    """LayerNorm on the network inputs (``use_feature_normalization``)."""
    actor_gain: float = 0.01
    """Orthogonal-init gain of the actor's output layer (``gain``)."""
    num_envs: int = 32
    """Environment copies per run, stepped together (``n_rollout_threads``)."""
    rollout_length: int = 200
    """Steps per copy between updates (``episode_length``): a rollout is ``num_envs * rollout_length`` env steps."""
    parameter_sharing: bool = True
    """One actor (and critic) for all agents, with the agent id in the input; False: one per agent."""
    critic_input: str = "global"
    """``"global"``: the scenario's global state; ``"agent_specific"``: global state + own observation + one-hot id."""
    lr_anneal_steps: int = 0
    """0: constant learning rates (``use_linear_lr_decay=False``); N > 0: both decay linearly to 0
    over N environment steps per run (set it to ``--steps`` for the reference's decay)."""
    shared_reward: bool = False
    """False: each agent learns from its own reward; True: every agent learns from the team reward, the mean of
    the agents' rewards (the scenario's ``team_reward``), as in the reference's cooperative tasks (its MPE
    environment gives every agent the sum of the rewards of a collaborative world: the same up to a scale, which
    the value and advantage normalisation remove). Set it where the agents serve one objective but the scenario
    rewards each for its own part (SemCom-CDRL: a target's return, while the grant one target yields helps another)."""
    learn_ranked_metric: bool = False
    """False: the reward ``shared_reward`` says; True: every agent learns from the scenario's primary metric of each
    step (``step_metrics``, negated where lower is better), the quantity the leaderboard ranks. Centralised training
    on the ranked objective: execution stays local, but the signal may use what no agent observes. For a task that
    ranks something other than the agents' reward: SemCom-IoTAuction-v1 ranks a bidding profile by its regret (what
    a device would gain by deviating, which depends on the others' bids), while each bidder's reward is its utility;
    learning from the mean regret searches for a stable profile (exploitability descent, Lockhart et al., "Computing
    Approximate Equilibria in Sequential Adversarial Games by Exploitability Descent", IJCAI 2019), and so also
    shows what the ranked metric rewards (on v1: weakly dominated overbids, which v2 cannot express;
    docs/benchmark-tasks.md). The default protocol's MAPPO on SemCom-IoTAuction-v2 (since v11). Exclusive with
    ``shared_reward``."""
    box_distribution: str = "gaussian"
    """Box actions: ``"gaussian"`` (the reference's diagonal Gaussian, sample clipped to the Box) or
    ``"beta"`` (one Beta per dimension mapped onto the Box, Chou et al. 2017); other spaces ignore it."""
    memory: str = "none"
    """``"none"``: the actor sees the current observation (a reactive policy, as the reference's MLP actor);
    ``"episode_mean"``: it also sees the mean of its own observations over the episode so far and ``1 / t`` at the
    episode's slot ``t`` (:class:`EpisodeMeanMemory`). A memory for hidden quantities that stay fixed over an
    episode and show only on average, such as the auction's competition (the devices' distances), which every
    slot's clearing price reflects with noise: the running mean is their natural estimate and ``1 / t`` its weight
    against the prior the network learns. Cheaper than the reference's recurrent actor, and exact to reproduce.
    With ``critic_input="agent_specific"`` the critic sees the same memory."""

    def __post_init__(self) -> None:
        for name in ("actor_lr", "critic_lr", "adam_eps", "clip", "max_grad_norm", "huber_delta", "actor_gain"):
            check_real(name, getattr(self, name), low=0.0, low_open=True)
        for name in ("entropy_coef", "value_loss_coef"):
            check_real(name, getattr(self, name), low=0.0)
        check_real("gamma", self.gamma, low=0.0, high=1.0)
        check_real("gae_lambda", self.gae_lambda, low=0.0, high=1.0)
        for name in ("ppo_epoch", "num_mini_batch", "hidden", "layers", "num_envs", "rollout_length"):
            check_int(name, getattr(self, name), low=1)
        check_int("lr_anneal_steps", self.lr_anneal_steps, low=0)
        check_choice("activation", self.activation, ("relu", "tanh"))
        check_choice("critic_input", self.critic_input, ("global", "agent_specific"))
        check_choice("box_distribution", self.box_distribution, BOX_DISTRIBUTIONS)
        check_choice("memory", self.memory, MEMORIES)
        for name in ("use_valuenorm", "clipped_value_loss", "advantage_norm", "feature_norm", "parameter_sharing",
                     "shared_reward", "learn_ranked_metric"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name}={getattr(self, name)!r} is invalid: must be True or False")
        if self.shared_reward and self.learn_ranked_metric:
            raise ConfigError("shared_reward=True and learn_ranked_metric=True are exclusive: an agent learns from the "
                              "team reward or from the ranked metric, not both")
        if self.num_mini_batch > self.num_envs * self.rollout_length:
            raise ConfigError(f"num_mini_batch={self.num_mini_batch} is invalid: must be <= num_envs * rollout_length "
                              f"= {self.num_envs * self.rollout_length} (samples per run and update)")


OFFLOADING_SOURCE: dict[str, Any] = {
    "gamma": 0.95, "gae_lambda": 0.98, "clip": 0.3, "value_loss_coef": 0.5, "entropy_coef": 0.005,
    "num_envs": 16, "rollout_length": 16,
}
"""The semantic-offloading source's PPO settings (for SemCom-Offloading-v0): discount 0.95, GAE
lambda 0.98, clip 0.3, value coefficient 0.5, entropy coefficient 0.005, 256-step batches, here
16 copies x 16 slots (the same 256 transitions per update as one copy x 256 slots; measured on
SemCom-Offloading-v0, shared access, k = 8, 200,000 steps: 42 s instead of 164 s of training, team
reward -0.866 against -0.872 over the same evaluation episodes). Use ``trainer(scenario, seed, preset="offloading-source")`` or
``semcom train ... --agent mappo --hp preset=offloading-source``; explicit keys override it."""

PRESETS: dict[str, dict[str, Any]] = {"reference": {}, "offloading-source": OFFLOADING_SOURCE}
"""Named hyperparameter sets selected by the ``preset`` keyword; ``reference`` = the defaults."""


def build_config(overrides: Mapping[str, Any]) -> MAPPOConfig:
    """:class:`MAPPOConfig` from a ``preset`` name and overrides; unknown names raise, listing the accepted ones."""
    check_hyperparameter_names(MAPPOConfig, overrides, extra=("preset",))
    overrides = dict(overrides)
    preset = check_choice("preset", overrides.pop("preset", "reference"), PRESETS)
    return MAPPOConfig(**{**PRESETS[preset], **overrides})


# ---------------------------------------------------------------------------------------------
# Action spaces
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ActionHead:
    """The distribution over one agent's action: factorised categorical, diagonal Gaussian or Beta per dimension."""

    nvec: tuple[int, ...] | None
    """Categorical sizes per component (Discrete: one), or None for a Box."""
    start: int
    """Discrete ``start`` (0 for MultiDiscrete)."""
    scalar: bool
    """Discrete: the env takes ``(B,)`` actions, not ``(B, 1)``."""
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()
    box: str = "gaussian"
    """Box distribution (:attr:`MAPPOConfig.box_distribution`)."""

    @classmethod
    def for_scenario(cls, scenario: BatchedScenario, box_distribution: str = "gaussian") -> ActionHead:
        """The head of ``scenario``'s agents; TypeError if its spaces are not supported."""
        _, first = uniform_spaces(scenario, "MAPPO")
        if isinstance(first, spaces.Discrete):
            return cls((int(first.n),), int(first.start), True)
        if isinstance(first, spaces.MultiDiscrete) and first.nvec.ndim == 1:
            return cls(tuple(int(n) for n in first.nvec), 0, False)
        if isinstance(first, spaces.Box) and len(first.shape) == 1:
            return cls(None, 0, False, tuple(map(float, first.low)), tuple(map(float, first.high)), box_distribution)
        raise TypeError(f"{scenario.env_id}: MAPPO supports Discrete, 1-d MultiDiscrete and 1-d Box actions, got {first}")

    @property
    def gaussian(self) -> bool:
        return self.nvec is None and self.box == "gaussian"

    @property
    def beta(self) -> bool:
        return self.nvec is None and self.box == "beta"

    @property
    def out_dim(self) -> int:
        """Network outputs: all components' logits, the Gaussian mean, or the Beta's alpha then beta pre-activations."""
        if self.nvec is None:
            return len(self.low) * (2 if self.beta else 1)
        return sum(self.nvec)

    @property
    def action_dim(self) -> int:
        """Stored numbers per action: one index per component, or the Box's dimension."""
        return len(self.low) if self.nvec is None else len(self.nvec)

    @functools.cached_property
    def _layout(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gather index ``(C, max n)`` from the flat logits, its validity mask, and ``nvec - 1``."""
        assert self.nvec is not None
        width = max(self.nvec)
        offsets = np.cumsum((0, *self.nvec[:-1]))
        index = torch.tensor([[int(o) + min(j, n - 1) for j in range(width)] for o, n in zip(offsets, self.nvec)])
        valid = torch.tensor([[j < n for j in range(width)] for n in self.nvec])
        return index, valid, torch.tensor(self.nvec) - 1

    def _padded_logits(self, out: torch.Tensor) -> torch.Tensor:
        """``(..., C, max n)`` log-probabilities per component (the components' logits are
        consecutive in ``out``); padding entries get a finite -1e9, so their probability is exactly 0
        and ``p log p`` stays 0 (an infinite mask would make entropy gradients NaN)."""
        index, valid, _ = self._layout
        return torch.log_softmax(out[..., index].masked_fill(~valid, -1e9), dim=-1)

    def _beta_params(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``alpha, beta = 1 + softplus(.)`` of the two halves of ``out``: each ``(..., action_dim)``, both >= 1."""
        concentration = 1.0 + F.softplus(out)
        return concentration[..., :self.action_dim], concentration[..., self.action_dim:]

    def sample(self, out: torch.Tensor, log_std: torch.Tensor | None, noise: torch.Tensor) -> torch.Tensor:
        """Actions ``(..., action_dim)`` from network outputs and noise: uniforms (categorical and Beta,
        inverse CDF) or standard normals (Gaussian), one per action number. Beta actions are in [0, 1]."""
        if self.beta:
            alpha, beta = (c.double().numpy() for c in self._beta_params(out))
            u = scipy.special.betaincinv(alpha, beta, noise.double().numpy())
            return torch.from_numpy(np.clip(u, _BETA_EPS, 1.0 - _BETA_EPS)).to(out.dtype)
        if self.nvec is None:
            return out + log_std.exp() * noise
        cdf = self._padded_logits(out).exp().cumsum(dim=-1)
        index = (cdf < noise.unsqueeze(-1)).sum(dim=-1)
        return torch.minimum(index, self._layout[2]).to(out.dtype)

    def log_prob_entropy(self, out: torch.Tensor, log_std: torch.Tensor | None,
                         action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probability of ``action`` and entropy, both summed over the components: ``(...)``
        (Beta: of the [0, 1] action)."""
        if self.beta:
            dist = torch.distributions.Beta(*self._beta_params(out), validate_args=False)
            return dist.log_prob(action).sum(-1), dist.entropy().sum(-1)
        if self.nvec is None:
            log_std = log_std.expand_as(out)
            logp = -0.5 * ((action - out) / log_std.exp()).square() - log_std - 0.5 * math.log(2 * math.pi)
            entropy = 0.5 + 0.5 * math.log(2 * math.pi) + log_std
            return logp.sum(-1), entropy.sum(-1)
        logits = self._padded_logits(out)
        logp = logits.gather(-1, action.long().unsqueeze(-1)).squeeze(-1)
        return logp.sum(-1), -(logits.exp() * logits).sum(dim=(-2, -1))

    def mode(self, out: torch.Tensor) -> np.ndarray:
        """Deterministic actions ``(..., action_dim)``: argmax per component, the clipped Gaussian mean,
        or the Beta mode in [0, 1] (its mean where ``alpha + beta <= 2``)."""
        if self.beta:
            alpha, beta = self._beta_params(out)
            spread = alpha + beta - 2.0
            mode = torch.where(spread > 0, (alpha - 1.0) / spread.clamp_min(1e-30), alpha / (alpha + beta))
            return mode.numpy()
        if self.nvec is None:
            return np.clip(out.numpy(), self.low, self.high)
        return self._padded_logits(out).argmax(-1).numpy()

    def to_env(self, action: np.ndarray, agents: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Actions ``(B, N, action_dim)`` as the scenario's per-agent batches (Gaussian: clipped to the
        bounds; Beta: ``low + (high - low) u``, clipped only against float rounding)."""
        if self.beta:
            low, high = np.array(self.low), np.array(self.high)
            action = np.clip(low + (high - low) * action, low, high).astype(np.float32)
        elif self.nvec is None:
            action = np.clip(action, self.low, self.high).astype(np.float32)
        else:
            action = action.astype(np.int64) + self.start
        return {a: action[:, i, 0] if self.scalar else action[:, i] for i, a in enumerate(agents)}


# ---------------------------------------------------------------------------------------------
# Networks (every parameter has a leading learner axis, see semcom_agents.common)
# ---------------------------------------------------------------------------------------------


class BatchedLayerNorm(nn.Module):
    """LayerNorm over the last axis with a learned scale and shift per learner: ``(L, n, H)``."""

    def __init__(self, learners: int, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(learners, 1, width))
        self.bias = nn.Parameter(torch.zeros(learners, 1, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, x.shape[-1:]) * self.weight + self.bias


def _linear(learners: int, fan_in: int, fan_out: int, gain: float) -> BatchedLinear:
    """A batched linear layer tagged with its orthogonal-init gain (see :func:`init_orthogonal`)."""
    layer = BatchedLinear(learners, fan_in, fan_out)
    layer.gain = gain
    return layer


class MLP(nn.Sequential):
    """The reference's ``MLPBase`` plus an output layer: ``(L, n, in) -> (L, n, out)``."""

    def __init__(self, config: MAPPOConfig, learners: int, input_dim: int, output_dim: int, output_gain: float) -> None:
        act, gain = (nn.ReLU, math.sqrt(2.0)) if config.activation == "relu" else (nn.Tanh, 5.0 / 3.0)
        layers: list[nn.Module] = [BatchedLayerNorm(learners, input_dim)] if config.feature_norm else []
        width = input_dim
        for _ in range(config.layers):
            layers += [_linear(learners, width, config.hidden, gain), act(), BatchedLayerNorm(learners, config.hidden)]
            width = config.hidden
        super().__init__(*layers, _linear(learners, width, output_dim, output_gain))


class Actor(nn.Module):
    """Observation (+ id) to the action head's parameters; a Gaussian head adds a learned log-std per learner."""

    def __init__(self, config: MAPPOConfig, learners: int, input_dim: int, head: ActionHead) -> None:
        super().__init__()
        self.net = MLP(config, learners, input_dim, head.out_dim, config.actor_gain)
        self.log_std = nn.Parameter(torch.zeros(learners, 1, head.out_dim)) if head.gaussian else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def run_log_std(self, runs: int) -> torch.Tensor | None:
        """Log-std broadcastable to ``(R, N, n, D)`` outputs: ``(R, 1 or N, 1, D)``."""
        return None if self.log_std is None else self.log_std.view(runs, -1, 1, self.log_std.shape[-1])


class EpisodeMeanMemory:
    """The actor's input under :attr:`MAPPOConfig.memory`: the observation ``o_t`` alone (``"none"``), or ``o_t``,
    the mean ``(o_1 + ... + o_t) / t`` of the agent's observations since its episode began, and ``1 / t``
    (``"episode_mean"``). Observations are ``(R, N, n, D)`` (runs, agents, copies); each copy's memory restarts with
    its episode. Sums and counts are float32 and exact to reproduce: the same observations give the same inputs,
    in one copy or many."""

    def __init__(self, kind: str) -> None:
        check_choice("memory", kind, MEMORIES)
        self.on = kind == "episode_mean"
        self.sums = torch.zeros(0)
        self.count = torch.zeros(0)

    def input_dim(self, obs_dim: int) -> int:
        """Actor input width for observations of ``obs_dim`` numbers."""
        return 2 * obs_dim + 1 if self.on else obs_dim

    @staticmethod
    def _features(obs: torch.Tensor, sums: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
        return torch.cat([obs, sums / count, (1.0 / count).expand(*obs.shape[:-1], 1)], dim=-1)

    def start(self, obs: torch.Tensor) -> torch.Tensor:
        """Begin every copy's episode at ``obs``; the actor input."""
        if not self.on:
            return obs
        self.sums, self.count = obs.clone(), torch.ones(*obs.shape[:-1], 1)
        return self._features(obs, self.sums, self.count)

    def peek(self, obs: torch.Tensor) -> torch.Tensor:
        """The actor input at ``obs`` as every copy's next slot, not recorded (a truncated episode's final state)."""
        return self._features(obs, self.sums + obs, self.count + 1) if self.on else obs

    def advance(self, obs: torch.Tensor, new_episode: torch.Tensor | None = None) -> torch.Tensor:
        """Record ``obs`` as every copy's next slot, except where ``new_episode`` (bool, broadcastable to
        ``(R, 1, n, 1)``) says a copy begins an episode at it; the actor input."""
        if not self.on:
            return obs
        if self.sums.shape != obs.shape:
            raise ValueError(f"memory of {tuple(self.sums.shape)} observations cannot take {tuple(obs.shape)}: "
                             "begin the episodes first (MAPPOPolicy.reset)")
        self.sums, self.count = self.sums + obs, self.count + 1.0
        if new_episode is not None:
            self.sums = torch.where(new_episode, obs, self.sums)
            self.count = torch.where(new_episode, torch.ones(()), self.count)
        return self._features(obs, self.sums, self.count)


def init_orthogonal(modules: list[nn.Module], seeds: list[int]) -> None:
    """Orthogonal weights (each layer's ``gain``), zero biases; learner group ``r`` from ``Generator(seeds[r])``.

    The learner axis is split into ``len(seeds)`` equal groups (one per run), so a run's initial
    networks depend only on its own seed. Each learner's ``(fan_in, fan_out)`` weight is the
    transpose of ``nn.init.orthogonal_`` on PyTorch's ``(fan_out, fan_in)`` layout.
    """
    layers = [m for module in modules for m in module.modules() if hasattr(m, "gain")]
    for r, seed in enumerate(seeds):
        gen = torch.Generator().manual_seed(seed)
        for layer in layers:
            group = layer.weight.shape[0] // len(seeds)
            for learner in range(r * group, (r + 1) * group):
                fan_in, fan_out = layer.weight.shape[1:]
                w = nn.init.orthogonal_(torch.empty(fan_out, fan_in), gain=layer.gain, generator=gen)
                layer.weight.data[learner] = w.T
            layer.bias.data[r * group:(r + 1) * group] = 0.0


def clip_grad_norm_per_learner(params: list[nn.Parameter], max_norm: float, learners: int) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` applied to each learner's slice separately; returns the norms ``(L,)``."""
    norms = torch.stack([p.grad.reshape(learners, -1).square().sum(1) for p in params]).sum(0).sqrt()
    coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for p in params:
        p.grad.mul_(coef.view(-1, *[1] * (p.dim() - 1)))
    return norms


class ValueNorm(nn.Module):
    """Running mean/std of value targets per learner, debiased EMAs (the reference's ``ValueNorm``).

    ``mean = m / d``, ``var = max(m2 / d - mean^2, 1e-2)`` with ``m, m2, d`` updated by
    ``x <- beta x + (1 - beta) batch statistic`` (``d`` with statistic 1) and ``d`` clamped below
    at ``epsilon``. Each learner's statistics come from its own rows only.
    """

    def __init__(self, learners: int, beta: float = 0.99999, epsilon: float = 1e-5) -> None:
        super().__init__()
        self.beta, self.epsilon = beta, epsilon
        self.register_buffer("running_mean", torch.zeros(learners, dtype=torch.float64))
        self.register_buffer("running_mean_sq", torch.zeros(learners, dtype=torch.float64))
        self.register_buffer("debiasing_term", torch.zeros(learners, dtype=torch.float64))

    def mean_var(self) -> tuple[torch.Tensor, torch.Tensor]:
        d = self.debiasing_term.clamp(min=self.epsilon)
        mean = self.running_mean / d
        return mean, (self.running_mean_sq / d - mean.square()).clamp(min=1e-2)

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        """Fold in a batch ``x`` whose leading axis is the learner (any trailing shape)."""
        flat = x.reshape(len(self.running_mean), -1).double()
        b = self.beta
        self.running_mean.mul_(b).add_(flat.mean(1) * (1 - b))
        self.running_mean_sq.mul_(b).add_(flat.square().mean(1) * (1 - b))
        self.debiasing_term.mul_(b).add_(1 - b)

    def _apply_stats(self, x: torch.Tensor, inverse: bool) -> torch.Tensor:
        mean, var = self.mean_var()
        flat = x.reshape(len(mean), -1)
        out = flat * var.sqrt()[:, None] + mean[:, None] if inverse else (flat - mean[:, None]) / var.sqrt()[:, None]
        return out.to(x.dtype).view(x.shape)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return self._apply_stats(x, inverse=False)

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return self._apply_stats(x, inverse=True)


def gae(rewards: torch.Tensor, values: torch.Tensor, next_values: torch.Tensor, dones: torch.Tensor,
        gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over a rollout's leading time axis ``T``; returns (advantages, returns).

    ``next_values[t]`` is the value the TD error at ``t`` bootstraps from: ``V(s_{t+1})``, the final
    state's value where the episode was truncated at ``t``, or 0 where it terminated. ``dones[t]``
    (1 where the episode ended at ``t``) stops the advantage recursion
    ``A_t = delta_t + gamma lam (1 - done_t) A_{t+1}``; returns are ``A_t + V(s_t)``.
    """
    deltas = rewards + gamma * next_values - values
    advantages = torch.zeros_like(deltas)
    running = torch.zeros_like(deltas[0])
    for t in reversed(range(len(deltas))):
        running = deltas[t] + gamma * lam * (1.0 - dones[t]) * running
        advantages[t] = running
    return advantages, advantages + values


# ---------------------------------------------------------------------------------------------
# The trainer
# ---------------------------------------------------------------------------------------------

_UPDATE_STATS = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction", "explained_variance")
"""Quantities logged per PPO update (means over the update's minibatches, per run)."""


class MAPPOTrainer:
    """``runs`` independent MAPPO runs on ``scenario`` (seeds ``seed ..``), stepped together; see the module docstring."""

    agent = "mappo"

    def __init__(self, scenario: BatchedScenario, config: MAPPOConfig, seed: int, runs: int = 1) -> None:
        check_int("runs", runs, low=1)
        env_seeds = config.num_envs
        check_int("seed", seed, low=0, high=(streams.MAX_SEED + 1) // env_seeds - runs)
        self.scenario, self.config, self.seed, self.runs = scenario, config, seed, runs
        self.head = ActionHead.for_scenario(scenario, config.box_distribution)
        self.seeds = [seed + r for r in range(runs)]
        n, e, t = len(scenario.agents), config.num_envs, config.rollout_length
        sharing = config.parameter_sharing
        self.memory = EpisodeMeanMemory(config.memory)
        obs_dim = self.memory.input_dim(int(np.prod(scenario.observation_space(scenario.agents[0]).shape)))
        state_dim = int(np.prod(scenario.state_space.shape))
        self.actor_learners = runs * (1 if sharing else n)
        self.critic_learners = self.actor_learners
        critic_dim = state_dim + (obs_dim + n if config.critic_input == "agent_specific" else 0)
        self.actor = Actor(config, self.actor_learners, obs_dim + (n if sharing else 0), self.head)
        self.critic = MLP(config, self.critic_learners, critic_dim, 1, 1.0)
        init_orthogonal([self.actor, self.critic], self.seeds)
        self.value_norm = ValueNorm(self.critic_learners)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=config.actor_lr, eps=config.adam_eps)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=config.critic_lr, eps=config.adam_eps)
        self.keys = streams.episode_key(streams.seed_key(np.array(self.seeds, dtype=np.int64)), _AGENT_STREAM)

        self.runner = BatchRunner(scenario, runs * e, num_threads=1)
        obs = self.runner.reset([s * e + i for s in self.seeds for i in range(e)])
        observed, self.gstate = self._observe(obs)
        self.obs = self.memory.start(observed)  # the actor's input
        self.buffer = {
            "obs": torch.zeros(t, runs, n, e, obs_dim), "gstate": torch.zeros(t, runs, e, state_dim),
            "action": torch.zeros(t, runs, n, e, self.head.action_dim), "logp": torch.zeros(t, runs, n, e),
            "value": torch.zeros(t, runs, n, e), "reward": torch.zeros(t, runs, n, e),
            "done": torch.zeros(t, runs, 1, e), "bootstrap": torch.zeros(t, runs, n, e),
        }
        self.rollout_step = 0
        self.slot = 0
        self.learning_steps = 0
        self.curve: list[dict[str, float]] = []
        self._log_sums: dict[str, np.ndarray] = {}
        self._log_count = 0
        self._stat_sums = {name: np.zeros(runs) for name in _UPDATE_STATS}
        self._stat_count = 0

    # -- acting --------------------------------------------------------------------------------

    def _observe(self, observations: Mapping[str, np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """Observations ``(R, N, E, D)`` and global states ``(R, E, S)`` of the runner's current slot."""
        runs, e = self.runs, self.config.num_envs
        obs = stack_observations(observations, self.scenario.agents)  # (R*E, N, D)
        obs = torch.from_numpy(obs).view(runs, e, obs.shape[1], -1).transpose(1, 2)
        gstate = torch.from_numpy(self.runner.global_state().astype(np.float32)).view(runs, e, -1)
        return obs, gstate

    def values(self, obs: torch.Tensor, gstate: torch.Tensor) -> torch.Tensor:
        """Normalised critic values ``(R, N, n)`` of observations ``(R, N, n, D)`` and global states ``(R, n, S)``."""
        runs, n_agents, n = obs.shape[:3]
        sharing = self.config.parameter_sharing
        if self.config.critic_input == "global" and sharing:  # one value per copy, the same for every agent
            return self.critic(gstate).view(runs, 1, n).expand(runs, n_agents, n)
        feats = gstate.unsqueeze(1).expand(runs, n_agents, n, gstate.shape[-1])
        if self.config.critic_input == "agent_specific":
            eye = torch.eye(n_agents).view(1, n_agents, 1, n_agents).expand(runs, n_agents, n, n_agents)
            feats = torch.cat([feats, obs, eye], dim=-1)
        return learner_apply(self.critic, feats, sharing, one_hot_id=False)[..., 0]

    def step(self) -> None:
        """One slot of every copy of every run: sample, step, store; a PPO update when the rollout is full."""
        cfg, agents = self.config, self.scenario.agents
        runs, n, e = self.runs, len(agents), cfg.num_envs
        count = n * e * self.head.action_dim
        draw = streams.normals if self.head.gaussian else streams.uniforms
        width = count if self.head.gaussian else (count + 1) // 2
        noise = torch.from_numpy(draw(self.keys, self.slot, _DOMAIN_ACT, width)[:, :count].astype(np.float32))
        with torch.no_grad():
            out = learner_apply(self.actor, self.obs, cfg.parameter_sharing)
            log_std = self.actor.run_log_std(runs)
            action = self.head.sample(out, log_std, noise.view(runs, n, e, -1))
            logp, _ = self.head.log_prob_entropy(out, log_std, action)
            value = self.values(self.obs, self.gstate)
        tr = self.runner.step(self.head.to_env(action.permute(0, 2, 1, 3).reshape(runs * e, n, -1).numpy(), agents))
        team = self.scenario.team_reward(tr.rewards)
        if cfg.learn_ranked_metric:
            sc = self.scenario
            ranked = sc.step_metrics(team, tr.infos)[sc.primary_metric] * (1.0 if sc.higher_is_better else -1.0)
            reward = np.repeat(ranked[:, None], n, axis=1).astype(np.float32)
        else:
            reward = (np.repeat(team[:, None], n, axis=1) if cfg.shared_reward
                      else np.stack([tr.rewards[a] for a in agents], axis=1)).astype(np.float32)  # (R*E, N)
        terminated = np.logical_and.reduce([tr.terminated[a] for a in agents])
        done = terminated | np.logical_and.reduce([tr.terminated[a] | tr.truncated[a] for a in agents])
        bootstrap = torch.zeros(runs, n, e)
        if done.any():
            with torch.no_grad():  # the final state's value, before the copy is reset
                observed, gstate = self._observe(tr.observations)
                final = self.values(self.memory.peek(observed), gstate)
            truncated_only = torch.from_numpy(done & ~terminated).view(runs, 1, e)
            bootstrap = torch.where(truncated_only, final, bootstrap)
            self.runner.reset_copies(done, tr.observations)
        buf, i = self.buffer, self.rollout_step
        buf["obs"][i], buf["gstate"][i], buf["action"][i] = self.obs, self.gstate, action
        buf["logp"][i], buf["value"][i], buf["bootstrap"][i] = logp, value, bootstrap
        buf["reward"][i] = torch.from_numpy(reward).view(runs, e, n).transpose(1, 2)
        buf["done"][i] = torch.from_numpy(done.astype(np.float32)).view(runs, 1, e)
        observed, self.gstate = self._observe(tr.observations)
        self.obs = self.memory.advance(observed, torch.from_numpy(done).view(runs, 1, e, 1))
        self._accumulate(team, tr.infos)
        self.slot += e
        self.rollout_step += 1
        if self.rollout_step == cfg.rollout_length:
            self._set_learning_rates()
            self._add_stats(self.update())
            self.rollout_step = 0

    # -- learning ------------------------------------------------------------------------------

    def _set_learning_rates(self) -> None:
        """Linear annealing by the env steps done before this rollout (CleanRL's ``anneal_lr``)."""
        cfg = self.config
        if cfg.lr_anneal_steps:
            start = self.slot - cfg.num_envs * cfg.rollout_length
            frac = max(0.0, 1.0 - start / cfg.lr_anneal_steps)
            self.actor_opt.param_groups[0]["lr"] = cfg.actor_lr * frac
            self.critic_opt.param_groups[0]["lr"] = cfg.critic_lr * frac

    def update(self) -> dict[str, np.ndarray]:
        """One PPO update on the full rollout; returns each run's mean of every quantity in ``_UPDATE_STATS``."""
        cfg, buf = self.config, self.buffer
        runs, n, e, t = self.runs, len(self.scenario.agents), cfg.num_envs, cfg.rollout_length
        sharing = cfg.parameter_sharing
        with torch.no_grad():
            last = self.values(self.obs, self.gstate)
            denorm = self._denormalize
            values = torch.stack([denorm(v) for v in buf["value"]])
            next_values = torch.cat([values[1:], denorm(last).unsqueeze(0)])
            done = buf["done"].expand(t, runs, n, e)
            next_values = torch.where(done.bool(), torch.stack([denorm(b) for b in buf["bootstrap"]]), next_values)
            advantages, returns = gae(buf["reward"], values, next_values, done, cfg.gamma, cfg.gae_lambda)

        def samples(x: torch.Tensor, agent_axis: bool = True) -> torch.Tensor:
            """Rollout ``(T, R, N, E, ...)`` as ``(R, T*E, N, ...)`` (or ``(T, R, E, ...)`` as ``(R, T*E, ...)``)."""
            if agent_axis:
                x = x.permute(1, 0, 3, 2, *range(4, x.dim()))
                return x.reshape(runs, t * e, n, *x.shape[4:])
            return x.transpose(0, 1).reshape(runs, t * e, *x.shape[3:])

        data = {"obs": samples(buf["obs"]), "gstate": samples(buf["gstate"], agent_axis=False),
                "action": samples(buf["action"]), "logp": samples(buf["logp"]), "value": samples(buf["value"]),
                "returns": samples(returns), "advantages": samples(advantages)}
        if cfg.advantage_norm:  # per learner: over (samples, agents) of a run, or over one agent's samples
            adv, dims = data["advantages"], ((1, 2) if sharing else (1,))
            data["advantages"] = (adv - adv.mean(dims, keepdim=True)) / (adv.std(dims, correction=0, keepdim=True) + 1e-5)

        samples_per_run = t * e
        size = samples_per_run // cfg.num_mini_batch
        sums = {name: torch.zeros(runs) for name in _UPDATE_STATS[:-1]}
        r_ix = torch.arange(runs).view(runs, 1)
        for epoch in range(cfg.ppo_epoch):
            u = streams.uniforms(self.keys, self.learning_steps * cfg.ppo_epoch + epoch, _DOMAIN_MINIBATCH,
                                 (samples_per_run + 1) // 2)[:, :samples_per_run]
            perm = torch.from_numpy(np.argsort(u, axis=1, kind="stable"))
            for mb in range(cfg.num_mini_batch):
                idx = perm[:, mb * size:(mb + 1) * size]
                batch = {k: v[r_ix, idx].transpose(1, 2) if k != "gstate" else v[r_ix, idx] for k, v in data.items()}
                for name, value in self._minibatch_step(batch).items():
                    sums[name] += value
        stats = {name: (s / (cfg.ppo_epoch * cfg.num_mini_batch)).numpy().astype(np.float64) for name, s in sums.items()}
        residual = (returns - values).transpose(0, 1).reshape(runs, -1)
        target = returns.transpose(0, 1).reshape(runs, -1)
        stats["explained_variance"] = (1.0 - residual.var(1) / target.var(1)).numpy().astype(np.float64)
        self.learning_steps += 1
        return stats

    def _denormalize(self, v: torch.Tensor) -> torch.Tensor:
        """Critic outputs ``(R, N, n)`` in return units (identity without ValueNorm)."""
        return self.value_norm.denormalize(v.contiguous()) if self.config.use_valuenorm else v

    def _minibatch_step(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One actor and one critic gradient step on a minibatch ``(R, N, m, ...)``; per-run stats."""
        cfg = self.config
        runs = self.runs
        out = learner_apply(self.actor, batch["obs"], cfg.parameter_sharing)
        logp, entropy = self.head.log_prob_entropy(out, self.actor.run_log_std(runs), batch["action"])
        log_ratio = logp - batch["logp"]
        ratio = log_ratio.exp()
        adv = batch["advantages"]
        surrogate = torch.min(ratio * adv, ratio.clamp(1.0 - cfg.clip, 1.0 + cfg.clip) * adv)
        actor_loss = -(surrogate + cfg.entropy_coef * entropy)
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.reshape(self.actor_learners, -1).mean(1).sum().backward()  # each learner's own mean loss
        clip_grad_norm_per_learner(list(self.actor.parameters()), cfg.max_grad_norm, self.actor_learners)
        self.actor_opt.step()

        value = self.values(batch["obs"], batch["gstate"])
        returns = batch["returns"]
        if cfg.use_valuenorm:
            self.value_norm.update(returns.reshape(self.critic_learners, -1))
            returns = self.value_norm.normalize(returns.contiguous())
        old = batch["value"]
        loss = F.huber_loss(value, returns, reduction="none", delta=cfg.huber_delta)
        if cfg.clipped_value_loss:
            clipped = old + (value - old).clamp(-cfg.clip, cfg.clip)
            loss = torch.max(loss, F.huber_loss(clipped, returns, reduction="none", delta=cfg.huber_delta))
        self.critic_opt.zero_grad(set_to_none=True)
        (cfg.value_loss_coef * loss.reshape(self.critic_learners, -1).mean(1).sum()).backward()
        clip_grad_norm_per_learner(list(self.critic.parameters()), cfg.max_grad_norm, self.critic_learners)
        self.critic_opt.step()

        with torch.no_grad():
            per_run = {"policy_loss": -surrogate, "value_loss": loss, "entropy": entropy,
                       "approx_kl": (ratio - 1.0) - log_ratio,  # Schulman's low-variance KL estimator
                       "clip_fraction": ((ratio - 1.0).abs() > cfg.clip).float()}
            return {name: v.reshape(runs, -1).mean(1) for name, v in per_run.items()}

    # -- logging -------------------------------------------------------------------------------

    def _accumulate(self, team_reward: np.ndarray, infos: Mapping[str, np.ndarray]) -> None:
        """Add this slot's team reward and numeric infos (means over each run's copies and agents)."""
        accumulate_slot(self._log_sums, team_reward, infos, self.runs)
        self._log_count += 1

    def _add_stats(self, stats: Mapping[str, np.ndarray]) -> None:
        for name, value in stats.items():
            self._stat_sums[name] = self._stat_sums[name] + value
        self._stat_count += 1

    @property
    def lr(self) -> float:
        return float(self.actor_opt.param_groups[0]["lr"])

    first_update_set_by = "num_envs x rollout_length"

    @property
    def first_update_step(self) -> int:
        """Env steps per run by which the first PPO update has run: one rollout, ``num_envs * rollout_length``."""
        return self.config.num_envs * self.config.rollout_length

    def status(self) -> str:
        """Short progress-bar text: updates done and the actor's learning rate."""
        return f"updates {self.learning_steps}  lr {self.lr:.2e}"

    def flush_log(self) -> list[dict[str, float]]:
        """Close the log window: one row per run (step, seed, window means, update means, lr); NaN where no update fell in it."""
        rows = []
        for r, seed in enumerate(self.seeds):
            row: dict[str, float] = {"step": self.slot, "seed": seed, "lr": self.lr}
            row.update({name: float(s[r] / self._stat_count) if self._stat_count else math.nan
                        for name, s in self._stat_sums.items()})
            row.update({name: float(s[r] / max(self._log_count, 1)) for name, s in self._log_sums.items()})
            rows.append(row)
        self.curve.extend(rows)
        self._log_sums, self._log_count = {}, 0
        self._stat_sums, self._stat_count = {name: np.zeros(self.runs) for name in _UPDATE_STATS}, 0
        return rows

    # -- checkpoints ---------------------------------------------------------------------------

    def _identity(self) -> dict[str, Any]:
        return {"agent": self.agent, "seed": self.seed, "runs": self.runs, "env_id": self.scenario.env_id,
                "config": dataclasses.asdict(self.config), "env_config": dataclasses.asdict(self.scenario.config)}

    def state_dict(self) -> dict[str, Any]:
        """Everything the continuation of these runs depends on: networks, optimisers, ValueNorm,
        the partial rollout, the environments, counters and the log."""
        return {
            **self._identity(),
            "actor": self.actor.state_dict(), "critic": self.critic.state_dict(),
            "value_norm": self.value_norm.state_dict(),
            "actor_opt": self.actor_opt.state_dict(), "critic_opt": self.critic_opt.state_dict(),
            "buffer": self.buffer, "obs": self.obs, "gstate": self.gstate, "runner": self.runner.snapshot(),
            "memory": (self.memory.sums, self.memory.count),
            "rollout_step": self.rollout_step, "slot": self.slot, "learning_steps": self.learning_steps,
            "curve": self.curve, "log": (self._log_sums, self._log_count, self._stat_sums, self._stat_count),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue the runs saved in ``state``; raises if they were another agent, env or config.
        Hyperparameters added since the checkpoint was written count as their defaults."""
        defaults = dataclasses.asdict(MAPPOConfig())
        check_checkpoint({**state, "config": {**defaults, **state["config"]}}, self._identity())
        self.actor.load_state_dict(state["actor"])
        self.critic.load_state_dict(state["critic"])
        self.value_norm.load_state_dict(state["value_norm"])
        self.actor_opt.load_state_dict(state["actor_opt"])
        self.critic_opt.load_state_dict(state["critic_opt"])
        self.buffer = {name: v.clone() for name, v in state["buffer"].items()}
        self.obs, self.gstate = state["obs"].clone(), state["gstate"].clone()
        if "memory" in state:  # checkpoints before the memory option had none
            self.memory.sums, self.memory.count = (t.clone() for t in state["memory"])
        self.runner.restore(state["runner"])
        self.rollout_step, self.slot, self.learning_steps = state["rollout_step"], state["slot"], state["learning_steps"]
        self.curve = list(state["curve"])
        self._log_sums, self._log_count, self._stat_sums, self._stat_count = state["log"]

    def policy_state(self, run: int) -> dict[str, Any]:
        """Run ``run``'s actor as a policy-file payload (tensors and plain data only)."""
        weights = run_weights(self.actor, run, self.actor_learners // self.runs)
        identity = self._identity()
        return {"format": POLICY_FORMAT, "agent": self.agent, "seed": self.seeds[run], "steps": self.slot,
                "config": identity["config"], "env_id": identity["env_id"], "env_config": identity["env_config"],
                "weights": weights}

    def policy(self, run: int = 0) -> MAPPOPolicy:
        """Run ``run``'s current deterministic policy (a copy: training on does not change it)."""
        return MAPPOPolicy.from_state(self.policy_state(run), self.scenario)

    def close(self) -> None:
        self.runner.close()


# ---------------------------------------------------------------------------------------------
# The trained policy
# ---------------------------------------------------------------------------------------------


class MAPPOPolicy:
    """Deterministic actions (the modes) of a trained MAPPO actor, batched over copies (the ``Policy`` interface)."""

    uses_global_state = False

    def __init__(self, name: str, scenario: BatchedScenario, config: MAPPOConfig, actor: Actor, trained_on: str) -> None:
        self.name, self.config, self.actor, self.trained_on = name, config, actor, trained_on
        self.agents = scenario.agents
        self.head = ActionHead.for_scenario(scenario, config.box_distribution)
        self.memory = EpisodeMeanMemory(config.memory)
        self._episode_started = False

    @classmethod
    def from_state(cls, state: Mapping[str, Any], scenario: BatchedScenario, name: str | None = None) -> MAPPOPolicy:
        """A policy from a policy-file payload; raises if ``scenario``'s agents or spaces differ."""
        check_policy_file(state, scenario, POLICY_FORMAT)
        config = MAPPOConfig(**state["config"])
        head = ActionHead.for_scenario(scenario, config.box_distribution)
        n = len(scenario.agents)
        obs_dim = EpisodeMeanMemory(config.memory).input_dim(int(np.prod(scenario.observation_space(scenario.agents[0]).shape)))
        learners = 1 if config.parameter_sharing else n
        actor = Actor(config, learners, obs_dim + (n if config.parameter_sharing else 0), head)
        load_policy_weights(actor, state, scenario)
        actor.requires_grad_(False)
        return cls(name or f"mappo-seed{state['seed']}", scenario, config, actor, state["env_id"])

    def supports(self, env_id: str) -> bool:
        return env_id == self.trained_on

    def reset(self, seed: int | None = None) -> None:
        """Begin new episodes: the next :meth:`act` is their first slot (the policy is deterministic; with
        ``memory="episode_mean"`` it forgets the episodes before, otherwise there is nothing to forget)."""
        self._episode_started = False

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        """The modes for one slot of a batch of copies; with a memory, every call after :meth:`reset` is the next
        slot of the same episodes."""
        obs = stack_observations(observations, self.agents)  # (B, N, D)
        with torch.no_grad():
            # Copies play the role of samples: (1 run, N agents, B copies, D).
            x = torch.from_numpy(np.ascontiguousarray(np.swapaxes(obs, 0, 1))).unsqueeze(0)
            x = self.memory.advance(x) if self._episode_started else self.memory.start(x)
            self._episode_started = True
            mode = self.head.mode(learner_apply(self.actor, x, self.config.parameter_sharing)[0])  # (N, B, A)
        return self.head.to_env(np.swapaxes(mode, 0, 1), self.agents)


def trainer(scenario: BatchedScenario, seed: int, runs: int = 1, **hyperparameters: Any) -> MAPPOTrainer:
    """A MAPPO trainer of ``runs`` runs (seeds ``seed .. seed + runs - 1``) on ``scenario``."""
    return MAPPOTrainer(scenario, build_config(hyperparameters), seed, runs)


def supports_mappo(scenario: BatchedScenario) -> bool:
    """Whether MAPPO can act in ``scenario``."""
    try:
        ActionHead.for_scenario(scenario)
    except TypeError:
        return False
    return True
