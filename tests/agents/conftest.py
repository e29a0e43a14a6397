"""Fixtures of the agent tests."""

from __future__ import annotations

import os

import pytest
import torch


@pytest.fixture(autouse=True)
def _torch_threads():
    """One torch thread per test process unless ``SEMCOM_TEST_TORCH_THREADS`` says otherwise.

    ``make test`` runs two pytest workers on two cores, so one thread each never oversubscribes
    them, whatever ``OMP_NUM_THREADS`` the shell sets. No test depends on the count:
    ``tools/test_matrix.py`` runs these tests with 2 threads too (setting ``threads-2``).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(int(os.environ.get("SEMCOM_TEST_TORCH_THREADS", "1")))
    yield
    torch.set_num_threads(threads)
