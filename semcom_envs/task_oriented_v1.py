"""PettingZoo-style versioned alias of SemCom-TaskOriented-v1 (the benchmark task): ``task_oriented_v1.env()`` (AEC),
``task_oriented_v1.parallel_env()``; config fields as keyword arguments (see :mod:`semcom_envs.scenarios.task_oriented`)."""

from semcom_envs.api.parallel import pettingzoo_factories
from semcom_envs.scenarios.task_oriented import TaskOrientedConfig, TaskOrientedV1

env, parallel_env = pettingzoo_factories(TaskOrientedV1)

__all__ = ["TaskOrientedConfig", "TaskOrientedV1", "env", "parallel_env"]
