"""record -> save -> load -> replay reproduces the rollout's states, for every registered env."""

from __future__ import annotations

import jax
import numpy as np
import pytest
import toy_envs
from sync_helpers import ENV_IDS

import htjax
import htjax.sync as sync

NUM_WORLDS, NUM_STEPS, WORLDS = 4, 40, [0, 3]


@pytest.fixture(scope="module", params=ENV_IDS)
def recorded(request):
    env = htjax.make(request.param)
    out = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(11), NUM_WORLDS, NUM_STEPS)
    docs = sync.record(env, out.trajectory, WORLDS, policy="random", checkpoint_every=4)
    return env, out.trajectory, docs


def test_record__one_document_per_episode_including_auto_reset_and_unfinished(recorded):
    env, traj, docs = recorded
    ep_index = np.asarray(traj.episode_index)
    for col, w in enumerate(WORLDS):
        mine = [d for d in docs if d.header.world == w]
        assert [d.header.episode_index for d in mine] == sorted(set(ep_index[:, w].tolist()))
        lengths = [d.outcome().length for d in mine]
        assert sum(lengths) == NUM_STEPS
        done = np.asarray(traj.terminated | traj.truncated)[:, w]
        assert [d.outcome().finished for d in mine[:-1]] == [True] * (len(mine) - 1)
        assert mine[-1].outcome().finished == bool(done[-1])
        for d in mine:
            assert d.header.episode_key == tuple(
                np.asarray(traj.episode_key)[np.argmax(ep_index[:, w] == d.header.episode_index), w].tolist()
            )


def test_record_save_load_replay__identical_states(recorded, tmp_path):
    env, traj, docs = recorded
    paths = []
    for i, d in enumerate(docs):
        paths.append(tmp_path / f"{i}{sync.FILE_SUFFIX}")
        sync.save(d, paths[-1])
    replays = sync.replay_many([sync.load(p) for p in paths])
    obs = np.asarray(traj.observation)
    rewards = np.asarray(traj.rewards)
    step_index, ep_index = np.asarray(traj.step_index), np.asarray(traj.episode_index)
    for d, r in zip(docs, replays):
        w, e = d.header.world, d.header.episode_index
        ts = np.flatnonzero(ep_index[:, w] == e)
        assert r.length == len(ts) == d.outcome().length
        assert r.verified[0] == 0 and r.verified[-1] == r.length
        np.testing.assert_array_equal(np.asarray(r.states.observation)[step_index[ts, w]], obs[ts, w])
        np.testing.assert_array_equal(np.asarray(r.states.rewards)[1:], rewards[ts, w])
        assert r.outcome == d.outcome()
        assert not r.derivation.rejected
    # a second replay from the same documents gives the same states, leaf for leaf
    again = sync.replay_many([sync.load(p) for p in paths])
    for a, b in zip(replays, again):
        jax.tree_util.tree_map(np.testing.assert_array_equal, a.states, b.states)


def test_record__log_entries_name_seat_actor_and_time(recorded):
    env, traj, docs = recorded
    d = docs[0]
    entries = d.entries()
    per_step = env.num_players if env.simultaneous else 1
    assert len(entries) == d.outcome().length * per_step
    for e in entries:
        assert e.actor == d.header.seats[e.seat].actor == f"random/seat{e.seat}"
        assert e.time.tzinfo is not None
    assert d.header.seats[0] == sync.Seat("random/seat0", "policy", "random")


@pytest.fixture(scope="module")
def high_card_rollout():
    env = toy_envs.HighCard()
    out = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(3), 4, 16)
    return env, out


def test_record__episode_started_before_the_trajectory_is_an_error_unless_skipped(high_card_rollout):
    env, out = high_card_rollout
    later = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(3), 4, 16, carry=out.carry)
    traj = later.trajectory
    w = int(np.argmax(np.asarray(traj.step_index)[0] > 0))
    assert np.asarray(traj.step_index)[0, w] > 0
    with pytest.raises(sync.RecordError, match=f"world {w}: episode .* started before this trajectory"):
        sync.record(env, traj, [w])
    docs = sync.record(env, traj, [w], skip_incomplete=True)
    assert all(d.header.episode_index > np.asarray(traj.episode_index)[0, w] for d in docs)


def test_record__bad_worlds_and_seats_are_rejected(high_card_rollout):
    env, out = high_card_rollout
    for worlds in ([], [4], [-1], [True], ["0"]):
        with pytest.raises(sync.RecordError, match="worlds must be"):
            sync.record(env, out.trajectory, worlds)
    with pytest.raises(sync.RecordError, match="seats must be 2 Seat objects"):
        sync.record(env, out.trajectory, [0], seats=[sync.Seat("solo")])
    with pytest.raises(sync.RecordError, match="checkpoint_every"):
        sync.record(env, out.trajectory, [0], checkpoint_every=0)
    with pytest.raises(ValueError, match="seat kind"):
        sync.Seat("x", kind="robot")


def test_record__an_illegal_action_in_the_trajectory_is_reported(high_card_rollout):
    env, out = high_card_rollout
    traj = out.trajectory
    mask = np.asarray(traj.legal_action_mask)[:, 1]
    t = int(np.argmax(~mask[:, 0]))  # a step where "draw" is illegal for world 1
    assert not mask[t, 0]
    actions = np.asarray(traj.action).copy()
    actions[t, 1] = 0
    with pytest.raises(sync.RecordError, match="illegal action"):
        sync.record(env, traj.replace(action=actions), [1])


def test_record__a_trajectory_of_another_env_does_not_replay(high_card_rollout):
    env, out = high_card_rollout
    other = toy_envs.HighCard(max_draws=1)
    with pytest.raises(sync.RecordError, match="does not reproduce|seat|illegal"):
        sync.record(other, out.trajectory, [0, 1, 2, 3])


# ---------------------------------------------------------------------------- public view hook
class ViewedHighCard(toy_envs.HighCard):
    def public_view(self, state):
        """Spectator view: whose turn and who stood (hands stay hidden)."""
        return {
            "to_move": int(state.current_player),
            "stood": [bool(x) for x in state.stood],
            "done": bool(state.terminated),
        }

    def render_text(self, state, seat=None):
        return f"to move: {int(state.current_player)}"


def test_record__public_view_hook_is_recorded_per_step(high_card_rollout):
    _, out = high_card_rollout
    env = ViewedHighCard()
    docs = sync.record(env, out.trajectory, [2], public_view=True)
    r = sync.replay(docs[0])
    views = docs[0].views()
    assert len(views) == r.length + 1
    for t, v in enumerate(views):
        assert v == {
            "to_move": int(r.states.current_player[t]),
            "stood": np.asarray(r.states.stood[t]).tolist(),
            "done": bool(r.states.terminated[t]),
        }
    # a game without its own view records the Env default: the public State fields
    plain = sync.record(toy_envs.HighCard(), out.trajectory, [2], public_view=True)[0].views()
    assert [v["current_player"] for v in plain] == np.asarray(r.states.current_player).tolist()
    assert set(plain[0]) == {"current_player", "step_count", "rewards", "terminated", "truncated"}
