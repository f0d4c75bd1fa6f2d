"""One world of a single-agent htjax env as a ``gymnasium.Env`` (:class:`HtjaxGymEnv`).

Seeding, actions, spaces, rendering and the fork guard are shared with the other adapters
(:mod:`htjax.adapters.common`); the module docstring of :mod:`htjax.adapters.gymnasium` states
the semantics.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces

from htjax.adapters import common
from htjax.adapters.programs import program
from htjax.core.env import Env, State
from htjax.core.errors import HtjaxError, InvalidArgumentError

__all__ = ["OBSERVATION_VIEWS", "HtjaxGymEnv", "ObservationView", "check_single_agent", "observation_view"]


# --------------------------------------------------------------------------- observation views
def _array_extract(env: Env, state: State):
    return state.observation


def _classic_extract(env: Env, state: State):
    return env.classic_observation(state)


def _array_outputs(env: Env, state: State):
    return _outputs(env, _array_extract, state)


def _classic_outputs(env: Env, state: State):
    return _outputs(env, _classic_extract, state)


def _fields(env: Env, extract: Callable, state: State) -> dict[str, jax.Array]:
    """One world's outputs for :func:`htjax.adapters.programs.program` (one packed buffer)."""
    return {
        "observation": extract(env, state),
        "reward": state.rewards[0].astype(jnp.float32),
        "terminated": state.terminated,
        "truncated": state.truncated,
        "mask": state.legal_action_mask,
    }


def _outputs(env: Env, extract: Callable, state: State):
    """The same outputs as :func:`_fields`, as the vector env batches them: ``(observation,
    float32[3 + A])`` with reward, terminated, truncated, then the mask."""
    f = _fields(env, extract, state)
    flags = jnp.stack([f["reward"], f["terminated"], f["truncated"]]).astype(jnp.float32)
    return f["observation"], jnp.concatenate([flags, f["mask"].astype(jnp.float32)])


def _array_fields(env: Env, state: State):
    return _fields(env, _array_extract, state)


def _classic_fields(env: Env, state: State):
    return _fields(env, _classic_extract, state)


def _classic_available(env: Env) -> str | None:
    shape = jax.eval_shape(lambda: env.classic_observation(env.init(jax.random.PRNGKey(0))))
    if shape is None or env.id != "blackjack":
        return f"observation='classic' is Blackjack-v1's tuple view, only for 'blackjack' (got {env.id!r})"
    if env.num_actions != 2:
        return (
            "observation='classic' needs blackjack's 'gymnasium' preset (2 actions: 0=stick, 1=hit), "
            f"this config has {env.num_actions} actions; use preset='gymnasium'"
        )
    return None


@dataclasses.dataclass(frozen=True)
class ObservationView:
    """How one world's state becomes a Gymnasium observation.

    Attributes:
      space: ``space(env) -> gymnasium.Space`` of one world.
      outputs: traced ``outputs(env, state)`` of one world (see :func:`_outputs`): what
        :class:`~htjax.adapters.gym_vector.HtjaxVectorEnv` batches.
      fields: traced ``fields(env, state) -> dict`` of one world (see :func:`_fields`): the
        single env's outputs, module-level so that :func:`htjax.adapters.programs.program`
        compiles once per env.
      single: host ``single(np.ndarray) -> observation`` for one world.
      batched: host ``batched(np.ndarray[N, ...]) -> observation`` of ``batch_space(space)``.
      available: ``available(env) -> str | None``: why the view does not fit ``env`` (None if it does).
    """

    space: Callable[[Env], spaces.Space]
    outputs: Callable[[Env, State], Any]
    fields: Callable[[Env, State], dict[str, Any]]
    single: Callable[[np.ndarray], Any]
    batched: Callable[[np.ndarray], Any]
    available: Callable[[Env], str | None]


OBSERVATION_VIEWS: dict[str, ObservationView] = {
    "array": ObservationView(
        space=common.observation_box,
        outputs=_array_outputs,
        fields=_array_fields,
        single=lambda x: np.array(x),
        batched=lambda x: np.array(x),
        available=lambda env: None,
    ),
    # Gymnasium's Blackjack-v1: (player sum 4..31, dealer card 1..10, usable ace 0/1).
    "classic": ObservationView(
        space=lambda env: spaces.Tuple((spaces.Discrete(32), spaces.Discrete(11), spaces.Discrete(2))),
        outputs=_classic_outputs,
        fields=_classic_fields,
        single=lambda x: tuple(x.tolist()),
        batched=lambda x: tuple(np.array(x[:, i], dtype=np.int64) for i in range(x.shape[1])),
        available=_classic_available,
    ),
}
"""Observation views selectable with ``observation=``: ``"array"`` (default) and ``"classic"``."""


