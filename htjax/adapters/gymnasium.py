"""Gymnasium adapters: any single-agent htjax env as a ``gymnasium.Env`` or a batched ``VectorEnv``.

After ``import htjax`` these ids are registered with Gymnasium:

===============================  ===========================================================
id                               env
===============================  ===========================================================
``htjax/Blackjack-v0``           ``htjax.make("blackjack")``: casino rules, one seat;
                                 observation ``Box`` of the env's observation
``htjax/BlackjackGymnasium-v0``  ``htjax.make("blackjack", preset="gymnasium")``; observation
                                 ``Tuple(Discrete(32), Discrete(11), Discrete(2))`` exactly
                                 like Gymnasium's ``Blackjack-v1`` (``observation="classic"``)
===============================  ===========================================================

Both have a ``vector_entry_point``, so ``gymnasium.make_vec(id, num_envs=N,
vectorization_mode="vector_entry_point")`` gives a :class:`HtjaxVectorEnv` that steps all
``N`` worlds in one ``jit(vmap(step))`` call (no Python loop over worlds).

Seeding (both classes)
----------------------
``reset(seed=s)`` (``0 <= s < 2**64``) makes ``world_key = [s >> 32, s & 0xffffffff]``
(``uint32[2]`` key data, equal to ``jax.random.PRNGKey(s)`` for ``s < 2**32``) and starts episode
``0``; every later ``reset()`` without a seed, and every auto-reset, starts the next episode
``k`` of that world from ``episode_key_for(world_key, k)``. Step ``t`` of an episode uses
``step_key(episode_key, t)``. So an adapter episode replays exactly with
``htjax.replay_episode(env, episode_key, actions)``; the key in force is ``episode_key``
(``episode_keys`` on the vector env). Sub-env ``i`` of a vector env reset with seed ``s``
uses seed ``s + i``, as in Gymnasium's ``SyncVectorEnv``, so it plays exactly the episodes
of a single env reset with ``seed=s + i``. ``reset()`` before any seed draws one from
``np_random``.

Actions
-------
An action must be an integer in ``[0, num_actions)`` (``int32[num_envs]`` for the vector env);
a wrong shape, dtype or range raises :class:`htjax.InvalidActionError` before anything runs.
An in-range action that ``info["action_mask"]`` forbids follows the core illegal-action rule:
the episode terminates with reward ``-1`` and nothing else in the game changes;
``info["illegal_action"]`` is ``True`` for that step.

Multi-seat games against fixed opponents
----------------------------------------
``HtjaxGymEnv(env, opponents={seat: policy, ...})`` makes one seat of a multi-seat game (hold'em,
the prisoner's dilemma) a single-agent ``gymnasium.Env``: the mapping names every seat but one,
the *learner seat*, and gives each a policy, e.g. a shipped ONNX file::

    env = HtjaxGymEnv("holdem", opponents={1: "policies/holdem.onnx"})

A policy is an :class:`~htjax.train.onnx_policy.OnnxPolicy` or a path to one (refused if made for
another env or rules; it samples from its probabilities with the env's ``np_random``, so
``reset(seed=s)`` replays), or any callable ``policy(observation, action_mask) -> int`` over that
seat's own observation and ``bool[num_actions]`` mask. ``step(action)`` plays the learner's
action, then the opponents until it is the learner's turn again or the episode ends (in a
simultaneous game, all seats move at once); the reward is everything the learner's seat received
meanwhile. An episode that ends before the learner's first decision is skipped by ``reset``
(``info["skipped_episodes"]`` counts them and ``info["skipped_return"]`` sums the learner's
rewards in them). Observations, masks and ``action_space`` are the learner seat's.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from typing import Any, Callable, Sequence

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from htjax.core.env import Env, HtjaxError, InvalidActionError, State
from htjax.core.keys import episode_key_for, step_key
from htjax.envs import make

__all__ = [
    "HtjaxGymEnv",
    "HtjaxVectorEnv",
    "SeatPolicy",
    "GYM_IDS",
    "OBSERVATION_VIEWS",
    "register_gymnasium_envs",
    "world_key_from_seed",
]

GYM_IDS: dict[str, dict[str, Any]] = {
    "htjax/Blackjack-v0": {"env": "blackjack", "preset": "casino"},
    "htjax/BlackjackGymnasium-v0": {"env": "blackjack", "preset": "gymnasium", "observation": "classic"},
}
"""Gymnasium id -> constructor kwargs of :class:`HtjaxGymEnv` / :class:`HtjaxVectorEnv`."""

_MAX_SEED = 2**64


# --------------------------------------------------------------------------- observation views
@dataclasses.dataclass(frozen=True)
class ObservationView:
    """How one world's state becomes a Gymnasium observation.

    Attributes:
      space: ``space(env) -> gymnasium.Space`` of one world.
      extract: traced ``extract(env, state) -> jax.Array`` for one (unbatched) world.
      single: host ``single(np.ndarray) -> observation`` for one world.
      batched: host ``batched(np.ndarray[N, ...]) -> observation`` of ``batch_space(space)``.
      available: ``available(env) -> str | None``: why the view does not fit ``env`` (None if it does).
    """

    space: Callable[[Env], spaces.Space]
    extract: Callable[[Env, State], jax.Array]
    single: Callable[[np.ndarray], Any]
    batched: Callable[[np.ndarray], Any]
    available: Callable[[Env], str | None]


def _box_space(env: Env) -> spaces.Space:
    """``MultiBinary`` for bool observations, else ``Box``; bounds from the env's optional
    ``observation_bounds -> (low, high)`` (scalars or arrays), else the dtype's range."""
    dtype = np.dtype(env.observation_dtype)
    shape = tuple(env.observation_shape)
    if dtype == np.bool_:
        return spaces.MultiBinary(list(shape))
    bounds = getattr(env, "observation_bounds", None)
    if bounds is not None:
        low, high = bounds
    elif np.issubdtype(dtype, np.integer):
        low, high = np.iinfo(dtype).min, np.iinfo(dtype).max
    else:
        low, high = -np.inf, np.inf
    return spaces.Box(low=low, high=high, shape=shape, dtype=dtype)


