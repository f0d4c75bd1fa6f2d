"""The seat rule and the dealing checks across peers on real sockets (htjax.sync.repo on loopback):
forged-seat and out-of-turn appends rejected identically by every peer; a seat whose reveal does
not match its commitment; a dealer whose revealed key does not match its commitment, or whose
private observations differ from the key's deal."""

from __future__ import annotations

import asyncio
import dataclasses
import re

import numpy as np
import pytest

import htjax
import htjax.sync as sync
from htjax.sync import schema
from htjax.sync.live import RandomAgent, agreed_key, read_live
from htjax.sync.live import session as live_session
from htjax.sync.live.dealing import new_share
from htjax.sync.live.finish import derive_with
from htjax.sync.live.peers import host_game, join_game
from htjax.sync.repo import Repo

TIMEOUT = 150.0


@pytest.fixture(scope="module")
def env():
    return htjax.make("holdem")


class Gated:
    """A random agent that waits until the test opens its gate."""

    kind, policy = "policy", "random"

    def __init__(self, seed, gate):
        self.agent, self.gate = RandomAgent(seed), gate

    async def __call__(self, view):
        await self.gate.wait()
        return self.agent(view)


async def _pair(env, mode, seeds=(3, 4), gate=None):
    host, guest = Repo(), Repo()
    url = await host.listen()
    await guest.connect(url)
    agents = [RandomAgent(s) if gate is None else Gated(s, gate) for s in seeds]
    hosted = await host_game(host, env, mode, {0: agents[0]})
    joined = await join_game(guest, hosted.handle.document_id, {1: agents[1]})
    return host, guest, hosted, joined


async def _close(*repos):
    for r in repos:
        await r.close()


def _append(handle, step, seat, action, actor="intruder"):
    def write(tx):
        log = schema.list_id(tx, "log")
        schema.write_entries(tx, log, tx.length(log), [(step, seat, action, actor, sync.document.utc_now())])

    handle.change(write)


def test_forged_seat_and_out_of_turn_appends_are_rejected_identically_by_every_peer(env):
    async def main():
        gate = asyncio.Event()
        host, guest, hosted, joined = await _pair(env, "open", gate=gate)
        try:
            # claims, then reveals (each tick does what it can)
            for _ in range(3):
                hosted._tick()
                await joined.handle.wait_for(lambda d: len(read_live(d, 2).claims) >= 1, 5)
                joined._tick()
                await hosted.handle.wait_for(lambda d: len(read_live(d, 2).claims) == 2, 5)
            await hosted.handle.wait_for(lambda d: len(read_live(d, 2).reveals) == 2, 5)
            await joined.handle.wait_for(lambda d: len(read_live(d, 2).reveals) == 2, 5)
            info = read_live(joined.handle.doc, 2)
            key = agreed_key(info)
            state0 = derive_with(env, sync.EpisodeDoc(joined.handle.doc), key, info).states
            mover = int(state0.current_player[0])
            other = 1 - mover
            legal = int(np.flatnonzero(state0.legal_action_mask[0])[0])
            other_peer = hosted if other == 0 else joined
            _append(other_peer.handle, 0, other, legal)  # out of turn: its own seat, not to move
            _append(other_peer.handle, 0, mover, legal)  # forged: the mover's seat, from the other actor
            mover_peer = joined if other_peer is hosted else hosted
            # the mover appends only after it has both entries (else the three appends are concurrent
            # and Automerge may order the honest one first: still one order for every peer)
            await mover_peer.handle.wait_for(lambda d: len(sync.EpisodeDoc(d).entries()) == 2, 5)
            gate.set()
            results = await asyncio.wait_for(
                asyncio.gather(hosted.run(TIMEOUT), joined.run(TIMEOUT)), TIMEOUT
            )
            await asyncio.gather(hosted.linger(5), joined.linger(5))
            return results, mover, other, other_peer.actor, (hosted if mover == 0 else joined).actor
        finally:
            await _close(guest, host)

    (r0, r1), mover, other, intruder, holder = asyncio.run(main())
    rejected = [
        [(r.index, r.entry.seat, r.reason) for r in res.replay.derivation.rejected] for res in (r0, r1)
    ]
    assert rejected[0] == rejected[1] and len(rejected[0]) == 2
    (_, seat_a, why_a), (_, seat_b, why_b) = rejected[0]
    assert seat_a == other and why_a == f"seat {other} is not to move at step 0 (seat {mover} is)"
    assert seat_b == mover
    assert why_b == f"seat {mover} is bound to actor {holder}, but actor {intruder} appended this entry"
    for res in (r0, r1):  # the final documents replay (the rejected entries stay in the log)
        again = sync.replay(sync.EpisodeDoc.from_bytes(res.doc.to_bytes()))
        assert [r.reason for r in again.derivation.rejected] == [why_a, why_b]


def test_a_reveal_that_does_not_match_its_commitment_stops_every_peer(env):
    async def main():
        host, guest, hosted, joined = await _pair(env, "open")
        try:
            hosted._tick()
            await joined.handle.wait_for(lambda d: len(read_live(d, 2).claims) == 1, 5)
            joined._tick()  # claims seat 1 with a commitment to its share ...
            joined._shares[1] = new_share()  # ... then reveals another share
            return await asyncio.gather(hosted.run(30), joined.run(30), return_exceptions=True)
        finally:
            await _close(guest, host)

    for outcome in asyncio.run(main()):
        assert isinstance(outcome, sync.DealingError)
        assert "seat 1 revealed a share that does not match its commitment" in str(outcome)


