"""Live games between peers over the automerge-repo protocol (``docs/p2p.md``).

Knows the episode schema, the merge rule, envs and seats; talks only to a ``DocHandle``
(``htjax.sync.repo``). Modules: :mod:`~htjax.sync.live.fields` (the document's ``live``
field: claims, reveals, dealer), :mod:`~htjax.sync.live.dealing` (commit-reveal and the key),
:mod:`~htjax.sync.live.channel` (the dealer's encrypted per-seat channel),
:mod:`~htjax.sync.live.views` (what a seat sees), :mod:`~htjax.sync.live.agents`,
:mod:`~htjax.sync.live.finish` and :mod:`~htjax.sync.live.session` (:class:`LiveGame`).
"""

from htjax.sync.live.agents import Agent, JaxAgent, PolicyAgent, RandomAgent, SeatSpec, make_agent, parse_seat
from htjax.sync.live.dealing import agreed_key, commitment, episode_key_of, verify_dealing
from htjax.sync.live.fields import LIVE_MODES, LiveInfo, read_live
from htjax.sync.live.finish import DealerSecret, new_live_document
from htjax.sync.live.session import LiveGame, LiveResult
from htjax.sync.live.views import SeatView

__all__ = [
    "LIVE_MODES",
    "Agent",
    "RandomAgent",
    "PolicyAgent",
    "JaxAgent",
    "SeatSpec",
    "SeatView",
    "LiveGame",
    "LiveResult",
    "LiveInfo",
    "DealerSecret",
    "new_live_document",
    "read_live",
    "parse_seat",
    "make_agent",
    "agreed_key",
    "commitment",
    "episode_key_of",
    "verify_dealing",
]
