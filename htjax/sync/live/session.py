"""``LiveGame``: one peer's headless loop in a live game (tests, ``htjax play``, the web engine peer).

A peer holds a :class:`DocHandle` (``htjax.sync.repo``: ``.doc``, ``.change(fn)``,
``.on_change(cb)``, ``.broadcast(payload)``, ``.on_ephemeral(cb)``, ``.document_id``), plays
some seats (an agent each) and may be the dealer. On every change of the document or every
message it does what it can, in this order:

1. claim its seats (once; a seat held by another actor raises :class:`LiveGameError`);
2. open mode: reveal its shares once every seat is claimed; the holder of seat 0 writes the
   agreed ``episode.key``;
3. with the key (open mode: agreed; dealer mode: the dealer only) derive the state; the dealer
   sends each seat its private view (:mod:`htjax.sync.live.channel`) and writes the public
   views; seats to move ask their agent and append (:meth:`DocHandle.change`);
4. dealer mode, a seat: act on the latest private view the dealer sent it;
5. when the game is over, the finisher (the dealer; open mode: the holder of seat 0, or any
   seat :data:`FINISH_GRACE` seconds later) writes
   the key, the checkpoints, the outcome and (dealer) its share, in one change; every peer
   then replays and verifies the document, the deal, the public views and the private views
   it received (:class:`~htjax.sync.errors.DealingError` on any difference) and returns a
   :class:`LiveResult`.

After the result, :meth:`LiveGame.linger` waits (bounded) until every other peer that claimed
a seat has said it is done (an ephemeral ``{"type": "htjax.done", "v": 1, "actor": hex}``), so
a host does not leave before its guests have the final document.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import time
from typing import Any, Callable, Mapping

import numpy as np

from htjax.sync import schema
from htjax.sync.derive import Derivation
from htjax.sync.document import EpisodeDoc, utc_now
from htjax.sync.errors import DealingError, LiveGameError
from htjax.sync.incremental import IncrementalDeriver
from htjax.sync.live import channel
from htjax.sync.live.agents import Agent, describe
from htjax.sync.live.dealing import agreed_key, commitment, dealer_key, new_share
from htjax.sync.live.fields import LiveInfo, add_claim, add_reveal, read_live
from htjax.sync.live.finish import (
    DealerSecret,
    check_private,
    check_views,
    done_of,
    finish,
    state_at,
    to_move_of,
    write_views,
)
from htjax.sync.live.views import SeatView, legal_of, observations, private_message, view_of_message
from htjax.sync.replay import Replay, replay

__all__ = ["LiveGame", "LiveResult", "DONE_TYPE"]

DONE_TYPE = "htjax.done"
FINISH_GRACE = 3.0  # seconds an open-mode seat waits for the holder of seat 0 to write the end


@dataclasses.dataclass
class LiveResult:
    """A finished, verified live game.

    Attributes:
      doc: the final episode document (an ordinary one: ``htjax replay`` verifies it).
      replay: its verified replay (``replay.outcome``, ``replay.derivation.rejected``).
      key: the episode key (uint32 key data).
      private_checked: private messages this peer received and checked against the deal.
    """

    doc: EpisodeDoc
    replay: Replay
    key: tuple[int, int]
    private_checked: int


class LiveGame:
    """One peer of a live game. See the module docstring.

    Args:
      handle: the episode document's ``DocHandle``.
      agents: seat -> agent (:mod:`htjax.sync.live.agents`) for the seats this peer plays.
      dealer: the :class:`DealerSecret` when this peer deals (from :func:`new_live_document`).
      name: shown as the log entries' ``actor`` and in claims.
      on_view: called with each new :class:`SeatView` of this peer's seats (a UI).
      resend_every: seconds between the dealer's re-sends of the current private views (a peer
        that (re)connects late still gets its view: ephemeral messages are not stored).
      on_derived: called with each new :class:`~htjax.sync.derive.Derivation` this peer derives
        (a peer with the key: open mode, or the dealer), right after deriving (benchmarks, UIs).

    Deriving is incremental (:class:`~htjax.sync.incremental.IncrementalDeriver`): entries
    appended after the part of the log already derived are stepped one by one; any other
    change of the log derives it whole. The result is the full merge rule's either way.
    """

    def __init__(
        self,
        handle: Any,
        agents: Mapping[int, Agent] | None = None,
        *,
        dealer: DealerSecret | None = None,
        name: str = "peer",
        on_view: Callable[[SeatView], None] | None = None,
        resend_every: float = 0.5,
        on_derived: Callable[[Derivation], None] | None = None,
    ):
        self.handle = handle
        self.doc = EpisodeDoc(handle.doc)  # raises on another schema, version or a corrupt document
        if not self.doc.header.live:
            raise LiveGameError(f"document {handle.document_id} is an episode document but not a live game")
        self.env = self.doc.env()
        self.agents = dict(agents or {})
        for seat in self.agents:
            if not 0 <= seat < self.env.num_players:
                raise LiveGameError(f"{self.env.id} has seats 0..{self.env.num_players - 1}, not {seat}")
        self.secret = dealer
        self.name = name
        self.on_view = on_view
        self.resend_every = resend_every
        self.on_derived = on_derived
        self.deriver = IncrementalDeriver(self.env)
        self._derived: tuple[Derivation, Any] | None = None  # the last derivation and its views
        self.actor = handle.doc.get_actor().hex()
        self._ecdh = channel.new_private_key()
        self._shares = {seat: new_share() for seat in self.agents}
        self._claimed = self._revealed = self._key_written = self._finished = False
        self._acting: dict[tuple[int, int], asyncio.Task | None] = {}
        self._inbox: dict[int, dict] = {}  # seat -> latest private plaintext (dealer mode)
        self._received: dict[int, list[dict]] = {seat: [] for seat in self.agents}
        self._channel_keys: dict[int, bytes] = {}
        self._sent: tuple[int, float] = (-1, 0.0)  # dealer: (step, time) of the last send
        self._shown: dict[int, tuple] = {}
        self._views: dict[int, SeatView] = {}
        self._done_at = 0.0
        self._done_from: set[str] = set()
        self._wake = asyncio.Event()
        self.status = "starting"
        self.result: LiveResult | None = None

    # ------------------------------------------------------------------ loop
    async def run(self, timeout: float = 600.0) -> LiveResult:
        """Play until the game is over and verified; returns the :class:`LiveResult`.

        Raises:
          LiveGameError: a seat is taken, or no result within ``timeout`` seconds (names what
            the peer was waiting for).
          DealingError: a reveal, the key, a public view or a private view does not verify.
          ReplayMismatchError: the final document does not replay.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        unsubscribe = [
            self.handle.on_change(lambda _h: self._wake.set()),
            self.handle.on_ephemeral(self._on_message),
        ]
        try:
            while True:
                self._wake.clear()
                result = self._tick()
                if result is not None:
                    self.result = result
                    self._announce_done()
                    return result
                left = deadline - loop.time()
                if left <= 0:
                    raise LiveGameError(
                        f"live game {self.handle.document_id}: nothing finished within {timeout:g} s ({self.status})"
                    )
                try:
                    await asyncio.wait_for(self._wake.wait(), min(left, self.resend_every))
                except asyncio.TimeoutError:
                    pass
        finally:
            for task in self._acting.values():
                if task is not None and not task.done():
                    task.cancel()
            if self.result is None:
                for off in unsubscribe:
                    off()
            else:
                self._unsubscribe = unsubscribe

    async def linger(self, timeout: float = 5.0) -> bool:
        """After :meth:`run`: wait until every other seat-holding peer said it is done (True), or
        ``timeout`` seconds (False). Keeps re-announcing this peer's own end meanwhile."""
        others = {c.actor for c in read_live(self.handle.doc, self.env.num_players).seat_claims().values()}
        others.discard(self.actor)
        end = time.monotonic() + timeout
        try:
            while not others <= self._done_from and time.monotonic() < end:
                self._announce_done()
                await asyncio.sleep(0.05)
        finally:
            for off in getattr(self, "_unsubscribe", []):
                off()
        return others <= self._done_from

    # ------------------------------------------------------------------ messages
    def _on_message(self, sender: str, payload: Any) -> None:
        msg = channel.decoded(payload)
        if isinstance(msg, dict) and msg.get("type") == DONE_TYPE and isinstance(msg.get("actor"), str):
            self._done_from.add(msg["actor"])
            self._wake.set()
            return
        envelope = channel.parse(payload)
        if envelope is None or envelope["seat"] not in self.agents or self.secret is not None:
            return
        seat = envelope["seat"]
        try:
            key = self._seat_key(seat)
            body = channel.open_sealed(key, self.handle.document_id, envelope)
            view_of_message(body)
        except (DealingError, LiveGameError, KeyError, ValueError, TypeError):
            return  # not from the dealer, or not well formed: ignored (anyone can broadcast)
        if int(body.get("seat", -1)) != seat:
            return
        if body not in self._received[seat]:
            self._received[seat].append(body)
        latest = self._inbox.get(seat)
        if latest is None or int(body["step"]) >= int(latest["step"]):
            self._inbox[seat] = body
        self._wake.set()

    def _seat_key(self, seat: int) -> bytes:
        if seat not in self._channel_keys:
            info = self._info()
            if info.dealer is None:
                raise LiveGameError("no dealer in this game")
            self._channel_keys[seat] = channel.channel_key(
                self._ecdh, info.dealer.pubkey, self.handle.document_id, seat
            )
        return self._channel_keys[seat]

    def _announce_done(self) -> None:
        self.handle.broadcast({"type": DONE_TYPE, "v": 1, "actor": self.actor})

    # ------------------------------------------------------------------ one step of work
    def _info(self) -> LiveInfo:
        info = read_live(self.handle.doc, self.env.num_players)
        if info is None:
            raise LiveGameError(f"document {self.handle.document_id} is not a live game")
        return info

    def _tick(self) -> LiveResult | None:
        for (seat, step), task in list(self._acting.items()):
            if task is not None and task.done():
                task.result()  # an agent's or an append's error surfaces here
                self._acting[(seat, step)] = None
        self.doc = EpisodeDoc(self.handle.doc)
        info = self._info()
        self._claim(info)
        if not info.all_claimed:
            self.status = f"waiting for seats to be claimed ({len(info.seat_claims())}/{info.num_players})"
            return None
        key = None
        if info.mode == "open":
            if not self._revealed and self.agents:
                self._reveal()
            key = agreed_key(info)
            if key is None:
                self.status = f"waiting for reveals ({len(info.seat_reveals())}/{info.num_players})"
        elif self.secret is not None:
            key = dealer_key(info, self.secret.share)
        if key is not None:
            self._play(info, key)
        elif info.mode == "dealer" and self.secret is None:
            self._play_blind()
        if self.doc.outcome() is not None and self.doc.header.episode_key is not None:
            if info.mode == "dealer" and (info.dealer is None or info.dealer.share is None):
                return None
            return self._verify(info)
        return None

    def _claim(self, info: LiveInfo) -> None:
        bound = info.seat_claims()
        for seat in self.agents:
            holder = bound.get(seat)
            if holder is not None and holder.actor != self.actor:
                raise LiveGameError(f"seat {seat} is already held by {holder.name!r} (actor {holder.actor})")
        if self._claimed or not self.agents:
            return
        dealer_commit = None if info.dealer is None else info.dealer.commit

        def write(tx):
            for seat, agent in sorted(self.agents.items()):
                kind, policy = describe(agent)
                share = self._shares[seat]
                add_claim(
                    tx,
                    seat=seat,
                    actor=self.actor,
                    name=f"{self.name}/seat{seat}",
                    kind=kind if kind in schema.SEAT_KINDS else "peer",
                    policy=policy,
                    pubkey=channel.public_bytes(self._ecdh),
                    commit=commitment(share, self.actor) if info.mode == "open" else dealer_commit,
                    share=share if info.mode == "dealer" else None,
                )

        self._claimed = True
        self.handle.change(write)

    def _reveal(self) -> None:
        bound = self._info().seat_claims()
        if any(bound[s].actor != self.actor for s in self.agents):
            return
        self._revealed = True
        self.handle.change(
            lambda tx: [
                add_reveal(tx, seat=s, actor=self.actor, share=self._shares[s]) for s in sorted(self.agents)
            ]
        )

    def _play(self, info: LiveInfo, key: tuple[int, int]) -> None:
        env = self.env
        if (
            info.mode == "open"
            and 0 in self.agents
            and self.doc.header.episode_key is None
            and not self._key_written
        ):
            self._key_written = True
            self.handle.change(lambda tx: _put_key(tx, key))
        header = dataclasses.replace(self.doc.header, episode_key=tuple(key))
        d = self.deriver.derive(header, self.doc.entries(), info.bindings())
        if self._derived is None or self._derived[0] is not d:
            if self.on_derived is not None:
                self.on_derived(d)
            self._derived = (d, self._seat_views(d))
        t = d.length
        state, obs, views = self._derived[1]
        done = done_of(state)
        if self.secret is not None:
            self._deal(info, d, state, obs)
        to_move = to_move_of(env, state)
        for view in views:
            self._show(view)
            if view.my_turn:
                self._act(view.seat, view)
        self.status = f"step {t}: waiting for seat(s) {[s for s in to_move if s not in d.pending]}"
        if done:
            self.status = "game over: waiting for the final document"
            # open mode: the holder of seat 0 writes the end; any other seat after a grace period
            # (the holder of seat 0 may have left); the same values, so duplicates are harmless
            self._done_at = self._done_at or time.monotonic()
            late = (
                info.mode == "open" and bool(self.agents) and time.monotonic() - self._done_at > FINISH_GRACE
            )
            finisher = self.secret is not None or (info.mode == "open" and 0 in self.agents) or late
            if finisher and not self._finished and self.doc.outcome() is None:
                self._finished = True
                share = self.secret.share if self.secret is not None else None
                self.handle.change(lambda tx: finish(tx, env, self.doc, d, key, share))

    def _seat_views(self, d: Derivation) -> tuple[Any, np.ndarray, list[SeatView]]:
        """The last state of ``d``, every seat's observation and this peer's seats' views."""
        env = self.env
        state = state_at(d.states, d.length)
        obs = observations(env, state)
        to_move, done, public = to_move_of(env, state), done_of(state), env.public_view(state)
        views = []
        for seat in self.agents:
            view = SeatView(
                seat,
                d.length,
                to_move,
                done,
                obs[seat],
                legal_of(env, state, seat, to_move),
                str(env.render_text(state, seat)),
                public=public,
            )
            if env.simultaneous and seat in d.pending:
                view.legal = np.zeros_like(view.legal)
                view.to_move = tuple(s for s in to_move if s not in d.pending)
            views.append(view)
        return state, obs, views

    def _deal(self, info: LiveInfo, d, state, obs) -> None:
        t = d.length
        views = self.doc.views()
        have = 0 if views is None else len(views)
        if have < t + 1:
            self.handle.change(lambda tx: write_views(tx, self.env, d.states, t, have))
        now = time.monotonic()
        if self._sent[0] == t and now - self._sent[1] < self.resend_every:
            return
        self._sent = (t, now)
        claims = info.seat_claims()
        to_move, done = to_move_of(self.env, state), done_of(state)
        for seat in range(self.env.num_players):
            claim = claims[seat]
            if claim.pubkey is None:
                continue
            if seat not in self._channel_keys:
                self._channel_keys[seat] = channel.channel_key(
                    self.secret.private_key, claim.pubkey, self.handle.document_id, seat
                )
            body = private_message(self.env, state, seat, t, to_move, done, obs)
            self.handle.broadcast(channel.seal(self._channel_keys[seat], self.handle.document_id, seat, body))

    def _play_blind(self) -> None:
        """Dealer mode, not the dealer: act on the dealer's latest private views."""
        views = self.doc.views() or []
        waiting = []
        for seat, body in sorted(self._inbox.items()):
            view = view_of_message(body)
            view.public = views[view.step] if view.step < len(views) else None
            self._show(view)
            if view.my_turn:
                self._act(seat, view)
            waiting.append(f"seat {seat}: step {view.step}, to move {list(view.to_move)}")
        self.status = "dealer mode: " + ("; ".join(waiting) or "waiting for the dealer's first private view")

    def view(self, seat: int) -> SeatView | None:
        """The latest view of one of this peer's seats (None before the first one)."""
        return self._views.get(seat)

    def _show(self, view: SeatView) -> None:
        self._views[view.seat] = view
        sig = (view.step, view.to_move, view.done)
        if self.on_view is not None and self._shown.get(view.seat) != sig:
            self._shown[view.seat] = sig
            self.on_view(view)

    def _act(self, seat: int, view: SeatView) -> None:
        if (seat, view.step) in self._acting:
            return

        async def decide():
            action = self.agents[seat](view)
            if inspect.isawaitable(action):
                action = await action
            action = int(action)
            if not view.legal[action]:
                raise LiveGameError(f"seat {seat}'s agent chose illegal action {action} at step {view.step}")
            entry = (view.step, seat, action, f"{self.name}/seat{seat}", utc_now())

            def write(tx):
                log = schema.list_id(tx, "log")
                schema.write_entries(tx, log, tx.length(log), [entry])

            self.handle.change(write)
            self._wake.set()

        self._acting[(seat, view.step)] = asyncio.ensure_future(decide())

    # ------------------------------------------------------------------ the end
    def _verify(self, info: LiveInfo) -> LiveResult:
        self.status = "verifying"
        rep = replay(self.doc)  # the merge rule with the seat bindings, every digest, the outcome, the deal
        check_views(self.env, self.doc, rep.states, rep.length)
        checked = 0
        if info.mode == "dealer" and self.secret is None:
            checked = check_private(self.env, rep.states, rep.length, self._received)
        return LiveResult(self.doc, rep, tuple(self.doc.header.episode_key), checked)  # type: ignore[arg-type]


def _put_key(tx, key: tuple[int, int]) -> None:
    from automerge.core import ROOT, ObjType
    from automerge.core import ScalarType as S

    episode = tx.get(ROOT, "episode")[1]
    lst = tx.put_object(episode, "key", ObjType.List)
    for i, k in enumerate(key):
        tx.insert(lst, i, S.Int, int(k))
