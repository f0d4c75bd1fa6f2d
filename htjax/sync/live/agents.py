"""Who chooses a seat's actions in a live game: ``agent(view) -> action`` (or an awaitable of it).

An agent sees only its seat's :class:`~htjax.sync.live.views.SeatView` (own observation, legal
mask, the table as the seat sees it). Built-in agents: :class:`RandomAgent`,
:class:`PolicyAgent` (an ONNX policy: a shipped name or a file, :func:`htjax.policies.load`),
:class:`JaxAgent` (a JAX policy function); the person at a terminal is in :mod:`htjax.play_live`.
``--seat N=SPEC`` strings are parsed by :func:`parse_seat`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Awaitable, Callable, Union

import jax
import numpy as np

from htjax.core.env import Env
from htjax.core.errors import InvalidArgumentError
from htjax.sync.live.views import SeatView

__all__ = ["Agent", "RandomAgent", "PolicyAgent", "JaxAgent", "SeatSpec", "parse_seat", "make_agent"]

Agent = Callable[[SeatView], Union[int, Awaitable[int]]]
PERSON = "person"
RANDOM = "random"


class RandomAgent:
    """A uniformly random legal action, from a numpy generator seeded by ``seed``."""

    kind, policy = "policy", "random"

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng([seed, 0x11E])

    def __call__(self, view: SeatView) -> int:
        return int(self.rng.choice(np.flatnonzero(view.legal)))


class PolicyAgent:
    """An exported ONNX policy on the seat's own observation.

    Args:
      model: a loaded policy (``.name`` and ``.act(obs, mask, rng, greedy=)``, as
        :func:`htjax.policies.load` returns; the sync layer does not import the policy files'
        package, so the caller loads it).
    """

    kind = "policy"

    def __init__(self, model: Any, *, seed: int = 0, greedy: bool = False):
        self.model = model
        self.policy = model.name
        self.greedy = greedy
        self.rng = np.random.default_rng([seed, 0x0F1])

    def __call__(self, view: SeatView) -> int:
        obs = view.observation.astype(np.float32)[None]
        return int(
            self.model.act(obs, view.legal[None], None if self.greedy else self.rng, greedy=self.greedy)[0]
        )


class JaxAgent:
    """A JAX policy ``policy(params, observation, legal_action_mask, key) -> action`` (jitted once);
    the key of step ``t`` is ``fold_in(key, t)``."""

    kind = "policy"

    def __init__(self, policy: Callable, params: Any = None, key: Any = None, name: str = "jax"):
        self.fn = jax.jit(policy)
        self.params = params
        self.key = jax.random.PRNGKey(0) if key is None else key
        self.policy = name

    def __call__(self, view: SeatView) -> int:
        key = jax.random.fold_in(self.key, view.step)
        return int(self.fn(self.params, view.observation, view.legal, key))


@dataclasses.dataclass(frozen=True)
class SeatSpec:
    """``--seat SEAT=WHO``: ``who`` is ``person``, ``random``, a shipped policy name or an ONNX path."""

    seat: int
    who: str

    @property
    def kind(self) -> str:
        return "human" if self.who == PERSON else "policy"


def parse_seat(text: str, env: Env) -> SeatSpec:
    """Parse ``"1=holdem"`` / ``"0=person"`` / ``"1=random"`` / ``"0=policies/x.onnx"``.

    Raises:
      InvalidArgumentError: not ``SEAT=WHO``, or a seat outside ``[0, num_players)``.
    """
    seat, sep, who = str(text).partition("=")
    if not sep or not seat.strip().isdigit() or not who.strip():
        raise InvalidArgumentError(
            f"--seat must be SEAT=WHO (WHO: person, random, a shipped policy name or an .onnx file), got {text!r}"
        )
    n = int(seat)
    if not 0 <= n < env.num_players:
        raise InvalidArgumentError(f"--seat {text!r}: {env.id} has seats 0..{env.num_players - 1}")
    return SeatSpec(n, who.strip())


def make_agent(
    spec: SeatSpec,
    env: Env,
    *,
    seed: int = 0,
    person: Agent | None = None,
    load_policy: Callable[[str, Env], Any] | None = None,
) -> Agent:
    """The agent of a parsed spec; ``person`` is the agent used for ``person`` (the terminal's).

    A policy name or ``.onnx`` path is loaded by ``load_policy(who, env)`` (the CLI passes
    :func:`htjax.policies.load`, which raises ``UnknownPolicyError``, ``OnnxModelError`` or
    ``EnvMismatchError`` for a policy made for another env).
    """
    if spec.who == PERSON:
        if person is None:
            raise InvalidArgumentError(f"seat {spec.seat}: a person can only play at a terminal")
        return person
    if spec.who == RANDOM:
        return RandomAgent(seed + spec.seat)
    if load_policy is None:
        raise InvalidArgumentError(f"seat {spec.seat}: no policy loader given for {spec.who!r}")
    return PolicyAgent(load_policy(spec.who, env), seed=seed + spec.seat)


def describe(agent: Agent) -> tuple[str, str | None]:
    """``(kind, policy name)`` of an agent for its seat claim."""
    return getattr(agent, "kind", "peer"), getattr(agent, "policy", None)