def _array_available(env: Env) -> str | None:
    if np.dtype(env.observation_dtype) == np.bool_ and env.observation_shape == ():
        return "a scalar bool observation has no Gymnasium MultiBinary form; use a bool[1] observation"
    return None


def _env_module_attr(env: Env, name: str):
    return getattr(importlib.import_module(type(env).__module__), name, None)


def _classic_available(env: Env) -> str | None:
    if env.id != "blackjack":
        return f"observation='classic' is Blackjack-v1's tuple view, only for 'blackjack' (got {env.id!r})"
    if env.num_actions != 2:
        return (
            "observation='classic' needs blackjack's 'gymnasium' preset (2 actions: 0=stick, 1=hit), "
            f"this config has {env.num_actions} actions; use preset='gymnasium'"
        )
    return None


OBSERVATION_VIEWS: dict[str, ObservationView] = {
    "array": ObservationView(
        space=_box_space,
        extract=lambda env, state: state.observation,
        single=lambda x: np.array(x),
        batched=lambda x: np.array(x),
        available=_array_available,
    ),
    # Gymnasium's Blackjack-v1: (player sum 4..31, dealer card 1..10, usable ace 0/1).
    "classic": ObservationView(
        space=lambda env: spaces.Tuple((spaces.Discrete(32), spaces.Discrete(11), spaces.Discrete(2))),
        extract=lambda env, state: env.classic_observation(state),
        single=lambda x: tuple(int(v) for v in x),
        batched=lambda x: tuple(np.array(x[:, i], dtype=np.int64) for i in range(x.shape[1])),
        available=_classic_available,
    ),
}
"""Observation views selectable with ``observation=``: ``"array"`` (default) and ``"classic"``."""


# --------------------------------------------------------------------------- shared helpers
def world_key_from_seed(seed: int) -> np.ndarray:
    """``uint32[2]`` world key ``[seed >> 32, seed & 0xffffffff]`` of a seed in ``[0, 2**64)``.

    Equal to ``jax.random.PRNGKey(seed)`` for seeds below ``2**32``.
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise HtjaxError(f"seed must be a non-negative int, got {seed!r}")
    seed = int(seed)
    if not 0 <= seed < _MAX_SEED:
        raise HtjaxError(f"seed must be in [0, 2**64), got {seed}")
    return np.array([(seed >> 32) & 0xFFFFFFFF, seed & 0xFFFFFFFF], dtype=np.uint32)


def _resolve_env(env: str | Env, config, preset, overrides) -> Env:
    if isinstance(env, Env):
        if config is not None or preset is not None or overrides:
            raise TypeError("pass either an Env instance or an env id with config/preset/overrides, not both")
        return env
    if not isinstance(env, str):
        raise TypeError(f"env must be an htjax env id or an htjax Env, got {type(env).__name__}")
    return make(env, config, preset=preset, **overrides)


def _check_single_agent(env: Env, what: str) -> None:
    if env.num_players != 1 or env.simultaneous:
        hint = "pass opponents={seat: policy} for every other seat, " if what == "HtjaxGymEnv" else ""
        raise HtjaxError(
            f"{what} wraps single-agent envs; {env.id!r} with this config has {env.num_players} seats"
            f"{' (simultaneous)' if env.simultaneous else ''}: "
            f"{hint}use the PettingZoo adapter or a one-seat config"
        )


SeatPolicy = Callable[[np.ndarray, np.ndarray], int]
"""``policy(observation, action_mask) -> int``: one seat's own observation and ``bool[A]`` mask."""


