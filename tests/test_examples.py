"""The third-party examples (examples/*.py, docs/third-party.md), run for a few hundred steps each.

Each example's ``main(argv)`` runs in this process with small settings; the tests check what it
collected and trained on (step counts, finite losses, a policy that then plays the env), never how
fast. The SuperSuit problems that examples/sb3_supersuit.py works around are pinned here too, so a
SuperSuit release that fixes one fails its test and points at the docs to update. The RLlib example
needs Ray (the ``ray`` marker: run in the .venv-ray virtualenv).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch

from semcom_envs.scenarios import SCENARIOS
from tests.conftest import pettingzoo_module

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Notices of the libraries about themselves, not about the examples: TorchRL's PettingZoo version note
# (docs/third-party.md) and its deprecation of its own weight updaters, emitted when torchrl.collectors loads.
pytestmark = [pytest.mark.filterwarnings("ignore:PettingZoo in TorchRL is tested using version:UserWarning"),
              pytest.mark.filterwarnings("ignore:Creating .*WeightUpdater which inherits from WeightUpdaterBase:DeprecationWarning")]


def load_example(name: str) -> ModuleType:
    """``examples/<name>.py`` as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"semcom_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def assert_finite_losses(result: dict, names: tuple[str, ...]) -> None:
    for name in names:
        assert math.isfinite(result[name]), f"{name} = {result[name]}"


# --- stable-baselines3 + SuperSuit ---------------------------------------------------------------------------


SB3_ARGS = ["--total-steps", "300", "--copies", "2", "--num-cells", "3", "--max-steps", "10", "--n-steps", "25",
            "--eval-episodes", "1"]


def test_sb3_supersuit_example_trains_reproducibly_and_plays() -> None:
    """300 PPO timesteps over 2 copies x 3 agents; the hand-made seeding makes a second run identical."""
    example = load_example("sb3_supersuit")
    result = example.main(SB3_ARGS)
    assert result["n_envs"] == 6
    assert result["timesteps"] == 300  # two rollouts of 25 steps x 6 vector-env entries
    assert_finite_losses(result, ("loss", "value_loss", "policy_gradient_loss", "entropy_loss",
                                  "trained_return", "random_return"))
    assert example.main(SB3_ARGS) == result
    assert example.main([*SB3_ARGS, "--seed", "1"])["loss"] != result["loss"]


def test_supersuit_pad_action_space_rejects_multidiscrete() -> None:
    """Pinned: pad_action_space_v0 asserts on MultiDiscrete (so the example does not pad; docs/third-party.md)."""
    import supersuit as ss

    from semcom_envs import multicell_v1

    with pytest.raises(AssertionError, match="homogenization only supports Discrete and Box spaces"):
        ss.pad_action_space_v0(multicell_v1.parallel_env(num_cells=3))


def test_supersuit_black_death_hides_truncation() -> None:
    """Pinned: black_death_v3 ends an episode only when every agent is terminated AND truncated, so an
    episode that only truncates is reported as running and the next step raises (docs/third-party.md)."""
    import supersuit as ss

    from semcom_envs import multicell_v1

    env = ss.black_death_v3(multicell_v1.parallel_env(num_cells=3, max_steps=2))
    env.reset(seed=0)
    for _ in range(2):
        _, _, terms, truncs, _ = env.step({agent: env.action_space(agent).sample() for agent in env.agents})
    assert not any(terms.values()) and not any(truncs.values())  # the inner env truncated on this step
    assert env.agents and not env.unwrapped.agents
    with pytest.raises(RuntimeError, match="the episode is over"):
        env.step({agent: env.action_space(agent).sample() for agent in env.agents})


def test_supersuit_concat_vec_env_cannot_be_seeded_by_ppo() -> None:
    """Pinned: PPO(seed=...) calls seed() on the vector env, which concat_vec_envs_v1's lacks (docs/third-party.md)."""
    import supersuit as ss
    from stable_baselines3 import PPO

    from semcom_envs import multicell_v1

    venv = ss.pettingzoo_env_to_vec_env_v1(multicell_v1.parallel_env(num_cells=3, max_steps=10))
    venv = ss.concat_vec_envs_v1(venv, 2, num_cpus=0, base_class="stable_baselines3")
    with pytest.raises(AttributeError, match="'ConcatVecEnv' object has no attribute 'seed'"):
        PPO("MlpPolicy", venv, seed=0, n_steps=16, batch_size=48, device="cpu")


