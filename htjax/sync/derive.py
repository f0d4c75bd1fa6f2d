"""The merge rule: how a log (possibly merged from concurrent appends) becomes one episode.

Entries are read in Automerge list order, which every peer holding the same document sees
identically. An entry is **accepted** when

1. its ``step`` is the next step to play (the number of steps applied so far),
2. its ``seat`` is to move: ``current_player`` of the derived state (turn-based), or a seat
   that has not yet acted in this step (simultaneous; the step is applied once every seat
   has an accepted entry),
3. its ``action`` is legal for that seat in the derived state,
4. the episode is not over, and
5. in a live game (a document whose ``live`` field holds seat claims, schema version 5), the
   Automerge actor whose change inserted the entry (``LogEntry.creator``, read from the
   entry's object id, which a writer cannot choose) holds the entry's seat: the seat's
   binding made by its claim (:func:`htjax.sync.live.fields.seat_bindings`). An entry for an
   unclaimed seat, or appended by another actor (a forged seat), is rejected. Recorded
   episodes (``live`` Null, versions 3 and 4) have no bindings and skip this rule.

Every other entry is kept and reported as **rejected** with the reason; nothing is dropped.
So concurrent appends for the same step resolve to the first legal one in list order, and all
peers derive the same states.

Implementation: rather than stepping the env entry by entry, the rule runs batched. Entries
failing rule 5 are known from the log alone and are rejected first. Select the others by rules 1-2 (seat order for simultaneous steps) ignoring legality, replay all
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
from htjax.sync.errors import KeyNotRevealedError
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
      accepted: ``int[L, k]`` log indices of the accepted entries of each applied step
        (``k = num_players`` in seat order when simultaneous, else ``k = 1``).
      pending: seat -> log index of accepted entries of a simultaneous step still waiting
        for other seats.
      rejected: every entry not accepted, with the reason, in list order.
      actions: ``int32[L]`` (``int32[L, P]`` when simultaneous) actions of the applied steps.
      batch, row: the replayed states are ``batch.episode(row, L)``.
    """

    entries: list[LogEntry]
    accepted: np.ndarray
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


def _columns(entries: Sequence[LogEntry]) -> np.ndarray:
    """``int64[n, 3]``: step, seat, action of every entry."""
    return np.array([e[:3] for e in entries], np.int64).reshape(len(entries), 3)


