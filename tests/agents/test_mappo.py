"""MAPPO: ValueNorm and GAE by hand, toy bandits of every action space, MultiCell, checkpoints, batching."""

from __future__ import annotations

import csv
import dataclasses
from typing import ClassVar

import numpy as np
import pytest
import torch
from gymnasium import spaces

from semcom_agents import load_policy, make_trainer
from semcom_agents.common import save_policy
from semcom_agents.mappo import OFFLOADING_SOURCE, ActionHead, EpisodeMeanMemory, ValueNorm, gae
from semcom_agents.training import policy_path, train
from semcom_baselines import Policy, make_policy
from semcom_envs import streams
from semcom_envs.api.core import BatchedScenario, Transition
from semcom_envs.api.runner import BatchRunner
from semcom_envs.config import ConfigError
from semcom_envs.evaluation import evaluate
from semcom_envs.registration import make_scenario
from tests.agents.helpers import ShiftedRewards

ENV = "SemCom-MultiCell-v0"
SMALL = {"num_envs": 4, "rollout_length": 10}


@dataclasses.dataclass(frozen=True)
class BanditConfig:
    kind: str = "box"
    max_steps: int = 5


class ContextualBandit(BatchedScenario):
    """Test-only scenario: two agents each see a fresh context ``c`` in [-1, 1]^2 every slot.

    Rewards (optimum 0 for all kinds): ``box`` ``-|a - c / 2|^2``; ``discrete`` (``Discrete(3,
    start=1)``) ``-1`` unless ``a - 1`` is 2 where ``c_0 > 0`` and 0 elsewhere; ``multidiscrete``
    (``[2, 3]``) ``-`` the fraction of the two components that miss ``(c_0 > 0, 2 (c_1 > 0))``.
    """

    env_id = "Test-Bandit-v0"
    pettingzoo_name = "bandit_v0"
    config_class = BanditConfig
    presets: ClassVar[dict] = {"default": {}}
    metrics: ClassVar[dict] = {"reward": "team reward"}
    primary_metric = "reward"
    higher_is_better = True

    def __init__(self, kind: str = "box", max_steps: int = 5) -> None:
        self.config = BanditConfig(kind, max_steps)
        self.agents = ("a0", "a1")
        self._obs = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self._act = {"box": spaces.Box(-1.0, 1.0, (2,), np.float32), "discrete": spaces.Discrete(3, start=1),
                     "multidiscrete": spaces.MultiDiscrete([2, 3]), "multibinary": spaces.MultiBinary(2)}[kind]
        self.state_space = spaces.Box(-1.0, 1.0, (4,), np.float32)

    def observation_space(self, agent):
        return self._obs

    def action_space(self, agent):
        return self._act

    def _context(self, key, t):
        return (2.0 * streams.uniforms(key, t, 0, 2) - 1.0).reshape(-1, 2, 2).astype(np.float32)

    def reset(self, keys):
        t = np.zeros(len(keys), dtype=np.int64)
        c = self._context(keys, t)
        return {"key": keys, "t": t, "c": c}, {a: c[:, i] for i, a in enumerate(self.agents)}

    def step(self, state, actions):
        c = state["c"]
        a = np.stack([np.asarray(actions[name], dtype=np.float64) for name in self.agents], axis=1)
        if self.config.kind == "box":
            reward = -np.square(a - c / 2).sum(-1)
        elif self.config.kind == "discrete":
            reward = -(a - 1 != np.where(c[..., 0] > 0, 2, 0)).astype(np.float64)
        else:
            reward = -np.mean(a != np.stack([c[..., 0] > 0, 2 * (c[..., 1] > 0)], axis=-1), axis=-1)
        t = state["t"] + 1
        new = {"key": state["key"], "t": t, "c": self._context(state["key"], t)}
        done = t >= self.config.max_steps
        return Transition(new, {n: new["c"][:, i] for i, n in enumerate(self.agents)},
                          {n: reward[:, i] for i, n in enumerate(self.agents)},
                          {n: np.zeros_like(done) for n in self.agents}, {n: done for n in self.agents},
                          {"score": reward})

    def global_state(self, state):
        return state["c"].reshape(len(state["t"]), -1)

    def step_metrics(self, team_reward, infos):
        return {"reward": team_reward}


