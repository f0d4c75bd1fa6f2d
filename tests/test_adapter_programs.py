"""htjax.adapters.programs: packed layouts, the synchronous program device, one call per step."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from htjax.adapters.gym_env import HtjaxGymEnv
from htjax.adapters.programs import CHUNK_BYTES, Layout, program_device

FIELDS = {
    "flag": np.array(True),
    "mask": np.array([True, False, True]),
    "small": np.array([-3, 7], np.int8),
    "bytes": np.arange(5, dtype=np.uint8),
    "half": np.array([[1.5, -2.0]], np.float16),
    "shorts": np.array([-30000, 123], np.int16),
    "words": np.array([[1, -2], [3, 2**31 - 1]], np.int32),
    "key": np.array([0xDEADBEEF, 7], np.uint32),
    "floats": np.array([0.1, -np.inf, np.nan], np.float32),
    "empty": np.zeros((0, 4), np.float32),
}


@pytest.fixture(scope="module")
def roundtrip():
    layout = Layout.of(FIELDS)
    pack = jax.jit(layout.pack)
    unpack = jax.jit(layout.unpack)
    return layout, pack, unpack


def test_layout__packs_and_unpacks_every_dtype_bit_for_bit(roundtrip):
    layout, pack, unpack = roundtrip
    chunks = pack(FIELDS)
    assert all(c.dtype == jnp.uint8 and c.shape == (size,) for c, size in zip(chunks, layout.sizes))
    back = unpack(chunks)
    hosts = [np.asarray(c) for c in chunks]
    for name, value in FIELDS.items():
        for got in (np.asarray(back[name]), layout.read(hosts, name)):
            assert got.dtype == value.dtype and got.shape == value.shape, name
            np.testing.assert_array_equal(got.view(np.uint8), value.view(np.uint8), err_msg=name)


def test_layout__fields_are_aligned_and_never_overlap(roundtrip):
    layout, _, _ = roundtrip
    taken: dict[int, set[int]] = {}
    for name, value in FIELDS.items():
        chunk, where = layout.place[name]
        assert where.start % value.dtype.itemsize == 0, name
        assert where.stop - where.start == value.nbytes, name
        spots = set(range(where.start, where.stop))
        assert not spots & taken.setdefault(chunk, set()), name
        taken[chunk] |= spots
        assert where.stop <= layout.sizes[chunk]


def test_layout__chunks_stay_within_the_sequential_threshold():
    fields = [(f"f{i}", (40,), np.float32) for i in range(10)]  # 10 x 160 bytes
    fields += [("big", (300,), np.float32)]  # 1,200 bytes: more than a chunk, alone in its own
    layout = Layout(fields)
    big_chunk = layout.place["big"][0]
    assert layout.sizes[big_chunk] == 1200
    assert [n for n in layout.place if layout.place[n][0] == big_chunk] == ["big"]
    others = [size for i, size in enumerate(layout.sizes) if i != big_chunk]
    assert all(size <= CHUNK_BYTES for size in others) and sum(others) == 1600
    assert len(others) == 4  # 3 x 160 fit in 512, so 10 fields need 4 chunks


def test_layout__pack_refuses_a_field_of_another_dtype_or_shape(roundtrip):
    layout, _, _ = roundtrip
    wrong = dict(FIELDS, words=FIELDS["words"].astype(np.float32))
    with pytest.raises(TypeError, match="'words' is float32"):
        layout.pack(wrong)
    with pytest.raises(TypeError, match="'small' is int8"):
        layout.pack(dict(FIELDS, small=np.zeros(3, np.int8)))


def test_program_device__a_private_synchronous_cpu_device_the_user_never_sees():
    device = program_device()
    assert device is program_device()  # one per process
    if jax.default_backend() != "cpu":
        assert device == jax.local_devices()[0]
        return
    assert device.platform == "cpu"
    assert device not in jax.devices() and device.client is not jax.devices()[0].client
    # the user's default device is untouched: new arrays still land there
    assert jnp.ones(2).devices() == {jax.devices()[0]}


@pytest.fixture(scope="module")
def blackjack():
    return HtjaxGymEnv("blackjack", preset="gymnasium", observation="classic")


def test_step__one_call_on_the_program_device_with_packed_buffers(blackjack):
    blackjack.reset(seed=3)
    program = blackjack._program
    assert all(size <= CHUNK_BYTES for size in program.state_layout.sizes + program.out_layout.sizes)
    assert len(program.state_layout.sizes) == 1 and len(program.out_layout.sizes) == 1
    blackjack.step(1)
    blackjack.step(np.int64(1))  # numpy ints (SB3's actions) take the fast path too
    blackjack.step(np.int32(0))
    assert program.step._cache_size() == 1  # one trace for every action type
    assert all(chunk.devices() == {program.device} for chunk in blackjack._buffers)
    # the state handed to users lives on JAX's default device
    assert jax.tree.leaves(blackjack.state)[0].devices() == {jax.devices()[0]}


def test_reset__next_episode_is_derived_on_the_device_like_a_seeded_start(blackjack):
    """reset() without a seed continues the world's stream in the compiled call; it must start
    the same episode as asking for that index explicitly."""
    from htjax.core.keys import episode_key_for

    blackjack.reset(seed=9)
    blackjack.reset()
    second = blackjack.episode_key
    np.testing.assert_array_equal(second, np.asarray(episode_key_for(np.array([0, 9], np.uint32), 1)))
    state = jax.device_get(blackjack.state)
    buffers, _ = blackjack._program.init(np.array([0, 9], np.uint32), np.int32(1))
    jax.tree.map(np.testing.assert_array_equal, state, jax.device_get(blackjack._program.unpack(buffers)))
