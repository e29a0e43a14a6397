"""semcom-envs: batched multi-agent RL environments for resource allocation in semantic communication.

Importing the package registers every scenario with Gymnasium::

    import gymnasium as gym
    import semcom_envs  # noqa: F401
    env = gym.make("SemCom-MultiCell-v0", num_cells=3)
    venv = gym.make_vec("SemCom-MultiCell-v0", num_envs=1024, vectorization_mode="vector_entry_point")

PettingZoo: ``from semcom_envs import multicell_v0; multicell_v0.parallel_env()``.
"""

from semcom_envs.api.core import ActionError
from semcom_envs.config import ConfigError
from semcom_envs.registration import make_gym_env, make_scenario, make_vector_env, register_all
from semcom_envs.scenarios import SCENARIOS

register_all()

__version__ = "0.2.0"
__all__ = ["SCENARIOS", "ActionError", "ConfigError", "make_gym_env", "make_scenario", "make_vector_env"]
