"""Classical solvers for SemCom-TaskOriented-v0 and -v1 (the source's CRRA, CRRAUS and baselines, docs/policies.md).

Every policy decodes the large-scale gains ``delta2`` and service weights it may know, solves the
slot's problem (eqs. (11)-(14g)) and acts through :meth:`TaskOriented.encode_allocation`, so
the environment applies exactly the computed allocation (the nearest representable one in the
discrete variant). Objectives are always evaluated with :meth:`TaskOriented.success`, never
re-implemented; only the SCA needs the analytic form of eq. (8), which is checked against it in
the tests.

Information: ``equal`` and ``fra`` are *local* (``uses_global_state = False``): ``equal`` uses
nothing, ``fra``'s ``o_i`` depends on user ``i``'s own gain only, read from its own observation
(the same float32 feature as in the global state, so it acts exactly as from the global state).
``msr``, ``fcr``, ``crra`` and ``crraus`` need every user's gain (and weight): full information.

- ``equal``: ``B_i = B_max / U``, ``P_i = P_max / U``, ``o_i = 0.8``.
- ``msr``: ``o_i = 0.8`` and the (B, P) maximising the sum rate ``sum_i B_i log2(1 + |h_i| P_i /
  (N0 B_i))`` at ``|h_i| = delta_i`` (the environment's rate, eq. (6)) under (14a)-(14g): a
  jointly concave problem (perspective of the logarithm, ``-rel_entr``), solved with cvxpy and
  compared with the closed form (all spare resources to the strongest user; the better is kept).
  As expected of a sum-rate rule, it starves all but the strongest user.
- ``fcr``: ``o_i = 0.8``, resources optimised for the objective by the SCA below, run from two
  starts, equal resources and the best "the k strongest users share the budgets" allocation (at
  tight budgets every gradient underflows at equal resources); the better result is kept.
- ``fra``: equal resources, each ``o_i`` maximising ``w_i eta(o_i) P(t_i <= t0)`` over the grid
  ``0, 0.01, ..., 0.99`` (the objective is separable in ``o`` once resources are fixed: exact).
- ``crra``: the paper's Algorithm 4: alternate (a) the per-user enumeration of ``o`` given (B, P)
  and (b) the SCA of the resource problem given ``o``, until the objective changes by < 1e-4.
  It starts from the better of the ``fcr`` and ``fra`` solutions; both steps never decrease the
  objective, so ``crra >= max(fcr, fra)`` on every instance.
- ``crraus``: the paper's Algorithm 6: CRRA plus 0/1 user selection by branch and bound over
  ``beta`` (leaves: CRRA on the selected users, who share the whole budgets; pruning by a
  Lagrangian upper bound, see :class:`CRRAUS`); it starts from CRRA on every user, so
  ``crraus >= crra``.

Convexification of eq. (8) used by the SCA (a minorise-maximise scheme). With ``c_i = N0 /
delta_i`` and ``kappa_i = ln 2 d0 (1 - o_i) / t0``, eq. (8) is ``2 Q(x_i)`` with
``x_i = c_i B_i (exp(kappa_i / B_i) - 1) / P_i >= 0``. In log variables ``B = Bs e^beta``,
``P = Ps e^pi``, ``x_i = C_i [exp(beta - pi + K_i e^-beta) - exp(beta - pi)]``, whose first term is
convex (exp of a convex function). Two bounds, both tight at the current point ``(beta0, pi0)``:

1. ``Q`` is convex on ``x >= 0``, so ``2 Q(x) >= 2 Q(x0) - 2 phi(x0) (x - x0)`` (tangent line;
   ``phi`` the normal density);
2. ``exp(beta - pi) >= exp(beta0 - pi0) (1 + (beta - beta0) - (pi - pi0))`` (tangent of a convex
   function), hence ``x_i <= xhat_i = C_i [exp(beta - pi + K_i e^-beta) - e^(beta0 - pi0) (1 +
   (beta - beta0) - (pi - pi0))]``, convex in (beta, pi).

So ``sum_i w_i eta_i [2 Q(x0_i) - 2 phi(x0_i) (xhat_i - x0_i)]`` is a concave minorant of the
objective, tight at the current point: maximising it (a DCP problem with convex constraints
``sum Bs e^beta <= B_max``, ``sum Ps e^pi <= P_max`` and the log-bounds of (14b)/(14g)) can only
increase the true objective. A trust region ``|beta - beta0|, |pi - pi0| <= ln 2`` keeps the
exponents moderate for the conic solver; users whose delivery probability and gradient have
underflowed (``phi(x0) ~ 0``: hopeless at the current point) are parked at ``(B_min, P_min)``,
which frees resources for the others. A step is accepted only if the true objective (from
:meth:`TaskOriented.success`) does not decrease, so the iterates' objective is non-decreasing
even if the solver returns an inexact point; the SCA stops when the gain is below 1e-4.

Batching: the cvxpy solvers are references, not hot paths; they loop over the copies of the
batch in Python (one or more cvxpy solves per copy and SCA iteration) and solve each distinct slot
once (the slots of an episode share its large-scale gains, so an episode is one problem met
``max_steps`` times). ``equal`` and ``fra`` are vectorised over the batch. The enumeration of ``o``
runs over ``0, 0.01, ..., 0.99`` from ``compression_min`` on (v1: from 0.01, (14e)).
"""

