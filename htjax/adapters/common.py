"""What the Gymnasium and PettingZoo adapters share: seeds, actions, spaces, rendering, options.

One definition of each, so both adapters behave the same and raise the same htjax errors for
the same mistake:

* **Seeds** (:func:`seed_key`): an int in ``[0, 2**64)`` becomes the ``uint32[2]`` world key
  ``[seed >> 32, seed & 0xffffffff]`` (equal to ``jax.random.PRNGKey(seed)`` below ``2**32``);
  anything else (negative, too large, not an int, a bool) is an :class:`InvalidArgumentError`.
* **Actions** (:func:`check_actions`): through :meth:`htjax.Env.check_action`, the core's
  one check of shape, dtype and range; a bad action is an :class:`InvalidActionError` naming
  who sent it and the legal labels, raised before anything runs.
* **Spaces** (:func:`observation_box`): a bounded ``Box`` from :attr:`htjax.Env.observation_bounds`
  with the observation's dtype (booleans too: ``Box(False, True, dtype=bool)``).
* **Rendering** (:func:`render`): :meth:`htjax.Env.render_text`; modes ``"ansi"`` (return the
  text) and ``"human"`` (print it). An unsupported mode (``"rgb_array"``, as Stable-Baselines3's
  ``make_vec_env`` asks for) warns, as Gymnasium does, and ``render()`` then returns ``None``.
* **Reset options** (:func:`check_options`): ``None`` or a dict whose keys the adapter knows.
"""

from __future__ import annotations

import multiprocessing
import operator
import os
from collections.abc import Iterable, Mapping
from typing import Any

import gymnasium
import jax
import numpy as np

from htjax.core.env import Env, State
from htjax.core.errors import HtjaxError, InvalidActionError, InvalidArgumentError
from htjax.envs import make

__all__ = [
    "MAX_SEED",
    "RENDER_MODES",
    "action_mask_box",
    "check_actions",
    "check_not_forked",
    "check_options",
    "check_render_mode",
    "legal_text",
    "note_jax_started",
    "observation_box",
    "prefer_spawn",
    "render",
    "resolve_env",
    "seed_key",
]

MAX_SEED = 2**64
RENDER_MODES = ("ansi", "human")
"""Render modes of every htjax adapter: ``"ansi"`` returns the text, ``"human"`` prints it."""


# ---------------------------------------------------------------------------- fork guard
_jax_started = False  # an adapter program was built (JAX ran) in this process
_forked_after_jax = False


def note_jax_started() -> None:
    """Record that this process ran JAX (an adapter built its jitted program), and make
    ``"spawn"`` the default start method of later worker processes unless the program chose one
    (:func:`prefer_spawn`)."""
    global _jax_started
    if not _jax_started:
        prefer_spawn()
    _jax_started = True


def prefer_spawn() -> None:
    """Make ``"spawn"`` the default :mod:`multiprocessing` start method unless the program chose one.

    JAX deadlocks in a process forked after it ran, so worker processes (Gymnasium's
    ``AsyncVectorEnv``) must be spawned. A program that called
    ``multiprocessing.set_start_method`` (or already started a process) keeps its choice, and
    ``vector_kwargs={"context": ...}`` still picks a context per vector env.
    """
    if multiprocessing.get_start_method(allow_none=True) is None:
        multiprocessing.set_start_method("spawn")


def _after_fork_in_child() -> None:
    global _forked_after_jax
    _forked_after_jax = _forked_after_jax or _jax_started


os.register_at_fork(after_in_child=_after_fork_in_child)


def check_not_forked() -> None:
    """Refuse to build an env in a process forked after JAX ran in its parent (JAX would deadlock).

    Raises:
      HtjaxError: naming the fix, the ``"spawn"`` start method (the default htjax chooses,
        see :func:`prefer_spawn`).
    """
    if _forked_after_jax:
        raise HtjaxError(
            "this process was forked from one where JAX had already run, and JAX deadlocks after a fork; "
            "start worker processes with the 'spawn' method (Gymnasium: make_vec(..., "
            "vectorization_mode='async', vector_kwargs={'context': 'spawn'}))"
        )


