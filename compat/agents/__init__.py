"""Deprecated alias of :mod:`semcom_agents` (the 0.1 import name), removed in semcom-envs 0.3."""

import sys

from semcom_envs._compat import deprecated_alias

sys.modules[__name__] = deprecated_alias(__name__, "semcom_agents")
