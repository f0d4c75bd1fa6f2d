"""Two Python peers play full games over real sockets on loopback (htjax.sync.repo), directly
and through the relay; every peer's final document replays and verifies (issue 13)."""

from __future__ import annotations

import asyncio

import pytest

import htjax
import htjax.sync as sync
from htjax.policies import load as load_policy
from htjax.sync.live import LiveGame, PolicyAgent, RandomAgent
from htjax.sync.live.peers import game_url, host_game, join_game, split_game_url
from htjax.sync.repo import RelayServer, Repo

GAME_TIMEOUT = 150.0  # seconds for one whole game, compile included (2 shared cores)

ENVS = {
    "blackjack": lambda: htjax.make("blackjack", num_seats=2),
    "holdem": lambda: htjax.make("holdem"),
    "prisoners_dilemma": lambda: htjax.make("prisoners_dilemma", rounds=4),
}


async def _connected(via_relay: bool, tmp_path):
    """Host and guest repos: the guest dials the host, or both dial a relay."""
    host, guest, relay = Repo(), Repo(), None
    if via_relay:
        relay = RelayServer(tmp_path / "relay")
        url = await relay.start()
        await host.connect(url)
    else:
        url = await host.listen()
    await guest.connect(url)
    return host, guest, relay, url


async def play_pair(env, mode: str, via_relay: bool, tmp_path, seeds=(1, 2)):
    host, guest, relay, url = await _connected(via_relay, tmp_path)
    try:
        hosted = await host_game(host, env, mode, {0: RandomAgent(seeds[0])})
        server, document_id = split_game_url(game_url(url, hosted.handle.document_id))
        assert server == url
        joined = await join_game(guest, document_id, {1: RandomAgent(seeds[1])}, env_id=env.id)
        results = await asyncio.wait_for(
            asyncio.gather(hosted.run(GAME_TIMEOUT), joined.run(GAME_TIMEOUT)), GAME_TIMEOUT + 10
        )
        lingered = await asyncio.gather(hosted.linger(5), joined.linger(5))
        assert lingered == [True, True]
        return results, (hosted, joined)
    finally:
        await guest.close()
        await host.close()
        if relay is not None:
            await relay.repo.close()


def _check_final(env, results, games, mode):
    (r0, r1), (g0, g1) = results, games
    assert r0.key == r1.key
    for r, game in ((r0, g0), (r1, g1)):
        saved = sync.EpisodeDoc.from_bytes(game.handle.doc.save())  # what each peer holds
        replayed = sync.replay(saved)  # an ordinary episode document: replay verifies it
        assert replayed.outcome.finished and replayed.outcome == r0.replay.outcome
        assert replayed.verified[0] == 0 and replayed.verified[-1] == replayed.length
        assert not replayed.derivation.rejected
        assert saved.heads() == sync.EpisodeDoc.from_bytes(g0.handle.doc.save()).heads()
        info = sync.live.read_live(saved.automerge, env.num_players)
        assert info.mode == mode and sorted(info.bindings()) == [0, 1]
    if mode == "open":  # both peers derived incrementally: the whole log only at the first derivation
        for game in games:
            assert game.deriver.fast_entries > 0 and game.deriver.full_derives <= 2
    last = g1.view(1)  # the guest's last view of its seat: the end of the game, as it may see it
    assert last.done and last.step == r1.replay.length and last.seat == 1
    assert g1.view(0) is None  # it never sees the other seat's view
    if mode == "dealer":
        assert r1.private_checked >= r1.replay.length  # the guest checked a view of every state it saw
        assert r0.doc.views() is not None and len(r0.doc.views()) == r0.replay.length + 1


CASES = [
    ("blackjack", "dealer"),
    ("holdem", "dealer"),
    ("prisoners_dilemma", "open"),
]


