"""Memory budgets (htjax.core.memory): estimates match what is allocated; refusals are fast and clear."""

from __future__ import annotations

import time

import jax
import numpy as np
import pytest

import htjax
from htjax.core import memory
from htjax.core.errors import HtjaxError, InvalidArgumentError, MemoryBudgetError

GiB = 2**30


def _nbytes(tree) -> int:
    return sum(np.asarray(x).nbytes for x in jax.tree_util.tree_leaves(tree))


@pytest.fixture(scope="module")
def blackjack():
    return htjax.make("blackjack")


def test_state_bytes__equals_one_initialised_world(blackjack):
    state = jax.jit(blackjack.init)(jax.random.PRNGKey(0))
    assert memory.state_bytes(blackjack) == _nbytes(state) > 0


@pytest.mark.parametrize("record_observations", [False, True])
def test_trajectory_step_bytes__equals_what_a_rollout_records(blackjack, record_observations):
    n, t = 3, 2
    r = htjax.rollout(
        blackjack, htjax.random_policy, jax.random.PRNGKey(1), n, t, record_observations=record_observations
    )
    per = _nbytes(r.trajectory) / (n * t)
    assert memory.trajectory_step_bytes(blackjack, record_observations) == per


def test_rollout_bytes__scale_with_worlds_and_steps(blackjack):
    total, per_world = memory.rollout_bytes(blackjack, 10, 7, record_observations=False)
    assert total == 10 * per_world
    carry = memory.state_bytes(blackjack) + memory.CARRY_EXTRA_BYTES
    assert per_world == memory.CARRY_COPIES * carry + 7 * memory.trajectory_step_bytes(blackjack, False)


def test_check_fits__message_names_estimate_free_memory_and_largest_size():
    free = memory.FreeMemory(1000 * 2**20, "test")
    memory.check_fits(800 * 2**20, "small", 2**20, "worlds", free=free)  # fits in 90%
    with pytest.raises(MemoryBudgetError) as info:
        memory.check_fits(5000 * 2**20, "a rollout of 5,000 worlds", 2**20, "worlds", free=free)
    text = str(info.value)
    assert "a rollout of 5,000 worlds needs about 4.9 GiB" in text
    assert "only 1,000.0 MiB is free (test)" in text
    assert "the largest that fits is about 900 worlds" in text
    assert isinstance(info.value, (HtjaxError, MemoryError))


def test_available_memory__reads_the_machine_and_honours_the_override(monkeypatch):
    monkeypatch.delenv("HTJAX_MEMORY_LIMIT", raising=False)
    free = memory.available_memory()
    assert free.bytes > 0 and free.source
    monkeypatch.setenv("HTJAX_MEMORY_LIMIT", "1.5G")
    assert memory.available_memory() == memory.FreeMemory(int(1.5 * GiB), "HTJAX_MEMORY_LIMIT")
    monkeypatch.setenv("HTJAX_MEMORY_LIMIT", "lots")
    with pytest.raises(InvalidArgumentError, match="HTJAX_MEMORY_LIMIT"):
        memory.available_memory()


def test_rollout__a_billion_worlds_is_refused_within_a_second(blackjack):
    memory.state_bytes(blackjack)  # traced once (cached): the refusal itself is what is timed
    t0 = time.perf_counter()
    with pytest.raises(MemoryBudgetError, match=r"1,000,000,000 worlds x 10 steps needs about .* is free"):
        htjax.rollout(blackjack, htjax.random_policy, jax.random.PRNGKey(0), 10**9, 10)
    assert time.perf_counter() - t0 < 1.0


def test_rollout__the_largest_size_named_is_accepted_and_one_more_refused(blackjack, monkeypatch):
    monkeypatch.setenv("HTJAX_MEMORY_LIMIT", "64M")
    with pytest.raises(MemoryBudgetError) as info:
        memory.check_rollout_fits(blackjack, 10**6, 20)
    largest = int(str(info.value).rsplit("about ", 1)[1].split()[0].replace(",", ""))
    assert largest > 0
    memory.check_rollout_fits(blackjack, largest, 20)
    with pytest.raises(MemoryBudgetError):
        memory.check_rollout_fits(blackjack, largest + 1, 20)


def test_bench__refuses_before_compiling(blackjack):
    from htjax.bench import measure_throughput

    t0 = time.perf_counter()
    with pytest.raises(MemoryBudgetError, match="worlds"):
        measure_throughput(blackjack, 10**9, 100)
    assert time.perf_counter() - t0 < 1.0


def test_format_bytes():
    assert memory.format_bytes(512) == "512 B"
    assert memory.format_bytes(1536) == "1.5 KiB"
    assert memory.format_bytes(3 * GiB) == "3.0 GiB"