def _greedy_reward(policy, scenario: BatchedScenario, copies: int = 64) -> float:
    """Mean per-agent reward of ``policy`` over ``copies`` episodes (held-out seeds)."""
    runner = BatchRunner(scenario, copies)
    obs, total, slots = runner.reset(10_000), 0.0, 0
    for _ in range(scenario.config.max_steps):
        tr = runner.step(policy.act(obs, None))
        obs, total, slots = tr.observations, total + scenario.team_reward(tr.rewards).mean(), slots + 1
    return total / slots


def _train(scenario: BatchedScenario, env_steps: int, seed: int = 0, runs: int = 1, **hp):
    trainer = make_trainer("mappo", scenario, seed, runs, **{**SMALL, **hp})
    while trainer.slot < env_steps:
        trainer.step()
    return trainer


def test_value_norm_matches_hand_computed_debiased_statistics():
    norm = ValueNorm(2, beta=0.5)
    norm.update(torch.tensor([[1.0, 3.0], [2.0, 2.0]]))
    # learner 0: mean 2, E[x^2] 5 -> var 1; learner 1: var 0, clamped to 1e-2 (std 0.1).
    torch.testing.assert_close(norm.normalize(torch.tensor([[3.0], [2.5]])), torch.tensor([[1.0], [5.0]]))
    norm.update(torch.tensor([[4.0, 4.0], [2.0, 2.0]]))
    # m = 0.5 * 1 + 0.5 * 4 = 2.5, m2 = 0.5 * 2.5 + 0.5 * 16 = 9.25, d = 0.75.
    mean, var = norm.mean_var()
    torch.testing.assert_close(mean[0].item(), 2.5 / 0.75)
    torch.testing.assert_close(var[0].item(), 9.25 / 0.75 - (2.5 / 0.75) ** 2)
    x = torch.randn(2, 5)
    torch.testing.assert_close(norm.denormalize(norm.normalize(x)), x)


def test_gae_matches_a_hand_computed_rollout_with_a_truncation():
    rewards = torch.tensor([1.0, 2.0, 3.0])
    values = torch.tensor([0.5, 1.0, 1.5])
    next_values = torch.tensor([1.0, 4.0, 2.0])  # t=1 truncated: bootstrap from the final state's value 4
    dones = torch.tensor([0.0, 1.0, 0.0])
    adv, ret = gae(rewards, values, next_values, dones, gamma=0.5, lam=0.5)
    # deltas 1, 3, 2.5; A2 = 2.5, A1 = 3 (the episode ended), A0 = 1 + 0.25 * 3.
    torch.testing.assert_close(adv, torch.tensor([1.75, 3.0, 2.5]))
    torch.testing.assert_close(ret, torch.tensor([2.25, 4.0, 4.0]))


def test_truncated_copies_bootstrap_from_the_final_state_terminated_ones_do_not():
    trainer = _train(ContextualBandit("discrete", max_steps=3), 0, rollout_length=7)
    for _ in range(7):
        trainer.step()
    done = trainer.buffer["done"][:, 0, 0, 0]
    np.testing.assert_array_equal(done.numpy(), [0, 0, 1, 0, 0, 1, 0])
    bootstrap = trainer.buffer["bootstrap"][:, 0]
    assert (bootstrap[done.bool()] != 0).all() and (bootstrap[~done.bool()] == 0).all()


BETA = {"box_distribution": "beta"}


@pytest.mark.parametrize(("kind", "steps", "floor", "hp"), [("discrete", 2000, -0.1, {}), ("multidiscrete", 2000, -0.1, {}),
                                                            ("box", 16000, -0.06, {}), ("box", 16000, -0.01, BETA)],
                         ids=["discrete", "multidiscrete", "box", "box-beta"])
