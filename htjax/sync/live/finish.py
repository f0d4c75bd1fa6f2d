"""A live game's documents: creating one, deriving it under a known key, finishing it, and the
checks every peer runs at the end (the deal, the public views, the private observations)."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

import automerge.core as am
import jax
import numpy as np
from automerge.core import ROOT
from automerge.core import ScalarType as S

from htjax.core.env import Env, State
from htjax.sync import schema
from htjax.sync.derive import Derivation, derive_entries
from htjax.sync.digest import digest_states
from htjax.sync.document import EpisodeDoc
from htjax.sync.errors import DealingError
from htjax.sync.live import channel
from htjax.sync.live.dealing import commitment, new_share
from htjax.sync.live.fields import LiveInfo, reveal_dealer_share, write_live
from htjax.sync.live.views import observations, private_message, same_view
from htjax.sync.record import DEFAULT_CHECKPOINT_EVERY, checkpoint_steps, new_header
from htjax.sync.replay import episode_returns
from htjax.sync.views import public_view_of

__all__ = [
    "DealerSecret",
    "new_live_document",
    "derive_with",
    "to_move_of",
    "state_at",
    "finish",
    "check_private",
]


@dataclasses.dataclass
class DealerSecret:
    """What only the dealer holds: its share of the key and its ECDH private key."""

    share: str
    private_key: Any


def new_live_document(
    env: Env,
    mode: str,
    *,
    env_params: Any = None,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    actor_id: bytes | None = None,
) -> tuple[am.Document, DealerSecret | None]:
    """A new live-game document (no key yet, no claims) and, in dealer mode, the dealer's secret.

    The document's actor (``actor_id``, random if None) is the dealer's identity in dealer mode.
    Hand the document to ``Repo.create(initial)``.
    """
    doc = am.Document(actor_id=actor_id) if actor_id is not None else am.Document()
    actor = doc.get_actor().hex()
    seats = [schema.Seat(f"seat{i}", "peer") for i in range(env.num_players)]
    header = dataclasses.replace(
        new_header(env, (0, 0), seats, checkpoint_every=checkpoint_every, params=env_params), episode_key=None
    )
    secret = None
    with doc.transaction() as tx:
        schema.write_header(tx, header)
        if mode == "dealer":
            secret = DealerSecret(new_share(), channel.new_private_key())
            dealer = {
                "actor": actor,
                "pubkey": channel.public_bytes(secret.private_key),
                "commit": commitment(secret.share, actor),
            }
            write_live(tx, "dealer", dealer)
        else:
            write_live(tx, mode)
    return doc, secret


def derive_with(env: Env, doc: EpisodeDoc, key: tuple[int, int], info: LiveInfo) -> Derivation:
    """The merge rule under ``key`` (the dealer's own key before it is revealed, or the agreed one)."""
    header = dataclasses.replace(doc.header, episode_key=tuple(key))
    return derive_entries(env, [header], [doc.entries()], [info.bindings()])[0]


def state_at(states: State, t: int) -> State:
    return jax.tree_util.tree_map(lambda x: x[t], states)


def to_move_of(env: Env, state: State) -> tuple[int, ...]:
    """Seats to move at the start of the state's step: ``()`` when it is over."""
    if bool(np.asarray(state.terminated) | np.asarray(state.truncated)):
        return ()
    if env.simultaneous:
        return tuple(range(env.num_players))
    return (int(np.asarray(state.current_player)),)


def done_of(state: State) -> bool:
    return bool(np.asarray(state.terminated) | np.asarray(state.truncated))


def finish(
    tx: am.Transaction,
    env: Env,
    doc: EpisodeDoc,
    d: Derivation,
    key: tuple[int, int],
    dealer_share: str | None,
) -> None:
    """Write the end of the game: the key, checkpoints, outcome (and the dealer's share)."""
    length = d.length
    batch = d.batch
    assert batch is not None
    header = doc.header
    episode = tx.get(ROOT, "episode")[1]
    key_list = tx.put_object(episode, "key", am.ObjType.List)
    for i, k in enumerate(key):
        tx.insert(key_list, i, S.Int, int(k))
    steps = checkpoint_steps(length, header.checkpoint_every)
    digests = digest_states(header.digest_fields, batch.leaves, [(d.row, t) for t in steps])
    cps = schema.list_id(tx, "checkpoints")
    schema.write_checkpoints(
        tx, cps, tx.length(cps), [schema.Checkpoint(t, g.whole, g.fields) for t, g in zip(steps, digests)]
    )
    state = state_at(d.states, length)
    schema.write_outcome(
        tx,
        schema.Outcome(
            returns=episode_returns(batch.field("rewards")[d.row], length),
            length=length,
            terminated=bool(np.asarray(state.terminated)),
            truncated=bool(np.asarray(state.truncated)),
        ),
    )
    if dealer_share is not None:
        reveal_dealer_share(tx, dealer_share)


def write_views(tx: am.Transaction, env: Env, states: State, length: int, have: int) -> None:
    """Dealer mode: append public views ``have .. length`` (``views[t]`` after ``t`` steps)."""
    new = public_view_of(env, states, length)[have:]
    if have == 0:
        schema.put_plain(tx, ROOT, "views", new)
        return
    views = schema.list_id(tx, "views")
    for i, v in enumerate(new, tx.length(views)):
        schema.insert_plain(tx, views, i, v)


def check_views(env: Env, doc: EpisodeDoc, states: State, length: int) -> None:
    """The public views the dealer wrote during play equal the replay's (raises DealingError)."""
    views = doc.views()
    if views is None:
        return
    expected = public_view_of(env, states, min(length, len(views) - 1))
    for t, (got, want) in enumerate(zip(views, expected)):
        if _plain(got) != _plain(want):
            raise DealingError(
                f"the public view written for step {t} differs from the replay of the revealed key"
            )


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def check_private(env: Env, states: State, length: int, received: Mapping[int, Sequence[dict]]) -> int:
    """Every private message a seat received equals the deal of the revealed key.

    ``received``: seat -> the plaintexts it received. Returns how many were checked.

    Raises:
      DealingError: a message for a step the game never reached, or one that differs from the
        seat's view of the replayed state (names seat, step and the first differing field).
    """
    checked = 0
    obs_cache: dict[int, np.ndarray] = {}
    for seat, bodies in received.items():
        for body in bodies:
            t = int(body.get("step", -1))
            if not 0 <= t <= length:
                raise DealingError(
                    f"the dealer sent seat {seat} a view of step {t}, which the game never reached"
                )
            state = state_at(states, t)
            if t not in obs_cache:
                obs_cache[t] = observations(env, state)
            want = private_message(env, state, seat, t, to_move_of(env, state), done_of(state), obs_cache[t])
            field = same_view(body, want)
            if field is not None:
                raise DealingError(
                    f"the dealer's private message to seat {seat} at step {t} differs from the deal of the "
                    f"revealed key (field {field!r})"
                )
            checked += 1
    return checked
