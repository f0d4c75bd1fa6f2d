"""``htjax demo``: thousands of batched blackjack worlds, then a summary of what happened.

The demo is a list of *stages* (:data:`STAGES`); each stage is a function of a
:class:`DemoContext` that runs something, shows progress and adds rows to the summary. The
first stage plays blackjack's casino rules with a random policy and with a fixed strategy;
later stages (training, ONNX export, CRDT replay) append themselves to :data:`STAGES`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
from rich.console import Console
from rich.table import Table

from htjax.agents.blackjack import fixed_strategy_policy
from htjax.bench import EpisodeReturns, check_memory, measure_throughput
from htjax.console import progress_bar
from htjax.core.env import Env
from htjax.core.errors import InvalidArgumentError
from htjax.core.rollouts import random_policy
from htjax.envs import make

__all__ = ["DemoContext", "DemoStage", "STAGES", "run_demo", "fixed_strategy_policy"]

_POLICIES = ("random", "fixed strategy")


def _demo_policy(
    params: jax.Array, observation: jax.Array, legal_action_mask: jax.Array, key: jax.Array
) -> jax.Array:
    """``params`` (traced ``int32[]``) picks the policy, so one compilation serves both."""
    return jnp.where(
        params == 0,
        random_policy(None, observation, legal_action_mask, key),
        fixed_strategy_policy(None, observation, legal_action_mask, key),
    )


def _seat0_returns(traj) -> tuple[jax.Array, jax.Array]:
    return traj.rewards[..., 0], traj.done


@dataclasses.dataclass
class DemoContext:
    """What stages share: settings, the console and the summary table's rows."""

    console: Console
    num_envs: int
    steps: int
    seed: int
    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)


DemoStage = Callable[[DemoContext], None]


def _play(ctx: DemoContext, env: Env, policy_index: int) -> float:
    """Run one policy of :data:`_POLICIES`; add its row; return its compile seconds."""
    name = _POLICIES[policy_index]
    returns = EpisodeReturns(ctx.num_envs)
    total = ctx.num_envs * ctx.steps
    with progress_bar(ctx.console) as bar:
        task = bar.add_task(f"{name} (compiling)", total=total)
        result = measure_throughput(
            env,
            ctx.num_envs,
            ctx.steps,
            policy=_demo_policy,
            params=jnp.int32(policy_index),
            key=jax.random.PRNGKey(ctx.seed),
            rules="casino",
            chunks=max(1, min(20, ctx.steps // 50)),
            reduce=_seat0_returns,
            on_chunk=lambda extra: returns.add(*jax.device_get(extra)),
            progress=lambda done: bar.update(task, completed=min(done, total), description=name),
        )
        bar.update(task, completed=total, description=name)
    ctx.rows.append(
        {
            "policy": name,
            "worlds": result.num_envs,
            "env steps": result.env_steps,
            "episodes": returns.episodes,
            "mean return": returns.mean,
            "env steps/s": result.steps_per_second,
        }
    )
    return result.compile_seconds


def stage_batched_blackjack(ctx: DemoContext) -> None:
    """Casino blackjack, one seat: a random policy and a fixed strategy, ``num_envs`` worlds each."""
    env = make("blackjack", preset="casino")
    ctx.console.print(
        f"[bold]Blackjack[/] (casino rules: {env.config.num_decks} decks, bets {list(env.config.bet_menu)}): "
        f"{ctx.num_envs:,} worlds x {ctx.steps:,} steps per policy on {jax.devices()[0].platform}"
    )
    compile_seconds = sum(_play(ctx, env, i) for i in range(len(_POLICIES)))
    ctx.notes.append(
        f"Compile (init + rollout step, once for both policies): {compile_seconds:.1f} s. "
        "Returns are chip deltas in bet units per round (one round = one episode). The fixed "
        "strategy bets the smallest bet, declines insurance, hits below 17 (soft 18) and stands "
        "otherwise; the random policy bets and plays uniformly among legal actions."
    )


def stage_record_replay(ctx: DemoContext, steps: int = 200) -> None:
    """Record a few worlds of the random-policy batch as Automerge episode logs, then replay-verify them.

    The first ``steps`` steps of the same worlds, rolled out again from the same key and policy
    (the key schedule makes them identical to the batch above).
    """
    from htjax.core.rollouts import rollout
    from htjax.sync.commands import record_and_verify

    env = make("blackjack", preset="casino")
    worlds = sorted({0, ctx.num_envs // 2, ctx.num_envs - 1})
    out = rollout(
        env,
        _demo_policy,
        jax.random.PRNGKey(ctx.seed),
        ctx.num_envs,
        min(steps, ctx.steps),
        params=jnp.int32(0),
        record_observations=False,
    )
    record_and_verify(ctx.console, env, out.trajectory, worlds, policy=_POLICIES[0])


STAGES: list[DemoStage] = [stage_batched_blackjack, stage_record_replay]
"""Stages run in order by :func:`run_demo`; later features append theirs."""


def _summary_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="htjax demo: what ran")
    columns = list(rows[0]) if rows else []
    for c in columns:
        table.add_column(c, justify="left" if c == "policy" else "right")
    for row in rows:
        cells = []
        for c in columns:
            v = row[c]
            if isinstance(v, float):
                cells.append(f"{v:+.3f}" if "return" in c else f"{v:,.0f}")
            elif isinstance(v, int):
                cells.append(f"{v:,}")
            else:
                cells.append(str(v))
        table.add_row(*cells)
    return table


def run_demo(
    console: Console, *, num_envs: int = 4096, steps: int = 1000, seed: int = 0, stages=None
) -> DemoContext:
    """Run every stage, then print the summary table; returns the context (rows, notes).

    Raises:
      InvalidArgumentError: sizes that are not positive ints.
      MemoryBudgetError: ``num_envs`` worlds would not fit in free memory (checked first).
    """
    if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in (num_envs, steps)):
        raise InvalidArgumentError(f"num_envs and steps must be positive, got {num_envs} and {steps}")
    check_memory(make("blackjack", preset="casino"), num_envs, steps, chunks=max(1, min(20, steps // 50)))
    ctx = DemoContext(console=console, num_envs=num_envs, steps=steps, seed=seed)
    for stage in STAGES if stages is None else stages:
        stage(ctx)
    console.print(_summary_table(ctx.rows))
    for note in ctx.notes:
        console.print(note)
    return ctx


def print_web_hint(console: Console) -> None:
    """The demo's last line: how to open the web page (``htjax serve``, ``docs/web.md``)."""
    console.print(
        "Play in your browser: run [bold]htjax serve[/] and open the address it prints (docs/web.md).",
        soft_wrap=True,  # one line whatever the terminal's width
    )
