"""Whole hands against pokerkit (an independent engine): a sample of ``scripts/crosscheck_pokerkit.py``.

Random hands of 2..6 players with unequal stacks (some short of a blind) at a 6-seat table with
empty seats (dead buttons, heads-up on a bigger table), the same cards and the same random
legal actions in both engines, compared after every action: acting seat, street, stacks, bets,
chips committed, live seats, board, pots, the legality of every action id, the chips to call,
the minimum raise, and every seat's final stack and payoff. The script's docstring states the
mapping between the engines and the two places where pokerkit is held to the written rules.
The full run (5,000 hands, every table size): ``python scripts/crosscheck_pokerkit.py``.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def crosscheck():
    spec = importlib.util.spec_from_file_location(
        "crosscheck_pokerkit", ROOT / "scripts" / "crosscheck_pokerkit.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_random_hands_match_pokerkit_after_every_action(crosscheck):
    hands = crosscheck.random_hands(240, seed=12345, table_seats=6)
    report = crosscheck.crosscheck(hands, batch=120)
    assert report.total_differences == 0, "\n".join(report.examples)
    checks, seen = report.checks, report.coverage
    assert checks["payoffs"] == checks["final stacks"] == len(hands)  # every hand played to its end
    assert checks["legal actions"] > 1000 and checks["minimum raise"] > 500 and checks["pots"] > 50
    # the sample reaches the situations the rules are about
    for players in range(2, 7):
        assert seen[f"hands with {players} players"] > 10
    assert seen["dead button (button seat empty)"] > 20 and seen["seats short of a blind"] > 20
    assert seen["side pots paid (pot index > 0)"] > 20 and seen["split pots"] > 5
    assert seen["actions: fold"] > 20 and seen["actions: all-in"] > 100
