"""htjax.sync: batched episodes as Automerge CRDT logs — record, replay, fork, merge.

>>> import jax, htjax, htjax.sync as sync                         # doctest: +SKIP
>>> env = htjax.make("blackjack")                                  # doctest: +SKIP
>>> out = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(0), 64, 200)  # doctest: +SKIP
>>> docs = sync.record(env, out.trajectory, worlds=[3, 17])        # doctest: +SKIP
>>> sync.save(docs[0], "w3.automerge"); sync.replay(sync.load("w3.automerge"))  # doctest: +SKIP

See ``docs/sync.md`` for the document schema, the merge rule and the error types.
"""

from htjax.sync.derive import Derivation, Rejection
from htjax.sync.document import FILE_SUFFIX, ChangeInfo, EpisodeDoc, load, save
from htjax.sync.errors import (
    CorruptDocumentError,
    DealingError,
    DocumentEnvError,
    EpisodeMismatchError,
    KeyNotRevealedError,
    LiveGameError,
    LogAppendError,
    MergeError,
    RecordError,
    ReplayMismatchError,
    SchemaVersionError,
    SyncError,
)
from htjax.sync.fork import fork
from htjax.sync.record import DEFAULT_CHECKPOINT_EVERY, default_seats, record
from htjax.sync.recorder import Recorder
from htjax.sync.replay import Replay, derive, derive_many, replay, replay_many
from htjax.sync.schema import READABLE_VERSIONS, SCHEMA, SCHEMA_VERSION, Checkpoint, LogEntry, Outcome, Seat
from htjax.sync.whatif import WhatIfRow, what_if

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "READABLE_VERSIONS",
    "FILE_SUFFIX",
    "DEFAULT_CHECKPOINT_EVERY",
    "EpisodeDoc",
    "ChangeInfo",
    "Seat",
    "LogEntry",
    "Checkpoint",
    "Outcome",
    "Derivation",
    "Rejection",
    "Replay",
    "Recorder",
    "WhatIfRow",
    "record",
    "default_seats",
    "replay",
    "replay_many",
    "derive",
    "derive_many",
    "fork",
    "what_if",
    "save",
    "load",
    "SyncError",
    "CorruptDocumentError",
    "SchemaVersionError",
    "DocumentEnvError",
    "ReplayMismatchError",
    "RecordError",
    "LogAppendError",
    "MergeError",
    "EpisodeMismatchError",
    "KeyNotRevealedError",
    "DealingError",
    "LiveGameError",
]
