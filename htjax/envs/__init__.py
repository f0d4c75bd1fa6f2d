"""The game registry: ``make(env_id, **config)`` and ``available_envs()``.

Each game lives in its own module, imported only when made, so ``import htjax`` stays cheap.
Users register their own games with :func:`register`.
"""

from __future__ import annotations

import importlib
from typing import Any, Literal

from htjax.core.config import EnvConfig
from htjax.core.env import Env, UnknownEnvError

__all__ = ["EnvId", "make", "available_envs", "register", "env_class"]

EnvId = Literal["blackjack", "hanabi", "holdem", "prisoners_dilemma"]

_REGISTRY: dict[str, str] = {
    "blackjack": "htjax.envs.blackjack.env:Blackjack",
    "hanabi": "htjax.envs.hanabi.env:Hanabi",
    "holdem": "htjax.envs.holdem.env:Holdem",
    "prisoners_dilemma": "htjax.envs.prisoners_dilemma.env:IteratedPrisonersDilemma",
}


def register(env_id: str, entry_point: str | type[Env]) -> None:
    """Register a game under ``env_id``: an ``Env`` subclass or ``"module:Class"``."""
    if not isinstance(env_id, str) or not env_id:
        raise ValueError(f"env id must be a non-empty string, got {env_id!r}")
    if isinstance(entry_point, type):
        entry_point = f"{entry_point.__module__}:{entry_point.__qualname__}"
    _REGISTRY[env_id] = entry_point


def available_envs() -> tuple[str, ...]:
    """Ids accepted by :func:`make`, sorted."""
    return tuple(sorted(_REGISTRY))


def env_class(env_id: str) -> type[Env]:
    """The ``Env`` subclass registered as ``env_id`` (raises :class:`UnknownEnvError`)."""
    if env_id not in _REGISTRY:
        raise UnknownEnvError(f"unknown env id {env_id!r}; available envs: {list(available_envs())}")
    module_name, _, attr = _REGISTRY[env_id].partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def make(
    env_id: str, /, config: EnvConfig | None = None, *, preset: str | None = None, **overrides: Any
) -> Env:
    """Build the env ``env_id`` from a config object, or from a preset name plus field overrides.

    >>> import htjax
    >>> env = htjax.make("blackjack", preset="gymnasium")
    >>> env.num_actions
    2
    """
    cls = env_class(env_id)
    if config is not None:
        return cls(config)
    return cls(preset=preset, **overrides)