def test_toy_bandits_of_every_action_space_are_learned(kind, steps, floor, hp):
    """Optimum 0; uniform random play scores -0.67 (discrete), -0.58 (multidiscrete), -0.83 (box; the
    zero action -0.17). Measured over seeds 0-2: -0.025 or better (discrete, multidiscrete), -0.019
    (box, Gaussian head), -0.0009 to -0.0013 (box, Beta head; asserted -0.01)."""
    scenario = ContextualBandit(kind)
    trainer = _train(scenario, steps, num_envs=16, rollout_length=10, gamma=0.0, **hp)
    assert _greedy_reward(trainer.policy(0), scenario) > floor


def test_beta_head_actions_stay_inside_the_box_with_finite_log_probabilities():
    head = ActionHead(None, 0, False, (0.0, -3.0), (2.0, 5.0), "beta")
    assert head.out_dim == 4 and head.action_dim == 2 and head.beta and not head.gaussian
    # Network outputs from saturated to flat: alpha, beta from 1 (softplus underflow) to ~60.
    out = torch.tensor([[-200.0, -200.0, -200.0, -200.0], [60.0, -60.0, -60.0, 60.0], [0.0, 3.0, 3.0, 0.0],
                        [-60.0, 60.0, 60.0, -60.0]]).repeat(256, 1)
    noise = torch.from_numpy(streams.uniforms(streams.seed_key(np.array([0])), 0, 1, out.shape[0]).reshape(-1, 2))
    u = head.sample(out, None, noise.float())
    assert ((u > 0) & (u < 1)).all()
    logp, entropy = head.log_prob_entropy(out, None, u)
    assert torch.isfinite(logp).all() and torch.isfinite(entropy).all()
    mode = head.mode(out)
    np.testing.assert_allclose(mode[0], [0.5, 0.5])  # alpha = beta = 1: the mean, as documented
    np.testing.assert_allclose(mode[1], [1.0, 0.0], atol=1e-6)  # alpha = 61, beta = 1 and the reverse
    np.testing.assert_allclose(mode[3], [0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(mode[2, 0], np.log(2) / (np.log(2) + np.log1p(np.exp(3.0))), rtol=1e-5)
    for action in (u.numpy(), mode, np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]])):
        sent = head.to_env(action[:, None, :], ("a0",))["a0"]
        assert sent.dtype == np.float32 and (sent >= [0.0, -3.0]).all() and (sent <= [2.0, 5.0]).all()
    # Training: every stored action is a [0, 1] sample, every action sent is inside the Box.
    scenario = ContextualBandit("box")
    trainer = _train(scenario, 200, **BETA)
    stored = trainer.buffer["action"]
    assert ((stored > 0) & (stored < 1)).all() and trainer.actor.log_std is None


def test_short_training_on_multicell_beats_random_on_every_seed():
    """M = 3, 6,400 env steps per run: measured 1.57-2.23x random's EE over 8 seeds; asserted 1.3x."""
    scenario = make_scenario(ENV, num_cells=3, max_steps=20)
    trainer = _train(scenario, 6400, seed=0, runs=2, num_envs=8, rollout_length=20)
    random_ee = np.mean([evaluate(scenario, make_policy("random", scenario), 8, s).mean("ee") for s in (100, 101)])
    for run in range(2):
        ee = np.mean([evaluate(scenario, trainer.policy(run), 8, s).mean("ee") for s in (100, 101)])
        assert ee > 1.3 * random_ee, (run, ee, random_ee)


@pytest.mark.parametrize(("scenario", "hp"), [(make_scenario(ENV, num_cells=3), {}), (ContextualBandit("box"), {}),
                                              (ContextualBandit("box"), BETA)], ids=["multicell", "box", "box-beta"])
def test_saved_policy_file_gives_identical_deterministic_actions(scenario, hp, tmp_path):
    trainer = _train(scenario, 200, **hp)
    save_policy(trainer.policy_state(0), tmp_path / "p.pt")
    live, loaded = trainer.policy(0), load_policy(tmp_path / "p.pt", scenario)
    assert loaded.config.box_distribution == hp.get("box_distribution", "gaussian")
    assert isinstance(loaded, Policy) and loaded.supports(scenario.env_id) and not loaded.uses_global_state
    runner = BatchRunner(scenario, 32)
    obs = runner.reset(3)
    a, b = live.act(obs, None), loaded.act(obs, None)
    for agent in scenario.agents:
        np.testing.assert_array_equal(a[agent], b[agent])
        assert scenario.action_space(agent).contains(a[agent][0])
    for _ in range(50):  # training on does not change the policy taken before
        trainer.step()
    assert all(np.array_equal(a[agent], live.act(obs, None)[agent]) for agent in scenario.agents)


