#!/usr/bin/env python
"""World tiles against one loop, paired in one process: env steps per second and per CPU-second.

Compiles ``htjax.bench``'s timed chunk (random legal actions, auto-reset, observations not
recorded) once as one loop over all the worlds and once per tile size (``world_tile``), checks
that every tiled chunk returns exactly the one-loop chunk's carry and episode count, then times
the chunks interleaved (``--reps`` rounds) and prints the median of each. Interleaving in one
process makes the comparison fair on a shared machine; CPU-seconds (``time.process_time``, all
threads) are the figure to read when the machine is busy.

    python scripts/bench_world_tiles.py                                # casino, 65,536 worlds
    python scripts/bench_world_tiles.py --num-envs 65536 --tiles 4096,8192,16384
    python scripts/bench_world_tiles.py --env blackjack --preset gymnasium --num-envs 262144
    python scripts/bench_world_tiles.py --num-envs 8192 --tiles 1024,2048 --host-devices 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def _tiles(text: str) -> tuple[int, ...]:
    try:
        tiles = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--tiles must be comma-separated world counts, got {text!r}"
        ) from None
    if not tiles or any(t < 1 for t in tiles):
        raise argparse.ArgumentTypeError(f"--tiles must be positive world counts, got {text!r}")
    return tiles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="blackjack")
    parser.add_argument("--preset", default=None)
    parser.add_argument("--num-envs", type=int, default=65536)
    parser.add_argument("--tiles", type=_tiles, default=(4096, 8192, 16384))
    parser.add_argument("--steps", type=int, default=50, help="steps per timed chunk")
    parser.add_argument("--reps", type=int, default=5, help="interleaved rounds")
    parser.add_argument(
        "--host-devices",
        type=int,
        default=1,
        help="split the CPU into this many XLA devices (tiles per device)",
    )
    args = parser.parse_args(argv)
    for name in ("num_envs", "steps", "reps", "host_devices"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive int")
    if args.num_envs % args.host_devices:
        parser.error(f"--host-devices {args.host_devices} must divide --num-envs {args.num_envs}")
    share = args.num_envs // args.host_devices
    bad = [t for t in args.tiles if share % t]
    if bad:
        parser.error(f"--tiles {bad} do not divide each device's {share} worlds")
    if args.host_devices > 1:
        flag = f"--xla_force_host_platform_device_count={args.host_devices}"
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}"

    import jax

    import htjax
    from htjax import bench
    from htjax.core.rollouts import carry_mesh, random_policy

    env = htjax.make(args.env, preset=args.preset)
    n, steps = args.num_envs, args.steps
    bench.check_memory(env, n, steps, 1)
    devices = "all" if args.host_devices > 1 else None
    if devices and jax.device_count() != args.host_devices:
        parser.error(f"JAX started with {jax.device_count()} devices (import jax after setting XLA_FLAGS)")
    carry = bench._start_fn(env, n, devices)(jax.random.PRNGKey(0))
    mesh = carry_mesh(carry)
    variants = {None: None, **{t: t for t in args.tiles}}
    chunks = {
        tile: bench._chunk_fn(env, random_policy, steps, "select", None, mesh, tile)
        .lower(carry, None)
        .compile()
        for tile in variants
    }
    first = {tile: chunk(carry, None) for tile, chunk in chunks.items()}
    reference = jax.tree_util.tree_leaves(first[None][:2])
    for tile in args.tiles:  # the same values, only a different order of work
        leaves = jax.tree_util.tree_leaves(first[tile][:2])
        if not all(bool((a == b).all()) for a, b in zip(reference, leaves)):
            print(f"tiles of {tile} changed the result", file=sys.stderr)
            return 1
    state = {tile: out[0] for tile, out in first.items()}
    times: dict = {tile: [] for tile in variants}
    for _ in range(args.reps):
        for tile, chunk in chunks.items():
            cpu, wall = time.process_time(), time.perf_counter()
            out = chunk(state[tile], None)
            jax.block_until_ready(out)
            times[tile].append((time.perf_counter() - wall, time.process_time() - cpu))
            state[tile] = out[0]
    work = n * steps
    print(
        f"{env.id} ({args.preset or 'default'}), {n:,} worlds"
        + (f", {args.host_devices} host devices" if args.host_devices > 1 else "")
        + f", chunks of {steps} steps, median of {args.reps}"
    )
    print(f"{'loop':>18} {'steps/s':>12} {'per CPU-s':>12}")
    for tile, rows in times.items():
        wall = sorted(r[0] for r in rows)[len(rows) // 2]
        cpu = sorted(r[1] for r in rows)[len(rows) // 2]
        label = "one loop" if tile is None else f"tiles of {tile:,}"
        print(f"{label:>18} {work / wall:12,.0f} {work / cpu:12,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
