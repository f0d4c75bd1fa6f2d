"""The conformance kit: :func:`check_env` checks a game against the htjax contract.

Run it on every game you write (``htjax.register`` it first if you like, but any
:class:`~htjax.core.env.Env` instance works)::

    import htjax, htjax.testing
    report = htjax.testing.check_env(htjax.make("blackjack", preset="gymnasium"))
    print(report)          # the checks that ran, each with what it looked at

It raises :class:`ConformanceError` (an ``AssertionError``) naming every check that failed. The
checks, each on random legal play from fixed seeds (so a failure reproduces):

=========================  ====================================================================
check                      what must hold
=========================  ====================================================================
``fields``                 public fields have the contract's dtypes and shapes; zero rewards
                           and a legal action at ``init``
``jit_equals_eager``       ``jax.jit(step)`` gives exactly the eager states
``vmap_equals_loop``       a batch under ``vmap`` equals stepping each world alone, including
                           finished worlds and out-of-range actions in the same batch
``traces_once``            the jitted ``init`` and ``step`` every check shares traced once
``finished_no_op``         stepping a finished world changes nothing and pays nothing; its
                           mask is all-True
``illegal_action_rule``    an illegal action terminates, keeps every game field, pays each
                           offender its forfeit plus the penalty; forfeits sum to zero in a
                           ``zero_sum`` game
``illegal_never_pays``     from random reachable states, the offender's illegal-action
                           return is at most its return under every sampled legal
                           continuation (the action, then random legal play to the end)
``masks``                  every state has a legal action until it finishes
``determinism``            the same key and actions give the same episode
``observe``                every seat can be observed, inside the bounds; a bad seat raises
``bounds``                 every observation seen lies within ``observation_bounds``
``bad_actions``            wrong shape, dtype or range raise :class:`InvalidActionError`
``replay``                 :func:`htjax.replay_episode` re-derives every state of an episode
``params``                 default rule parameters passed explicitly (alone and batched)
                           change nothing
=========================  ====================================================================
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import SIMULTANEOUS, Env, Params, State
from htjax.core.errors import HtjaxError, InvalidActionError
from htjax.core.keys import step_key
from htjax.core.rollouts import replay_episode

__all__ = ["check_env", "ConformanceError", "CheckReport"]


class ConformanceError(HtjaxError, AssertionError):
    """An env breaks the contract; the message lists every failed check."""


@dataclasses.dataclass
class CheckReport:
    """What :func:`check_env` ran: ``passed`` maps each check to a short note of what it saw."""

    env: str
    passed: dict[str, str]

    def __str__(self) -> str:
        lines = [f"{self.env}: {len(self.passed)} checks passed"]
        lines += [f"  {name}: {note}" for name, note in self.passed.items()]
        return "\n".join(lines)


_BATCH = 16
"""Worlds per batched call: the vmap check and the illegal-action continuations share it, so
``v_step`` compiles once per :func:`check_env`."""


_EAGER_STEPS = 20
"""Steps of the first episode compared with eager execution: op-by-op dispatch costs about a
second a step for the largest games, and a jit/eager difference shows on the first steps."""


class _Programs:
    """Jitted functions of one env, built once per :func:`check_env` call; ``traces`` counts
    how often each was traced (every check shares them, so the count covers the whole run)."""

    def __init__(self, env: Env, params: Params | None):
        self.env, self.params = env, params
        self.traces = {"init": 0, "step": 0}

        def init(k):
            self.traces["init"] += 1
            return env.init(k, params)

        def step(s, a, k):
            self.traces["step"] += 1
            return env.step(s, a, k, params)

        self.init = jax.jit(init)
        self.step = jax.jit(step)

        # named, so compile logs say jit(v_step) rather than jit(<lambda>)
        self.v_init = _named_jit("v_init", lambda k: jax.vmap(lambda k: env.init(k, params))(k))
        self.v_step = _named_jit("v_step", lambda s, a, k: jax.vmap(lambda *x: env.step(*x, params))(s, a, k))
        self.forfeit = _named_jit("forfeit", lambda s, o: env._forfeit(s, o, env._resolve_params(params)))
        # the seat is traced: one compile serves every seat, and a seat that does not exist
        self.observe = _named_jit("observe", lambda s, seat: env.observe(s, seat, params))
        self.replay = _named_jit("replay", lambda k, a: replay_episode(env, k, a, env_params=params))


def _named_jit(name: str, fn):
    fn.__name__ = fn.__qualname__ = name
    return jax.jit(fn)


def _tree_equal(a: Any, b: Any) -> bool:
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    if jax.tree_util.tree_structure(a) != jax.tree_util.tree_structure(b):
        return False
    return all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(la, lb))


def _first_difference(a: Any, b: Any) -> str:
    pa = jax.tree_util.tree_flatten_with_path(a)[0]
    pb = jax.tree_util.tree_flatten_with_path(b)[0]
    for (path, x), (_, y) in zip(pa, pb):
        if not np.array_equal(np.asarray(x), np.asarray(y)):
            return jax.tree_util.keystr(path)
    return "<structure>"


def _host_worlds(batch: Any, n: int) -> list[Any]:
    """The ``n`` worlds of a batched state as numpy states: one device-to-host copy per leaf and
    numpy slicing, instead of an (op-by-op compiled) JAX slice per leaf and world."""
    host = jax.device_get(batch)
    return [jax.tree_util.tree_map(lambda x: x[i], host) for i in range(n)]


def _game_fields(state: State) -> dict[str, Any]:
    public = set(State.__dataclass_fields__)
    return {k: getattr(state, k) for k in type(state).__dataclass_fields__ if k not in public}


def _random_action(env: Env, state: State, rng: np.random.Generator) -> np.ndarray:
    return _random_legal(env, np.asarray(state.legal_action_mask), rng)


def _random_legal(env: Env, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random legal action of one world's ``legal_action_mask``."""
    if env.simultaneous:
        return np.array([rng.choice(np.flatnonzero(m)) for m in mask], np.int32)
    return np.int32(rng.choice(np.flatnonzero(mask)))


