"""DQN and DRQN: batched learners, checkpoints, resume, and learning that beats random."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from semcom_agents import load_policy, make_trainer
from semcom_agents.qlearning import BatchedLSTM, QConfig, SpaceCodec
from semcom_agents.training import policy_path, train
from semcom_baselines import Policy, make_policy
from semcom_envs.config import ConfigError
from semcom_envs.evaluation import evaluate
from semcom_envs.registration import make_scenario
from tests.agents.helpers import ShiftedRewards

ENV = "SemCom-MultiCell-v0"
SMALL_DRQN = {"lstm_hidden": 16, "encoder": 8, "head": 8}
"""A narrow DRQN: the same code paths as the paper's size, a fraction of the cost."""


def _trainer(agent: str, slots: int, seed: int = 0, runs: int = 1, cells: int = 3, scenario=None, **hp):
    hp = {**(SMALL_DRQN if agent == "drqn" else {}), "learning_starts": 64, **hp}
    trainer = make_trainer(agent, scenario or make_scenario(ENV, num_cells=cells, max_steps=50), seed, runs, **hp)
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
    """The same function as torch's fused LSTM (gate order, biases), checked in float64 so that the
    two implementations' different summation orders cannot matter: each gate pre-activation sums
    K = 10 terms of size <= 0.5 * 4 (weights U[-0.5, 0.5], inputs N(0, 1) below 4), so its rounding
    error is at most K * 2^-53 * 20 = 2.2e-14; six recurrent steps multiply an input error by at most
    (1 + sum |W_hh| <= 9)^6 = 5.3e5: 1.2e-8 in all, against a tolerance of 1e-7. A wrong gate order or
    bias changes outputs by O(0.1)."""
    torch.manual_seed(0)
    ours = BatchedLSTM(learners=2, fan_in=5, hidden=4).double()
    for p in ours.parameters():
        torch.nn.init.uniform_(p, -0.5, 0.5)
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64).clamp(-4.0, 4.0)
    for learner in range(2):
        ref = torch.nn.LSTM(5, 4, batch_first=True).double()
        # torch's gate order is (input, forget, cell, output); ours is (input, forget, output, cell).
        order = torch.cat([torch.arange(0, 8), torch.arange(12, 16), torch.arange(8, 12)])
        with torch.no_grad():
            ref.weight_ih_l0.copy_(ours.w_ih[learner].T[order])
            ref.weight_hh_l0.copy_(ours.w_hh[learner].T[order])
            ref.bias_ih_l0.copy_(ours.bias[learner, 0][order])
            ref.bias_hh_l0.zero_()
        expected = ref(x[learner])[0][:, -1]
        torch.testing.assert_close(ours(x)[learner], expected, rtol=0, atol=1e-7)


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
    from semcom_agents.qlearning import save_policy

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


@pytest.mark.parametrize(("agent", "num_envs"), [("dqn", 1), ("drqn", 1), ("dqn", 4), ("drqn", 5)])
def test_resume_after_an_interruption_continues_the_same_run(agent, num_envs, tmp_path):
    kwargs = dict(env_kwargs={"num_cells": 2, "max_steps": 40}, runs=2, log_every=50, checkpoint_every=100,
                  hyperparameters={**(SMALL_DRQN if agent == "drqn" else {}), "learning_starts": 32, "num_envs": num_envs},
                  progress=False, tensorboard=False)
    train(agent, ENV, 400, 3, tmp_path / "straight", **kwargs)
    train(agent, ENV, 400, 3, tmp_path / "resumed", stop_after=230, **kwargs)  # "killed" after slot 230
    with pytest.raises(ValueError, match="resume"):
        train(agent, ENV, 400, 3, tmp_path / "resumed", **kwargs)
    with pytest.raises(ValueError, match="beyond steps=200"):  # a lowered budget cannot reuse a longer run
        train(agent, ENV, 200, 3, tmp_path / "resumed", resume=True, **kwargs)
    meta = train(agent, ENV, 400, 3, tmp_path / "resumed", resume=True, **kwargs)
    assert meta["steps_done"] == 400
    curves = [list(csv.DictReader((tmp_path / d / "curve.csv").open())) for d in ("straight", "resumed")]
    assert len(curves[0]) == 2 * 400 // 50 and curves[0] == curves[1]
    for seed in (3, 4):
        a, b = (torch.load(policy_path(tmp_path / d, seed), weights_only=True)["weights"] for d in ("straight", "resumed"))
        for name in a:
            torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)


def _scenario(cells: int = 3):
    return make_scenario(ENV, num_cells=cells, max_steps=50)


@pytest.mark.parametrize("agent", ["dqn", "drqn"])
def test_runs_in_a_batch_do_not_interact(agent):
    """Exact by construction, on any CPU: run 1's numbers depend only on its own data. With run 0's
    rewards shifted, every tensor keeps its shape and layout, so every kernel computes run 1's
    entries in the same order from the same values (one thread: the fixture)."""
    plain = _trainer(agent, 400, seed=5, runs=2)
    shifted = _trainer(agent, 400, seed=5, runs=2, scenario=ShiftedRewards(_scenario(), copies=1))
    a, b = plain.policy_state(1)["weights"], shifted.policy_state(1)["weights"]
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)
    assert any(not torch.equal(x, y) for x, y in zip(plain.policy_state(0)["weights"].values(),
                                                    shifted.policy_state(0)["weights"].values()))