def _seat_policies(
    env: Env, opponents: Any, rng: Callable[[], np.random.Generator]
) -> tuple[int, dict[int, SeatPolicy]]:
    """``(learner seat, {seat: policy})`` from an ``opponents=`` mapping (see the module docstring)."""
    if not isinstance(opponents, dict):
        raise HtjaxError(f"opponents must be a dict {{seat: policy}}, got {type(opponents).__name__}")
    seats = list(range(env.num_players))
    for seat in opponents:
        if isinstance(seat, (bool, np.bool_)) or not isinstance(seat, (int, np.integer)) or seat not in seats:
            raise HtjaxError(f"opponents keys must be seats {seats} of {env.id!r}, got {seat!r}")
    learners = [s for s in seats if s not in opponents]
    if len(learners) != 1:
        raise HtjaxError(
            f"opponents must give a policy to every seat of {env.id!r} but one (the learner's); "
            f"seats without one: {learners}"
        )
    policies = {}
    for seat, policy in opponents.items():
        policies[int(seat)] = _seat_policy(env, int(seat), policy, rng)
    return learners[0], policies


def _seat_policy(env: Env, seat: int, policy: Any, rng: Callable[[], np.random.Generator]) -> SeatPolicy:
    import os

    from htjax.train.checkpoint import check_env_matches
    from htjax.train.onnx_policy import OnnxPolicy

    if isinstance(policy, (str, os.PathLike)):
        policy = OnnxPolicy.load(policy, env)
    if isinstance(policy, OnnxPolicy):
        check_env_matches(policy.env_summary, env, f"ONNX policy {policy.name} (opponent at seat {seat})")
        onnx_policy = policy
        return lambda observation, mask: onnx_policy.act(observation, mask, rng())
    if not callable(policy):
        raise HtjaxError(
            f"opponent at seat {seat} must be an OnnxPolicy, a path to an .onnx file or a callable "
            f"policy(observation, action_mask) -> int, got {type(policy).__name__}"
        )
    return policy


def _view(env: Env, observation: str) -> ObservationView:
    if observation not in OBSERVATION_VIEWS:
        raise HtjaxError(
            f"unknown observation view {observation!r}; choose one of {sorted(OBSERVATION_VIEWS)}"
        )
    view = OBSERVATION_VIEWS[observation]
    why = view.available(env)
    if why is not None:
        raise HtjaxError(why)
    return view


def _check_options(options: dict | None) -> None:
    if options is None:
        return
    if not isinstance(options, dict):
        raise HtjaxError(f"reset options must be a dict or None, got {type(options).__name__}")
    if options:
        raise HtjaxError(f"unknown reset option(s) {sorted(options)}; htjax envs take no reset options")


def _text_renderer(env: Env) -> Callable[[Env, State], str]:
    """The env module's ``render_text(env, state, seat=None)``, else a generic text view."""
    if type(env).render_text is not Env.render_text:  # the game draws its own table
        return lambda env, state: env.render_text(state)
    render_text = _env_module_attr(env, "render_text")
    if render_text is not None:
        return render_text

    def generic(env: Env, state: State) -> str:
        mask = np.asarray(state.legal_action_mask)
        legal = [label for label, ok in zip(env.action_labels, mask) if ok]
        return (
            f"{env.id} step {int(state.step_count)}  observation={np.asarray(state.observation).tolist()}\n"
            f"legal actions: {legal}  done={bool(state.terminated | state.truncated)}\n"
        )

    return generic


def _outputs(env: Env, view: ObservationView, state: State):
    """What the host needs after init/step of one world: (obs, reward, terminated, truncated, mask)."""
    return (
        view.extract(env, state),
        state.rewards[0],
        state.terminated,
        state.truncated,
        state.legal_action_mask,
    )


# --------------------------------------------------------------------------- single env
class _StatePacker:
    """Packs a state pytree into one flat buffer per dtype, and back (both traceable).

    A jitted call costs about a microsecond per argument and result leaf; a blackjack state has
    about 30 leaves, so passing it as four buffers makes one Python-side ``step`` several times
    cheaper. The buffers hold exactly the state's values (no conversions).
    """

    def __init__(self, env: Env):
        template = jax.eval_shape(env.init, jax.random.PRNGKey(0))
        leaves, self.treedef = jax.tree_util.tree_flatten(template)
        self.shapes = [tuple(leaf.shape) for leaf in leaves]
        self.sizes = [int(np.prod(shape)) for shape in self.shapes]
        self.dtypes = sorted({str(leaf.dtype) for leaf in leaves})
        self.groups = [[i for i, leaf in enumerate(leaves) if str(leaf.dtype) == d] for d in self.dtypes]

    def pack(self, state: State) -> tuple[jax.Array, ...]:
        leaves = jax.tree_util.tree_leaves(state)
        return tuple(jnp.concatenate([jnp.ravel(leaves[i]) for i in group]) for group in self.groups)

    def unpack(self, buffers: tuple[jax.Array, ...]) -> State:
        leaves: list[Any] = [None] * len(self.shapes)
        for group, buffer in zip(self.groups, buffers):
            offset = 0
            for i in group:
                leaves[i] = buffer[offset : offset + self.sizes[i]].reshape(self.shapes[i])
                offset += self.sizes[i]
        return jax.tree_util.tree_unflatten(self.treedef, leaves)


