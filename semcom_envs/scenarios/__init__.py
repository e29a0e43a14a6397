"""Scenario cores, one module each; ``SCENARIOS`` maps every Gymnasium id to its core class."""

from semcom_envs.api.core import BatchedScenario
from semcom_envs.scenarios.multicell import MultiCell, MultiCellConfig

SCENARIOS: dict[str, type[BatchedScenario]] = {MultiCell.env_id: MultiCell}

__all__ = ["SCENARIOS", "MultiCell", "MultiCellConfig"]
