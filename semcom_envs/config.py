"""Declared, validated configuration fields shared by every scenario (and the agents' hyperparameters).

Every config field of a scenario is declared with its allowed values (:func:`param` with a
:class:`Spec`: :class:`Real`, :class:`Integer`, :class:`Interval`, :class:`Choice`, :class:`Flag`,
:class:`OrNone`, :class:`Fractions`, :class:`Text`). One declaration gives:

- validation at construction (:func:`validate_fields`), with a :class:`ConfigError` that names the
  field, the value given and the allowed values. Types are strict: a string is never a number
  (``p_max_dbm="3"`` raises, as does ``rate_req_ksuts="12"``), a bool is never a number, a number
  is never a bool;
- the documented range (:func:`describe_fields` renders the table in ``docs/configuration.md``);
- the range the property tests draw configurations from (``tests/scenarios/test_config_ranges.py``).

Constraints between fields are checked after the fields (:func:`check_less`), and their errors
name both fields, so ``cell_radius_m=5`` reports ``min_distance_m=10.0 must be < cell_radius_m=5.0``.
Unknown keywords raise an :class:`UnknownKeywordError`, which is also a ``TypeError`` whose text
contains Python's own ``unexpected keyword argument '<name>'`` (libraries that probe keywords,
such as torchrl's ``GymEnv``, rely on it).
"""

from __future__ import annotations

import abc
import dataclasses
import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import numpy as np

C = TypeVar("C")


class ConfigError(ValueError):
    """An invalid scenario configuration (names the field and the allowed values)."""


class UnknownKeywordError(ConfigError, TypeError):
    """A keyword that is not a config field: both a :class:`ConfigError` and Python's ``TypeError``."""


# ---------------------------------------------------------------------------------------------
# Checks of single values (also used directly by the agents' hyperparameter dataclasses)
# ---------------------------------------------------------------------------------------------


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    """A real number (Python or numpy int/float), never a bool, a string or an array."""
    return isinstance(value, numbers.Real) and not _is_bool(value)


def _fmt(x: float) -> str:
    """A bound as the user would write it (``1e+12`` as ``1e12``, ``200.0`` as ``200``)."""
    if isinstance(x, int) or (math.isfinite(x) and x == int(x) and abs(x) < 1e6):
        return str(int(x))
    mantissa, _, exponent = f"{x:g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def _real_range(low: float, high: float, low_open: bool, high_open: bool) -> str:
    return f"{'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}{')' if high_open else ']'}"


def _int_range(low: int, high: int | None) -> str:
    return f"[{low}, {high}]" if high is not None else f">= {low}"


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (``high=None``: unbounded above); bools, floats and strings raise."""
    message = f"{name}={value!r} is invalid: must be an integer {_int_range(low, high)}"
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise ConfigError(message)
    v = int(value)
    if v < low or (high is not None and v > high):
        raise ConfigError(message)
    return v


def check_real(name: str, value: Any, low: float = -math.inf, high: float = math.inf,
               *, low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float in the interval given (open ends where requested); strings and bools raise."""
    message = f"{name}={value!r} is invalid: must be a finite number in {_real_range(low, high, low_open, high_open)}"
    if not _is_real(value):
        raise ConfigError(message)
    v = float(value)
    if not math.isfinite(v) or v < low or v > high or (low_open and v == low) or (high_open and v == high):
        raise ConfigError(message)
    return v


def _same_kind(value: Any, option: Any) -> bool:
    """Whether ``value`` may equal ``option``: bools only bools, strings only strings, numbers only numbers."""
    if _is_bool(option) or _is_bool(value):
        return _is_bool(option) and _is_bool(value)
    if isinstance(option, str) or isinstance(value, str):
        return isinstance(option, str) and isinstance(value, str)
    if _is_real(option) or _is_real(value):
        return _is_real(option) and _is_real(value)
    return type(value) is type(option)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """The option of ``choices`` that ``value`` equals (and is of the same kind as: ``1`` is not ``True``)."""
    options = tuple(choices)
    for option in options:
        if _same_kind(value, option) and value == option:
            return option
    raise ConfigError(f"{name}={value!r} is invalid: must be one of {', '.join(map(repr, options))}")


