"""The optional parts of the install and the error that names the one a call needs.

The core (``pip install .`` in a clone, or the wheel) is the environments with their scientific stack: numpy,
scipy, gymnasium, pettingzoo, and rich for the CLI's tables. ``import semcom_envs`` and
``gym.make`` import nothing else. The extras add:

- ``agents``: torch, stable-baselines3, tensorboard (``semcom train``, policy files, the learning
  agents of :mod:`semcom_agents`, the reproductions, leaderboard jobs that train);
- ``solvers``: cvxpy (the convex full-information references ``msr``, ``fcr``, ``crra``, ``crraus`` of
  SemCom-TaskOriented);
- ``plots``: matplotlib (figures of ``semcom eval``, the leaderboard page, ``render_mode="rgb_array"``);
- ``all``: the three above; ``examples``, ``docs``, ``dev``, ``ray``, ``bench`` for the examples,
  the documentation site, the tests, RLlib and the throughput anchors.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: The extra that installs each optional top-level module.
EXTRA_OF: dict[str, str] = {"torch": "agents", "stable_baselines3": "agents", "tensorboard": "agents",
                            "cvxpy": "solvers", "matplotlib": "plots"}


class MissingExtraError(ModuleNotFoundError):
    """An optional dependency is not installed; the message names the extra that installs it."""


def missing_extra_message(module: str, what: str) -> str:
    """``"<what> needs <module> ... the '<extra>' extra ..."``: the line every missing-extra error prints
    (``module``'s top-level name must be a key of :data:`EXTRA_OF`)."""
    top = module.split(".")[0]
    extra = EXTRA_OF[top]
    return (f"{what} needs {top}, which the core install leaves out: install the '{extra}' extra "
            f"(in a clone: pip install -e '.[{extra}]'; from a wheel: pip install '<wheel>[{extra}]')")


def import_optional(module: str, what: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` saying that ``what`` needs it and which extra installs it.

    Only the absence of ``module`` itself, when an extra installs it, is translated: an error inside an installed
    module, or a module no extra installs, propagates unchanged.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        top = module.split(".")[0]
        if top not in EXTRA_OF or err.name is None or err.name.split(".")[0] != top:
            raise
        raise MissingExtraError(missing_extra_message(module, what), name=err.name) from err
