"""PettingZoo-style versioned alias of SemCom-MultiCell-v0: ``multicell_v0.env()`` (AEC),
``multicell_v0.parallel_env()``; config fields as keyword arguments (see
:mod:`semcom_envs.scenarios.multicell`)."""

from semcom_envs.api.parallel import pettingzoo_factories
from semcom_envs.scenarios.multicell import MultiCell, MultiCellConfig

env, parallel_env = pettingzoo_factories(MultiCell)

__all__ = ["MultiCell", "MultiCellConfig", "env", "parallel_env"]