RESUME_CASES = {
    "multicell-shared": (ENV, {"num_cells": 2, "max_steps": 10}, {"parameter_sharing": True}, "ee"),
    "multicell-separate": (ENV, {"num_cells": 2, "max_steps": 10}, {"parameter_sharing": False}, "ee"),
    "auction-beta": ("SemCom-IoTAuction-v0", {"num_devices": 2, "valuation": "uniform", "max_steps": 10}, BETA, "revenue"),
    "auction-memory": ("SemCom-IoTAuction-v2", {"num_devices": 3, "max_steps": 7}, {**BETA, "memory": "episode_mean"},
                       "regret"),
}


@pytest.mark.parametrize("case", list(RESUME_CASES))
def test_resume_after_an_interruption_continues_the_same_run(case, tmp_path):
    env, env_kwargs, hp, metric = RESUME_CASES[case]
    kwargs = dict(env_kwargs=env_kwargs, runs=2, log_every=40, checkpoint_every=80,
                  hyperparameters={**SMALL, "critic_input": "agent_specific", **hp}, progress=False, tensorboard=False)
    train("mappo", env, 400, 3, tmp_path / "straight", **kwargs)
    train("mappo", env, 400, 3, tmp_path / "resumed", stop_after=150, **kwargs)  # "killed" mid-rollout
    meta = train("mappo", env, 400, 3, tmp_path / "resumed", resume=True, **kwargs)
    assert meta["steps_done"] == 400 and meta["learning_steps"] == 10
    curves = [list(csv.DictReader((tmp_path / d / "curve.csv").open())) for d in ("straight", "resumed")]
    assert len(curves[0]) == 2 * 400 // 40 and curves[0] == curves[1]
    assert {"policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction", "explained_variance", "lr",
            "reward", metric} <= set(curves[0][0])
    for seed in (3, 4):
        a, b = (torch.load(policy_path(tmp_path / d, seed), weights_only=True)["weights"] for d in ("straight", "resumed"))
        for name in a:
            torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)


BATCH_CASES = {"shared": (lambda: make_scenario(ENV, num_cells=3, max_steps=10), {"parameter_sharing": True}),
               "separate": (lambda: make_scenario(ENV, num_cells=3, max_steps=10), {"parameter_sharing": False}),
               "box-beta": (lambda: ContextualBandit("box"), BETA),
               "discrete": (lambda: ContextualBandit("discrete"), {}),
               "memory": (lambda: ContextualBandit("box"), {"memory": "episode_mean"})}


@pytest.mark.parametrize("case", list(BATCH_CASES))
def test_runs_in_a_batch_do_not_interact(case):
    """Exact by construction, on any CPU: run 1's numbers depend only on its own data. With run 0's
    rewards shifted, every tensor keeps its shape and layout, so every kernel (MKL's batched GEMM,
    ATen's reductions) computes run 1's entries in the same order from the same values; one thread
    (the fixture) keeps that order fixed. Any cross-run coupling (a shared normalisation, a joint
    gradient clip, a shared random stream) would change run 1."""
    make, hp = BATCH_CASES[case]
    plain = _train(make(), 400, seed=5, runs=2, **hp)
    shifted = _train(ShiftedRewards(make(), copies=SMALL["num_envs"]), 400, seed=5, runs=2, **hp)
    a, b = plain.policy_state(1)["weights"], shifted.policy_state(1)["weights"]
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)
    assert any(not torch.equal(x, y) for x, y in zip(plain.policy_state(0)["weights"].values(),
                                                    shifted.policy_state(0)["weights"].values()))


