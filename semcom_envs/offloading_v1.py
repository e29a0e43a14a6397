"""PettingZoo-style versioned alias of SemCom-Offloading-v1 (queues, shared narrowband uplink and edge GPU):
``offloading_v1.env()`` (AEC), ``offloading_v1.parallel_env()``; config fields as keyword arguments (see
:mod:`semcom_envs.scenarios.offloading_queues`)."""

from semcom_envs.api.parallel import pettingzoo_factories
from semcom_envs.scenarios.offloading_queues import OffloadingQueues, OffloadingQueuesConfig

env, parallel_env = pettingzoo_factories(OffloadingQueues)

__all__ = ["OffloadingQueues", "OffloadingQueuesConfig", "env", "parallel_env"]