def _single_outputs(env: Env, view: ObservationView, state: State):
    """``(observation, float32[3 + A])``: reward, terminated, truncated, mask in one host copy."""
    flags = jnp.stack([state.rewards[0], state.terminated, state.truncated]).astype(jnp.float32)
    return view.extract(env, state), jnp.concatenate([flags, state.legal_action_mask.astype(jnp.float32)])


@functools.lru_cache(maxsize=None)
def _single_program(env: Env, observation: str):
    """Jitted ``init(world_key, episode_index)``, ``step(buffers, action, episode_key)`` and
    ``unpack(buffers) -> State`` of one world whose state travels packed (:class:`_StatePacker`).

    Cached per (env config, observation view), so every instance shares one compilation.
    """
    view = OBSERVATION_VIEWS[observation]
    packer = _StatePacker(env)

    def init(world_key, episode_index):
        episode_key = episode_key_for(world_key, episode_index)
        state = env.init(episode_key)
        return packer.pack(state), episode_key, _single_outputs(env, view, state)

    def step(buffers, action, episode_key):
        state = packer.unpack(buffers)
        state = env.step(state, action, step_key(episode_key, state.step_count))
        return packer.pack(state), _single_outputs(env, view, state)

    return jax.jit(init), jax.jit(step), jax.jit(packer.unpack)


def _seated_outputs(env: Env, state: State):
    """``(observations [P, *obs], float32[P + 3] rewards/terminated/truncated/current player, bool[P, A])``."""
    p = env.num_players
    observations = jnp.stack([env.observe(state, jnp.int32(seat)) for seat in range(p)])
    flags = jnp.stack([state.terminated, state.truncated, state.current_player]).astype(jnp.float32)
    masks = jnp.broadcast_to(state.legal_action_mask, (p, env.num_actions))
    return observations, jnp.concatenate([state.rewards.astype(jnp.float32), flags]), masks


@functools.lru_cache(maxsize=None)
def _seated_program(env: Env):
    """Like :func:`_single_program`, with every seat's view, rewards and mask (multi-seat envs)."""
    packer = _StatePacker(env)

    def init(world_key, episode_index):
        episode_key = episode_key_for(world_key, episode_index)
        state = env.init(episode_key)
        return packer.pack(state), episode_key, _seated_outputs(env, state)

    def step(buffers, action, episode_key):
        state = packer.unpack(buffers)
        state = env.step(state, action, step_key(episode_key, state.step_count))
        return packer.pack(state), _seated_outputs(env, state)

    return jax.jit(init), jax.jit(step), jax.jit(packer.unpack)


_MAX_SKIPPED = 1000  # episodes in a row that end before the learner acts, before reset gives up


