"""Run an exported ONNX policy anywhere: numpy batches, ``htjax.rollout``, adapters, opponents.

This module is the inference-only part of :mod:`htjax.train`: importing it and loading,
evaluating and sampling a policy (:meth:`OnnxPolicy.load`, :meth:`~OnnxPolicy.evaluate`,
:meth:`~OnnxPolicy.act`) need only ``onnxruntime`` and ``numpy`` (no ``onnx`` package, no
training or checkpoint code; ``tests/test_onnx_inference_imports.py`` checks ``sys.modules``)::

    policy = OnnxPolicy.load("my_blackjack.onnx", env)            # refuses another env/rules
    probs, value = policy.evaluate(observations, masks)          # float32[B, A], float32[B]
    actions = policy.act(observations, masks, np.random.default_rng(0))

Inside JAX (``htjax.rollout``, opponents in training), use :meth:`OnnxPolicy.jax_policy`: a
rollout policy ``policy(params, observation, mask, key)`` whose probabilities come from
onnxruntime through ``jax.pure_callback`` (batched under ``vmap``) and whose sampling uses the
JAX key, so rollouts stay reproducible. :meth:`OnnxPolicy.to_params` reads the weights back into
the JAX network (it needs the ``onnx`` package to read initializers).

Elsewhere a policy file plays as is: :meth:`OnnxPolicy.tournament_agent` and
:func:`policy_tournament` seat it in the IPD round robin (``htjax tournament --policy``),
:func:`htjax.play.onnx_opponent` in ``htjax play --opponent``, and
``HtjaxOpponentsEnv(env, opponents={seat: policy})`` in the Gymnasium adapter; in PettingZoo loops
``act(observation["observation"], observation["action_mask"], rng)`` drives one agent.
"""

from __future__ import annotations

import json
import pathlib
from typing import TYPE_CHECKING, Any

import numpy as np

from htjax.core.env import Env
from htjax.train.envmatch import check_env_matches, env_from_summary
from htjax.train.errors import EnvMismatchError, InvalidArgumentError, OnnxModelError
from htjax.train.onnx_format import (
    INPUT_MASK,
    INPUT_OBSERVATION,
    ONNX_FORMAT,
    OUTPUT_PROBABILITIES,
    OUTPUT_VALUE,
)

if TYPE_CHECKING:  # annotations only: JAX is imported by the JAX methods when called
    import jax

__all__ = ["OnnxModelError", "OnnxPolicy", "policy_tournament"]


