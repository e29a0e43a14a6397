"""Hypothesis strategies over the *whole* documented range of every config field.

Each scenario declares its fields with a :class:`~semcom_envs.config.Spec` (the range in
``docs/configuration.md`` and in the validation errors); :func:`config_kwargs` draws every field
from its declared range, so a property test covers all of it, not a hand-picked corner. Wide
ranges are drawn both uniformly and log-uniformly (a uniform draw from ``(0, 1e12]`` would
almost never be below ``1e9``), and their ends are drawn often (hypothesis favours boundaries).
Combinations that a cross-field rule rejects are discarded with ``assume``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from semcom_envs.config import (
    Choice,
    ConfigError,
    Flag,
    Fractions,
    Integer,
    Interval,
    OrNone,
    Real,
    Spec,
    Text,
    field_specs,
)

_DECADES_WIDE = 3.0
"""Ranges spanning more than this many decades are also drawn log-uniformly."""
INT_UNBOUNDED_MAX = 2**62
"""Draws of integer fields without an upper bound (``max_steps``) stop here."""


def _log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    """``10 ** U[log10 low, log10 high]`` for ``0 < low < high``, kept inside ``[low, high]``."""
    lo, hi = math.log10(low), math.log10(high)
    return st.floats(lo, hi).map(lambda e: min(max(10.0**e, low), high))


def real_values(spec: Real) -> st.SearchStrategy[float]:
    """Numbers of ``spec``'s interval, open ends excluded."""
    uniform = st.floats(spec.low, spec.high, exclude_min=spec.low_open, exclude_max=spec.high_open,
                        allow_nan=False, allow_infinity=False)
    positive_low = spec.low if spec.low > 0 else (np.nextafter(0.0, 1.0) if spec.low_open else 0.0)
    if spec.high > 0 and positive_low > 0 and math.log10(spec.high) - math.log10(positive_low) > _DECADES_WIDE:
        logs = _log_uniform(positive_low, spec.high)
    elif spec.high > 0 and positive_low == 0 and spec.high > 10.0**_DECADES_WIDE:
        logs = _log_uniform(1e-3, spec.high)
    else:
        return uniform
    if spec.high_open:
        logs = logs.filter(lambda x: x < spec.high)
    return st.one_of(uniform, logs)


def spec_values(spec: Spec) -> st.SearchStrategy[Any]:
    """Every value ``spec`` accepts (strings only for :class:`Text`: names are not drawn)."""
    if isinstance(spec, Real):
        return real_values(spec)
    if isinstance(spec, Integer):
        high = spec.high if spec.high is not None else INT_UNBOUNDED_MAX
        uniform = st.integers(spec.low, high)
        if math.log10(high + 1) - math.log10(spec.low + 1) <= _DECADES_WIDE:
            return uniform
        return st.one_of(uniform, _log_uniform(spec.low + 1, high + 1).map(lambda x: min(high, max(spec.low, int(x) - 1))))
    if isinstance(spec, Interval):
        inner = (st.integers(int(spec.low), int(spec.high)) if spec.integer
                 else real_values(Real(spec.low, spec.high)))
        return st.tuples(inner, inner).map(lambda pair: tuple(sorted(pair)))
    if isinstance(spec, Choice):
        return st.sampled_from(spec.options)
    if isinstance(spec, Flag):
        return st.booleans()
    if isinstance(spec, OrNone):
        return st.one_of(st.none(), spec_values(spec.inner))
    if isinstance(spec, Fractions):
        n = len(spec.labels)
        return (st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n).filter(lambda w: sum(w) > 0)
                .map(lambda w: tuple(float(x) for x in np.asarray(w) / math.fsum(w))))
    raise TypeError(f"no strategy for {spec!r}")


@st.composite
def config_kwargs(draw: st.DrawFn, scenario_cls: type, fixed: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments of ``scenario_cls`` with every declared field drawn from its documented range.

    ``fixed`` pins fields instead of drawing them. Text fields (the preset name, checkpoint paths)
    keep their defaults. Draws that a cross-field constraint rejects are discarded.
    """
    fixed = fixed or {}
    kwargs: dict[str, Any] = {}
    for name, spec in field_specs(scenario_cls.config_class).items():
        if name in fixed:
            kwargs[name] = fixed[name]
        elif not isinstance(spec, Text) and not (isinstance(spec, OrNone) and isinstance(spec.inner, Text)):
            kwargs[name] = draw(spec_values(spec), label=name)
    try:
        scenario_cls.config_class(**kwargs)
    except ConfigError:
        assume(False)
    return kwargs