class HtjaxGymEnv(gymnasium.Env):
    """One world of a single-agent htjax env as a ``gymnasium.Env``.

    Args:
      env: an htjax env id (``"blackjack"``) or an :class:`htjax.Env` with one seat.
      config, preset, **overrides: rules, as for :func:`htjax.make` (only with an env id).
      observation: ``"array"`` (default): ``Box(observation_shape, observation_dtype)`` of the
        env's own observation; ``"classic"``: Blackjack-v1's
        ``Tuple(Discrete(32), Discrete(11), Discrete(2))`` (blackjack's ``gymnasium`` preset).
      render_mode: ``None`` or ``"ansi"`` (the env's text renderer).
      opponents: for a multi-seat env, ``{seat: policy}`` for every seat but the learner's (an
        :class:`~htjax.train.onnx_policy.OnnxPolicy`, a path to one, or a callable
        ``policy(observation, action_mask) -> int``); see the module docstring.

    Spaces: ``action_space = Discrete(num_actions)``. ``info["action_mask"]``:
    ``int8[num_actions]`` (1 = legal; Gymnasium's mask convention), ``info["illegal_action"]``:
    ``bool``. Seeding and the illegal-action rule: see the module docstring.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        env: str | Env = "blackjack",
        *,
        config=None,
        preset: str | None = None,
        observation: str = "array",
        render_mode: str | None = None,
        opponents: dict[int, Any] | None = None,
        **overrides: Any,
    ):
        self.htjax_env = _resolve_env(env, config, preset, overrides)
        self.learner_seat = 0
        self._opponents: dict[int, SeatPolicy] = {}
        if opponents:
            if self.htjax_env.num_players == 1:
                raise HtjaxError(f"{self.htjax_env.id!r} has one seat: there is no seat for opponents")
            self.learner_seat, self._opponents = _seat_policies(
                self.htjax_env, opponents, lambda: self.np_random
            )
        else:
            _check_single_agent(self.htjax_env, "HtjaxGymEnv")
        self._view = _view(self.htjax_env, observation)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise HtjaxError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.observation_mode = observation
        self.observation_space = self._view.space(self.htjax_env)
        self.action_space = spaces.Discrete(self.htjax_env.num_actions)
        if self._opponents:
            self._init_fn, self._step_fn, self._unpack_fn = _seated_program(self.htjax_env)
        else:
            self._init_fn, self._step_fn, self._unpack_fn = _single_program(self.htjax_env, observation)
        self._pending_reward = 0.0  # learner reward received before its first decision
        self._world_key: np.ndarray | None = None
        self._episode_index = -1
        self._episode_key = None
        self._buffers: tuple[jax.Array, ...] | None = None  # the packed state of the world
        self._mask: np.ndarray | None = None
        self._done = False

    # ----------------------------------------------------------------- gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        _check_options(options)
        world_key = None if seed is None else world_key_from_seed(seed)
        super().reset(seed=seed)
        if world_key is not None:
            self._world_key = world_key
            self._episode_index = 0
        elif self._world_key is None:
            self._world_key = world_key_from_seed(int(self.np_random.integers(0, 2**63)))
            self._episode_index = 0
        else:
            self._episode_index += 1
        if self._opponents:
            return self._seated_reset()
        self._buffers, self._episode_key, out = self._init_fn(self._world_key, np.int32(self._episode_index))
        obs, _ = self._read(out)
        return self._view.single(obs), self._info(illegal=False)

    def step(self, action):
        if self._buffers is None:
            raise HtjaxError("call reset() before step()")
        action = self._validate(action)
        illegal = not self._mask[action] and not self._done
        if self._opponents:
            return self._seated_step(action, illegal)
        self._buffers, out = self._step_fn(self._buffers, np.int32(action), self._episode_key)
        obs, (reward, terminated, truncated) = self._read(out)
        return self._view.single(obs), reward, terminated, truncated, self._info(illegal)

    # ----------------------------------------------------------------- against opponents
    def _seated_read(self, out) -> tuple[np.ndarray, float]:
        """Keep every seat's view of one step's outputs; return the learner's observation and reward."""
        observations, flags, masks = jax.device_get(out)
        p = self.htjax_env.num_players
        self._views, self._masks = np.asarray(observations), np.asarray(masks)
        self._flags = (bool(flags[p]), bool(flags[p + 1]))
        self._turn = int(flags[p + 2])
        self._done = any(self._flags)
        self._mask = self._masks[self.learner_seat].copy()
        return self._views[self.learner_seat], float(flags[self.learner_seat])

    def _opponent_action(self, seat: int) -> int:
        mask = self._masks[seat]
        action = self._opponents[seat](self._views[seat].copy(), mask.copy())
        arr = np.asarray(action)
        if arr.shape != () or not np.issubdtype(arr.dtype, np.integer) or not (
            0 <= int(arr) < self.htjax_env.num_actions and mask[int(arr)]
        ):
            raise HtjaxError(
                f"opponent at seat {seat} returned {action!r}, not a legal action now "
                f"(legal: {np.flatnonzero(mask).tolist()})"
            )
        return int(arr)

    def _play_opponents(self) -> float:
        """Opponents act until the learner's turn or the episode's end; the learner's rewards."""
        total = 0.0
        while not self._done and self._turn != self.learner_seat:
            action = np.int32(self._opponent_action(self._turn))
            self._buffers, out = self._step_fn(self._buffers, action, self._episode_key)
            total += self._seated_read(out)[1]
        return total

    def _seated_reset(self):
        skipped, skipped_return = 0, 0.0
        while True:
            index = np.int32(self._episode_index)
            self._buffers, self._episode_key, out = self._init_fn(self._world_key, index)
            self._seated_read(out)
            reward = 0.0 if self.htjax_env.simultaneous else self._play_opponents()
            if not self._done:
                break
            skipped, skipped_return = skipped + 1, skipped_return + reward
            if skipped >= _MAX_SKIPPED:
                raise HtjaxError(
                    f"{_MAX_SKIPPED} episodes in a row ended before seat {self.learner_seat} had a decision"
                )
            self._episode_index += 1
        self._pending_reward = reward
        info = self._info(illegal=False)
        info.update(skipped_episodes=skipped, skipped_return=skipped_return)
        return self._view.single(self._views[self.learner_seat]), info

    def _seated_step(self, action: int, illegal: bool):
        env, seat = self.htjax_env, self.learner_seat
        if env.simultaneous:  # a finished world ignores the step, so its opponents are not asked
            joint = [
                action if s == seat or self._done else self._opponent_action(s) for s in range(env.num_players)
            ]
            move = np.asarray(joint, np.int32)
        else:
            move = np.int32(action)
        was_done = self._done
        self._buffers, out = self._step_fn(self._buffers, move, self._episode_key)
        _, reward = self._seated_read(out)
        if not was_done:
            reward += self._pending_reward + (0.0 if env.simultaneous else self._play_opponents())
            self._pending_reward = 0.0
        terminated, truncated = self._flags
        return self._view.single(self._views[seat]), reward, terminated, truncated, self._info(illegal)

    def render(self):
        if self.render_mode is None:
            gymnasium.logger.warn("render() called with render_mode=None; pass render_mode='ansi'")
            return None
        if self._buffers is None:
            raise HtjaxError("call reset() before render()")
        return _text_renderer(self.htjax_env)(self.htjax_env, self.state)

    # ----------------------------------------------------------------- extras
    @property
    def state(self) -> State | None:
        """The htjax state of the running episode (a pytree of device arrays)."""
        return None if self._buffers is None else self._unpack_fn(self._buffers)

    @property
    def episode_key(self):
        """``uint32[2]`` key of the running episode (for :func:`htjax.replay_episode`)."""
        return None if self._episode_key is None else np.asarray(self._episode_key)

    def action_masks(self) -> np.ndarray:
        """``bool[num_actions]`` legal actions now (sb3-contrib's ``MaskablePPO`` hook)."""
        if self._mask is None:
            raise HtjaxError("call reset() before action_masks()")
        return self._mask.copy()

    def _read(self, out) -> tuple[Any, tuple[float, bool, bool]]:
        """Copy one step's outputs to the host; keep the mask and done flag."""
        obs, packed = jax.device_get(out)
        reward, terminated, truncated = float(packed[0]), bool(packed[1]), bool(packed[2])
        self._mask = packed[3:] > 0.5
        self._done = terminated or truncated
        return obs, (reward, terminated, truncated)

    def _info(self, illegal: bool) -> dict[str, Any]:
        return {"action_mask": self._mask.astype(np.int8), "illegal_action": bool(illegal)}

    def _validate(self, action) -> int:
        num_actions = self.htjax_env.num_actions
        arr = np.asarray(action)
        if arr.shape != ():
            raise InvalidActionError(
                f"{self.htjax_env.id}: action must be a scalar int, got shape {arr.shape} ({action!r})"
            )
        if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
            raise InvalidActionError(
                f"{self.htjax_env.id}: action must be an integer, got dtype {arr.dtype} ({action!r})"
            )
        value = int(arr)
        if not 0 <= value < num_actions:
            raise InvalidActionError(
                f"{self.htjax_env.id}: action {value} out of range [0, {num_actions}); "
                f"actions are {list(enumerate(self.htjax_env.action_labels))}"
            )
        return value


