"""PettingZoo-style versioned alias of SemCom-IoTAuction-v2 (the benchmark task: bids of at most the value):
``iot_auction_v2.env()`` (AEC), ``iot_auction_v2.parallel_env()``; config fields as keyword arguments (see
:mod:`semcom_envs.scenarios.iot_auction`)."""

from semcom_envs.api.parallel import pettingzoo_factories
from semcom_envs.scenarios.iot_auction import IoTAuctionConfig, IoTAuctionV2

env, parallel_env = pettingzoo_factories(IoTAuctionV2)

__all__ = ["IoTAuctionConfig", "IoTAuctionV2", "env", "parallel_env"]
