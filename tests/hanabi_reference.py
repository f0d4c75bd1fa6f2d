"""Drive PettingZoo's ``hanabi_v5`` (OpenSpiel's C++ Hanabi, i.e. HLE, through Shimmy) with a
given deck order, beside htjax's ``hanabi``, for the replay-equivalence tests.

PettingZoo deals by sampling OpenSpiel's chance outcomes (``np_random.choice(outcomes,
p=probs)``); :class:`DeckOrder` stands in for that generator and answers with the next card of
the deck htjax dealt, so both games see the same cards in the same order.
"""

from __future__ import annotations

import contextlib
import re

import numpy as np

from htjax.envs.hanabi import rules as R


class DeckOrder:
    """A stand-in for ``np_random`` whose ``choice`` deals ``order`` (card ids) in turn."""

    def __init__(self, order):
        self.order = [int(c) for c in order]
        self.dealt = 0

    def choice(self, outcomes, p=None):
        card = self.order[self.dealt]
        if card not in [int(o) for o in outcomes]:
            raise AssertionError(f"deal {self.dealt}: {R.card_str(card)} is not in the reference's deck")
        self.dealt += 1
        return card


@contextlib.contextmanager
def _dealing(order):
    import shimmy.openspiel_compatibility as compat

    real = compat.seeding.np_random
    rng = DeckOrder(order)
    compat.seeding.np_random = lambda seed=None: (rng, 0)
    try:
        yield rng
    finally:
        compat.seeding.np_random = real


def reference_env(num_players: int, order):
    """PettingZoo ``hanabi_v5`` (with its wrappers) reset to deal ``order`` (card ids)."""
    from pettingzoo.classic import hanabi_v5

    env = hanabi_v5.env(players=num_players, hand_size=R.Rules(num_players).hand_size)
    with _dealing(order):
        env.reset(seed=0)
    return env


class Reference:
    """One reference game: PettingZoo's AEC env while it runs, then (if Shimmy truncates it)
    the OpenSpiel state underneath.

    Shimmy truncates a game once its node count, chance deals included, passes OpenSpiel's
    ``max_game_length`` (118 for two seats), which long games of HLE's rules do reach; HLE itself
    has no limit. Past that point the same OpenSpiel state is stepped directly, dealing from the
    same deck order, so the whole game is still compared.
    """

    def __init__(self, num_players: int, order):
        self.pz = reference_env(num_players, order)
        self.shimmy = self.pz.unwrapped.hanabi_env
        self.agents = self.pz.possible_agents
        self.truncated_at: int | None = None
        self.moves = 0

    @property
    def direct(self) -> bool:
        return self.truncated_at is not None

    @property
    def state(self):
        return self.shimmy.game_state

    def current_player(self) -> int:
        if self.direct:
            return int(self.state.current_player())
        return self.agents.index(self.pz.agent_selection)

    def observe(self, seat: int) -> tuple[np.ndarray, np.ndarray]:
        """``(observation, action mask)`` of ``seat`` (the mask is all zero off turn)."""
        if self.direct:
            mask = np.zeros(self.shimmy._env.num_distinct_actions(), np.int8)
            mask[self.state.legal_actions(seat)] = 1
            return np.asarray(self.state.observation_tensor(seat)), mask
        view = self.pz.observe(self.agents[seat])
        return np.asarray(view["observation"]), np.asarray(view["action_mask"])

    def step(self, action: int) -> np.ndarray:
        """Apply ``action``; returns every seat's reward for it."""
        self.moves += 1
        if not self.direct:
            self.pz.step(int(action))
            if any(self.pz.truncations.values()) and not self.state.is_terminal():
                self.truncated_at = self.moves
                return np.asarray(self.state.rewards())
            return np.asarray([self.pz.rewards[a] for a in self.agents])
        self.state.apply_action(int(action))
        while self.state.is_chance_node():
            outcomes = [o for o, _ in self.state.chance_outcomes()]
            self.state.apply_action(self.shimmy.np_random.choice(outcomes))
        return np.asarray(self.state.rewards())

    def terminal(self) -> bool:
        if self.direct:
            return bool(self.state.is_terminal())
        return all(self.pz.terminations.values())

    def tokens(self) -> tuple[int, int, int]:
        return reference_tokens(self.state)


def reference_tokens(state) -> tuple[int, int, int]:
    """``(information tokens, life tokens, score)`` read from an OpenSpiel Hanabi state."""
    text = str(state)
    info = int(re.search(r"Info tokens: (\d+)", text).group(1))
    lives = int(re.search(r"Life tokens: (\d+)", text).group(1))
    fireworks = [int(x) for x in re.findall(r"[RYGWB](\d) ", text.split("Fireworks:")[1].split("\n")[0])]
    return info, lives, 0 if lives == 0 else int(np.sum(fireworks))