def observation_view(env: Env, observation: Any) -> ObservationView:
    """The view called ``observation``, checked to fit ``env`` (:class:`InvalidArgumentError` if not)."""
    if observation not in OBSERVATION_VIEWS:
        raise InvalidArgumentError(
            f"unknown observation view {observation!r}; choose one of {sorted(OBSERVATION_VIEWS)}"
        )
    view = OBSERVATION_VIEWS[observation]
    why = view.available(env)
    if why is not None:
        raise InvalidArgumentError(why)
    return view


def check_single_agent(env: Env, what: str) -> None:
    """Refuse a multi-seat (or simultaneous) env, naming the opponents env and PettingZoo."""
    if env.num_players != 1 or env.simultaneous:
        raise InvalidArgumentError(
            f"{what} wraps single-agent envs; {env.id!r} with this config has {env.num_players} seats"
            f"{' (simultaneous)' if env.simultaneous else ''}: use HtjaxOpponentsEnv(env, opponents=...) "
            "to play one seat against fixed policies, the PettingZoo adapter, or a one-seat config"
        )


# --------------------------------------------------------------------------- the env
# Attributes _build() makes (not pickled: the program is rebuilt from the shared cache).
_REBUILT = frozenset({"_program", "_places", "_obs_dtype", "_obs_shape", "_actions", "_step_fn"})