# --------------------------------------------------------------------------- vector env
def _take(x, i: int):
    return x[i]


def _where_worlds(mask: jax.Array, on_true, on_false):
    return jax.tree_util.tree_map(
        lambda a, b: jnp.where(mask.reshape(mask.shape + (1,) * (a.ndim - 1)), a, b), on_true, on_false
    )


@functools.lru_cache(maxsize=None)
def _vector_program(env: Env, observation: str, autoreset_mode: AutoresetMode):
    """Jitted batched ``reset`` and ``step`` (one per (env, view, autoreset mode))."""
    view = OBSERVATION_VIEWS[observation]
    v_init = jax.vmap(env.init)
    v_step = jax.vmap(env.step)
    v_outputs = jax.vmap(functools.partial(_outputs, env, view))

    def reset(world_key, episode_index):
        episode_key = jax.vmap(episode_key_for)(world_key, episode_index)
        state = v_init(episode_key)
        return state, episode_key, v_outputs(state)

    def restart(state, world_key, episode_index, episode_key, which):
        """Start the next episode in the worlds ``which``; only pays for init when any restarts."""
        new_index = episode_index + which.astype(jnp.int32)

        def fresh(state):
            new_key = jax.vmap(episode_key_for)(world_key, new_index)
            new_key = jnp.where(which[:, None], new_key, episode_key)
            return _where_worlds(which, v_init(new_key), state), new_key

        new_state, new_key = jax.lax.cond(jnp.any(which), fresh, lambda s: (s, episode_key), state)
        return new_state, new_index, new_key

    def step_next(state, world_key, episode_index, episode_key, autoreset, action):
        # NEXT_STEP: worlds that finished on the previous call start a new episode and ignore
        # their action (stepping a finished world is a no-op by the contract).
        skeys = jax.vmap(step_key)(episode_key, state.step_count)
        stepped = v_step(state, action, skeys)
        state, episode_index, episode_key = restart(stepped, world_key, episode_index, episode_key, autoreset)
        return state, episode_index, episode_key, v_outputs(state)

    def step_same(state, world_key, episode_index, episode_key, autoreset, action):
        # SAME_STEP: a world that finishes now reports its reward and flags, returns the first
        # observation of its next episode, and the final observation goes to info.
        skeys = jax.vmap(step_key)(episode_key, state.step_count)
        stepped = v_step(state, action, skeys)
        final = v_outputs(stepped)
        done = stepped.terminated | stepped.truncated
        state, episode_index, episode_key = restart(stepped, world_key, episode_index, episode_key, done)
        obs, _, _, _, mask = v_outputs(state)
        return (
            state,
            episode_index,
            episode_key,
            (obs, final[1], final[2], final[3], mask, final[0], final[4]),
        )

    step = step_next if autoreset_mode == AutoresetMode.NEXT_STEP else step_same
    return jax.jit(reset), jax.jit(step)


