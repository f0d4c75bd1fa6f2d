"""One seat of a multi-seat htjax game against fixed opponents, as a ``gymnasium.Env``.

:class:`HtjaxOpponentsEnv` (``env, opponents={seat: policy, ...}``): the mapping names every
seat but one, the *learner seat*, and gives each a policy:

* a **built-in opponent by name**: ``"random"`` and ``"first_legal"`` for any game;
  hold'em's baselines ``"call_station"``, ``"maniac"`` (:mod:`htjax.agents.holdem`); the IPD's
  classic strategies that decide from the observation window (``"TitForTat"``, ``"GTFT"``,
  ``"WinStayLoseShift"``, ...; :mod:`htjax.agents.ipd`). They act on their seat's own view with
  keys drawn from the env's ``np_random``, so ``reset(seed=s)`` replays.
* a **shipped ONNX policy by name** (``"holdem"``, :mod:`htjax.policies`) or a path to an
  ``.onnx`` file, or an :class:`~htjax.train.onnx_policy.OnnxPolicy` (refused if made for
  another env or rules; it samples with the env's ``np_random``);
* any callable ``policy(observation, action_mask) -> int`` over that seat's own observation and
  ``bool[num_actions]`` mask.

``step(action)`` plays the learner's action, then the opponents until it is the learner's turn
again or the episode ends (in a simultaneous game all seats move at once); the reward is
everything the learner's seat received meanwhile. An episode that ends before the learner's
first decision is skipped by ``reset`` (``info["skipped_episodes"]`` counts them,
``info["skipped_return"]`` sums the learner's rewards in them).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium
import jax
import numpy as np
from gymnasium import spaces

from htjax.adapters import common
from htjax.adapters.programs import program_device, seats_program
from htjax.core.env import Env
from htjax.core.errors import HtjaxError, InvalidActionError, InvalidArgumentError
from htjax.core.rollouts import first_legal_policy, random_policy

__all__ = ["HtjaxOpponentsEnv", "SeatPolicy", "builtin_opponent", "builtin_opponent_names"]

SeatPolicy = Callable[[np.ndarray, np.ndarray], int]
"""``policy(observation, action_mask) -> int``: one seat's own observation and ``bool[A]`` mask."""

_MAX_SKIPPED = 1000  # episodes in a row that end before the learner acts, before reset gives up


# --------------------------------------------------------------------------- built-in opponents
def _game_opponents(env: Env) -> dict[str, Callable]:
    """House policies ``policy(params, observation, mask, key)`` of ``env``'s game, by name (lazy imports)."""
    if env.id == "holdem":
        from htjax.agents.holdem import BASELINES

        return dict(BASELINES)
    if env.id == "prisoners_dilemma":
        from htjax.agents.ipd.strategies import STRATEGIES, strategy_policy

        found = {}
        for name in STRATEGIES:
            try:
                found[name] = strategy_policy(name, env.config)
            except InvalidArgumentError:  # decides from the whole match, not from the observation window
                continue
        return found
    return {}


def builtin_opponent_names(env: Env) -> tuple[str, ...]:
    """Names :func:`builtin_opponent` accepts for ``env``."""
    return tuple(sorted({"random", "first_legal", *_game_opponents(env)}))


def builtin_opponent(env: Env, name: str) -> Callable | None:
    """The house policy ``policy(params, observation, mask, key) -> int32[]`` called ``name``, or None."""
    if name == "random":
        return random_policy
    if name == "first_legal":
        return first_legal_policy
    return _game_opponents(env).get(name)


@functools.lru_cache(maxsize=64)
def _jitted(policy: Callable) -> Callable:
    """``policy`` jitted on the device of the one-world programs (:func:`program_device`: a
    synchronous CPU client on CPU), so an opponent's move costs no thread hand-off either."""
    on_device = jax.sharding.SingleDeviceSharding(program_device())
    return jax.jit(policy, in_shardings=on_device, out_shardings=on_device)


def _host_policy(policy: Callable, rng: Callable[[], np.random.Generator]) -> SeatPolicy:
    """A house policy as a :data:`SeatPolicy`, its key drawn from ``rng()``."""
    jitted = _jitted(policy)

    def act(observation: np.ndarray, mask: np.ndarray) -> int:
        key = rng().integers(0, 2**32, size=2, dtype=np.uint32)
        return int(jitted(None, observation, mask, key))

    return act