def _episode(p: _Programs, seed: int, max_steps: int) -> tuple[jax.Array, list[State], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    key = jax.random.PRNGKey(seed)
    states, actions = [p.init(key)], []
    while not bool(states[-1].done) and len(actions) < max_steps:
        actions.append(_random_action(p.env, states[-1], rng))
        states.append(p.step(states[-1], actions[-1], step_key(key, len(actions) - 1)))
    return key, states, actions


def check_env(
    env: Env,
    params: Params | None = None,
    *,
    seed: int = 0,
    max_steps: int = 120,
    num_states: int = 6,
    continuations: int = 3,
    eager: bool = True,
) -> CheckReport:
    """Check ``env`` (under rule ``params``, default its config) against the htjax contract.

    Args:
      env: any :class:`~htjax.core.env.Env`.
      params: one world's rule parameters (``env.params(...)``), or ``None``.
      seed: first seed of the random play.
      max_steps: cap on the length of each sampled episode and continuation.
      num_states: reachable states sampled for the illegal-action property.
      continuations: random legal continuations per legal action in that property.
      eager: also compare jitted steps with eager (un-jitted) ones. Eager execution compiles
        every operation on its own, which is slow for large games: a suite checking many
        configs of one game can run it for one of them.

    Returns:
      a :class:`CheckReport` of the checks that ran.

    Raises:
      ConformanceError: naming every failed check and what it found.
    """
    p = _Programs(env, params)
    passed: dict[str, str] = {}
    failed: dict[str, str] = {}
    episodes = [_episode(p, seed + i, max_steps) for i in range(4)]
    checks: list[tuple[str, Callable[[], str]]] = [
        ("fields", lambda: _check_fields(p)),
        (
            "jit_equals_eager",
            lambda: _check_jit_equals_eager(p, episodes[0]) if eager else "skipped (eager=False)",
        ),
        ("vmap_equals_loop", lambda: _check_vmap(p, episodes, seed)),
        ("finished_no_op", lambda: _check_finished(p, episodes)),
        ("illegal_action_rule", lambda: _check_illegal_rule(p, episodes)),
        (
            "illegal_never_pays",
            lambda: _check_illegal_never_pays(p, episodes, num_states, continuations, max_steps, seed),
        ),
        ("masks", lambda: _check_masks(episodes)),
        ("determinism", lambda: _check_determinism(p, episodes[1])),
        ("observe", lambda: _check_observe(p, episodes[0], eager)),
        ("bounds", lambda: _check_bounds(env, episodes)),
        ("bad_actions", lambda: _check_bad_actions(p)),
        ("replay", lambda: _check_replay(p, episodes[0])),
        ("params", lambda: _check_params(p, seed)),
        ("traces_once", lambda: _check_traces_once(p)),  # last: counts every call above
    ]
    for name, check in checks:
        try:
            passed[name] = check()
        except Exception as err:  # noqa: BLE001 - every failure is reported, not just the first
            failed[name] = f"{type(err).__name__}: {err}"
    if failed:
        lines = [f"{env!r} breaks the htjax contract in {len(failed)} check(s):"]
        lines += [f"  {name}: {why}" for name, why in failed.items()]
        raise ConformanceError("\n".join(lines))
    return CheckReport(env=repr(env), passed=passed)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise AssertionError(message)


def _check_fields(p: _Programs) -> str:
    env = p.env
    s = p.init(jax.random.PRNGKey(0))
    n, a = env.num_players, env.num_actions
    _require(
        s.current_player.dtype == jnp.int32 and s.current_player.shape == (), "current_player must be int32[]"
    )
    _require(s.rewards.dtype == jnp.float32 and s.rewards.shape == (n,), f"rewards must be float32[{n}]")
    _require(
        s.terminated.dtype == jnp.bool_ and s.truncated.dtype == jnp.bool_,
        "terminated/truncated must be bool[]",
    )
    _require(
        s.step_count.dtype == jnp.int32 and int(s.step_count) == 0, "step_count must be int32[] and 0 at init"
    )
    mask_shape = (n, a) if env.simultaneous else (a,)
    _require(
        s.legal_action_mask.dtype == jnp.bool_ and s.legal_action_mask.shape == mask_shape,
        f"legal_action_mask must be bool{list(mask_shape)}, got {s.legal_action_mask.dtype}{list(s.legal_action_mask.shape)}",
    )
    obs_shape = ((n,) if env.simultaneous else ()) + tuple(env.observation_shape)
    _require(
        s.observation.shape == obs_shape and s.observation.dtype == env.observation_dtype,
        f"observation must be {env.observation_dtype}{list(obs_shape)}, got {s.observation.dtype}{list(s.observation.shape)}",
    )
    _require(bool(np.all(np.asarray(s.rewards) == 0)), "rewards must be zero at init")
    _require(
        bool(np.asarray(s.legal_action_mask).any(axis=-1).all()), "some seat has no legal action at init"
    )
    _require(len(env.action_labels) == a, f"{len(env.action_labels)} action labels for {a} actions")
    if env.simultaneous:
        _require(
            int(s.current_player) == SIMULTANEOUS, "a simultaneous game's current_player must be SIMULTANEOUS"
        )
    else:
        _require(0 <= int(s.current_player) < n, f"current_player {int(s.current_player)} is not a seat")
    return f"{n} seats, {a} actions, observation {env.observation_dtype}{list(env.observation_shape)}"


def _check_jit_equals_eager(p: _Programs, episode) -> str:
    key, states, actions = episode
    eager = p.env.init(key, p.params)
    _require(_tree_equal(eager, states[0]), f"init differs at {_first_difference(eager, states[0])}")
    for t, a in enumerate(actions[:_EAGER_STEPS]):
        eager = p.env.step(eager, a, step_key(key, t), p.params)
        _require(
            _tree_equal(eager, states[t + 1]),
            f"step {t} differs at {_first_difference(eager, states[t + 1])}",
        )
    return f"{min(len(actions), _EAGER_STEPS)} steps"


def _check_vmap(p: _Programs, episodes, seed: int) -> str:
    env = p.env
    n = _BATCH
    keys = jax.random.split(jax.random.PRNGKey(seed + 100), n)
    batch = p.v_init(keys)
    rng = np.random.default_rng(seed + 100)
    for t in range(10):
        worlds = _host_worlds(batch, n)
        actions = np.stack([_random_action(env, w, rng) for w in worlds])
        skeys = np.asarray(jax.vmap(step_key, in_axes=(0, None))(keys, t))
        batch = p.v_step(batch, jnp.asarray(actions), skeys)
        for i, (w, out) in enumerate(zip(worlds, _host_worlds(batch, n))):
            single = p.step(w, actions[i], skeys[i])
            _require(
                _tree_equal(single, out),
                f"world {i} at step {t} differs at {_first_difference(single, out)}",
            )
    # a batch mixing a finished world, an out-of-range action and ordinary steps
    finished = [e[1][-1] for e in episodes if bool(e[1][-1].done)][:1]
    fresh = [p.init(jax.random.PRNGKey(seed + 200 + i)) for i in range(n - len(finished))]
    worlds = finished + fresh
    actions = [_random_action(env, w, rng) for w in worlds]
    actions[-1] = np.full_like(actions[-1], env.num_actions + 1)
    mixed = jax.tree_util.tree_map(lambda *x: np.stack(x), *jax.device_get(worlds))
    keys = np.asarray(jax.random.split(jax.random.PRNGKey(seed + 300), len(worlds)))
    out = _host_worlds(p.v_step(mixed, jnp.asarray(np.stack(actions)), keys), len(worlds))
    for i, w in enumerate(worlds):
        single = p.step(w, actions[i], keys[i])
        _require(
            _tree_equal(single, out[i]),
            f"mixed batch world {i} differs at {_first_difference(single, out[i])}",
        )
    return f"{n} worlds x 10 steps, and a batch with finished and out-of-range worlds"


def _check_traces_once(p: _Programs) -> str:
    _require(
        p.traces == {"init": 1, "step": 1},
        f"jitted init/step traced {p.traces} times over the checks (expected once)",
    )
    return "jitted init and step traced once over every check"


def _check_finished(p: _Programs, episodes) -> str:
    finals = [e[1][-1] for e in episodes if bool(e[1][-1].done)]
    _require(bool(finals), "no sampled episode finished within max_steps; raise max_steps")
    rng = np.random.default_rng(0)
    for final in finals:
        _require(bool(np.all(np.asarray(final.legal_action_mask))), "terminal mask must be all-True")
        again = p.step(final, _random_action(p.env, final, rng), jax.random.PRNGKey(9))
        _require(bool(np.all(np.asarray(again.rewards) == 0)), "a finished world paid a reward")
        _require(_tree_equal(again.replace(rewards=final.rewards), final), "a finished world changed")
    return f"{len(finals)} finished worlds"


def _illegal_actions(env: Env, state: State) -> list[np.ndarray]:
    """Illegal actions for the seat(s) to act in ``state``: masked ones, and one out of range."""
    mask = np.asarray(state.legal_action_mask)
    if env.simultaneous:
        base = np.array([np.flatnonzero(m)[0] for m in mask], np.int32)
        out = []
        for seat in range(env.num_players):
            for bad in list(np.flatnonzero(~mask[seat])[:1]) + [env.num_actions + 2]:
                a = base.copy()
                a[seat] = bad
                out.append(a)
        return out
    return [np.int32(b) for b in list(np.flatnonzero(~mask)[:2]) + [env.num_actions + 2]]


def _offenders(env: Env, state: State, action: np.ndarray) -> np.ndarray:
    """``bool[num_players]``: the seats whose part of ``action`` is illegal in ``state``."""
    mask = np.asarray(state.legal_action_mask)
    if not env.simultaneous:
        return np.arange(env.num_players) == int(state.current_player)
    acts = np.atleast_1d(action)
    return np.array([not (0 <= a < env.num_actions and mask[i, a]) for i, a in enumerate(acts)])


def _check_illegal_rule(p: _Programs, episodes) -> str:
    env = p.env
    seen = 0
    for _, states, _ in episodes:
        for s in states[:20]:
            if bool(s.done):
                continue
            for action in _illegal_actions(env, s):
                out = p.step(s, action, jax.random.PRNGKey(0))
                _require(bool(out.terminated), "an illegal action must terminate the episode")
                _require(
                    _tree_equal(_game_fields(out), _game_fields(s)), "an illegal action moved game state"
                )
                _require(
                    bool(np.all(np.asarray(out.legal_action_mask))),
                    "mask after an illegal action must be all-True",
                )
                offenders = _offenders(env, s, action)
                forfeit = np.asarray(p.forfeit(s, jnp.asarray(offenders)))
                expected = forfeit + np.where(offenders, env.illegal_action_penalty, 0.0)
                np.testing.assert_allclose(
                    np.asarray(out.rewards), expected.astype(np.float32), rtol=0, atol=1e-5
                )
                _require(
                    bool(np.all(forfeit[offenders] <= 0)), f"an offender gained from its forfeit: {forfeit}"
                )
                if getattr(env, "zero_sum", False):
                    _require(
                        abs(float(forfeit.sum())) < 1e-4,
                        f"forfeits of a zero-sum game sum to {forfeit.sum()}",
                    )
                seen += 1
    _require(seen > 0, "no unfinished state to test")
    return f"{seen} illegal actions (masked and out of range)"


def _check_illegal_never_pays(
    p: _Programs, episodes, num_states: int, continuations: int, max_steps: int, seed: int
) -> str:
    env = p.env
    rng = np.random.default_rng(seed + 7)
    candidates = [(k, s) for (_, states, _) in episodes for k, s in enumerate(states) if not bool(s.done)]
    _require(bool(candidates), "no unfinished state to test")
    picks = [
        candidates[i]
        for i in rng.choice(len(candidates), size=min(num_states, len(candidates)), replace=False)
    ]
    compared = 0
    for n, (_, state) in enumerate(picks):
        bad = _illegal_actions(env, state)[-1]  # out of range: illegal in every game
        out = p.step(state, bad, jax.random.PRNGKey(0))
        actors = np.flatnonzero(_offenders(env, state, bad))
        illegal_return = np.asarray(out.rewards)
        mask = np.asarray(state.legal_action_mask)
        first_moves = (
            [_random_action(env, state, rng) for _ in range(3)]
            if env.simultaneous
            else [np.int32(a) for a in np.flatnonzero(mask)]
        )
        starts = [
            (a0, jax.random.PRNGKey(seed * 1000 + n * 100 + c))
            for a0 in first_moves
            for c in range(continuations)
        ]
        returns = _continuation_returns(p, state, starts, rng, max_steps)
        for (a0, _), ret in zip(starts, returns):
            if ret is None:
                continue
            for seat in actors:
                _require(
                    illegal_return[seat] <= ret[seat] + 1e-5,
                    f"seat {seat}: illegal action returns {illegal_return[seat]:+g} but legal play "
                    f"({env.action_labels[int(np.atleast_1d(a0)[0])]} ...) returned {ret[seat]:+g}",
                )
            compared += 1
    _require(compared > 0, "no legal continuation finished within max_steps; raise max_steps")
    return f"{len(picks)} states, {compared} legal continuations"


def _continuation_returns(
    p: _Programs, state: State, starts: list[tuple[np.ndarray, jax.Array]], rng, max_steps: int
) -> list[np.ndarray | None]:
    """Every seat's return (``float64[num_players]``) from ``state`` for each ``(first action,
    key)`` of ``starts``: that action, then random legal play, step ``t`` keyed
    ``fold_in(key, t)``; ``None`` where the episode does not end within ``max_steps``.

    The continuations run ``_BATCH`` at a time through the batched step (``vmap`` equals a loop
    of single steps: the ``vmap_equals_loop`` check), one call per step for the whole batch."""
    env = p.env
    fold = jax.vmap(jax.random.fold_in, in_axes=(0, None))
    out: list[np.ndarray | None] = []
    for lo in range(0, len(starts), _BATCH):
        chunk = starts[lo : lo + _BATCH]
        padded = chunk + [chunk[-1]] * (_BATCH - len(chunk))
        batch = jax.tree_util.tree_map(lambda x: np.stack([x] * _BATCH), jax.device_get(state))
        actions = np.stack([a for a, _ in padded])
        keys = jnp.stack([k for _, k in padded])
        total = np.zeros((_BATCH, env.num_players), np.float64)
        ended = np.zeros(_BATCH, bool)
        for t in range(max_steps):
            batch = p.v_step(batch, jnp.asarray(actions), fold(keys, t))
            total[~ended] += np.asarray(batch.rewards, np.float64)[~ended]
            ended |= np.asarray(batch.done)
            if ended.all():
                break
            masks = np.asarray(batch.legal_action_mask)
            actions = np.stack([_random_legal(env, m, rng) for m in masks])
        out += [total[i].copy() if ended[i] else None for i in range(len(chunk))]
    return out


def _check_masks(episodes) -> str:
    for _, states, _ in episodes:
        for t, s in enumerate(states):
            mask = np.asarray(s.legal_action_mask)
            _require(bool(mask.any(axis=-1).all()), f"step {t}: a seat has no legal action")
    return f"{sum(len(e[1]) for e in episodes)} states"


def _check_determinism(p: _Programs, episode) -> str:
    key, states, actions = episode
    s = p.init(key)
    for t, a in enumerate(actions):
        s = p.step(s, a, step_key(key, t))
    _require(
        _tree_equal(s, states[-1]),
        f"replaying the same key and actions differs at {_first_difference(s, states[-1])}",
    )
    return f"{len(actions)} steps"


def _check_observe(p: _Programs, episode, eager: bool) -> str:
    env = p.env
    s = episode[1][0]
    low, high = env.observation_bounds
    for seat in range(env.num_players):
        obs = np.asarray(p.observe(s, jnp.int32(seat)))
        _require(obs.shape == tuple(env.observation_shape), f"observe({seat}) has shape {obs.shape}")
        _require(bool(np.all((obs >= low) & (obs <= high))), f"observe({seat}) is outside observation_bounds")
    if not env.simultaneous:
        seat = int(s.current_player)
        _require(
            np.array_equal(np.asarray(p.observe(s, jnp.int32(seat))), np.asarray(s.observation)),
            "observe(current_player) differs from state.observation",
        )
        if eager:  # the concrete-seat path, op by op (slow for large games, as jit_equals_eager)
            _require(
                np.array_equal(np.asarray(env.observe(s, seat, p.params)), np.asarray(s.observation)),
                "eager observe(current_player) differs from state.observation",
            )
    for bad in (env.num_players, -1):
        try:
            env.observe(s, bad, p.params)
        except InvalidActionError:
            continue
        raise AssertionError(f"observe(state, {bad}) did not raise InvalidActionError")
    traced = p.observe(s, jnp.int32(env.num_players + 3))
    _require(not np.asarray(traced).any(), "a traced seat that does not exist must get an all-zero view")
    return f"{env.num_players} seats"


def _check_bounds(env: Env, episodes) -> str:
    low, high = env.observation_bounds
    shape = tuple(env.observation_shape)
    _require(
        np.shape(low) == shape and np.shape(high) == shape, f"observation_bounds must have shape {shape}"
    )
    count = 0
    for _, states, _ in episodes:
        for t, s in enumerate(states):
            obs = np.asarray(s.observation)
            ok = (obs >= low) & (obs <= high)
            if not ok.all():
                idx = np.argwhere(~ok)[0]
                raise AssertionError(
                    f"observation entry {idx.tolist()} = {obs[tuple(idx)]} at step {t} is outside the bounds"
                )
            count += 1
    return f"{count} observations"


def _check_bad_actions(p: _Programs) -> str:
    env = p.env
    s = p.init(jax.random.PRNGKey(7))
    shape = (env.num_players,) if env.simultaneous else ()
    cases = {
        "out of range (high)": np.full(shape, env.num_actions, np.int32),
        "out of range (negative)": np.full(shape, -1, np.int32),
        "float dtype": np.full(shape, 0.0, np.float32),
        "wrong shape": np.zeros(shape + (2,), np.int32),
    }
    for what, action in cases.items():
        try:
            env.step(s, action, jax.random.PRNGKey(0), p.params)
        except InvalidActionError:
            continue
        raise AssertionError(f"a {what} action did not raise InvalidActionError")
    return f"{len(cases)} kinds of bad action"


def _check_replay(p: _Programs, episode) -> str:
    key, states, actions = episode
    if not actions:
        return "empty episode"
    acts = jnp.asarray(np.stack(actions), jnp.int32)
    replayed = _host_worlds(p.replay(key, acts), len(states))  # jitted: no op-by-op init before the scan
    for t, s in enumerate(states):
        _require(
            _tree_equal(replayed[t], s),
            f"replayed state {t} differs at {_first_difference(replayed[t], s)}",
        )
    return f"{len(actions)} steps"


def _check_params(p: _Programs, seed: int) -> str:
    env, params, init = p.env, p.params, p.init  # the shared jitted init: no recompile
    fields = type(env.config).PARAM_FIELDS
    if not fields:
        return "the game has no rule parameters"
    explicit = env.default_params if params is None else params
    key = jax.random.PRNGKey(seed)
    a = init(key)
    b = jax.jit(env.init)(key, jax.tree_util.tree_map(jnp.asarray, explicit))
    _require(_tree_equal(a, b), f"init with traced parameters differs at {_first_difference(a, b)}")
    batch = {k: jnp.stack([jnp.asarray(v)] * 3) for k, v in explicit.items()}
    keys = jax.random.split(key, 3)
    c = _host_worlds(jax.jit(jax.vmap(env.init))(keys, batch), 3)
    for i in range(3):
        single = init(keys[i])
        _require(_tree_equal(c[i], single), "batched parameters differ from the same parameters alone")
    return f"{len(fields)} rule parameters: {list(fields)}"
