"""PettingZoo-style versioned alias of SemCom-CDRL-v0: ``cdrl_v0.env()`` (AEC), ``cdrl_v0.parallel_env()``;
config fields as keyword arguments (see :mod:`semcom_envs.scenarios.cdrl`)."""

from semcom_envs.api.parallel import pettingzoo_factories
from semcom_envs.scenarios.cdrl import CDRL, CDRLConfig

env, parallel_env = pettingzoo_factories(CDRL)

__all__ = ["CDRL", "CDRLConfig", "env", "parallel_env"]
