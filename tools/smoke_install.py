"""Smoke test of an installed wheel of the core (``make test-wheel``): run from outside the repository with a
virtualenv that has the wheel and nothing else of the suite.

Checks what a user of ``pip install semcom-envs`` gets: torch, cvxpy, stable-baselines3 and matplotlib are
absent and never imported; every registered id makes, resets and steps through Gymnasium; every
PettingZoo module steps; the package data (DeepSC tables, MyersonNet weights) is found inside the wheel;
the commands that need an extra say which; the 0.1 import name ``baselines`` still works, with a warning.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path

OPTIONAL = ("torch", "cvxpy", "stable_baselines3", "matplotlib", "tensorboard")


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"smoke test failed: {what}")
    print(f"ok: {what}")


def main() -> None:
    import gymnasium as gym

    import semcom_envs

    here = Path(semcom_envs.__file__).resolve()
    check("site-packages" in here.parts, f"semcom_envs is the installed wheel ({here.parent})")
    check(all(importlib.util.find_spec(m) is None for m in OPTIONAL), f"none of {', '.join(OPTIONAL)} is installed")

    warnings.filterwarnings("ignore", message=".*is out of date")  # the v0 ids stay for the reproductions, on purpose
    ids = [env_id for env_id in gym.registry if env_id.startswith("SemCom-")]
    check(len(ids) >= 10, f"{len(ids)} SemCom ids registered")
    for env_id in ids:
        env = gym.make(env_id)
        env.reset(seed=0)
        env.action_space.seed(0)
        for _ in range(3):
            env.step(env.action_space.sample())
        env.close()
    check(True, "every id makes, resets and steps 3 times through gym.make")

    from semcom_envs import cdrl_v1, iot_auction_v1, multicell_v1, offloading_v1, task_oriented_v1, task_oriented_v2

    for module in (multicell_v1, offloading_v1, iot_auction_v1, cdrl_v1, task_oriented_v1, task_oriented_v2):
        env = module.parallel_env()
        env.reset(seed=0)
        env.step({a: env.action_space(a).sample() for a in env.agents})
    check(True, "every benchmark task's PettingZoo parallel_env resets and steps")

    from semcom_envs.physics.semantics import deepsc_similarity

    check(float(deepsc_similarity(4, 20.0)) > 0, "the DeepSC similarity table is found in the wheel")
    env = gym.make("SemCom-IoTAuction-v0", mechanism="neural")
    env.reset(seed=0)
    env.step(env.action_space.sample())
    check(True, "the MyersonNet weights are found in the wheel (mechanism='neural')")

    from semcom_baselines import make_policy
    from semcom_envs.extras import MissingExtraError
    from semcom_envs.registration import make_scenario

    make_policy("local_select", make_scenario("SemCom-TaskOriented-v1"))
    make_policy("knapsack", make_scenario("SemCom-TaskOriented-v2"))  # numpy only: no solver extra
    try:
        make_policy("crra", make_scenario("SemCom-TaskOriented-v1"))
        check(False, "crra without cvxpy raises")
    except MissingExtraError as err:
        check("the 'solvers' extra" in str(err), f"crra without cvxpy names the extra: {err}")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from baselines.policy import Policy  # noqa: F401  (the deprecated 0.1 name)
    check(any(issubclass(w.category, DeprecationWarning) for w in caught), "import baselines warns (deprecated alias)")

    semcom = [sys.executable, "-m", "semcom_envs.cli"]
    listing = subprocess.run([*semcom, "list", "SemCom-MultiCell-v1"], capture_output=True, text=True)
    check(listing.returncode == 0 and "local_dpp" in listing.stdout, "semcom list runs on the core install")
    train = subprocess.run([*semcom, "train", "SemCom-MultiCell-v1", "--agent", "dqn", "--steps", "1000"],
                           capture_output=True, text=True)
    check(train.returncode == 2 and "the 'agents' extra" in train.stderr and "Traceback" not in train.stderr,
          f"semcom train names the agents extra: {train.stderr.strip()}")
    check(not any(m in sys.modules for m in OPTIONAL), "no optional module was imported")


if __name__ == "__main__":
    main()