class OnnxPolicy:
    """An htjax ONNX policy loaded in onnxruntime.

    Attributes:
      path: the file.
      metadata: the model's ``htjax.*`` metadata (strings).
      env_summary: the env it was trained for (``describe`` plus layout hash).
      observation_shape, num_actions, action_labels: its interface.
    """

    def __init__(
        self, session, metadata: dict[str, str], path: pathlib.Path | None = None, data: bytes | None = None
    ):
        self._session = session
        self._data = data
        self.metadata = metadata
        self.path = path
        try:
            self.env_summary: dict[str, Any] = json.loads(metadata["htjax.env"])
            self.observation_shape = tuple(int(d) for d in self.env_summary["observation_shape"])
            self.num_actions = int(self.env_summary["num_actions"])
            self.action_labels = tuple(self.env_summary["action_labels"])
        except (KeyError, TypeError, ValueError) as err:
            raise OnnxModelError(f"{path}: its htjax.env metadata is missing or damaged ({err!r})") from err
        self._jax_policies: dict[bool, Any] = {}

    # --------------------------------------------------------------- loading
    @classmethod
    def load(cls, path: str | pathlib.Path, env: Env | None = None) -> "OnnxPolicy":
        """Load ``path``; with ``env``, refuse a policy made for another env, rules or layout.

        Raises:
          OnnxModelError: missing or corrupt file, or an ONNX model that is not an htjax policy.
          htjax.train.errors.EnvMismatchError: ``env`` differs; the message names the cause (env
            id, env version, or the rules config fields that differ, such as ``betting`` or
            ``num_players``, with the sizes that differ because of them).
        """
        import onnxruntime as ort

        path = pathlib.Path(path)
        if path.is_dir():
            raise OnnxModelError(f"{str(path)!r} is a directory, not an ONNX file")
        if not path.is_file():
            raise OnnxModelError(f"no ONNX file at {str(path)!r}")
        data = path.read_bytes()
        if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            raise OnnxModelError(
                f"{path} is a zip/.npz archive (an htjax checkpoint?), not an ONNX model; "
                f"turn a checkpoint into a policy with htjax export"
            )
        try:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.log_severity_level = 4  # the error is raised below; no C++ log lines on stderr
            session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types for damaged files
            raise OnnxModelError(f"{path}: not a valid ONNX model (corrupt or truncated?): {err}") from err
        metadata = dict(session.get_modelmeta().custom_metadata_map)
        if metadata.get("htjax.format") != ONNX_FORMAT:
            raise OnnxModelError(
                f"{path}: not an htjax policy (metadata htjax.format is {metadata.get('htjax.format')!r}, "
                f"expected {ONNX_FORMAT!r})"
            )
        names_in = [i.name for i in session.get_inputs()]
        names_out = [o.name for o in session.get_outputs()]
        if names_in != [INPUT_OBSERVATION, INPUT_MASK] or names_out != [OUTPUT_PROBABILITIES, OUTPUT_VALUE]:
            raise OnnxModelError(f"{path}: unexpected inputs {names_in} / outputs {names_out}")
        policy = cls(session, metadata, path, data)
        if env is not None:
            check_env_matches(policy.env_summary, env, f"ONNX policy {path.name}")
        return policy

    def to_params(self):
        """The network's parameters and :class:`~htjax.train.networks.NetworkSpec`, read back from the
        file's initializers, so JAX can evaluate exactly the shipped weights at full speed."""
        import jax.numpy as jnp
        import onnx
        from onnx import numpy_helper

        from htjax.train.networks import NetworkSpec

        data = self._data if self._data is not None else self.path.read_bytes()
        model = onnx.load_model_from_string(data)
        weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        if "actor.0.w" not in weights or "htjax.network" not in self.metadata:
            raise OnnxModelError(
                f"{self.path}: the weights cannot be read back from a file exported by "
                f"{self.metadata.get('htjax.exporter', 'an unknown exporter')!r} (only the 'builder' backend "
                f"names its initializers actor.0.w ...); evaluate it with onnxruntime or use its checkpoint"
            )
        spec = NetworkSpec.from_dict(json.loads(self.metadata["htjax.network"]))
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
            raise InvalidArgumentError(
                f"observation shape {obs.shape} does not end in the policy's {self.observation_shape}"
            )
        if mask.shape != lead + (self.num_actions,):
            raise InvalidArgumentError(
                f"action_mask shape {mask.shape}, expected {lead + (self.num_actions,)}"
            )
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
        import jax
        import jax.numpy as jnp

        shape = jax.ShapeDtypeStruct(action_mask.shape, jnp.float32)
        return jax.pure_callback(
            self._host_probabilities, shape, observation, action_mask, vmap_method="broadcast_all"
        )

    def jax_policy(self, *, greedy: bool = False):
        """A rollout policy ``policy(params, observation, mask, key) -> int32[]`` (``params`` unused)."""
        if greedy not in self._jax_policies:
            import jax
            import jax.numpy as jnp

            def policy(params, observation, legal_action_mask, key):
                probs = self.jax_probabilities(observation, legal_action_mask)
                if greedy:
                    return jnp.argmax(probs, axis=-1).astype(jnp.int32)
                logits = jnp.where(probs > 0, jnp.log(jnp.maximum(probs, 1e-30)), -jnp.inf)
                return jax.random.categorical(key, logits, axis=-1).astype(jnp.int32)

            self._jax_policies[greedy] = policy
        return self._jax_policies[greedy]

    # --------------------------------------------------------------- IPD tournament
    @property
    def name(self) -> str:
        """The file name (``"ipd.onnx"``); how the policy is listed in tournaments and tables."""
        return (
            self.path.name if self.path is not None else f"{self.metadata.get('htjax.env_id', 'policy')}.onnx"
        )

    def tournament_agent(self, name: str | None = None, *, greedy: bool = True):
        """This policy as an :class:`htjax.agents.ipd.tournament.Agent` (prisoners_dilemma policies only).

        The agent plays with the file's own weights: read back into the JAX network
        (:meth:`to_params`; equal to onnxruntime to float32 rounding) so the tournament runs at
        full speed under ``jit``; for a file whose weights cannot be read back, through
        onnxruntime (:meth:`jax_policy`, a host callback per round). ``greedy`` takes the most
        probable move (the shipped policy's evaluation); otherwise moves are sampled.

        Raises:
          htjax.train.errors.EnvMismatchError: the policy is not for ``prisoners_dilemma``.
        """
        from htjax.agents.ipd.tournament import Agent
        from htjax.train.networks import network_policy

        if self.env_summary.get("id") != "prisoners_dilemma":
            raise EnvMismatchError(
                f"ONNX policy {self.name} was made for env {self.env_summary.get('id')!r}; "
                "only prisoners_dilemma policies can enter an IPD tournament"
            )
        try:
            params, spec = self.to_params()
        except OnnxModelError:
            return Agent(name or self.name, self.jax_policy(greedy=greedy), None, stochastic=not greedy)
        return Agent(name or self.name, network_policy(spec, greedy=greedy), params, stochastic=not greedy)

    def __repr__(self) -> str:
        return (
            f"OnnxPolicy({self.metadata.get('htjax.env_id')} {self.metadata.get('htjax.env_version')}, "
            f"path={str(self.path)!r})"
        )


