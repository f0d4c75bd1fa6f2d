"""Incremental derivation: the merge rule of :mod:`htjax.sync.derive`, continued entry by entry.

A live peer re-derives its episode on every change of the document. The log usually only grows
at its end (one appended entry per change), so re-running the whole padded episode through
:func:`~htjax.sync.derive.derive_entries` each time repeats work. :class:`IncrementalDeriver`
keeps the last derivation and, when the new log is the old one plus appended entries (same
list prefix, same header and key, same seat bindings) and the episode was not over, applies the
rule's sequential form to the new entries only, stepping accepted actions with one jitted
single-step function (``env.step`` with :func:`htjax.core.keys.step_key`, as
:func:`htjax.core.rollouts.replay_episode` does). Anything else (an entry inserted earlier in
the list by a merge, a new claim, another key, the episode over) falls back to the full
derive, so the result is always the full derive's: the same accepted, pending and rejected
entries with the same reasons, the same actions and the same states.

The sequential form, for one new entry at list index ``i`` with ``t`` steps applied so far,
checks in the order the batched rule reports: rule 5 (its creator holds its seat), the seat
and action ranges, ``step == t``, a simultaneous seat acting twice, then rules 2-3 on the
derived state (turn-based: the seat is to move, then the action is legal; simultaneous: the
action is legal for the seat). An entry that passes is applied (turn-based) or joins the
pending step (simultaneous; the step is applied when every seat has one).
"""

from __future__ import annotations

import functools
from typing import Any, Mapping, Sequence

import jax
import numpy as np

from htjax.core.env import Env
from htjax.core.keys import as_key, step_key
from htjax.sync.derive import Derivation, Rejection, derive_entries
from htjax.sync.engine import ReplayBatch
from htjax.sync.params import default_plain, stack_params
from htjax.sync.schema import Header, LogEntry

__all__ = ["IncrementalDeriver", "step_fn"]


@functools.lru_cache(maxsize=32)
def step_fn(env: Env):
    """jit ``(state, action, t, episode_key, params) -> state``: one step of a replay.

    ``action``: ``int32[]`` (``int32[P]`` when simultaneous); ``t``: ``int32[]`` the step index;
    ``episode_key``: ``uint32[2]`` key data; ``params``: the rule parameters (0-d leaves) or
    None for the env's config. One compile per env (and per params/no-params)."""

    def step(state, action, t, key, params):
        return env.step(state, action, step_key(as_key(key), t), params)

    return jax.jit(step)


class _Grow:
    """Host leaves ``[capacity, ...]`` of a growing list of states (capacity doubles)."""

    def __init__(self, leaves: Sequence[np.ndarray], treedef: Any):
        self.treedef = treedef
        self.n = len(leaves[0])
        self.bufs = [np.array(x) for x in leaves]

    def append(self, leaves: Sequence[np.ndarray]) -> None:
        if self.n == len(self.bufs[0]):
            self.bufs = [np.concatenate([b, np.empty_like(b)]) for b in self.bufs]
        for b, x in zip(self.bufs, leaves):
            b[self.n] = x
        self.n += 1

    def truncate(self, n: int) -> None:
        """Keep the first ``n`` states (in new buffers: derivations handed out keep their views)."""
        self.bufs = [b.copy() for b in self.bufs]
        self.n = n

    def last(self) -> list[np.ndarray]:
        return [b[self.n - 1] for b in self.bufs]

    def batch(self) -> ReplayBatch:
        """A one-episode :class:`ReplayBatch` of the states so far: leaves ``[1, n, ...]`` (views)."""
        return ReplayBatch(
            jax.tree_util.tree_unflatten(self.treedef, [b[None, : self.n] for b in self.bufs]), 1
        )


