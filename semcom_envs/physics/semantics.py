"""Semantic performance models that stand in for trained semantic codecs.

Pure, vectorised numpy functions; every argument broadcasts like a numpy ufunc. The four models, cited
elsewhere in the package as ``physics.semantics`` §1-§4:

- §1 DeepSC text codec: sentence similarity ``xi(k, snr)`` of a k-symbols-per-word encoding, from
  the measured table shipped as ``semcom_envs/data/deepsc_similarity.csv`` (:func:`deepsc_similarity`,
  :func:`deepsc_table`), a fitted logistic surrogate (:func:`fit_deepsc_logistic`, coefficients in
  ``semcom_envs/data/deepsc_logistic.csv``) and the source's reference simulation
  (:func:`semantic_spectral_efficiency_reference`). The table comes from the simulation code of Yan,
  Qin, Zhang, Li and Li, "Resource Allocation for Text Semantic Communications" (IEEE Wireless
  Communications Letters, 2022), as the CSV's header says.
- §2 ASC task success versus compression ratio ``eta(o)`` (:func:`asc_task_success`): the fits of
  Liu, Guo, Yang and Jiang, "Adaptable Semantic Compression and Resource Allocation for Task-Oriented
  Communications" (its Table IV).
- §3 Scalable extraction (SE-SC): similarity versus semantic features sent
  (:func:`sesc_similarity`, :func:`features_for_threshold`), after Fu, Cheng, Zhang and Wang,
  "Scalable Extraction Based Semantic Communication for 6G Wireless Networks".
- §4 BLEU stand-in versus feature dimension (:func:`bleu_proxy`).

Validation happens once, in the public functions. Environments that step the DeepSC lookup millions
of times per second call the unchecked :func:`_deepsc_similarity_table_linear` on arrays they have
already validated.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import resources

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import curve_fit, linear_sum_assignment
from scipy.special import betaincc, expit

from semcom_envs.physics.radio import linear_to_db, path_loss_db

DEEPSC_K_MAX: int = 20
"""Largest number of semantic symbols per word in the DeepSC table (rows k = 1..20)."""

_SNR_MIN_DB, _SNR_MAX_DB = -10.0, 20.0  # the range over which DeepSC was measured
DEEPSC_SNR_DB: np.ndarray = np.arange(_SNR_MIN_DB, _SNR_MAX_DB + 1.0, dtype=np.float64)
"""The 31 SNR grid points (dB) of the DeepSC table columns: -10, -9, ..., 20."""
DEEPSC_SNR_DB.setflags(write=False)

# Row stride of the raveled table, as a typed scalar so that ``k_idx0 * _N_SNR`` is computed in intp
# even when k_idx0 is int8/uint8 (19 * 31 would silently wrap around in 8 bits).
_N_SNR = np.intp(DEEPSC_SNR_DB.size)
_DATA_PACKAGE = "semcom_envs"
_TABLE_CSV = "deepsc_similarity.csv"
_LOGISTIC_CSV = "deepsc_logistic.csv"  # written by semcom_envs/physics/fit_deepsc_logistic.py
_LOGISTIC_COLUMNS = ("k", "A1", "A2", "C1", "C2", "rmse")  # rmse: the fit's RMSE against its row


# --------------------------------------------------------------------------------------------------
# Package data
# --------------------------------------------------------------------------------------------------


def _read_data_csv(name: str) -> tuple[list[str], np.ndarray]:
    """Header fields and float rows of a package CSV whose comment lines start with '#'."""
    text = (resources.files(_DATA_PACKAGE) / "data" / name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    header = [field.strip() for field in lines[0].split(",")]
    return header, np.loadtxt(lines[1:], delimiter=",", dtype=np.float64, ndmin=2)


@functools.cache
def deepsc_table() -> np.ndarray:
    """The measured DeepSC similarity table, shape (20, 31): row k-1, column SNR = -10..20 dB.

    Read once from package data and returned read-only (the same array on every call), exactly as
    measured: the rows are not monotone in k and saturated rows dip slightly at high SNR (kept as
    measured on purpose).
    """
    header, rows = _read_data_csv(_TABLE_CSV)
    expected = ["k", *(str(int(s)) for s in DEEPSC_SNR_DB)]
    if header != expected or rows.shape != (DEEPSC_K_MAX, 1 + DEEPSC_SNR_DB.size) or not np.array_equal(
        rows[:, 0], np.arange(1, DEEPSC_K_MAX + 1)
    ):
        raise ValueError(f"package data {_TABLE_CSV} is malformed: expected header {expected} and rows k = 1..20")
    table = np.ascontiguousarray(rows[:, 1:])
    table.setflags(write=False)
    return table


def _lookup_arrays(dtype: type[np.floating]) -> tuple[np.ndarray, np.ndarray]:
    """Raveled table and per-dB slope (0 in the last column) for flat-index linear interpolation.

    Storing the slope ``T[k, i+1] - T[k, i]`` instead of gathering the right neighbour saves an index
    increment and a subtraction per call, and the zero slope at 20 dB means no index ever reaches
    past a row's end.
    """
    table = deepsc_table().astype(dtype)
    slope = np.zeros_like(table)
    slope[:, :-1] = np.diff(table, axis=1)
    flat, slope_flat = table.ravel(), slope.ravel()
    flat.setflags(write=False)
    slope_flat.setflags(write=False)
    return flat, slope_flat


# Built at import so that the hot path below does no lazy loading or dictionary lookups.
_XI_FLAT64, _XI_SLOPE64 = _lookup_arrays(np.float64)
_XI_FLAT32, _XI_SLOPE32 = _lookup_arrays(np.float32)
_FLOAT32 = np.dtype(np.float32)


@functools.cache
def _deepsc_logistic_coefficients() -> np.ndarray:
    """Shipped logistic coefficients (A1, A2, C1, C2), shape (20, 4), read once and read-only.

    Loaded lazily (not at import) so that the fitting script can import this module to regenerate
    the file when it is missing.
    """
    header, rows = _read_data_csv(_LOGISTIC_CSV)
    if header != list(_LOGISTIC_COLUMNS) or rows.shape != (DEEPSC_K_MAX, len(_LOGISTIC_COLUMNS)) or not np.array_equal(
        rows[:, 0], np.arange(1, DEEPSC_K_MAX + 1)
    ):
        raise ValueError(
            f"package data {_LOGISTIC_CSV} is malformed; regenerate it with "
            "`python -m semcom_envs.physics.fit_deepsc_logistic`"
        )
    coefficients = np.ascontiguousarray(rows[:, 1:5])
    coefficients.setflags(write=False)
    return coefficients


# --------------------------------------------------------------------------------------------------
# Validation helpers (public entry points only)
# --------------------------------------------------------------------------------------------------


def _as_float_array(x: ArrayLike, name: str) -> np.ndarray:
    """``x`` as a float32 (kept) or float64 array; NaN is rejected with the argument's name."""
    a = np.asarray(x)
    if a.dtype != np.float32 and a.dtype != np.float64:
        a = a.astype(np.float64)
    if np.isnan(a).any():
        raise ValueError(f"{name} must not contain NaN")
    return a