def _seat_policy(env: Env, seat: int, policy: Any, rng: Callable[[], np.random.Generator]) -> SeatPolicy:
    if isinstance(policy, str) and builtin_opponent(env, policy) is not None:
        return _host_policy(builtin_opponent(env, policy), rng)
    if isinstance(policy, (str, os.PathLike)) or type(policy).__name__ == "OnnxPolicy":
        import htjax.policies
        from htjax.policies import UnknownPolicyError
        from htjax.train.onnx_policy import OnnxModelError, OnnxPolicy

        try:  # a shipped policy's name or a path (htjax.policies resolves both)
            onnx = htjax.policies.load(policy.path if isinstance(policy, OnnxPolicy) else policy, env)
        except (OnnxModelError, UnknownPolicyError) as err:  # name what would have worked
            raise InvalidArgumentError(
                f"opponent at seat {seat}: {err}; built-in opponents for {env.id!r} are "
                f"{list(builtin_opponent_names(env))}"
            ) from None
        return lambda observation, mask: onnx.act(observation, mask, rng())
    if not callable(policy):
        raise InvalidArgumentError(
            f"opponent at seat {seat} must be a built-in opponent name {list(builtin_opponent_names(env))}, "
            f"a shipped policy name or .onnx path, an OnnxPolicy, or a callable "
            f"policy(observation, action_mask) -> int; got {type(policy).__name__}"
        )
    return policy


def seat_policies(
    env: Env, opponents: Any, rng: Callable[[], np.random.Generator]
) -> tuple[int, dict[int, SeatPolicy]]:
    """``(learner seat, {seat: policy})`` from an ``opponents=`` mapping (see the module docstring)."""
    if not isinstance(opponents, dict):
        raise InvalidArgumentError(
            f"opponents must be a dict {{seat: policy}}, got {type(opponents).__name__}"
        )
    if env.num_players == 1:
        raise InvalidArgumentError(
            f"{env.id!r} has one seat: there is no seat for opponents; use HtjaxGymEnv"
        )
    seats = list(range(env.num_players))
    for seat in opponents:
        if isinstance(seat, (bool, np.bool_)) or not isinstance(seat, (int, np.integer)) or seat not in seats:
            raise InvalidArgumentError(f"opponents keys must be seats {seats} of {env.id!r}, got {seat!r}")
    learners = [s for s in seats if s not in opponents]
    if len(learners) != 1:
        raise InvalidArgumentError(
            f"opponents must give a policy to every seat of {env.id!r} but one (the learner's); "
            f"seats without one: {learners}"
        )
    return learners[0], {int(s): _seat_policy(env, int(s), p, rng) for s, p in opponents.items()}


