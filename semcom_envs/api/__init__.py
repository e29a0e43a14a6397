"""Adapters from the batched scenario core to PettingZoo and Gymnasium, written once for all scenarios."""

from semcom_envs.api.action_mask import ActionMaskWrapper
from semcom_envs.api.core import ActionError, BatchedScenario, Transition
from semcom_envs.api.gym_env import SemComGymEnv
from semcom_envs.api.parallel import SemComParallelEnv
from semcom_envs.api.vector import SemComVectorEnv

__all__ = ["ActionError", "ActionMaskWrapper", "BatchedScenario", "SemComGymEnv", "SemComParallelEnv", "SemComVectorEnv", "Transition"]
