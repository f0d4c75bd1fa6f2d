"""Live recording: a game logged action by action as it is played (CLI, P2P peers, browser).

Each :meth:`Recorder.append` is one Automerge transaction, so every action can be synced as
soon as it is made. The recorder's state is always *derived* from the document (the merge
rule), so after merging a peer's changes, :meth:`Recorder.refresh` gives the state every
peer holding the same document agrees on.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any, Sequence

import automerge.core as am
import jax
import numpy as np

from htjax.core.env import Env, State
from htjax.core.keys import as_key, key_data, step_key
from htjax.sync import schema
from htjax.sync.digest import digest_states, leaf_arrays
from htjax.sync.document import EpisodeDoc, utc_now
from htjax.sync.errors import LogAppendError
from htjax.sync.params import default_plain
from htjax.sync.record import DEFAULT_CHECKPOINT_EVERY, default_seats, new_header
from htjax.sync.replay import derive, episode_returns
from htjax.sync.views import public_view_of

__all__ = ["Recorder"]


@functools.lru_cache(maxsize=32)
def _advance(env: Env):
    return jax.jit(
        lambda state, action, ekey, params: env.step(state, action, step_key(ekey, state.step_count), params)
    )


class Recorder:
    """Append actions to an episode document and keep its derived state.

    Build with :meth:`start` for a new game, or ``Recorder(doc)`` to continue a loaded, copied
    or forked document (a P2P peer joins this way).

    Attributes:
      doc: the :class:`EpisodeDoc` being written.
      env: its env.
      state: the derived state (one world, device arrays).
      env_params: the rule parameters the episode is played with (from the document).
    """

    def __init__(self, doc: EpisodeDoc):
        self.doc = doc
        self.env = doc.env()
        self.env_params = doc.params()
        # the config's values stay compile-time constants, as in replay (htjax.sync.engine)
        custom = doc.header.params is not None and dict(doc.header.params) != default_plain(self.env)
        self._step_params = self.env_params if custom else None
        self._key = as_key(np.asarray(doc.header.episode_key, np.uint32))
        self.refresh()

    @classmethod
    def start(
        cls,
        env: Env,
        episode_key: Any,
        seats: Sequence[schema.Seat] | None = None,
        *,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        public_view: bool = False,
        actor_id: bytes | None = None,
        env_params: Any = None,
    ) -> "Recorder":
        """A new document for one episode of ``env`` from ``episode_key`` (``uint32[2]`` key data),
        played under rule parameters ``env_params`` (:meth:`Env.params`; None: the config's values)."""
        key = np.asarray(
            key_data(episode_key if isinstance(episode_key, jax.Array) else jax.numpy.asarray(episode_key))
        )
        header = new_header(
            env, key, seats or default_seats(env), checkpoint_every=checkpoint_every, params=env_params
        )
        doc = EpisodeDoc.create(header, actor_id=actor_id)
        rec = cls(doc)
        with doc.automerge.transaction() as tx:
            rec._write_checkpoint(tx, 0, rec.state)
            if public_view:
                schema.put_plain(tx, am.ROOT, "views", public_view_of(env, _stack(rec.state), 0))
        rec._views = public_view
        return rec

    # ------------------------------------------------------------------ derived view
    def refresh(self) -> None:
        """Re-derive the state from the document (call after merging a peer's changes)."""
        d = derive(self.doc)
        self.derivation = d
        states = d.states
        self.state: State = jax.tree_util.tree_map(lambda x: x[d.length], states)
        self._rewards = [np.asarray(r) for r in np.asarray(states.rewards)]
        self._pending = {seat: d.entries[i].action for seat, i in d.pending.items()}  # seat -> action
        self._views = self.doc.views() is not None

    @property
    def step(self) -> int:
        """Steps applied so far."""
        return self.derivation.length

    @property
    def done(self) -> bool:
        return bool(self.state.terminated | self.state.truncated)

    def to_move(self) -> list[int]:
        """Seats that may append now: the current player, or the simultaneous seats yet to act."""
        if self.done:
            return []
        if self.env.simultaneous:
            return [s for s in range(self.env.num_players) if s not in self._pending]
        return [int(self.state.current_player)]

    # ------------------------------------------------------------------ appending
    def append(
        self,
        action: int,
        *,
        seat: int | None = None,
        actor: str | None = None,
        time: datetime.datetime | None = None,
    ) -> State:
        """Log ``action`` of ``seat`` (default: the seat to move) and return the derived state.

        Raises:
          LogAppendError: the episode is over, ``seat`` is not to move, or ``action`` is illegal.
        """
        movers = self.to_move()
        if not movers:
            raise LogAppendError(
                f"{self.env.id}: the episode is over (step {self.step}); nothing can be appended"
            )
        seat = movers[0] if seat is None else seat
        if seat not in movers:
            raise LogAppendError(
                f"{self.env.id}: seat {seat!r} is not to move at step {self.step} (seats to move: {movers})"
            )
        if (
            isinstance(action, bool)
            or not isinstance(action, (int, np.integer))
            or not 0 <= action < self.env.num_actions
        ):
            raise LogAppendError(
                f"{self.env.id}: action must be an int in [0, {self.env.num_actions}), got {action!r}"
            )
        mask = np.asarray(self.state.legal_action_mask)
        if not (mask[seat, action] if self.env.simultaneous else mask[action]):
            labels = self.env.action_labels
            legal = [labels[a] for a in np.flatnonzero(mask[seat] if self.env.simultaneous else mask)]
            raise LogAppendError(
                f"{self.env.id}: action {labels[action]!r} is illegal for seat {seat} at step {self.step}; legal: {legal}"
            )
        entry = (
            self.step,
            int(seat),
            int(action),
            actor or self.doc.header.seats[seat].actor,
            time or utc_now(),
        )
        new_state = None
        if self.env.simultaneous:
            pending = {**self._pending, seat: int(action)}
            if len(pending) == self.env.num_players:
                joint = np.array([pending[s] for s in range(self.env.num_players)], np.int32)
                new_state = _advance(self.env)(self.state, joint, self._key, self._step_params)
        else:
            new_state = _advance(self.env)(self.state, np.int32(action), self._key, self._step_params)
        doc = self.doc.automerge
        with doc.transaction() as tx:
            log = schema.list_id(tx, "log")
            schema.write_entries(tx, log, tx.length(log), [entry])
            if new_state is not None:
                self._after_step(tx, new_state)
        self.refresh()
        return self.state

    def _after_step(self, tx, state: State) -> None:
        t = self.step + 1
        rewards = self._rewards + [np.asarray(state.rewards)]
        done = bool(state.terminated | state.truncated)
        if t % self.doc.header.checkpoint_every == 0 or done:
            self._write_checkpoint(tx, t, state)
        if done:
            schema.write_outcome(
                tx,
                schema.Outcome(
                    returns=episode_returns(np.stack(rewards), t),
                    length=t,
                    terminated=bool(state.terminated),
                    truncated=bool(state.truncated),
                ),
            )
        if self._views:
            views = schema.list_id(tx, "views")
            schema.insert_plain(tx, views, tx.length(views), public_view_of(self.env, _stack(state), 0)[0])

    def _write_checkpoint(self, tx, t: int, state: State) -> None:
        d = digest_states(self.doc.header.digest_fields, leaf_arrays(state), [()])[0]
        cps = schema.list_id(tx, "checkpoints")
        schema.write_checkpoints(tx, cps, tx.length(cps), [schema.Checkpoint(t, d.whole, d.fields)])


def _stack(state: State) -> State:
    return jax.tree_util.tree_map(lambda x: x[None], state)
