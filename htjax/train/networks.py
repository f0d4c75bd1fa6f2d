"""Actor-critic MLP in plain JAX: parameters are a plain pytree of arrays.

Layout (what :func:`init_params` returns and the ONNX exporter reads)::

    params = {
        "actor":  [{"w": float32[in, h1], "b": float32[h1]}, ..., {"w": float32[hk, A], "b": float32[A]}],
        "critic": [{"w": float32[in, h1], "b": float32[h1]}, ..., {"w": float32[hk, 1], "b": float32[1]}],
    }

Actor and critic are separate MLPs (as in Stable-Baselines3's default ``MlpPolicy``), with the
hidden sizes and activation (``tanh`` or ``relu``) of a :class:`NetworkSpec`. The observation is
flattened and cast to ``float32`` first. Illegal actions get the logit :data:`MASKED_LOGIT`, a
large finite negative number: after a softmax their probability is exactly ``0.0`` in float32,
while ``log_softmax`` and entropy stay finite (``0 * -1e9 == 0``, where ``-inf`` would give NaN).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.config import check_choice, check_int
from htjax.core.errors import ConfigError
from htjax.train.errors import InvalidArgumentError

__all__ = [
    "MASKED_LOGIT",
    "ACTIVATIONS",
    "NetworkSpec",
    "init_params",
    "apply",
    "masked_logits",
    "action_probabilities",
    "sample_action",
    "greedy_action",
    "network_policy",
    "param_count",
]

MASKED_LOGIT = -1e9
ACTIVATIONS = ("tanh", "relu")


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """Static shape of an actor-critic network.

    Attributes:
      obs_shape: shape of one observation (flattened to ``obs_size`` values).
      num_actions: number of discrete actions ``A``.
      hidden: hidden layer sizes, shared by actor and critic (e.g. ``(64, 64)``).
      activation: ``"tanh"`` or ``"relu"``.
    """

    obs_shape: tuple[int, ...]
    num_actions: int
    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"

    def __post_init__(self) -> None:
        if not isinstance(self.obs_shape, tuple) or not all(
            isinstance(d, int) and d > 0 for d in self.obs_shape
        ):
            raise ConfigError(
                f"config field 'obs_shape' must be a tuple of positive ints, got {self.obs_shape!r}"
            )
        check_int("num_actions", self.num_actions, 1)
        if not isinstance(self.hidden, tuple) or not self.hidden:
            raise ConfigError(f"config field 'hidden' must be a non-empty tuple of ints, got {self.hidden!r}")
        for h in self.hidden:
            check_int("hidden", h, 1, 4096)
        check_choice("activation", self.activation, ACTIVATIONS)

    @property
    def obs_size(self) -> int:
        return int(np.prod(self.obs_shape, dtype=np.int64))

    def to_dict(self) -> dict[str, Any]:
        return {
            "obs_shape": list(self.obs_shape),
            "num_actions": self.num_actions,
            "hidden": list(self.hidden),
            "activation": self.activation,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "NetworkSpec":
        return cls(
            obs_shape=tuple(int(d) for d in values["obs_shape"]),
            num_actions=int(values["num_actions"]),
            hidden=tuple(int(h) for h in values["hidden"]),
            activation=str(values["activation"]),
        )


def _orthogonal(key: jax.Array, shape: tuple[int, int], scale: float) -> jax.Array:
    return jax.nn.initializers.orthogonal(scale)(key, shape, jnp.float32)


def _mlp_init(key: jax.Array, sizes: list[int], last_scale: float) -> list[dict[str, jax.Array]]:
    keys = jax.random.split(key, len(sizes) - 1)
    layers = []
    for i, (k, n_in, n_out) in enumerate(zip(keys, sizes[:-1], sizes[1:])):
        scale = last_scale if i == len(sizes) - 2 else math.sqrt(2.0)
        layers.append({"w": _orthogonal(k, (n_in, n_out), scale), "b": jnp.zeros(n_out, jnp.float32)})
    return layers


def init_params(
    spec: NetworkSpec, key: jax.Array, actor_scale: float = 0.01
) -> dict[str, list[dict[str, jax.Array]]]:
    """Orthogonal initialisation (PPO's usual scales: sqrt(2) hidden, ``actor_scale`` policy head
    (0.01: a near-uniform first policy), 1 value head); biases zero."""
    ka, kc = jax.random.split(key)
    sizes = [spec.obs_size, *spec.hidden]
    return {
        "actor": _mlp_init(ka, sizes + [spec.num_actions], actor_scale),
        "critic": _mlp_init(kc, sizes + [1], 1.0),
    }


def _mlp(layers, x: jax.Array, activation: str) -> jax.Array:
    act = jnp.tanh if activation == "tanh" else jax.nn.relu
    for layer in layers[:-1]:
        x = act(x @ layer["w"] + layer["b"])
    return x @ layers[-1]["w"] + layers[-1]["b"]


def _flat(spec: NetworkSpec, observation: jax.Array) -> jax.Array:
    x = jnp.asarray(observation).astype(jnp.float32)
    nd = len(spec.obs_shape)
    if tuple(x.shape[x.ndim - nd :]) != spec.obs_shape:
        raise InvalidArgumentError(
            f"observation of shape {tuple(x.shape)} does not end in the network's obs_shape {spec.obs_shape}"
        )
    return x.reshape(x.shape[: x.ndim - nd] + (spec.obs_size,))


def masked_logits(logits: jax.Array, legal_action_mask: jax.Array) -> jax.Array:
    """``logits`` with illegal actions set to :data:`MASKED_LOGIT`."""
    return jnp.where(legal_action_mask, logits, MASKED_LOGIT)


def apply(
    spec: NetworkSpec, params, observation: jax.Array, legal_action_mask: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Masked logits ``float32[..., A]`` and value ``float32[...]`` of a (batch of) observation(s).

    ``observation`` is ``[..., *obs_shape]`` (any dtype) and ``legal_action_mask`` ``bool[..., A]``.
    """
    x = _flat(spec, observation)
    logits = _mlp(params["actor"], x, spec.activation)
    value = _mlp(params["critic"], x, spec.activation)[..., 0]
    return masked_logits(logits, legal_action_mask), value


def action_probabilities(spec: NetworkSpec, params, observation, legal_action_mask) -> jax.Array:
    """``float32[..., A]`` softmax of the masked logits (illegal actions exactly ``0``)."""
    logits, _ = apply(spec, params, observation, legal_action_mask)
    return jax.nn.softmax(logits, axis=-1) * legal_action_mask


def sample_action(logits: jax.Array, key: jax.Array) -> jax.Array:
    """``int32`` action sampled from masked logits."""
    return jax.random.categorical(key, logits, axis=-1).astype(jnp.int32)


def greedy_action(logits: jax.Array) -> jax.Array:
    """``int32`` most probable action of masked logits."""
    return jnp.argmax(logits, axis=-1).astype(jnp.int32)


def network_policy(spec: NetworkSpec, *, greedy: bool = False):
    """A rollout policy ``policy(params, observation, mask, key) -> int32[]`` for this network."""

    def policy(params, observation, legal_action_mask, key):
        logits, _ = apply(spec, params, observation, legal_action_mask)
        return greedy_action(logits) if greedy else sample_action(logits, key)

    return policy


def param_count(params) -> int:
    return int(sum(np.prod(np.shape(p)) for p in jax.tree_util.tree_leaves(params)))