class HtjaxGymEnv(common.EpisodeExtras, gymnasium.Env):
    """One world of a single-agent htjax env as a ``gymnasium.Env``.

    Args:
      env: an htjax env id (``"blackjack"``) or an :class:`htjax.Env` with one seat.
      config, preset, **overrides: rules, as for :func:`htjax.make` (only with an env id).
      observation: ``"array"`` (default): ``Box`` of the env's observation, bounded by
        ``env.observation_bounds``; ``"classic"``: Blackjack-v1's
        ``Tuple(Discrete(32), Discrete(11), Discrete(2))`` (blackjack's ``gymnasium`` preset).
      render_mode: ``None``, ``"ansi"`` or ``"human"`` (``env.render_text``); another mode
        (``"rgb_array"``) warns and renders nothing.

    Spaces: ``action_space = Discrete(num_actions)``. ``info["action_mask"]``:
    ``int8[num_actions]`` (1 = legal), ``info["illegal_action"]``: ``bool``;
    :meth:`action_masks` gives ``bool[num_actions]`` (sb3-contrib's ``MaskablePPO`` reads it).
    Pickles (the jitted programs are rebuilt from the shared cache when unpickled).

    Speed: one ``step`` is ONE jitted call (:mod:`htjax.adapters.programs`): the world's state,
    episode key and stream position travel as one ``uint8`` buffer that stays on the device,
    the action is a cached device scalar, the step key is derived inside the call from the
    stored episode key (``step_key(episode_key, t)``), and observation, reward, flags and mask
    come back as one small buffer read with one ``np.asarray``. A ``reset()`` without a seed is
    one call too (``next_episode``: the world's next episode key is derived inside). An action
    that is a Python or numpy int in range skips the full :func:`common.check_actions` (every
    other value still goes through it and gets its error).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": list(common.RENDER_MODES), "render_fps": 4}

    def __init__(
        self,
        env: str | Env = "blackjack",
        *,
        config=None,
        preset: str | None = None,
        observation: str = "array",
        render_mode: str | None = None,
        **overrides: Any,
    ):
        if "opponents" in overrides:
            raise InvalidArgumentError(
                "HtjaxGymEnv wraps single-agent envs; play one seat against opponents with "
                "HtjaxOpponentsEnv(env, opponents={seat: policy})"
            )
        common.check_not_forked()
        self.htjax_env = common.resolve_env(env, config, preset, **overrides)
        check_single_agent(self.htjax_env, "HtjaxGymEnv")
        self._view = observation_view(self.htjax_env, observation)
        self.render_mode = common.check_render_mode(render_mode)
        self.observation_mode = observation
        self.observation_space = self._view.space(self.htjax_env)
        self.action_space = spaces.Discrete(self.htjax_env.num_actions)
        self._build()
        self._world_key: np.ndarray | None = None
        self._episode_index = -1
        self._episode_key = None
        self._buffers: tuple | None = None  # the packed state of the world (its chunks)
        self._mask: np.ndarray | None = None
        self._done = False

    def _build(self) -> None:
        self._program = program(self.htjax_env, self._view.fields)
        layout = self._program.out_layout
        # where each output sits in the output chunks: (chunk, byte slice), flags as (chunk, byte)
        places = [layout.place[name] for name in ("observation", "reward", "terminated", "truncated", "mask")]
        places[2], places[3] = (places[2][0], places[2][1].start), (places[3][0], places[3][1].start)
        self._places = tuple(places)
        self._obs_dtype, self._obs_shape = layout.dtypes["observation"], layout.shapes["observation"]
        self._actions = self._program.actions()  # one device scalar per action id
        self._step_fn = self._program.step
        self._num_actions = self.htjax_env.num_actions
        common.note_jax_started()

    # ----------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in _REBUILT}
        state["_view"] = self.observation_mode
        state["_buffers"] = None if self._buffers is None else tuple(self._program.host(self._buffers))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        common.check_not_forked()
        self.__dict__.update(state)
        self._view = OBSERVATION_VIEWS[state["_view"]]
        self._build()

    # ----------------------------------------------------------------- gymnasium API
    def _next_world(self, seed: Any) -> bool:
        """Pick the world key and episode index of the episode ``reset(seed=seed)`` starts;
        True when it is the next episode of the running world's stream."""
        world_key = None if seed is None else common.seed_key(seed)
        super().reset(seed=seed)
        if world_key is not None:
            self._world_key, self._episode_index = world_key, 0
        elif self._world_key is None:
            self._world_key = common.seed_key(int(self.np_random.integers(0, 2**63)))
            self._episode_index = 0
        else:
            self._episode_index += 1
            return self._buffers is not None
        return False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if options is not None:
            common.check_options(options)
        if self._next_world(seed):
            self._buffers, out = self._program.next_episode(self._buffers)
        else:
            self._buffers, out = self._program.init(self._world_key, np.int32(self._episode_index))
        raws, obs, _, _, _ = self._read(out)
        self._episode_key = self._program.out_layout.read(raws, "episode_key").copy()
        return self._view.single(obs), {"action_mask": self._mask.astype(np.int8), "illegal_action": False}

    def step(self, action):
        if self._buffers is None:
            raise HtjaxError(f"{self.htjax_env.id}: call reset() before step()")
        if (type(action) is int or isinstance(action, np.integer)) and 0 <= action < self._num_actions:
            action = int(action)  # the common case: nothing to check beyond the range
        else:
            action = int(common.check_actions(self.htjax_env, action, who="action"))
        illegal = not self._done and not self._mask[action]
        self._buffers, out = self._step_fn(self._buffers, self._actions[action])
        _, obs, reward, terminated, truncated = self._read(out)
        info = {"action_mask": self._mask.astype(np.int8), "illegal_action": illegal}
        return self._view.single(obs), reward, terminated, truncated, info

    def render(self):
        return common.render(self.htjax_env, self.state, self.render_mode)

    # ----------------------------------------------------------------- extras

    def _read(self, out) -> tuple[list[np.ndarray], np.ndarray, float, bool, bool]:
        """Copy one call's output chunks to the host (one transfer each) and keep the mask and
        done flag; returns ``(host chunks, observation (a read-only view), reward, terminated,
        truncated)``."""
        raws = [np.asarray(chunk) for chunk in out]
        (oc, oa), (rc, ra), (tc, t), (uc, u), (mc, ma) = self._places
        self._mask = raws[mc][ma].view(np.bool_)
        terminated, truncated = bool(raws[tc][t]), bool(raws[uc][u])
        self._done = terminated or truncated
        obs = raws[oc][oa].view(self._obs_dtype).reshape(self._obs_shape)
        return raws, obs, float(raws[rc][ra].view(np.float32)[0]), terminated, truncated
