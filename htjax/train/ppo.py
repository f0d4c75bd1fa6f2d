"""PPO on batched htjax worlds: rollout, GAE and minibatch epochs in one jitted update.

:func:`make_train` returns a :class:`Trainer` whose ``train_step(runner_state) ->
(runner_state, metrics)`` is one ``jax.jit``-ed PPO update:

1. **Rollout.** ``num_steps`` steps of ``num_envs`` worlds with auto-reset, using the core key
   schedule (:func:`htjax.core.rollouts.rollout_start` makes the carry; episode ``e`` of world
   ``w`` starts from ``episode_key_for(world_key_w, e)``, step ``t`` uses ``step_key``). The
   learner's masked-softmax policy acts for its seats, opponents (see
   :mod:`htjax.train.selfplay`) for the others. The learner's log-probability and value are
   recorded at every decision it takes.
2. **GAE per acting seat.** In a multi-seat turn-based game a seat's reward may arrive at a step
   where *another* seat acts (a hand of poker pays both seats at the step that ends it). So each
   seat ``s`` has its own chain of transitions: the transition of a decision of ``s`` at step
   ``t`` collects every reward ``s`` receives from step ``t`` up to its next decision ``t'`` (or
   the episode's end), and bootstraps from the value of that next decision. Discounting
   (``gamma``) and ``gae_lambda`` apply per decision of the seat, not per env step. A chain that
   reaches the end of the rollout inside an episode bootstraps from the value of the seat's view
   of the last state (``env.observe(state, s)``), and the rewards it would still have collected
   are left to that estimate, exactly as a truncated rollout does in one-seat PPO. At a
   *truncated* episode end, one-seat and simultaneous games bootstrap from the value of the final
   observation; multi-seat turn-based games treat truncation like termination.
   Simultaneous games have one decision per seat per step, so every seat's chain is ordinary GAE.
3. **Update.** ``update_epochs`` passes over the learner's decisions in ``num_minibatches``
   shuffled minibatches: clipped surrogate, value MSE, entropy bonus, global-norm clipping, Adam
   (optax). Steps where an opponent acted carry zero weight. The learning rate (``anneal_to``) and
   the entropy coefficient (``ent_anneal_to``) can decay linearly over ``anneal_updates`` updates.

Everything is seeded: the same ``(env, config, opponents, key)`` gives the same parameters
bit for bit on the same machine.

**Devices and processes.** ``make_train(..., devices="all")`` splits the worlds over every device
of every process (after :func:`htjax.core.distributed.initialize`; see ``docs/scale.md``): the
update runs under ``jax.shard_map``, each device collects, scores and shuffles its own worlds'
decisions (world ``w`` draws the policy key it has in the whole batch), takes its minibatch
gradients and averages them over every device (``lax.pmean``) before the shared Adam step, so
parameters stay identical everywhere. A run over 2 processes x 2 devices equals one process with
4 devices bit for bit up to the order of the all-reduce (1e-6); it differs from an unsplit run
(minibatches are drawn per device).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import chex
import jax
import jax.numpy as jnp
import optax
from jax.sharding import PartitionSpec as P

from htjax.core.config import check_bool, check_choice, check_float, check_int
from htjax.core.distributed import replicated, world_mesh
from htjax.core.env import Env
from htjax.core.errors import ConfigError
from htjax.core.keys import policy_key
from htjax.core.rollouts import RolloutCarry, rollout_start, step_worlds
from htjax.train import networks as nets
from htjax.train.selfplay import Opponents, learner_seats

__all__ = ["PPOConfig", "RunnerState", "Trainer", "make_train", "gae_for_seat"]


@dataclasses.dataclass(frozen=True)
class PPOConfig:
    """Hyper-parameters of a PPO run (frozen, hashable, validated at construction).

    Attributes:
      num_envs: worlds stepped together ``N``.
      num_steps: rollout length ``T`` per update (``T * N`` env steps per update).
      num_minibatches, update_epochs: minibatches per epoch and epochs per update.
      learning_rate: Adam step size; ``anneal_to`` (fraction) decays it linearly to
        ``learning_rate * anneal_to`` over ``anneal_updates`` updates (0 = constant).
      gamma, gae_lambda: discount and GAE parameter (per decision of a seat).
      clip_eps, ent_coef, vf_coef, max_grad_norm: the usual PPO coefficients.
      ent_anneal_to: fraction; the entropy coefficient decays linearly from ``ent_coef`` to
        ``ent_coef * ent_anneal_to`` over the same ``anneal_updates`` updates (1 = constant, the
        default; 0 anneals the bonus away, so the policy can settle on its best actions).
      hidden, activation: network shape (see :class:`htjax.train.networks.NetworkSpec`).
      actor_init_scale: gain of the policy head's orthogonal initialisation (0.01, the default,
        starts from a near-uniform policy; 1.0 starts with state-dependent logits, as a default
        flax/PyTorch ``Dense`` layer does: see ``docs/training.md``).
      snapshot_pool: ``K > 0`` plays against the last ``K`` snapshots (two-player games).
      snapshot_every: updates between snapshots.
      normalize_advantages: standardise advantages per minibatch.
    """

    num_envs: int = 64
    num_steps: int = 32
    num_minibatches: int = 4
    update_epochs: int = 4
    learning_rate: float = 3e-4
    anneal_to: float = 1.0
    anneal_updates: int = 0
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    ent_coef: float = 0.01
    ent_anneal_to: float = 1.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    actor_init_scale: float = 0.01
    snapshot_pool: int = 0
    snapshot_every: int = 10
    normalize_advantages: bool = True

    def __post_init__(self) -> None:
        check_int("num_envs", self.num_envs, 1, 1 << 22)
        check_int("num_steps", self.num_steps, 1, 1 << 16)
        check_int("num_minibatches", self.num_minibatches, 1, 1 << 16)
        check_int("update_epochs", self.update_epochs, 1, 1000)
        check_float("learning_rate", self.learning_rate, 0.0, 1.0)
        check_float("anneal_to", self.anneal_to, 0.0, 1.0)
        check_int("anneal_updates", self.anneal_updates, 0)
        check_float("gamma", self.gamma, 0.0, 1.0)
        check_float("gae_lambda", self.gae_lambda, 0.0, 1.0)
        check_float("clip_eps", self.clip_eps, 0.0, 10.0)
        check_float("ent_coef", self.ent_coef, 0.0, 10.0)
        check_float("ent_anneal_to", self.ent_anneal_to, 0.0, 1.0)
        check_float("vf_coef", self.vf_coef, 0.0, 100.0)
        check_float("max_grad_norm", self.max_grad_norm, 0.0, 1e6)
        check_choice("activation", self.activation, nets.ACTIVATIONS)
        check_float("actor_init_scale", self.actor_init_scale, 0.0, 100.0)
        if not isinstance(self.hidden, tuple) or not self.hidden:
            raise ConfigError(f"config field 'hidden' must be a non-empty tuple of ints, got {self.hidden!r}")
        for h in self.hidden:
            check_int("hidden", h, 1, 4096)
        check_int("snapshot_pool", self.snapshot_pool, 0, 1024)
        check_int("snapshot_every", self.snapshot_every, 1)
        check_bool("normalize_advantages", self.normalize_advantages)
        if (self.num_envs * self.num_steps) % self.num_minibatches:
            raise ConfigError(
                f"config field 'num_minibatches' ({self.num_minibatches}) must divide "
                f"num_envs * num_steps ({self.num_envs * self.num_steps})"
            )

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["hidden"] = list(self.hidden)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "PPOConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(f"unknown PPOConfig field(s) {unknown}; valid fields: {sorted(names)}")
        v = dict(values)
        if "hidden" in v:
            if not isinstance(v["hidden"], (list, tuple)):
                raise ConfigError(f"config field 'hidden' must be a list of ints, got {v['hidden']!r}")
            v["hidden"] = tuple(v["hidden"])
        return cls(**v)

    def replace(self, **changes: Any) -> "PPOConfig":
        return dataclasses.replace(self, **changes)


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class RunnerState:
    """Everything a PPO run carries between updates.

    Attributes:
      params: learner parameters (see :mod:`htjax.train.networks`).
      opt_state: optax state.
      carry: rollout carry (batched env state and key streams).
      update: ``int32[]`` updates done.
      pool: snapshot parameters stacked on a leading ``[K]`` axis (``None`` without a pool).
      pool_count: ``int32[]`` snapshots taken so far (the pool holds ``min(count, K)``).
      opponent_params: parameters of fixed opponents (a tuple; ``()`` without).
      key: ``uint32[2]`` key of the minibatch shuffles.
    """

    params: Any
    opt_state: Any
    carry: RolloutCarry
    update: jax.Array
    pool: Any
    pool_count: jax.Array
    opponent_params: Any
    key: jax.Array


def gae_for_seat(
    rewards: jax.Array,
    decision: jax.Array,
    value: jax.Array,
    done: jax.Array,
    end_value: jax.Array,
    last_value: jax.Array,
    gamma: float,
    gae_lambda: float,
) -> jax.Array:
    """Advantages of one seat's decisions, ``float32[T, N]`` (zero where it did not decide).

    Args:
      rewards: ``float32[T, N]`` the seat's reward at each step.
      decision: ``bool[T, N]`` the seat decided at that step.
      value: ``float32[T, N]`` value of the seat's decision (read where ``decision``).
      done: ``bool[T, N]`` the step ended the episode.
      end_value: ``float32[T, N]`` value the seat bootstraps from when the episode ends at that
        step (0 when terminated; the final observation's value when truncated).
      last_value: ``float32[N]`` value of the seat's view after the last step.
    """

    def body(c, x):
        next_v, next_adv, acc = c
        r, dec, v, d, ev = x
        next_v = jnp.where(d, ev, next_v)
        next_adv = jnp.where(d, 0.0, next_adv)
        acc = jnp.where(d, 0.0, acc) + r
        adv = acc + gamma * next_v - v + gamma * gae_lambda * next_adv
        next_v = jnp.where(dec, v, next_v)
        next_adv = jnp.where(dec, adv, next_adv)
        acc = jnp.where(dec, 0.0, acc)
        return (next_v, next_adv, acc), jnp.where(dec, adv, 0.0)

    zeros = jnp.zeros_like(last_value)
    _, adv = jax.lax.scan(
        body, (last_value, zeros, zeros), (rewards, decision, value, done, end_value), reverse=True
    )
    return adv


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class _Batch:
    observation: jax.Array
    legal_action_mask: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    learner: jax.Array
    current_player: jax.Array
    rewards: jax.Array
    done: jax.Array
    truncated: jax.Array
    final_observation: jax.Array


class Trainer:
    """A compiled PPO run for one ``(env, config, opponents)``; build with :func:`make_train`.

    Attributes:
      spec: the network's :class:`~htjax.train.networks.NetworkSpec`.
      train_step: jitted ``RunnerState -> (RunnerState, metrics)``; metrics are ``float32[]``.
      steps_per_update: env steps per update (``num_envs * num_steps``).
    """

    def __init__(self, env: Env, config: PPOConfig, opponents: Opponents | None = None, devices=None):
        if opponents is not None and config.snapshot_pool:
            raise ConfigError("use either fixed opponents or snapshot_pool > 0, not both")
        if (opponents is not None or config.snapshot_pool) and env.num_players < 2:
            raise ConfigError(f"{env.id} has one seat: opponents and snapshot_pool need a game of 2+ seats")
        self.env = env
        self.config = config
        self.opponents = opponents
        self.mode = (
            "opponents" if opponents is not None else ("pool" if config.snapshot_pool else "all_seats")
        )
        self.spec = nets.NetworkSpec(
            obs_shape=tuple(env.observation_shape),
            num_actions=env.num_actions,
            hidden=config.hidden,
            activation=config.activation,
        )
        self.steps_per_update = config.num_envs * config.num_steps
        self.mesh = None if devices is None else world_mesh(devices)
        if self.mesh is not None and self.mesh.size == 1:
            self.mesh = None
        if self.mesh is not None:
            d = self.mesh.size
            if config.num_envs % d or (config.num_envs // d * config.num_steps) % config.num_minibatches:
                raise ConfigError(
                    f"config field 'num_envs' ({config.num_envs}) must split evenly over {d} devices, and "
                    f"num_minibatches ({config.num_minibatches}) must divide each device's "
                    f"num_envs / {d} * num_steps decisions"
                )
        schedule: Any = config.learning_rate
        if config.anneal_updates:
            total = config.anneal_updates * config.update_epochs * config.num_minibatches
            schedule = optax.linear_schedule(
                config.learning_rate, config.learning_rate * config.anneal_to, total
            )
        self.optimizer = optax.chain(
            optax.clip_by_global_norm(config.max_grad_norm), optax.adam(schedule, eps=1e-5)
        )
        self.train_step = jax.jit(self._train_step if self.mesh is None else self._sharded_train_step)

    # ----------------------------------------------------------------- set-up
    def init(self, key: jax.Array, opponent_params: tuple | None = None) -> RunnerState:
        """A fresh run from ``key``: parameters, optimiser, worlds and snapshot pool."""
        key = jnp.asarray(jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key)
        k_params, k_env, k_shuffle = jax.random.split(key, 3)
        params = nets.init_params(self.spec, k_params, self.config.actor_init_scale)
        pool = None
        if self.mode == "pool":
            k = self.config.snapshot_pool
            pool = jax.tree_util.tree_map(lambda p: jnp.broadcast_to(p, (k,) + p.shape), params)
        if opponent_params is None:
            opponent_params = self.opponents.params if self.opponents is not None else ()
        devices = None if self.mesh is None else list(self.mesh.devices.flat)
        shared = dict(
            params=params,
            opt_state=self.optimizer.init(params),
            update=jnp.int32(0),
            pool=pool,
            pool_count=jnp.int32(1),
            opponent_params=tuple(opponent_params),
            key=k_shuffle,
        )
        if self.mesh is not None:  # global values, the same on every device of every process
            shared = replicated(shared, self.mesh)
        return RunnerState(
            carry=rollout_start(self.env, k_env, self.config.num_envs, devices=devices), **shared
        )

    def policy(self, *, greedy: bool = False):
        """The learner as a rollout policy ``policy(params, observation, mask, key)``."""
        return nets.network_policy(self.spec, greedy=greedy)

    # ----------------------------------------------------------------- acting
    def _opponent_action(self, rs: RunnerState, state, seat, world, episode, key):
        if self.mode == "pool":
            filled = jnp.minimum(rs.pool_count, self.config.snapshot_pool)
            index = (world + episode) % filled
            obs = state.observation[seat] if self.env.simultaneous else state.observation
            mask = state.legal_action_mask[seat] if self.env.simultaneous else state.legal_action_mask
            logits, _ = jax.vmap(lambda p: nets.apply(self.spec, p, obs, mask))(rs.pool)
            return nets.sample_action(logits[index], key)
        if self.mode == "opponents":
            index = (world + episode) % len(self.opponents)
            return self.opponents.act(rs.opponent_params, index, state, seat, key)
        return jnp.int32(0)

    def _act_world(self, rs: RunnerState, state, seats, world, episode, key):
        """One world's action, with the learner's log-prob, value and which seats it played."""
        k_learn, k_opp = jax.random.split(key)
        if self.env.simultaneous:
            p = self.env.num_players
            logits, value = nets.apply(self.spec, rs.params, state.observation, state.legal_action_mask)
            a_learn = jax.vmap(nets.sample_action)(logits, jax.random.split(k_learn, p))
            opp_keys = jax.random.split(k_opp, p)
            a_opp = jax.vmap(lambda s, k: self._opponent_action(rs, state, s, world, episode, k))(
                jnp.arange(p), opp_keys
            )
            learner = seats
        else:
            logits, value = nets.apply(self.spec, rs.params, state.observation, state.legal_action_mask)
            a_learn = nets.sample_action(logits, k_learn)
            seat = jnp.clip(state.current_player, 0, self.env.num_players - 1)
            a_opp = self._opponent_action(rs, state, seat, world, episode, k_opp)
            learner = seats[seat]
        log_prob = jnp.take_along_axis(jax.nn.log_softmax(logits, axis=-1), a_learn[..., None], axis=-1)[
            ..., 0
        ]
        action = jnp.where(learner, a_learn, a_opp).astype(jnp.int32)
        return action, log_prob, value, learner

    def _collect(self, rs: RunnerState, first: jax.Array | int = 0):
        """Roll out the carry's worlds; ``first`` is the index of its first world in the whole
        batch (a device's share under :meth:`_sharded_train_step`), which picks their keys and seats."""
        env, cfg = self.env, self.config
        n, total = rs.carry.episode_index.shape[0], cfg.num_envs
        share = (lambda x: x) if n == total else (lambda x: jax.lax.dynamic_slice_in_dim(x, first, n))  # noqa: E731
        seats = share(learner_seats(env, total, self.mode == "all_seats"))
        worlds = first + jnp.arange(n, dtype=jnp.int32)

        def one_step(c: RolloutCarry, _):
            state = c.state
            keys = share(jax.random.split(policy_key(c.policy_key, c.t), total))
            action, log_prob, value, learner = jax.vmap(
                functools.partial(self._act_world, rs), in_axes=(0, 0, 0, 0, 0)
            )(state, seats, worlds, c.episode_index, keys)
            nxt, new_carry = step_worlds(env, c, action)
            done = nxt.terminated | nxt.truncated
            record = _Batch(
                observation=state.observation,
                legal_action_mask=state.legal_action_mask,
                action=action,
                log_prob=log_prob,
                value=value,
                learner=learner,
                current_player=state.current_player,
                rewards=nxt.rewards,
                done=done,
                truncated=nxt.truncated,
                final_observation=nxt.observation,
            )
            return new_carry, record

        carry, batch = jax.lax.scan(one_step, rs.carry, None, length=cfg.num_steps)
        return carry, batch, seats

    # ----------------------------------------------------------------- advantages
    def _advantages(self, rs: RunnerState, carry: RolloutCarry, b: _Batch, seats):
        env, cfg, spec = self.env, self.config, self.spec
        value_of = lambda obs: nets.apply(spec, rs.params, obs, jnp.ones(spec.num_actions, bool))[1]  # noqa: E731
        gae = functools.partial(gae_for_seat, gamma=cfg.gamma, gae_lambda=cfg.gae_lambda)
        p = env.num_players
        if env.simultaneous:
            last = value_of(carry.state.observation)  # [N, P]
            end = jnp.where(b.truncated[..., None], value_of(b.final_observation), 0.0)  # [T, N, P]
            adv = jax.vmap(gae, in_axes=(2, 2, 2, None, 2, 1), out_axes=2)(
                b.rewards, b.learner, b.value, b.done, end, last
            )
            return adv, adv + b.value
        if p == 1:
            last = value_of(carry.state.observation)[:, None]
            end = jnp.where(b.truncated, value_of(b.final_observation), 0.0)[..., None]
        else:
            views = jnp.stack([jax.vmap(env.observe, in_axes=(0, None))(carry.state, s) for s in range(p)], 1)
            last = value_of(views)  # [N, P]
            end = jnp.zeros(b.done.shape + (p,), jnp.float32)
        decision = (b.current_player[..., None] == jnp.arange(p)) & b.learner[..., None]  # [T, N, P]
        adv_seats = jax.vmap(gae, in_axes=(2, 2, None, None, 2, 1), out_axes=2)(
            b.rewards, decision, b.value, b.done, end, last
        )
        adv = jnp.sum(jnp.where(decision, adv_seats, 0.0), axis=-1)
        return adv, adv + b.value

    # ----------------------------------------------------------------- update
    def ent_coef_at(self, update: jax.Array) -> jax.Array:
        """``float32[]`` entropy coefficient of update number ``update`` (0-based): ``ent_coef``
        decaying linearly to ``ent_coef * ent_anneal_to`` over ``anneal_updates`` updates."""
        cfg = self.config
        if not cfg.anneal_updates or cfg.ent_anneal_to == 1.0:
            return jnp.float32(cfg.ent_coef)
        frac = jnp.clip(jnp.asarray(update, jnp.float32) / cfg.anneal_updates, 0.0, 1.0)
        return jnp.float32(cfg.ent_coef) * (1.0 - frac * (1.0 - cfg.ent_anneal_to))

    def _loss(self, params, mb, ent_coef):
        cfg = self.config
        logits, value = nets.apply(self.spec, params, mb["observation"], mb["legal_action_mask"])
        log_probs = jax.nn.log_softmax(logits, axis=-1)
        log_prob = jnp.take_along_axis(log_probs, mb["action"][..., None], axis=-1)[..., 0]
        w = mb["weight"]
        wsum = jnp.maximum(w.sum(), 1.0)
        mean = lambda x: jnp.sum(w * x) / wsum  # noqa: E731
        adv = mb["advantage"]
        if cfg.normalize_advantages:
            mu = mean(adv)
            adv = (adv - mu) / (jnp.sqrt(mean((adv - mu) ** 2)) + 1e-8)
        log_ratio = log_prob - mb["log_prob"]
        ratio = jnp.exp(log_ratio)
        pg = -jnp.minimum(ratio * adv, jnp.clip(ratio, 1.0 - cfg.clip_eps, 1.0 + cfg.clip_eps) * adv)
        entropy = -jnp.sum(jnp.exp(log_probs) * log_probs, axis=-1)
        pg_loss, v_loss, ent = mean(pg), 0.5 * mean((value - mb["target"]) ** 2), mean(entropy)
        loss = pg_loss + cfg.vf_coef * v_loss - ent_coef * ent
        aux = {
            "policy_loss": pg_loss,
            "value_loss": v_loss,
            "entropy": ent,
            "approx_kl": mean((ratio - 1.0) - log_ratio),
            "clip_fraction": mean((jnp.abs(ratio - 1.0) > cfg.clip_eps).astype(jnp.float32)),
        }
        return loss, aux

    def _sharded_train_step(self, rs: RunnerState):
        """:meth:`_train_step` per device under ``shard_map``: worlds split, the rest replicated."""
        worlds = P("worlds")
        carry_spec = RolloutCarry(
            state=worlds,
            world_key=worlds,
            episode_index=worlds,
            episode_key=worlds,
            policy_key=P(),
            t=P(),
            env_params=None if rs.carry.env_params is None else worlds,
        )
        spec = RunnerState(
            params=P(),
            opt_state=P(),
            carry=carry_spec,
            update=P(),
            pool=None if rs.pool is None else P(),
            pool_count=P(),
            opponent_params=P(),
            key=P(),
        )
        return jax.shard_map(
            functools.partial(self._train_step, axis="worlds"),
            mesh=self.mesh,
            in_specs=(spec,),
            out_specs=(spec, P()),
            check_vma=False,
        )(rs)

    def _train_step(self, rs: RunnerState, axis: str | None = None):
        """One update; with ``axis`` (under ``shard_map``) on this device's worlds, with the
        gradients averaged and the metrics totalled over ``axis``."""
        cfg = self.config
        first = 0 if axis is None else jax.lax.axis_index(axis) * rs.carry.episode_index.shape[0]
        carry, b, seats = self._collect(rs, first)
        adv, target = self._advantages(rs, carry, b, seats)
        lead = adv.ndim  # 2 (turn-based) or 3 (simultaneous: [T, N, P])
        flat = lambda x: x.reshape((-1,) + x.shape[lead:])  # noqa: E731
        data = {
            "observation": flat(b.observation),
            "legal_action_mask": flat(b.legal_action_mask),
            "action": flat(b.action),
            "log_prob": flat(b.log_prob),
            "advantage": flat(adv),
            "target": flat(target),
            "weight": flat(b.learner.astype(jnp.float32)),
        }
        size = data["action"].shape[0]
        mb_size = size // cfg.num_minibatches
        ent_coef = self.ent_coef_at(rs.update)

        def epoch(c, key):
            params, opt_state = c
            if axis is not None:  # each device shuffles its own decisions its own way
                key = jax.random.fold_in(key, jax.lax.axis_index(axis))
            perm = jax.random.permutation(key, size)
            shuffled = jax.tree_util.tree_map(
                lambda x: x[perm].reshape((cfg.num_minibatches, mb_size) + x.shape[1:]), data
            )

            def minibatch(c2, mb):
                params, opt_state = c2
                (_, aux), grads = jax.value_and_grad(self._loss, has_aux=True)(params, mb, ent_coef)
                if axis is not None:  # data parallel: every device applies the mean gradient
                    grads = jax.lax.pmean(grads, axis)
                updates, opt_state = self.optimizer.update(grads, opt_state, params)
                return (optax.apply_updates(params, updates), opt_state), aux

            return jax.lax.scan(minibatch, (params, opt_state), shuffled)

        key, k_epochs = jax.random.split(rs.key)
        (params, opt_state), aux = jax.lax.scan(
            epoch, (rs.params, rs.opt_state), jax.random.split(k_epochs, cfg.update_epochs)
        )
        update = rs.update + 1
        pool, pool_count = rs.pool, rs.pool_count
        if self.mode == "pool":
            take = update % cfg.snapshot_every == 0
            slot = pool_count % cfg.snapshot_pool
            pool = jax.tree_util.tree_map(
                lambda stack, p: jnp.where(take, stack.at[slot].set(p), stack), pool, params
            )
            pool_count = pool_count + take.astype(jnp.int32)
        metrics = self._metrics(b, seats, axis)
        mean = (lambda x: x) if axis is None else (lambda x: jax.lax.pmean(x, axis))  # noqa: E731
        metrics.update({k: mean(jnp.mean(v)) for k, v in aux.items()})
        metrics["ent_coef"] = ent_coef
        new_rs = rs.replace(
            params=params,
            opt_state=opt_state,
            carry=carry,
            update=update,
            pool=pool,
            pool_count=pool_count,
            key=key,
        )
        return new_rs, metrics

    def _metrics(self, b: _Batch, seats, axis: str | None = None):
        total = (lambda x: x) if axis is None else (lambda x: jax.lax.psum(x, axis))  # noqa: E731
        episodes = total(b.done.sum().astype(jnp.float32))
        learner_reward = total(jnp.sum(b.rewards * seats[None].astype(jnp.float32)))
        seats_per_world = jnp.sum(seats[0]).astype(jnp.float32)  # the same in every world
        return {
            "env_steps": jnp.float32(self.steps_per_update),
            "episodes": episodes,
            "return_per_episode": learner_reward / jnp.maximum(episodes, 1.0) / seats_per_world,
            "reward_per_step": learner_reward / self.steps_per_update / seats_per_world,
        }


def make_train(
    env: Env, config: PPOConfig | None = None, opponents: Opponents | None = None, *, devices=None
) -> Trainer:
    """Build the PPO :class:`Trainer` of ``env`` (jit compiles on the first ``train_step``).

    ``devices`` (``"all"`` or a list) splits the worlds over devices, across processes too after
    :func:`htjax.core.distributed.initialize`; gradients are averaged over every device."""
    return Trainer(env, config if config is not None else PPOConfig(), opponents, devices)
