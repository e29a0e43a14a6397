"""Scenario cores, one module each; ``SCENARIOS`` maps every Gymnasium id to its core class."""

from semcom_envs.api.core import BatchedScenario
from semcom_envs.scenarios.cdrl import CDRL, CDRLConfig
from semcom_envs.scenarios.iot_auction import IoTAuction, IoTAuctionConfig
from semcom_envs.scenarios.multicell import MultiCell, MultiCellConfig
from semcom_envs.scenarios.offloading import Offloading, OffloadingConfig
from semcom_envs.scenarios.task_oriented import TaskOriented, TaskOrientedConfig

SCENARIOS: dict[str, type[BatchedScenario]] = {
    MultiCell.env_id: MultiCell,
    Offloading.env_id: Offloading,
    IoTAuction.env_id: IoTAuction,
    CDRL.env_id: CDRL,
    TaskOriented.env_id: TaskOriented,
}

__all__ = ["CDRL", "CDRLConfig", "SCENARIOS", "IoTAuction", "IoTAuctionConfig", "MultiCell", "MultiCellConfig", "Offloading",
           "OffloadingConfig", "TaskOriented", "TaskOrientedConfig"]
