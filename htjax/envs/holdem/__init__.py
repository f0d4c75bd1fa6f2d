"""No-limit (or fixed-limit) Texas hold'em for 2 to 6 seats; one episode is one hand.

The package, one module per concern:

* :mod:`~htjax.envs.holdem.rules`: the rules as pure functions over a ``Table`` (no RL notions);
* :mod:`~htjax.envs.holdem.config`: :class:`HoldemConfig` and the action menus;
* :mod:`~htjax.envs.holdem.observation`: the observation layout (defined once) and the view;
* :mod:`~htjax.envs.holdem.env`: :class:`Holdem`, the env contract over the rules;
* :mod:`~htjax.envs.holdem.views`: the text table and the spectator's view.

Full rules text, action ids and the observation table: ``docs/envs/holdem.md``.

* **Actions** (``int32[]``), *full* menu (9): ``0`` fold, ``1`` check/call, ``2..7`` raise to
  ``max_bet + f * (pot + to_call)`` for ``f`` = 1/3, 1/2, 2/3, 1, 3/2, 2, ``8`` all-in.
  *Small* menu (6): fold, check/call, raise 1/2, 1 and 2 pots, all-in. *Fixed-limit* (3): fold,
  check/call, bet/raise. Sizes below the minimum raise, or that would need the whole stack (that
  is the all-in action), are masked; so is folding when there is nothing to call.
* **Reward**: ``float32[P]``, each seat's chip result of the hand in big blinds, given on the
  step that ends the hand (zero-sum; zero on every other step). An illegal action forfeits the
  offender's whole stack at hand start (and the penalty).
* **Button**: config ``button=-1`` (default) draws the button seat from the episode key;
  ``button=k`` fixes it. :meth:`Holdem.next_hand` deals the next hand of a session.
* **Observation** ``float32[113 + 22 * P]`` of one seat (:func:`observation_layout`).
* **Rule parameters** per world: ``small_blind``, ``big_blind``, ``starting_stack``.

Example::

    >>> import jax, htjax
    >>> env = htjax.make("holdem")
    >>> state = env.init(jax.random.PRNGKey(0))
    >>> state = env.step(state, 1, htjax.step_key(jax.random.PRNGKey(0), 0))  # check/call
"""

from htjax.envs.holdem.config import FULL_MENU, LIMIT_MENU, SMALL_MENU, HoldemConfig
from htjax.envs.holdem.env import Holdem, HoldemState
from htjax.envs.holdem.observation import observation_layout
from htjax.envs.holdem.views import public_view, render_text

__all__ = [
    "FULL_MENU",
    "LIMIT_MENU",
    "SMALL_MENU",
    "Holdem",
    "HoldemConfig",
    "HoldemState",
    "observation_layout",
    "public_view",
    "render_text",
]