@pytest.mark.parametrize("via_relay", [False, True], ids=["direct", "relay"])
@pytest.mark.parametrize("env_id,mode", CASES, ids=[f"{e}-{m}" for e, m in CASES])
def test_two_peers_play_a_full_game(env_id, mode, via_relay, tmp_path):
    env = ENVS[env_id]()
    results, games = asyncio.run(play_pair(env, mode, via_relay, tmp_path))
    _check_final(env, results, games, mode)


def test_a_seat_claimed_by_another_peer_is_refused(tmp_path):
    env = ENVS["prisoners_dilemma"]()

    async def main():
        host, guest, relay, url = await _connected(False, tmp_path)
        try:
            hosted = await host_game(host, env, "open", {0: RandomAgent(0)})
            hosted._tick()  # claims seat 0
            joined = await join_game(guest, hosted.handle.document_id, {0: RandomAgent(1)})
            await joined.handle.wait_for(lambda d: len(sync.live.read_live(d, 2).claims) == 1, 5)
            with pytest.raises(sync.SyncError, match="seat 0 is already held by 'host/seat0'"):
                await joined.run(10)
        finally:
            await guest.close()
            await host.close()

    asyncio.run(main())


def test_joining_a_game_of_another_env_or_a_recorded_episode_is_refused(tmp_path):
    env = ENVS["prisoners_dilemma"]()

    async def main():
        host, guest, relay, url = await _connected(False, tmp_path)
        try:
            hosted = await host_game(host, env, "open", {0: RandomAgent(0)})
            with pytest.raises(sync.SyncError, match="is a game of prisoners_dilemma, not holdem"):
                await join_game(guest, hosted.handle.document_id, {}, env_id="holdem")
            rec = sync.Recorder.start(env, (1, 2))
            handle = host.create(rec.doc.automerge)
            with pytest.raises(sync.SyncError, match="not a live game"):
                await join_game(guest, handle.document_id, {})
        finally:
            await guest.close()
            await host.close()

    asyncio.run(main())


def test_game_urls_are_checked():
    assert split_game_url("ws://h:1/#automerge:abc") == ("ws://h:1/", "automerge:abc")
    for bad in ("http://h:1/#automerge:abc", "ws://h:1/", "ws://h:1/#nope"):
        with pytest.raises(sync.SyncError, match="game URL"):
            split_game_url(bad)


def test_live_game_requires_a_live_document():
    env = ENVS["prisoners_dilemma"]()
    rec = sync.Recorder.start(env, (1, 2))

    class Handle:
        doc = rec.doc.automerge
        document_id = "automerge:x"

    with pytest.raises(sync.SyncError, match="not a live game"):
        LiveGame(Handle(), {})


@pytest.mark.usefixtures("node_modules")
def test_node_reads_a_live_game_mid_game_and_finished(tmp_path):
    from test_sync_node import _read_in_node

    env = ENVS["prisoners_dilemma"]()
    results, games = asyncio.run(play_pair(env, "open", False, tmp_path))
    final = tmp_path / "final.automerge"
    sync.save(results[0].doc, final)
    js = _read_in_node(final)
    assert js["schema_version"] == sync.SCHEMA_VERSION and js["live"]["mode"] == "open"
    assert sorted(c["seat"] for c in js["live"]["claims"]) == [0, 1] and len(js["live"]["reveals"]) == 2
    assert js["episode"]["key"] == list(results[0].key)
    assert [e["action"] for e in js["log"]] == [e.action for e in results[0].doc.entries()]
    fresh = tmp_path / "fresh.automerge"  # a game not started: no key yet
    fresh.write_bytes(sync.live.new_live_document(env, "dealer")[0].save())
    js = _read_in_node(fresh)
    assert js["episode"]["key"] is None and js["live"]["dealer"]["share"] is None
    with pytest.raises(sync.KeyNotRevealedError, match="not known yet"):
        sync.replay(sync.load(fresh))