# ---------------------------------------------------------------------------- envs
def resolve_env(env: str | Env, config: Any = None, preset: str | None = None, **overrides: Any) -> Env:
    """An htjax env from an id (with ``config`` / ``preset`` / field overrides) or an ``Env`` itself."""
    if isinstance(env, Env):
        if config is not None or preset is not None or overrides:
            raise InvalidArgumentError(
                "pass either an Env instance or an env id with config/preset/overrides, not both "
                f"(got {sorted(overrides) + (['config'] if config is not None else []) + (['preset'] if preset else [])})"
            )
        return env
    if not isinstance(env, str):
        raise InvalidArgumentError(f"env must be an htjax env id or an htjax Env, got {type(env).__name__}")
    return make(env, config, preset=preset, **overrides)


# ---------------------------------------------------------------------------- seeds
def seed_key(seed: Any) -> np.ndarray:
    """``uint32[2]`` world key ``[seed >> 32, seed & 0xffffffff]`` of an int seed in ``[0, 2**64)``.

    Equal to ``jax.random.PRNGKey(seed)`` for seeds below ``2**32``.

    Raises:
      InvalidArgumentError: ``seed`` is not an int (bools and floats included), or is negative
        or ``>= 2**64``.
    """
    if isinstance(seed, (bool, np.bool_)):
        raise InvalidArgumentError(f"seed must be an int in [0, 2**64), got {seed!r} (bool)")
    try:
        value = operator.index(seed)
    except TypeError:
        raise InvalidArgumentError(
            f"seed must be an int in [0, 2**64), got {seed!r} ({type(seed).__name__})"
        ) from None
    if not 0 <= value < MAX_SEED:
        raise InvalidArgumentError(f"seed must be an int in [0, 2**64), got {value}")
    return np.array([value >> 32, value & 0xFFFFFFFF], np.uint32)


# ---------------------------------------------------------------------------- options
def check_options(options: Any, known: Iterable[str] = (), *, strict: bool = True) -> dict[str, Any]:
    """``options`` of ``reset`` as a dict (``None`` -> ``{}``) holding only the ``known`` keys.

    ``strict``: a key not in ``known`` is refused (Gymnasium); otherwise it is ignored
    (PettingZoo, whose ``api_test`` passes arbitrary options).

    Raises:
      InvalidArgumentError: ``options`` is not a dict, or (``strict``) has a key not in ``known``.
    """
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidArgumentError(f"reset options must be a dict or None, got {type(options).__name__}")
    known = tuple(known)
    unknown = sorted(str(k) for k in options if k not in known)
    if unknown and strict:
        accepted = f"accepted: {list(known)}" if known else "this env takes no reset options"
        raise InvalidArgumentError(f"unknown reset option(s) {unknown}; {accepted}")
    return {k: v for k, v in options.items() if k in known}


# ---------------------------------------------------------------------------- actions
def legal_text(env: Env, mask_row: np.ndarray) -> str:
    """``"legal actions are {id: 'label', ...}"`` for one seat's ``bool[A]`` mask."""
    ids = np.flatnonzero(np.asarray(mask_row))
    return "legal actions are {" + ", ".join(f"{int(i)}: {env.action_labels[int(i)]!r}" for i in ids) + "}"


def _validate_one(env: Env, value: Any) -> None:
    """One seat's action through :meth:`Env.check_action` (a joint action when simultaneous)."""
    if env.simultaneous:
        value = np.full(env.num_players, value)  # keeps the value's dtype
    env.check_action(value)


def check_actions(
    env: Env, action: Any, *, who: str, shape: tuple[int, ...] = (), mask: np.ndarray | None = None
) -> np.ndarray:
    """One seat's action (``shape=()``), or one per world (``shape=(N,)``), as ``int32[*shape]``.

    Every value goes through :meth:`Env.check_action` (the core's check of dtype and range;
    the smallest and largest value of a batch stand for all of it, which covers the range).

    Raises:
      InvalidActionError: wrong shape, a non-integer (bools and floats included) or a value
        outside ``[0, num_actions)``; the message starts with ``who``, names the offending
        worlds of a batch and ends with the legal actions when ``mask`` (``bool[A]``) is given.
    """
    legal = "" if mask is None else f"; {legal_text(env, mask)}"
    arr = np.asarray(action)
    if arr.shape != shape:
        raise InvalidActionError(
            f"{env.id}: {who} must have shape {shape}, got shape {arr.shape} ({action!r}){legal}"
        )
    flat = arr.reshape(-1)
    integer = np.issubdtype(arr.dtype, np.integer) and arr.dtype != np.bool_
    probes = flat[[int(np.argmin(flat)), int(np.argmax(flat))]] if integer and flat.size else flat[:1]
    try:
        for value in probes:
            _validate_one(env, value)
    except InvalidActionError as err:
        where = ""
        if shape and integer:
            bad = np.flatnonzero((flat < 0) | (flat >= env.num_actions)).tolist()
            where = f" at world(s) {bad}"
        raise InvalidActionError(f"{who}{where}: {err}{legal}") from None
    return arr.astype(np.int32)


