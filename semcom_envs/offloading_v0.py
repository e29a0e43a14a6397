"""PettingZoo-style versioned alias of SemCom-Offloading-v0: ``offloading_v0.env()`` (AEC),
``offloading_v0.parallel_env()``; config fields as keyword arguments (see
:mod:`semcom_envs.scenarios.offloading`)."""

from semcom_envs.api.parallel import pettingzoo_factories
from semcom_envs.scenarios.offloading import Offloading, OffloadingConfig

env, parallel_env = pettingzoo_factories(Offloading)

__all__ = ["Offloading", "OffloadingConfig", "env", "parallel_env"]