def check_interval(name: str, value: Any, low: float = -math.inf, high: float = math.inf,
                   *, integer: bool = False) -> tuple[Any, Any]:
    """``value`` as a pair ``(a, b)`` of numbers with ``low <= a <= b <= high`` (integers if ``integer``)."""
    kind = "integers" if integer else "numbers"
    message = f"{name}={value!r} is invalid: must be a pair (low, high) of {kind} with {_fmt(low)} <= low <= high <= {_fmt(high)}"
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, np.ndarray)) or len(value) != 2:
        raise ConfigError(message)
    if not all(isinstance(x, numbers.Integral) and not _is_bool(x) if integer else _is_real(x) for x in value):
        raise ConfigError(message)
    a, b = (int(x) for x in value) if integer else (float(x) for x in value)
    if not (math.isfinite(a) and math.isfinite(b)) or not low <= a <= b <= high:
        raise ConfigError(message)
    return (a, b)


def check_less(low_name: str, low: float, high_name: str, high: float, *, strict: bool = False,
               why: str = "") -> None:
    """Raise unless ``low <= high`` (``low < high`` if ``strict``), naming both fields."""
    if low > high or (strict and low == high):
        reason = f" ({why})" if why else ""
        raise ConfigError(f"{low_name}={low!r} must be {'<' if strict else '<='} {high_name}={high!r}{reason}: "
                          f"change one of {low_name}, {high_name}")


def check_accuracy_model(model: Any, interp: Any) -> None:
    """The DeepSC accuracy options ``accuracy_model`` and ``accuracy_interp`` together (``physics.semantics`` §1)."""
    if model == "logistic" and interp != "linear":
        raise ConfigError(f"accuracy_interp={interp!r} applies to accuracy_model='table' only: with "
                          "accuracy_model='logistic' use accuracy_interp='linear'")


# ---------------------------------------------------------------------------------------------
# Field declarations
# ---------------------------------------------------------------------------------------------


class Spec(abc.ABC):
    """The allowed values of one config field."""

    @abc.abstractmethod
    def validate(self, name: str, value: Any) -> Any:
        """``value`` in canonical form (floats, ints, tuples); raises :class:`ConfigError` naming ``name``."""

    @abc.abstractmethod
    def describe(self) -> str:
        """The allowed values, in words (one table cell of ``docs/configuration.md``)."""


@dataclasses.dataclass(frozen=True)
class Real(Spec):
    """A finite real number in ``[low, high]`` (ends open where requested)."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def validate(self, name: str, value: Any) -> float:
        return check_real(name, value, self.low, self.high, low_open=self.low_open, high_open=self.high_open)

    def describe(self) -> str:
        return f"number in {_real_range(self.low, self.high, self.low_open, self.high_open)}"


@dataclasses.dataclass(frozen=True)
class Integer(Spec):
    """An integer in ``[low, high]`` (``high=None``: no upper bound)."""

    low: int
    high: int | None = None

    def validate(self, name: str, value: Any) -> int:
        return check_int(name, value, self.low, self.high)

    def describe(self) -> str:
        return f"integer {_int_range(self.low, self.high)}"


@dataclasses.dataclass(frozen=True)
class Interval(Spec):
    """A pair ``(low, high)`` with ``self.low <= low <= high <= self.high``."""

    low: float
    high: float
    integer: bool = False

    def validate(self, name: str, value: Any) -> tuple[Any, Any]:
        return check_interval(name, value, self.low, self.high, integer=self.integer)

    def describe(self) -> str:
        return f"pair of {'integers' if self.integer else 'numbers'} a <= b in [{_fmt(self.low)}, {_fmt(self.high)}]"


@dataclasses.dataclass(frozen=True)
class Choice(Spec):
    """One of ``options`` (compared by kind and value)."""

    options: tuple[Any, ...]

    def validate(self, name: str, value: Any) -> Any:
        return check_choice(name, value, self.options)

    def describe(self) -> str:
        return "one of " + ", ".join(f"`{o!r}`" for o in self.options)


@dataclasses.dataclass(frozen=True)
class Flag(Spec):
    """``True`` or ``False`` (Python or numpy bools, never ``0``/``1`` or strings)."""

    def validate(self, name: str, value: Any) -> bool:
        return bool(check_choice(name, value, (False, True)))

    def describe(self) -> str:
        return "`True` or `False`"


@dataclasses.dataclass(frozen=True)
class Text(Spec):
    """Any non-empty string (a name or a path)."""

    def validate(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{name}={value!r} is invalid: must be a non-empty string")
        return value

    def describe(self) -> str:
        return "non-empty string"


@dataclasses.dataclass(frozen=True)
class OrNone(Spec):
    """``None`` or a value of ``inner``."""

    inner: Spec

    def validate(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        try:
            return self.inner.validate(name, value)
        except ConfigError as err:
            raise ConfigError(f"{err} (or None)") from None

    def describe(self) -> str:
        return f"`None` or {self.inner.describe()}"


@dataclasses.dataclass(frozen=True)
class Fractions(Spec):
    """``len(labels)`` numbers >= 0 that sum to 1 (to within 1e-9), one per label."""

    labels: tuple[str, ...]

    def validate(self, name: str, value: Any) -> tuple[float, ...]:
        message = (f"{name}={value!r} is invalid: must be {len(self.labels)} fractions "
                   f"({', '.join(self.labels)}) >= 0 summing to 1")
        if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, np.ndarray)):
            raise ConfigError(message)
        if len(value) != len(self.labels) or not all(_is_real(x) and math.isfinite(x) and x >= 0 for x in value):
            raise ConfigError(message)
        fractions = tuple(float(x) for x in value)
        if not math.isclose(sum(fractions), 1.0, abs_tol=1e-9):
            raise ConfigError(message)
        return fractions

    def describe(self) -> str:
        return f"{len(self.labels)} fractions >= 0 summing to 1 ({', '.join(self.labels)})"


ACCURACY_MODEL = Choice(("table", "logistic"))
"""DeepSC accuracy model of the scenarios that use it (``physics.semantics`` §1)."""
ACCURACY_INTERP = Choice(("linear", "round"))
"""DeepSC table lookup: linear in dB or the source code's nearest dB (``physics.semantics`` §1)."""


