"""MyersonNet: a learned single-item auction that is truthful and individually rational by construction.

The mechanism of Dütting, Feng, Narasimhan, Parkes and Ravindranath, "Optimal Auctions through Deep
Learning" (ICML 2019; arXiv:1706.03459, §3 "MyersonNet"), with the settings of the IoT-auction source's
case study (docs/myersonnet.md). Each bidder ``i`` has a monotone min-max network

    phi_i(b) = min_{k<K} max_{j<J} (exp(w_ikj) b + beta_ikj)

mapping its bid to a *virtual bid*. Every linear piece has a positive slope, so ``phi_i`` is a
continuous, strictly increasing, piecewise-linear bijection of the real line, with the exact inverse

    phi_i^-1(y) = max_{k<K} min_{j<J} (y - beta_ikj) / exp(w_ikj)

(the inverse of a max of increasing functions is the min of their inverses, and of a min the max).
The allocation is the second-price auction with zero reserve on virtual bids (Myerson's optimal
auction, with the learned ``phi_i`` in place of the virtual value functions): the highest virtual
bid wins if it is > 0 (a dummy bidder with virtual bid 0 wins otherwise: no sale). The winner pays
the *threshold bid* ``phi_w^-1(max(max_{j != w} phi_j(b_j), 0))``, the smallest bid with which it
would still win. Since the allocation is monotone in the own bid and the payment is the threshold,
truthful bidding is a dominant strategy (DSIC) and the winner never pays more than its bid (IR),
for *any* parameters (Myerson's lemma). Only the revenue depends on training
(:mod:`semcom_agents.myersonnet`, torch); this module is numpy only so the environment runs the mechanism
without torch.

Conventions shared with :mod:`semcom_envs.auctions`: ``mechanism(bids: (B, N) float64) ->
(winner: (B,) int64, -1 when nobody wins; price: (B,) float64)``.

- **Ties.** Among equal highest virtual bids the lowest bidder index wins (``numpy.argmax``); a
  highest virtual bid of exactly 0 is a tie with the dummy bidder and does not sell. Ties change
  nobody's utility: a winner tied with the runner-up pays its own bid.
- **Bid domain.** Bids are non-negative (the environment's action space), so the threshold is
  taken over ``[0, inf)``: the price is ``max(phi_w^-1(.), 0)``. (A bidder with ``phi_w(0) > 0``
  would win even bidding 0 and pays 0, never a negative price.) The price is also capped at the
  winner's bid, which it can exceed only by float rounding of the inverse.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

_DATA_PACKAGE = "semcom_envs"
_CHECKPOINT_DIR = ("data", "myersonnet")


class MyersonNet:
    """A trained (or random) MyersonNet auction for ``n`` bidders; callable as a mechanism on ``(B, n)`` bids.

    ``w`` and ``beta`` have shape ``(n, K, J)``: bidder ``i``'s min-max network has ``K`` groups
    (min) of ``J`` linear units (max). ``metadata`` is free-form JSON-serialisable provenance
    (valuation, training configuration, seed, revenue, ...) saved with the parameters.
    """

    def __init__(self, w: np.ndarray, beta: np.ndarray, metadata: dict[str, Any] | None = None) -> None:
        w = np.asarray(w, dtype=np.float64)
        beta = np.asarray(beta, dtype=np.float64)
        if w.ndim != 3 or w.shape != beta.shape:
            raise ValueError(f"w and beta must both have shape (n, K, J), got {w.shape} and {beta.shape}")
        self.w = w
        self.beta = beta
        self.slope = np.exp(w)
        self.metadata: dict[str, Any] = dict(metadata or {})

    @property
    def n(self) -> int:
        """Number of bidders."""
        return self.w.shape[0]

    def virtual_bids(self, bids: np.ndarray) -> np.ndarray:
        """``phi_i(b_i)`` for every bidder: ``(B, n)`` bids -> ``(B, n)`` virtual bids."""
        bids = self._check(bids)
        units = self.slope * bids[:, :, None, None] + self.beta  # (B, n, K, J)
        return units.max(axis=3).min(axis=2)

    def inverse(self, virtual: np.ndarray) -> np.ndarray:
        """``phi_i^-1(y_i)`` for every bidder: ``(B, n)`` virtual bids -> ``(B, n)`` bids (exact inverse)."""
        virtual = self._check(virtual)
        units = (virtual[:, :, None, None] - self.beta) / self.slope
        return units.min(axis=3).max(axis=2)

    def __call__(self, bids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Winner (``-1``: no sale) and price of each of ``B`` auctions on ``(B, n)`` bids; see the module docstring."""
        bids = self._check(bids)
        batch = np.arange(bids.shape[0])
        virtual = self.virtual_bids(bids)
        best = virtual.argmax(axis=1)
        sold = virtual[batch, best] > 0.0
        others = virtual.copy()
        others[batch, best] = -np.inf
        threshold = np.maximum(others.max(axis=1), 0.0)  # the runner-up's virtual bid, or the dummy's 0
        # Invert only the winner's network: (B, K, J) units of phi_best at the threshold.
        units = (threshold[:, None, None] - self.beta[best]) / self.slope[best]
        price = np.clip(units.min(axis=2).max(axis=1), 0.0, bids[batch, best])
        return np.where(sold, best, -1).astype(np.int64), np.where(sold, price, 0.0)

    def _check(self, array: np.ndarray) -> np.ndarray:
        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != self.n:
            raise ValueError(f"expected a (batch, {self.n}) array, got shape {array.shape}")
        return array

    def save(self, path: str | Path) -> Path:
        """Write ``w``, ``beta`` and the JSON metadata to a compressed ``.npz`` (a few kB); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            np.savez_compressed(f, w=self.w, beta=self.beta, metadata=np.array(json.dumps(self.metadata, sort_keys=True)))
        return path

    @classmethod
    def load(cls, path: str | Path) -> MyersonNet:
        """Read a checkpoint written by :meth:`save` (no pickle)."""
        with np.load(path, allow_pickle=False) as data:
            return cls(data["w"], data["beta"], json.loads(str(data["metadata"])))


def pretrained_names() -> list[str]:
    """Names of the checkpoints shipped in ``semcom_envs/data/myersonnet`` (e.g. ``uniform_n3``)."""
    folder = resources.files(_DATA_PACKAGE).joinpath(*_CHECKPOINT_DIR)
    return sorted(entry.name[: -len(".npz")] for entry in folder.iterdir() if entry.name.endswith(".npz"))


def load_pretrained(name: str) -> MyersonNet:
    """A shipped checkpoint by name (``docs/myersonnet.md`` lists how each was trained and its revenue)."""
    entry = resources.files(_DATA_PACKAGE).joinpath(*_CHECKPOINT_DIR, f"{name}.npz")
    if not entry.is_file():
        raise ValueError(f"no pretrained MyersonNet {name!r}; shipped: {', '.join(pretrained_names())}")
    with resources.as_file(entry) as path:
        return MyersonNet.load(path)
