"""Shared fixtures: every scenario x a few configs, so the external suites cover each combination."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import matplotlib
import pytest

matplotlib.use("Agg")

import semcom_envs  # noqa: E402,F401  (registers the ids)
from semcom_envs.scenarios import SCENARIOS  # noqa: E402

# (env_id, config) pairs: defaults plus the variants whose spaces or dynamics differ.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("SemCom-MultiCell-v0", {}),
    ("SemCom-MultiCell-v0", {"num_cells": 3, "flat_actions": True, "max_steps": 20}),
    ("SemCom-MultiCell-v0", {"preset": "wide-area", "redraw_requirements": "slot", "reward": "qoe",
                             "accuracy_interp": "round", "max_steps": 30}),
    ("SemCom-MultiCell-v0", {"num_cells": 1, "preset": "paper-table", "reward": "ee_watts", "max_steps": 10,
                             "accuracy_model": "logistic"}),
    ("SemCom-MultiCell-v1", {}),
    ("SemCom-MultiCell-v1", {"num_cells": 3, "flat_actions": True, "backhaul_observations": False, "max_steps": 20}),
    ("SemCom-MultiCell-v0", {"num_cells": 2, "traffic": "bursty", "backhaul_observations": True, "traffic_peak_to_mean": 1.0,
                             "redraw_requirements": "slot", "max_steps": 10}),
    ("SemCom-Offloading-v0", {}),
    ("SemCom-Offloading-v0", {"access": "shared", "action_type": "continuous", "num_devices": 3, "max_steps": 20}),
    ("SemCom-Offloading-v0", {"preset": "shared-band", "num_devices": 1, "k": 1, "accuracy_interp": "round",
                              "max_steps": 10}),
    ("SemCom-Offloading-v0", {"num_devices": 6, "k": 20, "accuracy_model": "logistic", "max_steps": 30}),
    ("SemCom-Offloading-v1", {}),
    ("SemCom-Offloading-v1", {"num_devices": 2, "deadline_slots": 2, "slot_s": 2e-3, "edge_speedup": 2e-3, "max_steps": 20}),
    ("SemCom-Offloading-v1", {"preset": "ofdma", "num_devices": 3, "max_steps": 20}),
    ("SemCom-IoTAuction-v0", {}),
    ("SemCom-IoTAuction-v0", {"valuation": "uniform", "mechanism": "myerson", "num_devices": 2, "max_steps": 20}),
    ("SemCom-IoTAuction-v0", {"valuation": "exponential", "mechanism": "first_price", "num_devices": 3, "max_steps": 30}),
    ("SemCom-IoTAuction-v0", {"valuation": "uniform", "mechanism": "neural", "num_devices": 3, "max_steps": 20}),
    ("SemCom-IoTAuction-v0", {"mechanism": "myerson", "num_devices": 1, "sentences": 2000, "accuracy_interp": "round",
                              "max_steps": 10}),
    ("SemCom-IoTAuction-v1", {}),
    ("SemCom-IoTAuction-v1", {"mechanism": "second_price_reserve", "num_devices": 2, "max_steps": 20}),
    ("SemCom-IoTAuction-v2", {}),
    ("SemCom-IoTAuction-v2", {"mechanism": "myerson", "num_devices": 3, "max_steps": 20}),
    ("SemCom-CDRL-v0", {}),
    ("SemCom-CDRL-v0", {"num_targets": 1, "num_sources": 3, "max_steps": 5, "train_steps": 20, "sparsity": 0.9}),
    ("SemCom-CDRL-v1", {"grid_size": 9, "num_sources": 3, "max_steps": 3}),
    ("SemCom-TaskOriented-v0", {}),
    ("SemCom-TaskOriented-v0", {"preset": "crraus", "action_type": "discrete", "num_users": 4, "max_steps": 10}),
    ("SemCom-TaskOriented-v0", {"num_users": 1, "backbone": "vgg", "asc_snr_db": -2.0, "select_threshold": 0.3,
                                "bandwidth_max_hz": 1e6, "power_max_w": 1e-3}),
    ("SemCom-TaskOriented-v0", {"codec": "se-sc", "num_users": 3, "sesc_l_tot": 64.0, "sesc_l_opt": 20.0, "max_steps": 10}),
    ("SemCom-TaskOriented-v1", {}),
    ("SemCom-TaskOriented-v1", {"action_type": "discrete", "num_users": 3, "compression_min": 0.3, "max_steps": 5}),
    ("SemCom-TaskOriented-v2", {}),
    ("SemCom-TaskOriented-v2", {"action_type": "discrete", "num_users": 3, "deadline_slots": 2, "task_prob_on": 0.9,
                                "max_steps": 10}),
    ("SemCom-CDRL-v0", {"preset": "walls", "grid_size": 5, "num_sources": 4, "probe_steps": 5, "max_steps": 4}),
]
CASE_IDS = [f"{env_id}-{'-'.join(f'{k}={v}' for k, v in cfg.items()) or 'default'}" for env_id, cfg in CASES]


def pettingzoo_module(env_id: str) -> ModuleType:
    """The versioned PettingZoo alias module of a scenario (``semcom_envs.multicell_v0``)."""
    return importlib.import_module(f"semcom_envs.{SCENARIOS[env_id].pettingzoo_name}")


@pytest.fixture(params=CASES, ids=CASE_IDS)
def case(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return request.param