def policy_tournament(
    policies,
    players=None,
    *,
    turns: int | None = None,
    repetitions: int = 100,
    noise: float = 0.0,
    seed: int = 0,
    greedy: bool = True,
    chunk_repetitions: int | None = None,
    progress=None,
):
    """Round-robin IPD tournament of ``players`` (default: the 14 classic strategies) plus ONNX policies.

    Args:
      policies: :class:`OnnxPolicy` objects or paths to ``.onnx`` files (``prisoners_dilemma``
        policies, all made for the same rules); each plays as :meth:`OnnxPolicy.tournament_agent`
        under its file name.
      players, repetitions, noise, seed: as for :func:`htjax.agents.ipd.tournament.tournament`.
      turns: rounds per match; must equal the rules' ``rounds`` the policies were trained with
        (their observation scales by it), which is also the default.
      greedy: policies take their most probable move (``False``: sample).
      chunk_repetitions, progress: as for :func:`htjax.agents.ipd.tournament.tournament`.

    The payoffs and observation window come from the policies' rules config. Returns the
    :class:`~htjax.agents.ipd.tournament.TournamentResult`.

    Raises:
      OnnxModelError / EnvMismatchError: an unreadable file, or a policy for another env or rules.
      InvalidArgumentError: no policies, or ``turns`` differs from the policies' ``rounds``; the
        tournament's own errors for other bad arguments.
    """
    import dataclasses

    from htjax.agents.ipd.tournament import tournament

    loaded = [p if isinstance(p, OnnxPolicy) else OnnxPolicy.load(p) for p in policies]
    if not loaded:
        raise InvalidArgumentError("policy_tournament needs at least one ONNX policy")
    agents = [p.tournament_agent(greedy=greedy) for p in loaded]
    config = loaded[0].make_env().config
    for p in loaded[1:]:
        check_env_matches(
            p.env_summary, loaded[0].make_env(), f"ONNX policy {p.name} (beside {loaded[0].name})"
        )
    if not config.fixed_horizon:
        raise EnvMismatchError(
            f"ONNX policy {loaded[0].name} was trained for matches of random length "
            f"(continuation_probability={config.continuation_probability}); tournaments play fixed-length matches"
        )
    turns = config.rounds if turns is None else turns
    if turns != config.rounds:
        raise InvalidArgumentError(
            f"ONNX policy {loaded[0].name} was trained for {config.rounds}-round matches and its observation "
            f"scales by that length; play the tournament with turns={config.rounds}, not {turns}"
        )
    return tournament(
        players,
        turns=turns,
        repetitions=repetitions,
        noise=noise,
        seed=seed,
        agents=agents,
        game=dataclasses.replace(config, noise=0.0),
        chunk_repetitions=chunk_repetitions,
        progress=progress,
    )
