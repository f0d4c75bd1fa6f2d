"""Who sits opposite the learner: itself, a pool of its past snapshots, or fixed opponents.

Three arrangements, chosen by :func:`htjax.train.ppo.make_train`:

* **All seats** (default, and the only one for one-seat games): the learner's network acts for
  every seat, and every decision is a training sample.
* **Snapshot pool** (``PPOConfig.snapshot_pool = K > 0``): every world has one *learner seat*;
  the other seats are played by one of the last ``K`` snapshots of the learner (a snapshot is
  taken every ``snapshot_every`` updates). World ``w`` in its episode ``e`` meets snapshot
  ``(w + e) % filled``.
* **Fixed opponents** (an :class:`Opponents` argument): the other seats are played by fixed
  policies, e.g. the 14 IPD strategies; world ``w`` in episode ``e`` meets opponent
  ``(w + e) % len(opponents)``.

The learner seat of world ``w`` is ``w % num_players`` in turn-based games (so every position
is trained) and seat ``0`` in simultaneous games.

An *opponent function* sees the whole (unbatched) state, so scripted strategies may read
game-private memory::

    opponent(params, state, seat, key) -> int32[]

:func:`policy_opponent` turns an ordinary observation policy
``policy(params, observation, mask, key)`` into one.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp

from htjax.core.env import Env, State
from htjax.core.rollouts import Policy
from htjax.train.errors import InvalidArgumentError

__all__ = ["OpponentFn", "Opponents", "seat_view", "policy_opponent", "learner_seats"]

OpponentFn = Callable[[Any, State, jax.Array, jax.Array], jax.Array]


def seat_view(env: Env, state: State, seat: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Observation and legal mask of ``seat`` when it is to act (one world)."""
    if env.simultaneous:
        return state.observation[seat], state.legal_action_mask[seat]
    return state.observation, state.legal_action_mask


def policy_opponent(env: Env, policy: Policy) -> OpponentFn:
    """Wrap ``policy(params, observation, mask, key)`` as an :data:`OpponentFn` of ``env``."""

    def opponent(params, state, seat, key):
        obs, mask = seat_view(env, state, seat)
        return jnp.asarray(policy(params, obs, mask, key), jnp.int32)

    return opponent


@dataclasses.dataclass(frozen=True)
class Opponents:
    """Fixed opponents: ``fns[i](params[i], state, seat, key) -> action``, named ``names[i]``.

    ``fns`` and ``names`` are static (hashable); ``params`` is a pytree passed traced.
    """

    fns: tuple[OpponentFn, ...]
    names: tuple[str, ...]
    params: tuple[Any, ...] = dataclasses.field(default=(), compare=False, hash=False)

    def __post_init__(self) -> None:
        if not self.fns:
            raise InvalidArgumentError("Opponents needs at least one opponent function")
        if len(self.names) != len(self.fns):
            raise InvalidArgumentError(f"Opponents: {len(self.fns)} functions but {len(self.names)} names")
        if not self.params:
            object.__setattr__(self, "params", tuple(None for _ in self.fns))
        if len(self.params) != len(self.fns):
            raise InvalidArgumentError(f"Opponents: {len(self.fns)} functions but {len(self.params)} params")

    @classmethod
    def from_policies(
        cls, env: Env, policies: Sequence[Policy], names: Sequence[str], params: Sequence[Any] | None = None
    ) -> "Opponents":
        """Opponents from observation policies ``policy(params, observation, mask, key)``."""
        fns = tuple(policy_opponent(env, p) for p in policies)
        return cls(fns=fns, names=tuple(names), params=tuple(params) if params is not None else ())

    def __len__(self) -> int:
        return len(self.fns)

    def act(self, params: tuple[Any, ...], index: jax.Array, state: State, seat: jax.Array, key: jax.Array):
        """Action of opponent ``index`` (traced ``int32[]``) for ``seat`` (one world)."""
        branches = [
            (lambda fn, p: lambda s: jnp.asarray(fn(p, s, seat, key), jnp.int32))(fn, p)
            for fn, p in zip(self.fns, params)
        ]
        if len(branches) == 1:
            return branches[0](state)
        return jax.lax.switch(index, branches, state)


def learner_seats(env: Env, num_envs: int, all_seats: bool) -> jax.Array:
    """``bool[num_envs, num_players]``: the seats the learner plays in each world."""
    p = env.num_players
    if all_seats:
        return jnp.ones((num_envs, p), jnp.bool_)
    if env.simultaneous:
        return jnp.zeros((num_envs, p), jnp.bool_).at[:, 0].set(True)
    return jnp.arange(p)[None, :] == (jnp.arange(num_envs) % p)[:, None]
