"""What both PettingZoo adapters share: agent names, their errors, and one world's session.

:class:`Session` runs one world through the shared every-seat program
(:func:`htjax.adapters.programs.seats_program`) and keeps the host copy both adapters read.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import gymnasium
import jax
import numpy as np

from htjax.adapters import common
from htjax.adapters.programs import seats_program
from htjax.core.env import Env, State
from htjax.core.errors import HtjaxError, InvalidActionError, InvalidArgumentError
from htjax.core.keys import key_data

__all__ = [
    "ILLEGAL_ACTION_MODES",
    "IllegalActionError",
    "OutOfTurnError",
    "Session",
    "agent_name",
    "agent_seat",
    "finished_agent_error",
    "make_spaces",
]

ILLEGAL_ACTION_MODES = ("penalty", "raise")


class IllegalActionError(InvalidActionError):
    """An in-range action that the agent's action mask forbids (with ``illegal_action="raise"``)."""


class OutOfTurnError(InvalidActionError):
    """An agent tried to act when it is not its turn."""


def agent_name(seat: int) -> str:
    """PettingZoo name of seat ``seat``: ``"player_<seat>"``."""
    return f"player_{int(seat)}"


def agent_seat(agent: Any, num_players: int) -> int:
    """Seat index of agent name ``"player_<i>"``; :class:`InvalidArgumentError` naming the valid agents."""
    names = [agent_name(i) for i in range(num_players)]
    if not isinstance(agent, str) or agent not in names:
        raise InvalidArgumentError(f"unknown agent {agent!r}; agents are {names}")
    return int(agent[len("player_") :])


def finished_agent_error(env: Env, agent: str, action: Any, how: str) -> InvalidActionError:
    return InvalidActionError(
        f"{env.id}: {agent} has finished ({how}); the only valid action is None "
        f"(PettingZoo's dead step), got {action!r}"
    )


def make_spaces(env: Env, agents: list[str]) -> tuple[dict, dict]:
    """One observation space and one action space object per agent (seeded independently).

    ``Dict(observation=Box bounded by env.observation_bounds, action_mask=Box(0, 1, int8[A]))``.
    """
    obs = {
        a: gymnasium.spaces.Dict(
            {"observation": common.observation_box(env), "action_mask": common.action_mask_box(env)}
        )
        for a in agents
    }
    act = {a: gymnasium.spaces.Discrete(env.num_actions) for a in agents}
    return obs, act


def _episode_key_option(value: Any) -> np.ndarray:
    """``options["episode_key"]`` as ``uint32[2]`` key data (a key, or two ints in uint32 range)."""
    data = np.asarray(key_data(value) if isinstance(value, jax.Array) else value)
    ok = data.shape == (2,) and np.issubdtype(data.dtype, np.integer)
    if not ok or np.any(data < 0) or np.any(data > 0xFFFFFFFF):
        raise InvalidArgumentError(f"options['episode_key'] must be uint32[2] key data, got {value!r}")
    return data.astype(np.uint32)


