"""Fixtures of the reproduction tests: the agent tests' one-torch-thread-per-worker rule."""

from tests.agents.conftest import _torch_threads  # noqa: F401