def _as_k_index0(k: ArrayLike, name: str = "k") -> np.ndarray:
    """0-based intp row index of integer-valued ``k`` in 1..20 (integral floats are accepted)."""
    a = np.asarray(k)
    if a.dtype.kind in "iu":
        k_int = a.astype(np.intp, copy=False)
    elif a.dtype.kind == "f" and np.all(np.isfinite(a) & (a == np.round(a))):
        k_int = a.astype(np.intp)
    else:
        raise ValueError(f"{name} must be an integer in 1..{DEEPSC_K_MAX} (symbols per word); got {k!r}")
    if k_int.size and (k_int.min() < 1 or k_int.max() > DEEPSC_K_MAX):
        bad = k_int[(k_int < 1) | (k_int > DEEPSC_K_MAX)].flat[0]
        raise ValueError(f"{name} must be an integer in 1..{DEEPSC_K_MAX} (symbols per word); got {bad}")
    return k_int - 1


def _snr_to_full_shape(snr_db: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``snr_db`` as a view of the broadcast shape, at least 1-d (ufuncs return scalars on 0-d).

    The kernels write their result into arrays shaped like the SNR argument, so it must carry the
    full shape; the integer argument may stay smaller and broadcasts inside the kernels.
    """
    full = shape or (1,)
    return snr_db if snr_db.shape == full else np.broadcast_to(snr_db, full)


# --------------------------------------------------------------------------------------------------
# §1 DeepSC sentence similarity
# --------------------------------------------------------------------------------------------------


def _deepsc_similarity_table_linear(k_idx0: np.ndarray, snr_db: np.ndarray) -> np.ndarray:
    """Unchecked hot path of :func:`deepsc_similarity` (table, linear interpolation in dB).

    Preconditions (not checked): ``k_idx0`` is a signed (or small unsigned) integer array of
    0-based rows in 0..19 that broadcasts to ``snr_db.shape``; ``snr_db`` is a float32 or float64
    array of at least one dimension. NaN in ``snr_db`` yields NaN; -inf clips to -10 dB. Returns a
    new array of ``snr_db``'s shape and dtype; the inputs are not modified.
    """
    # §1: linear interpolation in dB on the 1-dB grid, SNR clipped to [-10, 20] dB,
    # as one flat gather idx = k * 31 + i0 into the raveled table (no np.interp, no loop over k).
    if snr_db.dtype is _FLOAT32:
        flat, slope = _XI_FLAT32, _XI_SLOPE32
    else:
        flat, slope = _XI_FLAT64, _XI_SLOPE64
    x = np.maximum(snr_db, _SNR_MIN_DB)  # float scratch, reused below as the second gather target
    np.minimum(x, _SNR_MAX_DB, out=x)
    x -= _SNR_MIN_DB  # position on the grid, in [0, 30]
    idx = x.astype(np.intp)  # floor, since x >= 0
    x -= idx  # fractional part
    idx += k_idx0 * _N_SNR
    # mode="clip": indices are in range by construction; "raise" would buffer the out= gather.
    out = slope.take(idx, mode="clip")
    out *= x
    flat.take(idx, out=x, mode="clip")
    out += x
    return out


def _deepsc_similarity_table_round(k_idx0: np.ndarray, snr_db: np.ndarray) -> np.ndarray:
    """Unchecked kernel of ``interp="round"``: the table at the nearest integer dB.

    Ties go away from zero, as MATLAB's ``round`` in the source's code. Same preconditions and
    return convention as :func:`_deepsc_similarity_table_linear`, except that NaN gives the -10 dB
    column instead of NaN.
    """
    flat = _XI_FLAT32 if snr_db.dtype is _FLOAT32 else _XI_FLAT64
    x = np.fmax(snr_db, _SNR_MIN_DB)  # fmax, not maximum: NaN becomes -10 dB, a valid column
    np.minimum(x, _SNR_MAX_DB, out=x)
    x += np.copysign(0.5, x)
    np.trunc(x, out=x)  # §1, interp="round"
    x -= _SNR_MIN_DB
    idx = x.astype(np.intp)
    idx += k_idx0 * _N_SNR
    return flat.take(idx, mode="clip")


def _logistic_curve(snr_db: ArrayLike, a1: ArrayLike, a2: ArrayLike, c1: ArrayLike, c2: ArrayLike) -> np.ndarray:
    """The surrogate as a function of its four coefficients (also the model ``curve_fit`` fits)."""
    return a1 + (a2 - a1) * expit(c1 * snr_db + c2)  # §1, smooth surrogate


def _deepsc_logistic(k_idx0: np.ndarray | int, snr_db: np.ndarray) -> np.ndarray:
    """Logistic surrogate with the shipped coefficients of rows ``k_idx0``, SNR clipped to the table."""
    coefficients = _deepsc_logistic_coefficients().astype(snr_db.dtype, copy=False)
    a1, a2, c1, c2 = np.moveaxis(coefficients[k_idx0], -1, 0)
    return _logistic_curve(np.clip(snr_db, _SNR_MIN_DB, _SNR_MAX_DB), a1, a2, c1, c2)


def deepsc_similarity(k: ArrayLike, snr_db: ArrayLike, *, interp: str = "linear", model: str = "table") -> np.ndarray:
    """DeepSC sentence similarity ``xi(k, snr)`` in [0, 1] (§1).

    Args:
        k: semantic symbols per word, integer-valued in 1..20, any shape.
        snr_db: SNR in dB, broadcastable with ``k``. Clipped to the table's [-10, 20] dB (the codec was
            measured only there; ``-inf`` is allowed and gives the -10 dB value). NaN is an error.
        interp: ``"linear"`` (default): linear interpolation in dB between the 1-dB columns;
            ``"round"``: the column at the nearest integer dB, ties away from zero, which is what the
            source's own simulation code does (use it for exact reproduction). Table model only.
        model: ``"table"`` (default): the measured table; ``"logistic"``: the smooth, differentiable
            surrogate fitted to each row (see :func:`fit_deepsc_logistic`). The surrogate is only
            valid inside [-10, 20] dB (it is evaluated on the clipped SNR): for k = 1 its upper
            asymptote is a bound, not a measurement.

    Returns:
        Array of the broadcast shape, float32 if ``snr_db`` is float32, float64 otherwise.

    Raises:
        ValueError: ``k`` is not an integer in 1..20, ``snr_db`` contains NaN, or an unknown
            ``interp`` / ``model``.
    """
    if model not in ("table", "logistic"):
        raise ValueError(f"model must be 'table' or 'logistic'; got {model!r}")
    if interp not in ("linear", "round"):
        raise ValueError(f"interp must be 'linear' or 'round'; got {interp!r}")
    if model == "logistic" and interp != "linear":
        raise ValueError("interp applies to model='table' only; the logistic surrogate is continuous in SNR")
    k_idx0 = _as_k_index0(k)
    snr = _as_float_array(snr_db, "snr_db")
    shape = np.broadcast_shapes(k_idx0.shape, snr.shape)
    snr_full = _snr_to_full_shape(snr, shape)
    if model == "logistic":
        out = _deepsc_logistic(k_idx0, snr_full)
    elif interp == "linear":
        out = _deepsc_similarity_table_linear(k_idx0, snr_full)
    else:
        out = _deepsc_similarity_table_round(k_idx0, snr_full)
    return out.reshape(shape)


def deepsc_kernel(model: str = "table", interp: str = "linear") -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The unchecked ``xi(k_idx0, snr_db)`` of ``model``/``interp``, for environments' hot paths.

    Environments validate their configuration once and then call the kernel every slot with
    0-based integer rows and a float SNR array (see :func:`_deepsc_similarity_table_linear` for the
    preconditions); :func:`deepsc_similarity` is the checked public entry point.
    """
    if model == "logistic":
        return _deepsc_logistic
    return _deepsc_similarity_table_round if interp == "round" else _deepsc_similarity_table_linear


