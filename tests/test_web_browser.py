"""The page of ``htjax serve`` in Debian's Chromium, driven by Playwright (never a downloaded browser).

One server (a subprocess) and one browser serve the module. A person's moves are clicks; the
AI's moves come from the ONNX policy run by onnxruntime-web in the page, checked against
onnxruntime in Python on the same observation, which must be the one the engine derives for
the AI's seat from the final document. Screenshots and the measured timings go to the folder
printed at the start (``$HTJAX_WEB_ARTIFACTS``, default ``<tmp>/htjax-web-artifacts``).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import statistics
import tempfile
import time

import jax
import numpy as np
import playwright.sync_api as playwright_api
import pytest
from web_helpers import CHROMIUM, CHROMIUM_ARGS, ServeProcess, http

import htjax.policies
import htjax.sync as sync
from htjax.sync.live.views import observations

ARTIFACTS = pathlib.Path(
    os.environ.get("HTJAX_WEB_ARTIFACTS") or pathlib.Path(tempfile.gettempdir()) / "htjax-web-artifacts"
)
STEP_MS = 30_000  # the longest any one wait may take (a move, a view, a page)
METRICS: dict[str, list[float]] = {"inference_ms": [], "action_to_render_ms": [], "first_playable_ms": []}


# one worker runs the whole module (one server, one browser; `--dist loadgroup` in addopts)
pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture(scope="module")
def artifacts():
    """The artifacts folder; when the module ends, the timings its tests measured go to
    metrics.json there (and to stdout): in-browser inference per AI move, page load to the first
    playable state, click to the next state rendered."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    print(f"\nweb test artifacts (screenshots, metrics.json): {ARTIFACTS}")
    yield ARTIFACTS
    summary = {
        name: {"n": len(v), "median": statistics.median(v), "max": max(v)} for name, v in METRICS.items() if v
    }
    (ARTIFACTS / "metrics.json").write_text(json.dumps({"summary": summary, "samples": METRICS}, indent=2))
    print(json.dumps(summary, indent=2))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does)"
        )
    srv = ServeProcess(tmp_path_factory.mktemp("serve") / "games")
    try:
        srv.wait_warm(("blackjack", "holdem", "prisoners_dilemma"), timeout=900)
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser(server):
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _open(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(STEP_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function("window.htjax && window.htjax.ready")
    page.errors = errors
    return page


def _state(page) -> str:
    return page.eval_on_selector("#play", "e => e.dataset.state")


def _diagnosis(page) -> str:
    """What the page and the server say about the current game (for a failure message)."""
    try:
        info = page.evaluate("window.htjax.game.info")
        shown = page.evaluate(
            "[document.querySelector('#status').textContent, document.querySelector('#play').dataset.state, "
            "document.querySelector('#play-error').textContent, document.querySelector('#moves').textContent]"
        )
        status, state = http(page.url.split("#")[0] + f"api/games/{info['game']}")
        return f"page: {shown}; server: {state}"
    except Exception as err:  # noqa: BLE001 - a diagnosis must not hide the failure
        return f"(no diagnosis: {err})"


def _play_out(page, choose=lambda buttons: buttons[0], *, max_moves: int = 200) -> int:
    """Click until the game is over (``choose`` picks among the enabled buttons); the clicks."""
    try:
        return _clicks(page, choose, max_moves)
    except playwright_api.TimeoutError as err:
        raise AssertionError(f"{err}\n{_diagnosis(page)}") from err


def _clicks(page, choose, max_moves: int) -> int:
    clicks = 0
    for _ in range(max_moves):
        page.wait_for_function(
            "['your-move', 'over'].includes(document.querySelector('#play').dataset.state)"
        )
        if _state(page) == "over":
            return clicks
        step = page.eval_on_selector("#play", "e => e.dataset.step")
        buttons = page.query_selector_all("#actions button:not([disabled])")
        choose(buttons).click()
        clicks += 1
        page.wait_for_function(
            f"document.querySelector('#play').dataset.step !== '{step}' "
            "|| document.querySelector('#play').dataset.state !== 'your-move'"
        )
    raise AssertionError(f"the game did not end within {max_moves} moves")


def _new_game(page, env: str, opponent: str = "ai") -> dict:
    before = page.evaluate("window.htjax.game.info && window.htjax.game.info.game")
    page.click("#tab-play")
    page.select_option("#game-env", env)
    page.select_option("#game-opponent", opponent)
    page.click("#game-start")
    try:
        page.wait_for_function(
            "([before]) => window.htjax.game.info && window.htjax.game.info.game !== before "
            "&& window.htjax.game.client && window.htjax.game.client.actor",
            arg=[before],
        )
    except playwright_api.TimeoutError as err:
        error = page.inner_text("#play-error")
        raise AssertionError(f"no new {env} game: page error {error!r}; {_diagnosis(page)}") from err
    return page.evaluate("window.htjax.game.info")


def _finished(page, server) -> tuple[dict, sync.EpisodeDoc]:
    page.wait_for_selector("#play[data-verified=yes]")
    info = page.evaluate("window.htjax.game.info")
    status, state = http(f"{server.url}api/games/{info['game']}")
    assert status == 200 and state["saved"], state
    return state, sync.load(server_file(server, state["saved"]))


def server_file(server, name: str) -> pathlib.Path:
    return server.log.parent / "games" / name


def _check_ai_moves(page, doc: sync.EpisodeDoc, policy_name: str) -> int:
    """Every AI move of the page: probabilities equal onnxruntime's in Python on the same
    observation, that observation is the engine's for the AI seat at that step, and the action
    (the most probable legal one) is the one in the document's log."""
    game = page.evaluate("window.htjax.game.info.game")
    moves = [m for m in page.evaluate("window.htjax.metrics.aiMoves") if m["game"] == game]
    replayed = sync.replay(doc)
    env, states = replayed.env, replayed.states
    policy = htjax.policies.load(policy_name)
    entries = {(e.step, e.seat): e.action for e in doc.entries()}
    for m in moves:
        obs = np.asarray(m["observation"], np.float32)
        mask = np.asarray(m["mask"], bool)
        state = jax.tree_util.tree_map(lambda x: x[m["step"]], states)
        # the dealer's observation of that seat (htjax.sync.live computes them jitted, all seats at once)
        np.testing.assert_array_equal(obs, observations(env, state)[m["seat"]].astype(np.float32))
        expected = policy.probabilities(obs[None], mask[None])[0]
        np.testing.assert_allclose(np.asarray(m["probabilities"], np.float32), expected, atol=1e-5, rtol=0)
        assert m["action"] == int(np.argmax(expected)) == entries[(m["step"], m["seat"])]
    return len(moves)


def _collect_timings(page) -> None:
    """Keep this page's timings for metrics.json and bound them (generously: the goals are 5 ms
    per inference and a response well under a second; a loaded CI machine is slower)."""
    inference = page.evaluate("window.htjax.metrics.inferenceMs")
    to_render = page.evaluate("window.htjax.metrics.actionToRenderMs")
    METRICS["inference_ms"].extend(inference)
    METRICS["action_to_render_ms"].extend(to_render)
    if inference:
        assert statistics.median(inference) < 50
    if to_render:
        assert statistics.median(to_render) < 5_000


# ------------------------------------------------------------------------------------ tests
def test_page_loads_to_a_playable_blackjack_hand_and_plays_it_by_clicking(server, browser, artifacts):
    for attempt in range(6):  # a natural ends a hand before anyone moves: a fresh page, a new deal
        page = _open(browser, server.url)
        assert page.inner_text("#conn") in ("offline", "connecting", "connected")
        info = _new_game(page, "blackjack")
        page.wait_for_selector("#play[data-state=your-move], #play[data-state=over]")
        if _state(page) == "your-move":
            break
        page.context.close()
    # navigation start -> the first state with the person's moves enabled (a new game clicked at once)
    first_playable = page.evaluate("window.htjax.metrics.firstPlayableMs")
    METRICS["first_playable_ms"].append(first_playable)
    assert first_playable < 15_000  # goal 2 s on a quiet machine (metrics.json has the numbers)
    page.screenshot(path=str(artifacts / "blackjack-playing.png"))
    clicks = _play_out(page, lambda b: b[0])  # stand
    state, doc = _finished(page, server)
    assert clicks >= 1 and doc.outcome().finished
    returns = json.loads(page.eval_on_selector("#play", "e => e.dataset.returns"))
    assert returns == list(doc.outcome().returns)
    entries = doc.entries()
    assert any(e.seat == 0 for e in entries)  # the person's click is in the log
    ai_moves = _check_ai_moves(page, doc, info["policy"])
    assert ai_moves == sum(e.seat == 1 for e in entries)
    page.screenshot(path=str(artifacts / "blackjack-over.png"))
    _collect_timings(page)
    assert not page.errors
    page.context.close()


def test_a_holdem_hand_against_the_in_browser_policy(server, browser, artifacts):
    page = _open(browser, server.url)
    for attempt in range(6):  # the AI may fold before the person's first move: deal again
        info = _new_game(page, "holdem")
        clicks = _play_out(page, lambda b: b[min(1, len(b) - 1)])  # check/call
        state, doc = _finished(page, server)
        ai_moves = _check_ai_moves(page, doc, info["policy"])
        if clicks and ai_moves:
            break
    assert clicks and ai_moves, "six hands without both a click and an AI move"
    assert page.is_visible("#ai-probs tr.chosen")
    page.screenshot(path=str(artifacts / "holdem-over.png"))
    _collect_timings(page)
    assert not page.errors
    page.context.close()


def test_two_tabs_play_each_other(server, browser, artifacts):
    host = _open(browser, server.url)
    info = _new_game(host, "holdem", "human")
    link = host.get_attribute("#share-link", "href")
    assert link.endswith(f"#game={info['game']}") and host.is_visible("#share")
    guest = _open(browser, link)
    guest.wait_for_function("window.htjax.game.client && window.htjax.game.client.seats.size === 1")
    clicks = 0
    for _ in range(200):  # both call or check every street, so both seats act
        host_state, guest_state = _state(host), _state(guest)
        if host_state == "over" and guest_state == "over":
            break
        for page, st in ((host, host_state), (guest, guest_state)):
            if st == "your-move":
                buttons = page.query_selector_all("#actions button:not([disabled])")
                if buttons:
                    buttons[min(1, len(buttons) - 1)].click()
                    clicks += 1
        time.sleep(0.3)
    host.wait_for_selector("#play[data-state=over]")
    guest.wait_for_selector("#play[data-state=over]")
    _, doc = _finished(host, server)
    assert {e.seat for e in doc.entries()} == {0, 1} and clicks >= 2
    assert host.eval_on_selector("#play", "e => e.dataset.returns") == guest.eval_on_selector(
        "#play", "e => e.dataset.returns"
    )
    claims = [c["name"] for c in host.evaluate("window.htjax.game.client.handle.doc().live.claims")]
    assert len(claims) == 2
    host.screenshot(path=str(artifacts / "two-tabs-host.png"))
    guest.screenshot(path=str(artifacts / "two-tabs-guest.png"))
    host.context.close()
    guest.context.close()


def test_a_lost_connection_shows_reconnecting_and_the_game_resumes(server, browser, artifacts):
    context = browser.new_context()
    sockets = []

    def relay(ws):
        ws.connect_to_server()
        sockets.append(ws)

    page = context.new_page()
    page.set_default_timeout(STEP_MS)
    page.route_web_socket("**/sync", relay)
    page.goto(server.url)
    page.wait_for_function("window.htjax && window.htjax.ready")
    for attempt in range(6):  # a natural ends a hand before anyone moves: deal again
        _new_game(page, "blackjack")
        page.wait_for_selector("#play[data-state=your-move], #play[data-state=over]")
        if _state(page) == "your-move":
            break
    assert _state(page) == "your-move"
    page.wait_for_selector("#conn[data-state=connected]")
    sockets[-1].close()  # the network drops the page's connection
    page.wait_for_selector("#conn[data-state=reconnecting]")
    page.screenshot(path=str(artifacts / "reconnecting.png"))
    page.wait_for_selector("#conn[data-state=connected]")
    assert len(sockets) >= 2  # a new connection
    _play_out(page)
    _, doc = _finished(page, server)
    assert doc.outcome().finished
    context.close()


def test_the_viewer_steps_through_a_recorded_game_and_refuses_a_malformed_file(server, browser, artifacts):
    status, listing = http(server.url + "api/episodes")
    names = [e["name"] for e in listing["episodes"] if e["name"].startswith("holdem")]
    assert names, "no recorded hold'em game (the hold'em test saves one)"
    doc = sync.load(server_file(server, names[0]))
    page = _open(browser, server.url)
    page.click("#tab-viewer")
    page.click("#viewer-refresh")
    page.click(f"#viewer-list a[data-name='{names[0]}']")
    page.wait_for_selector("#viewer[data-state=ready]")
    assert page.inner_text("#viewer-verify").startswith("verified")
    length = doc.outcome().length
    for step in range(1, length + 1):
        page.click("#viewer-next")
        page.wait_for_selector(f"#viewer[data-step='{step}']")
        assert "played" in page.inner_text("#viewer-acted")
    page.click("#viewer-next")  # past the end stays at the end
    assert page.get_attribute("#viewer", "data-step") == str(length)
    outcome = page.inner_text("#viewer-outcome")
    returns = doc.outcome().returns
    assert f"finished after {length} steps" in outcome
    for seat, r in enumerate(returns):
        assert f"seat {seat}: {'+' if r > 0 else ''}{r:g}" in outcome
    page.screenshot(path=str(artifacts / "viewer.png"), full_page=True)

    page.set_input_files(
        "#viewer-file",
        {
            "name": "broken.automerge",
            "mimeType": "application/octet-stream",
            "buffer": b"\x85oA\x83" + os.urandom(300),
        },
    )
    page.wait_for_selector("#viewer[data-state=error]")
    assert "Cannot open broken.automerge" in page.inner_text("#viewer-error")
    assert page.is_visible("#viewer-drop") and page.is_visible("#viewer-error")
    page.screenshot(path=str(artifacts / "viewer-error.png"))

    page.set_input_files("#viewer-file", str(server_file(server, names[0])))
    page.wait_for_selector("#viewer[data-state=ready]")
    assert not page.is_visible("#viewer-error")

    # drag and drop: a File in a DataTransfer dropped on the drop zone
    dropped = page.evaluate_handle(
        "(bytes) => { const dt = new DataTransfer(); "
        "dt.items.add(new File([new Uint8Array(bytes)], 'dropped.automerge')); return dt; }",
        list(server_file(server, names[0]).read_bytes()),
    )
    page.dispatch_event("#viewer-drop", "drop", {"dataTransfer": dropped})
    page.wait_for_function(
        "document.querySelector('#viewer-title').textContent.startsWith('dropped.automerge:')"
    )
    page.wait_for_selector("#viewer[data-state=ready]")
    assert page.inner_text("#viewer-verify").startswith("verified")
    assert not page.errors
    page.context.close()