def _select_clean(cols: np.ndarray, header: Header) -> np.ndarray | None:
    """The accepted indices when the log is one entry per seat and step in order (the common case)."""
    players, simultaneous = header.num_players, header.simultaneous
    k = players if simultaneous else 1
    n = len(cols)
    if (
        n % k
        or not (
            (cols[:, 1] >= 0) & (cols[:, 1] < players) & (cols[:, 2] >= 0) & (cols[:, 2] < header.num_actions)
        ).all()
    ):
        return None
    steps = np.arange(n // k)
    if not np.array_equal(cols[:, 0], np.repeat(steps, k)):
        return None
    if not simultaneous:
        return np.arange(n).reshape(n, 1)
    seats = cols[:, 1].reshape(-1, k)
    order = np.argsort(seats, axis=1, kind="stable")
    if not (np.take_along_axis(seats, order, axis=1) == np.arange(k)).all():
        return None
    return order + (steps * k)[:, None]


def _select(
    entries: Sequence[LogEntry],
    cols: np.ndarray,
    header: Header,
    bad: dict[int, str],
    finished_at: int | None,
) -> tuple[np.ndarray, dict[int, int], list[Rejection]]:
    """Rules 1-2 in list order, with ``bad`` entries (rules 2-3 failed) and the end (rule 4) known."""
    if not bad and finished_at is None:
        clean = _select_clean(cols, header)
        if clean is not None:
            return clean, {}, []
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
            reason = (
                f"seat {e.seat} already acted in step {step} ({labels[entries[pending[e.seat]].action]!r})"
            )
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
    k = players if simultaneous else 1
    return np.array(accepted, np.int64).reshape(len(accepted), k), pending, rejected


def _actions(cols: np.ndarray, accepted: np.ndarray, header: Header) -> np.ndarray:
    actions = cols[accepted, 2].astype(np.int32)
    return actions if header.simultaneous else actions.reshape(-1)


def _first_failure(
    header: Header,
    entries: Sequence[LogEntry],
    cols: np.ndarray,
    accepted: np.ndarray,
    pending: dict[int, int],
    arrays,
    row: int,
) -> tuple[dict[int, str], int | None] | None:
    """Rules 2-4 on the replayed states; the offending entries of the first failing step, or None."""
    current, mask, done = (a[row] for a in arrays)
    n = len(accepted)
    steps = np.arange(n)
    seats, acts = cols[accepted, 1], cols[accepted, 2]  # [L, k]
    if header.simultaneous:
        ok = mask[steps[:, None], seats, acts]
    else:
        ok = (seats == current[:n, None]) & mask[steps[:, None], acts]
    failing = ~ok.all(axis=1) | done[:n]
    idx_of = {t: list(accepted[t]) for t in np.flatnonzero(failing)[:1].tolist()}
    if pending:
        idx_of.setdefault(n, [pending[s] for s in sorted(pending)])
    if not idx_of:
        return None
    t = min(idx_of)
    if done[t]:
        return {}, t
    bad: dict[int, str] = {}
    labels = header.action_labels
    for i in idx_of[t]:
        e = entries[i]
        if not header.simultaneous and e.seat != current[t]:
            bad[i] = f"seat {e.seat} is not to move at step {t} (seat {int(current[t])} is)"
        elif not (mask[t, e.seat, e.action] if header.simultaneous else mask[t, e.action]):
            bad[i] = f"action {labels[e.action]!r} ({e.action}) is illegal for seat {e.seat} at step {t}"
    return (bad, None) if bad else None


def _forged(log: Sequence[LogEntry], bindings: dict[int, str]) -> dict[int, str]:
    """Rule 5: entries whose creator does not hold their seat, with the reason."""
    bad = {}
    for i, e in enumerate(log):
        holder = bindings.get(e.seat)
        if holder is None:
            bad[i] = f"seat {e.seat} is not claimed by any peer (appended by actor {e.creator})"
        elif e.creator != holder:
            bad[i] = f"seat {e.seat} is bound to actor {holder}, but actor {e.creator} appended this entry"
    return bad


def derive_entries(
    env: Env,
    headers: Sequence[Header],
    logs: Sequence[Sequence[LogEntry]],
    bindings: Sequence[dict[int, str] | None] | None = None,
) -> list[Derivation]:
    """Apply the merge rule to several logs of the same env at once (one ``vmap`` per round).

    Each header's ``params`` (validated by :meth:`EpisodeDoc.env`; None: the config's values)
    are the rule parameters its episode replays under. ``bindings[i]`` (live games: seat ->
    hex Automerge actor, the logs read with ``creators``) turns on rule 5; None skips it.

    Raises:
      KeyNotRevealedError: a header's ``episode_key`` is None (a live game whose key is not
        agreed or revealed yet).
    """
    n = len(logs)
    for h in headers:
        if h.episode_key is None:
            raise KeyNotRevealedError(
                f"{h.env_id}: the episode key of this live game is not known yet (open mode: not every "
                "seat has revealed its share; dealer mode: the dealer reveals it when the game ends)"
            )
    cols = [_columns(log) for log in logs]
    bad: list[dict[int, str]] = [
        {} if bindings is None or bindings[i] is None else _forged(logs[i], bindings[i])  # type: ignore[arg-type]
        for i in range(n)
    ]
    finished: list[int | None] = [None] * n
    results: list[Derivation | None] = [None] * n
    todo = list(range(n))
    while todo:
        selections = [_select(logs[i], cols[i], headers[i], bad[i], finished[i]) for i in todo]
        actions = [_actions(cols[i], sel[0], headers[i]) for i, sel in zip(todo, selections)]
        keys = np.array([headers[i].episode_key for i in todo], np.uint32).reshape(-1, 2)
        batch = replay_batch(env, keys, actions, [headers[i].params for i in todo])
        arrays = (
            batch.field("current_player"),
            batch.field("legal_action_mask"),
            batch.field("terminated") | batch.field("truncated"),
        )
        still = []
        for row, (i, (accepted, pending, rejected)) in enumerate(zip(todo, selections)):
            failure = _first_failure(headers[i], logs[i], cols[i], accepted, pending, arrays, row)
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