@pytest.mark.parametrize("case", list(BATCH_CASES))
def test_a_run_trained_alone_is_its_run_in_a_batch_at_the_first_update(case):
    """Approximate: alone and in a batch, the kernels see a learner axis of 1 or 2, and MKL (e.g. its
    AVX-512 batched GEMM on Intel) and ATen's reductions may order sums differently, so the runs
    agree up to float32 rounding, which PPO's later updates amplify chaotically (measured after 10
    updates: up to 2.9e-4 with Intel's AVX-512 kernels, 2.4e-7 on AMD). So compare after the first
    update, where rounding has not been amplified (measured: identical on AMD EPYC, emulated Intel
    AVX-512 and AVX2, and MKL_CBWR=COMPATIBLE). Tolerance: the update is S = ppo_epoch *
    num_mini_batch = 10 Adam steps, each moving a weight by at most c * lr (c <= 3 for Adam's
    normalised step, lr = 7e-4). If the two computations differ only by rounding, their update
    directions agree to a relative delta far below 1e-3 (float32's 6e-8 amplified a thousandfold),
    so weights differ by at most S * c * lr * 1e-3 = 2.1e-5; any difference in the algorithm (seeds,
    learning rate, a normalisation over runs) changes update directions by O(1), i.e. weights by
    O(lr) = 7e-4 and more."""
    make, hp = BATCH_CASES[case]
    rollout = SMALL["num_envs"] * SMALL["rollout_length"]
    together = _train(make(), rollout, seed=5, runs=2, **hp)
    alone = _train(make(), rollout, seed=6, runs=1, **hp)
    assert together.learning_steps == alone.learning_steps == 1
    tolerance = together.config.ppo_epoch * together.config.num_mini_batch * 3 * together.config.actor_lr * 1e-3
    a, b = together.policy_state(1)["weights"], alone.policy_state(0)["weights"]
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=tolerance)


def test_bad_hyperparameters_and_unsupported_spaces_raise_clear_errors(tmp_path):
    scenario = make_scenario(ENV, num_cells=3)
    with pytest.raises(ConfigError, match="gama.*accepted"):
        make_trainer("mappo", scenario, 0, gama=0.9)
    with pytest.raises(ConfigError, match="clip"):
        make_trainer("mappo", scenario, 0, clip=0.0)
    with pytest.raises(ConfigError, match="critic_input"):
        make_trainer("mappo", scenario, 0, critic_input="local")
    with pytest.raises(ConfigError, match="box_distribution='uniform' is invalid: must be one of 'gaussian', 'beta'"):
        make_trainer("mappo", scenario, 0, box_distribution="uniform")
    with pytest.raises(ConfigError, match="num_mini_batch"):
        make_trainer("mappo", scenario, 0, num_envs=2, rollout_length=3, num_mini_batch=7)
    with pytest.raises(ConfigError, match="preset"):
        make_trainer("mappo", scenario, 0, preset="nope")
    with pytest.raises(ConfigError, match="memory='gru' is invalid: must be one of 'none', 'episode_mean'"):
        make_trainer("mappo", scenario, 0, memory="gru")
    with pytest.raises(ValueError, match="mappo cannot act here .*MultiBinary.*agents that act in it: none"):
        make_trainer("mappo", ContextualBandit("multibinary"), 0)
    trainer = make_trainer("mappo", scenario, 0, preset="offloading-source", gamma=0.9)
    assert trainer.config.gamma == 0.9 and trainer.config.clip == OFFLOADING_SOURCE["clip"] == 0.3
    save_policy(trainer.policy_state(0), tmp_path / "p.pt")
    with pytest.raises(ValueError, match="does not fit"):
        load_policy(tmp_path / "p.pt", make_scenario(ENV, num_cells=4))


@pytest.mark.parametrize("action_type", ["discrete", "continuous"])
def test_mappo_learns_to_offload_on_the_offloading_scenario(action_type):
    # Measured (4 seeds, 8,192 env steps, source preset): team reward -0.173 to -0.176 in both variants,
    # against random -0.82, local_only -1.0 and the exhaustive optimum about -0.174.
    sc = make_scenario("SemCom-Offloading-v0", action_type=action_type, max_steps=20)
    trainer = make_trainer("mappo", sc, 0, runs=2, preset="offloading-source")
    while trainer.slot < 8192:
        trainer.step()
    random_reward = np.mean([evaluate(sc, make_policy("random", sc), 8, s).mean("reward") for s in (100, 101)])
    for run in range(2):
        reward = np.mean([evaluate(sc, trainer.policy(run), 8, s).mean("reward") for s in (100, 101)])
        assert reward > -0.25 > random_reward