def test_a_jax_policy_and_an_onnx_policy_play_each_other(tmp_path):
    import jax.numpy as jnp

    from htjax.sync.live import JaxAgent

    env = htjax.make("prisoners_dilemma")  # the shipped ipd policy's rules (100 rounds)
    first_legal = JaxAgent(lambda params, obs, mask, key: jnp.argmax(mask), name="first-legal")
    onnx = PolicyAgent(load_policy("ipd", env), seed=3)

    async def main():
        host, guest, relay, url = await _connected(False, tmp_path)
        try:
            hosted = await host_game(host, env, "open", {0: first_legal})
            joined = await join_game(guest, hosted.handle.document_id, {1: onnx})
            return await asyncio.wait_for(
                asyncio.gather(hosted.run(GAME_TIMEOUT), joined.run(GAME_TIMEOUT)), GAME_TIMEOUT
            )
        finally:
            await guest.close()
            await host.close()

    r0, r1 = asyncio.run(main())
    assert r0.replay.length == 100 and r0.replay.outcome == r1.replay.outcome
    assert set(r0.replay.actions[:, 0].tolist()) == {0}  # the JAX agent always cooperates (action 0)
    claims = sync.live.read_live(r0.doc.automerge, 2).seat_claims()
    assert (claims[0].kind, claims[0].policy) == ("policy", "first-legal")
    assert claims[1].kind == "policy" and "ipd" in claims[1].policy


def test_an_engine_peer_deals_to_two_seat_peers_through_the_relay(tmp_path):
    """The web page's layout: a dealer holding no seat, two players, all through a relay."""
    env = ENVS["holdem"]()

    async def main():
        relay = RelayServer(tmp_path / "relay")
        url = await relay.start()
        repos = [Repo(), Repo(), Repo()]
        try:
            for repo in repos:
                await repo.connect(url)
            engine = await host_game(repos[0], env, "dealer", {}, name="engine")
            players = [
                await join_game(
                    repos[1 + s], engine.handle.document_id, {s: RandomAgent(10 + s)}, name=f"p{s}"
                )
                for s in (0, 1)
            ]
            games = [engine, *players]
            results = await asyncio.wait_for(
                asyncio.gather(*(g.run(GAME_TIMEOUT) for g in games)), GAME_TIMEOUT
            )
            assert await asyncio.gather(*(g.linger(5) for g in games)) == [True] * 3
            return results, games
        finally:
            for repo in repos:
                await repo.close()
            await relay.repo.close()

    results, games = asyncio.run(main())
    assert len({r.key for r in results}) == 1 and len({tuple(g.handle.doc.get_heads()) for g in games}) == 1
    info = sync.live.read_live(results[0].doc.automerge, 2)
    assert info.dealer.actor == games[0].actor and set(info.bindings().values()) == {
        games[1].actor,
        games[2].actor,
    }
    assert all(r.private_checked >= r.replay.length for r in results[1:])
    assert sync.replay(sync.EpisodeDoc.from_bytes(games[2].handle.doc.save())).outcome.finished


def test_open_mode_another_seat_writes_the_end_when_seat_0_does_not(tmp_path):
    env = ENVS["prisoners_dilemma"]()

    async def main():
        host, guest, relay, url = await _connected(False, tmp_path)
        try:
            hosted = await host_game(host, env, "open", {0: RandomAgent(0)})
            joined = await join_game(guest, hosted.handle.document_id, {1: RandomAgent(1)})
            hosted._finished = True  # the holder of seat 0 never writes the end (it left, say)
            return await asyncio.wait_for(asyncio.gather(hosted.run(60), joined.run(60)), 70)
        finally:
            await guest.close()
            await host.close()

    r0, r1 = asyncio.run(main())
    assert r0.doc.outcome() == r1.doc.outcome() and r1.doc.outcome().finished
    # without the grace rule the guest would wait for seat 0 until its time limit
    assert sync.replay(r1.doc).verified[-1] == r1.replay.length