class HtjaxVectorEnv(VectorEnv):
    """``num_envs`` worlds of a single-agent htjax env as a ``gymnasium.vector.VectorEnv``.

    ``reset`` and ``step`` are one ``jit(vmap(...))`` call each for the whole batch.

    Args:
      num_envs: number of worlds ``N``.
      env, config, preset, observation, render_mode, **overrides: as for :class:`HtjaxGymEnv`.
      autoreset_mode: ``AutoresetMode.NEXT_STEP`` (default, Gymnasium's default) or
        ``AutoresetMode.SAME_STEP`` (``"NextStep"`` / ``"SameStep"`` strings accepted).

    Spaces and infos: ``single_action_space = Discrete(A)``, ``action_space =
    MultiDiscrete([A] * N)``; ``observation_space = batch_space(single_observation_space)``.
    ``info["action_mask"]``: ``int8[N, A]`` (with ``info["_action_mask"]``: ``bool[N]``, all True);
    ``info["illegal_action"]``: ``bool[N]``. With ``SAME_STEP``, worlds that finished also get
    ``info["final_obs"]`` (object array, Gymnasium's layout) and ``info["final_info"]["action_mask"]``.

    Autoreset, ``NEXT_STEP``: after a step returns ``terminated | truncated`` for world ``i``,
    the next ``step`` ignores ``actions[i]``, starts world ``i``'s next episode and returns its
    first observation with reward ``0`` and both flags ``False``.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        env: str | Env = "blackjack",
        *,
        config=None,
        preset: str | None = None,
        observation: str = "array",
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        **overrides: Any,
    ):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise HtjaxError(f"num_envs must be a positive int, got {num_envs!r}")
        self.num_envs = int(num_envs)
        if "opponents" in overrides:
            raise HtjaxError("opponents= is supported by HtjaxGymEnv (one world), not by HtjaxVectorEnv")
        self.htjax_env = _resolve_env(env, config, preset, overrides)
        _check_single_agent(self.htjax_env, "HtjaxVectorEnv")
        self._view = _view(self.htjax_env, observation)
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            raise HtjaxError(
                f"autoreset_mode must be AutoresetMode.NEXT_STEP or SAME_STEP, got {autoreset_mode!r}"
            ) from None
        if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
            raise HtjaxError(f"autoreset_mode {mode} is not supported; use NEXT_STEP or SAME_STEP")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise HtjaxError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.autoreset_mode = mode
        self.metadata = {**type(self).metadata, "autoreset_mode": mode}
        self.render_mode = render_mode
        self.observation_mode = observation

        self.single_observation_space = self._view.space(self.htjax_env)
        self.single_action_space = spaces.Discrete(self.htjax_env.num_actions)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = spaces.MultiDiscrete(np.full(self.num_envs, self.htjax_env.num_actions))
        self._reset_fn, self._step_fn = _vector_program(self.htjax_env, observation, mode)

        self._world_key = None
        self._episode_index = None
        self._episode_key = None
        self._state: State | None = None
        self._autoreset = None
        self._mask: np.ndarray | None = None
        self._done = np.zeros(self.num_envs, np.bool_)

    # ----------------------------------------------------------------- gymnasium API
    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict | None = None):
        _check_options(options)
        n = self.num_envs
        if isinstance(seed, (list, tuple, np.ndarray)):
            if len(seed) != n:
                raise HtjaxError(f"a list of seeds needs one per sub-env ({n}), got {len(seed)}")
            self._world_key = np.stack([world_key_from_seed(s) for s in seed])
            self._episode_index = np.zeros(n, np.int32)
        elif seed is not None:
            world_key_from_seed(seed)
            if int(seed) + n > _MAX_SEED:
                raise HtjaxError(f"seed + num_envs must be below 2**64, got seed={seed}")
            super().reset(seed=int(seed))
            self._world_key = np.stack([world_key_from_seed(int(seed) + i) for i in range(n)])
            self._episode_index = np.zeros(n, np.int32)
        elif self._world_key is None:
            base = int(self.np_random.integers(0, 2**62))
            self._world_key = np.stack([world_key_from_seed(base + i) for i in range(n)])
            self._episode_index = np.zeros(n, np.int32)
        else:
            self._episode_index = np.asarray(self._episode_index) + 1
        self._state, self._episode_key, out = self._reset_fn(
            jnp.asarray(self._world_key), jnp.asarray(self._episode_index)
        )
        obs, _, terminated, truncated, mask = jax.device_get(out)
        self._mask = np.asarray(mask)
        self._done = np.asarray(terminated | truncated)
        self._autoreset = jnp.asarray(self._done)
        self._world_key = jnp.asarray(self._world_key)
        self._episode_index = jnp.asarray(self._episode_index)
        return self._view.batched(obs), self._info(np.zeros(n, np.bool_))

    def step(self, actions):
        if self._state is None:
            raise HtjaxError("call reset() before step()")
        actions = self._validate(actions)
        illegal = ~self._mask[np.arange(self.num_envs), actions] & ~self._done
        self._state, self._episode_index, self._episode_key, out = self._step_fn(
            self._state, self._world_key, self._episode_index, self._episode_key, self._autoreset, actions
        )
        host = jax.device_get(out)
        obs, rewards, terminated, truncated, mask = host[:5]
        terminated = np.array(terminated)
        truncated = np.array(truncated)
        done = terminated | truncated
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            self._autoreset = jnp.asarray(done)
            self._done = done
        else:
            self._done = np.zeros(self.num_envs, np.bool_)
        self._mask = np.asarray(mask)
        info = self._info(illegal)
        if self.autoreset_mode == AutoresetMode.SAME_STEP and done.any():
            final_obs, final_mask = host[5], host[6]
            objs = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(done):
                objs[i] = self._view.single(final_obs[i])
            info["final_obs"] = objs
            info["_final_obs"] = done.copy()
            info["final_info"] = {
                "action_mask": np.asarray(final_mask).astype(np.int8),
                "_action_mask": done.copy(),
            }
            info["_final_info"] = done.copy()
        return (
            self._view.batched(obs),
            np.asarray(rewards, dtype=np.float64),
            terminated,
            truncated,
            info,
        )

    def render(self):
        if self.render_mode is None:
            gymnasium.logger.warn("render() called with render_mode=None; pass render_mode='ansi'")
            return None
        if self._state is None:
            raise HtjaxError("call reset() before render()")
        render = _text_renderer(self.htjax_env)
        host = jax.device_get(self._state)
        return tuple(
            render(self.htjax_env, jax.tree_util.tree_map(functools.partial(_take, i=i), host))
            for i in range(self.num_envs)
        )

    # ----------------------------------------------------------------- extras
    @property
    def state(self) -> State | None:
        """The batched htjax state (leading axis ``num_envs``)."""
        return self._state

    @property
    def episode_keys(self) -> np.ndarray | None:
        """``uint32[num_envs, 2]`` key of each world's running episode (for replay)."""
        return None if self._episode_key is None else np.asarray(self._episode_key)

    def action_masks(self) -> np.ndarray:
        """``bool[num_envs, num_actions]`` legal actions now."""
        if self._mask is None:
            raise HtjaxError("call reset() before action_masks()")
        return self._mask.copy()

    def _info(self, illegal: np.ndarray) -> dict[str, Any]:
        return {
            "action_mask": self._mask.astype(np.int8),
            "_action_mask": np.ones(self.num_envs, np.bool_),
            "illegal_action": np.asarray(illegal, np.bool_),
            "_illegal_action": np.ones(self.num_envs, np.bool_),
        }

    def _validate(self, actions) -> np.ndarray:
        num_actions = self.htjax_env.num_actions
        arr = np.asarray(actions)
        what = f"{self.htjax_env.id}: actions"
        if arr.shape != (self.num_envs,):
            raise InvalidActionError(f"{what} must have shape ({self.num_envs},), got shape {arr.shape}")
        if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
            raise InvalidActionError(f"{what} must be integers, got dtype {arr.dtype}")
        bad = (arr < 0) | (arr >= num_actions)
        if bad.any():
            raise InvalidActionError(
                f"{what} out of range [0, {num_actions}) at sub-env(s) {np.flatnonzero(bad).tolist()}: "
                f"{arr[bad].tolist()}; actions are {list(enumerate(self.htjax_env.action_labels))}"
            )
        return arr.astype(np.int32)


# --------------------------------------------------------------------------- registration
def register_gymnasium_envs() -> None:
    """Register :data:`GYM_IDS` with Gymnasium (idempotent: ids already present are left alone)."""
    for gym_id, kwargs in GYM_IDS.items():
        if gym_id in gymnasium.registry:
            continue
        gymnasium.register(
            id=gym_id,
            entry_point=f"{__name__}:HtjaxGymEnv",
            vector_entry_point=f"{__name__}:HtjaxVectorEnv",
            kwargs=dict(kwargs),
        )


register_gymnasium_envs()
