"""Recording: chosen worlds of a batched rollout become episode documents.

``record(env, trajectory, worlds)`` splits each chosen world's steps into its episodes (auto-
reset boundaries included), re-runs all of them at once with ``vmap`` (which both checks that
the log reproduces the rollout and yields the states to digest), and writes one document per
episode in a single Automerge transaction.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Sequence

import automerge.core as am
import numpy as np

import htjax
from htjax.core.env import Env
from htjax.core.rollouts import Trajectory
from htjax.sync import schema
from htjax.sync.digest import digest_states, field_paths
from htjax.sync.document import EpisodeDoc, utc_now
from htjax.sync.engine import initial_state_shape, replay_batch
from htjax.sync.errors import RecordError
from htjax.sync.params import plain_params, world_rows
from htjax.sync.replay import episode_returns
from htjax.sync.views import public_view_of

__all__ = ["record", "default_seats", "checkpoint_steps", "DEFAULT_CHECKPOINT_EVERY", "new_header"]

DEFAULT_CHECKPOINT_EVERY = 16


def default_seats(env: Env, policy: str = "unknown") -> tuple[schema.Seat, ...]:
    """One policy actor per seat: ``"<policy>/seat<i>"``."""
    return tuple(
        schema.Seat(actor=f"{policy}/seat{i}", kind="policy", policy=policy) for i in range(env.num_players)
    )


def checkpoint_steps(length: int, every: int) -> list[int]:
    """Steps with a checkpoint digest: ``0, every, 2*every, ...`` and ``length``."""
    return sorted(set(range(0, length + 1, every)) | {length})


def new_header(
    env: Env,
    episode_key: Sequence[int],
    seats: Sequence[schema.Seat],
    *,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    world: int | None = None,
    episode_index: int | None = None,
    created: datetime.datetime | None = None,
    params: Any = None,
) -> schema.Header:
    """The header of a new document for ``env`` (validates seats, the checkpoint stride and one
    world's rule ``params``: :meth:`Env.params`, None for the config's values)."""
    if len(seats) != env.num_players or not all(isinstance(s, schema.Seat) for s in seats):
        raise RecordError(f"{env.id}: seats must be {env.num_players} Seat objects, got {seats!r}")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 1:
        raise RecordError(f"checkpoint_every must be a positive int, got {checkpoint_every!r}")
    key = tuple(int(k) for k in np.asarray(episode_key, np.uint32).reshape(-1))
    if len(key) != 2:
        raise RecordError(f"an episode key is uint32[2] key data, got {episode_key!r}")
    return schema.Header(
        env_id=env.id,
        env_version=env.version,
        config=env.config.to_dict(),
        num_players=env.num_players,
        num_actions=env.num_actions,
        simultaneous=bool(env.simultaneous),
        action_labels=tuple(env.action_labels),
        episode_key=key,  # type: ignore[arg-type]
        seats=tuple(seats),
        checkpoint_every=checkpoint_every,
        digest_fields=field_paths(initial_state_shape(env)),
        world=world,
        episode_index=episode_index,
        producer=f"htjax {htjax.__version__}",
        created=created or utc_now(),
        params=plain_params(env, params, f"{env.id}: rule parameters", RecordError),
    )


@dataclasses.dataclass
class _Episode:
    world: int  # column among the chosen worlds
    world_id: int  # the world's index in the rollout
    index: int
    key: tuple[int, int]
    start: int  # first trajectory step
    actions: np.ndarray


def _split_episodes(
    traj: dict[str, np.ndarray], world: int, world_id: int, skip_incomplete: bool
) -> list[_Episode]:
    ep_index, step_index = traj["episode_index"][:, world], traj["step_index"][:, world]
    bounds = [0] + [t for t in range(1, len(ep_index)) if ep_index[t] != ep_index[t - 1]] + [len(ep_index)]
    out = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        if step_index[start] != 0:
            if skip_incomplete:
                continue
            raise RecordError(
                f"world {world_id}: episode {int(ep_index[start])} started before this trajectory "
                f"(its first recorded step has step_index {int(step_index[start])}); record from a rollout "
                "that starts at a reset, or pass skip_incomplete=True"
            )
        expected = np.arange(stop - start)
        if not np.array_equal(step_index[start:stop], expected):
            raise RecordError(
                f"world {world_id}: step_index of episode {int(ep_index[start])} is not 0, 1, 2, ..."
            )
        key = tuple(int(k) for k in traj["episode_key"][start, world])
        out.append(
            _Episode(world, world_id, int(ep_index[start]), key, start, traj["action"][start:stop, world])
        )  # type: ignore[arg-type]
    return out


def _check_faithful(env: Env, ep: _Episode, traj, current, rewards, done, mask) -> None:
    """The replayed episode must act as the rollout did: same seats, legal actions, rewards, ends."""
    n = len(ep.actions)
    sl = slice(ep.start, ep.start + n)
    if env.simultaneous:
        legal = np.take_along_axis(mask[:n], ep.actions[:, :, None], axis=2)[..., 0].all(axis=1)
        seat_ok = np.ones(n, bool)
    else:
        legal = np.take_along_axis(mask[:n], ep.actions[:, None], axis=1)[:, 0]
        seat_ok = current[:n] == traj["current_player"][sl, ep.world]
    same = (rewards[1 : n + 1] == traj["rewards"][sl, ep.world]).all(axis=-1) & (
        done[1 : n + 1] == traj["done"][sl, ep.world]
    )
    ok = legal & seat_ok & same
    if ok.all():
        return
    t = int(np.argmin(ok))
    where = f"world {ep.world_id}, episode {ep.index}, step {t}"
    if not seat_ok[t]:
        raise RecordError(
            f"{where}: replay has seat {current[t]} to move, the rollout seat {traj['current_player'][ep.start + t, ep.world]}"
        )
    if not legal[t]:
        raise RecordError(
            f"{where}: the policy played an illegal action {ep.actions[t].tolist()}; "
            "episode logs hold legal actions only (the merge rule rejects illegal ones)"
        )
    raise RecordError(
        f"{where}: replaying the actions does not reproduce the rollout's rewards/ends "
        "(if the rollout had env_params, pass the same env_params to record)"
    )


def record(
    env: Env,
    trajectory: Trajectory,
    worlds: Sequence[int],
    *,
    seats: Sequence[schema.Seat] | None = None,
    policy: str = "unknown",
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    public_view: bool = False,
    skip_incomplete: bool = False,
    time: datetime.datetime | None = None,
    env_params: Any = None,
    world_ids: Sequence[int] | None = None,
) -> list[EpisodeDoc]:
    """Turn every episode of the chosen worlds of a rollout into an episode document.

    Args:
      env: the env the rollout ran.
      trajectory: a rollout's :class:`~htjax.core.rollouts.Trajectory` (``[T, N]`` leading axes).
      worlds: world indices in ``[0, N)``.
      seats: who played each seat (default :func:`default_seats` with ``policy``).
      policy: policy name for the default seats.
      checkpoint_every: a state digest every this many steps (and at the end).
      public_view: also store the game's ``public_view`` after every step (see :mod:`~htjax.sync.views`).
      skip_incomplete: leave out an episode that began before the trajectory (otherwise an error).
      time: wall-clock time stamped on every log entry (default: now).
      env_params: the rollout's rule parameters (the ``env_params`` it was given, or its
        ``carry.env_params``); None when it played the env's config. Stored per document.
      world_ids: the world index each of ``trajectory``'s columns had in the whole batch, when the
        trajectory holds only some worlds (a chunk, see :func:`htjax.sync.commands.rollout_worlds`);
        headers then name these indices. Default: the column index.

    Returns:
      documents ordered by world, then episode; an episode still running at the end of the
      trajectory is recorded with ``outcome.finished == False``.
    """
    t_len, num_worlds = np.shape(trajectory.action)[:2]
    worlds = list(worlds)
    bad = [
        w
        for w in worlds
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or not 0 <= w < num_worlds
    ]
    if bad or not worlds:
        raise RecordError(f"worlds must be a non-empty list of ints in [0, {num_worlds}), got {worlds!r}")
    if len(set(worlds)) != len(worlds):
        dup = sorted({w for w in worlds if worlds.count(w) > 1})
        raise RecordError(f"worlds must be distinct (each world is recorded once), got {dup} more than once")
    if world_ids is not None and len(world_ids) != num_worlds:
        raise RecordError(
            f"world_ids must name all {num_worlds} columns of the trajectory, got {len(world_ids)}"
        )
    ids = list(range(num_worlds)) if world_ids is None else [int(w) for w in world_ids]
    seats = tuple(seats) if seats is not None else default_seats(env, policy)
    time = time or utc_now()
    base = new_header(env, (0, 0), seats, checkpoint_every=checkpoint_every, created=time)
    traj = {
        name: np.asarray(getattr(trajectory, name))[:, worlds]
        for name in (
            "action",
            "current_player",
            "rewards",
            "episode_key",
            "episode_index",
            "step_index",
            "terminated",
            "truncated",
        )
    }
    traj["done"] = traj["terminated"] | traj["truncated"]
    rows = world_rows(env, env_params, num_worlds, worlds, RecordError)
    episodes = [
        ep
        for col in range(len(worlds))
        for ep in _split_episodes(traj, col, ids[worlds[col]], skip_incomplete)
    ]
    if not episodes:
        raise RecordError(f"worlds {worlds}: no complete episode start in this trajectory")
    params = [rows[ep.world] for ep in episodes]
    batch = replay_batch(
        env, np.array([ep.key for ep in episodes], np.uint32), [ep.actions for ep in episodes], params
    )
    current, rewards, mask = (
        batch.field("current_player"),
        batch.field("rewards"),
        batch.field("legal_action_mask"),
    )
    term, trunc = batch.field("terminated"), batch.field("truncated")
    for row, ep in enumerate(episodes):
        _check_faithful(env, ep, traj, current[row], rewards[row], term[row] | trunc[row], mask[row])

    marks = [checkpoint_steps(len(ep.actions), checkpoint_every) for ep in episodes]
    digests = digest_states(
        base.digest_fields, batch.leaves, [(row, t) for row, m in enumerate(marks) for t in m]
    )
    docs, k = [], 0
    for row, ep in enumerate(episodes):
        n = len(ep.actions)
        header = dataclasses.replace(
            base, episode_key=ep.key, world=ep.world_id, episode_index=ep.index, params=params[row]
        )
        checkpoints = [
            schema.Checkpoint(t, d.whole, d.fields)
            for t, d in zip(marks[row], digests[k : k + len(marks[row])])
        ]
        k += len(marks[row])
        outcome = schema.Outcome(
            returns=episode_returns(rewards[row], n),
            length=n,
            terminated=bool(term[row, n]),
            truncated=bool(trunc[row, n]),
        )
        views = public_view_of(env, batch.episode(row, n), n) if public_view else None
        docs.append(
            _write(
                header, _entries(env, ep.actions, current[row, :n], seats, time), checkpoints, outcome, views
            )
        )
    return docs


def _entries(env: Env, actions: np.ndarray, current: np.ndarray, seats, time) -> list[tuple]:
    """Log entries ``(step, seat, action, actor, time)``: one per step, or one per seat and step."""
    if env.simultaneous:
        return [
            (t, s, a[s], seats[s].actor, time)
            for t, a in enumerate(actions.tolist())
            for s in range(env.num_players)
        ]
    return [
        (t, s, a, seats[s].actor, time) for t, (s, a) in enumerate(zip(current.tolist(), actions.tolist()))
    ]


def _write(header, entries, checkpoints, outcome, views) -> EpisodeDoc:
    doc = am.Document()
    with doc.transaction() as tx:
        schema.write_header(tx, header)
        schema.write_entries(tx, schema.list_id(tx, "log"), 0, entries)
        schema.write_checkpoints(tx, schema.list_id(tx, "checkpoints"), 0, checkpoints)
        schema.write_outcome(tx, outcome)
        if views is not None:
            schema.put_plain(tx, am.ROOT, "views", views)
    return EpisodeDoc(doc)