# ---------------------------------------------------------------------------- spaces
def observation_box(env: Env) -> gymnasium.spaces.Box:
    """``Box`` of one seat's observation: ``env.observation_bounds`` in the observation dtype."""
    shape, dtype = tuple(env.observation_shape), np.dtype(env.observation_dtype)
    low, high = env.observation_bounds
    low = np.broadcast_to(np.asarray(low), shape).astype(dtype)
    high = np.broadcast_to(np.asarray(high), shape).astype(dtype)
    return gymnasium.spaces.Box(low=low, high=high, shape=shape, dtype=dtype)


def action_mask_box(env: Env) -> gymnasium.spaces.Box:
    """``Box(0, 1, int8[A])``: an action mask (1 = legal), Gymnasium's mask convention."""
    return gymnasium.spaces.Box(0, 1, (env.num_actions,), np.int8)


# ---------------------------------------------------------------------------- rendering
def check_render_mode(render_mode: Any) -> Any:
    """Warn (as Gymnasium's ``make`` does) for a mode htjax cannot render; return the mode.

    ``None``, ``"ansi"`` and ``"human"`` render; any other string (``"rgb_array"``) is kept so
    tools that ask for it still build the env, and ``render()`` then warns and returns ``None``.
    A mode that is not a string is an :class:`InvalidArgumentError`.
    """
    if render_mode is None or render_mode in RENDER_MODES:
        return render_mode
    if not isinstance(render_mode, str):
        raise InvalidArgumentError(f"render_mode must be None or a string, got {render_mode!r}")
    gymnasium.logger.warn(
        f"htjax envs render only {list(RENDER_MODES)}; render_mode={render_mode!r} is accepted "
        "but render() will return None"
    )
    return render_mode


def render(env: Env, state: State | None, render_mode: Any, seat: int | None = None) -> str | None:
    """``env.render_text`` of one world's ``state`` in ``render_mode`` (see :func:`check_render_mode`)."""
    if render_mode not in RENDER_MODES:
        how = "without a render_mode" if render_mode is None else f"with render_mode={render_mode!r}"
        gymnasium.logger.warn(f"render() called {how}; htjax envs render {list(RENDER_MODES)}")
        return None
    if state is None:
        raise HtjaxError(f"{env.id}: call reset() before render()")
    text = env.render_text(jax.device_get(state), seat)
    if render_mode == "human":
        print(text)
        return None
    return text


class EpisodeExtras:
    """What a single-seat Gymnasium view of an htjax env offers beyond ``gymnasium.Env``: the
    running episode's htjax ``state`` and ``episode_key``, and ``action_masks()`` for
    sb3-contrib's ``MaskablePPO``. Expects ``_buffers``, ``_program``, ``_episode_key``, ``_mask``
    and ``htjax_env`` on the class it is mixed into."""

    @property
    def state(self) -> State | None:
        """The htjax state of the running episode (a pytree of device arrays)."""
        return None if self._buffers is None else self._program.unpack(self._buffers)

    @property
    def episode_key(self):
        """``uint32[2]`` key of the running episode (for :func:`htjax.replay_episode`)."""
        return None if self._episode_key is None else np.asarray(self._episode_key)

    def action_masks(self) -> np.ndarray:
        """``bool[num_actions]`` legal actions of the acting (learner) seat now (sb3-contrib's ``MaskablePPO`` hook)."""
        if self._mask is None:
            raise HtjaxError(f"{self.htjax_env.id}: call reset() before action_masks()")
        return self._mask.copy()
