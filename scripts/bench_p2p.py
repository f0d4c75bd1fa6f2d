#!/usr/bin/env python
"""Live sync over automerge-repo's WebSocket protocol: latency, and one relay serving many games.

1. Latency: two peers in two processes play alternating moves on one IPD episode document
   (``prisoners_dilemma`` header, log entries written with ``htjax.sync.schema``'s writers, one
   change per move). Each move's latency is from the writer's ``time.monotonic_ns()`` just
   before its change to the other process's ``on_change`` callback seeing the entry (the
   monotonic clock is shared by all processes of a machine). Directly (one peer listens, the
   other connects) and through ``htjax relay`` (a third process).
1b. Derived-state latency: two ``LiveGame`` peers (two processes, IPD in open mode, scripted
   agents, the seats alternating) per action from the agent's choice (just before its
   ``DocHandle.change``) to the other peer's ``on_derived`` including it; directly and through
   ``htjax relay``, with incremental deriving and (the comparison) the whole log re-derived per
   change.
2. Load: one ``htjax relay`` process serving G concurrent two-peer games (2G WebSocket peers in
   one client process); each game is R rounds, both seats appending a move each round, the
   second seat after it saw the first's. Reports errors, wall time, and the relay's CPU seconds
   and resident memory (``/proc``). The same games then run through the official JS sync server
   (``js/sync_server.mjs``: automerge-repo + NodeWSServerAdapter + nodefs storage), same run.

Writes ``docs/bench/p2p.json`` and the ``bench_p2p`` section of ``docs/benchmarks.md``.

    python scripts/bench_p2p.py                      # 500 latency moves, 200 games x 20 rounds
    python scripts/bench_p2p.py --small              # 60 moves, 10 games x 5 rounds (a check)
    python scripts/bench_p2p.py --live-only [--full-derive]   # only 1b, printed
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import automerge.core as am  # noqa: E402
from benchlib import write_results  # noqa: E402

from htjax.sync import schema  # noqa: E402
from htjax.sync.repo import Repo  # noqa: E402

WARMUP = 20


# --------------------------------------------------------------------------- episode documents
def _header() -> schema.Header:
    import htjax
    from htjax.sync.record import new_header

    env = htjax.make("prisoners_dilemma")
    seats = (schema.Seat("bench/seat0", "policy", "bench"), schema.Seat("bench/seat1", "policy", "bench"))
    return new_header(env, (0, 1), seats)


def new_episode(header: schema.Header) -> am.Document:
    doc = am.Document()
    with doc.transaction() as tx:
        schema.write_header(tx, header)
    return doc


def append_move(handle, step: int, seat: int, action: int) -> None:
    """One log entry (one Automerge change), as a live episode appends a seat's action."""
    now = datetime.datetime.now(datetime.timezone.utc)

    def write(tx):
        log = schema.list_id(handle.doc, "log")
        schema.write_entries(
            tx, log, handle.doc.length(log), [(step, seat, action, f"bench/seat{seat}", now)]
        )

    handle.change(write)


def seat_moves(doc: am.Document, seat: int) -> int:
    log = schema.list_id(doc, "log")
    count = 0
    for i in range(doc.length(log)):
        entry = doc.get(log, i)[1]
        if doc.get(entry, "seat")[0][1] == seat:
            count += 1
    return count


class Counter:
    """Counts one seat's entries incrementally (the log only grows at its end here)."""

    def __init__(self, seat: int):
        self.seat, self.seen, self.count = seat, 0, 0

    def update(self, doc: am.Document) -> int:
        log = schema.list_id(doc, "log")
        n = doc.length(log)
        for i in range(self.seen, n):
            if doc.get(doc.get(log, i)[1], "seat")[0][1] == self.seat:
                self.count += 1
        self.seen = n
        return self.count