class IncrementalDeriver:
    """The merge rule of one live episode, re-derived cheaply as its log grows.

    Args:
      env: the episode's env.

    Attributes:
      full_derives: how many times the full :func:`derive_entries` ran.
      fast_entries: how many entries the fast path examined.
    """

    def __init__(self, env: Env):
        self.env = env
        self.full_derives = 0
        self.fast_entries = 0
        self._last: Derivation | None = None
        self._key: tuple | None = None  # (header, bindings) of the last derivation

    def derive(
        self, header: Header, entries: Sequence[LogEntry], bindings: Mapping[int, str] | None = None
    ) -> Derivation:
        """The merge rule on ``entries`` (equal to ``derive_entries(env, [header], [entries], [bindings])[0]``).

        Raises:
          KeyNotRevealedError: ``header.episode_key`` is None.
        """
        entries = list(entries)
        binds = None if bindings is None else dict(bindings)
        last = self._last
        if last is not None and self._key == (header, binds):
            old = last.entries
            if entries == old:
                return last
            p = next((j for j, (a, b) in enumerate(zip(old, entries)) if a != b), min(len(old), len(entries)))
            if self._rewind(p):
                d = self._extend(header, entries, binds, p)
                if d is not None:
                    self._last = d
                    return d
        return self._full(header, entries, binds)

    def _rewind(self, p: int) -> bool:
        """Go back to the rule's state after ``entries[:p]`` when it is known and the episode was
        not over there (the list changed from index ``p`` on: appends, or a merge inserting
        concurrent entries after ``p``); False when only the full derive can tell."""
        mark = self._marks[p]
        if mark is None:
            return False
        n_accepted, n_rejected, pending = mark
        if p < len(self._marks) - 1:
            del self._marks[p + 1 :]
            del self._accepted[n_accepted:]
            del self._actions[n_accepted:]
            del self._rejected[n_rejected:]
            self._pending = dict(pending)
            self._states.truncate(n_accepted + 1)
            self._refresh()
        return not self._done

    # ------------------------------------------------------------------ the full rule
    def _full(self, header: Header, entries: list[LogEntry], binds: dict[int, str] | None) -> Derivation:
        self.full_derives += 1
        d = derive_entries(self.env, [header], [entries], [binds])[0]
        assert d.batch is not None
        leaves = [leaf[d.row, : d.length + 1] for leaf in d.batch.leaves]
        self._states = _Grow(leaves, jax.tree_util.tree_structure(d.batch.states))
        self._accepted = [list(map(int, row)) for row in d.accepted]
        self._actions = [np.asarray(a) for a in d.actions]
        self._rejected = list(d.rejected)
        self._pending = dict(d.pending)
        # the rule's state after entries[:j] (accepted, rejected, pending), known at the end only
        self._marks: list[tuple[int, int, dict] | None] = [None] * len(entries)
        self._marks.append((len(self._accepted), len(self._rejected), dict(self._pending)))
        self._key = (header, binds)
        self._params = self._params_of(header)
        self._refresh()
        out = self._derivation(entries)
        self._last = out
        return out

    def _params_of(self, header: Header):
        p = header.params
        if p is None or dict(p) == default_plain(self.env):
            return None
        return {k: v[0] for k, v in stack_params(self.env, [dict(p)]).items()}

    def _refresh(self) -> None:
        """Cache the last state's fields the rule reads."""
        state = jax.tree_util.tree_unflatten(self._states.treedef, self._states.last())
        self._current = int(state.current_player)
        self._mask = state.legal_action_mask
        self._done = bool(state.terminated | state.truncated)

    def _derivation(self, entries: list[LogEntry]) -> Derivation:
        header = self._key[0]  # type: ignore[index]
        k = header.num_players if header.simultaneous else 1
        accepted = np.array(self._accepted, np.int64).reshape(len(self._accepted), k)
        tail = (header.num_players,) if header.simultaneous else ()
        actions = np.array(self._actions, np.int32).reshape((len(self._actions),) + tail)
        return Derivation(
            entries, accepted, dict(self._pending), list(self._rejected), actions, self._states.batch(), 0
        )

    # ------------------------------------------------------------------ the fast path
    def _extend(
        self, header: Header, entries: list[LogEntry], binds: dict[int, str] | None, start: int
    ) -> Derivation | None:
        """Apply the sequential rule to ``entries[start:]``; None when it must fall back."""
        players, num_actions, simultaneous = header.num_players, header.num_actions, header.simultaneous
        labels = header.action_labels
        for i in range(start, len(entries)):
            if self._done:
                return None  # an entry after the end: the full rule gives the batched reasons
            self.fast_entries += 1
            e = entries[i]
            t = len(self._accepted)
            holder = None if binds is None else binds.get(e.seat)
            if binds is not None and holder is None:
                reason = f"seat {e.seat} is not claimed by any peer (appended by actor {e.creator})"
            elif binds is not None and e.creator != holder:
                reason = (
                    f"seat {e.seat} is bound to actor {holder}, but actor {e.creator} appended this entry"
                )
            elif not 0 <= e.seat < players:
                reason = f"seat {e.seat} does not exist (seats 0..{players - 1})"
            elif not 0 <= e.action < num_actions:
                reason = f"action {e.action} is out of range [0, {num_actions})"
            elif e.step != t:
                reason = f"entry for step {e.step} but the next step is {t}"
            elif simultaneous and e.seat in self._pending:
                reason = f"seat {e.seat} already acted in step {t} ({labels[entries[self._pending[e.seat]].action]!r})"
            elif not simultaneous and e.seat != self._current:
                reason = f"seat {e.seat} is not to move at step {t} (seat {self._current} is)"
            elif not (self._mask[e.seat, e.action] if simultaneous else self._mask[e.action]):
                reason = f"action {labels[e.action]!r} ({e.action}) is illegal for seat {e.seat} at step {t}"
            else:
                reason = None
                if simultaneous:
                    self._pending[e.seat] = i
                    if len(self._pending) == players:
                        row = [self._pending[s] for s in range(players)]
                        self._pending = {}
                        self._apply(header, row, np.array([entries[j].action for j in row], np.int32))
                else:
                    self._apply(header, [i], np.int32(e.action))
            if reason is not None:
                self._rejected.append(Rejection(i, e, reason))
            self._marks.append((len(self._accepted), len(self._rejected), dict(self._pending)))
        return self._derivation(entries)

    def _apply(self, header: Header, row: list[int], action) -> None:
        t = len(self._accepted)
        state = jax.tree_util.tree_unflatten(self._states.treedef, self._states.last())  # host leaves
        key = np.asarray(header.episode_key, np.uint32)
        nxt = step_fn(self.env)(state, action, np.int32(t), key, self._params)
        self._states.append(jax.device_get(jax.tree_util.tree_leaves(nxt)))
        self._accepted.append(row)
        self._actions.append(np.asarray(action))
        self._refresh()
