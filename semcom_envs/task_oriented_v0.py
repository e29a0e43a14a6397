"""PettingZoo-style versioned alias of SemCom-TaskOriented-v0: ``task_oriented_v0.env()`` (AEC),
``task_oriented_v0.parallel_env()``; config fields as keyword arguments (see
:mod:`semcom_envs.scenarios.task_oriented`)."""

from semcom_envs.api.parallel import pettingzoo_factories
from semcom_envs.scenarios.task_oriented import TaskOriented, TaskOrientedConfig

env, parallel_env = pettingzoo_factories(TaskOriented)

__all__ = ["TaskOriented", "TaskOrientedConfig", "env", "parallel_env"]
