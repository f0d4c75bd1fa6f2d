"""The ``live`` field of an episode document (schema version 5): seat claims and dealing.

A game played by peers writes, at its creation, a root Map ``live``::

    live     Map   mode: Str ("open" | "dealer"),
                   claims: List[Map], reveals: List[Map], dealer: Map | Null
    claims[i]      seat: Int, actor: Str (hex Automerge actor id of the claimer),
                   name: Str (shown in logs), kind: Str ("human" | "policy" | "peer"),
                   policy: Str | Null, pubkey: Bytes (65: the claimer's ECDH P-256 public key,
                   uncompressed point 0x04 || x || y),
                   commit: Str | Null (open mode: hex SHA-256(share || actor id bytes)),
                   share: Str | Null (dealer mode: the seat's public share, 64 hex chars)
    reveals[i]     seat: Int, actor: Str, share: Str (open mode: 64 hex chars)
    dealer         actor: Str, pubkey: Bytes (65), commit: Str (hex SHA-256(share || actor id
                   bytes)), share: Str | Null (revealed when the game ends)

**Seat binding.** A claim is *valid* when the Automerge actor whose change created the claim's
Map (its object id: a writer cannot choose it) equals its ``actor``, its seat exists, and no
other valid claim of the same seat is in its causal past (the change that made it did not
depend, directly or through other changes, on the change holding the other claim: a peer that
had seen the seat taken cannot take it, even by inserting its claim first in the list). The
first valid claim of a seat in list order binds the seat to its ``actor``; among claims made
concurrently, list order decides (every peer reads the same list and the same history, so every
peer binds the same actor).
The merge rule (:mod:`htjax.sync.derive`, rule 5) then rejects log entries created by any
other actor. Reveals and the dealer's map count only when created by the actor they name.
"""

from __future__ import annotations

import dataclasses
import datetime

import automerge.core as am
from automerge.core import ROOT, ObjType
from automerge.core import ScalarType as S

from htjax.sync.errors import CorruptDocumentError, binding_guard
from htjax.sync.schema import SEAT_KINDS, _Reader, object_actor, object_op

__all__ = [
    "LIVE_MODES",
    "Claim",
    "Reveal",
    "DealerInfo",
    "LiveInfo",
    "read_live",
    "write_live",
    "add_claim",
    "add_reveal",
    "reveal_dealer_share",
    "live_summary",
]

LIVE_MODES = ("open", "dealer")
_INT, _STR = (S.Int, S.Uint), (S.Str,)


@dataclasses.dataclass(frozen=True)
class Claim:
    """``claims[index]``: ``actor`` (hex) claims ``seat``; ``creator`` made the claim's Map."""

    index: int
    seat: int
    actor: str
    name: str
    kind: str
    policy: str | None
    pubkey: bytes | None
    commit: str | None
    share: str | None
    creator: str
    counter: int = 0  # the op counter of the claim's creation (with ``creator``: its op id)

    @property
    def valid(self) -> bool:
        return self.creator == self.actor


@dataclasses.dataclass(frozen=True)
class Reveal:
    """``reveals[index]``: open mode, ``seat``'s share (hex) revealed by ``actor``."""

    index: int
    seat: int
    actor: str
    share: str
    creator: str


@dataclasses.dataclass(frozen=True)
class DealerInfo:
    """Dealer mode: the dealer's actor, ECDH public key, commitment and (at the end) share."""

    actor: str
    pubkey: bytes
    commit: str
    share: str | None
    creator: str


@dataclasses.dataclass(frozen=True)
class LiveInfo:
    """The parsed ``live`` field of a document with ``num_players`` seats."""

    mode: str
    num_players: int
    claims: tuple[Claim, ...]
    reveals: tuple[Reveal, ...]
    dealer: DealerInfo | None
    # claim index -> indices of claims of the same seat in its causal past (contested seats only)
    after: dict[int, frozenset[int]] = dataclasses.field(default_factory=dict)

    def seat_claims(self) -> dict[int, Claim]:
        """Seat -> the claim that binds it (the module docstring's rule)."""
        out: dict[int, Claim] = {}
        for c in self.claims:
            if not (c.valid and 0 <= c.seat < self.num_players) or c.seat in out:
                continue
            if self.after.get(c.index):  # it saw another valid claim of its seat
                continue
            out[c.seat] = c
        return out

    def bindings(self) -> dict[int, str]:
        """Seat -> hex Automerge actor id bound to it (unclaimed seats are absent)."""
        return {seat: c.actor for seat, c in self.seat_claims().items()}

    def seat_reveals(self) -> dict[int, Reveal]:
        """Seat -> its first reveal made by the seat's bound actor."""
        bound = self.bindings()
        out: dict[int, Reveal] = {}
        for r in self.reveals:
            if r.creator == r.actor and bound.get(r.seat) == r.actor and r.seat not in out:
                out[r.seat] = r
        return out

    @property
    def all_claimed(self) -> bool:
        return len(self.seat_claims()) == self.num_players


