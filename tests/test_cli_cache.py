"""htjax.program_cache: compiled programs saved once, loaded without tracing; keyed by what they run."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import htjax
from htjax import program_cache


@pytest.fixture
def cache(tmp_path):
    program_cache.enable(tmp_path)
    yield tmp_path
    program_cache.disable()


def test_a_program_is_compiled_once_then_loaded_without_tracing(cache):
    env = htjax.make("prisoners_dilemma")
    traces = []

    def init_twice(key):
        traces.append(1)  # runs only while tracing
        s = env.init(key)
        return s.replace(step_count=s.step_count + 2)

    tree = jax.tree_util.tree_structure(jax.eval_shape(env.init, jax.ShapeDtypeStruct((2,), jnp.uint32)))
    make = lambda: program_cache.jit(init_twice, name="t", env=env, out_tree=lambda args: tree)  # noqa: E731
    key = jax.random.PRNGKey(3)
    first = make()(key)
    assert len(traces) == 1 and len(list(cache.glob("t-*.jaxexport"))) == 1
    second = make()(key)  # a new wrapper, as in a new process: loads the file
    assert len(traces) == 1
    for a, b in zip(jax.tree_util.tree_leaves(first), jax.tree_util.tree_leaves(second)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert int(second.step_count) == 2
    # other rules: another program
    other = htjax.make("prisoners_dilemma", rounds=7)
    program_cache.jit(init_twice, name="t", env=other, out_tree=lambda args: tree)(key)
    assert len(traces) == 2 and len(list(cache.glob("t-*.jaxexport"))) == 2


def test_a_damaged_file_is_compiled_again(cache):
    f = program_cache.jit(
        lambda x: x * 2, name="double", out_tree=lambda args: jax.tree_util.tree_structure(args[0])
    )
    f(jnp.arange(3))
    (path,) = cache.glob("double-*.jaxexport")
    path.write_bytes(b"junk")
    g = program_cache.jit(
        lambda x: x * 2, name="double", out_tree=lambda args: jax.tree_util.tree_structure(args[0])
    )
    np.testing.assert_array_equal(np.asarray(g(jnp.arange(3))), [0, 2, 4])


def test_off_it_is_jax_jit(tmp_path):
    program_cache.disable()
    f = program_cache.jit(
        lambda x: x + 1, name="inc", out_tree=lambda args: jax.tree_util.tree_structure(args[0])
    )
    assert int(f(jnp.int32(1))) == 2 and not list(tmp_path.iterdir())


def test_eval_shape_is_saved_once_then_loaded_without_tracing(cache):
    env = htjax.make("prisoners_dilemma", rounds=5)
    traces = []

    def init_of(env):  # a new function each time, as in a new process (JAX caches traces per function)
        def init(key):
            traces.append(1)  # runs only while tracing
            return env.init(key)

        return init

    spec = jax.ShapeDtypeStruct((2,), jnp.uint32)
    first = program_cache.eval_shape(init_of(env), spec, name="shape-t", env=env)
    assert len(traces) == 1 and len(list(cache.glob("shape-t-*.shape.pickle"))) == 1
    program_cache._SHAPES.clear()  # as in a new process: only the file remains
    second = program_cache.eval_shape(init_of(env), spec, name="shape-t", env=env)
    assert len(traces) == 1
    assert jax.tree_util.tree_structure(first) == jax.tree_util.tree_structure(second)
    assert [(x.shape, x.dtype) for x in jax.tree_util.tree_leaves(first)] == [
        (x.shape, x.dtype) for x in jax.tree_util.tree_leaves(second)
    ]
    # other rules: evaluated again; a damaged file: evaluated again
    other = htjax.make("prisoners_dilemma", rounds=6)
    program_cache.eval_shape(init_of(other), spec, name="shape-t", env=other)
    assert len(traces) == 2
    for path in cache.glob("shape-t-*.shape.pickle"):
        path.write_bytes(b"junk")
    program_cache._SHAPES.clear()
    again = program_cache.eval_shape(init_of(env), spec, name="shape-t", env=env)
    assert len(traces) == 3
    assert jax.tree_util.tree_structure(again) == jax.tree_util.tree_structure(first)
