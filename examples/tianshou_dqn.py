"""Tianshou DQN on SemCom-MultiCell-v1: one deep Q-network per base station, through tianshou's PettingZoo pattern.

tianshou trains multi-agent PettingZoo envs in their AEC form (agents act in turn) wrapped in its
``PettingZooEnv``, with one algorithm per agent dispatched by ``MultiAgentOffPolicyAlgorithm`` and
filled by an ordinary ``Collector``. The scenario's ``Discrete`` variant (``flat_actions=True``:
``Discrete(20 Q)``, action ``level * 20 + k - 1``) is wrapped in
:class:`semcom_envs.api.action_mask.ActionMaskWrapper`, which adds PettingZoo's ``action_mask`` to
each observation; ``PettingZooEnv`` turns it into the ``mask`` that tianshou's DQN obeys (all
actions are legal here).

Rewards arrive once per slot, at the turn of the last agent (the slot is simulated when every
base station has chosen), so each DQN uses an n-step return over one full round of turns
(``n = number of agents``) and a per-turn discount ``gamma ** (1 / n)``: agent i's target is then
its own reward of the slot plus the discounted value of its own next observation.

Run it (the defaults take about a minute and a half on one CPU core)::

    python examples/tianshou_dqn.py
    python examples/tianshou_dqn.py --total-steps 600 --epochs 2 --num-cells 3 --max-steps 10

``--total-steps`` counts tianshou's env steps, i.e. turns: one per agent per slot.
"""

from __future__ import annotations

import argparse
import logging

import numpy as np
import torch
from tianshou.algorithm import DQN, MultiAgentOffPolicyAlgorithm
from tianshou.algorithm.modelfree.dqn import DiscreteQLearningPolicy
from tianshou.algorithm.optim import AdamOptimizerFactory
from tianshou.data import Collector, CollectStats, VectorReplayBuffer
from tianshou.env import DummyVectorEnv
from tianshou.env.pettingzoo_env import PettingZooEnv
from tianshou.trainer import OffPolicyTrainerParams
from tianshou.utils.net.common import Net

from semcom_envs import multicell_v1
from semcom_envs.api.action_mask import ActionMaskWrapper
from semcom_envs.api.parallel import aec_from_parallel


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-steps", type=int, default=21_000, help="training turns (one per agent per slot)")
    parser.add_argument("--epochs", type=int, default=3, help="the training turns are split into this many epochs, each tested")
    parser.add_argument("--num-cells", type=int, default=7, help="base stations (agents); 7 in the benchmark task")
    parser.add_argument("--max-steps", type=int, default=100, help="slots per episode; 100 in the benchmark task")
    parser.add_argument("--train-envs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    # 1. The env as tianshou wants it: AEC, observations carrying PettingZoo's action mask.
    def make_env() -> PettingZooEnv:
        parallel = multicell_v1.parallel_env(num_cells=args.num_cells, max_steps=args.max_steps, flat_actions=True)
        return PettingZooEnv(aec_from_parallel(ActionMaskWrapper(parallel)))

    env = make_env()
    n_agents = len(env.agents)
    # Episode returns are per agent, (episodes, agents); tianshou's statistics flatten them, warning each time.
    logging.getLogger("tianshou.data.stats").setLevel(logging.ERROR)
    obs_shape, n_actions = env.observation_space["observation"].shape, int(env.action_space.n)
    train_envs = DummyVectorEnv([make_env for _ in range(args.train_envs)])
    test_envs = DummyVectorEnv([make_env])
    train_envs.seed(args.seed)  # copy i gets seed + i
    test_envs.seed(args.seed + 10_000)

    # 2. One DQN per base station; n-step returns over one round of turns (see the docstring).
    algorithms = []
    for _ in range(n_agents):
        net = Net(state_shape=obs_shape, action_shape=n_actions, hidden_sizes=[128, 128])
        policy = DiscreteQLearningPolicy(model=net, action_space=env.action_space, eps_training=0.1, eps_inference=0.0)
        algorithms.append(DQN(policy=policy, optim=AdamOptimizerFactory(lr=1e-3), gamma=0.9 ** (1 / n_agents),
                              n_step_return_horizon=n_agents, target_update_freq=200))
    marl = MultiAgentOffPolicyAlgorithm(algorithms=algorithms, env=env)

    # 3. Collectors: exploration while training, the greedy policy on the test env.
    train_collector = Collector[CollectStats](marl, train_envs, VectorReplayBuffer(20_000, len(train_envs)),
                                              exploration_noise=True)
    test_collector = Collector[CollectStats](marl, test_envs)

    # 4. The trainer, epoch by epoch: collect 10 turns per env, then 1 gradient step per 10 turns on a sample
    #    that the dispatcher splits by agent (64 transitions per agent on average); test one greedy episode
    #    after each epoch (and once before training).
    trainer = marl.create_trainer(OffPolicyTrainerParams(
        training_collector=train_collector, test_collector=test_collector, max_epochs=args.epochs,
        epoch_num_steps=args.total_steps // args.epochs, collection_step_num_env_steps=10 * args.train_envs,
        test_step_num_episodes=1, batch_size=64 * n_agents, update_step_num_gradient_steps_per_sample=0.1,
        multi_agent_return_reduction=lambda returns: returns.mean(axis=1), verbose=False, show_progress=False))
    trainer.reset()
    losses: dict[str, float] = {}
    test_return = float("nan")
    for _ in range(args.epochs):
        epoch = trainer.execute_epoch()
        if epoch.training_stat is not None:
            losses = epoch.training_stat.get_loss_stats_dict()
        test_return = epoch.test_collect_stat.returns_stat.mean  # mean over agents, per the reduction above
        mean_loss = np.mean([v for k, v in losses.items() if k.endswith("loss")]) if losses else float("nan")
        print(f"epoch {epoch.epoch}: training turns {train_collector.collect_step}, "
              f"greedy test return per base station {test_return:.3f}, mean DQN loss {mean_loss:.4g}")

    # 5. For scale: uniformly random actions on as many episodes as were tested.
    rng, parallel = np.random.default_rng(args.seed), multicell_v1.parallel_env(num_cells=args.num_cells, max_steps=args.max_steps)
    random_total = 0.0
    for episode in range(args.epochs):
        obs, _ = parallel.reset(seed=args.seed + 10_000 if episode == 0 else None)
        while parallel.agents:
            obs, rewards, *_ = parallel.step({agent: rng.integers(0, parallel.action_space(agent).nvec) for agent in obs})
            random_total += sum(rewards.values())
    random_return = random_total / (args.epochs * n_agents)
    print(f"random actions: return per base station {random_return:.3f} (mean of {args.epochs} episodes)")
    return {"train_steps": train_collector.collect_step, "test_steps": test_collector.collect_step,
            "test_return": float(test_return), "random_return": random_return, "n_agents": n_agents, **losses}


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
