"""PettingZoo-style versioned alias of SemCom-TaskOriented-v2 (image arrivals, deadlines, per-slot channels):
``task_oriented_v2.env()`` (AEC), ``task_oriented_v2.parallel_env()``; config fields as keyword arguments (see
:mod:`semcom_envs.scenarios.task_oriented_queues`)."""

from semcom_envs.api.parallel import pettingzoo_factories
from semcom_envs.scenarios.task_oriented_queues import TaskOrientedQueues, TaskOrientedQueuesConfig

env, parallel_env = pettingzoo_factories(TaskOrientedQueues)

__all__ = ["TaskOrientedQueues", "TaskOrientedQueuesConfig", "env", "parallel_env"]
