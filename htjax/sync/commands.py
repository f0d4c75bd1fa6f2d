"""The logic of ``htjax record``, ``htjax replay`` and ``htjax inspect`` (the CLI only parses arguments).

Each function takes a ``rich.console.Console`` and prints tables to it. ``replay`` can also
write what it printed as SVG or HTML (rich's own exporters); when the game module provides
``render_text(env, state)`` each step's rendering is included (see :mod:`htjax.sync.views`).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import pathlib
import shutil
from typing import Sequence

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from htjax.console import compiling, progress_bar
from htjax.core.env import Env
from htjax.core.keys import key_data
from htjax.core.rollouts import Trajectory, first_legal_policy, random_policy
from htjax.sync.document import FILE_SUFFIX, EpisodeDoc, load, save
from htjax.sync.engine import STEP_BUCKET
from htjax.sync.errors import RecordError, SyncError, binding_guard
from htjax.sync.live.fields import live_summary
from htjax.sync.record import DEFAULT_CHECKPOINT_EVERY, record
from htjax.sync.replay import Replay, derive, replay, replay_many
from htjax.sync.schema import SCHEMA, SCHEMA_VERSION, list_id
from htjax.sync.views import render_text_of

__all__ = [
    "POLICIES",
    "record_command",
    "record_and_verify",
    "replay_command",
    "inspect_command",
    "episode_filename",
    "fork_command",
    "merge_command",
    "whatif_command",
    "rollout_worlds",
    "world_keys_at",
    "check_record_space",
    "existing_episode_files",
]

POLICIES = {"random": random_policy, "first_legal": first_legal_policy}


def episode_filename(doc: EpisodeDoc) -> str:
    h = doc.header
    return f"{h.env_id}-w{h.world}-e{h.episode_index}{FILE_SUFFIX}"


def existing_episode_files(out_dir: str | os.PathLike, env: Env, worlds: Sequence[int]) -> list[pathlib.Path]:
    """Episode files of ``worlds`` (``{env}-w{world}-e*.automerge``) already in ``out_dir``."""
    out = pathlib.Path(out_dir)
    if not out.is_dir():
        return []
    wanted = set(worlds)
    prefix = f"{env.id}-w"
    found = []
    for p in out.iterdir():
        name = p.name
        if name.startswith(prefix) and name.endswith(FILE_SUFFIX) and "-e" in name[len(prefix) :]:
            world = name[len(prefix) :].split("-e", 1)[0]
            if world.isdigit() and int(world) in wanted:
                found.append(p)
    return sorted(found)


DOC_MIN_BYTES = 900
"""Fewest bytes an episode file takes (header, seats, digest field names: 1,0xx-1,6xx bytes measured
for the registered envs), a lower bound for :func:`check_record_space`."""
STEP_MIN_BYTES = 4
"""Fewest bytes a log entry adds to a saved file (Automerge compresses columns)."""
REPLAY_STATE_COPIES = 6
"""States per recorded step held by the verifying replay: ``vmap`` pads episodes to a power of two
and steps to a multiple of 32 (up to 4x), plus the host copy of the states and the digests."""


def check_record_space(env: Env, num_worlds: int, num_steps: int, out_dir: str | os.PathLike) -> None:
    """Refuse a recording whose files cannot fit on the disk of ``out_dir`` (a lower bound: one
    episode per world) or whose one world cannot fit in memory. Costs no compiling."""
    from htjax.core.memory import check_fits, format_bytes

    per_world = DOC_MIN_BYTES + STEP_MIN_BYTES * num_steps
    existing = pathlib.Path(out_dir)
    while not existing.exists():
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if per_world * num_worlds > free:
        fits = (
            f"at most about {free // per_world:,} worlds fit"
            if free >= per_world
            else f"one world fits at most about {max(0, free - DOC_MIN_BYTES) // STEP_MIN_BYTES:,} steps"
        )
        raise RecordError(
            f"recording {num_worlds:,} world{'s' if num_worlds != 1 else ''} x {num_steps:,} steps writes at least "
            f"{format_bytes(per_world * num_worlds)} of episode files, but only {format_bytes(free)} is free on the "
            f"disk of {str(existing)!r}; {fits}"
        )
    one, per_step = _record_bytes(env, 1, num_steps)
    check_fits(one, f"recording one world of {env.id} for {num_steps:,} steps", per_step, "steps")


def _record_bytes(env: Env, num_worlds: int, num_steps: int) -> tuple[int, int]:
    """``(bytes, bytes per step of one world)`` of rolling out, replaying and recording worlds."""
    from htjax.core.memory import rollout_bytes, state_bytes

    per_step = (
        rollout_bytes(env, 1, num_steps + 1, record_observations=False)[1]
        - rollout_bytes(env, 1, num_steps, record_observations=False)[1]
        + REPLAY_STATE_COPIES * state_bytes(env)
    )
    per_world = rollout_bytes(env, 1, num_steps, record_observations=False)[1] + REPLAY_STATE_COPIES * (
        num_steps + 1 + STEP_BUCKET
    ) * state_bytes(env)
    return per_world * num_worlds, per_step


def world_keys_at(key: jax.Array, world_ids: jax.Array) -> jax.Array:
    """``uint32[C, 2]``: rows ``world_ids`` of :func:`htjax.core.keys.world_keys` ``(key, N)`` for
    any ``N`` above them, computed without the other ``N - C`` keys. With JAX's partitionable
    threefry (the default), ``split(key, N)[i]`` is ``threefry2x32(key, (i >> 32, i & 0xffffffff))``
    whatever ``N`` (a test checks it against ``split``)."""
    ids = jnp.asarray(world_ids).astype(jnp.uint32)  # world counts stay below 2**32
    bits = jax.extend.random.threefry_2x32(key_data(key), jnp.stack([jnp.zeros_like(ids), ids]))
    return jnp.stack(bits).T if isinstance(bits, (tuple, list)) else bits.T


@functools.lru_cache(maxsize=16)
def _worlds_fn(env: Env, policy, width: int, num_steps: int):
    from htjax.core.keys import episode_key_for, policy_keys
    from htjax.core.rollouts import RolloutCarry, _act, step_worlds

    def run(key, ids):
        env_root, pol_root = jax.random.split(key_data(key))
        wkeys = world_keys_at(env_root, ids)
        ekeys = jax.vmap(lambda k: episode_key_for(k, 0))(wkeys)
        carry = RolloutCarry(
            state=jax.vmap(env.init)(ekeys),
            world_key=wkeys,
            episode_index=jnp.zeros(width, jnp.int32),
            episode_key=ekeys,
            policy_key=pol_root,
            t=jnp.int32(0),
        )
        act = jax.vmap(functools.partial(_act, env, policy), in_axes=(None, 0, 0))

        def one_step(c, _):
            pkeys = jax.vmap(lambda w: policy_keys(c.policy_key, c.t, 1, w)[0])(ids)
            action = act(None, c.state, pkeys)
            nxt, new = step_worlds(env, c, action, autoreset="select", observe_next=False)
            return new, Trajectory(
                action=action,
                current_player=c.state.current_player,
                rewards=nxt.rewards,
                terminated=nxt.terminated,
                truncated=nxt.truncated,
                episode_key=c.episode_key,
                episode_index=c.episode_index,
                step_index=c.state.step_count,
            )

        return jax.lax.scan(one_step, carry, None, length=num_steps)[1]

    return jax.jit(run)


def rollout_worlds(env: Env, policy, key: jax.Array, world_ids: Sequence[int], num_steps: int) -> Trajectory:
    """The columns ``world_ids`` of ``htjax.rollout(env, policy, key, N, num_steps,
    record_observations=False).trajectory`` for any ``N`` above them, rolling out only those
    worlds (``[T, len(world_ids)]``; the policy gets ``params=None``). Widths are padded to a
    power of two so that chunks of different sizes share compiled programs."""
    ids = np.asarray(world_ids, np.int64)
    width = 1 << max(0, (len(ids) - 1).bit_length())
    padded = np.concatenate([ids, np.full(width - len(ids), ids[-1])]).astype(np.uint32)
    traj = _worlds_fn(env, policy, width, num_steps)(key_data(key), jnp.asarray(padded))
    return jax.tree_util.tree_map(lambda x: x[:, : len(ids)], traj)


class _Rows:
    """Per-world rows of the record summary table."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []
        self.files = 0

    def add(self, docs: list[EpisodeDoc], replays: list[Replay], paths: list[pathlib.Path]) -> None:
        self.files += len(docs)
        for w in dict.fromkeys(d.header.world for d in docs):
            rows = [i for i, d in enumerate(docs) if d.header.world == w]
            self.rows.append(
                (
                    str(w),
                    str(len(rows)),
                    str(sum(replays[i].length for i in rows)),
                    str(sum(not replays[i].outcome.finished for i in rows)),
                    str(sum(len(replays[i].verified) for i in rows)),
                    f"{sum(len(docs[i].to_bytes()) for i in rows):,}",
                    f"{paths[rows[0]].name} ..."
                    if paths and len(rows) > 1
                    else (paths[rows[0]].name if paths else "-"),
                )
            )

    def table(self, env: Env, shown: int = 20) -> Table:
        table = Table(
            title=f"Recorded {self.files} episodes of {env.id} as Automerge logs, reloaded and replay-verified"
        )
        for col in ("world", "episodes", "steps", "unfinished", "checkpoints verified", "bytes", "files"):
            table.add_column(col, justify="right")
        for row in self.rows[:shown]:
            table.add_row(*row)
        if len(self.rows) > shown:
            table.add_row(f"... {len(self.rows) - shown:,} more worlds", *[""] * 6)
        return table


