"""Static rules configuration: frozen, hashable, validated once at construction.

Every env has a config class deriving from :class:`EnvConfig`. A config is a frozen
dataclass (so it is hashable and can be a static argument of ``jax.jit``); its
``validate`` method raises :class:`ConfigError` (an ``HtjaxError`` and a ``ValueError``) naming
the bad field. Named presets are dictionaries of field values, e.g. blackjack's ``"gymnasium"``.

Rule parameters: the numeric fields named in ``PARAM_FIELDS`` may also vary per world without
recompiling (see :meth:`htjax.core.env.Env.params`); every other field is structural (it sets
shapes or code paths) and stays static.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Mapping

from htjax.core.errors import ConfigError

__all__ = ["ConfigError", "EnvConfig", "check_int", "check_float", "check_choice", "check_bool"]


@dataclasses.dataclass(frozen=True)
class EnvConfig:
    """Base of every env's rules config.

    Subclasses are ``@dataclasses.dataclass(frozen=True)`` with a default for every field,
    override :meth:`validate`, and may list named presets in ``PRESETS``.
    """

    PRESETS: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    PARAM_FIELDS: ClassVar[tuple[str, ...]] = ()
    """Numeric fields that may vary per world (traced rule parameters); the rest are static."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid field."""

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_options(cls, preset: str | None = None, **overrides: Any) -> "EnvConfig":
        """Build a config from an optional preset name plus field overrides."""
        values: dict[str, Any] = {}
        if preset is not None:
            if preset not in cls.PRESETS:
                raise ConfigError(
                    f"unknown preset {preset!r} for {cls.__name__}; "
                    f"available presets: {sorted(cls.PRESETS) or 'none'}"
                )
            values.update(cls.PRESETS[preset])
        unknown = sorted(set(overrides) - set(cls.field_names()))
        if unknown:
            raise ConfigError(
                f"unknown config field(s) {unknown} for {cls.__name__}; "
                f"valid fields: {list(cls.field_names())}"
            )
        values.update(overrides)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain values (ints, floats, bools, strings, tuples as lists) for logs and documents."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "EnvConfig":
        """Inverse of :meth:`to_dict` (lists become tuples); validates like the constructor."""
        converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls.from_options(**converted)


def check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"config field {name!r} must be a bool, got {value!r}")


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> None:
    """``value`` must be an int (not a bool) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"config field {name!r} must be an int, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"config field {name!r} must be in [{low}, {high}], got {value}")


def check_float(name: str, value: Any, low: float | None = None, high: float | None = None) -> None:
    """``value`` must be a real number in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"config field {name!r} must be a number, got {value!r}")
    if value != value or (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"config field {name!r} must be in [{low}, {high}], got {value}")


def check_choice(name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise ConfigError(f"config field {name!r} must be one of {list(choices)}, got {value!r}")
