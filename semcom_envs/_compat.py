"""Deprecated import names kept for one release: ``agents`` and ``baselines`` (0.1) alias
``semcom_agents`` and ``semcom_baselines`` (0.2), submodules included, without loading a module twice.

The 0.1 names were shadowed by any ``agents/`` or ``baselines/`` folder of a user's own project (a
common layout in RL code), so 0.2 installs the same folders under names of this distribution
(``pyproject.toml``'s ``package-dir``). The aliases go in 0.3 (CHANGELOG.md).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType


class _AliasLoader(importlib.abc.Loader):
    """Hands back the already imported module under its real name, so ``agents.dqn is semcom_agents.dqn``."""

    def __init__(self, real: str) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.real)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the real module was executed once, under its real name."""


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Finds ``old.x.y`` as ``new.x.y``."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(self.old + "."):
            return None
        real = self.new + fullname[len(self.old):]
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real))


def deprecated_alias(old: str, new: str) -> ModuleType:
    """Warn that ``old`` is deprecated and make ``old`` and every ``old.sub`` resolve to ``new``'s modules."""
    warnings.warn(f"the import name {old!r} is deprecated and will be removed in semcom-envs 0.3: "
                  f"import {new!r} instead (a project's own {old}/ folder shadows {old!r})", DeprecationWarning, stacklevel=3)
    if not any(isinstance(f, _AliasFinder) and f.old == old for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder(old, new))  # before the path finder, which would load a second copy
    return importlib.import_module(new)
