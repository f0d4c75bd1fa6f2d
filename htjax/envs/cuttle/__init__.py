"""Cuttle, the combat card game, for two seats (``classic``, ``standard``) or three (``cutthroat``).

The package, one module per concern:

* :mod:`~htjax.envs.cuttle.actions`: card ids and the fixed action table (plain NumPy);
* :mod:`~htjax.envs.cuttle.rules`: the board, the deal, control and the legal moves (no RL notions);
* :mod:`~htjax.envs.cuttle.moves`: applying a move (one switch over move kinds);
* :mod:`~htjax.envs.cuttle.config`: :class:`CuttleConfig` and the three variants' rules;
* :mod:`~htjax.envs.cuttle.observation`: the observation layout (defined once) and the view;
* :mod:`~htjax.envs.cuttle.env`: :class:`Cuttle`, the env contract over the rules;
* :mod:`~htjax.envs.cuttle.views`: the text table and the spectator's view.

Full rules text, the action id table and the observation table: ``docs/envs/cuttle.md``.

* **Actions** (``int32[]``): 1457 fixed ids (move kind x card x target card or seat), the same
  move in every state and variant; the legal mask does the rest.
* **Reward**: ``float32[P]``, +1 to the winner and -1 to the others on the winning step; 0 in a
  drawn game (three consecutive passes) or a truncated one (``max_steps``). An illegal action
  loses the game for the offender (the other seat wins it in a two-seat game), plus the penalty.
* **Observation** ``float32[226 + 330 * P]`` of one seat (:func:`observation_layout`).

Example::

    >>> import jax, htjax
    >>> env = htjax.make("cuttle", preset="standard")
    >>> state = env.init(jax.random.PRNGKey(0))
    >>> state = env.step(state, 0, htjax.step_key(jax.random.PRNGKey(0), 0))  # draw
"""

from htjax.envs.cuttle.actions import NUM_ACTIONS, action_id, card_str, decode, parse_card
from htjax.envs.cuttle.config import VARIANTS, CuttleConfig
from htjax.envs.cuttle.env import Cuttle, CuttleState
from htjax.envs.cuttle.observation import observation_layout

__all__ = [
    "NUM_ACTIONS",
    "VARIANTS",
    "Cuttle",
    "CuttleConfig",
    "CuttleState",
    "action_id",
    "card_str",
    "decode",
    "observation_layout",
    "parse_card",
]
