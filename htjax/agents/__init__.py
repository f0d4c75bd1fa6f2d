"""Agents: scripted and game-specific players built on the envs (strategies, opponents, tournaments).

Each game's agents live in a subpackage (``htjax.agents.ipd``, ...), imported only when used.
Imports flow one way: ``core <- envs <- agents <- train/adapters/cli``.
"""