def param(default: Any, spec: Spec, doc: str = "") -> Any:
    """A dataclass field with its allowed values ``spec`` (validated by :func:`validate_fields`)."""
    return dataclasses.field(default=default, metadata={"spec": spec, "doc": doc})


def field_specs(cls: type) -> dict[str, Spec]:
    """The declared spec of every field of config dataclass ``cls`` (fields without one are left out)."""
    return {f.name: f.metadata["spec"] for f in dataclasses.fields(cls) if "spec" in f.metadata}


def validate_fields(config: Any) -> None:
    """Validate every declared field of a frozen config dataclass in place (canonical values stored)."""
    for name, spec in field_specs(type(config)).items():
        object.__setattr__(config, name, spec.validate(name, getattr(config, name)))


def describe_fields(cls: type, presets: Mapping[str, Mapping[str, Any]]) -> str:
    """A Markdown table of ``cls``'s fields: name, default (and per-preset values), allowed values, meaning."""
    others = [p for p in list(presets)[1:] if presets[p]]
    rows = ["| field | default | " + "".join(f"`{p}` | " for p in others) + "allowed values | meaning |",
            "| --- | --- | " + "--- | " * len(others) + "--- | --- |"]
    for f in dataclasses.fields(cls):
        if "spec" not in f.metadata:
            continue
        cells = [f"`{f.name}`", f"`{f.default!r}`"]
        cells += [f"`{presets[p][f.name]!r}`" if f.name in presets[p] else "" for p in others]
        allowed = "one of " + ", ".join(f"`{p!r}`" for p in presets) if f.name == "preset" else f.metadata["spec"].describe()
        cells += [allowed, f.metadata.get("doc", "")]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def build_config(cls: type[C], presets: Mapping[str, Mapping[str, Any]], kwargs: Mapping[str, Any],
                 owner: str | None = None) -> C:
    """A config of dataclass ``cls`` from a preset name and keyword overrides.

    ``kwargs["preset"]`` (default: the first preset) selects a mapping of defaults; any other keyword
    overrides a field. Unknown keywords raise an :class:`UnknownKeywordError` listing the accepted
    ones, so a typo cannot be silently ignored. ``owner`` names the callee in that message.
    """
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = [k for k in kwargs if k not in fields]
    if unknown:
        raise UnknownKeywordError(
            f"{owner or cls.__name__} got an unexpected keyword argument {unknown[0]!r}"
            + (f" (and {', '.join(map(repr, unknown[1:]))})" if unknown[1:] else "")
            + f"; accepted: {', '.join(sorted(fields))}"
        )
    preset = check_choice("preset", kwargs.get("preset", next(iter(presets))), presets)
    return cls(**{**presets[preset], **kwargs, "preset": preset})
