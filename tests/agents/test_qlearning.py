"""DQN and DRQN: batched learners, checkpoints, resume, and learning that beats random."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from agents import load_policy, make_trainer
from agents.qlearning import BatchedLSTM, QConfig, SpaceCodec
from agents.training import policy_path, train
from baselines import Policy, make_policy
from semcom_envs.config import ConfigError
from semcom_envs.evaluation import evaluate
from semcom_envs.registration import make_scenario

ENV = "SemCom-MultiCell-v0"
SMALL_DRQN = {"lstm_hidden": 16, "encoder": 8, "head": 8}
"""A narrow DRQN: the same code paths as the paper's size, a fraction of the cost."""


def _trainer(agent: str, slots: int, seed: int = 0, runs: int = 1, cells: int = 3, **hp):
    hp = {**(SMALL_DRQN if agent == "drqn" else {}), "learning_starts": 64, **hp}
    trainer = make_trainer(agent, make_scenario(ENV, num_cells=cells, max_steps=50), seed, runs, **hp)
    for _ in range(slots):
        trainer.step()
    return trainer


def _observation_batch(cells: int, batch: int = 64) -> dict[str, np.ndarray]:
    """Observations from a few slots of random play (realistic values, many copies)."""
    scenario = make_scenario(ENV, num_cells=cells)
    from semcom_envs.api.runner import BatchRunner

    runner = BatchRunner(scenario, batch)
    runner.reset(7)
    rng = np.random.default_rng(0)
    tr = runner.step({a: np.stack([rng.integers(0, 7, batch), rng.integers(0, 20, batch)], axis=1) for a in scenario.agents})
    return tr.observations


def test_batched_lstm_equals_torch_lstm_with_the_same_weights():
    torch.manual_seed(0)
    ours = BatchedLSTM(learners=2, fan_in=5, hidden=4)
    for p in ours.parameters():
        torch.nn.init.uniform_(p, -0.5, 0.5)
    x = torch.randn(2, 3, 6, 5)
    for learner in range(2):
        ref = torch.nn.LSTM(5, 4, batch_first=True)
        # torch's gate order is (input, forget, cell, output); ours is (input, forget, output, cell).
        order = torch.cat([torch.arange(0, 8), torch.arange(12, 16), torch.arange(8, 12)])
        with torch.no_grad():
            ref.weight_ih_l0.copy_(ours.w_ih[learner].T[order])
            ref.weight_hh_l0.copy_(ours.w_hh[learner].T[order])
            ref.bias_ih_l0.copy_(ours.bias[learner, 0][order])
            ref.bias_hh_l0.zero_()
        expected = ref(x[learner])[0][:, -1]
        torch.testing.assert_close(ours(x)[learner], expected, rtol=1e-5, atol=1e-6)


def test_epsilon_follows_the_sources_schedule():
    cfg = QConfig()
    assert cfg.epsilon(0) == pytest.approx(0.6)
    assert cfg.epsilon(1000) == pytest.approx(0.6 / 1.0001**1000)
    assert cfg.epsilon(10**6) == 0.1


def test_flattened_multidiscrete_action_means_the_same_as_the_flat_actions_option():
    multi = make_scenario(ENV, num_cells=2)
    flat = make_scenario(ENV, num_cells=2, flat_actions=True)
    codec = SpaceCodec.for_scenario(multi)
    assert codec.n_actions == 140
    actions = np.array([[0, 139], [27, 64], [100, 5]])
    from semcom_envs.api.runner import BatchRunner

    infos = []
    for scenario, act in ((multi, codec.decode(actions)), (flat, {a: actions[:, i] for i, a in enumerate(flat.agents)})):
        runner = BatchRunner(scenario, 3)
        runner.reset(11)
        infos.append(runner.step(act).infos)
    for name in ("tx_power_w", "k", "ee"):
        np.testing.assert_array_equal(infos[0][name], infos[1][name])