class Session:
    """One adapter's episode: seeding, the packed state, its host copy and the record.

    Attributes (host values, refreshed after every reset and step):
      observations: ``obs_dtype[P, *obs_shape]`` every seat's view.
      mask: ``bool[A]`` (turn-based) or ``bool[P, A]`` (simultaneous) legal actions.
      rewards: ``float32[P]`` rewards of the last step.
      terminated, truncated: ``bool``; current_player: ``int``.
      episode_key: ``uint32[2]`` key of the running episode.
      actions: the actions taken in this episode (ints, or ``int32[P]`` arrays when simultaneous).

    Pickles: the jitted program is rebuilt (from the shared cache) when unpickled.
    """

    def __init__(self, env: Env, illegal_action: str):
        if illegal_action not in ILLEGAL_ACTION_MODES:
            raise InvalidArgumentError(
                f"illegal_action must be one of {list(ILLEGAL_ACTION_MODES)}, got {illegal_action!r}"
            )
        common.check_not_forked()
        self.env = env
        self.illegal_action = illegal_action
        self._program = seats_program(env)
        common.note_jax_started()
        self._root: np.ndarray | None = None
        self._episode_index = 0
        self._buffers: tuple | None = None  # the packed state's chunks (programs.Layout)
        self.episode_key: np.ndarray | None = None
        self.actions: list = []

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k != "_program"}
        state["_buffers"] = None if self._buffers is None else tuple(self._program.host(self._buffers))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        common.check_not_forked()
        self.__dict__.update(state)
        self._program = seats_program(self.env)

    @property
    def state(self) -> State | None:
        return None if self._buffers is None else self._program.unpack(self._buffers)

    def require_started(self, what: str) -> None:
        if self._buffers is None:
            raise HtjaxError(f"{self.env.id}: call reset() before {what}")

    def reset(self, seed: Any, options: Mapping[str, Any] | None) -> None:
        options = common.check_options(options, known=("episode_key",), strict=False)
        explicit = options.get("episode_key")
        if seed is not None:
            self._root, self._episode_index = common.seed_key(seed), 0
        elif explicit is None:
            if self._root is None:
                self._root, self._episode_index = common.seed_key(secrets.randbits(64)), 0
            else:
                self._episode_index += 1
        self.actions = []
        if explicit is not None:
            self.episode_key = _episode_key_option(explicit)
            self._buffers, out = self._program.start(self.episode_key)
        else:
            self._buffers, out = self._program.init(self._root, np.int32(self._episode_index))
        self._absorb(out)
        if explicit is None:
            self.episode_key = self._program.out_layout.read(self._raw, "episode_key").copy()

    def step(self, action: np.ndarray) -> None:
        move = self._program.action(int(action)) if action.ndim == 0 else action
        self._buffers, out = self._program.step(self._buffers, move)
        self._absorb(out)
        self.actions.append(action.item() if action.ndim == 0 else action.copy())

    def _absorb(self, out) -> None:
        self._raw = raw = self._program.host(out)
        layout = self._program.out_layout
        self.observations, self.mask = layout.read(raw, "views"), layout.read(raw, "mask")
        self.rewards = layout.read(raw, "rewards")
        self.terminated = bool(layout.read(raw, "terminated"))
        self.truncated = bool(layout.read(raw, "truncated"))
        self.current_player = int(layout.read(raw, "current_player"))

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated

    def check_action(self, agent: str, action: Any, mask_row: np.ndarray) -> tuple[int, bool]:
        """``(action id, is masked)`` of one agent's action (through :func:`common.check_actions`).

        Raises :class:`InvalidActionError` (bad value) or, in ``"raise"`` mode,
        :class:`IllegalActionError` for a masked action.
        """
        value = int(common.check_actions(self.env, action, who=agent, mask=mask_row))
        if mask_row[value]:
            return value, False
        if self.illegal_action == "raise":
            raise IllegalActionError(
                f"{self.env.id}: {agent} played {value} ({self.env.action_labels[value]!r}), which is "
                f"illegal now; {common.legal_text(self.env, mask_row)}"
            )
        return value, True


def metadata(env: Env, parallelizable: bool) -> dict[str, Any]:
    return {
        "name": f"htjax/{env.id}-{env.version}",
        "render_modes": list(common.RENDER_MODES),
        "is_parallelizable": parallelizable,
    }


class RecordMixin:
    """The htjax-side view shared by both adapters (``env.unwrapped.<name>``)."""

    _session: Session

    @property
    def htjax_env(self) -> Env:
        """The wrapped htjax env."""
        return self._session.env

    @property
    def htjax_state(self) -> State | None:
        """The current htjax state (``None`` before the first reset)."""
        return self._session.state

    @property
    def episode_key(self) -> np.ndarray | None:
        """``uint32[2]`` key of the running episode (the record's key)."""
        return None if self._session.episode_key is None else self._session.episode_key.copy()

    @property
    def actions(self) -> list:
        """Actions of the running episode so far: ``int`` per step, or ``int32[P]`` when simultaneous."""
        return list(self._session.actions)

    @property
    def illegal_action(self) -> str:
        return self._session.illegal_action

    def render(self):
        return common.render(self._session.env, self._session.state, self.render_mode)

    def close(self) -> None:
        """Nothing to release (the jitted functions are shared)."""