def fit_deepsc_logistic() -> np.ndarray:
    """Least-squares logistic coefficients (A1, A2, C1, C2) for each table row, shape (20, 4).

    ``xi = A1 + (A2 - A1) / (1 + exp(-(C1 snr_db + C2)))`` is fitted to each row on the 31 grid
    points with ``scipy.optimize.curve_fit``. Bounds: A1, A2 in [0, 1] (similarities) and C1 >= 0
    (similarity rises with SNR). The start is the row's minimum and maximum and a midpoint at the
    grid SNR closest to half-way, which reaches the same optimum as a multi-start search on every
    row. Every row fits with RMSE < 0.01 (worst k = 2, about 0.0099: its slow linear rise below 0 dB
    is not logistic). For k = 1 the row climbs only from 0.39 to 0.50 and the upper asymptote is not
    identifiable: A2 sits on its bound of 1, so the surrogate must not be extrapolated beyond the
    table's [-10, 20] dB.

    The shipped ``semcom_envs/data/deepsc_logistic.csv`` is this function's output, written by
    ``python -m semcom_envs.physics.fit_deepsc_logistic``.
    """
    snr = DEEPSC_SNR_DB
    lower, upper = (0.0, 0.0, 0.0, -np.inf), (1.0, 1.0, np.inf, np.inf)
    coefficients = np.empty((DEEPSC_K_MAX, 4))
    for row, xi in enumerate(deepsc_table()):  # 20 independent 4-parameter fits
        low, high = float(xi.min()), float(xi.max())
        snr_mid = float(snr[np.argmin(np.abs(xi - 0.5 * (low + high)))])
        p0 = (low, high, 0.5, -0.5 * snr_mid)
        coefficients[row], _ = curve_fit(_logistic_curve, snr, xi, p0=p0, bounds=(lower, upper))
    return coefficients