@pytest.mark.parametrize("agent", ["dqn", "drqn"])
def test_saved_policy_file_gives_identical_greedy_actions(agent, tmp_path):
    trainer = _trainer(agent, 300)
    path = tmp_path / "p.pt"
    from agents.qlearning import save_policy

    save_policy(trainer.policy_state(0), path)
    scenario = make_scenario(ENV, num_cells=3)
    live, loaded = trainer.policy(0), load_policy(path, scenario)
    assert isinstance(loaded, Policy) and loaded.supports(ENV) and not loaded.uses_global_state
    obs = _observation_batch(3)
    for _ in range(3):  # DRQN: windows fill up identically
        a, b = live.act(obs, None), loaded.act(obs, None)
        for agent_name in scenario.agents:
            np.testing.assert_array_equal(a[agent_name], b[agent_name])
    # Training on does not change the policy taken before.
    live.reset()
    before = [live.act(obs, None) for _ in range(3)][-1]
    for _ in range(50):
        trainer.step()
    live.reset()
    after = [live.act(obs, None) for _ in range(3)][-1]
    assert all(np.array_equal(before[a], after[a]) for a in scenario.agents)


@pytest.mark.parametrize("agent", ["dqn", "drqn"])
def test_resume_after_an_interruption_continues_the_same_run(agent, tmp_path):
    kwargs = dict(env_kwargs={"num_cells": 2, "max_steps": 40}, runs=2, log_every=50, checkpoint_every=100,
                  hyperparameters={**(SMALL_DRQN if agent == "drqn" else {}), "learning_starts": 32},
                  progress=False, tensorboard=False)
    train(agent, ENV, 400, 3, tmp_path / "straight", **kwargs)
    train(agent, ENV, 400, 3, tmp_path / "resumed", stop_after=230, **kwargs)  # "killed" after slot 230
    with pytest.raises(ValueError, match="resume"):
        train(agent, ENV, 400, 3, tmp_path / "resumed", **kwargs)
    meta = train(agent, ENV, 400, 3, tmp_path / "resumed", resume=True, **kwargs)
    assert meta["steps_done"] == 400
    curves = [list(csv.DictReader((tmp_path / d / "curve.csv").open())) for d in ("straight", "resumed")]
    assert len(curves[0]) == 2 * 400 // 50 and curves[0] == curves[1]
    for seed in (3, 4):
        a, b = (torch.load(policy_path(tmp_path / d, seed), weights_only=True)["weights"] for d in ("straight", "resumed"))
        for name in a:
            torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)


def test_a_run_inside_a_batch_of_runs_is_the_run_trained_alone():
    together = _trainer("dqn", 400, seed=5, runs=2)
    alone = _trainer("dqn", 400, seed=6, runs=1)
    a, b = together.policy_state(1)["weights"], alone.policy_state(0)["weights"]
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5)
    assert together.curve == [] and together.slot == alone.slot == 400


@pytest.mark.parametrize("sharing", [False, True])
def test_short_training_beats_random_on_every_seed(sharing):
    """DQN at M = 3 after 3,000 slots (minutes of the paper's 100,000) already clears random by a wide margin."""
    trainer = _trainer("dqn", 3000, seed=0, runs=2, parameter_sharing=sharing)
    scenario = make_scenario(ENV, num_cells=3)
    random_ee = np.mean([evaluate(scenario, make_policy("random", scenario), 8, s).mean("ee") for s in (100, 101)])
    for run in range(2):
        ee = np.mean([evaluate(scenario, trainer.policy(run), 8, s).mean("ee") for s in (100, 101)])
        assert ee > 1.2 * random_ee, (run, ee, random_ee)


def test_bad_hyperparameters_and_mismatched_policies_raise_clear_errors(tmp_path):
    scenario = make_scenario(ENV, num_cells=3)
    with pytest.raises(ConfigError, match="gama.*accepted"):
        make_trainer("dqn", scenario, 0, gama=0.9)
    with pytest.raises(ConfigError, match="gamma"):
        make_trainer("dqn", scenario, 0, gamma=1.0)
    with pytest.raises(ConfigError, match="epsilon_end"):
        make_trainer("dqn", scenario, 0, epsilon_end=0.9)
    with pytest.raises(ValueError, match="unknown agent"):
        make_trainer("ppo2", scenario, 0)
    trainer = _trainer("dqn", 10)
    from agents.qlearning import save_policy

    save_policy(trainer.policy_state(0), tmp_path / "p.pt")
    with pytest.raises(ValueError, match="does not fit"):
        load_policy(tmp_path / "p.pt", make_scenario(ENV, num_cells=4))
    with pytest.raises(ValueError, match="does not exist"):
        load_policy(tmp_path / "missing.pt", scenario)
