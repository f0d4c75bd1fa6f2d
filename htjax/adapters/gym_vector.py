"""``num_envs`` worlds of a single-agent htjax env as a ``gymnasium.vector.VectorEnv``.

Every ``reset`` and ``step`` is one jitted call for the whole batch, and the auto-reset is the
rollouts' own (:func:`htjax.core.rollouts.step_worlds`), so a vector env plays exactly the
episodes :func:`htjax.rollout` would from the same world keys.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from htjax.adapters import common
from htjax.adapters.gym_env import OBSERVATION_VIEWS, check_single_agent, observation_view
from htjax.core.env import Env, State
from htjax.core.errors import HtjaxError, InvalidArgumentError
from htjax.core.keys import episode_key_for
from htjax.core.rollouts import RolloutCarry, step_worlds

__all__ = ["HtjaxVectorEnv"]


def _keep(which: jax.Array, on_true, on_false):
    """Per world: ``on_true`` where ``which`` (``bool[N]``), else ``on_false`` (any pytrees)."""
    return jax.tree_util.tree_map(
        lambda a, b: jnp.where(which.reshape(which.shape + (1,) * (a.ndim - 1)), a, b), on_true, on_false
    )


@functools.lru_cache(maxsize=64)
def _vector_program(env: Env, outputs: Callable, autoreset_mode: AutoresetMode):
    """Jitted batched ``reset(world_key, episode_index)`` and ``step(carry, action)``."""
    v_outputs = jax.vmap(functools.partial(outputs, env))

    def reset(world_key, episode_index):
        episode_key = jax.vmap(episode_key_for)(world_key, episode_index)
        state = jax.vmap(env.init)(episode_key)
        carry = RolloutCarry(
            state=state,
            world_key=world_key,
            episode_index=episode_index,
            episode_key=episode_key,
            policy_key=jnp.zeros(2, jnp.uint32),
            t=jnp.int32(0),
        )
        return carry, v_outputs(state)

    def step_next(carry: RolloutCarry, action):
        # NEXT_STEP: a world that finished on the previous call is stepped as a finished world
        # (a no-op), so step_worlds restarts it: its action is ignored and the first observation
        # of its next episode comes back. A world that finishes now keeps its final state until
        # the next call (its restart from step_worlds is put off by one call).
        nxt, new = step_worlds(env, carry, action, autoreset="cond")
        was_done = carry.state.terminated | carry.state.truncated
        just_done = (nxt.terminated | nxt.truncated) & ~was_done
        carry = new.replace(
            state=_keep(just_done, nxt, new.state),
            episode_index=jnp.where(just_done, carry.episode_index, new.episode_index),
            episode_key=_keep(just_done, carry.episode_key, new.episode_key),
        )
        return carry, v_outputs(carry.state)

    def step_same(carry: RolloutCarry, action):
        # SAME_STEP: finished worlds restart at once; their final outputs come back as well.
        nxt, new = step_worlds(env, carry, action, autoreset="cond")
        return new, (v_outputs(new.state), v_outputs(nxt))

    step = step_next if autoreset_mode == AutoresetMode.NEXT_STEP else step_same
    return jax.jit(reset), jax.jit(step)


def _take(x, i: int):
    return x[i]


class HtjaxVectorEnv(VectorEnv):
    """``num_envs`` worlds of a single-agent htjax env as a ``gymnasium.vector.VectorEnv``.

    Args:
      num_envs: number of worlds ``N``.
      env, config, preset, observation, render_mode, **overrides: as for
        :class:`~htjax.adapters.gym_env.HtjaxGymEnv`.
      autoreset_mode: ``AutoresetMode.NEXT_STEP`` (default, Gymnasium's default) or
        ``AutoresetMode.SAME_STEP`` (``"NextStep"`` / ``"SameStep"`` strings accepted).

    Spaces and infos: ``single_action_space = Discrete(A)``, ``action_space =
    MultiDiscrete([A] * N)``; ``observation_space = batch_space(single_observation_space)``.
    ``info["action_mask"]``: ``int8[N, A]`` (with ``info["_action_mask"]``: ``bool[N]``, all True);
    ``info["illegal_action"]``: ``bool[N]``. With ``SAME_STEP``, worlds that finished also get
    ``info["final_obs"]`` (object array, Gymnasium's layout) and ``info["final_info"]["action_mask"]``.

    Autoreset, ``NEXT_STEP``: after a step returns ``terminated | truncated`` for world ``i``,
    the next ``step`` ignores ``actions[i]``, starts world ``i``'s next episode and returns its
    first observation with reward ``0`` and both flags ``False``. Pickles (the jitted programs
    are rebuilt when unpickled).
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": list(common.RENDER_MODES),
        "render_fps": 4,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

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
            raise InvalidArgumentError(f"num_envs must be a positive int, got {num_envs!r}")
        if "opponents" in overrides:
            raise InvalidArgumentError(
                "opponents= is supported by HtjaxOpponentsEnv (one world), not by HtjaxVectorEnv"
            )
        common.check_not_forked()
        self.num_envs = int(num_envs)
        self.htjax_env = common.resolve_env(env, config, preset, **overrides)
        check_single_agent(self.htjax_env, "HtjaxVectorEnv")
        self._view = observation_view(self.htjax_env, observation)
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            raise InvalidArgumentError(
                f"autoreset_mode must be AutoresetMode.NEXT_STEP or SAME_STEP, got {autoreset_mode!r}"
            ) from None
        if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
            raise InvalidArgumentError(f"autoreset_mode {mode} is not supported; use NEXT_STEP or SAME_STEP")
        self.autoreset_mode = mode
        self.metadata = {**type(self).metadata, "autoreset_mode": mode}
        self.render_mode = common.check_render_mode(render_mode)
        self.observation_mode = observation
        self.single_observation_space = self._view.space(self.htjax_env)
        self.single_action_space = spaces.Discrete(self.htjax_env.num_actions)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = spaces.MultiDiscrete(np.full(self.num_envs, self.htjax_env.num_actions))
        self._build()
        self._world_key: np.ndarray | None = None
        self._episode_index: np.ndarray | None = None
        self._carry: RolloutCarry | None = None
        self._mask: np.ndarray | None = None
        self._done = np.zeros(self.num_envs, np.bool_)

    def _build(self) -> None:
        self._reset_fn, self._step_fn = _vector_program(
            self.htjax_env, self._view.outputs, self.autoreset_mode
        )
        common.note_jax_started()

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("_reset_fn", "_step_fn")}
        state["_view"] = self.observation_mode
        state["_carry"] = jax.device_get(self._carry)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        common.check_not_forked()
        self.__dict__.update(state)
        self._view = OBSERVATION_VIEWS[state["_view"]]
        self._build()

    # ----------------------------------------------------------------- gymnasium API
    def _world_keys(self, seed: int | Sequence[int] | None) -> None:
        n = self.num_envs
        if isinstance(seed, (list, tuple, np.ndarray)):
            if len(seed) != n:
                raise InvalidArgumentError(f"a list of seeds needs one per sub-env ({n}), got {len(seed)}")
            self._world_key = np.stack([common.seed_key(s) for s in seed])
        elif seed is not None:
            common.seed_key(seed)
            if int(seed) + n > common.MAX_SEED:
                raise InvalidArgumentError(f"seed + num_envs must be below 2**64, got seed={seed}")
            super().reset(seed=int(seed))
            self._world_key = np.stack([common.seed_key(int(seed) + i) for i in range(n)])
        elif self._world_key is None:
            base = int(self.np_random.integers(0, 2**62))
            self._world_key = np.stack([common.seed_key(base + i) for i in range(n)])
        else:  # the next episode of every world (the carry counts the auto-resets)
            index = self._episode_index if self._carry is None else self._carry.episode_index
            self._episode_index = np.asarray(index) + 1
            return
        self._episode_index = np.zeros(n, np.int32)

    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict | None = None):
        common.check_options(options)
        self._world_keys(seed)
        self._carry, out = self._reset_fn(jnp.asarray(self._world_key), jnp.asarray(self._episode_index))
        obs, packed = jax.device_get(out)
        self._read_flags(packed)
        return self._view.batched(obs), self._info(np.zeros(self.num_envs, np.bool_))

    def _read_flags(self, packed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rewards, terminated, truncated of ``float32[N, 3 + A]`` outputs; keeps the mask."""
        self._mask = packed[:, 3:] > 0.5
        terminated, truncated = packed[:, 1] > 0.5, packed[:, 2] > 0.5
        self._done = terminated | truncated
        return packed[:, 0].astype(np.float64), terminated, truncated

    def step(self, actions):
        if self._carry is None:
            raise HtjaxError(f"{self.htjax_env.id}: call reset() before step()")
        actions = common.check_actions(self.htjax_env, actions, who="actions", shape=(self.num_envs,))
        illegal = ~self._mask[np.arange(self.num_envs), actions] & ~self._done
        self._carry, out = self._step_fn(self._carry, actions)
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            obs, packed = jax.device_get(out)
            rewards, terminated, truncated = self._read_flags(packed)
            return self._view.batched(obs), rewards, terminated, truncated, self._info(illegal)
        (obs, packed), (final_obs, final_packed) = jax.device_get(out)
        final_mask = final_packed[:, 3:] > 0.5
        rewards = final_packed[:, 0].astype(np.float64)
        terminated, truncated = final_packed[:, 1] > 0.5, final_packed[:, 2] > 0.5
        self._read_flags(packed)
        info = self._info(illegal)
        done = terminated | truncated
        if done.any():
            objs = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(done):
                objs[i] = self._view.single(final_obs[i])
            info["final_obs"] = objs
            info["_final_obs"] = done.copy()
            info["final_info"] = {"action_mask": final_mask.astype(np.int8), "_action_mask": done.copy()}
            info["_final_info"] = done.copy()
        return self._view.batched(obs), rewards, terminated, truncated, info

    def render(self):
        if self.render_mode not in common.RENDER_MODES or self._carry is None:
            return common.render(
                self.htjax_env, None if self._carry is None else self.state, self.render_mode
            )
        host = jax.device_get(self.state)
        return tuple(
            common.render(
                self.htjax_env, jax.tree_util.tree_map(functools.partial(_take, i=i), host), self.render_mode
            )
            for i in range(self.num_envs)
        )

    # ----------------------------------------------------------------- extras
    @property
    def state(self) -> State | None:
        """The batched htjax state (leading axis ``num_envs``)."""
        return None if self._carry is None else self._carry.state

    @property
    def episode_keys(self) -> np.ndarray | None:
        """``uint32[num_envs, 2]`` key of each world's running episode (for replay)."""
        return None if self._carry is None else np.asarray(self._carry.episode_key)

    def action_masks(self) -> np.ndarray:
        """``bool[num_envs, num_actions]`` legal actions now."""
        if self._mask is None:
            raise HtjaxError(f"{self.htjax_env.id}: call reset() before action_masks()")
        return self._mask.copy()

    def _info(self, illegal: np.ndarray) -> dict[str, Any]:
        return {
            "action_mask": self._mask.astype(np.int8),
            "_action_mask": np.ones(self.num_envs, np.bool_),
            "illegal_action": np.asarray(illegal, np.bool_),
            "_illegal_action": np.ones(self.num_envs, np.bool_),
        }
