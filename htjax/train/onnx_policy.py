"""Run an exported ONNX policy anywhere: numpy batches, ``htjax.rollout``, adapters, opponents.

:class:`OnnxPolicy` needs only ``onnxruntime`` and ``numpy`` to evaluate (no training code)::

    policy = OnnxPolicy.load("policies/blackjack.onnx", env)      # refuses another env/layout
    probs, value = policy.evaluate(observations, masks)          # float32[B, A], float32[B]
    actions = policy.act(observations, masks, np.random.default_rng(0))

Inside JAX (``htjax.rollout``, opponents in training, the IPD tournament), use
:meth:`OnnxPolicy.jax_policy`: a rollout policy ``policy(params, observation, mask, key)`` whose
probabilities come from onnxruntime through ``jax.pure_callback`` (batched under ``vmap``) and
whose sampling uses the JAX key, so rollouts stay reproducible.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import Env, HtjaxError
from htjax.train.checkpoint import check_env_matches, env_from_summary
from htjax.train.onnx_export import INPUT_MASK, INPUT_OBSERVATION, ONNX_FORMAT, OUTPUT_PROBABILITIES, OUTPUT_VALUE

__all__ = ["OnnxModelError", "OnnxPolicy"]


class OnnxModelError(HtjaxError, ValueError):
    """An ``.onnx`` file is missing, corrupt, or not an htjax policy."""


class OnnxPolicy:
    """An htjax ONNX policy loaded in onnxruntime.

    Attributes:
      path: the file.
      metadata: the model's ``htjax.*`` metadata (strings).
      env_summary: the env it was trained for (``describe`` plus layout hash).
      observation_shape, num_actions, action_labels: its interface.
    """

    def __init__(self, session, metadata: dict[str, str], path: pathlib.Path | None = None, model=None):
        self._session = session
        self._model = model
        self.metadata = metadata
        self.path = path
        self.env_summary: dict[str, Any] = json.loads(metadata["htjax.env"])
        self.observation_shape = tuple(self.env_summary["observation_shape"])
        self.num_actions = int(self.env_summary["num_actions"])
        self.action_labels = tuple(self.env_summary["action_labels"])
        self._jax_policies: dict[bool, Any] = {}

    # --------------------------------------------------------------- loading
    @classmethod
    def load(cls, path: str | pathlib.Path, env: Env | None = None) -> "OnnxPolicy":
        """Load ``path``; with ``env``, refuse a policy made for another env or observation layout.

        Raises:
          OnnxModelError: missing or corrupt file, or an ONNX model that is not an htjax policy.
          htjax.train.checkpoint.EnvMismatchError: ``env`` differs (the message names the field).
        """
        import onnx
        import onnxruntime as ort

        path = pathlib.Path(path)
        if not path.is_file():
            raise OnnxModelError(f"no ONNX file at {str(path)!r}")
        data = path.read_bytes()
        try:
            model = onnx.load_model_from_string(data)
            onnx.checker.check_model(model)
        except Exception as err:  # onnx raises DecodeError, ValidationError, ... for damaged files
            raise OnnxModelError(f"{path}: not a valid ONNX model (corrupt or truncated?): {err}") from err
        metadata = {p.key: p.value for p in model.metadata_props}
        if metadata.get("htjax.format") != ONNX_FORMAT:
            raise OnnxModelError(
                f"{path}: not an htjax policy (metadata htjax.format is {metadata.get('htjax.format')!r}, "
                f"expected {ONNX_FORMAT!r})"
            )
        names_in = [i.name for i in model.graph.input]
        names_out = [o.name for o in model.graph.output]
        if names_in != [INPUT_OBSERVATION, INPUT_MASK] or names_out != [OUTPUT_PROBABILITIES, OUTPUT_VALUE]:
            raise OnnxModelError(f"{path}: unexpected inputs {names_in} / outputs {names_out}")
        try:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as err:
            raise OnnxModelError(f"{path}: onnxruntime cannot load the model: {err}") from err
        policy = cls(session, metadata, path, model)
        if env is not None:
            check_env_matches(policy.env_summary, env, f"ONNX policy {path.name}")
        return policy

    def to_params(self):
        """The network's parameters and :class:`~htjax.train.networks.NetworkSpec`, read back from the
        file's initializers, so JAX can evaluate exactly the shipped weights at full speed."""
        from onnx import numpy_helper

        from htjax.train.networks import NetworkSpec

        spec = NetworkSpec.from_dict(json.loads(self.metadata["htjax.network"]))
        weights = {t.name: numpy_helper.to_array(t) for t in self._model.graph.initializer}
        params = {
            name: [
                {"w": jnp.asarray(weights[f"{name}.{i}.w"]), "b": jnp.asarray(weights[f"{name}.{i}.b"])}
                for i in range(len(spec.hidden) + 1)
            ]
            for name in ("actor", "critic")
        }
        return params, spec

    def make_env(self) -> Env:
        """The env this policy was trained for (rebuilt from the registry)."""
        return env_from_summary(self.env_summary)

    # --------------------------------------------------------------- numpy API
    def evaluate(self, observation, action_mask) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities ``float32[..., A]`` and values ``float32[...]`` of a batch.

        ``observation`` is ``[..., *observation_shape]`` (cast to float32), ``action_mask``
        ``bool[..., A]``; any leading batch shape (or none) works.
        """
        obs = np.asarray(observation, np.float32)
        mask = np.asarray(action_mask, np.bool_)
        nd = len(self.observation_shape)
        lead = obs.shape[: obs.ndim - nd]
        if tuple(obs.shape[obs.ndim - nd :]) != self.observation_shape:
            raise ValueError(
                f"observation shape {obs.shape} does not end in the policy's {self.observation_shape}"
            )
        if mask.shape != lead + (self.num_actions,):
            raise ValueError(f"action_mask shape {mask.shape}, expected {lead + (self.num_actions,)}")
        flat_obs = obs.reshape((-1,) + self.observation_shape)
        flat_mask = mask.reshape(-1, self.num_actions)
        if flat_obs.shape[0] == 0:
            return np.zeros(lead + (self.num_actions,), np.float32), np.zeros(lead, np.float32)
        probs, value = self._session.run(
            [OUTPUT_PROBABILITIES, OUTPUT_VALUE], {INPUT_OBSERVATION: flat_obs, INPUT_MASK: flat_mask}
        )
        return probs.reshape(lead + (self.num_actions,)), value.reshape(lead)

    def probabilities(self, observation, action_mask) -> np.ndarray:
        """``float32[..., A]`` action probabilities, exactly 0 where the mask is False."""
        return self.evaluate(observation, action_mask)[0]

    def act(self, observation, action_mask, rng: np.random.Generator | None = None, *, greedy: bool = False):
        """Sample (or with ``greedy`` take the most probable) legal action: ``int64[...]``."""
        probs = self.probabilities(observation, action_mask)
        if greedy or rng is None:
            return np.argmax(probs, axis=-1)
        cdf = np.cumsum(probs, axis=-1)
        u = rng.random(probs.shape[:-1] + (1,)) * cdf[..., -1:]
        # the first index whose cdf exceeds u < cdf[-1] has probability > 0, so is legal
        return np.minimum(np.sum(cdf <= u, axis=-1), self.num_actions - 1)

    # --------------------------------------------------------------- JAX API
    def _host_probabilities(self, observation, action_mask):
        return self.probabilities(np.asarray(observation), np.asarray(action_mask)).astype(np.float32)

    def jax_probabilities(self, observation: jax.Array, action_mask: jax.Array) -> jax.Array:
        """``float32[..., A]`` probabilities usable under ``jit`` and ``vmap`` (host callback)."""
        shape = jax.ShapeDtypeStruct(action_mask.shape, jnp.float32)
        return jax.pure_callback(
            self._host_probabilities, shape, observation, action_mask, vmap_method="broadcast_all"
        )

    def jax_policy(self, *, greedy: bool = False):
        """A rollout policy ``policy(params, observation, mask, key) -> int32[]`` (``params`` unused)."""
        if greedy not in self._jax_policies:

            def policy(params, observation, legal_action_mask, key):
                probs = self.jax_probabilities(observation, legal_action_mask)
                if greedy:
                    return jnp.argmax(probs, axis=-1).astype(jnp.int32)
                logits = jnp.where(probs > 0, jnp.log(jnp.maximum(probs, 1e-30)), -jnp.inf)
                return jax.random.categorical(key, logits, axis=-1).astype(jnp.int32)

            self._jax_policies[greedy] = policy
        return self._jax_policies[greedy]

    def __repr__(self) -> str:
        return (
            f"OnnxPolicy({self.metadata.get('htjax.env_id')} {self.metadata.get('htjax.env_version')}, "
            f"path={str(self.path)!r})"
        )
