"""Single-item auction mechanisms on a batch of bid profiles (SemCom-IoTAuction's ``mechanism``).

Every mechanism maps bids ``(B, N)`` to ``(winner (B,) int64, price (B,) float64)``; ``winner = -1``
means no sale (price 0). Ties go to the lowest bidder index, so every mechanism is deterministic.

- :func:`second_price`: the highest bid wins and pays the second-highest bid (or the reserve).
- :func:`first_price`: the highest bid wins and pays its bid; :func:`first_price_equilibrium_bids` is its
  symmetric Bayes-Nash equilibrium for i.i.d. values.
- ``second_price`` with ``reserve = ValueDistribution.monopoly_reserve()``: the optimal reserve price (the
  zero of the virtual value), Myerson's optimum for i.i.d. regular values.
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
    """Vickrey auction with a reserve: truthful bidding is dominant."""
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

    def cdf(self, x: np.ndarray) -> FloatArray:
        """``F(x) = P(V <= x)`` (the highest level whose quantile is ``<= x``, linear between grid points)."""
        keep = np.append(np.diff(self.values) > 0, True)  # the last grid point of every atom: F includes the atom
        return np.interp(np.asarray(x, dtype=np.float64), self.values[keep], self.levels[keep], left=0.0, right=1.0)

    def monopoly_reserve(self) -> float:
        """The optimal reserve price ``r*``: the smallest value whose ironed virtual value is ``>= 0``
        (``phi(r*) = 0``; Myerson 1981: with i.i.d. regular values second price with ``r*`` is optimal)."""
        v, phi = self.ironed_virtual_values()
        return float(v[np.argmax(phi >= 0.0)]) if (phi >= 0.0).any() else float(v[-1])

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


def first_price_equilibrium_bids(dist: ValueDistribution, n: int, values: np.ndarray) -> FloatArray:
    """The symmetric Bayes-Nash equilibrium bids of a first-price auction with ``n`` i.i.d. bidders.

    ``b(v) = v - int_0^v F(x)^(n-1) dx / F(v)^(n-1)`` (Krishna, *Auction Theory*, 2nd ed., Prop. 2.2:
    ``b(v) = E[Y | Y < v]`` with ``Y`` the highest of the other ``n - 1`` values); ``(n - 1) / n v`` for
    ``U[0, 1]``. The integral is the trapezoidal rule on the distribution's quantile grid, where ``F`` is
    piecewise linear; ``b(v) = v`` where ``F(v) = 0`` (the limit), and ``n = 1`` bids the lowest value.
    """
    keep = np.append(np.diff(dist.values) > 0, True)
    x, level = dist.values[keep], dist.levels[keep]
    power = level ** (n - 1)
    integral = np.concatenate([[0.0], np.cumsum(0.5 * (power[1:] + power[:-1]) * np.diff(x))])
    with np.errstate(divide="ignore", invalid="ignore"):
        bid = np.where(power > 0, x - integral / np.where(power > 0, power, 1.0), x)
    return np.interp(np.asarray(values, dtype=np.float64), x, bid)


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
        tables = [d.ironed_virtual_values() for d in distributions]
        # All bidders' tables in one flat, strictly ordered array, so that every bidder is served by one
        # np.interp / np.searchsorted call (no loop over bidders): each table is padded to a common length
        # by repeating its last point, then shifted by ``bidder * span`` so the tables do not overlap.
        size = max(len(v) for v, _ in tables)
        v = np.stack([np.pad(v, (0, size - len(v)), mode="edge") for v, _ in tables])
        phi = np.stack([np.pad(p, (0, size - len(p)), mode="edge") for _, p in tables])
        self.size = size
        self.v_low, self.v_high = v[:, 0], v[:, -1]
        self.v_span = float(v.max() - v.min()) + 1.0
        self.phi_span = float(phi.max() - phi.min()) + 1.0
        shift = np.arange(len(tables))[:, None]
        self.v_flat, self.phi_flat = (v + shift * self.v_span).ravel(), (phi + shift * self.phi_span).ravel()
        self.phi_raw = phi.ravel()

    def virtual_values(self, bids: np.ndarray) -> FloatArray:
        """``(B, N)`` ironed virtual values of the bids (clamped to each table's range, as ``np.interp``).

        Interpolated from the unshifted table values, so a bid inside an ironed (flat) piece gets that
        piece's value exactly: ties between bidders, and the threshold payment, depend on it.
        """
        bids = np.clip(np.asarray(bids, dtype=np.float64), self.v_low, self.v_high)
        base = np.arange(bids.shape[1]) * self.size
        shifted = bids + np.arange(bids.shape[1]) * self.v_span
        k = base + np.clip(np.searchsorted(self.v_flat, shifted, side="right") - base, 1, self.size - 1)
        left, right = self.v_flat[k - 1], self.v_flat[k]
        width = right - left
        frac = np.where(width > 0, np.clip((shifted - left) / np.where(width > 0, width, 1.0), 0.0, 1.0), 1.0)
        lo, hi = self.phi_raw[k - 1], self.phi_raw[k]
        return np.where(hi > lo, lo + frac * (hi - lo), hi)

    def threshold(self, bidder: NDArray[np.int64], level: FloatArray, strict: NDArray[np.bool_]) -> FloatArray:
        """Smallest bid of ``bidder`` whose ironed virtual value reaches ``level`` (exceeds it where ``strict``)."""
        base = bidder * self.size  # start of each copy's winner's table in the flat arrays
        target = level + bidder * self.phi_span
        # First grid point with phi >= level (> level if strict), then back along the linear piece before
        # it; inside a flat (ironed) piece this is its lower (upper if strict) end.
        k = np.where(strict, np.searchsorted(self.phi_flat, target, side="right"),
                     np.searchsorted(self.phi_flat, target, side="left"))
        k = base + np.clip(k - base, 1, self.size - 1)
        lo, hi = self.phi_flat[k - 1], self.phi_flat[k]
        rising = hi > lo
        frac = np.where(rising, (target - lo) / np.where(rising, hi - lo, 1.0), 0.0)
        v_shift = bidder * self.v_span
        price = self.v_flat[k - 1] + np.clip(frac, 0.0, 1.0) * (self.v_flat[k] - self.v_flat[k - 1]) - v_shift
        return np.where(target < self.phi_flat[base], self.v_flat[base] - v_shift, price)

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