def semantic_spectral_efficiency_reference(
    rng: np.random.Generator | int | None = None,
    *,
    n_drops: int = 4000,
    interp: str = "round",
    min_distance_m: float = 35.0,
) -> float:
    """Mean sum semantic spectral efficiency (sum of xi/k) of the source's single-cell simulation.

    The source's reference check (§1): one cell of radius 500 m, 5 users uniform in the disc, 5
    channels of 180 kHz, p = 10 dBm, path loss ``128.1 + 37.6 log10 d[km]`` plus a fixed 6 dB
    shadowing margin, noise -174 dBm/Hz, Rayleigh fading ``|h|^2 ~ Exp(1)`` per user-channel pair.
    For each pair the number of symbols k maximises ``xi/k`` subject to ``xi >= 0.9`` (exhaustive
    search over k = 1..20; a pair with no feasible k is worth 0), then users are assigned to channels
    by the Hungarian method (``scipy.optimize.linear_sum_assignment``). Returns the mean over
    ``n_drops`` independent drops.

    Where the source's description leaves points open:

    - ``interp="round"`` by default, because that is the source's own lookup (nearest integer dB,
      SNR clipped to [-10, 20] dB); ``"linear"`` is available.
    - Users are drawn uniformly in the annulus ``min_distance_m <= d <= 500 m``. The source has no
      minimum distance; 35 m is a common macro-cell minimum. It changes nothing measurable: at 35 m
      the mean SNR is about 52 dB, far above the table's 20 dB clip, and the excluded disc is 0.5 %
      of the cell.

    Measured with this function (seed 0, 20 000 drops): 1.1848 (round) and 1.1871 (linear); the
    per-drop standard deviation is 0.034, so the standard error is 0.0002. The source reports
    1.17779 from 1000 drops (standard error about 0.001): the 0.6 % gap is systematic, not sampling
    noise, and equals the effect of about 0.5 dB less SNR in every link (an extra 0.5 dB loss gives
    1.1776 here). Its cause lies outside what the source's description pins down (its own table file and
    assignment code); the tests accept 1.18 +- 0.01.
    """
    if interp not in ("linear", "round"):
        raise ValueError(f"interp must be 'linear' or 'round'; got {interp!r}")
    if n_drops < 1:
        raise ValueError(f"n_drops must be >= 1; got {n_drops}")
    generator = np.random.default_rng(rng)
    n_users = n_channels = 5
    radius_m, p_dbm, shadowing_db = 500.0, 10.0, 6.0
    noise_dbm = -174.0 + float(linear_to_db(180e3))  # over one 180 kHz channel
    xi_threshold = 0.9

    # §1 reference check. Uniform in the annulus: r^2 is uniform in [r_min^2, R^2].
    r2 = generator.uniform(min_distance_m**2, radius_m**2, size=(n_drops, n_users))
    loss_db = path_loss_db(np.sqrt(r2), intercept_db=128.1, slope_db=37.6) + shadowing_db
    fading = generator.exponential(size=(n_drops, n_users, n_channels))
    snr_db = p_dbm - loss_db[..., None] + linear_to_db(fading) - noise_dbm  # (drops, users, channels)

    k = np.arange(1, DEEPSC_K_MAX + 1)
    xi = deepsc_similarity(k, snr_db[..., None], interp=interp)  # (drops, users, channels, k)
    semantic_se = np.where(xi >= xi_threshold, xi / k, 0.0).max(axis=-1)
    # One 5x5 assignment per drop: a loop over drops, not over array elements.
    totals = [se[linear_sum_assignment(se, maximize=True)].sum() for se in semantic_se]
    return float(np.mean(totals))


