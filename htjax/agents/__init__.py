"""Agents: scripted and game-specific players built on the envs (strategies, opponents, tournaments).

Each game's agents live in a subpackage or module (``htjax.agents.ipd``, ``htjax.agents.holdem``:
the hold'em baselines and ``heads_up_match``, ``htjax.agents.blackjack``: basic strategy and the
demo's fixed strategy, ...), imported only when used.
Imports flow one way: ``core <- envs <- agents <- train/adapters/cli``.
"""