from __future__ import annotations

import math
import warnings
from types import ModuleType

import numpy as np

from semcom_baselines.policy import ScenarioPolicy
from semcom_envs.extras import import_optional
from semcom_envs.scenarios.task_oriented import TaskOriented

FIXED_O = 0.8
O_GRID = np.round(np.arange(0.0, 1.0, 0.01), 2)  # 0, 0.01, ..., 0.99 (Algorithm 4's enumeration)
TOLERANCE = 1e-4  # stop when the objective changes by less than this (Algorithm 4)
TRUST = math.log(2.0)
_LOG_PHI_FLOOR = -60.0  # users whose 2 phi(x0) w eta is below e^-60 are parked at the minimums
_MEMO_SIZE = 4096  # memoised slot solutions kept at most (cleared beyond)


def _cvxpy() -> ModuleType:
    """cvxpy, imported when a convex reference is built (the ``solvers`` extra; the local rules need none)."""
    return import_optional("cvxpy", "the convex references msr, fcr, crra and crraus of SemCom-TaskOriented")


class _TaskOrientedPolicy(ScenarioPolicy):
    """Common plumbing: decoding the global state, evaluation, acting through ``encode_allocation``."""

    name = "task_oriented"
    uses_global_state = True
    scenario_class = TaskOriented
    scenario: TaskOriented

    memoise = False
    """Solve each distinct slot once (the per-copy cvxpy solvers; ``act`` explains why)."""

    def __init__(self, scenario: TaskOriented) -> None:
        super().__init__(scenario)
        self._memo: dict[bytes, list[np.ndarray]] = {}
        self.o_grid = O_GRID[O_GRID >= scenario.config.compression_min]
        """:data:`O_GRID` from ``compression_min`` on ((14e): the v1 task excludes o = 0)."""

    def objective(self, o: np.ndarray, bandwidth_hz: np.ndarray, power_w: np.ndarray, delta2: np.ndarray,
                  weight: np.ndarray, selected: np.ndarray | None = None) -> np.ndarray:
        """``sum_i beta_i w_i Phi_i`` (eq. (13)) over the last axis, from the environment's model."""
        phi = self.scenario.success(o, bandwidth_hz, power_w, delta2)["success_prob"]
        if selected is not None:
            phi = np.where(selected, phi, 0.0)
        return (weight * phi).sum(axis=-1)

    def equal_resources(self, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        c = self.scenario.config
        n = shape[-1]  # the users sharing the budgets (a subset for crraus)
        return np.full(shape, c.bandwidth_max_hz / n), np.full(shape, c.power_max_w / n)

    def best_o(self, bandwidth_hz: np.ndarray, power_w: np.ndarray, delta2: np.ndarray) -> np.ndarray:
        """Per user, the ``o`` of :attr:`o_grid` maximising ``Phi_i`` given its resources (ties: smallest o)."""
        grid = self.o_grid.reshape((-1,) + (1,) * np.ndim(bandwidth_hz))
        phi = self.scenario.success(grid, bandwidth_hz, power_w, delta2)["success_prob"]  # (K, ..., U)
        return self.o_grid[phi.argmax(axis=0)]

    def solve(self, delta2: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(o, B, P)`` for a batch ``(B, U)`` of slots."""
        raise NotImplementedError

    def reset(self, seed: int | None = None) -> None:
        """Deterministic; forgets the memoised solutions."""
        self._memo.clear()

    def known_slot(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        """``delta2`` and ``weight`` ``(B, U)`` as this policy may know them: the global state (full information)."""
        if global_state is None:
            raise ValueError(f"{self.name} needs the global state (full information)")
        return self.scenario.decode_global_state(global_state)

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        slot = self.known_slot(observations, global_state)
        delta2, weight = np.asarray(slot["delta2"], dtype=np.float64), np.asarray(slot["weight"], dtype=np.float64)
        if not self.memoise:
            return self.scenario.encode_allocation(*self.solve_selected(delta2, weight))
        # The slots of an episode share its large-scale gains (only the fading of the infos changes), so a
        # deterministic solver meets the same problem max_steps times: solve each distinct one once.
        keys = [row.tobytes() for row in np.concatenate([delta2, weight], axis=1)]
        todo = list(dict.fromkeys(k for k in keys if k not in self._memo))
        if todo:
            first = [keys.index(k) for k in todo]
            if len(self._memo) + len(todo) > _MEMO_SIZE:
                self._memo.clear()
            for k, *solution in zip(todo, *self.solve_selected(delta2[first], weight[first])):
                self._memo[k] = solution
        return self.scenario.encode_allocation(*(np.stack(v) for v in zip(*(self._memo[k] for k in keys))))

    def solve_selected(self, delta2: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(o, B, P, beta)`` for a batch ``(B, U)``; every user is selected unless overridden (crraus)."""
        return *self.solve(delta2, weight), np.ones(delta2.shape, dtype=bool)


class _Local(_TaskOrientedPolicy):
    """A policy that needs only each user's own observation (its gain and weight): ``uses_global_state = False``.

    The observation carries the same float32 gain feature as the global state, so a local policy
    acts exactly as it would from the global state.
    """

    uses_global_state = False

    def known_slot(self, observations, global_state):
        """``delta2`` and ``weight`` from each user's own observation (the global state is not read)."""
        return self.scenario.decode_observation(np.stack([observations[a] for a in self.scenario.agents], axis=1))


class Equal(_Local):
    """``equal``: equal bandwidth and power, ``o = 0.8`` (local: uses no information at all)."""

    name = "equal"

    def solve(self, delta2, weight):
        bandwidth, power = self.equal_resources(delta2.shape)
        return np.full(delta2.shape, FIXED_O), bandwidth, power


class FRA(_Local):
    """``fra``: equal resources, ``o`` optimised per user by enumeration (exact: separable).

    Local: user ``i``'s ``o_i`` depends only on its own gain (its resources ``B_max / U``,
    ``P_max / U`` are the configuration's), so each user computes it from its own observation.
    """

    name = "fra"

    def solve(self, delta2, weight):
        bandwidth, power = self.equal_resources(delta2.shape)
        return self.best_o(bandwidth, power, delta2), bandwidth, power


class LocalSelect(_Local):
    """``local_select``: user ``i`` joins iff ``w_i Phi_i >= tau`` at ``B_max / k``, ``P_max / k`` and its best
    ``o`` there; the users who join share the budgets equally (local: own gain and weight only).

    Why: at the v1 task's link budget ``crra``'s gain over ``fra`` comes mostly from users that cannot
    meet the deadline handing their share to those that can, and whether a user can depends on its
    own gain. ``k`` (the number of users it expects to share with) and ``tau`` are fixed: ``k = 5``,
    ``tau = 0.1``, the best of ``k in {2, ..., 10}``, ``tau in {0, 0.02, ..., 0.3}`` on seeds 900-901
    of SemCom-TaskOriented-v1 (``benchmarks/task_oriented_task_study.py``), never on the evaluation
    seeds. A user below ``tau`` stays out even if nobody joins (then the slot serves nobody): whether
    anyone else joined is the others' information. (Until 2026-12-05 the user with the largest
    ``w_i Phi_i`` joined then, which read every user's value; it never fired on the leaderboard's
    episodes, but did at some of the task study's regimes.) With ``tau = 0`` and ``k = U`` every user
    joins and it is ``fra``.
    """

    name = "local_select"

    def __init__(self, scenario: TaskOriented, k: int = 5, tau: float = 0.1) -> None:
        super().__init__(scenario)
        self.k, self.tau = k, tau

    def solve_selected(self, delta2, weight):
        return self.select(delta2, weight, self.k)

    def select(self, delta2: np.ndarray, weight: np.ndarray, k: float | np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(o, B, P, beta)``: each user's rule at ``B_max / k``, ``P_max / k`` (``k`` broadcasts against ``delta2``)."""
        c = self.scenario.config
        bandwidth = np.broadcast_to(c.bandwidth_max_hz / np.asarray(k, dtype=np.float64), delta2.shape)
        power = np.broadcast_to(c.power_max_w / np.asarray(k, dtype=np.float64), delta2.shape)
        o = self.best_o(bandwidth, power, delta2)
        value = weight * self.scenario.success(o, bandwidth, power, delta2)["success_prob"]
        return o, bandwidth, power, value >= self.tau  # equal shares: the selected split the budgets equally


class MSR(_TaskOrientedPolicy):
    """``msr``: the sum-rate maximising (B, P) (convex, cvxpy; loops over copies), ``o = 0.8``."""

    name = "msr"
    memoise = True

    def __init__(self, scenario: TaskOriented) -> None:
        super().__init__(scenario)
        c = scenario.config
        u = c.num_users
        cp = _cvxpy()
        self._gain = cp.Parameter(u, nonneg=True)  # |h| / (N0 * 1 MHz): SNR per W and per MHz^-1
        self._b = cp.Variable(u)  # MHz
        self._p = cp.Variable(u)  # W
        rate = -cp.sum(cp.rel_entr(self._b, self._b + cp.multiply(self._gain, self._p)))  # nats/s per MHz
        constraints = [cp.sum(self._b) <= c.bandwidth_max_hz / 1e6, self._b >= c.bandwidth_min_hz / 1e6,
                       cp.sum(self._p) <= c.power_max_w, self._p >= c.power_min_w]
        self._problem = cp.Problem(cp.Maximize(rate), constraints)

    def sum_rate(self, bandwidth_hz: np.ndarray, power_w: np.ndarray, delta2: np.ndarray) -> np.ndarray:
        """``sum_i B_i log2(1 + delta_i P_i / (N0 B_i))`` (bit/s) over the last axis."""
        snr = np.sqrt(delta2) * power_w / (self.scenario.noise_psd_w * bandwidth_hz)
        return (bandwidth_hz * np.log2(1.0 + snr)).sum(axis=-1)

    def resources(self, delta2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sum-rate optimal ``(B, P)`` (Hz, W) of one slot ``(U,)``.

        Candidates: the cvxpy solution, and the closed form "everything above the minimums to the
        strongest user" (optimal without the minimums, since each user's rate is concave and
        positively homogeneous in (B, P)); the one with the larger sum rate is returned.
        """
        c = self.scenario.config
        u = c.num_users
        best = int(np.argmax(delta2))
        b_closed, p_closed = np.full(u, c.bandwidth_min_hz), np.full(u, c.power_min_w)
        b_closed[best] = c.bandwidth_max_hz - (u - 1) * c.bandwidth_min_hz
        p_closed[best] = c.power_max_w - (u - 1) * c.power_min_w
        candidates = [(b_closed, p_closed)]
        self._gain.value = np.sqrt(delta2) / (self.scenario.noise_psd_w * 1e6)
        cp = _cvxpy()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "may be inaccurate": the comparison below decides
                self._problem.solve(solver=cp.CLARABEL)
        except cp.SolverError:
            pass
        if self._b.value is not None and self._p.value is not None:
            b = np.clip(np.asarray(self._b.value, dtype=np.float64) * 1e6, c.bandwidth_min_hz, None)
            p = np.clip(np.asarray(self._p.value, dtype=np.float64), c.power_min_w, None)
            candidates.append((_fit_budget(b, c.bandwidth_max_hz, c.bandwidth_min_hz), _fit_budget(p, c.power_max_w, c.power_min_w)))
        return max(candidates, key=lambda bp: float(self.sum_rate(*bp, delta2)))

    def solve(self, delta2, weight):
        bandwidth, power = np.empty_like(delta2), np.empty_like(delta2)
        for i in range(delta2.shape[0]):
            bandwidth[i], power[i] = self.resources(delta2[i])
        return np.full(delta2.shape, FIXED_O), bandwidth, power


def _fit_budget(x: np.ndarray, total: float, minimum: float) -> np.ndarray:
    """Scale the part above ``minimum`` so the sum is exactly ``total`` (solver round-off; keeps (14a)-(14g))."""
    spare = np.maximum(x - minimum, 0.0)
    room = total - minimum * x.size
    return minimum + spare * (room / spare.sum()) if spare.sum() > 0 else np.full(x.shape, total / x.size)


class _SCA(_TaskOrientedPolicy):
    """The successive convex approximation of the resource problem given ``o`` (module docstring)."""

    memoise = True

    def __init__(self, scenario: TaskOriented, max_sca_iterations: int = 50, max_rounds: int = 20) -> None:
        super().__init__(scenario)
        _cvxpy()  # fail at construction, naming the extra, not in the first act()
        self.max_sca_iterations = max_sca_iterations
        self.max_rounds = max_rounds
        c = scenario.config
        self.b_scale = c.bandwidth_max_hz / c.num_users
        self.p_scale = c.power_max_w / c.num_users
        self.history: list[list[float]] = []  # per SCA run (last act), the objective after each iteration

    def _log_x_terms(self, o: np.ndarray, delta2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(ln C_i, K_i)`` of ``x_i = C_i [exp(beta - pi + K_i e^-beta) - exp(beta - pi)]``."""
        c = self.scenario.config
        log_c = np.log(self.scenario.noise_psd_w) - 0.5 * np.log(delta2) + np.log(self.b_scale / self.p_scale)
        k = math.log(2.0) * c.data_bits * (1.0 - o) / (c.deadline_s * self.b_scale)
        return log_c, k

    def x_value(self, o: np.ndarray, bandwidth_hz: np.ndarray, power_w: np.ndarray, delta2: np.ndarray) -> np.ndarray:
        """The argument ``x`` of ``2 Q(x)`` in eq. (8), log-space (inf where it overflows)."""
        log_c, k = self._log_x_terms(o, delta2)
        beta, pi = np.log(bandwidth_hz / self.b_scale), np.log(power_w / self.p_scale)
        z = k * np.exp(-beta)
        log_em1 = np.where(z > 30.0, z + np.log1p(-np.exp(-np.minimum(z, 700.0))), np.log(np.expm1(np.clip(z, 1e-300, 30.0))))
        with np.errstate(over="ignore"):
            return np.exp(log_c + beta - pi + log_em1)

    def sca(self, o: np.ndarray, bandwidth_hz: np.ndarray, power_w: np.ndarray, delta2: np.ndarray,
            weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[float]]:
        """Improve ``(B, P)`` of one slot ``(U,)`` given ``o``; returns them and the objective per iteration."""
        cp = _cvxpy()
        c = self.scenario.config
        u = delta2.shape[-1]  # the users sharing the budgets (a subset for crraus)
        eta = self.scenario.success(o, bandwidth_hz, power_w, delta2)["eta"]
        value = float(self.objective(o, bandwidth_hz, power_w, delta2, weight))
        trace = [value]
        log_c, k = self._log_x_terms(o, delta2)
        beta_min, pi_min = math.log(c.bandwidth_min_hz / self.b_scale), math.log(c.power_min_w / self.p_scale)
        for _ in range(self.max_sca_iterations):
            x0 = self.x_value(o, bandwidth_hz, power_w, delta2)
            # log of the tangent slope 2 phi(x0) w eta (phi: normal density), in log space.
            with np.errstate(divide="ignore", over="ignore"):  # x0^2 -> inf: a slope of 0, parked below
                log_slope = math.log(2.0) - 0.5 * math.log(2 * math.pi) - 0.5 * x0**2 + np.log(weight * eta)
            active = log_slope > _LOG_PHI_FLOOR
            if not active.any():
                break
            idx = np.flatnonzero(active)
            n = idx.size
            beta0, pi0 = np.log(bandwidth_hz[idx] / self.b_scale), np.log(power_w[idx] / self.p_scale)
            beta, pi = cp.Variable(n), cp.Variable(n)
            # Normalise the slopes so the largest is 1 (a positive factor: same maximiser).
            log_lam = log_slope[idx] - log_slope[idx].max()
            lin = np.exp(log_lam + log_c[idx] + beta0 - pi0)  # lambda_i C_i e^(beta0 - pi0)
            convex_part = cp.exp(beta - pi + cp.multiply(k[idx], cp.exp(-beta)) + (log_lam + log_c[idx]))
            surrogate = cp.sum(convex_part) - lin @ (beta - pi)
            parked = u - n
            constraints = [
                cp.sum(self.b_scale * cp.exp(beta)) <= c.bandwidth_max_hz - parked * c.bandwidth_min_hz,
                cp.sum(self.p_scale * cp.exp(pi)) <= c.power_max_w - parked * c.power_min_w,
                beta >= beta_min, pi >= pi_min,
                cp.abs(beta - beta0) <= TRUST, cp.abs(pi - pi0) <= TRUST,
            ]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # "may be inaccurate": the acceptance test decides
                    cp.Problem(cp.Minimize(surrogate), constraints).solve(solver=cp.CLARABEL)
            except cp.SolverError:
                break
            if beta.value is None:
                break
            new_b = np.full(u, c.bandwidth_min_hz)
            new_p = np.full(u, c.power_min_w)
            new_b[idx] = self.b_scale * np.exp(beta.value)
            new_p[idx] = self.p_scale * np.exp(pi.value)
            new_b = _fit_budget(np.maximum(new_b, c.bandwidth_min_hz), c.bandwidth_max_hz, c.bandwidth_min_hz)
            new_p = _fit_budget(np.maximum(new_p, c.power_min_w), c.power_max_w, c.power_min_w)
            new_value = float(self.objective(o, new_b, new_p, delta2, weight))
            if new_value < value:  # inexact solve: keep the monotone guarantee, stop here
                break
            bandwidth_hz, power_w = new_b, new_p
            gain, value = new_value - value, new_value
            trace.append(value)
            if gain < TOLERANCE:
                break
        return bandwidth_hz, power_w, trace


class FCR(_SCA):
    """``fcr``: ``o = 0.8``, resources by the SCA from two starts, equal and concentrated resources
    (the better result is kept; cvxpy; loops over copies)."""

    name = "fcr"

    def concentrated_resources(self, o: np.ndarray, delta2: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The best of the ``U`` allocations "the ``k`` strongest users share the budgets above the minimums".

        At tight budgets every user's delivery probability (and its gradient) underflows at equal
        resources, so the SCA has nothing to climb from there; concentrating the resources on a few
        strong users gives it a start with non-vanishing gradients.
        """
        c = self.scenario.config
        n = delta2.shape[-1]
        order = np.argsort(-delta2, kind="stable")
        member = np.zeros((n, n), dtype=bool)  # row k-1: the k strongest users
        for k in range(1, n + 1):
            member[k - 1, order[:k]] = True
        count = np.arange(1, n + 1)[:, None]
        bandwidth = np.where(member, c.bandwidth_min_hz + (c.bandwidth_max_hz - n * c.bandwidth_min_hz) / count, c.bandwidth_min_hz)
        power = np.where(member, c.power_min_w + (c.power_max_w - n * c.power_min_w) / count, c.power_min_w)
        values = self.objective(np.broadcast_to(o, (n, n)), bandwidth, power, delta2, weight)
        best = int(np.argmax(values))
        return bandwidth[best], power[best]

    def solve_one(self, delta2: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        o = np.full(delta2.shape, FIXED_O)
        runs = {}
        for start, (bandwidth, power) in (("equal", self.equal_resources(delta2.shape)),
                                          ("concentrated", self.concentrated_resources(o, delta2, weight))):
            runs[start] = self.sca(o, bandwidth, power, delta2, weight)
        self.start_traces = {start: run[2] for start, run in runs.items()}
        bandwidth, power, trace = max(runs.values(), key=lambda run: run[2][-1])  # ties: the equal start
        self.history = [trace]
        return o, bandwidth, power

    def solve(self, delta2, weight):
        out = [self.solve_one(d, w) for d, w in zip(delta2, weight)]
        return tuple(np.stack(v) for v in zip(*out))


class CRRA(FCR):
    """``crra`` (Algorithm 4): alternate per-user o enumeration and the SCA (cvxpy; loops over copies)."""

    name = "crra"

    def solve_one(self, delta2, weight):
        o_fcr, b_fcr, p_fcr = super().solve_one(delta2, weight)
        b_eq, p_eq = self.equal_resources(delta2.shape)
        o_fra = self.best_o(b_eq, p_eq, delta2)
        starts = [(o_fcr, b_fcr, p_fcr), (o_fra, b_eq, p_eq)]
        o, bandwidth, power = max(starts, key=lambda s: float(self.objective(*s, delta2, weight)))
        value = float(self.objective(o, bandwidth, power, delta2, weight))
        history = [[value]]
        for _ in range(self.max_rounds):
            o_new = self.best_o(bandwidth, power, delta2)
            if float(self.objective(o_new, bandwidth, power, delta2, weight)) >= value:  # (a) never decreases
                o = o_new
            bandwidth, power, trace = self.sca(o, bandwidth, power, delta2, weight)  # (b) never decreases
            history.append(trace)
            new_value = trace[-1]
            if abs(new_value - value) < TOLERANCE:
                value = new_value
                break
            value = new_value
        self.history = history
        return o, bandwidth, power


class CRRAUS(CRRA):
    """``crraus`` (Algorithm 6): CRRA plus 0/1 user selection by branch and bound (loops over copies).

    Unselected users use no resources, so the selected set ``S`` shares the whole budgets; the value
    of a leaf ``S`` is :class:`CRRA`'s objective on ``S`` alone. Nodes fix some users in (``F``)
    and some out, the rest (``D``) open; a node is pruned when an upper bound on
    ``max_{S: F <= S <= F+D} max_{o,B,P} sum_S w_i Phi_i`` (hence on every leaf below it) does not
    exceed the incumbent, so the search returns the best CRRA value over all ``2^U`` selections
    (brute force) unless ``max_evaluations`` leaves are evaluated first (then the best found; the
    count of the last slot is in ``self.stats``).

    Bound (Lagrangian relaxation of (14a)/(14c)): with ``g_i(B, P) = max_o w_i Phi_i`` and any
    ``lam, mu >= 0``, the node value is at most ``lam B_max + mu P_max + sum_F h_i + sum_D
    max(h_i, 0)`` with ``h_i = max_{B, P} g_i - lam B - mu P`` over ``[B_min, B_max] x [P_min,
    P_max]``. ``g_i`` is non-decreasing in ``B`` and ``P``, so on a grid cell ``[B_k, B_k+1] x
    [P_l, P_l+1]`` the cell's ``g_i(B_k+1, P_l+1) - lam B_k - mu P_l`` bounds it: ``h_i`` is
    over-estimated on a log grid (exactly an upper bound, however coarse), and the node bound is
    the smallest over a grid of ``(lam, mu)``. The starting incumbent is CRRA on all users (so
    ``crraus >= crra``), then CRRA on the users it gives a success probability of at least 1e-3;
    users are branched in decreasing order of ``max g_i``, "in" before "out", depth first.
    """

    name = "crraus"

    def __init__(self, scenario: TaskOriented, max_evaluations: int = 256, grid_points: int = 24, dual_points: int = 31,
                 **kwargs) -> None:
        super().__init__(scenario, **kwargs)
        c = scenario.config
        self.max_evaluations = max_evaluations
        self.b_grid = np.geomspace(c.bandwidth_min_hz, c.bandwidth_max_hz, grid_points)
        self.p_grid = np.geomspace(c.power_min_w, c.power_max_w, grid_points)
        t = np.concatenate([[0.0], np.geomspace(1e-3, float(c.num_users), dual_points - 1)])
        self.lam = (t / c.bandwidth_max_hz)[:, None] * np.ones((1, dual_points))  # (L, M) grid of (lam, mu)
        self.mu = np.ones((dual_points, 1)) * (t / c.power_max_w)[None, :]
        self.stats: dict[str, int | bool] = {}

    def reduced_values(self, delta2: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(h, gmax)``: ``h[i, l, m]`` the over-estimated ``h_i`` at ``(lam_l, mu_m)``, ``gmax[i]`` = ``max g_i``."""
        nb, np_ = self.b_grid.size, self.p_grid.size
        b, p = self.b_grid[:, None, None], self.p_grid[None, :, None]
        g = np.stack([(w * self.scenario.success(self.o_grid[:, None, None, None], b, p, d)["success_prob"]).max(axis=0)
                      for d, w in zip(delta2, weight)])  # (U, nb, np, 1) -> g at the grid points
        g = g[..., 0]
        upper = g[:, np.minimum(np.arange(nb) + 1, nb - 1)][:, :, np.minimum(np.arange(np_) + 1, np_ - 1)]  # cell's top corner
        cost = self.lam.reshape(-1, 1, 1) * self.b_grid[None, :, None] + self.mu.reshape(-1, 1, 1) * self.p_grid[None, None, :]
        h = (upper[:, None] - cost[None]).reshape(delta2.size, -1, nb * np_).max(axis=-1).reshape((delta2.size,) + self.lam.shape)
        return h, g.reshape(delta2.size, -1).max(axis=-1)

    def _leaf(self, subset: tuple[int, ...], delta2: np.ndarray, weight: np.ndarray):
        idx = np.asarray(subset, dtype=np.int64)
        o, bandwidth, power = CRRA.solve_one(self, delta2[idx], weight[idx])
        return float(self.objective(o, bandwidth, power, delta2[idx], weight[idx])), (idx, o, bandwidth, power)

    def solve_one_selected(self, delta2: np.ndarray, weight: np.ndarray):
        c = self.scenario.config
        u = delta2.size
        seen: dict[tuple[int, ...], float] = {}
        best_value, best = -math.inf, None

        def evaluate(subset: tuple[int, ...]) -> None:
            nonlocal best_value, best
            if not subset or subset in seen:
                return
            value, solution = self._leaf(subset, delta2, weight)
            seen[subset] = value
            if value > best_value + 1e-12:
                best_value, best = value, solution

        evaluate(tuple(range(u)))  # CRRA on every user: crraus >= crra
        _, _, bw_all, pw_all = best
        phi = self.scenario.success(best[1], bw_all, pw_all, delta2)["success_prob"]
        evaluate(tuple(int(i) for i in np.flatnonzero(phi >= 1e-3)))
        h, gmax = self.reduced_values(delta2, weight)
        fixed = c.bandwidth_max_hz * self.lam + c.power_max_w * self.mu
        order = [int(i) for i in np.argsort(-gmax, kind="stable")]
        h_pos = np.maximum(h, 0.0)
        exhausted = False

        def bound(inside: list[int], depth: int) -> float:
            total = fixed + h[inside].sum(axis=0) + h_pos[order[depth:]].sum(axis=0)
            return float(total.min())

        def branch(inside: list[int], depth: int) -> None:
            nonlocal exhausted
            if exhausted or bound(inside, depth) <= best_value + 1e-9:
                return
            if depth == u:
                if len(seen) >= self.max_evaluations:
                    exhausted = True
                    return
                evaluate(tuple(sorted(inside)))
                return
            branch(inside + [order[depth]], depth + 1)
            branch(inside, depth + 1)

        branch([], 0)
        self.stats = {"evaluations": len(seen), "exhausted": exhausted}
        idx, o_s, b_s, p_s = best
        o, bandwidth, power = np.zeros(u), np.zeros(u), np.zeros(u)
        o[idx], bandwidth[idx], power[idx] = o_s, b_s, p_s
        selected = np.zeros(u, dtype=bool)
        selected[idx] = True
        return o, bandwidth, power, selected

    def solve_selected(self, delta2, weight):
        out = [self.solve_one_selected(d, w) for d, w in zip(delta2, weight)]
        return tuple(np.stack(v) for v in zip(*out))

    def solve(self, delta2, weight):
        """``(o, B, P)`` with zeros for the unselected users (use :meth:`solve_selected` for ``beta``)."""
        return self.solve_selected(delta2, weight)[:3]


__all__ = ["CRRA", "CRRAUS", "FCR", "FRA", "MSR", "Equal", "LocalSelect"]