def test_a_dealer_whose_revealed_key_does_not_match_its_commitment_is_caught(env):
    async def main():
        host, guest, hosted, joined = await _pair(env, "dealer")
        try:
            hosted.secret = dataclasses.replace(hosted.secret, share=new_share())  # deals another key
            return await asyncio.gather(hosted.run(TIMEOUT), joined.run(TIMEOUT), return_exceptions=True)
        finally:
            await _close(guest, host)

    for outcome in asyncio.run(main()):
        assert isinstance(outcome, sync.DealingError)
        assert "the dealer revealed a share that does not match its commitment" in str(outcome)


def test_a_dealer_whose_private_observations_differ_from_the_deal_is_caught(env, monkeypatch):
    honest = live_session.private_message

    def lying(env_, state, seat, step, to_move, done, obs):
        body = honest(env_, state, seat, step, to_move, done, obs)
        if seat == 1:  # seat 1 is shown other hole cards than the key deals
            fake = np.frombuffer(body["observation"], np.float32).copy()
            fake[:52] = np.roll(fake[:52], 7)
            body["observation"] = fake.tobytes()
        return body

    monkeypatch.setattr(live_session, "private_message", lying)

    async def main():
        host, guest, hosted, joined = await _pair(env, "dealer")
        try:
            return await asyncio.gather(hosted.run(TIMEOUT), joined.run(TIMEOUT), return_exceptions=True)
        finally:
            await _close(guest, host)

    dealer_result, seat_result = asyncio.run(main())
    assert isinstance(dealer_result, live_session.LiveResult)  # the dealer's own replay verifies
    assert isinstance(seat_result, sync.DealingError)
    assert re.search(
        r"private message to seat 1 at step \d+ differs from the deal of the revealed key", str(seat_result)
    )
    assert "'observation'" in str(seat_result)


def test_a_seat_cannot_open_another_seats_private_view():
    from htjax.sync.live import channel

    dealer, seat0, seat1 = (channel.new_private_key() for _ in range(3))
    doc_id = "automerge:abc"
    k0 = channel.channel_key(dealer, channel.public_bytes(seat0), doc_id, 0)
    assert k0 == channel.channel_key(seat0, channel.public_bytes(dealer), doc_id, 0)
    envelope = channel.seal(k0, doc_id, 0, {"step": 0, "secret": "As Kd"})
    assert channel.open_sealed(k0, doc_id, envelope)["secret"] == "As Kd"
    k1 = channel.channel_key(seat1, channel.public_bytes(dealer), doc_id, 0)  # seat 1 tries seat 0's channel
    with pytest.raises(sync.DealingError, match="does not authenticate"):
        channel.open_sealed(k1, doc_id, envelope)
    with pytest.raises(sync.DealingError, match="does not authenticate"):  # replayed into another document
        channel.open_sealed(
            channel.channel_key(seat0, channel.public_bytes(dealer), "automerge:xyz", 0),
            "automerge:xyz",
            envelope,
        )


def _claim(tx, seat, actor):
    from htjax.sync.live.fields import add_claim

    add_claim(tx, seat=seat, actor=actor, name="x", kind="policy", policy=None, pubkey=b"\x04" + bytes(64))


def _claim_first(tx, seat, actor):
    """A claim inserted at index 0 of the claims list (what a modified client can do)."""
    import automerge.core as am

    live = tx.get(am.ROOT, "live")[1]
    claims = tx.get(live, "claims")[1]
    m = tx.insert_object(claims, 0, am.ObjType.Map)
    for key, value in (("seat", seat), ("actor", actor), ("name", "thief"), ("kind", "policy")):
        tx.put(m, key, am.ScalarType.Int if key == "seat" else am.ScalarType.Str, value)
    for key in ("policy", "commit", "share"):
        tx.put(m, key, am.ScalarType.Null, None)
    tx.put(m, "pubkey", am.ScalarType.Bytes, b"\x04" + bytes(64))


def test_a_claim_put_before_a_claim_it_saw_does_not_take_the_seat(env):
    async def main():
        host, guest, hosted, joined = await _pair(env, "open")
        try:
            hosted._tick()  # the host claims seat 0
            await joined.handle.wait_for(lambda d: len(read_live(d, 2).claims) == 1, 5)
            joined.handle.change(lambda tx: _claim_first(tx, 0, joined.actor))  # ... seen, then "stolen"
            await hosted.handle.wait_for(lambda d: len(read_live(d, 2).claims) == 2, 5)
            return [read_live(g.handle.doc, 2) for g in (hosted, joined)], hosted.actor, joined.actor
        finally:
            await _close(guest, host)

    infos, host_actor, thief = asyncio.run(main())
    for info in infos:  # both peers: the thief's claim is first in the list, and invalid
        assert info.claims[0].actor == thief and info.claims[0].valid
        assert info.bindings() == {0: host_actor}


def test_concurrent_claims_of_one_seat_bind_the_same_actor_on_every_peer(env):
    import automerge.core as am

    from htjax.sync.live import new_live_document

    base, _ = new_live_document(env, "open")
    a, b = base.fork(), base.fork()
    a.set_actor(bytes.fromhex("aa" * 16))
    b.set_actor(bytes.fromhex("bb" * 16))
    with a.transaction() as tx:  # neither has seen the other's claim
        _claim(tx, 0, "aa" * 16)
    with b.transaction() as tx:
        _claim(tx, 0, "bb" * 16)
    a.merge(b)
    b.merge(a)
    first = read_live(a, 2).claims[0].actor
    assert read_live(a, 2).bindings() == read_live(b, 2).bindings() == {0: first}
    assert am.Document.load(a.save()).get_heads() == b.get_heads()
