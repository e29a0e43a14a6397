"""PettingZoo-style versioned alias of SemCom-IoTAuction-v0: ``iot_auction_v0.env()`` (AEC),
``iot_auction_v0.parallel_env()``; config fields as keyword arguments (see
:mod:`semcom_envs.scenarios.iot_auction`)."""

from semcom_envs.api.parallel import pettingzoo_factories
from semcom_envs.scenarios.iot_auction import IoTAuction, IoTAuctionConfig

env, parallel_env = pettingzoo_factories(IoTAuction)

__all__ = ["IoTAuction", "IoTAuctionConfig", "env", "parallel_env"]
