"""``htjax mcp`` over stdio, driven by the official SDK's own client (``mcp.client.stdio``).

One server process plays a whole blackjack game and a whole IPD match through the tools,
checks the error messages of bad calls, then saves and replays the episodes. The server
compiles through the test suite's persistent compilation cache; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import sys
import xml.etree.ElementTree as ET

import pytest

mcp = pytest.importorskip("mcp")
from mcp.client.session import ClientSession  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
TIMEOUT_S = 420  # the whole session, compiles included, on a loaded 2-core machine


def _server(episodes: pathlib.Path) -> StdioServerParameters:
    from conftest import _CACHE

    env = {
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "JAX_COMPILATION_CACHE_DIR": str(_CACHE),
        "JAX_PLATFORMS": "cpu",
        "XDG_CACHE_HOME": str(episodes.parent / "cache"),
    }
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "htjax", "mcp", "--episodes", str(episodes)],
        env=env,
        cwd=str(ROOT),
    )


async def _call(session: ClientSession, tool: str, **arguments):
    result = await session.call_tool(tool, arguments)
    text = "".join(getattr(c, "text", "") for c in result.content)
    if result.is_error:
        return None, text
    data = result.structured_content
    if data is None:
        data = json.loads(text)
    return data, None


async def _play_blackjack(session: ClientSession) -> dict:
    state, err = await _call(session, "start_game", env="blackjack", seed=7)
    assert err is None, err
    game = state["game_id"]
    assert state["your_turn"] and state["step"] == 0
    labels = [a["label"] for a in state["legal_actions"]]
    assert labels == ["bet_1", "bet_2", "bet_5", "bet_10", "bet_25"]
    # an illegal action (no cards yet, so no standing) is refused, the game goes on
    _, err = await _call(session, "act", game_id=game, action="stand")
    assert err is not None and "not legal now" in err and "bet_5" in err
    _, err = await _call(session, "act", game_id=game, action=99)
    assert err is not None and "no action number 99" in err
    moves = 0
    while not state["over"]:
        legal, err = await _call(session, "legal_actions", game_id=game)
        assert err is None and legal["your_turn"]
        names = [a["label"] for a in legal["actions"]]
        choice = "bet_5" if "bet_5" in names else ("no_insurance" if "no_insurance" in names else "hit")
        if "stand" in names and state.get("text", "").count("bust") == 0 and moves >= 2:
            choice = "stand"
        state, err = await _call(session, "act", game_id=game, action=choice)
        assert err is None, err
        assert state["your_action"]["label"] == choice
        moves += 1
        assert moves < 30
    assert state["returns"] is not None and state["your_return"] == state["returns"][0]
    svg, err = await _call(session, "get_state", game_id=game, format="svg")
    assert err is None and "text" not in svg
    root = ET.fromstring(svg["svg"])
    assert root.tag.endswith("svg")
    _, err = await _call(session, "act", game_id=game, action="hit")
    assert err is not None and "is over" in err
    return state


async def _play_ipd(session: ClientSession) -> list[tuple[str, str]]:
    state, err = await _call(
        session, "start_game", env="prisoners_dilemma", opponent="TitForTat", config={"rounds": 4}, seed=1
    )
    assert err is None, err
    game = state["game_id"]
    mine = ["defect", "cooperate", "defect", "defect"]
    rounds = []
    for move in mine:
        state, err = await _call(session, "act", game_id=game, action=move)
        assert err is None, err
        (theirs,) = state["opponent_moves"]
        rounds.append((move, theirs["label"]))
    assert state["over"]
    # tit for tat: cooperate first, then copy my previous move
    assert [t for _, t in rounds] == ["cooperate"] + mine[:-1]
    payoff = {
        ("cooperate", "cooperate"): 3,
        ("cooperate", "defect"): 0,
        ("defect", "cooperate"): 5,
        ("defect", "defect"): 1,
    }
    assert state["returns"][0] == sum(payoff[r] for r in rounds)
    return rounds


async def _session(episodes: pathlib.Path) -> dict:
    async with stdio_client(_server(episodes), errlog=sys.stderr) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = {t.name for t in (await session.list_tools()).tools}
            assert tools == {
                "list_games",
                "start_game",
                "get_state",
                "legal_actions",
                "act",
                "save_episode",
                "replay_episode",
            }
            listing, err = await _call(session, "list_games")
            assert err is None
            assert {e["id"] for e in listing["envs"]} >= {"blackjack", "holdem", "prisoners_dilemma"}
            ipd = next(e for e in listing["envs"] if e["id"] == "prisoners_dilemma")
            assert "TitForTat" in ipd["opponents"] and "ipd" in listing["shipped_policies"]
            # bad calls: clear tool errors, the server stays up
            _, err = await _call(session, "start_game", env="chess")
            assert err is not None and "unknown env id 'chess'" in err and "blackjack" in err
            _, err = await _call(session, "start_game", env="prisoners_dilemma", opponent="Nobody")
            assert err is not None and "unknown opponent 'Nobody'" in err and "TitForTat" in err
            _, err = await _call(session, "start_game", env="prisoners_dilemma", opponent="holdem")
            assert err is not None and "made for env id 'holdem'" in err
            _, err = await _call(session, "start_game", env="holdem", config={"num_players": 9})
            assert err is not None and "num_players" in err and "[2, 6]" in err
            _, err = await _call(session, "get_state", game_id="no-such-game")
            assert err is not None and "unknown game id 'no-such-game'" in err
            _, err = await _call(session, "act", game_id="no-such-game", action=0)
            assert err is not None and "unknown game id" in err
            blackjack = await _play_blackjack(session)
            rounds = await _play_ipd(session)
            saved, err = await _call(session, "save_episode", game_id=blackjack["game_id"], name="bj-game")
            assert err is None, err
            _, err = await _call(session, "save_episode", game_id=blackjack["game_id"], name="../escape")
            assert err is not None and "plain file name" in err
            replayed, err = await _call(session, "replay_episode", file="bj-game")
            assert err is None, err
            again, err = await _call(session, "replay_episode", game_id="prisoners_dilemma-2")
            assert err is None, err
            _, err = await _call(session, "replay_episode", file="missing-episode")
            assert err is not None and "no episode file 'missing-episode'" in err
            return {
                "blackjack": blackjack,
                "saved": saved,
                "replayed": replayed,
                "ipd": again,
                "rounds": rounds,
            }


def test_mcp_server__plays_blackjack_and_the_ipd_over_stdio_and_replays_them(tmp_path):
    episodes = tmp_path / "episodes"
    out = asyncio.run(asyncio.wait_for(_session(episodes), TIMEOUT_S))
    saved, replayed = out["saved"], out["replayed"]
    path = pathlib.Path(saved["path"])
    assert path == (episodes / "bj-game.automerge").resolve() and path.is_file()
    assert replayed["verified"] and replayed["finished"]
    assert replayed["steps"] == saved["steps"] == len(replayed["moves"])
    assert replayed["returns"] == out["blackjack"]["returns"]
    assert {m["actor"] for m in replayed["moves"]} == {"mcp-client"}
    # the file is an ordinary episode document: the library replays it too
    import htjax.sync as sync

    doc = sync.load(path)
    assert doc.header.env_id == "blackjack" and doc.header.seats[0].actor == "mcp-client"
    assert list(sync.replay(doc).outcome.returns) == out["blackjack"]["returns"]
    ipd = out["ipd"]
    assert ipd["finished"] and ipd["steps"] == 4
    assert [m["action"] for m in ipd["moves"] if m["seat"] == 1] == [t for _, t in out["rounds"]]
    assert {m["actor"] for m in ipd["moves"]} == {"mcp-client", "TitForTat/seat1"}
