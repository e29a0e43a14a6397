"""PettingZoo-style versioned alias of SemCom-CDRL-v1 (the benchmark task): ``cdrl_v1.env()`` (AEC),
``cdrl_v1.parallel_env()``; config fields as keyword arguments (see :mod:`semcom_envs.scenarios.cdrl`)."""

from semcom_envs.api.parallel import pettingzoo_factories
from semcom_envs.scenarios.cdrl import CDRLConfig, CDRLV1

env, parallel_env = pettingzoo_factories(CDRLV1)

__all__ = ["CDRLConfig", "CDRLV1", "env", "parallel_env"]