# --- TorchRL -----------------------------------------------------------------------------------------------------


def test_torchrl_mappo_example_collects_trains_and_plays() -> None:
    result = load_example("torchrl_mappo").main(["--total-frames", "200", "--frames-per-batch", "100",
                                                 "--minibatch-size", "50", "--epochs", "1", "--num-devices", "3"])
    assert result["frames"] == 200 and result["iterations"] == 2
    assert_finite_losses(result, ("loss_objective", "loss_critic", "loss_entropy", "eval_return"))
    assert result["eval_steps"] == 100  # one whole episode of SemCom-IoTAuction-v1


@pytest.mark.parametrize("env_id", sorted(SCENARIOS))
def test_torchrl_pettingzoo_wrapper_builds_every_scenario(env_id: str) -> None:
    """TorchRL groups agents ``<prefix>_<int>`` under ``<prefix>``; no prefix may be a key its specs reserve
    (``device``, ``shape``, ``dtype``, ``space``: an agent named ``device_0`` made ``PettingZooWrapper`` raise
    ``AttributeError: Composite[device] cannot be set``)."""
    from torchrl.envs.libs.pettingzoo import PettingZooWrapper

    parallel = pettingzoo_module(env_id).parallel_env()
    prefixes = {agent.rsplit("_", 1)[0] for agent in parallel.possible_agents}
    assert not prefixes & {"device", "shape", "dtype", "space"}
    env = PettingZooWrapper(env=parallel, seed=0)
    assert set(env.group_map) == prefixes
    rollout = env.rollout(3)
    assert rollout.batch_size == torch.Size([3])
    for group, agents in env.group_map.items():
        assert rollout["next", group, "reward"].shape == (3, len(agents), 1)


# --- tianshou ----------------------------------------------------------------------------------------------------


def test_tianshou_dqn_example_collects_trains_and_tests() -> None:
    result = load_example("tianshou_dqn").main(["--total-steps", "300", "--epochs", "1", "--num-cells", "3",
                                                "--max-steps", "10", "--train-envs", "2"])
    assert result["n_agents"] == 3
    assert result["train_steps"] == 300  # turns: 15 collection steps of 10 turns x 2 envs
    assert result["test_steps"] == 2 * 30  # a test episode (10 slots x 3 agents) before training and after the epoch
    losses = {k: v for k, v in result.items() if k.endswith("loss")}
    assert sorted(losses) == ["bs_0/loss", "bs_1/loss", "bs_2/loss"]
    assert_finite_losses(result, (*losses, "test_return"))


def test_tianshou_reads_the_action_mask() -> None:
    """tianshou's PettingZooEnv turns the wrapper's ``action_mask`` into the ``mask`` its DQN obeys."""
    from tianshou.env.pettingzoo_env import PettingZooEnv

    from semcom_envs import multicell_v1
    from semcom_envs.api.action_mask import ActionMaskWrapper
    from semcom_envs.api.parallel import aec_from_parallel

    env = PettingZooEnv(aec_from_parallel(ActionMaskWrapper(multicell_v1.parallel_env(num_cells=3, flat_actions=True))))
    obs, _ = env.reset(seed=0)
    assert obs["agent_id"] == "bs_0" and obs["mask"] == [True] * 140
    assert obs["obs"].shape == env.observation_space["observation"].shape
    obs, rewards, *_ = env.step(0)
    assert obs["agent_id"] == "bs_1" and len(rewards) == 3


# --- RLlib (the .venv-ray virtualenv) -----------------------------------------------------------------------------


@pytest.mark.ray
def test_rllib_ppo_example_trains_one_iteration() -> None:
    result = load_example("rllib_ppo").main(["--iterations", "1", "--train-batch-size", "200", "--num-cells", "3",
                                             "--max-steps", "10"])
    assert result["iterations"] == 1
    assert result["env_steps"] > 0
    assert_finite_losses(result, ("total_loss", "policy_loss", "vf_loss", "entropy", "episode_return_mean"))