# --------------------------------------------------------------------------- the env
class HtjaxOpponentsEnv(common.EpisodeExtras, gymnasium.Env):
    """One seat of a multi-seat htjax env against fixed opponents, as a ``gymnasium.Env``.

    Args:
      env: an htjax env id (``"holdem"``) or an :class:`htjax.Env` with several seats.
      opponents: ``{seat: policy}`` for every seat but the learner's (see the module docstring).
      config, preset, **overrides: rules, as for :func:`htjax.make` (only with an env id).
      render_mode: ``None``, ``"ansi"`` or ``"human"`` (the learner seat's view, nothing hidden
        revealed); another mode warns and renders nothing.

    Spaces: ``observation_space`` is the learner seat's ``Box`` (bounded by
    ``env.observation_bounds``), ``action_space = Discrete(num_actions)``;
    ``info["action_mask"]``: ``int8[num_actions]``, ``info["illegal_action"]``: ``bool``;
    :meth:`action_masks` for ``MaskablePPO``. Seeding as for ``HtjaxGymEnv``. Pickles when its
    opponents do (names and paths always).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": list(common.RENDER_MODES), "render_fps": 4}

    def __init__(
        self,
        env: str | Env = "holdem",
        opponents: dict[int, Any] | None = None,
        *,
        config=None,
        preset: str | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ):
        common.check_not_forked()
        self.htjax_env = common.resolve_env(env, config, preset, **overrides)
        self.opponents = dict(opponents) if isinstance(opponents, dict) else opponents
        self.learner_seat, self._policies = seat_policies(self.htjax_env, opponents, lambda: self.np_random)
        self.render_mode = common.check_render_mode(render_mode)
        self.observation_space = common.observation_box(self.htjax_env)
        self.action_space = spaces.Discrete(self.htjax_env.num_actions)
        self._build()
        self._pending_reward = 0.0  # learner reward received before its first decision
        self._world_key: np.ndarray | None = None
        self._episode_index = -1
        self._episode_key = None
        self._buffers: tuple[jax.Array, ...] | None = None
        self._mask: np.ndarray | None = None
        self._done = False

    def _build(self) -> None:
        self._program = seats_program(self.htjax_env)
        common.note_jax_started()

    def __getstate__(self) -> dict[str, Any]:
        drop = ("_program", "_policies")
        state = {k: v for k, v in self.__dict__.items() if k not in drop}
        state["_buffers"] = None if self._buffers is None else tuple(self._program.host(self._buffers))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        common.check_not_forked()
        self.__dict__.update(state)
        _, self._policies = seat_policies(self.htjax_env, self.opponents, lambda: self.np_random)
        self._build()

    # ----------------------------------------------------------------- gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        common.check_options(options)
        world_key = None if seed is None else common.seed_key(seed)
        super().reset(seed=seed)
        next_in_stream = False
        if world_key is not None:
            self._world_key, self._episode_index = world_key, 0
        elif self._world_key is None:
            self._world_key, self._episode_index = common.seed_key(int(self.np_random.integers(0, 2**63))), 0
        else:
            self._episode_index += 1
            next_in_stream = self._buffers is not None
        skipped, skipped_return = 0, 0.0
        while True:
            if next_in_stream:  # the world's next episode key is derived in the compiled call
                self._buffers, out = self._program.next_episode(self._buffers)
            else:
                self._buffers, out = self._program.init(self._world_key, np.int32(self._episode_index))
            raws = self._program.host(out)
            self._episode_key = self._program.out_layout.read(raws, "episode_key").copy()
            self._read(raws)
            reward = 0.0 if self.htjax_env.simultaneous else self._play_opponents()
            if not self._done:
                break
            skipped, skipped_return = skipped + 1, skipped_return + reward
            if skipped >= _MAX_SKIPPED:
                raise HtjaxError(
                    f"{_MAX_SKIPPED} episodes in a row ended before seat {self.learner_seat} had a decision"
                )
            self._episode_index += 1
            next_in_stream = True
        self._pending_reward = reward
        info = self._info(illegal=False)
        info.update(skipped_episodes=skipped, skipped_return=skipped_return)
        return self._views[self.learner_seat].copy(), info

    def step(self, action):
        if self._buffers is None:
            raise HtjaxError(f"{self.htjax_env.id}: call reset() before step()")
        env, seat = self.htjax_env, self.learner_seat
        if (type(action) is int or isinstance(action, np.integer)) and 0 <= action < env.num_actions:
            action = int(action)  # the common case: nothing to check beyond the range
        else:
            action = int(common.check_actions(env, action, who=f"action of seat {seat}"))
        illegal = not self._mask[action] and not self._done
        if env.simultaneous:  # a finished world ignores the step, so its opponents are not asked
            move = np.asarray(
                [
                    action if s == seat or self._done else self._opponent_action(s)
                    for s in range(env.num_players)
                ],
                np.int32,
            )
        else:
            move = self._program.action(action)
        was_done = self._done
        self._buffers, out = self._program.step(self._buffers, move)
        reward = self._read(self._program.host(out))
        if not was_done:
            reward += self._pending_reward + (0.0 if env.simultaneous else self._play_opponents())
            self._pending_reward = 0.0
        terminated, truncated = self._flags
        return self._views[seat].copy(), reward, terminated, truncated, self._info(illegal)

    def render(self):
        return common.render(self.htjax_env, self.state, self.render_mode, seat=self.learner_seat)

    # ----------------------------------------------------------------- opponents
    def _read(self, raws: list[np.ndarray]) -> float:
        """Keep every seat's view, mask and the flags of one call's outputs (host copies of the
        output chunks); the learner's reward."""
        layout, p = self._program.out_layout, self.htjax_env.num_players
        self._views = layout.read(raws, "views")
        mask = layout.read(raws, "mask")
        self._masks = np.broadcast_to(mask, (p, self.htjax_env.num_actions))
        self._flags = (bool(layout.read(raws, "terminated")), bool(layout.read(raws, "truncated")))
        self._turn = int(layout.read(raws, "current_player"))
        self._done = any(self._flags)
        self._mask = self._masks[self.learner_seat].copy()
        return float(layout.read(raws, "rewards")[self.learner_seat])

    def _opponent_action(self, seat: int) -> int:
        mask = self._masks[seat]
        action = self._policies[seat](self._views[seat].copy(), mask.copy())
        arr = np.asarray(action)
        if (
            arr.shape != ()
            or not np.issubdtype(arr.dtype, np.integer)
            or not (0 <= int(arr) < self.htjax_env.num_actions and mask[int(arr)])
        ):
            raise InvalidActionError(
                f"opponent at seat {seat} returned {action!r}, not a legal action now; "
                f"{common.legal_text(self.htjax_env, mask)}"
            )
        return int(arr)

    def _play_opponents(self) -> float:
        """Opponents act until the learner's turn or the episode's end; the learner's rewards."""
        total = 0.0
        while not self._done and self._turn != self.learner_seat:
            action = self._program.action(self._opponent_action(self._turn))
            self._buffers, out = self._program.step(self._buffers, action)
            total += self._read(self._program.host(out))
        return total

    # ----------------------------------------------------------------- extras

    def _info(self, illegal: bool) -> dict[str, Any]:
        return {"action_mask": self._mask.astype(np.int8), "illegal_action": bool(illegal)}