def _str_or_text(r: _Reader, obj: bytes, prop: str, where: str, optional: bool = False):
    return r.scalar(obj, prop, where, _STR, optional=optional)


def _read_list(r: _Reader, live: bytes, name: str, ops: bool = False):
    lid = r.obj(live, name, f"live.{name}", ObjType.List)
    for i in range(r.length(lid)):
        m = r.obj(lid, i, f"live.{name}[{i}]", ObjType.Map)
        yield i, m, object_op(m) if ops else object_actor(m)


def read_live(doc: am.Document, num_players: int) -> LiveInfo | None:
    """The ``live`` field, or None when it is Null or absent (a recorded episode).

    Raises:
      CorruptDocumentError: a field is missing or of the wrong type (named).
    """
    r = _Reader(doc)
    if not r.has(ROOT, "live"):
        return None
    live = r.obj(ROOT, "live", "live", ObjType.Map, optional=True)
    if live is None:
        return None
    mode = _str_or_text(r, live, "mode", "live.mode")
    if mode not in LIVE_MODES:
        raise CorruptDocumentError(
            f"episode document: field 'live.mode' must be one of {LIVE_MODES}, got {mode!r}"
        )
    claims = []
    for i, m, creator in _read_list(r, live, "claims", ops=True):
        w = f"live.claims[{i}]"
        pub = r.scalar(m, "pubkey", f"{w}.pubkey", (S.Bytes,), optional=True)
        kind = _str_or_text(r, m, "kind", f"{w}.kind")
        if kind not in SEAT_KINDS:
            raise CorruptDocumentError(f"episode document: field '{w}.kind' must be one of {SEAT_KINDS}")
        claims.append(
            Claim(
                index=i,
                seat=int(r.scalar(m, "seat", f"{w}.seat", _INT)),
                actor=_str_or_text(r, m, "actor", f"{w}.actor"),
                name=_str_or_text(r, m, "name", f"{w}.name"),
                kind=kind,
                policy=_str_or_text(r, m, "policy", f"{w}.policy", optional=True),
                pubkey=pub,
                commit=_str_or_text(r, m, "commit", f"{w}.commit", optional=True),
                share=_str_or_text(r, m, "share", f"{w}.share", optional=True),
                creator=creator[0],
                counter=creator[1],
            )
        )
    reveals = [
        Reveal(
            index=i,
            seat=int(r.scalar(m, "seat", f"live.reveals[{i}].seat", _INT)),
            actor=_str_or_text(r, m, "actor", f"live.reveals[{i}].actor"),
            share=_str_or_text(r, m, "share", f"live.reveals[{i}].share"),
            creator=creator,
        )
        for i, m, creator in _read_list(r, live, "reveals")
    ]
    dealer = None
    d = r.obj(live, "dealer", "live.dealer", ObjType.Map, optional=True)
    if d is not None:
        dealer = DealerInfo(
            actor=_str_or_text(r, d, "actor", "live.dealer.actor"),
            pubkey=r.scalar(d, "pubkey", "live.dealer.pubkey", (S.Bytes,)),
            commit=_str_or_text(r, d, "commit", "live.dealer.commit"),
            share=_str_or_text(r, d, "share", "live.dealer.share", optional=True),
            creator=object_actor(d),
        )
    if mode == "dealer" and dealer is None:
        raise CorruptDocumentError("episode document: a dealer-mode game has no 'live.dealer'")
    return LiveInfo(mode, num_players, tuple(claims), tuple(reveals), dealer, _causal_past(doc, claims))


