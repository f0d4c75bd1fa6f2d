"""Game-specific agents: scripted and reference policies, one module per game.

Every policy has the htjax shape ``policy(params, observation, legal_action_mask, key) -> action``.
Modules are imported on use (``from htjax.agents.blackjack import basic_strategy_policy``); this
package imports none of them.
"""
