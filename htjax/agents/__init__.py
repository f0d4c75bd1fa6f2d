"""Game-specific agents (scripted policies and match helpers), one module per game.

Layer: ``core <- envs <- agents <- adapters/sync/train``. :mod:`htjax.agents.holdem` holds the
hold'em baselines (call-station, maniac, random) and :func:`~htjax.agents.holdem.heads_up_match`.
"""
