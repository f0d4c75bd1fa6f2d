"""The logic of ``htjax record``, ``htjax replay`` and ``htjax inspect`` (the CLI only parses arguments).

Each function takes a ``rich.console.Console`` and prints tables to it. ``replay`` can also
write what it printed as SVG or HTML (rich's own exporters); when the game module provides
``render_text(env, state)`` each step's rendering is included (see :mod:`htjax.sync.views`).
"""

from __future__ import annotations

import io
import json
import os
import pathlib
from typing import Sequence

import jax
import numpy as np
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from htjax.core.env import Env
from htjax.core.rollouts import Trajectory, first_legal_policy, random_policy, rollout
from htjax.sync.document import FILE_SUFFIX, EpisodeDoc, load, save
from htjax.sync.record import DEFAULT_CHECKPOINT_EVERY, record
from htjax.sync.errors import binding_guard
from htjax.sync.replay import Replay, replay, replay_many
from htjax.sync.schema import SCHEMA, SCHEMA_VERSION, list_id
from htjax.sync.views import render_text_of

__all__ = ["POLICIES", "record_command", "record_and_verify", "replay_command", "inspect_command", "episode_filename"]

POLICIES = {"random": random_policy, "first_legal": first_legal_policy}


def episode_filename(doc: EpisodeDoc) -> str:
    h = doc.header
    return f"{h.env_id}-w{h.world}-e{h.episode_index}{FILE_SUFFIX}"


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
    replays = replay_many(reloaded)
    table = Table(title=f"Recorded {len(docs)} episodes of {env.id} as Automerge logs, reloaded and replay-verified")
    for col in ("world", "episodes", "steps", "unfinished", "checkpoints verified", "bytes", "files"):
        table.add_column(col, justify="right")
    for w in dict.fromkeys(d.header.world for d in docs):
        rows = [i for i, d in enumerate(docs) if d.header.world == w]
        table.add_row(
            str(w),
            str(len(rows)),
            str(sum(replays[i].length for i in rows)),
            str(sum(not replays[i].outcome.finished for i in rows)),
            str(sum(len(replays[i].verified) for i in rows)),
            f"{sum(len(docs[i].to_bytes()) for i in rows):,}",
            f"{paths[rows[0]].name} ..." if paths and len(rows) > 1 else (paths[rows[0]].name if paths else "-"),
        )
    console.print(table)
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
) -> list[pathlib.Path]:
    """Roll out ``num_envs`` worlds for ``num_steps`` steps, record ``worlds`` to ``out_dir``, verify."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose one of {sorted(POLICIES)}")
    out = rollout(env, POLICIES[policy], jax.random.PRNGKey(seed), num_envs, num_steps, record_observations=False)
    return record_and_verify(
        console, env, out.trajectory, worlds, out_dir=out_dir, policy=policy, checkpoint_every=checkpoint_every
    )


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
    render = show_states and render_text_of(r.env, jax.tree_util.tree_map(lambda x: x[0], r.states)) is not None
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
) -> Replay:
    """Load, replay and verify one file; print the step table. Raises ``SyncError`` on any problem."""
    doc = load(path)
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
            before = {oid for _, oid in raw.values(log, [bytes.fromhex(d) for d in c.deps])} if c.deps else set()
            added = [oid for _, oid in raw.values(log, at) if oid not in before]
            info = [tuple(raw.get(oid, k, at)[0][1] for k in ("actor", "step", "time")) for oid in added]
        what = ["header"] if not c.deps else []
        if info:
            actors = ", ".join(dict.fromkeys(a for a, _, _ in info))
            steps = sorted(s for _, s, _ in info)
            when = max(t for _, _, t in info).strftime("%Y-%m-%d %H:%M:%S")
            what.append(f"log +{len(info)} (steps {steps[0]}..{steps[-1]}) by {actors} at {when}")
        deps = ", ".join(d[:8] for d in c.deps)
        rows.append((c.hash[:12], c.actor[:8], str(c.seq), str(c.ops), deps, "; ".join(what) or "checkpoints/outcome/views"))
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
        ("env", f"{h.env_id} {h.env_version} ({h.num_players} players, {h.num_actions} actions{', simultaneous' if h.simultaneous else ''})"),
        ("config", json.dumps(dict(h.config))),
        ("episode key", str(list(h.episode_key))),
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
