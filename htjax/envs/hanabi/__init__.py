"""Hanabi, the cooperative card game, for 2 to 5 seats, as the Hanabi Learning Environment
(HLE, and so OpenSpiel's ``hanabi`` and PettingZoo's ``hanabi_v5``) plays it.

The package, one module per concern:

* :mod:`~htjax.envs.hanabi.rules`: the rules as pure functions over a ``Board`` (no RL notions);
* :mod:`~htjax.envs.hanabi.config`: :class:`HanabiConfig` and the action labels;
* :mod:`~htjax.envs.hanabi.observation`: HLE's canonical observation, its layout defined once;
* :mod:`~htjax.envs.hanabi.env`: :class:`Hanabi`, the env contract over the rules;
* :mod:`~htjax.envs.hanabi.views`: the text table and the public view.

Full rules text, action ids and the observation table: ``docs/envs/hanabi.md``.

* **Actions** (``int32[]``, HLE's move ids): ``0..H-1`` discard slot ``i``, ``H..2H-1`` play slot
  ``i``, then colour hints (for each seat offset ``k`` = 1..P-1 to the mover's left: red, yellow,
  green, white, blue), then rank hints (for each offset: ranks 1..5). ``2H + 10(P-1)`` actions
  (20 for two seats). Illegal moves are masked (HLE's ``MoveIsLegal``).
* **Reward**: ``float32[P]``, the same for every seat: the step's change of the score (the sum of
  the fireworks, 0 once every life is lost, so the step losing the last life pays minus the score
  so far). An illegal action loses the game the same way, plus the penalty for the offender.
* **Observation** ``bool[...]`` (658 for two seats): HLE's canonical encoding, bit for bit.

Example::

    >>> import jax, htjax
    >>> env = htjax.make("hanabi", num_players=3)
    >>> state = env.init(jax.random.PRNGKey(0))
    >>> env.num_actions, env.observation_shape
    (30, (956,))
"""

from htjax.envs.hanabi.config import HanabiConfig, action_labels
from htjax.envs.hanabi.env import Hanabi, HanabiState
from htjax.envs.hanabi.observation import observation_layout
from htjax.envs.hanabi.views import public_view, render_text

__all__ = [
    "Hanabi",
    "HanabiConfig",
    "HanabiState",
    "action_labels",
    "observation_layout",
    "public_view",
    "render_text",
]
