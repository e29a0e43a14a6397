"""Single-item auction mechanisms on a batch of bid profiles (spec iot_auction §3, §5).

Every mechanism maps bids ``(B, N)`` to ``(winner (B,) int64, price (B,) float64)``; ``winner = -1``
means no sale (price 0). Ties go to the lowest bidder index, so every mechanism is deterministic.

- :func:`second_price`: the highest bid wins and pays the second-highest bid (or the reserve).
- :func:`first_price`: the highest bid wins and pays its bid.
- :class:`Myerson`: the revenue-optimal auction for independent values with known distributions
  (Myerson 1981): the highest *ironed virtual value* wins if it is positive and pays the smallest
  bid with which it would still win. Virtual values come from each bidder's
  :class:`ValueDistribution`; a non-monotone virtual value is ironed by taking the concave hull of
  the revenue curve in quantile space (the standard construction), so the mechanism stays
  truthful for irregular distributions too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Outcome = tuple[NDArray[np.int64], FloatArray]


def _top_two(scores: np.ndarray) -> tuple[NDArray[np.int64], FloatArray, FloatArray]:
    """Index of the highest score (lowest index on ties), the highest and the second-highest score."""
    winner = np.argmax(scores, axis=1)
    rows = np.arange(scores.shape[0])
    best = scores[rows, winner]
    others = scores.copy()
    others[rows, winner] = -np.inf
    second = others.max(axis=1) if scores.shape[1] > 1 else np.full(scores.shape[0], -np.inf)
    return winner, best, second


def second_price(bids: np.ndarray, reserve: float = 0.0) -> Outcome:
    """Vickrey auction with a reserve: truthful bidding is dominant (spec iot_auction §5)."""
    winner, best, second = _top_two(np.asarray(bids, dtype=np.float64))
    sold = best >= reserve
    return np.where(sold, winner, -1), np.where(sold, np.maximum(second, reserve), 0.0)


def first_price(bids: np.ndarray) -> Outcome:
    """Pay-your-bid auction: not truthful (bidders should shade)."""
    winner, best, _ = _top_two(np.asarray(bids, dtype=np.float64))
    return winner, best


@dataclasses.dataclass(frozen=True)
class ValueDistribution:
    """A value distribution on ``[0, upper]`` given by its quantile function on a grid.

    ``values`` holds ``F^-1`` at the ``levels`` (increasing, from 0 to 1); between grid points the
    quantile function is linear. The analytic constructors build the grid from the exact quantile
    function; :meth:`empirical` from samples.
    """

    levels: FloatArray
    values: FloatArray

    @classmethod
    def uniform(cls, upper: float = 1.0, points: int = 4097) -> ValueDistribution:
        """U[0, upper]."""
        q = np.linspace(0.0, 1.0, points)
        return cls(q, upper * q)

    @classmethod
    def exponential(cls, mean: float, upper: float, points: int = 16385) -> ValueDistribution:
        """Exp(mean) truncated at ``upper`` (where the environment's draws end), on a log-spaced tail grid."""
        top = 1.0 - np.exp(-upper / mean)
        q = top * np.concatenate([np.linspace(0.0, 0.99, points // 2), 1.0 - np.geomspace(0.01, 1e-12, points // 2)])
        q = np.append(np.unique(np.minimum(q, top)), 1.0)
        v = -mean * np.log1p(-np.minimum(q, top))
        v[-1] = upper
        return cls(q, v)

    @classmethod
    def empirical(cls, samples: np.ndarray, points: int = 4097) -> ValueDistribution:
        """The distribution of ``samples`` (quantiles interpolated linearly)."""
        q = np.linspace(0.0, 1.0, points)
        return cls(q, np.quantile(np.asarray(samples, dtype=np.float64), q))

    def ironed_virtual_values(self) -> tuple[FloatArray, FloatArray]:
        """``(v, phi_bar)``: the ironed virtual value at the grid values (non-decreasing in v).

        Revenue curve in quantile space ``R(s) = s F^-1(1 - s)`` (``s`` = probability of selling);
        its concave hull's slope is the ironed virtual value (Myerson 1981; Hartline, *Mechanism
        Design and Approximation*, ch. 3). For a regular distribution it equals
        ``v - (1 - F(v)) / f(v)``.
        """
        s = 1.0 - self.levels[::-1]  # selling probability, increasing from 0 to 1
        v = self.values[::-1]  # price at that probability, decreasing
        revenue = s * v
        hull = _upper_concave_hull(s, revenue)
        slope_segments = np.diff(revenue[hull]) / np.diff(s[hull])
        # Each grid point takes the slope of the hull segment it lies in (right-continuous in s).
        segment = np.clip(np.searchsorted(s[hull], s, side="right") - 1, 0, len(slope_segments) - 1)
        phi = slope_segments[segment]
        return v[::-1], phi[::-1]


def _upper_concave_hull(x: np.ndarray, y: np.ndarray) -> NDArray[np.int64]:
    """Indices of the upper concave hull of points sorted by ``x`` (Andrew's monotone chain)."""
    hull: list[int] = []
    for i in range(len(x)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            if (y[b] - y[a]) * (x[i] - x[a]) <= (y[i] - y[a]) * (x[b] - x[a]):
                hull.pop()
            else:
                break
        hull.append(i)
    return np.asarray(hull, dtype=np.int64)


class Myerson:
    """Myerson's optimal auction for independent bidders with the given value distributions.

    The ironed virtual value of each bidder is tabulated once (piecewise linear in the bid); the
    highest positive one wins and pays its threshold: the smallest bid whose ironed virtual value
    reaches ``max(max_{j != w} phi_j, 0)``. Inside ironed (flat) intervals the threshold is the
    interval's lower end, which is what makes ironing truthful.
    """

    def __init__(self, distributions: Sequence[ValueDistribution]) -> None:
        self.tables = [d.ironed_virtual_values() for d in distributions]

    def virtual_values(self, bids: np.ndarray) -> FloatArray:
        """``(B, N)`` ironed virtual values of the bids."""
        bids = np.asarray(bids, dtype=np.float64)
        return np.stack([np.interp(bids[:, i], v, phi) for i, (v, phi) in enumerate(self.tables)], axis=1)

    def threshold(self, bidder: NDArray[np.int64], level: FloatArray, strict: NDArray[np.bool_]) -> FloatArray:
        """Smallest bid of ``bidder`` whose ironed virtual value reaches ``level`` (exceeds it where ``strict``)."""
        out = np.empty(len(bidder))
        for i, (v, phi) in enumerate(self.tables):
            mask = bidder == i
            if mask.any():
                lv = level[mask]
                # First grid point with phi >= level (> level if strict), then back along the linear piece
                # before it; inside a flat (ironed) piece this is its lower (upper if strict) end.
                k = np.where(strict[mask], np.searchsorted(phi, lv, side="right"), np.searchsorted(phi, lv, side="left"))
                k = np.clip(k, 1, len(phi) - 1)
                lo, hi = phi[k - 1], phi[k]
                rising = hi > lo
                frac = np.where(rising, (lv - lo) / np.where(rising, hi - lo, 1.0), 0.0)
                out[mask] = np.where(lv < phi[0], v[0], v[k - 1] + np.clip(frac, 0.0, 1.0) * (v[k] - v[k - 1]))
        return out

    def __call__(self, bids: np.ndarray) -> Outcome:
        phi = self.virtual_values(bids)
        winner, best, _ = _top_two(phi)
        sold = best >= 0.0
        w = np.where(sold, winner, 0)
        # The winner must beat lower-indexed bidders strictly (they win ties) and higher-indexed ones weakly.
        index = np.arange(phi.shape[1])
        before = np.where(index < w[:, None], phi, -np.inf).max(axis=1)
        after = np.where(index > w[:, None], phi, -np.inf).max(axis=1)
        strict = before >= np.maximum(after, 0.0)
        price = self.threshold(w, np.maximum(np.maximum(before, after), 0.0), strict)
        return np.where(sold, winner, -1), np.where(sold, price, 0.0)