def test_shared_reward_gives_every_agent_the_team_reward():
    """``shared_reward=True`` stores the team reward (the mean of the agents' rewards) for every agent. Both trainers
    act identically until their first update, so the first rollout of the default trainer holds the same slots'
    own rewards; they are float32 casts, and the team reward is the float32 cast of their float64 mean, so the two
    agree to the rounding of the casts: 2**-23 of the largest reward."""
    scenario = make_scenario("SemCom-CDRL-v1")
    own, shared = (make_trainer("mappo", scenario, 0, 1, num_envs=2, rollout_length=5, shared_reward=s) for s in (False, True))
    for trainer in (own, shared):
        for _ in range(4):  # the rollout's first 4 slots: no update yet
            trainer.step()
    mine, team = own.buffer["reward"][:4].numpy(), shared.buffer["reward"][:4].numpy()  # (slots, runs, agents, copies)
    assert np.ptp(mine, axis=2).max() > 0  # the targets' own rewards differ
    np.testing.assert_array_equal(team, np.broadcast_to(team[:, :, :1], team.shape))  # one reward for all agents
    np.testing.assert_allclose(team, np.broadcast_to(mine.mean(axis=2, keepdims=True), team.shape), rtol=0,
                               atol=2.0**-23 * np.abs(mine).max())
    with pytest.raises(ConfigError, match="shared_reward='yes' is invalid: must be True or False"):
        make_trainer("mappo", scenario, 0, shared_reward="yes")


def test_learn_ranked_metric_gives_every_agent_the_ranked_metric():
    """``learn_ranked_metric=True`` stores the scenario's primary metric of each slot for every agent, negated where
    lower is better: on SemCom-IoTAuction-v1 minus the slot's mean regret over the devices (recorded here from the
    scenario's own infos), exactly (the same float64 mean, cast once)."""
    from semcom_envs.scenarios.iot_auction import IoTAuctionV1

    class Recording(IoTAuctionV1):
        regrets: ClassVar[list[np.ndarray]] = []

        def step(self, state, actions):
            tr = super().step(state, actions)
            self.regrets.append(tr.infos["regret"])
            return tr

    scenario = Recording()
    trainer = make_trainer("mappo", scenario, 0, 1, num_envs=2, rollout_length=5, learn_ranked_metric=True)
    for _ in range(4):  # no update yet
        trainer.step()
    stored = trainer.buffer["reward"][:4].numpy()  # (slots, runs, agents, copies)
    expected = np.stack([-r.mean(axis=1) for r in Recording.regrets]).astype(np.float32)  # (slots, copies)
    assert np.abs(expected).max() > 0  # the bids leave regret: the test can tell
    np.testing.assert_array_equal(stored, np.broadcast_to(expected[:, None, None, :], stored.shape))
    with pytest.raises(ConfigError, match="exclusive"):
        make_trainer("mappo", scenario, 0, shared_reward=True, learn_ranked_metric=True)


