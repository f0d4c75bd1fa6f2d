"""``htjax serve`` without a browser: the JSON API, the viewer's replay and errors, the static
assets, and a whole live game played by a Python peer through the page's ``/sync`` route."""

from __future__ import annotations

import asyncio
import time
import urllib.parse

import automerge.core as am
import jax
import numpy as np
import pytest
from web_helpers import ThreadServer, http

import htjax
import htjax.policies
import htjax.sync as sync
from htjax.web.app import STATIC, create_app
from htjax.web.games import GameHost


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("episodes")
    rec = sync.Recorder.start(htjax.make("holdem"), jax.random.PRNGKey(3))
    while not rec.done:
        mask = np.asarray(rec.state.legal_action_mask)
        rec.append(1 if mask[1] else int(np.argmax(mask)))
    sync.save(rec.doc, folder / "holdem-3.automerge")
    return folder, rec


@pytest.fixture(scope="module")
def server(recorded):
    folder, _ = recorded
    srv = ThreadServer(create_app(episodes=folder, games=GameHost(folder, warm_up=False)))
    yield srv
    srv.stop()


def test_page_static_assets_and_policies_are_served(server):
    status, page = http(server.url)
    assert status == 200 and b'src="/static/app.js"' in page
    for name in (
        "app.js",
        "automerge.wasm",
        "ort/ort-wasm-simd-threaded.wasm",
        "ort/ort-wasm-simd-threaded.mjs",
    ):
        status, body = http(server.url + "static/" + name)
        assert status == 200 and body == (STATIC / name).read_bytes(), name
    for name in htjax.policies.names():
        status, body = http(f"{server.url}api/policies/{name}.onnx")
        assert status == 200 and body == htjax.policies.path(name).read_bytes()
    status, body = http(server.url + "api/policies/nope.onnx")
    assert (
        status == 404 and "no shipped policy file 'nope.onnx'" in body["error"] and "holdem" in body["error"]
    )
    status, config = http(server.url + "api/config")
    assert status == 200 and config["live"] and config["relay"] == "/sync"
    assert {g["env"] for g in config["games"]} == {"blackjack", "holdem", "prisoners_dilemma"}


def test_viewer_replays_verifies_and_renders_a_recorded_episode(server, recorded):
    _, rec = recorded
    status, listing = http(server.url + "api/episodes")
    assert status == 200 and [e["name"] for e in listing["episodes"]] == ["holdem-3.automerge"]
    status, ep = http(server.url + "api/episodes/holdem-3.automerge")
    assert status == 200, ep
    assert ep["verification"]["status"] == "verified" and ep["env"] == "holdem"
    assert ep["length"] == rec.step and len(ep["frames"]) == rec.step + 1
    assert all(f["svg"].lstrip().startswith("<svg") for f in ep["frames"])
    assert ep["outcome"]["returns"] == list(rec.doc.outcome().returns)
    entries = rec.doc.entries()
    for t, frame in enumerate(ep["frames"][1:], start=1):
        (acted,) = frame["acted"]
        assert (acted["seat"], acted["action"]) == (entries[t - 1].seat, entries[t - 1].action)
        assert acted["label"] == ep["action_labels"][acted["action"]]


def test_viewer_rejects_bad_files_with_messages(server, recorded):
    folder, rec = recorded
    url = server.url + "api/episodes/inspect?name=bad.automerge"
    status, body = http(url, b"\x00garbage" * 50)
    assert status == 400 and "bad.automerge: not a readable htjax episode" in body["error"]
    assert "Invalid magic bytes" in body["error"]
    status, body = http(url, b"")
    assert status == 400 and "empty" in body["error"]
    other = am.Document()
    with other.transaction() as tx:
        tx.put(am.ROOT, "hello", am.ScalarType.Str, "world")
    status, body = http(url, other.save())
    assert status == 400 and "not a readable htjax episode" in body["error"] and "schema" in body["error"]
    for name in ("../holdem-3.automerge", ".hidden.automerge", "missing.automerge", "x.txt"):
        status, body = http(server.url + "api/episodes/" + urllib.parse.quote(name, safe=""))
        assert status in (400, 404) and body["error"], name


def test_viewer_shows_a_tampered_episode_as_not_verified(server, recorded):
    _, rec = recorded
    doc = sync.EpisodeDoc.from_bytes(rec.doc.to_bytes())
    with doc.automerge.transaction() as tx:
        outcome = tx.get(am.ROOT, "outcome")[1]
        returns = tx.get(outcome, "returns")[1]
        tx.put(returns, 0, am.ScalarType.F64, 99.0)
    status, body = http(server.url + "api/episodes/inspect?name=t.automerge", doc.to_bytes())
    assert status == 200 and body["verification"]["status"] == "mismatch"
    assert "returns" in body["verification"]["message"] and len(body["frames"]) == rec.step + 1


def test_new_game_rejects_unknown_games_and_opponents(server):
    status, body = http(server.url + "api/games", {"env": "chess"})
    assert status == 400 and "no game 'chess'" in body["error"] and "holdem" in body["error"]
    status, body = http(server.url + "api/games", {"env": "holdem", "opponent": "robot"})
    assert status == 400 and "'robot'" in body["error"]
    status, body = http(server.url + "api/games", b"{not json")
    assert status == 400 and "must be JSON" in body["error"]
    status, body = http(server.url + "api/games/nope")
    assert status == 404 and "no live game 'nope'" in body["error"]


def test_a_python_peer_plays_a_live_game_through_the_sync_route(server):
    from htjax.sync.live import LiveGame, RandomAgent
    from htjax.sync.repo import Repo

    status, info = http(server.url + "api/games", {"env": "blackjack", "opponent": "ai"})
    assert status == 200 and info["document"].startswith("automerge:") and info["num_players"] == 2
    assert [s["seat"] for s in info["host_seats"]] == [0, 1]

    async def play():
        repo = Repo(None)
        try:
            await repo.connect(server.url.replace("http", "ws") + "sync")
            handle = await repo.find(info["document"], timeout=20)
            game = LiveGame(handle, {0: RandomAgent(0), 1: RandomAgent(1)}, name="python-tab")
            result = await game.run(timeout=240)
            await game.linger(timeout=10)
            return result
        finally:
            await repo.close()

    result = asyncio.run(asyncio.wait_for(play(), 300))
    assert result.replay.outcome.finished and result.private_checked > 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, state = http(f"{server.url}api/games/{info['game']}")
        if state["saved"]:
            break
        time.sleep(0.2)
    assert state["verification"].startswith("verified by the server") and state["error"] is None
    status, ep = http(server.url + "api/episodes/" + state["saved"])
    assert ep["verification"]["status"] == "verified"
    assert ep["outcome"]["returns"] == list(result.replay.outcome.returns)


def test_an_abandoned_game_is_dropped(server, monkeypatch):
    import htjax.web.games as games

    monkeypatch.setattr(games, "IDLE_TIMEOUT", 1.0)
    status, info = http(server.url + "api/games", {"env": "holdem", "opponent": "human"})
    assert status == 200 and info["guest_seats"] == [1]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, state = http(f"{server.url}api/games/{info['game']}")
        if state["error"]:
            break
        time.sleep(0.25)
    assert state["error"] == "abandoned: nobody moved for 1 s" and state["saved"] is None
