"""Shared set-up of the sync tests: the toy envs registered, small rollouts, env ids to cover."""

from __future__ import annotations

import toy_envs

import htjax

TOY_ENVS = (toy_envs.HighCard, toy_envs.MatchingPennies)
for _cls in TOY_ENVS:
    htjax.register(_cls.id, _cls)

# Every registered game plus the toy contract envs: games registered later are covered too.
ENV_IDS = tuple(sorted(set(htjax.available_envs()) | {c.id for c in TOY_ENVS}))
