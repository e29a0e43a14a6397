"""Bring your own policy: a user's policy, run on a protocol into the same store as the shipped rows.

A submission is ``NAME=SPEC`` (``semcom leaderboard run --submit NAME=SPEC``). ``SPEC`` is one of

- ``path/to/file.py:factory`` or ``package.module:factory``: ``factory(scenario)`` returns a batched
  policy (the :class:`semcom_baselines.policy.Policy` interface): ``act(observations, global_state)`` for a
  whole batch of copies, ``reset(seed)`` before each evaluation, and ``uses_global_state`` (``True``
  only if it reads the global state: it is then shown as full information). ``reset`` may be omitted
  (nothing to reset), ``uses_global_state`` too (``False``); ``act`` may not;
- a ``.pt`` policy file of ``semcom train`` (:func:`semcom_agents.load_policy`);
- a ``.zip`` model of stable-baselines3's PPO trained on the scenario's joint Gymnasium view
  (:func:`semcom_agents.sb3_joint.load_ppo_policy`).

A file path may contain ``{seed}``: run ``s`` then loads the file of seed ``s``
(``runs/policy_seed{seed}.pt``: one trained policy per protocol seed, as the protocol's own agents).

Each submitted policy is evaluated exactly like a baseline (run ``s`` on evaluation seed
``eval_seed_base + s``, the protocol's episodes) and stored with ``kind = "submitted"`` and its
``SPEC`` under ``hyperparameters["submitted"]``; the tables and the page mark it as submitted.
Relative paths are made absolute when the submission is parsed, so worker processes find them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import re
from pathlib import Path
from typing import Any

from semcom_envs.api.core import BatchedScenario
from semcom_envs.config import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclasses.dataclass(frozen=True)
class Submission:
    """A user's policy: the name it is stored under and where it comes from (see the module docstring)."""

    name: str
    spec: str

    @classmethod
    def parse(cls, text: str) -> Submission:
        """``NAME=SPEC`` from the command line, with file paths made absolute; raises a :class:`ConfigError`."""
        name, sep, spec = text.partition("=")
        if not sep or not spec:
            raise ConfigError(f"--submit {text!r}: expected NAME=SPEC, e.g. mine=my_policy.py:make_policy, "
                              "mine=runs/policy_seed0.pt or mine=model.zip")
        if not _NAME.match(name):
            raise ConfigError(f"--submit {text!r}: the name {name!r} must be letters, digits, '_', '.' or '-' "
                              "(starting with a letter or digit)")
        target, colon, factory = spec.rpartition(":")
        if spec.endswith((".pt", ".zip")):
            path = Path(spec)
            if "{seed}" not in spec:
                if not path.is_file():
                    raise ConfigError(f"--submit {name}: policy file {spec!r} does not exist")
                return cls(name, str(path.resolve()))
            folder = path  # the files of the seeds are checked when each run loads its own
            while "{seed}" in str(folder):
                folder = folder.parent
            if not folder.is_dir():
                raise ConfigError(f"--submit {name}: policy folder {str(folder)!r} (of {spec!r}) does not exist")
            return cls(name, str(path.absolute()))
        if not colon or not target or not factory.isidentifier():
            raise ConfigError(f"--submit {name}: {spec!r} is neither MODULE:FACTORY, FILE.py:FACTORY, a .pt policy file "
                              "nor a .zip stable-baselines3 model")
        if target.endswith(".py"):
            path = Path(target)
            if not path.is_file():
                raise ConfigError(f"--submit {name}: module file {target!r} does not exist")
            return cls(name, f"{path.resolve()}:{factory}")
        return cls(name, spec)


def _import(target: str) -> Any:
    """The module ``target`` (a dotted name, or a ``.py`` file loaded under a name derived from its path)."""
    if not target.endswith(".py"):
        return importlib.import_module(target)
    name = "semcom_submission_" + hashlib.sha1(target.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, target)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot import {target!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_submitted(submission: Submission, scenario: BatchedScenario, seed: int | None = None) -> Any:
    """The batched policy a submission names, for ``scenario`` (and run ``seed``, for a ``{seed}`` path), with its
    ``name`` set to the submission's."""
    spec = submission.spec
    if spec.endswith((".pt", ".zip")) and "{seed}" in spec:
        if seed is None:
            raise ConfigError(f"submission {submission.name}: {spec} needs the run's seed")
        spec = spec.replace("{seed}", str(seed))
    if spec.endswith(".pt"):
        from semcom_agents import load_policy

        return load_policy(spec, scenario, name=submission.name)
    if spec.endswith(".zip"):
        from semcom_agents.sb3_joint import load_ppo_policy

        return load_ppo_policy(spec, scenario, name=submission.name)
    target, _, factory_name = spec.rpartition(":")
    factory = getattr(_import(target), factory_name, None)
    if not callable(factory):
        raise ConfigError(f"submission {submission.name}: {target} has no callable {factory_name!r}")
    policy = factory(scenario)
    if not callable(getattr(policy, "act", None)):
        raise ConfigError(f"submission {submission.name}: {factory_name}(scenario) returned {type(policy).__name__}, "
                          "which has no act(observations, global_state) method")
    uses_global_state = getattr(policy, "uses_global_state", False)
    if not isinstance(uses_global_state, bool):
        raise ConfigError(f"submission {submission.name}: uses_global_state must be True or False, got {uses_global_state!r}")
    return _Submitted(policy, submission.name, uses_global_state)


class _Submitted:
    """A user's policy object under the submission's name, with the optional ``reset`` filled in."""

    def __init__(self, policy: Any, name: str, uses_global_state: bool) -> None:
        self.policy, self.name, self.uses_global_state = policy, name, uses_global_state

    def reset(self, seed: int | None = None) -> None:
        reset = getattr(self.policy, "reset", None)
        if reset is not None:
            reset(seed)

    def act(self, observations: Any, global_state: Any) -> Any:
        return self.policy.act(observations, global_state if self.uses_global_state else None)
