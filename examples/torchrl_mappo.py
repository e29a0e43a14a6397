"""TorchRL multi-agent PPO (MAPPO) on SemCom-IoTAuction-v1: IoT devices learn to bid in a first-price auction.

The pattern of TorchRL's multi-agent PPO tutorial, on the suite's PettingZoo env: ``PettingZooWrapper``
groups the agents ``iot_0 .. iot_4`` into one group ``"iot"`` (the tensors of each agent stacked on
one axis); a ``MultiAgentMLP`` policy shared by all devices, each acting on its own observation,
outputs a ``TanhNormal`` over the normalised bid; a centralised critic reads every device's
observation (``centralised=True``) with one network per device (``share_params=False``: each device's
reward is its own utility, so one shared value would be wrong); ``ClipPPOLoss`` with GAE trains both
on the frames a ``Collector`` gathers. Afterwards the deterministic policy plays one episode.

Run it (the defaults take about a minute on one CPU core)::

    python examples/torchrl_mappo.py
    python examples/torchrl_mappo.py --total-frames 200 --frames-per-batch 100

A frame is one slot of the env (all devices bid at once).
"""

from __future__ import annotations

import argparse

import torch
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torchrl.collectors import Collector
from torchrl.data.replay_buffers import LazyTensorStorage, ReplayBuffer, SamplerWithoutReplacement
from torchrl.envs import RewardSum, TransformedEnv
from torchrl.envs.libs.pettingzoo import PettingZooWrapper
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import MultiAgentMLP, ProbabilisticActor, TanhNormal
from torchrl.objectives import ClipPPOLoss, ValueEstimators

from semcom_envs import iot_auction_v1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-frames", type=int, default=20_000, help="env steps (slots) to collect")
    parser.add_argument("--frames-per-batch", type=int, default=1_000, help="env steps per PPO iteration")
    parser.add_argument("--minibatch-size", type=int, default=250)
    parser.add_argument("--epochs", type=int, default=4, help="passes over each batch")
    parser.add_argument("--num-devices", type=int, default=5, help="IoT devices (agents); 5 in the benchmark task")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    torch.manual_seed(args.seed)

    # 1. The env: PettingZooWrapper groups agents named "<group>_<int>"; rewards summed per episode.
    env = PettingZooWrapper(env=iot_auction_v1.parallel_env(num_devices=args.num_devices), seed=args.seed)
    group = "iot"
    assert env.group_map == {group: [f"iot_{i}" for i in range(args.num_devices)]}
    env = TransformedEnv(env, RewardSum(in_keys=[(group, "reward")], out_keys=[(group, "episode_reward")]))
    n_agents, n_obs = args.num_devices, env.observation_spec[group, "observation"].shape[-1]
    action_spec = env.full_action_spec_unbatched[group, "action"]

    # 2. Policy: one MLP shared by all devices, each reading its own observation -> TanhNormal over its bid.
    policy_net = torch.nn.Sequential(
        MultiAgentMLP(n_agent_inputs=n_obs, n_agent_outputs=2 * action_spec.shape[-1], n_agents=n_agents,
                      centralised=False, share_params=True, depth=2, num_cells=64, activation_class=torch.nn.Tanh),
        NormalParamExtractor(),
    )
    policy = ProbabilisticActor(
        module=TensorDictModule(policy_net, in_keys=[(group, "observation")], out_keys=[(group, "loc"), (group, "scale")]),
        spec=env.full_action_spec_unbatched,
        in_keys=[(group, "loc"), (group, "scale")],
        out_keys=[(group, "action")],
        distribution_class=TanhNormal,
        distribution_kwargs={"low": action_spec.space.low, "high": action_spec.space.high},
        return_log_prob=True,
    )

    # 3. Critic: centralised (all observations), one network per device (their rewards differ).
    critic_net = MultiAgentMLP(n_agent_inputs=n_obs, n_agent_outputs=1, n_agents=n_agents, centralised=True,
                               share_params=False, depth=2, num_cells=64, activation_class=torch.nn.Tanh)
    critic = TensorDictModule(critic_net, in_keys=[(group, "observation")], out_keys=[(group, "state_value")])

    # 4. Collector, on-policy buffer, PPO loss with GAE (done flags read per agent, in the group).
    collector = Collector(env, policy, frames_per_batch=args.frames_per_batch, total_frames=args.total_frames,
                          auto_register_policy_transforms=False)  # a feed-forward policy needs no extra env transforms
    buffer = ReplayBuffer(storage=LazyTensorStorage(args.frames_per_batch), sampler=SamplerWithoutReplacement(),
                          batch_size=args.minibatch_size)
    loss_module = ClipPPOLoss(actor_network=policy, critic_network=critic, clip_epsilon=0.2, entropy_coeff=1e-3,
                              normalize_advantage=False)  # normalising would mix the agents' advantages
    loss_module.set_keys(reward=(group, "reward"), action=(group, "action"), value=(group, "state_value"),
                         done=(group, "done"), terminated=(group, "terminated"))
    loss_module.make_value_estimator(ValueEstimators.GAE, gamma=0.95, lmbda=0.95)
    optim = torch.optim.Adam(loss_module.parameters(), lr=3e-4)

    # 5. Training loop: advantages, then epochs of minibatches.
    frames, iterations, last = 0, 0, {}
    for batch in collector:
        with torch.no_grad():
            loss_module.value_estimator(batch, params=loss_module.critic_network_params,
                                        target_params=loss_module.target_critic_network_params)
        frames += batch.numel()
        buffer.extend(batch.reshape(-1))
        for _ in range(args.epochs):
            for _ in range(args.frames_per_batch // args.minibatch_size):
                losses = loss_module(buffer.sample())
                loss = losses["loss_objective"] + losses["loss_critic"] + losses["loss_entropy"]
                loss.backward()
                torch.nn.utils.clip_grad_norm_(loss_module.parameters(), 1.0)
                optim.step()
                optim.zero_grad()
        collector.update_policy_weights_()
        iterations += 1
        last = {name: losses[name].item() for name in ("loss_objective", "loss_critic", "loss_entropy")}
        done = batch["next", group, "done"].squeeze(-1).any(-1)
        if done.any():
            returns = batch["next", group, "episode_reward"][done].mean().item()
            print(f"iteration {iterations}: frames {frames}, mean episode return per device {returns:.3f}, "
                  + ", ".join(f"{k} {v:.4g}" for k, v in last.items()))
    collector.shutdown()

    # 6. The deterministic policy plays one episode (its mode: no sampling).
    with set_exploration_type(ExplorationType.DETERMINISTIC), torch.no_grad():
        episode = env.rollout(max_steps=10_000, policy=policy)
    evaluation = episode["next", group, "episode_reward"][-1].mean().item()
    print(f"deterministic policy: {episode.batch_size[0]} slots, mean episode return per device {evaluation:.3f}")
    return {"frames": frames, "iterations": iterations, **last, "eval_return": evaluation, "eval_steps": episode.batch_size[0]}


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
