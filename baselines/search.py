"""Exhaustive joint search in chunks under a memory budget, shared by the full-information references.

The MultiCell ``oracle`` and the Offloading ``exhaustive`` both enumerate every joint choice of a
small per-agent option set (power levels; local/offload-power options) and keep, per batch copy,
the best one. The joint grid grows as ``options ** agents``, so candidates are scored a chunk at a
time, with the chunk sized so that the scorer's temporaries stay under a memory budget.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray


def product_grid(*axes: np.ndarray) -> np.ndarray:
    """The Cartesian product of the 1-D ``axes``, ``(prod of lengths, len(axes))``, last axis fastest."""
    return np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=-1)


def joint_grid(options: int, agents: int) -> NDArray[np.int64]:
    """Every joint choice of ``options`` per agent, ``(options ** agents, agents)``, last agent fastest."""
    return product_grid(*[np.arange(options)] * agents)


def chunk_size(memory_bytes: float, bytes_per_candidate: float) -> int:
    """How many candidates to score at once so that ``bytes_per_candidate`` each stay under the budget (>= 1)."""
    return max(1, int(memory_bytes // bytes_per_candidate))


def chunked_argmax(candidates: np.ndarray, batch: int, chunk: int,
                   score: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per batch copy, the candidate with the highest score, scoring ``chunk`` candidates at a time.

    ``candidates`` is ``(C, ...)``, the same for every copy; ``score(part)`` returns ``value``
    ``(batch, c)`` and a per-candidate ``detail`` ``(batch, c, ...)`` (what the scorer optimised
    inside the candidate, e.g. each agent's best k or frequency). Returns the best ``value``
    ``(batch,)``, ``candidate`` ``(batch, ...)`` and ``detail`` ``(batch, ...)``; ties keep the
    first candidate in grid order.
    """
    rows = np.arange(batch)
    best_value = np.full(batch, -np.inf)
    best_candidate = np.zeros((batch, *candidates.shape[1:]), dtype=candidates.dtype)
    best_detail: np.ndarray | None = None
    for start in range(0, len(candidates), chunk):
        part = candidates[start:start + chunk]
        value, detail = score(part)
        i = value.argmax(axis=1)
        top = value[rows, i]
        if best_detail is None:
            best_detail = np.zeros((batch, *detail.shape[2:]), dtype=detail.dtype)
        better = top > best_value
        best_value = np.where(better, top, best_value)
        best_candidate[better] = part[i[better]]
        best_detail[better] = detail[rows[better], i[better]]
    assert best_detail is not None, "no candidates"
    return best_value, best_candidate, best_detail
