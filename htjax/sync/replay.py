"""Replay: re-execute episode documents with the JAX env and verify every recorded digest.

``replay(doc)`` derives the episode from the log (the merge rule of :mod:`htjax.sync.derive`),
re-runs it and checks each checkpoint digest and the outcome. ``replay_many(docs)`` does the
same for many documents, batched: one ``vmap`` per env over episodes padded to the longest.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Sequence

import numpy as np

from htjax.core.env import Env
from htjax.sync.derive import Derivation, derive_entries
from htjax.sync.digest import digest_states, field_paths
from htjax.sync.document import EpisodeDoc
from htjax.sync.engine import initial_state_shape
from htjax.sync.errors import DocumentEnvError, ReplayMismatchError, SyncError
from htjax.sync.schema import Checkpoint, Outcome

__all__ = ["Replay", "derive", "derive_many", "replay", "replay_many", "episode_returns"]


@dataclasses.dataclass
class Replay:
    """A replayed episode.

    Attributes:
      doc: the document.
      env: the env built from its header.
      derivation: the merge rule's result (accepted and rejected entries, actions).
      verified: steps whose checkpoint digest was checked and matched.
      outcome: the outcome recomputed from the replayed states.
    """

    doc: EpisodeDoc
    env: Env
    derivation: Derivation
    verified: list[int]
    outcome: Outcome

    @property
    def states(self):
        """State pytree with leaves ``[length + 1, ...]``: ``states[t]`` after ``t`` steps."""
        return self.derivation.states

    @property
    def actions(self) -> np.ndarray:
        return self.derivation.actions

    @property
    def length(self) -> int:
        return self.derivation.length

    @property
    def env_params(self):
        """The rule parameters the episode replayed under (``doc.params()``: one world's Params)."""
        return self.doc.params()


def _under(doc: EpisodeDoc) -> str:
    """Names the document's rule parameters in a mismatch message (they may be what was changed)."""
    params = doc.header.params
    return f" (replayed under the document's rule parameters {dict(params)})" if params else ""


def _check_layout(env: Env, doc: EpisodeDoc, paths: tuple[str, ...]) -> None:
    if doc.header.digest_fields != paths:
        raise DocumentEnvError(
            f"episode document: state fields {list(doc.header.digest_fields)} differ from "
            f"{env.id} {env.version}'s {list(paths)} (the env changed without a version bump)"
        )


def _group(docs: Sequence[EpisodeDoc]) -> dict[Env, list[int]]:
    groups: dict[Env, list[int]] = defaultdict(list)
    for i, doc in enumerate(docs):
        groups[doc.env()].append(i)
    return groups


def derive_many(docs: Sequence[EpisodeDoc]) -> list[tuple[Env, Derivation]]:
    """The merge rule on many documents (batched per env); no digests are checked."""
    out: list = [None] * len(docs)
    for env, idx in _group(docs).items():
        for i, d in zip(idx, _derive(env, [docs[i] for i in idx])):
            out[i] = (env, d)
    return out


def _derive(env: Env, docs: Sequence[EpisodeDoc]) -> list[Derivation]:
    return derive_entries(
        env, [d.header for d in docs], [d.entries() for d in docs], [d.seat_bindings() for d in docs]
    )


def derive(doc: EpisodeDoc) -> Derivation:
    """The episode the log describes under the merge rule (accepted/rejected entries, states)."""
    return derive_many([doc])[0][1]


def episode_returns(rewards: np.ndarray, length: int) -> tuple[float, ...]:
    """Sum of per-seat rewards of steps ``1..length``; ``rewards`` is ``float32[L + 1, P]``."""
    return tuple(float(x) for x in rewards[1 : length + 1].astype(np.float64).sum(axis=0))


def _describe_stop(d: Derivation) -> str:
    if not d.rejected:
        return "the log has no further entries"
    first = next(
        (r for r in d.rejected if r.index > (int(d.accepted[-1][-1]) if len(d.accepted) else -1)),
        d.rejected[0],
    )
    return f"log entry {first.index} (step {first.entry.step}, seat {first.entry.seat}) was rejected: {first.reason}"


def _verify(env: Env, doc: EpisodeDoc, d: Derivation, paths: tuple[str, ...]) -> tuple[list[int], Outcome]:
    length = d.length
    batch, row = d.batch, d.row
    assert batch is not None
    leaves = batch.leaves
    done_field = batch.field("terminated")[row], batch.field("truncated")[row]
    outcome = Outcome(
        returns=episode_returns(batch.field("rewards")[row], length),
        length=length,
        terminated=bool(done_field[0][length]),
        truncated=bool(done_field[1][length]),
    )
    recorded = doc.outcome()
    checkpoints: list[Checkpoint] = sorted(doc.checkpoints(), key=lambda c: c.step)
    in_range = [c for c in checkpoints if c.step <= length]
    digests = digest_states(paths, leaves, [(row, c.step) for c in in_range])
    verified = []
    for c, got in zip(in_range, digests):
        if got.whole != c.digest:
            field = got.first_difference(c.fields, paths)
            last = verified[-1] if verified else None
            raise ReplayMismatchError(
                f"replay differs from the recording at step {c.step}: field {field!r} "
                f"(digest {got.whole[:12]} != recorded {c.digest[:12]}; last matching checkpoint: "
                f"{'none' if last is None else f'step {last}'}){_under(doc)}",
                step=c.step,
                field=field,
            )
        verified.append(c.step)
    beyond = [c.step for c in checkpoints if c.step > length]
    wanted = max(beyond + ([recorded.length] if recorded else []), default=length)
    if wanted > length:
        raise ReplayMismatchError(
            f"replay stops at step {length} but the recording reaches step {wanted}: {_describe_stop(d)}",
            step=length,
            field="log",
        )
    if recorded is not None:
        for name in ("length", "terminated", "truncated", "returns"):
            if getattr(recorded, name) != getattr(outcome, name):
                raise ReplayMismatchError(
                    f"replay outcome differs at step {length}: {name} is {getattr(outcome, name)!r}, "
                    f"recorded {getattr(recorded, name)!r}{_under(doc)}",
                    step=length,
                    field=f"outcome.{name}",
                )
    return verified, outcome


def replay_many(docs: Sequence[EpisodeDoc]) -> list[Replay]:
    """Replay and verify many documents, batched per env. Raises on the first mismatch.

    Raises:
      ReplayMismatchError: a digest, the log's length or the outcome differs (names step and field).
      DocumentEnvError: unknown env id, other version, invalid config or changed state layout.
    """
    out: list = [None] * len(docs)
    for env, idx in _group(docs).items():
        derivations = _derive(env, [docs[i] for i in idx])
        paths = field_paths(initial_state_shape(env))
        for i, d in zip(idx, derivations):
            _check_layout(env, docs[i], paths)
            if docs[i].header.live:  # a game played by peers: its key must be the one its shares agree on
                from htjax.sync.live.dealing import verify_dealing

                verify_dealing(docs[i])
            try:
                verified, outcome = _verify(env, docs[i], d, paths)
            except ReplayMismatchError as exc:
                if len(docs) > 1:
                    raise ReplayMismatchError(
                        f"document {i} ({docs[i]!r}): {exc}", step=exc.step, field=exc.field
                    ) from exc
                raise
            out[i] = Replay(docs[i], env, d, verified, outcome)
    return out


def replay(doc: EpisodeDoc) -> Replay:
    """Replay one document and verify every checkpoint digest and the outcome."""
    if not isinstance(doc, EpisodeDoc):
        raise SyncError(
            f"replay expects an EpisodeDoc, got {type(doc).__name__} (use htjax.sync.load for files)"
        )
    return replay_many([doc])[0]
