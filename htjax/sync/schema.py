"""The episode document schema (the one place that defines it) and its plain-value codec.

One Automerge document per episode. Version :data:`SCHEMA_VERSION` of schema
:data:`SCHEMA` has these root keys (``docs/sync.md`` has the same table)::

    schema          Str        "htjax.episode"
    schema_version  Int        5
    producer        Str        "htjax <version>"
    created         Timestamp  when the document was made
    env             Map        id: Str, version: Str, config: Map (plain values),
                               num_players: Int, num_actions: Int, simultaneous: Boolean,
                               action_labels: List[Str],
                               params: Map (the world's rule parameters, one per
                               ``config_class.PARAM_FIELDS`` name: F64 | Int | Boolean)
    episode         Map        key: List[Int, Int] (uint32 key data; Null in a live game until
                               its key is agreed or revealed), world: Int | Null,
                               index: Int | Null (episode index in the world's auto-reset stream),
                               checkpoint_every: Int
    seats           List[Map]  actor: Str, kind: Str ("human" | "policy" | "peer"), policy: Str | Null
    log             List[Map]  step: Int, seat: Int, action: Int, actor: Str, time: Timestamp
    digest_fields   List[Str]  state field paths, in the order of checkpoint field digests
    checkpoints     List[Map]  step: Int, digest: Str (32 hex), fields: Bytes (4 per field)
    outcome         Map | Null returns: List[F64], length: Int, terminated: Boolean,
                               truncated: Boolean, finished: Boolean (Null while being played)
    views           List[Map] | Null   public view after each step (index = step), optional
    fork            Map | Null from_heads: List[Str] (hex change hashes), at_step: Int
    live            Map | Null a game played by peers: seat claims and dealing
                               (:mod:`htjax.sync.live.fields` defines it); Null otherwise

Versions 3, 4 and 5 replay under key schedule 3 (:data:`htjax.core.keys.KEY_SCHEDULE`: hashed
step and episode keys, and games' per-step random words hashed from the step key). Version 4
added ``env.params`` and version 5 ``live`` (a version 4 document is read with
``live`` Null, which it is: it was recorded, not played by peers); version 3 documents predate rule parameters, so every world played its
config's values, and they are read with ``params`` None, meaning exactly that. Version 1
documents were recorded under the ``fold_in`` schedule and version 2 under schedule 2 (words
drawn with threefry), so their keys and actions would replay different episodes: they are
refused, naming the key schedule, rather than mis-replayed.

Simultaneous games log one entry per seat and step. Every integer is an Automerge ``Int``
(JavaScript reads numbers, not BigInts).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from typing import Any, Literal, Mapping, NamedTuple, Sequence

import automerge.core as am
from automerge.core import ROOT, ObjType
from automerge.core import ScalarType as S

from htjax.core.keys import KEY_SCHEDULE
from htjax.sync.errors import CorruptDocumentError, SchemaVersionError, binding_guard
from htjax.sync.plain import insert_plain, put_plain, read_plain
from htjax.sync.plain import utc as _utc

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "READABLE_VERSIONS",
    "SEAT_KINDS",
    "Seat",
    "LogEntry",
    "Checkpoint",
    "Outcome",
    "Header",
    "put_plain",
    "insert_plain",
    "read_plain",
    "write_header",
    "read_header",
    "write_entries",
    "read_entries",
    "read_checkpoints",
    "read_outcome",
    "write_outcome",
    "write_checkpoints",
]

SCHEMA = "htjax.episode"
SCHEMA_VERSION = 5
# older versions read exactly: version 3 lacks env.params (every world played its config's values),
# versions 3 and 4 lack ``live`` (they were recorded, not played by peers)
READABLE_VERSIONS = (3, 4, SCHEMA_VERSION)
SEAT_KINDS = ("human", "policy", "peer")
# schema versions 1 and 2 are tied to the key schedule of the same number
_OLD_KEY_SCHEDULES = {1: "fold_in keys", 2: "hashed keys, threefry words"}
SeatKind = Literal["human", "policy", "peer"]


@dataclasses.dataclass(frozen=True)
class Seat:
    """Who plays a seat: ``actor`` id (any string), ``kind`` and, for policies, the policy name."""

    actor: str
    kind: SeatKind = "policy"
    policy: str | None = None

    def __post_init__(self):
        if not isinstance(self.actor, str) or not self.actor:
            raise ValueError(f"seat actor must be a non-empty string, got {self.actor!r}")
        if self.kind not in SEAT_KINDS:
            raise ValueError(f"seat kind must be one of {list(SEAT_KINDS)}, got {self.kind!r}")
        if self.policy is not None and not isinstance(self.policy, str):
            raise ValueError(f"seat policy must be a string or None, got {self.policy!r}")


class LogEntry(NamedTuple):
    """One appended action: ``action`` of ``seat`` for ``step`` by ``actor`` at ``time`` (UTC).

    ``creator`` is the hex Automerge actor id whose change inserted the entry (read from the
    entry's object id, so a writer cannot choose it), filled in for live games only.
    """

    step: int
    seat: int
    action: int
    actor: str
    time: datetime.datetime
    creator: str | None = None


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """State digest after ``step`` actions: ``digest`` (hex) and ``fields`` (short per-field digests)."""

    step: int
    digest: str
    fields: bytes


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How the episode ended: ``returns`` per seat, ``length`` in steps, and the end flags.

    ``finished`` is False for an episode that was still running when recording stopped.
    """

    returns: tuple[float, ...]
    length: int
    terminated: bool
    truncated: bool

    @property
    def finished(self) -> bool:
        return self.terminated or self.truncated


@dataclasses.dataclass(frozen=True)
class Header:
    """Everything in a document except the log, checkpoints, outcome and views."""

    env_id: str
    env_version: str
    config: Mapping[str, Any]
    num_players: int
    num_actions: int
    simultaneous: bool
    action_labels: tuple[str, ...]
    episode_key: tuple[int, int] | None  # None: a live game's key, not agreed or revealed yet
    seats: tuple[Seat, ...]
    checkpoint_every: int
    digest_fields: tuple[str, ...]
    world: int | None = None
    episode_index: int | None = None
    producer: str = ""
    created: datetime.datetime | None = None
    # rule parameters {name: bool | int | float}; None in a version 3 document (the config's values)
    params: Mapping[str, bool | int | float] | None = None
    schema_version: int = SCHEMA_VERSION
    live: bool = False  # version 5 ``live`` is a Map: seats are claimed and the key dealt by peers


def _name(kind: Any) -> str:
    """``"Map"`` for ``ObjType.Map``, ``"Int"`` for ``ScalarType.Int`` (the binding's enums have no ``.name``)."""
    return str(kind).rsplit(".", 1)[-1]


# ---------------------------------------------------------------------------- typed reads
class _Reader:
    """Typed access to one document; every failure names the field and raises ``CorruptDocumentError``."""

    def __init__(self, doc: am.Document):
        self.doc = doc

    def get(self, obj: bytes, prop: str | int, where: str):
        with binding_guard(f"reading {where}"):
            got = self.doc.get(obj, prop)
        if got is None:
            raise CorruptDocumentError(f"episode document: missing field {where!r}")
        return got

    def scalar(self, obj: bytes, prop: str | int, where: str, kinds: tuple, *, optional: bool = False):
        (value, oid) = self.get(obj, prop, where)
        if value == ObjType.Text and S.Str in kinds:  # a JavaScript writer's string
            with binding_guard(f"reading {where}"):
                return self.doc.text(oid)
        if isinstance(value, ObjType):
            raise CorruptDocumentError(
                f"episode document: field {where!r} must be a scalar, got a {_name(value)}"
            )
        kind, v = value
        if optional and kind == S.Null:
            return None
        if kind not in kinds:
            names = "/".join(_name(k) for k in kinds)
            raise CorruptDocumentError(
                f"episode document: field {where!r} must be {names}, got {_name(kind)} {v!r}"
            )
        if kind == S.Bytes:
            return bytes(v)
        if kind == S.Timestamp:
            return _utc(v)
        if kind == S.Uint and v > _INT64_MAX:
            raise CorruptDocumentError(f"episode document: field {where!r} is out of range ({v})")
        return v

    def obj(self, obj: bytes, prop: str | int, where: str, kind: ObjType, *, optional: bool = False):
        (value, oid) = self.get(obj, prop, where)
        if optional and not isinstance(value, ObjType) and value[0] == S.Null:
            return None
        if value != kind:
            raise CorruptDocumentError(
                f"episode document: field {where!r} must be a {_name(kind)}, got {_name(value if isinstance(value, ObjType) else value[0])}"
            )
        return oid

    def has(self, obj: bytes, prop: str) -> bool:
        with binding_guard("reading document keys"):
            return prop in self.doc.keys(obj)

    def length(self, obj: bytes) -> int:
        with binding_guard("reading a list length"):
            return self.doc.length(obj)


_INT = (S.Int, S.Uint)
_STR = (S.Str,)
_INT64_MAX = 2**63 - 1
_PARAM_KINDS = (S.F64, S.Int, S.Uint, S.Boolean)
MAX_PARAMS = 256  # more rule parameters than any env has: a hostile document is refused early


def _read_params(r: _Reader, env: bytes) -> dict[str, bool | int | float]:
    """``env.params``: a Map of scalars (validated against the env later, by the document)."""
    pid = r.obj(env, "params", "env.params", ObjType.Map)
    with binding_guard("reading env.params"):
        names = list(r.doc.keys(pid))
    if len(names) > MAX_PARAMS:
        raise CorruptDocumentError(
            f"episode document: field 'env.params' holds {len(names)} entries (at most {MAX_PARAMS})"
        )
    return {name: r.scalar(pid, name, f"env.params.{name}", _PARAM_KINDS) for name in names}


def _read_key(r: _Reader, key_id: bytes) -> tuple[int, int]:
    if r.length(key_id) != 2:
        raise CorruptDocumentError("episode document: field 'episode.key' must hold 2 uint32 values")
    key = tuple(int(r.scalar(key_id, i, f"episode.key[{i}]", _INT)) for i in range(2))
    if not all(0 <= k < 2**32 for k in key):
        raise CorruptDocumentError(
            f"episode document: field 'episode.key' must hold uint32 values, got {key}"
        )
    return key  # type: ignore[return-value]


def read_header(doc: am.Document) -> Header:
    """Parse and check the header; raises :class:`SchemaVersionError` or :class:`CorruptDocumentError`."""
    r = _Reader(doc)
    if not r.has(ROOT, "schema"):
        raise SchemaVersionError("not an htjax episode document: it has no 'schema' field")
    schema = r.scalar(ROOT, "schema", "schema", _STR)
    if schema != SCHEMA:
        raise SchemaVersionError(f"not an htjax episode document: schema is {schema!r}, expected {SCHEMA!r}")
    version = r.scalar(ROOT, "schema_version", "schema_version", _INT)
    if version in _OLD_KEY_SCHEDULES:
        raise SchemaVersionError(
            f"episode document schema version {version} was recorded under key schedule {version} "
            f"({_OLD_KEY_SCHEDULES[version]}); this htjax reads version {SCHEMA_VERSION} (key schedule "
            f"{KEY_SCHEDULE}), where its keys and actions would replay a different episode: re-record it"
        )
    if version not in READABLE_VERSIONS:
        raise SchemaVersionError(
            f"episode document schema version {version} is not supported "
            f"(this htjax reads versions {', '.join(map(str, READABLE_VERSIONS))})"
        )
    env = r.obj(ROOT, "env", "env", ObjType.Map)
    labels_id = r.obj(env, "action_labels", "env.action_labels", ObjType.List)
    labels = tuple(
        r.scalar(labels_id, i, f"env.action_labels[{i}]", _STR) for i in range(r.length(labels_id))
    )
    config_id = r.obj(env, "config", "env.config", ObjType.Map)
    with binding_guard("reading env.config"):
        config = read_plain(doc, config_id)
    episode = r.obj(ROOT, "episode", "episode", ObjType.Map)
    live = version >= 5 and r.obj(ROOT, "live", "live", ObjType.Map, optional=True) is not None
    key_id = r.obj(episode, "key", "episode.key", ObjType.List, optional=live)
    key = None if key_id is None else _read_key(r, key_id)
    seats_id = r.obj(ROOT, "seats", "seats", ObjType.List)
    seats = []
    for i in range(r.length(seats_id)):
        s = r.obj(seats_id, i, f"seats[{i}]", ObjType.Map)
        try:
            seats.append(
                Seat(
                    actor=r.scalar(s, "actor", f"seats[{i}].actor", _STR),
                    kind=r.scalar(s, "kind", f"seats[{i}].kind", _STR),
                    policy=r.scalar(s, "policy", f"seats[{i}].policy", _STR, optional=True),
                )
            )
        except ValueError as exc:
            raise CorruptDocumentError(f"episode document: seats[{i}]: {exc}") from exc
    fields_id = r.obj(ROOT, "digest_fields", "digest_fields", ObjType.List)
    digest_fields = tuple(
        r.scalar(fields_id, i, f"digest_fields[{i}]", _STR) for i in range(r.length(fields_id))
    )
    header = Header(
        env_id=r.scalar(env, "id", "env.id", _STR),
        env_version=r.scalar(env, "version", "env.version", _STR),
        config=config,
        num_players=int(r.scalar(env, "num_players", "env.num_players", _INT)),
        num_actions=int(r.scalar(env, "num_actions", "env.num_actions", _INT)),
        simultaneous=r.scalar(env, "simultaneous", "env.simultaneous", (S.Boolean,)),
        action_labels=labels,
        episode_key=key,  # type: ignore[arg-type]
        seats=tuple(seats),
        checkpoint_every=int(r.scalar(episode, "checkpoint_every", "episode.checkpoint_every", _INT)),
        digest_fields=digest_fields,
        world=r.scalar(episode, "world", "episode.world", _INT, optional=True),
        episode_index=r.scalar(episode, "index", "episode.index", _INT, optional=True),
        producer=r.scalar(ROOT, "producer", "producer", _STR),
        created=r.scalar(ROOT, "created", "created", (S.Timestamp,)),
        params=_read_params(r, env) if version >= 4 else None,
        schema_version=version,
        live=live,
    )
    if len(header.seats) != header.num_players:
        raise CorruptDocumentError(
            f"episode document: {len(header.seats)} seats listed for a {header.num_players}-player env"
        )
    if header.checkpoint_every < 1:
        raise CorruptDocumentError("episode document: field 'episode.checkpoint_every' must be >= 1")
    return header


def write_header(tx: am.Transaction, header: Header) -> None:
    """Write the header and empty ``log``/``checkpoints`` lists and a Null ``outcome``, ``views``, ``fork``."""
    tx.put(ROOT, "schema", S.Str, SCHEMA)
    tx.put(ROOT, "schema_version", S.Int, SCHEMA_VERSION)
    tx.put(ROOT, "producer", S.Str, header.producer)
    tx.put(ROOT, "created", S.Timestamp, header.created)
    put_plain(
        tx,
        ROOT,
        "env",
        {
            "id": header.env_id,
            "version": header.env_version,
            "config": dict(header.config),
            "num_players": header.num_players,
            "num_actions": header.num_actions,
            "simultaneous": header.simultaneous,
            "action_labels": list(header.action_labels),
            "params": dict(header.params or {}),
        },
    )
    put_plain(
        tx,
        ROOT,
        "episode",
        {
            "key": None if header.episode_key is None else list(header.episode_key),
            "world": header.world,
            "index": header.episode_index,
            "checkpoint_every": header.checkpoint_every,
        },
    )
    put_plain(tx, ROOT, "seats", [dataclasses.asdict(s) for s in header.seats])
    put_plain(tx, ROOT, "digest_fields", list(header.digest_fields))
    tx.put_object(ROOT, "log", ObjType.List)
    tx.put_object(ROOT, "checkpoints", ObjType.List)
    tx.put(ROOT, "outcome", S.Null, None)
    tx.put(ROOT, "views", S.Null, None)
    tx.put(ROOT, "fork", S.Null, None)
    tx.put(ROOT, "live", S.Null, None)  # a live game writes its Map (htjax.sync.live.fields)


# ---------------------------------------------------------------------------- log, checkpoints, outcome
def list_id(doc: am.Document | am.Transaction, name: str) -> bytes:
    """Object id of the root list ``name`` (``log``, ``checkpoints``, ``views``)."""
    return _Reader(doc).obj(ROOT, name, name, ObjType.List)  # type: ignore[arg-type]


def write_entries(
    tx: am.Transaction,
    log: bytes,
    start: int,
    entries: Sequence[tuple[int, int, int, str, datetime.datetime]],
) -> None:
    """Append ``(step, seat, action, actor, time)`` entries to the log list at index ``start``."""
    insert_object, put = tx.insert_object, tx.put
    for i, (step, seat, action, actor, time) in enumerate(entries, start):
        m = insert_object(log, i, ObjType.Map)
        put(m, "step", S.Int, step)
        put(m, "seat", S.Int, seat)
        put(m, "action", S.Int, action)
        put(m, "actor", S.Str, actor)
        put(m, "time", S.Timestamp, time)


_ENTRY_KEYS = ("action", "actor", "seat", "step", "time")
_ENTRY_KINDS = {"action": _INT, "actor": _STR, "seat": _INT, "step": _INT, "time": (S.Timestamp,)}
_INT_KIND, _STR_KIND, _TIME_KIND = S.Int, S.Str, S.Timestamp


def _entry_slow(doc: am.Document, i: int, oid: bytes, times: dict) -> LogEntry:
    """An entry with extra keys, JavaScript text, or a type error (which is raised, naming the field)."""
    names = doc.keys(oid)
    missing = sorted(set(_ENTRY_KEYS) - set(names))
    if missing:
        raise CorruptDocumentError(f"episode document: log[{i}] lacks field(s) {missing}")
    fields = {}
    for k in _ENTRY_KEYS:  # extra keys are ignored
        v, vid = doc.get(oid, k)
        if v == ObjType.Text and k == "actor":  # a JavaScript writer's string
            v = (S.Str, doc.text(vid))
        if isinstance(v, ObjType) or v[0] not in _ENTRY_KINDS[k]:
            got = _name(v if isinstance(v, ObjType) else v[0])
            raise CorruptDocumentError(f"episode document: log[{i}].{k} has the wrong type ({got})")
        if v[0] == S.Uint and v[1] > _INT64_MAX:
            raise CorruptDocumentError(f"episode document: log[{i}].{k} is out of range ({v[1]})")
        fields[k] = v[1]
    t = fields["time"]
    return LogEntry(
        fields["step"],
        fields["seat"],
        fields["action"],
        fields["actor"],
        times.get(t) or times.setdefault(t, _utc(t)),
    )


@functools.lru_cache(maxsize=1 << 16)  # a live peer re-reads every entry's creator per change
def object_actor(obj_id: bytes) -> str:
    """Hex Automerge actor id of the change that created the object ``obj_id`` (see :func:`object_op`)."""
    return object_op(obj_id)[0]


def _leb(raw: bytes, i: int) -> tuple[int, int]:
    value, shift = 0, 0
    while i < len(raw) and shift <= 63:
        byte = raw[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if not byte & 0x80:
            return value, i
    raise CorruptDocumentError(f"episode document: object id {raw.hex()} is malformed")


def object_op(obj_id: bytes) -> tuple[str, int]:
    """``(hex actor id, op counter)`` of the operation that created the object ``obj_id``.

    The binding's object ids are Automerge's ``ExId`` bytes: ``0x10``, the LEB128 length of
    the actor id, the actor id, then LEB128 actor index and counter (JavaScript spells the same
    id ``"<counter>@<actor hex>"``). Raises :class:`CorruptDocumentError` for the root or junk.
    """
    raw = bytes(obj_id)
    if len(raw) < 3 or raw[0] != 0x10:
        raise CorruptDocumentError(f"episode document: object id {raw.hex()} names no creating actor")
    length, i = _leb(raw, 1)
    if length == 0 or i + length > len(raw):
        raise CorruptDocumentError(f"episode document: object id {raw.hex()} is malformed")
    actor = raw[i : i + length].hex()
    _, j = _leb(raw, i + length)  # the actor's index in this document's table
    counter, _ = _leb(raw, j)
    return actor, counter


def read_entries(doc: am.Document, *, creators: bool = False) -> list[LogEntry]:
    """Every log entry in Automerge list order (the order the merge rule reads).

    ``creators``: fill in each entry's ``creator`` (live games' seat rule; costs a little).

    The hot path reads each entry with one ``values`` call: Automerge orders a map's values by
    key, so an entry with exactly the five schema keys has them in ``_ENTRY_KEYS`` order, and
    the value types are checked positionally. Anything else takes the checked slow path.
    """
    log = list_id(doc, "log")
    out = []
    times: dict = {}  # entries of a batch recording share one timestamp: convert it once
    with binding_guard("reading the log"):
        values = doc.values
        for i, (value, oid) in enumerate(values(log)):
            if value != ObjType.Map:
                raise CorruptDocumentError(f"episode document: log[{i}] must be a Map, got {_name(value)}")
            try:
                ((ka, action), _), ((kb, actor), _), ((kc, seat), _), ((kd, step), _), ((ke, t), _) = values(
                    oid
                )
            except (TypeError, ValueError):  # not five keys, or an object among the values
                ka = None
            if ka is not None:
                if (
                    ka == _INT_KIND
                    and kb == _STR_KIND
                    and kc == _INT_KIND
                    and kd == _INT_KIND
                    and ke == _TIME_KIND
                ):
                    when = times.get(t)
                    if when is None:
                        when = times[t] = _utc(t)
                    out.append(
                        LogEntry(step, seat, action, actor, when, object_actor(oid) if creators else None)
                    )
                    continue
            entry = _entry_slow(doc, i, oid, times)
            out.append(entry._replace(creator=object_actor(oid)) if creators else entry)
    return out


def write_checkpoints(
    tx: am.Transaction, checkpoints: bytes, start: int, items: Sequence[Checkpoint]
) -> None:
    for i, c in enumerate(items, start):
        m = tx.insert_object(checkpoints, i, ObjType.Map)
        tx.put(m, "step", S.Int, c.step)
        tx.put(m, "digest", S.Str, c.digest)
        tx.put(m, "fields", S.Bytes, c.fields)


def read_checkpoints(doc: am.Document) -> list[Checkpoint]:
    r = _Reader(doc)
    cid = list_id(doc, "checkpoints")
    out = []
    for i in range(r.length(cid)):
        m = r.obj(cid, i, f"checkpoints[{i}]", ObjType.Map)
        out.append(
            Checkpoint(
                step=int(r.scalar(m, "step", f"checkpoints[{i}].step", _INT)),
                digest=r.scalar(m, "digest", f"checkpoints[{i}].digest", _STR),
                fields=r.scalar(m, "fields", f"checkpoints[{i}].fields", (S.Bytes,)),
            )
        )
    return out


def write_outcome(tx: am.Transaction, outcome: Outcome) -> None:
    put_plain(
        tx,
        ROOT,
        "outcome",
        {
            "returns": [float(x) for x in outcome.returns],
            "length": int(outcome.length),
            "terminated": bool(outcome.terminated),
            "truncated": bool(outcome.truncated),
            "finished": bool(outcome.finished),
        },
    )


def read_outcome(doc: am.Document) -> Outcome | None:
    r = _Reader(doc)
    m = r.obj(ROOT, "outcome", "outcome", ObjType.Map, optional=True)
    if m is None:
        return None
    rid = r.obj(m, "returns", "outcome.returns", ObjType.List)
    return Outcome(
        returns=tuple(
            float(r.scalar(rid, i, f"outcome.returns[{i}]", (S.F64, S.Int))) for i in range(r.length(rid))
        ),
        length=int(r.scalar(m, "length", "outcome.length", _INT)),
        terminated=r.scalar(m, "terminated", "outcome.terminated", (S.Boolean,)),
        truncated=r.scalar(m, "truncated", "outcome.truncated", (S.Boolean,)),
    )
