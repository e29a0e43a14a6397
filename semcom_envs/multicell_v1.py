"""PettingZoo-style versioned alias of SemCom-MultiCell-v1 (the benchmark task): ``multicell_v1.env()`` (AEC),
``multicell_v1.parallel_env()``; config fields as keyword arguments (see :mod:`semcom_envs.scenarios.multicell`)."""

from semcom_envs.api.parallel import pettingzoo_factories
from semcom_envs.scenarios.multicell import MultiCellConfig, MultiCellV1

env, parallel_env = pettingzoo_factories(MultiCellV1)

__all__ = ["MultiCellConfig", "MultiCellV1", "env", "parallel_env"]
