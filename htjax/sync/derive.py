"""The merge rule: how a log (possibly merged from concurrent appends) becomes one episode.

Entries are read in Automerge list order, which every peer holding the same document sees
identically. An entry is **accepted** when

1. its ``step`` is the next step to play (the number of steps applied so far),
2. its ``seat`` is to move: ``current_player`` of the derived state (turn-based), or a seat
   that has not yet acted in this step (simultaneous; the step is applied once every seat
   has an accepted entry),
3. its ``action`` is legal for that seat in the derived state, and
4. the episode is not over.

Every other entry is kept and reported as **rejected** with the reason; nothing is dropped.
So concurrent appends for the same step resolve to the first legal one in list order, and all
peers derive the same states.

Implementation: rather than stepping the env entry by entry, the rule runs batched. Select
entries by rules 1-2 (seat order for simultaneous steps) ignoring legality, replay all
selected actions with ``vmap``, then check rules 2-4 on the replayed states. The first step
that fails marks its offending entries rejected and the selection is redone from there; the
states before that step are unchanged, so the fixed point is exactly the sequential rule.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from htjax.core.env import Env
from htjax.sync.engine import ReplayBatch, replay_batch
from htjax.sync.schema import Header, LogEntry

__all__ = ["Rejection", "Derivation", "derive_entries"]


@dataclasses.dataclass(frozen=True)
class Rejection:
    """A log entry the merge rule did not accept: its list ``index``, the entry and why."""

    index: int
    entry: LogEntry
    reason: str


@dataclasses.dataclass
class Derivation:
    """The episode a log describes.

    Attributes:
      entries: the whole log, in list order.
      accepted: per applied step, the log indices of its accepted entries (one per seat when
        simultaneous, in seat order; one otherwise).
      pending: seat -> log index of accepted entries of a simultaneous step still waiting
        for other seats.
      rejected: every entry not accepted, with the reason, in list order.
      actions: ``int32[L]`` (``int32[L, P]`` when simultaneous) actions of the applied steps.
      batch, row: the replayed states are ``batch.episode(row, L)``.
    """

    entries: list[LogEntry]
    accepted: list[list[int]]
    pending: dict[int, int]
    rejected: list[Rejection]
    actions: np.ndarray
    batch: ReplayBatch | None = None
    row: int = 0

    @property
    def length(self) -> int:
        return len(self.accepted)

    @property
    def states(self):
        """States ``[length + 1]`` (numpy leaves): ``states[t]`` after ``t`` steps."""
        assert self.batch is not None
        return self.batch.episode(self.row, self.length)


def _select(
    entries: Sequence[LogEntry], header: Header, bad: dict[int, str], finished_at: int | None
) -> tuple[list[list[int]], dict[int, int], list[Rejection]]:
    """Rules 1-2 in list order, with ``bad`` entries (rules 2-3 failed) and the end (rule 4) known."""
    players, num_actions, simultaneous = header.num_players, header.num_actions, header.simultaneous
    labels = header.action_labels
    accepted: list[list[int]] = []
    pending: dict[int, int] = {}
    rejected: list[Rejection] = []
    for i, e in enumerate(entries):
        step = len(accepted)
        if i in bad:
            reason = bad[i]
        elif finished_at is not None and step >= finished_at:
            reason = f"the episode ended at step {finished_at}"
        elif not 0 <= e.seat < players:
            reason = f"seat {e.seat} does not exist (seats 0..{players - 1})"
        elif not 0 <= e.action < num_actions:
            reason = f"action {e.action} is out of range [0, {num_actions})"
        elif e.step != step:
            reason = f"entry for step {e.step} but the next step is {step}"
        elif simultaneous and e.seat in pending:
            reason = f"seat {e.seat} already acted in step {step} ({labels[entries[pending[e.seat]].action]!r})"
        else:
            if simultaneous:
                pending[e.seat] = i
                if len(pending) == players:
                    accepted.append([pending[s] for s in range(players)])
                    pending = {}
            else:
                accepted.append([i])
            continue
        rejected.append(Rejection(i, e, reason))
    return accepted, pending, rejected


def _actions(entries: Sequence[LogEntry], accepted: list[list[int]], header: Header) -> np.ndarray:
    if header.simultaneous:
        actions = [[entries[i].action for i in step] for step in accepted]
        return np.array(actions, np.int32).reshape(len(accepted), header.num_players)
    return np.array([entries[step[0]].action for step in accepted], np.int32)


def _first_failure(
    header: Header, entries: Sequence[LogEntry], accepted, pending, batch: ReplayBatch, row: int, arrays
) -> tuple[dict[int, str], int | None] | None:
    """Rules 2-4 on the replayed states; the offending entries of the first failing step, or None."""
    current, mask, done = (a[row] for a in arrays)
    labels = header.action_labels
    steps = [(t, idx) for t, idx in enumerate(accepted)]
    if pending:
        steps.append((len(accepted), [pending[s] for s in sorted(pending)]))
    for t, idx in steps:
        if done[t]:
            return {}, t
        bad: dict[int, str] = {}
        for i in idx:
            e = entries[i]
            if not header.simultaneous and e.seat != current[t]:
                bad[i] = f"seat {e.seat} is not to move at step {t} (seat {int(current[t])} is)"
                continue
            legal = mask[t, e.seat, e.action] if header.simultaneous else mask[t, e.action]
            if not legal:
                bad[i] = f"action {labels[e.action]!r} ({e.action}) is illegal for seat {e.seat} at step {t}"
        if bad:
            return bad, None
    return None


def derive_entries(env: Env, headers: Sequence[Header], logs: Sequence[Sequence[LogEntry]]) -> list[Derivation]:
    """Apply the merge rule to several logs of the same env at once (one ``vmap`` per round)."""
    n = len(logs)
    bad: list[dict[int, str]] = [{} for _ in range(n)]
    finished: list[int | None] = [None] * n
    results: list[Derivation | None] = [None] * n
    todo = list(range(n))
    while todo:
        selections = [_select(logs[i], headers[i], bad[i], finished[i]) for i in todo]
        actions = [_actions(logs[i], sel[0], headers[i]) for i, sel in zip(todo, selections)]
        keys = np.array([headers[i].episode_key for i in todo], np.uint32).reshape(-1, 2)
        batch = replay_batch(env, keys, actions)
        arrays = (batch.field("current_player"), batch.field("legal_action_mask"), batch.field("terminated") | batch.field("truncated"))
        still = []
        for row, (i, (accepted, pending, rejected)) in enumerate(zip(todo, selections)):
            failure = _first_failure(headers[i], logs[i], accepted, pending, batch, row, arrays)
            if failure is None:
                results[i] = Derivation(list(logs[i]), accepted, pending, rejected, actions[row], batch, row)
                continue
            new_bad, end = failure
            bad[i].update(new_bad)
            if end is not None:
                finished[i] = end
            still.append(i)
        todo = still
    return results  # type: ignore[return-value]
