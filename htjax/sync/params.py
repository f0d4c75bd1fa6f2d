"""Rule parameters in episode documents: one world's :meth:`Env.params` as plain values and back.

A document stores the parameters its episode was played with in ``env.params`` (a Map of one
scalar per ``config_class.PARAM_FIELDS`` name; see :mod:`htjax.sync.schema`). On the way in they
come from a rollout's ``env_params`` (``None``, one world's :class:`~htjax.core.env.Params`, or
``{field: [N]}`` as in :attr:`RolloutCarry.env_params`) and are validated through the env's
config; on the way out they are validated again, so a hand-edited document names the bad field.

Replays run worlds whose parameters equal the env's config as compile-time constants (exactly
as :func:`htjax.rollout` does with ``env_params=None``) and the others as traced values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import numpy as np

from htjax.core.env import Env, Params
from htjax.core.errors import ConfigError

__all__ = ["Plain", "default_plain", "from_plain", "plain_params", "stack_params", "world_rows"]

Plain = dict[str, Any]  # {field: bool | int | float}, host Python scalars


def _scalar(value: Any) -> bool | int | float:
    item = np.asarray(value).item()
    return item if isinstance(item, (bool, int, float)) else float(item)


def default_plain(env: Env) -> Plain:
    """The env's config as plain rule parameters."""
    return {name: _scalar(v) for name, v in env.default_params.items()}


def plain_params(
    env: Env, params: Mapping[str, Any] | None, what: str, error: type[Exception] = ConfigError
) -> Plain:
    """One world's parameters as plain values, validated (``None``: the env's config).

    Raises:
      ``error`` (default ConfigError), naming ``what`` and the field: missing or unknown
      fields, a batched value, a value the config refuses.
    """
    if params is None:
        return default_plain(env)
    if not isinstance(params, Mapping):
        raise error(f"{what} must be a dict from env.params(), got {type(params).__name__}")
    try:
        checked = env.check_params({k: np.asarray(jax.device_get(v)) for k, v in params.items()})
    except ConfigError as exc:
        raise error(f"{what}: {exc}") from exc
    return {name: _scalar(checked[name]) for name in env.config_class.PARAM_FIELDS}


def world_rows(
    env: Env, env_params: Any, num_worlds: int, worlds: Sequence[int], error: type[Exception] = ConfigError
) -> list[Plain]:
    """Plain parameters of each chosen world from a rollout's ``env_params``.

    ``env_params`` is ``None`` (the config), one world's parameters (every world), or
    ``{field: [num_worlds]}`` (:attr:`RolloutCarry.env_params`, :meth:`Env.batch_params`).
    """
    if env_params is None:
        return [default_plain(env)] * len(worlds)
    if not isinstance(env_params, Mapping):
        raise error(
            f"{env.id}: env_params must be a dict from env.params() or env.batch_params() (or a rollout's "
            f"carry.env_params), got {type(env_params).__name__}"
        )
    host = {k: np.asarray(jax.device_get(v)) for k, v in env_params.items()}
    if not any(v.ndim for v in host.values()):
        row = plain_params(env, host, f"{env.id}: env_params", error)
        return [row] * len(worlds)
    try:
        checked = env.check_params(host, num_worlds)
    except ConfigError as exc:
        raise error(f"{env.id}: env_params: {exc}") from exc
    return [
        plain_params(env, {k: v[w] for k, v in checked.items()}, f"{env.id}: world {w}", error)
        for w in worlds
    ]


def from_plain(env: Env, values: Mapping[str, Any]) -> Params:
    """:meth:`Env.params` of stored plain values (every field present; validated by the config)."""
    fields = env.config_class.PARAM_FIELDS
    missing = [f for f in fields if f not in values]
    unknown = sorted(set(values) - set(fields))
    if missing or unknown:
        raise ConfigError(
            f"{env.id} rule parameters are {list(fields)}; "
            + (f"missing {missing}" if missing else "")
            + ("; " if missing and unknown else "")
            + (f"unknown {unknown[:8]}{' ...' if len(unknown) > 8 else ''}" if unknown else "")
        )
    for name in fields:
        v = values[name]
        kind = env.default_params[name].dtype
        ok = (
            isinstance(v, bool)
            if kind == np.bool_
            else (not isinstance(v, bool) and isinstance(v, (int, float)))
        )
        if ok and np.issubdtype(kind, np.integer):
            ok = isinstance(v, int)
        if not ok:
            raise ConfigError(f"{env.id} rule parameter {name!r} must be a {kind} value, got {v!r}")
    return env.params(**{name: values[name] for name in fields})


def stack_params(env: Env, rows: Sequence[Plain]) -> Params:
    """``{field: array[len(rows)]}`` of plain rows (each already validated)."""
    defaults = env.default_params
    return {
        name: np.asarray([row[name] for row in rows], defaults[name].dtype)
        for name in env.config_class.PARAM_FIELDS
    }
