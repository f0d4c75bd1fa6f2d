"""Measure the carry-sized buffers alive at the peak of a compiled rollout (htjax.core.memory.CARRY_COPIES).

For every registered env (and preset), compiles the rollout of N worlds x T steps and reads XLA's
``memory_analysis()``: argument + output + temporaries, less the trajectory, over one carry.

    python scripts/measure_memory_factor.py [N] [T]
"""

from __future__ import annotations

import sys

import jax

import htjax
from htjax.core import memory
from htjax.core.rollouts import _compiled_steps, random_policy, rollout_start
from htjax.envs import env_class


def main(n: int = 1024, t: int = 8) -> None:
    print("| env | preset | record obs | carry B/world | peak B/world (XLA) | carry copies |")
    print("|---|---|---|---:|---:|---:|")
    worst = 0.0
    for env_id in htjax.available_envs():
        for preset in (None, *sorted(env_class(env_id).config_class.PRESETS)):
            env = htjax.make(env_id, preset=preset)
            carry = rollout_start(env, jax.random.PRNGKey(0), n)
            for rec in (False, True):
                fn = _compiled_steps(env, random_policy, t, "select", rec, None)
                ma = fn.lower(carry, None).compile().memory_analysis()
                peak = (
                    ma.argument_size_in_bytes
                    + ma.output_size_in_bytes
                    + ma.temp_size_in_bytes
                    - ma.alias_size_in_bytes
                )
                traj = t * memory.trajectory_step_bytes(env, rec)
                c = memory.state_bytes(env) + memory.CARRY_EXTRA_BYTES
                copies = (peak / n - traj) / c
                worst = max(worst, copies)
                print(f"| {env_id} | {preset or '-'} | {rec} | {c} | {peak / n:,.0f} | {copies:.2f} |")
    print(f"\nlargest: {worst:.2f} carry copies (CARRY_COPIES = {memory.CARRY_COPIES})")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