def test_episode_mean_memory_restarts_each_copy_with_its_episode():
    """The memory's features by hand: ``(o, mean of o since the copy's episode began, 1 / t)``; a copy that begins an
    episode forgets the last one and the others do not. Exact: float32 sums of the same numbers in the same order."""
    memory = EpisodeMeanMemory("episode_mean")
    o = [torch.tensor([[[[1.0, -2.0], [3.0, 0.5]]]]) * (k + 1) for k in range(3)]  # (1 run, 1 agent, 2 copies, 2)
    x = memory.start(o[0])
    assert x.shape == (1, 1, 2, 5) and memory.input_dim(2) == 5
    x = memory.advance(o[1])
    torch.testing.assert_close(x[..., 2:4], (o[0] + o[1]) / 2, rtol=0, atol=0)
    assert (x[..., 4] == 0.5).all()
    peeked = memory.peek(o[2])
    x = memory.advance(o[2], torch.tensor([False, True]).view(1, 1, 2, 1))  # copy 1 begins an episode at o[2]
    torch.testing.assert_close(x[:, :, 0], peeked[:, :, 0], rtol=0, atol=0)
    torch.testing.assert_close(x[:, :, 0, 2:4], (o[0] + o[1] + o[2])[:, :, 0] / 3, rtol=0, atol=0)
    torch.testing.assert_close(x[:, :, 1, 2:], torch.cat([o[2][:, :, 1], torch.ones(1, 1, 1)], dim=-1), rtol=0, atol=0)
    assert EpisodeMeanMemory("none").start(o[0]) is o[0]
    with pytest.raises(ValueError, match="begin the episodes first"):
        memory.advance(torch.zeros(1, 1, 3, 2))


def test_memory_actor_sees_the_mean_of_its_episode_so_far_in_training():
    """In the trainer, the stored actor input of every slot holds the slot's observation, the float32 mean of the
    copy's observations since its episode began (episodes of 5 slots) and ``1 / t``: recomputed from the stored
    observations, exactly."""
    trainer = make_trainer("mappo", ContextualBandit("box"), 0, 1, num_envs=3, rollout_length=12,
                           memory="episode_mean")
    for _ in range(11):  # no update yet: the buffer holds slots 0-10
        trainer.step()
    stored = trainer.buffer["obs"][:11]  # (slots, runs, agents, copies, 2 * 2 + 1)
    total = torch.zeros_like(stored[0, ..., :2])
    for slot in range(11):
        t = slot % 5 + 1  # the bandit's episodes last 5 slots, every copy's together
        total = stored[slot, ..., :2] if t == 1 else total + stored[slot, ..., :2]
        torch.testing.assert_close(stored[slot, ..., 2:4], total / t, rtol=0, atol=0)
        assert (stored[slot, ..., 4] == np.float32(1 / t)).all()


def test_memory_policy_remembers_each_copy_as_alone_and_forgets_at_reset(tmp_path):
    """A trained memory policy (saved and loaded) keeps each copy's memory as if the copy were alone (exactly: the
    same float32 sums), ``reset`` begins new episodes (replaying the same observations gives the same actions), and
    the memory changes the action (slot 0's observations again at slot 2). Actions of a batch and of one copy are
    not compared: the network's matrix products may round differently for another batch size."""
    scenario = ContextualBandit("box", max_steps=6)
    trainer = _train(scenario, 400, memory="episode_mean")
    save_policy(trainer.policy_state(0), tmp_path / "p.pt")
    policy = load_policy(tmp_path / "p.pt", scenario)
    runner = BatchRunner(scenario, 4)
    obs = [runner.reset(3)]
    for _ in range(5):
        obs.append(runner.step({a: np.zeros((4, 2), np.float32) for a in scenario.agents}).observations)

    def play(copies: slice, slots: tuple[int, ...] = tuple(range(6))) -> tuple[list, list]:
        policy.reset()
        actions, memories = [], []
        for k in slots:
            actions.append(policy.act({a: obs[k][a][copies] for a in scenario.agents}, None))
            memories.append((policy.memory.sums.clone(), policy.memory.count.clone()))
        return actions, memories

    actions, memories = play(slice(None))
    for c in range(4):
        for (sums, count), (sums_c, count_c) in zip(memories, play(slice(c, c + 1))[1]):
            torch.testing.assert_close(sums_c, sums[:, :, c:c + 1], rtol=0, atol=0)
            torch.testing.assert_close(count_c, count[:, :, c:c + 1], rtol=0, atol=0)
    replay, _ = play(slice(None))
    assert all(np.array_equal(x[a], y[a]) for x, y in zip(actions, replay) for a in scenario.agents)
    again, _ = play(slice(None), (0, 1, 0))
    assert any(not np.array_equal(again[2][a], actions[0][a]) for a in scenario.agents)  # the memory differs