@pytest.mark.parametrize("agent", ["dqn", "drqn"])
def test_a_run_trained_alone_is_its_run_in_a_batch_at_the_first_learning_step(agent):
    """Approximate: alone and in a batch, kernels see learner axes of different sizes and may round
    differently; later, one rounding-level difference can flip a greedy argmax and the runs part
    (measured identical over 336 learning steps on AMD and emulated Intel AVX-512, but nothing
    guarantees it). So compare after the first learning step. Tolerance: one RMSProp step moves a
    weight by at most lr / sqrt(1 - alpha) = 1.6e-3 (its first step normalises the gradient by
    sqrt((1 - alpha) g^2)); computations that differ only by rounding agree on its direction to a
    relative delta far below 1e-3, so weights differ by at most 1.6e-6, while any difference in the
    algorithm (seeds, replay sampling, learning rate) changes the step by O(1), i.e. O(1e-3)."""
    slots = 64 + 1  # learning_starts random slots, then one learning step
    together = _trainer(agent, slots, seed=5, runs=2)
    alone = _trainer(agent, slots, seed=6, runs=1)
    assert together.learning_steps == alone.learning_steps == 1
    cfg = together.config
    tolerance = cfg.learning_rate / (1.0 - cfg.rmsprop_alpha) ** 0.5 * 1e-3
    a, b = together.policy_state(1)["weights"], alone.policy_state(0)["weights"]
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=tolerance)


@pytest.mark.parametrize("agent", ["dqn", "drqn"])
def test_many_copies_per_run_are_seeded_apart_learn_on_schedule_and_keep_runs_apart(agent):
    """``num_envs = 4``: copy e of run r is the environment seeded (seed + r) * 4 + e; the learning steps that
    fall due in each trainer step's 4 slots are made (train_frequency = 3: the steps at multiples of 3
    after learning_starts); shifting run 0's rewards (its 4 copies) leaves run 1 exactly unchanged."""
    from semcom_envs.api.runner import BatchRunner

    e, runs, seed = 4, 2, 5
    trainer = make_trainer(agent, _scenario(), seed, runs, **SMALL_DRQN if agent == "drqn" else {},
                           learning_starts=64, num_envs=e, train_frequency=3)
    runner = BatchRunner(_scenario(), runs * e)
    expected = trainer.codec.encode(runner.reset([(seed + r) * e + i for r in range(runs) for i in range(e)]))
    np.testing.assert_array_equal(trainer.window[:, :, -1], expected)
    for _ in range(100):
        trainer.step()
    assert trainer.slot == 400 and trainer.learning_steps == 400 // 3 - 64 // 3
    shifted = make_trainer(agent, ShiftedRewards(_scenario(), copies=e), seed, runs, **SMALL_DRQN if agent == "drqn" else {},
                           learning_starts=64, num_envs=e, train_frequency=3)
    for _ in range(100):
        shifted.step()
    a, b = trainer.policy_state(1)["weights"], shifted.policy_state(1)["weights"]
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)
    assert any(not torch.equal(x, y) for x, y in zip(trainer.policy_state(0)["weights"].values(),
                                                    shifted.policy_state(0)["weights"].values()))


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
    with pytest.raises(ConfigError, match="num_envs"):
        make_trainer("dqn", scenario, 0, num_envs=501)  # more than replay_size transitions per step
    with pytest.raises(ValueError, match="unknown agent"):
        make_trainer("ppo2", scenario, 0)
    trainer = _trainer("dqn", 10)
    from semcom_agents.qlearning import save_policy

    save_policy(trainer.policy_state(0), tmp_path / "p.pt")
    with pytest.raises(ValueError, match="does not fit"):
        load_policy(tmp_path / "p.pt", make_scenario(ENV, num_cells=4))
    with pytest.raises(ValueError, match="does not exist"):
        load_policy(tmp_path / "missing.pt", scenario)


def test_bf16_matmul_falls_back_to_float32_with_a_warning_where_the_cpu_lacks_native_bfloat16(monkeypatch):
    """Emulated bfloat16 costs a DRQN learning step about 8x (docs/performance.md): without native support the
    learning steps run in float32, exactly as with ``bf16_matmul=False``, and the trainer says so."""
    import semcom_agents.qlearning as qlearning

    monkeypatch.setattr(qlearning, "native_bf16", lambda: False)
    with pytest.warns(UserWarning, match="no native bfloat16"):
        fallback = _trainer("drqn", 80, bf16_matmul=True)
    plain = _trainer("drqn", 80, bf16_matmul=False)
    assert not fallback.bf16 and fallback.learning_steps == plain.learning_steps > 0
    for a, b in zip(fallback.online.parameters(), plain.online.parameters(), strict=True):
        assert torch.equal(a, b)  # the same float32 arithmetic, bit for bit
    monkeypatch.setattr(qlearning, "native_bf16", lambda: True)
    assert _trainer("drqn", 0, bf16_matmul=True).bf16
