"""PettingZoo-style versioned alias of SemCom-IoTAuction-v1 (the benchmark task): ``iot_auction_v1.env()`` (AEC),
``iot_auction_v1.parallel_env()``; config fields as keyword arguments (see :mod:`semcom_envs.scenarios.iot_auction`)."""

from semcom_envs.api.parallel import pettingzoo_factories
from semcom_envs.scenarios.iot_auction import IoTAuctionConfig, IoTAuctionV1

env, parallel_env = pettingzoo_factories(IoTAuctionV1)

__all__ = ["IoTAuctionConfig", "IoTAuctionV1", "env", "parallel_env"]