# --------------------------------------------------------------------------------------------------
# §2 ASC task success versus compression ratio
# --------------------------------------------------------------------------------------------------

# §2: (z1, z2, z3, z4) of eta(o) = z1 exp(z2 o) + z3 exp(z4 o) for STL-10
# classification at SNR = -5, 0, 5 dB; source: the task-oriented (ASC) paper's Table IV.
_ASC_SNR_DB = np.array([-5.0, 0.0, 5.0])
_ASC_COEFFICIENTS: dict[str, np.ndarray] = {
    "vgg": np.array(
        [
            [-9.503e-17, 36.77, 0.9044, -0.01869],
            [-2.202e-16, 35.94, 0.9137, -0.02349],
            [-2.76e-18, 40.33, 0.9205, -0.02257],
        ]
    ),
    "resnet": np.array(
        [
            [-6.205e-08, 16.45, 0.9228, -0.06917],
            [-2.893e-16, 35.68, 0.9482, -0.04151],
            [-8.875e-16, 34.54, 0.9458, 0.007934],
        ]
    ),
}


def _asc_eta_at_row(o: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``eta(o)`` for coefficient rows ``z`` (shape (..., 4)), clipped to [0, 1] (§2)."""
    z1, z2, z3, z4 = np.moveaxis(z, -1, 0)
    return np.clip(z1 * np.exp(z2 * o) + z3 * np.exp(z4 * o), 0.0, 1.0)  # §2


def asc_task_success(o: ArrayLike, snr_db: ArrayLike, backbone: str = "resnet") -> np.ndarray:
    """ASC task success rate ``eta(o)`` in [0, 1] at compression ratio ``o`` (§2).

    ``eta(o) = z1 exp(z2 o) + z3 exp(z4 o)``, clipped to [0, 1], with the STL-10 coefficients of the
    given backbone at -5, 0 and 5 dB. Between tabulated SNRs both neighbours are evaluated and their
    results interpolated linearly in SNR; outside [-5, 5] dB the nearest table entry is used. The
    success rate stays near its o = 0 value up to o ~ 0.9 and collapses as o -> 1.

    Args:
        o: compression ratio (fraction of features dropped) in [0, 1).
        snr_db: SNR in dB, broadcastable with ``o``.
        backbone: ``"vgg"`` or ``"resnet"`` (case-insensitive).
    """
    key = backbone.lower() if isinstance(backbone, str) else None
    if key not in _ASC_COEFFICIENTS:
        raise ValueError(f"backbone must be one of {sorted(_ASC_COEFFICIENTS)} (case-insensitive); got {backbone!r}")
    o_arr = _as_float_array(o, "o").astype(np.float64, copy=False)
    if not np.all((o_arr >= 0.0) & (o_arr < 1.0)):
        raise ValueError("o (compression ratio) must lie in [0, 1)")
    snr = _as_float_array(snr_db, "snr_db").astype(np.float64, copy=False)
    z = _ASC_COEFFICIENTS[key]
    # §2: clamp to [-5, 5] dB, then interpolate the two neighbours' eta linearly.
    position = (np.clip(snr, _ASC_SNR_DB[0], _ASC_SNR_DB[-1]) - _ASC_SNR_DB[0]) / 5.0  # in [0, 2]
    lower = np.minimum(position.astype(np.intp), 1)
    weight = position - lower
    eta_low = _asc_eta_at_row(o_arr, z[lower])
    eta_high = _asc_eta_at_row(o_arr, z[lower + 1])
    return eta_low + weight * (eta_high - eta_low)


# --------------------------------------------------------------------------------------------------
# §3 Scalable extraction (SE-SC)
# --------------------------------------------------------------------------------------------------


def sesc_similarity(
    n_features: ArrayLike, snr_db: ArrayLike, *, l_opt: ArrayLike, l_tot: ArrayLike, p: float = 0.5
) -> np.ndarray:
    """SE-SC semantic similarity after sending ``n_features`` of ``l_tot`` features (§3).

    ``sim(L) = s_max(snr) * min(1, L / l_opt)^p``: a concave rise up to ``l_opt`` (semantic parsing
    region), flat beyond it (semantic explicit region: shared knowledge fills in the rest).

    ``s_max(snr)`` is the §1 logistic surrogate of the k = 20 row (the codec's largest symbol
    budget, i.e. everything the channel lets through), evaluated on the SNR clipped to
    [-10, 20] dB. It rises from 0.44 to 0.97.

    Args:
        n_features: features sent, L, in [0, l_tot] (need not be an integer).
        snr_db: SNR in dB, broadcastable with ``n_features``.
        l_opt: optimal number of features, in (0, l_tot].
        l_tot: total number of extracted features, > 0.
        p: exponent of the rise, > 0 (0.5 by default: concave).
    """
    l_tot_a = np.asarray(l_tot, dtype=np.float64)
    l_opt_a = np.asarray(l_opt, dtype=np.float64)
    n = _as_float_array(n_features, "n_features").astype(np.float64, copy=False)
    snr = _as_float_array(snr_db, "snr_db").astype(np.float64, copy=False)
    if not np.all(l_tot_a > 0.0):
        raise ValueError("l_tot must be > 0")
    if not np.all((l_opt_a > 0.0) & (l_opt_a <= l_tot_a)):
        raise ValueError("l_opt must lie in (0, l_tot]")
    if not p > 0.0:
        raise ValueError(f"p must be > 0; got {p}")
    if not np.all((n >= 0.0) & (n <= l_tot_a)):
        raise ValueError("n_features must lie in [0, l_tot]")
    s_max = _deepsc_logistic(DEEPSC_K_MAX - 1, snr)
    with np.errstate(over="ignore"):  # n / l_opt overflows to inf only where n > l_opt: the minimum is 1 there
        return s_max * np.minimum(1.0, n / l_opt_a) ** p  # §3


def features_for_threshold(mu: ArrayLike, l_tot: ArrayLike, a: float = 2.0, b: float = 5.0) -> np.ndarray:
    """Features sent when only those with importance above ``mu`` are kept (§3).

    ``L(mu) = l_tot * (1 - F(mu))`` with ``F`` the Beta(a, b) CDF of feature importances, computed
    as the regularised upper incomplete beta function (no cancellation near mu = 1). Returns a
    real number of features; rounding is the caller's choice.

    With Beta(2, 5), raising mu from 0.2 to 0.3 removes 23.5 % of ``l_tot`` (close to the SE-SC paper's
    "about 23.7 %"), which is 35.9 % of the features sent at mu = 0.2.
    """
    mu_a = _as_float_array(mu, "mu").astype(np.float64, copy=False)
    l_tot_a = np.asarray(l_tot, dtype=np.float64)
    if not np.all((mu_a >= 0.0) & (mu_a <= 1.0)):
        raise ValueError("mu must lie in [0, 1]")
    if not np.all(l_tot_a > 0.0):
        raise ValueError("l_tot must be > 0")
    if not (a > 0.0 and b > 0.0):
        raise ValueError(f"a and b must be > 0; got a={a}, b={b}")
    return l_tot_a * betaincc(a, b, mu_a)  # §3: l_tot (1 - F(mu))


# --------------------------------------------------------------------------------------------------
# §4 BLEU stand-in
# --------------------------------------------------------------------------------------------------


def bleu_from_similarity(similarity: ArrayLike) -> np.ndarray:
    """The §4 stand-in's map from a DeepSC similarity to a BLEU-like score: ``max(0, (sim - 0.4) / 0.6)^1.5``."""
    return np.maximum(0.0, (np.asarray(similarity) - 0.4) / 0.6) ** 1.5  # §4


def bleu_proxy(d: ArrayLike, snr_db: ArrayLike) -> np.ndarray:
    """BLEU stand-in versus feature dimension ``d`` (§4). NOT a measurement.

    No measured BLEU table is available, so this is a placeholder with the right shape: it rises
    and saturates in ``d`` like the similarity and stays below it,
    :func:`bleu_from_similarity` of ``sim = deepsc_similarity(d, snr_db)``.
    Do not report numbers from it as BLEU scores.

    Args:
        d: features per word, integer-valued in 1..20 (the IoT auction uses 1..16).
        snr_db: uplink SNR in dB, broadcastable with ``d``.
    """
    return bleu_from_similarity(deepsc_similarity(_as_k_index0(d, "d") + 1, snr_db))