# --------------------------------------------------------------------------- processes
def start_server(kind: str, storage: str) -> tuple[subprocess.Popen, str]:
    if kind == "relay":
        cmd = [sys.executable, "-m", "htjax", "relay", "--port", "0", "--storage", storage]
    else:
        cmd = ["node", str(ROOT / "js" / "sync_server.mjs"), "--port", "0", "--storage", storage]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    line = proc.stdout.readline()
    match = re.search(r"ws://\S+", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"{kind} server did not start: {line!r} {proc.stderr.read()[-2000:]}")
    return proc, match.group(0)


def proc_usage(pid: int) -> dict:
    """CPU seconds (user + system) and resident memory (now and peak) of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    mem = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                mem[line.split(":")[0]] = int(line.split()[1]) / 1024
    return {"cpu_s": cpu, "rss_mb": mem.get("VmRSS", 0.0), "peak_rss_mb": mem.get("VmHWM", 0.0)}


# --------------------------------------------------------------------------- 1. latency
async def echo_peer(url: str, document_id: str, moves: int) -> None:
    """The second process: answers each seat-0 move with a seat-1 move; prints its timestamps."""
    repo = Repo()
    await repo.connect(url)
    handle = await repo.find(document_id, timeout=30)
    received, sent = [], []
    counter = Counter(0)
    done = asyncio.Event()

    def on_change(h) -> None:
        now = time.monotonic_ns()
        while counter.update(h.doc) > len(received):
            received.append(now)
            k = len(sent)
            sent.append(time.monotonic_ns())
            append_move(h, k, 1, k % 2)
        if len(received) >= moves:
            done.set()

    handle.on_change(on_change)
    on_change(handle)
    print("ready", flush=True)
    await asyncio.wait_for(done.wait(), 120)
    await handle.wait_synced(10)
    print(json.dumps({"received": received, "sent": sent}), flush=True)
    await repo.close()


async def latency(mode: str, moves: int, header: schema.Header) -> dict:
    relay = None
    repo = Repo()
    if mode == "direct":
        url = await repo.listen()
    else:
        relay, url = start_server("relay", tempfile.mkdtemp(prefix="bench-p2p-"))
        await repo.connect(url)
    handle = repo.create(new_episode(header))
    if relay is not None:
        await handle.wait_synced(10)
    peer = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--echo",
        url,
        handle.document_id,
        str(moves),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert (await asyncio.wait_for(peer.stdout.readline(), 60)).strip() == b"ready"
    counter = Counter(1)
    sent, received = [], []

    def on_change(h) -> None:
        now = time.monotonic_ns()
        while counter.update(h.doc) > len(received):
            received.append(now)

    handle.on_change(on_change)
    for k in range(moves):
        sent.append(time.monotonic_ns())
        append_move(handle, k, 0, k % 2)
        await handle.wait_for(lambda d, k=k: len(received) > k, 30)
    out = json.loads((await asyncio.wait_for(peer.stdout.readline(), 60)).decode())
    await peer.wait()
    await repo.close()
    if relay is not None:
        relay.terminate()
        relay.wait(10)
    a_to_b = [(r - s) / 1e6 for s, r in zip(sent, out["received"])][WARMUP:]
    b_to_a = [(r - s) / 1e6 for s, r in zip(out["sent"], received)][WARMUP:]
    both = sorted(a_to_b + b_to_a)
    return {
        "mode": mode,
        "samples": len(both),
        "median_ms": statistics.median(both),
        "p99_ms": both[min(len(both) - 1, int(0.99 * len(both)))],
        "max_ms": both[-1],
        "median_a_to_b_ms": statistics.median(a_to_b),
        "median_b_to_a_ms": statistics.median(b_to_a),
    }


# --------------------------------------------------------------------------- 1b. derived-state latency
class Stamps:
    """One live peer's clock readings (``time.monotonic_ns``, shared by the processes of a machine).

    ``decided[(seat, step)]``: its agent chose the action, immediately before ``DocHandle.change``
    appends it; ``seen[(seat, step)]``: the first of its derivations (``LiveGame.on_derived``)
    that includes another peer's entry for that seat and step (accepted, or pending in a
    simultaneous step).
    """

    def __init__(self, mine: set[int]):
        self.mine = mine
        self.decided: dict[str, int] = {}
        self.arrived: dict[str, int] = {}  # the document changed with the entry in it (transport only)
        self.seen: dict[str, int] = {}
        self.full_derives = 0
        self.derived = asyncio.Event()

    def agent(self, seat: int, after: int | None = None):
        """A scripted agent; with ``after``, it acts only once this peer derived seat ``after``'s
        entry of the same step (the IPD then alternates: one action in flight at a time)."""

        async def act(view) -> int:
            while after is not None and f"{after},{view.step}" not in self.seen:
                self.derived.clear()
                await self.derived.wait()
            legal = [int(a) for a in view.legal.nonzero()[0]]
            action = legal[(view.step + seat) % len(legal)]  # scripted: alternate the legal actions
            self.decided[f"{seat},{view.step}"] = time.monotonic_ns()
            return action

        return act

    def on_change(self, handle) -> None:
        now = time.monotonic_ns()
        doc = handle.doc
        log = schema.list_id(doc, "log")
        n = doc.length(log)
        for i in range(max(0, n - 4), n):  # concurrent appends land near the end
            entry = doc.get(log, i)[1]
            seat, step = doc.get(entry, "seat")[0][1], doc.get(entry, "step")[0][1]
            if seat not in self.mine:
                self.arrived.setdefault(f"{seat},{step}", now)

    def on_derived(self, d) -> None:
        now = time.monotonic_ns()
        rows = [(t, i) for t, row in enumerate(d.accepted) for i in row]
        rows += [(d.length, i) for i in d.pending.values()]
        for t, i in rows:
            seat = d.entries[i].seat
            if seat not in self.mine:
                self.seen.setdefault(f"{seat},{t}", now)
        self.derived.set()


_EXTEND = None


def _full_derive_only(on: bool = True) -> None:
    """The comparison: every change derives the whole log (``derive_entries``), as LiveGame did
    before deriving was incremental."""
    global _EXTEND
    from htjax.sync.incremental import IncrementalDeriver

    if _EXTEND is None:
        _EXTEND = IncrementalDeriver._extend
    IncrementalDeriver._extend = (lambda self, *args: None) if on else _EXTEND


LIVE_GAMES = {
    # name: (make(rounds), what the report calls it); IPD: simultaneous, the seats alternated by
    # the scripted agents; blackjack: turn-based, two seats, a session of many rounds
    "ipd": (lambda n: ("prisoners_dilemma", {"rounds": n}), "IPD, open mode"),
    "blackjack": (
        lambda n: ("blackjack", {"num_seats": 2, "episode": "session", "max_rounds": max(1, n // 2)}),
        "blackjack (2 seats, a session), open mode",
    ),
}


def _live_env(game: str, rounds: int):
    import htjax

    env_id, config = LIVE_GAMES[game][0](rounds)
    return htjax.make(env_id, **config)


async def live_peer(url: str, document_id: str) -> None:
    """The second process of the derived-state latency: plays seat 1, prints its stamps."""
    from htjax.sync.document import EpisodeDoc
    from htjax.sync.live.peers import join_game

    repo = Repo()
    await repo.connect(url)
    stamps = Stamps({1})
    probe = await repo.find(document_id, timeout=30)
    simultaneous = EpisodeDoc(probe.doc).env().simultaneous
    agent = stamps.agent(1, after=0 if simultaneous else None)  # simultaneous: wait for seat 0
    game = await join_game(repo, document_id, {1: agent}, on_derived=stamps.on_derived, timeout=30)
    game.handle.on_change(stamps.on_change)
    print("ready", flush=True)
    await game.run(timeout=300)
    await game.linger(5)
    stamps.full_derives = game.deriver.full_derives
    print(
        json.dumps(
            {k: v for k, v in vars(stamps).items() if k in ("decided", "arrived", "seen", "full_derives")}
        ),
        flush=True,
    )
    await repo.close()


async def live_latency(mode: str, rounds: int, full: bool = False, name: str = "ipd") -> dict:
    """Two LiveGame peers (two processes) play one IPD game in open mode; per action, the time
    from the actor's append to the other peer's derived state including it."""
    from htjax.sync.live.peers import host_game

    _full_derive_only(full)
    relay = None
    repo = Repo()
    if mode == "direct":
        url = await repo.listen()
    else:
        relay, url = start_server("relay", tempfile.mkdtemp(prefix="bench-p2p-live-"))
        await repo.connect(url)
    stamps = Stamps({0})
    game = await host_game(
        repo, _live_env(name, rounds), "open", {0: stamps.agent(0)}, on_derived=stamps.on_derived
    )
    game.handle.on_change(stamps.on_change)
    if relay is not None:
        await game.handle.wait_synced(10)
    peer = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--live-peer",
        url,
        game.handle.document_id,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT), "BENCH_P2P_FULL_DERIVE": "1" if full else ""},
    )
    assert (await asyncio.wait_for(peer.stdout.readline(), 120)).strip() == b"ready"
    result = await game.run(timeout=300)
    await game.linger(5)
    other = json.loads((await asyncio.wait_for(peer.stdout.readline(), 120)).decode())
    await peer.wait()
    await repo.close()
    if relay is not None:
        relay.terminate()
        relay.wait(10)
    skip = lambda k: int(k.split(",")[1]) < WARMUP  # noqa: E731  (compiles happen in the first steps)
    a_to_b = [
        (other["seen"][k] - t) / 1e6 for k, t in stamps.decided.items() if k in other["seen"] and not skip(k)
    ]
    b_to_a = [
        (stamps.seen[k] - t) / 1e6 for k, t in other["decided"].items() if k in stamps.seen and not skip(k)
    ]
    both = sorted(a_to_b + b_to_a)
    mine = vars(stamps)
    transport = {
        name: [
            (receiver["arrived"][k] - t) / 1e6
            for k, t in actor["decided"].items()
            if k in receiver["arrived"] and not skip(k)
        ]
        for name, actor, receiver in (("a_to_b", mine, other), ("b_to_a", other, mine))
    }
    return {
        "mode": mode,
        "deriving": "full (derive_entries per change)" if full else "incremental",
        "env": LIVE_GAMES[name][1],
        "median_transport_ms": statistics.median(transport["a_to_b"] + transport["b_to_a"]),
        "median_transport_a_to_b_ms": statistics.median(transport["a_to_b"]),
        "median_transport_b_to_a_ms": statistics.median(transport["b_to_a"]),
        "steps": result.replay.length,
        "samples": len(both),
        "median_ms": statistics.median(both),
        "p99_ms": both[min(len(both) - 1, int(0.99 * len(both)))],
        "max_ms": both[-1],
        "median_a_to_b_ms": statistics.median(a_to_b),
        "median_b_to_a_ms": statistics.median(b_to_a),
        "full_derives": [game.deriver.full_derives, other["full_derives"]],
        "load_average": os.getloadavg()[0],
    }


# --------------------------------------------------------------------------- 2. load
async def one_game(url: str, header: schema.Header, rounds: int, timeout: float) -> int:
    a, b = Repo(), Repo()
    try:
        await a.connect(url)
        await b.connect(url)
        ha = a.create(new_episode(header))
        await ha.wait_synced(timeout)
        hb = await b.find(ha.document_id, timeout=timeout)
        ca, cb = Counter(1), Counter(0)
        for k in range(rounds):
            append_move(ha, k, 0, k % 2)
            await hb.wait_for(lambda d, k=k: cb.update(d) > k, timeout)
            append_move(hb, k, 1, (k + 1) % 2)
            await ha.wait_for(lambda d, k=k: ca.update(d) > k, timeout)
        await ha.wait_synced(timeout)
        if sorted(ha.heads()) != sorted(hb.heads()) or schema.read_entries(ha.doc) != schema.read_entries(
            hb.doc
        ):
            raise RuntimeError(f"{ha.document_id}: the two peers ended with different documents")
        if len(schema.read_entries(ha.doc)) != 2 * rounds:
            raise RuntimeError(
                f"{ha.document_id}: {len(schema.read_entries(ha.doc))} entries, not {2 * rounds}"
            )
        return 2 * rounds
    finally:
        await a.close()
        await b.close()


async def load(kind: str, games: int, rounds: int, header: schema.Header) -> dict:
    storage = tempfile.mkdtemp(prefix=f"bench-p2p-{kind}-")
    proc, url = start_server(kind, storage)
    try:
        await asyncio.sleep(0.5)
        before = proc_usage(proc.pid)
        start = time.perf_counter()
        timeout = 60.0 if kind == "relay" else 120.0
        results = await asyncio.gather(
            *(one_game(url, header, rounds, timeout) for _ in range(games)), return_exceptions=True
        )
        wall = time.perf_counter() - start
        after = proc_usage(proc.pid)
    finally:
        proc.terminate()
        try:
            _, stderr = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
    errors = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    moves = sum(r for r in results if isinstance(r, int))
    server_errors = [line for line in stderr.splitlines() if "error" in line.lower() or "Traceback" in line]
    return {
        "server": "htjax relay" if kind == "relay" else "automerge-repo sync server (Node)",
        "games": games,
        "rounds": rounds,
        "peers": 2 * games,
        "moves": moves,
        "errors": len(errors),
        "first_errors": errors[:3],
        "server_error_lines": server_errors[:5],
        "wall_s": wall,
        "moves_per_s": moves / wall,
        "server_cpu_s": after["cpu_s"] - before["cpu_s"],
        "server_rss_mb": after["rss_mb"],
        "server_peak_rss_mb": after["peak_rss_mb"],
        "server_idle_rss_mb": before["rss_mb"],
    }


# --------------------------------------------------------------------------- report
def markdown(report: dict) -> str:
    lat = {r["mode"]: r for r in report["latency"]}
    lines = [
        "## Live sync (automerge-repo protocol)",
        "",
        "Latency from one peer's change (one IPD log entry) to the other peer process seeing it, on "
        f"loopback, {lat['direct']['samples'] // 2} moves each way after {WARMUP} warm-up moves "
        "(`htjax.sync.repo`, see docs/relay.md):",
        "",
        "| path | median | p99 | max |",
        "|---|---|---|---|",
    ]
    for mode in ("direct", "relay"):
        r = lat[mode]
        name = "direct (listen/connect)" if mode == "direct" else "through `htjax relay`"
        lines.append(f"| {name} | {r['median_ms']:.2f} ms | {r['p99_ms']:.2f} ms | {r['max_ms']:.2f} ms |")
    live = report["live_latency"]
    lines += [
        "",
        "Latency from one peer's action to the other peer's **derived state** including it: two "
        "`LiveGame` peers (two processes) play one game in open mode with scripted agents: an IPD "
        f"of {report['rounds_live']} rounds, the seats alternating (seat 1 acts once it derived seat "
        "0's action of the step, so one action is in flight at a time), and a blackjack session "
        "(two seats, turn-based). Per action, from the agent's choice (immediately before "
        "`DocHandle.change`) to the first `LiveGame.on_derived` of the other process that includes "
        f"it (accepted, or pending in a simultaneous step), after {WARMUP} warm-up steps (compiles "
        "excluded). *transport* is the part until the other peer's document has the entry; *full* "
        "is the comparison: every change derives the whole log with `derive_entries` (the same "
        "`LiveGame` otherwise), as before deriving was incremental; its p99 includes the replay's "
        "recompiles as the padded episode grows:",
        "",
        "| game | path | deriving | actions | median | p99 | max | transport median | load average |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in live:
        name = "direct" if r["mode"] == "direct" else "`htjax relay`"
        lines.append(
            f"| {r['env'].split(',')[0]} | {name} | {r['deriving'].split(' ')[0]} | {r['samples']} | "
            f"{r['median_ms']:.2f} ms | {r['p99_ms']:.2f} ms | {r['max_ms']:.2f} ms | "
            f"{r['median_transport_ms']:.2f} ms | {r['load_average']:.1f} |"
        )
    lines += [
        "",
        f"One server, {report['load'][0]['games']} concurrent two-peer IPD games "
        f"({report['load'][0]['peers']} WebSocket peers, {report['load'][0]['rounds']} rounds each, "
        "every move one change, the second seat answering after it saw the first):",
        "",
        "| server | errors | wall | moves/s | server CPU | server RSS idle / end (peak) |",
        "|---|---|---|---|---|---|",
    ]
    for r in report["load"]:
        lines.append(
            f"| {r['server']} | {r['errors']} | {r['wall_s']:.1f} s | {r['moves_per_s']:.0f} | "
            f"{r['server_cpu_s']:.1f} s | {r['server_idle_rss_mb']:.0f} / {r['server_rss_mb']:.0f} MB "
            f"({r['server_peak_rss_mb']:.0f} MB) |"
        )
    lines += [
        "",
        "The JS server (automerge-repo 2.5) throttles the syncs a change triggers to one per 100 ms "
        "per document, so its games take longer by design; its CPU is the better comparison. "
        "The relay's idle memory is mostly JAX, which the `htjax` command imports at start. "
        f"Measured {report['date']} on {report['machine']}, shared with other jobs (load average "
        f"{report['load_average_start']:.0f} at the start, {report['load_average_end']:.0f} at the end): "
        "the p99 and max latencies mostly measure waiting for a CPU.",
        "",
        "Reproduce: `python scripts/bench_p2p.py` (JSON in `docs/bench/p2p.json`).",
    ]
    return "\n".join(lines)


async def main(args) -> dict:
    header = _header()
    report: dict = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average_start": os.getloadavg()[0],
        "latency": [],
        "rounds_live": args.rounds_live,
        "live_latency": [],
        "load": [],
    }
    for mode in ("direct", "relay"):
        report["latency"].append(await latency(mode, args.moves, header))
        print(json.dumps(report["latency"][-1]), flush=True)
    for name, full in (("ipd", False), ("blackjack", False), ("ipd", True)):
        for mode in ("direct", "relay"):
            report["live_latency"].append(await live_latency(mode, args.rounds_live, full, name))
            print(json.dumps(report["live_latency"][-1]), flush=True)
    for kind in ("relay", "js"):
        report["load"].append(await load(kind, args.games, args.rounds, header))
        print(json.dumps(report["load"][-1]), flush=True)
    report["load_average_end"] = os.getloadavg()[0]
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=500, help="latency moves per seat")
    parser.add_argument("--games", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--small", action="store_true", help="60 moves, 10 games x 5 rounds; writes nothing")
    parser.add_argument(
        "--rounds-live", type=int, default=100, help="IPD rounds of the LiveGame latency game"
    )
    parser.add_argument(
        "--live-only", action="store_true", help="only the LiveGame latency (prints; writes nothing)"
    )
    parser.add_argument(
        "--full-derive", action="store_true", help="LiveGame latency with the whole log re-derived per change"
    )
    parser.add_argument(
        "--live-game", choices=sorted(LIVE_GAMES), default="ipd", help="the game of --live-only"
    )
    parser.add_argument("--live-peer", nargs=2, metavar=("URL", "DOC"), help=argparse.SUPPRESS)
    parser.add_argument("--echo", nargs=3, metavar=("URL", "DOC", "MOVES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo:
        asyncio.run(echo_peer(args.echo[0], args.echo[1], int(args.echo[2])))
        sys.exit(0)
    if os.environ.get("BENCH_P2P_FULL_DERIVE"):  # the peer process of a --full-derive game
        _full_derive_only()
    if args.live_peer:
        asyncio.run(live_peer(*args.live_peer))
        sys.exit(0)
    if args.small:
        args.moves, args.games, args.rounds, args.rounds_live = 60, 10, 5, 60
    if args.live_only:
        for mode in ("direct", "relay"):
            result = asyncio.run(live_latency(mode, args.rounds_live, args.full_derive, args.live_game))
            print(json.dumps(result), flush=True)
        sys.exit(0)
    report = asyncio.run(main(args))
    if not args.small:
        for path in write_results("p2p", report, markdown(report)):
            print("wrote", path)
    else:
        print(markdown(report))
