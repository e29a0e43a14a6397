"""Validation helpers shared by every scenario configuration.

Every configuration error is a :class:`ConfigError` whose message names the field, the value given
and the allowed values, so that a typo in ``gym.make(..., num_cels=3)`` or an impossible
``p_min_dbm > p_max_dbm`` is caught at construction with a message that says how to fix it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

C = TypeVar("C")


class ConfigError(ValueError):
    """An invalid scenario configuration (names the field and the allowed values)."""


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (``high=None``: unbounded above)."""
    allowed = f"[{low}, {high}]" if high is not None else f">= {low}"
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ConfigError(f"{name}={value!r} is invalid: must be an integer {allowed}")
    v = int(value)
    if v < low or (high is not None and v > high):
        raise ConfigError(f"{name}={value!r} is invalid: must be an integer {allowed}")
    return v


def check_real(name: str, value: Any, low: float = -math.inf, high: float = math.inf,
               *, low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float in the interval given (open ends where requested)."""
    lo = f"({low}" if low_open else f"[{low}"
    hi = f"{high})" if high_open else f"{high}]"
    message = f"{name}={value!r} is invalid: must be a finite number in {lo}, {hi}"
    if isinstance(value, bool):
        raise ConfigError(message)
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(message) from None
    if not math.isfinite(v) or v < low or v > high or (low_open and v == low) or (high_open and v == high):
        raise ConfigError(message)
    return v


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """``value`` if it is one of ``choices``."""
    options = tuple(choices)
    if value not in options:
        raise ConfigError(f"{name}={value!r} is invalid: must be one of {', '.join(map(repr, options))}")
    return value


def check_interval(name: str, value: Any, low: float = -math.inf, high: float = math.inf) -> tuple[float, float]:
    """``value`` as a pair ``(a, b)`` with ``low <= a <= b <= high``."""
    try:
        a, b = (float(x) for x in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r} is invalid: must be a pair (low, high) within [{low}, {high}]") from None
    if not (math.isfinite(a) and math.isfinite(b)) or not low <= a <= b <= high:
        raise ConfigError(f"{name}={value!r} is invalid: must be a pair (low, high) with {low} <= low <= high <= {high}")
    return (a, b)


def check_order(low_name: str, low: float, high_name: str, high: float) -> None:
    """Raise unless ``low <= high``."""
    if low > high:
        raise ConfigError(f"{low_name}={low!r} must be <= {high_name}={high!r}")


def check_accuracy_model(model: Any, interp: Any) -> None:
    """Validate the DeepSC accuracy options ``accuracy_model`` and ``accuracy_interp`` (semantics §1)."""
    check_choice("accuracy_model", model, ("table", "logistic"))
    check_choice("accuracy_interp", interp, ("linear", "round"))
    if model == "logistic" and interp != "linear":
        raise ConfigError("accuracy_interp='round' applies to accuracy_model='table' only")


def build_config(cls: type[C], presets: Mapping[str, Mapping[str, Any]], kwargs: Mapping[str, Any]) -> C:
    """A config of dataclass ``cls`` from a preset name and keyword overrides.

    ``kwargs["preset"]`` (default: the first preset) selects a mapping of defaults; any other keyword
    overrides a field. Unknown keywords raise, listing the accepted ones, so a typo cannot be
    silently ignored.
    """
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(kwargs) - fields)
    if unknown:
        raise ConfigError(
            f"unknown config keyword(s) {', '.join(map(repr, unknown))} for {cls.__name__}; "
            f"accepted: {', '.join(sorted(fields))}"
        )
    preset = check_choice("preset", kwargs.get("preset", next(iter(presets))), presets)
    return cls(**{**presets[preset], **kwargs, "preset": preset})
