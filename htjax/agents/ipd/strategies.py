"""The 14 classic iterated prisoner's dilemma strategies as pure, elementwise JAX functions.

Each strategy matches the axelrod library's (4.14) definition of the same name move for move
(the tests play every pair against axelrod). A :class:`Strategy` decides from a seat's
:class:`~htjax.envs.prisoners_dilemma.rules.MatchMemory` (its view of the match), a small private
``int32`` memory of its own (only Gradual and Prober need one) and one uniform draw::

    action, private = strategy.act(memory, private, u, payoffs)

``memory`` fields, ``private`` (``int32[*B, private_size]``) and ``u`` (``float32[*B]``) may have
any batch shape ``B`` (``memory.t`` may be a scalar shared by the batch); the result is
``int32[*B]`` (0 = cooperate, 1 = defect). ``payoffs = (T, R, P, S)`` are floats or traced
scalars. The
private memory is updated inside ``act`` because axelrod's Gradual changes its counters while
choosing. The memory a strategy sees holds the moves actually played (after noise), as in
axelrod.

Why not the house ``policy(params, observation, mask, key)`` shape? Grudger, the majority
rules, Adaptive, Prober and Gradual depend on the whole match, not on the observation window.
They are played by :func:`htjax.agents.ipd.tournament.tournament` and
:func:`~htjax.agents.ipd.tournament.play_match`, which carry each seat's memory. Strategies whose
axelrod ``memory_depth`` fits in the observation window (Cooperator, Defector, Random,
TitForTat, TitForTwoTats, GTFT, WinStayLoseShift, SuspiciousTitForTat) are also available as
house policies through :func:`strategy_policy`, for rollouts of the env.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp

from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import key_word
from htjax.envs.prisoners_dilemma.config import COOPERATE, DEFECT, IPDConfig
from htjax.envs.prisoners_dilemma.rules import MatchMemory, new_memory, uniform_from_bits

__all__ = [
    "CLASSIC_14",
    "STRATEGIES",
    "Strategy",
    "get_strategy",
    "gtft_probability",
    "strategy_policy",
]

ActFn = Callable[[MatchMemory, jax.Array, jax.Array, tuple], tuple[jax.Array, jax.Array]]


@dataclasses.dataclass(frozen=True)
class Strategy:
    """A scripted IPD strategy.

    Attributes:
      name: htjax name (``"TitForTat"``).
      axelrod_name: the axelrod class whose definition this matches, e.g. ``"TitForTat"``.
      summary: one-line definition.
      act: ``(memory, private, u, payoffs) -> (action, private)``; see the module docstring.
      stochastic: whether ``act`` uses ``u``.
      memory_depth: rounds of history the decision depends on (``None`` = the whole match).
      private_size: length of the strategy's own ``int32`` memory.
    """

    name: str
    axelrod_name: str
    summary: str
    act: ActFn = dataclasses.field(repr=False)
    stochastic: bool = False
    memory_depth: int | None = None
    private_size: int = 0

    def initial_private(self, shape: tuple[int, ...] = ()) -> jax.Array:
        """``int32[*shape, private_size]`` private memory at the start of a match."""
        return jnp.zeros(shape + (self.private_size,), jnp.int32)


def _const(memory: MatchMemory, move: int) -> jax.Array:
    return jnp.full(jnp.shape(memory.my_defections), move, jnp.int32) + jnp.zeros_like(memory.t)


def _cooperator(memory, private, u, payoffs):
    return _const(memory, COOPERATE), private


def _defector(memory, private, u, payoffs):
    return _const(memory, DEFECT), private


def _random(memory, private, u, payoffs):
    # axelrod Random(p=0.5): cooperate iff a uniform draw is below 0.5.
    return jnp.where(u < 0.5, COOPERATE, DEFECT).astype(jnp.int32) + _const(memory, 0), private


def _tit_for_tat(memory, private, u, payoffs):
    return jnp.where(memory.t == 0, COOPERATE, memory.opp_move_ago(1)).astype(jnp.int32), private


def _tit_for_two_tats(memory, private, u, payoffs):
    both = (memory.t >= 2) & (memory.opp_move_ago(1) == DEFECT) & (memory.opp_move_ago(2) == DEFECT)
    return jnp.where(both, DEFECT, COOPERATE).astype(jnp.int32), private


def gtft_probability(payoffs):
    """axelrod's GTFT forgiveness ``p = min(1 - (T - R) / (R - S), (R - P) / (T - P))``
    (a float for float payoffs, an array for traced ones)."""
    t, r, p, s = payoffs
    if all(isinstance(x, (int, float)) for x in payoffs):
        return min(1 - (t - r) / (r - s), (r - p) / (t - p))
    return jnp.minimum(1 - (t - r) / (r - s), (r - p) / (t - p))


def _gtft(memory, private, u, payoffs):
    # Memory-one four-vector (1, p, 1, p): always answer C with C, answer D with C w.p. p.
    # u is in [0, 1), so u < p is always true for p >= 1 and never for p <= 0.
    forgive = u < gtft_probability(payoffs)
    move = jnp.where((memory.t == 0) | (memory.opp_move_ago(1) == COOPERATE) | forgive, COOPERATE, DEFECT)
    return move.astype(jnp.int32), private


def _grudger(memory, private, u, payoffs):
    return jnp.where(memory.opp_defections > 0, DEFECT, COOPERATE).astype(jnp.int32), private


def _win_stay_lose_shift(memory, private, u, payoffs):
    same = memory.my_move_ago(1) == memory.opp_move_ago(1)
    return jnp.where((memory.t == 0) | same, COOPERATE, DEFECT).astype(jnp.int32), private


def _suspicious_tit_for_tat(memory, private, u, payoffs):
    return jnp.where(memory.t == 0, DEFECT, memory.opp_move_ago(1)).astype(jnp.int32), private


_ADAPTIVE_OPENING = 11  # C x 6 then D x 5


def _adaptive(memory, private, u, payoffs):
    # After the opening, play the move whose *total* payoff so far is higher (ties: D).
    with_c, with_d = memory.scores_by_my_move(payoffs)
    opening = jnp.where(memory.t < 6, COOPERATE, DEFECT)
    best = jnp.where(with_c > with_d, COOPERATE, DEFECT)
    return jnp.where(memory.t < _ADAPTIVE_OPENING, opening, best).astype(jnp.int32), private


def _gradual(memory, private, u, payoffs):
    # axelrod's Gradual (CRISTAL-SMAC 2018): private = [punish_count, calm_count].
    punish, calm = private[..., 0], private[..., 1]
    started = memory.t > 0
    punishing = started & (punish > 0)
    calming = started & ~punishing & (calm > 0)
    triggered = started & ~punishing & ~calming & (memory.opp_move_ago(1) == DEFECT)
    move = jnp.where(punishing | triggered, DEFECT, COOPERATE).astype(jnp.int32)
    new_punish = jnp.where(punishing, punish - 1, jnp.where(triggered, memory.opp_defections - 1, punish))
    new_calm = jnp.where(calming, calm - 1, jnp.where(triggered, 2, calm))
    return move, jnp.stack([new_punish, new_calm], axis=-1).astype(jnp.int32)


def _prober(memory, private, u, payoffs):
    # D, C, C; then defect forever if the opponent cooperated in rounds 2 and 3, else TFT.
    # private[0] records that test when it becomes decidable (t == 3), since the move register
    # forgets rounds older than 32.
    probe = jnp.where(memory.t == 3, (memory.opp_moves & 3) == 0, private[..., 0] == 1)
    opening = jnp.where(memory.t == 0, DEFECT, COOPERATE)
    later = jnp.where(probe, DEFECT, memory.opp_move_ago(1))
    move = jnp.where(memory.t < 3, opening, later).astype(jnp.int32)
    return move, probe.astype(jnp.int32)[..., None]


def _soft_majority(memory, private, u, payoffs):
    more_d = memory.opp_defections > memory.opp_cooperations()
    return jnp.where(more_d, DEFECT, COOPERATE).astype(jnp.int32), private


def _hard_majority(memory, private, u, payoffs):
    at_least_as_many_d = memory.opp_defections >= memory.opp_cooperations()
    return jnp.where(at_least_as_many_d, DEFECT, COOPERATE).astype(jnp.int32), private


CLASSIC_14: tuple[Strategy, ...] = (
    Strategy("Cooperator", "Cooperator", "Always cooperates.", _cooperator, memory_depth=0),
    Strategy("Defector", "Defector", "Always defects.", _defector, memory_depth=0),
    Strategy(
        "Random", "Random", "Cooperates with probability 0.5.", _random, stochastic=True, memory_depth=0
    ),
    Strategy(
        "TitForTat",
        "TitForTat",
        "Cooperates first, then copies the opponent's last move.",
        _tit_for_tat,
        memory_depth=1,
    ),
    Strategy(
        "TitForTwoTats",
        "TitFor2Tats",
        "Defects only if the opponent defected in both of the last two rounds.",
        _tit_for_two_tats,
        memory_depth=2,
    ),
    Strategy(
        "GTFT",
        "GTFT",
        "Cooperates first and after C; after D cooperates with p = min(1 - (T-R)/(R-S), (R-P)/(T-P)) "
        "(1/3 at 5, 3, 1, 0).",
        _gtft,
        stochastic=True,
        memory_depth=1,
    ),
    Strategy(
        "Grudger", "Grudger", "Cooperates until the opponent defects once, then defects forever.", _grudger
    ),
    Strategy(
        "WinStayLoseShift",
        "WinStayLoseShift",
        "Pavlov: cooperates first, then cooperates iff both players made the same move last round.",
        _win_stay_lose_shift,
        memory_depth=1,
    ),
    Strategy(
        "SuspiciousTitForTat",
        "SuspiciousTitForTat",
        "Defects first, then copies the opponent's last move.",
        _suspicious_tit_for_tat,
        memory_depth=1,
    ),
    Strategy(
        "Adaptive",
        "Adaptive",
        "Plays C x6, D x5, then the move with the higher total payoff so far (ties: D).",
        _adaptive,
    ),
    Strategy(
        "Gradual",
        "Gradual",
        "Cooperates; after an opponent D (when not punishing or calming) defects n times in a row, "
        "n = opponent's defections so far, then cooperates twice.",
        _gradual,
        private_size=2,
    ),
    Strategy(
        "Prober",
        "Prober",
        "Plays D, C, C; defects forever if the opponent cooperated in rounds 2 and 3, else TFT.",
        _prober,
        private_size=1,
    ),
    Strategy(
        "SoftMajority",
        "GoByMajority",
        "Cooperates unless the opponent has defected more often than cooperated (C on move 1).",
        _soft_majority,
    ),
    Strategy(
        "HardMajority",
        "HardGoByMajority",
        "Defects unless the opponent has cooperated more often than defected (D on move 1).",
        _hard_majority,
    ),
)

STRATEGIES: dict[str, Strategy] = {s.name: s for s in CLASSIC_14}


def get_strategy(name: str | Strategy) -> Strategy:
    """The strategy called ``name`` (or ``name`` itself when already a :class:`Strategy`)."""
    if isinstance(name, Strategy):
        return name
    if name not in STRATEGIES:
        raise InvalidArgumentError(f"unknown IPD strategy {name!r}; available: {list(STRATEGIES)}")
    return STRATEGIES[name]


def memory_from_observation(observation: jax.Array, config: IPDConfig) -> MatchMemory:
    """Rebuild the recent part of a seat's memory from its observation window.

    ``t`` is capped at ``window`` and the counts are those of the window only, so this is exact
    for strategies with ``memory_depth <= window``.
    """
    w = config.window
    recent = observation[..., : 5 * w].reshape(observation.shape[:-1] + (w, 5))
    valid = recent[..., 0] > 0.5
    my_d = (recent[..., 2] > 0.5) & valid
    opp_d = (recent[..., 4] > 0.5) & valid
    weights = jnp.left_shift(jnp.uint32(1), jnp.arange(w, dtype=jnp.uint32))
    memory = new_memory(observation.shape[:-1])
    return memory.replace(
        t=jnp.sum(valid, axis=-1).astype(jnp.int32),
        my_moves=jnp.sum(jnp.where(my_d, weights, 0), axis=-1).astype(jnp.uint32),
        opp_moves=jnp.sum(jnp.where(opp_d, weights, 0), axis=-1).astype(jnp.uint32),
        my_defections=jnp.sum(my_d, axis=-1).astype(jnp.int32),
        opp_defections=jnp.sum(opp_d, axis=-1).astype(jnp.int32),
        sucker_count=jnp.sum(opp_d & ~my_d & valid, axis=-1).astype(jnp.int32),
    )


def strategy_policy(strategy: str | Strategy, config: IPDConfig | None = None):
    """A house policy ``policy(params, observation, mask, key) -> int32[]`` playing ``strategy``.

    Only for strategies that decide from the last ``config.window`` rounds
    (``memory_depth <= window``); the others need the memory that
    :func:`~htjax.agents.ipd.tournament.play_match` carries, and raise
    :class:`~htjax.core.errors.InvalidArgumentError` here.
    The same ``(strategy, config)`` always gives the same function object, so rollouts built
    from it compile once.
    """
    return _strategy_policy(get_strategy(strategy), IPDConfig() if config is None else config)


@functools.cache
def _strategy_policy(strategy: Strategy, config: IPDConfig):
    if strategy.memory_depth is None or strategy.memory_depth > config.window or strategy.private_size:
        raise InvalidArgumentError(
            f"strategy {strategy.name!r} depends on the whole match, not on the last {config.window} rounds "
            "in the observation; play it with htjax.agents.ipd.tournament.play_match or tournament"
        )
    payoffs = config.payoffs

    def policy(params, observation, legal_action_mask, key):
        memory = memory_from_observation(observation, config)
        u = uniform_from_bits(key_word(key))
        action, _ = strategy.act(memory, strategy.initial_private(), u, payoffs)
        return action

    policy.__name__ = f"{strategy.name}_policy"
    return policy