def _save_and_verify(docs: list[EpisodeDoc], out_dir) -> tuple[list[Replay], list[pathlib.Path]]:
    paths: list[pathlib.Path] = []
    if out_dir is not None:
        out = pathlib.Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for doc in docs:
            paths.append(out / episode_filename(doc))
            save(doc, paths[-1])
        reloaded = [load(p) for p in paths]
    else:
        reloaded = [EpisodeDoc.from_bytes(d.to_bytes()) for d in docs]
    return replay_many(reloaded), paths


def record_and_verify(
    console: Console,
    env: Env,
    trajectory: Trajectory,
    worlds: Sequence[int],
    *,
    out_dir: str | os.PathLike | None = None,
    policy: str = "random",
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
) -> list[pathlib.Path]:
    """Record ``worlds`` of a trajectory, save them (if ``out_dir``), reload, replay-verify, print a table."""
    docs = record(env, trajectory, worlds, policy=policy, checkpoint_every=checkpoint_every)
    replays, paths = _save_and_verify(docs, out_dir)
    rows = _Rows()
    rows.add(docs, replays, paths)
    console.print(rows.table(env))
    return paths


def record_command(
    console: Console,
    env: Env,
    *,
    num_envs: int,
    num_steps: int,
    worlds: Sequence[int],
    out_dir: str | os.PathLike,
    seed: int = 0,
    policy: str = "random",
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    progress: Console | None = None,
    chunk: int | None = None,
) -> list[pathlib.Path]:
    """Record ``worlds`` of a rollout of ``num_envs`` worlds for ``num_steps`` steps to ``out_dir``, verify.

    Streams: only the chosen worlds are rolled out (their trajectories are those of the whole
    batch, see :func:`rollout_worlds`), in chunks of ``chunk`` worlds (default: as many as fit
    in a quarter of the free memory, at most 256), and each chunk's files are written and
    verified before the next chunk runs, so memory does not grow with the number of worlds.
    ``progress``: a console for a progress bar over the worlds.
    """
    from htjax.core.memory import HEADROOM, available_memory

    if policy not in POLICIES:
        raise RecordError(f"unknown policy {policy!r}; choose one of {sorted(POLICIES)}")
    worlds = list(worlds)
    bad = [
        w
        for w in worlds
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or not 0 <= w < num_envs
    ]
    if bad or not worlds:
        raise RecordError(
            f"worlds must be a non-empty list of ints in [0, {num_envs}), got {bad[:5] or worlds!r}"
        )
    if len(set(worlds)) != len(worlds):
        raise RecordError("worlds must be distinct (each world is recorded once)")
    check_record_space(env, len(worlds), num_steps, out_dir)
    if chunk is None:
        per_world = _record_bytes(env, 1, num_steps)[0]
        chunk = max(1, min(256, int(available_memory().bytes * HEADROOM / 4 // per_world)))
    key = jax.random.PRNGKey(seed)
    rows, paths = _Rows(), []
    bar = progress_bar(progress or Console(file=io.StringIO()), transient=True)
    with bar:
        task = bar.add_task(f"recording {len(worlds):,} worlds of {env.id}", total=len(worlds))
        for start in range(0, len(worlds), chunk):
            ids = worlds[start : start + chunk]
            traj = rollout_worlds(env, POLICIES[policy], key, ids, num_steps)
            docs = record(
                env,
                traj,
                list(range(len(ids))),
                world_ids=ids,
                policy=policy,
                checkpoint_every=checkpoint_every,
            )
            replays, chunk_paths = _save_and_verify(docs, out_dir)
            rows.add(docs, replays, chunk_paths)
            paths += chunk_paths
            bar.update(task, advance=len(ids))
    console.print(rows.table(env))
    return paths


def _labels(r: Replay, step: int) -> tuple[str, str, str]:
    env, d = r.env, r.derivation
    entries = [d.entries[i] for i in d.accepted[step]]
    seats = ", ".join(str(e.seat) for e in entries)
    actors = ", ".join(dict.fromkeys(e.actor for e in entries))
    actions = ", ".join(env.action_labels[e.action] for e in entries)
    return seats, actors, actions


def _step_table(r: Replay, show_states: bool) -> Table:
    rewards = np.asarray(r.states.rewards)
    term, trunc = np.asarray(r.states.terminated), np.asarray(r.states.truncated)
    table = Table(title=f"{r.env.id} {r.env.version}: {r.length} steps")
    for col in ("step", "seat", "actor", "action", "rewards", "end", "time"):
        table.add_column(col)
    render = (
        show_states and render_text_of(r.env, jax.tree_util.tree_map(lambda x: x[0], r.states)) is not None
    )
    if render:
        table.add_column("state after the step")
    for t in range(r.length):
        seats, actors, actions = _labels(r, t)
        end = "terminated" if term[t + 1] else "truncated" if trunc[t + 1] else ""
        time = r.derivation.entries[r.derivation.accepted[t][-1]].time.strftime("%Y-%m-%d %H:%M:%S")
        row = [str(t), seats, actors, actions, ", ".join(f"{x:+g}" for x in rewards[t + 1]), end, time]
        if render:
            row.append(render_text_of(r.env, jax.tree_util.tree_map(lambda x: x[t + 1], r.states)) or "")
        table.add_row(*row)
    return table


def _rejected_table(r: Replay) -> Table | None:
    if not r.derivation.rejected:
        return None
    table = Table(title="Rejected log entries (kept in the document)")
    for col in ("entry", "step", "seat", "actor", "action", "reason"):
        table.add_column(col)
    for rej in r.derivation.rejected:
        e = rej.entry
        label = r.env.action_labels[e.action] if 0 <= e.action < r.env.num_actions else str(e.action)
        table.add_row(str(rej.index), str(e.step), str(e.seat), e.actor, label, rej.reason)
    return table


def replay_command(
    console: Console,
    path: str | os.PathLike,
    *,
    svg: str | os.PathLike | None = None,
    html: str | os.PathLike | None = None,
    show_states: bool = False,
    status: Console | None = None,
) -> Replay:
    """Load, replay and verify one file; print the step table. Raises ``SyncError`` on any problem.

    ``status``: a console (stderr) for a spinner while the env compiles."""
    doc = load(path)
    with (
        compiling(f"{doc.header.env_id}'s replay", status) if status is not None else contextlib.nullcontext()
    ):
        r = replay(doc)
    parts = [_step_table(r, show_states or svg is not None or html is not None)]
    rejected = _rejected_table(r)
    if rejected is not None:
        parts.append(rejected)
    o = r.outcome
    status = "finished" if o.finished else "unfinished (recording stopped first)"
    parts.append(
        Panel(
            f"[green]verified[/]: {len(r.verified)} checkpoint digests (steps {r.verified}) and the outcome match\n"
            f"outcome: {status}, {o.length} steps, returns {list(o.returns)}, "
            f"terminated={o.terminated}, truncated={o.truncated}",
            title=str(path),
        )
    )
    group = Group(*parts)
    console.print(group)
    if svg is not None or html is not None:
        recorder = Console(record=True, width=max(120, console.width), file=io.StringIO())
        recorder.print(group)
        if svg is not None:
            recorder.save_svg(str(svg), title=f"htjax replay {pathlib.Path(path).name}", clear=False)
        if html is not None:
            recorder.save_html(str(html), clear=False)
    return r


def _history_rows(doc: EpisodeDoc) -> list[tuple[str, ...]]:
    """Per change: hash, Automerge actor, seq, ops, and what it added to the log (actors, steps, time)."""
    raw = doc.automerge
    log = list_id(raw, "log")
    rows = []
    for c in doc.history():
        at = [bytes.fromhex(c.hash)]
        with binding_guard("reading history"):
            before = (
                {oid for _, oid in raw.values(log, [bytes.fromhex(d) for d in c.deps])} if c.deps else set()
            )
            added = [oid for _, oid in raw.values(log, at) if oid not in before]
            info = [tuple(raw.get(oid, k, at)[0][1] for k in ("actor", "step", "time")) for oid in added]
        what = ["header"] if not c.deps else []
        if info:
            actors = ", ".join(dict.fromkeys(a for a, _, _ in info))
            steps = sorted(s for _, s, _ in info)
            when = max(t for _, _, t in info).strftime("%Y-%m-%d %H:%M:%S")
            what.append(f"log +{len(info)} (steps {steps[0]}..{steps[-1]}) by {actors} at {when}")
        deps = ", ".join(d[:8] for d in c.deps)
        rows.append(
            (
                c.hash[:12],
                c.actor[:8],
                str(c.seq),
                str(c.ops),
                deps,
                "; ".join(what) or "checkpoints/outcome/views",
            )
        )
    return rows


def inspect_command(console: Console, path: str | os.PathLike) -> EpisodeDoc:
    """Print a document's schema, env, actors, log summary, checkpoints, outcome and change history."""
    doc = load(path)
    h = doc.header
    info = Table(title=f"{path}", show_header=False)
    info.add_column("field")
    info.add_column("value")
    entries = doc.entries()
    outcome = doc.outcome()
    for name, value in (
        ("schema", f"{SCHEMA} version {SCHEMA_VERSION}"),
        ("producer", h.producer),
        ("created", h.created.isoformat() if h.created else "-"),
        (
            "env",
            f"{h.env_id} {h.env_version} ({h.num_players} players, {h.num_actions} actions{', simultaneous' if h.simultaneous else ''})",
        ),
        ("config", json.dumps(dict(h.config))),
        ("episode key", "not agreed or revealed yet" if h.episode_key is None else str(list(h.episode_key))),
        ("live game", live_summary(doc.automerge, h.num_players) if h.live else "-"),
        ("world / episode", f"{h.world} / {h.episode_index}"),
        ("log entries", str(len(entries))),
        ("checkpoints", ", ".join(str(c.step) for c in doc.checkpoints()) + f" (every {h.checkpoint_every})"),
        ("outcome", "in progress" if outcome is None else f"{outcome}"),
        ("public views", "yes" if doc.views() is not None else "no"),
        ("fork", json.dumps(doc.fork_info()) if doc.fork_info() else "-"),
        ("heads", ", ".join(x[:12] for x in doc.heads())),
        ("bytes", str(len(doc.to_bytes()))),
    ):
        info.add_row(name, value)
    seats = Table(title="Seats")
    for col in ("seat", "actor", "kind", "policy", "entries"):
        seats.add_column(col)
    for i, s in enumerate(h.seats):
        seats.add_row(str(i), s.actor, s.kind, s.policy or "-", str(sum(e.actor == s.actor for e in entries)))
    history = Table(title="History (Automerge changes, oldest first)")
    for col in ("change", "automerge actor", "seq", "ops", "deps", "what"):
        history.add_column(col)
    for row in _history_rows(doc):
        history.add_row(*row)
    console.print(Group(info, seats, history))
    return doc


# --------------------------------------------------------------------------- fork / merge / what-if
def fork_command(
    console: Console, path: str | os.PathLike, *, step: int, out: str | os.PathLike
) -> EpisodeDoc:
    """Fork the episode at ``path`` after ``step`` steps (:func:`htjax.sync.fork`), save it to ``out``."""
    from htjax.sync.fork import fork

    doc = load(path)
    branch = fork(doc, step)
    save(branch, out)
    d = derive(branch)
    console.print(
        f"wrote {out}: {doc.header.env_id} episode forked at step {step} of {derive(doc).length} "
        f"({len(branch.entries())} log entries kept, {d.length} steps); continue it with htjax.sync.Recorder"
    )
    return branch


def merge_command(console: Console, paths: Sequence[str | os.PathLike], *, out: str | os.PathLike) -> Replay:
    """Merge the documents at ``paths`` (copies of one episode) into one, replay-verify it, save to ``out``."""
    docs = [load(p) for p in paths]
    merged = docs[0].copy()
    for other, p in zip(docs[1:], paths[1:]):
        try:
            merged.merge(other)
        except SyncError as err:
            raise type(err)(f"cannot merge {os.fspath(p)} into {os.fspath(paths[0])}: {err}") from err
    r = replay(merged)
    save(merged, out)
    status = "finished" if r.outcome.finished else "in progress"
    console.print(
        f"wrote {out}: merged {len(docs)} documents of {merged.header.env_id}; {len(merged.entries())} log entries, "
        f"{r.length} steps ({status}), {len(r.derivation.rejected)} rejected entries, "
        f"{len(r.verified)} checkpoint digests verified"
    )
    return r


def whatif_command(
    console: Console,
    path: str | os.PathLike,
    *,
    step: int,
    num_rollouts: int = 64,
    horizon: int = 1000,
    seed: int = 0,
    seat: int | None = None,
    print_table: bool = True,
    status: Console | None = None,
) -> list[dict]:
    """Evaluate every legal action at ``step`` of the episode at ``path`` (:func:`htjax.sync.what_if`).

    Returns one JSON-able row per legal action (mean, standard deviation and standard error of
    each seat's return from the branch on) and prints them as a table."""
    from htjax.sync.whatif import what_if

    doc = load(path)
    d = derive(doc)
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= d.length:
        raise SyncError(f"--step must be in [0, {d.length}] (the episode's length), got {step!r}")
    env = doc.env()
    states = d.batch.episode(d.row, d.length)
    state = jax.tree_util.tree_map(lambda x: jnp.asarray(x[step]), states)
    with compiling(f"{env.id}'s what-if", status) if status is not None else contextlib.nullcontext():
        rows = what_if(
            env, state, jax.random.PRNGKey(seed), num_rollouts=num_rollouts, horizon=horizon, seat=seat
        )
    out = [
        {
            "action": r.action,
            "label": r.label,
            "mean_return": list(r.mean_return),
            "std_return": list(r.std_return),
            "stderr_return": [sd / max(1, r.n - 1) ** 0.5 for sd in r.std_return],
            "rollouts": r.n,
            "unfinished": r.unfinished,
        }
        for r in rows
    ]
    if print_table:
        who = seat if env.simultaneous else int(state.current_player)
        table = Table(
            title=f"What if seat {who} played each legal action at step {step} of {pathlib.Path(path).name} "
            f"({num_rollouts} random continuations each, seed {seed})"
        )
        for col in (
            "action",
            f"seat {who} mean return",
            "std. error",
            "all seats' mean returns",
            "unfinished",
        ):
            table.add_column(col, justify="left" if col == "action" else "right")
        for r in out:
            table.add_row(
                r["label"],
                f"{r['mean_return'][who]:+.3f}",
                f"{r['stderr_return'][who]:.3f}",
                ", ".join(f"{x:+.3f}" for x in r["mean_return"]),
                str(r["unfinished"]),
            )
        console.print(table)
    return out