def _causal_past(doc: am.Document, claims: list[Claim]) -> dict[int, frozenset[int]]:
    """For claims of seats claimed more than once: the other valid claims of the seat that the
    change holding the claim depended on (the history's deps, transitively)."""
    valid = [c for c in claims if c.valid]
    seats = [c.seat for c in valid]
    contested = [c for c in valid if seats.count(c.seat) > 1]
    if not contested:
        return {}
    with binding_guard("reading the history of seat claims"):
        changes = doc.get_changes([])
    deps = {c.hash: list(c.deps) for c in changes}
    span = [(c.actor_id.hex(), c.start_op, c.max_op, c.hash) for c in changes]

    def change_of(claim: Claim) -> bytes | None:
        return next((h for a, lo, hi, h in span if a == claim.creator and lo <= claim.counter <= hi), None)

    def past(start: bytes) -> set[bytes]:
        seen, todo = set(), list(deps.get(start, []))
        while todo:
            h = todo.pop()
            if h not in seen:
                seen.add(h)
                todo.extend(deps.get(h, []))
        return seen

    where = {c.index: change_of(c) for c in contested}
    out = {}
    for c in contested:
        before = past(where[c.index]) if where[c.index] is not None else set()
        out[c.index] = frozenset(
            o.index for o in contested if o.seat == c.seat and o.index != c.index and where[o.index] in before
        )
    return out


def write_live(tx: am.Transaction, mode: str, dealer: dict | None = None) -> None:
    """Write the ``live`` Map (in the transaction that writes the header).

    ``dealer``: ``{"actor": hex, "pubkey": bytes, "commit": hex}`` in dealer mode.
    """
    if mode not in LIVE_MODES:
        raise ValueError(f"dealing mode must be one of {LIVE_MODES}, got {mode!r}")
    if (mode == "dealer") != (dealer is not None):
        raise ValueError("dealer mode needs the dealer's actor, public key and commitment (and only it)")
    live = tx.put_object(ROOT, "live", ObjType.Map)
    tx.put(live, "mode", S.Str, mode)
    tx.put_object(live, "claims", ObjType.List)
    tx.put_object(live, "reveals", ObjType.List)
    if dealer is None:
        tx.put(live, "dealer", S.Null, None)
    else:
        m = tx.put_object(live, "dealer", ObjType.Map)
        tx.put(m, "actor", S.Str, dealer["actor"])
        tx.put(m, "pubkey", S.Bytes, dealer["pubkey"])
        tx.put(m, "commit", S.Str, dealer["commit"])
        tx.put(m, "share", S.Null, None)


def _live_map(tx: am.Transaction) -> bytes:
    got = tx.get(ROOT, "live")
    if got is None or got[0] != ObjType.Map:
        raise CorruptDocumentError("episode document: not a live game (no 'live' Map)")
    return got[1]


def _append(tx: am.Transaction, name: str, fields: dict) -> None:
    lid = tx.get(_live_map(tx), name)[1]
    m = tx.insert_object(lid, tx.length(lid), ObjType.Map)
    for key, value in fields.items():
        if value is None:
            tx.put(m, key, S.Null, None)
        elif isinstance(value, bytes):
            tx.put(m, key, S.Bytes, value)
        elif isinstance(value, int):
            tx.put(m, key, S.Int, value)
        elif isinstance(value, datetime.datetime):
            tx.put(m, key, S.Timestamp, value)
        else:
            tx.put(m, key, S.Str, str(value))


def add_claim(
    tx: am.Transaction,
    *,
    seat: int,
    actor: str,
    name: str,
    kind: str,
    policy: str | None,
    pubkey: bytes,
    commit: str | None = None,
    share: str | None = None,
) -> None:
    """Append a claim of ``seat`` (see the module docstring for the fields)."""
    _append(
        tx,
        "claims",
        {
            "seat": int(seat),
            "actor": actor,
            "name": name,
            "kind": kind,
            "policy": policy,
            "pubkey": pubkey,
            "commit": commit,
            "share": share,
        },
    )


def add_reveal(tx: am.Transaction, *, seat: int, actor: str, share: str) -> None:
    """Append an open-mode reveal of ``seat``'s share."""
    _append(tx, "reveals", {"seat": int(seat), "actor": actor, "share": share})


def reveal_dealer_share(tx: am.Transaction, share: str) -> None:
    """Dealer mode: put the dealer's share (the game is over)."""
    with binding_guard("writing the dealer's share"):
        got = tx.get(_live_map(tx), "dealer")
        tx.put(got[1], "share", S.Str, share)


def live_summary(doc: am.Document, num_players: int) -> str:
    """One line for ``htjax inspect``: the dealing mode and who holds each seat."""
    info = read_live(doc, num_players)
    if info is None:
        return "-"
    seats = ", ".join(f"{s}={c.name}" for s, c in sorted(info.seat_claims().items())) or "none claimed"
    return f"{info.mode} dealing; seats {seats}"
