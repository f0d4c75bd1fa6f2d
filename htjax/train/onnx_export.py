"""Export a trained actor-critic to ONNX with ``onnx.helper`` (no TensorFlow, no tracing).

Graph (opset 17, dynamic batch ``B``)::

    observation  float32[B, *obs_shape] ─Flatten─ x ─Gemm─Tanh/Relu─ ... ─Gemm─ logits
    action_mask  bool[B, A] ───────────────────────────────────────────────┐
    logits ─Where(action_mask, logits, -1e9)─Softmax─Mul(Cast(action_mask))─▶ probabilities float32[B, A]
    x ─Gemm─Tanh/Relu─ ... ─Gemm─Squeeze────────────────────────────────────▶ value         float32[B]

``probabilities`` is exactly ``0.0`` for masked actions (the ``-1e9`` logit already underflows to
zero; the final ``Mul`` by the mask guarantees it) and sums to 1 over legal ones. The network is
the one in :mod:`htjax.train.networks`, so JAX and onnxruntime agree to float32 rounding.

Metadata (``metadata_props``, all strings; JSON where structured): ``htjax.format``,
``htjax.env_id``, ``htjax.env_version``, ``htjax.env`` (the env summary),
``htjax.observation_layout_hash``, ``htjax.observation_shape``, ``htjax.observation_dtype``,
``htjax.action_labels``, ``htjax.network``, ``htjax.training_command``,
``htjax.training_steps``, ``htjax.exporter`` (``builder`` or ``jax2onnx``) and
``htjax.exporter_version``. A model card ``NAME.json`` is written beside ``NAME.onnx``.

Backends (``export_checkpoint(..., backend=...)``, ``htjax export --backend``):

* ``"builder"`` (default): :func:`build_model` writes the graph above node by node with
  ``onnx.helper``; no dependency beyond ``onnx``; the initializers are named ``actor.0.w`` ...
  so :meth:`htjax.train.onnx_policy.OnnxPolicy.to_params` can read the weights back.
* ``"jax2onnx"`` (optional extra ``pip install "htjax[jax2onnx]"``): :func:`jax2onnx_model`
  traces a JAX function ``fn(observation, action_mask) -> (probabilities, value)`` and converts
  it, so any architecture JAX can express exports, with the same inputs, outputs, opset, metadata
  and model card. For the htjax network it converts :func:`policy_function`.
"""

from __future__ import annotations

import json
import logging
import pathlib
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from htjax._version import __version__
from htjax.core.env import Env
from htjax.core.errors import HtjaxError
from htjax.train.checkpoint import Checkpoint, file_sha256
from htjax.train.envmatch import env_summary, plain
from htjax.train.errors import ExportError, OnnxModelError, OutputPathError
from htjax.train.networks import MASKED_LOGIT, NetworkSpec
from htjax.train.onnx_format import (
    INPUT_MASK,
    INPUT_OBSERVATION,
    IR_VERSION,
    ONNX_FORMAT,
    OPSET,
    OUTPUT_PROBABILITIES,
    OUTPUT_VALUE,
)

__all__ = [
    "OPSET",
    "ONNX_FORMAT",
    "INPUT_OBSERVATION",
    "INPUT_MASK",
    "OUTPUT_PROBABILITIES",
    "OUTPUT_VALUE",
    "BACKENDS",
    "JAX2ONNX_INSTALL",
    "ExporterUnavailableError",
    "build_model",
    "policy_function",
    "jax2onnx_model",
    "build_model_jax2onnx",
    "env_metadata",
    "export_checkpoint",
    "model_card_path",
    "write_model_card",
    "update_model_card",
]

BACKENDS = ("builder", "jax2onnx")
"""Export backends: the ``onnx.helper`` builder (default) and the optional ``jax2onnx`` converter."""
JAX2ONNX_INSTALL = 'pip install "htjax[jax2onnx]"'


class ExporterUnavailableError(HtjaxError, ImportError):
    """The optional dependency of an export backend is not installed (the message says what to install)."""


def _mlp_nodes(prefix: str, layers, x: str, activation: str, nodes: list, inits: list) -> str:
    act = "Tanh" if activation == "tanh" else "Relu"
    for i, layer in enumerate(layers):
        w = f"{prefix}.{i}.w"
        b = f"{prefix}.{i}.b"
        inits.append(numpy_helper.from_array(np.asarray(layer["w"], np.float32), w))
        inits.append(numpy_helper.from_array(np.asarray(layer["b"], np.float32), b))
        y = f"{prefix}.{i}.gemm"
        nodes.append(helper.make_node("Gemm", [x, w, b], [y], name=f"{prefix}_gemm{i}"))
        if i < len(layers) - 1:
            z = f"{prefix}.{i}.{act.lower()}"
            nodes.append(helper.make_node(act, [y], [z], name=f"{prefix}_{act.lower()}{i}"))
            x = z
        else:
            x = y
    return x


def build_model(
    params, spec: NetworkSpec, metadata: dict[str, str] | None = None, doc: str = ""
) -> onnx.ModelProto:
    """The ONNX policy of ``params`` (see the module docstring); checked with ``onnx.checker``."""
    nodes: list = []
    inits: list = []
    nodes.append(helper.make_node("Flatten", [INPUT_OBSERVATION], ["x"], axis=1, name="flatten"))
    logits = _mlp_nodes("actor", params["actor"], "x", spec.activation, nodes, inits)
    value2d = _mlp_nodes("critic", params["critic"], "x", spec.activation, nodes, inits)
    inits.append(numpy_helper.from_array(np.array(MASKED_LOGIT, np.float32), "masked_logit"))
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "value_axis"))
    nodes += [
        helper.make_node(
            "Where", [INPUT_MASK, logits, "masked_logit"], ["masked_logits"], name="mask_logits"
        ),
        helper.make_node("Softmax", ["masked_logits"], ["softmax"], axis=-1, name="softmax"),
        helper.make_node("Cast", [INPUT_MASK], ["mask_float"], to=TensorProto.FLOAT, name="mask_float"),
        helper.make_node("Mul", ["softmax", "mask_float"], [OUTPUT_PROBABILITIES], name="zero_masked"),
        helper.make_node("Squeeze", [value2d, "value_axis"], [OUTPUT_VALUE], name="value"),
    ]
    batch = "batch"
    graph = helper.make_graph(
        nodes,
        "htjax_actor_critic",
        inputs=[
            helper.make_tensor_value_info(INPUT_OBSERVATION, TensorProto.FLOAT, [batch, *spec.obs_shape]),
            helper.make_tensor_value_info(INPUT_MASK, TensorProto.BOOL, [batch, spec.num_actions]),
        ],
        outputs=[
            helper.make_tensor_value_info(OUTPUT_PROBABILITIES, TensorProto.FLOAT, [batch, spec.num_actions]),
            helper.make_tensor_value_info(OUTPUT_VALUE, TensorProto.FLOAT, [batch]),
        ],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="htjax",
        producer_version=_htjax_version(),
        doc_string=doc,
    )
    model.ir_version = IR_VERSION
    meta = {
        "htjax.format": ONNX_FORMAT,
        "htjax.exporter": "builder",
        "htjax.exporter_version": _htjax_version(),
        **(metadata or {}),
    }
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model, full_check=True)
    return model


def policy_function(
    spec: NetworkSpec, params
) -> Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]:
    """The function every htjax ONNX policy computes, in JAX, with ``params`` baked in.

    ``fn(observation float32[B, *obs_shape], action_mask bool[B, A])`` returns ``(probabilities
    float32[B, A], value float32[B])``: :func:`htjax.train.networks.action_probabilities` (exactly 0
    for masked actions) and the critic's value of :func:`htjax.train.networks.apply`.
    """
    from htjax.train import networks as nets

    def fn(observation: jax.Array, action_mask: jax.Array) -> tuple[jax.Array, jax.Array]:
        logits, value = nets.apply(spec, params, observation, action_mask)
        return jax.nn.softmax(logits, axis=-1) * action_mask, value

    return fn


def _import_jax2onnx():
    try:
        import jax2onnx
    except ImportError as err:
        raise ExporterUnavailableError(
            f"the 'jax2onnx' export backend needs the optional jax2onnx package, which is not installed "
            f"({err}); install the extra with: {JAX2ONNX_INSTALL}   (or export with the default "
            f"backend 'builder', which needs nothing more)"
        ) from err
    return jax2onnx


def _check_policy_signature(fn, obs_shape: tuple[int, ...], num_actions: int) -> None:
    """Raise :class:`~htjax.train.errors.ExportError` unless ``fn`` maps ``([B, *obs_shape], bool[B, A])`` to ``(f32[B, A], f32[B])``."""
    batch = 3
    try:
        out = jax.eval_shape(
            fn,
            jax.ShapeDtypeStruct((batch, *obs_shape), jnp.float32),
            jax.ShapeDtypeStruct((batch, num_actions), jnp.bool_),
        )
    except Exception as err:  # the user's function fails to trace: say so with the shapes it got
        raise ExportError(
            f"the policy function cannot be traced on observation float32[{batch}, "
            f"{', '.join(map(str, obs_shape))}] and action_mask bool[{batch}, {num_actions}]: {err}"
        ) from err
    want = ((batch, num_actions), (batch,))
    if (
        not isinstance(out, (tuple, list))
        or len(out) != 2
        or tuple(tuple(o.shape) for o in out) != want
        or any(o.dtype != jnp.float32 for o in out)
    ):
        got = jax.tree_util.tree_map(lambda o: f"{o.dtype}{list(o.shape)}", out)
        raise ExportError(
            f"the policy function must return (probabilities float32[B, {num_actions}], value float32[B]); "
            f"for B={batch} it returned {got}"
        )


def jax2onnx_model(
    fn: Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array]],
    obs_shape: tuple[int, ...],
    num_actions: int,
    metadata: dict[str, str] | None = None,
    doc: str = "",
) -> onnx.ModelProto:
    """Convert a JAX policy function to an htjax ONNX policy with ``jax2onnx`` (optional extra).

    Args:
      fn: ``fn(observation float32[B, *obs_shape], action_mask bool[B, A]) -> (probabilities
        float32[B, A], value float32[B])``, traceable by JAX, parameters closed over (they become
        initializers). Any architecture jax2onnx supports; masked probabilities should be 0.
      obs_shape: the shape of one observation.
      num_actions: ``A``.
      metadata: ``htjax.*`` metadata strings (``htjax.format`` and ``htjax.exporter*`` are added).
      doc: the model's doc string.

    Returns:
      The model: inputs ``observation`` / ``action_mask`` and outputs ``probabilities`` / ``value``
      with a dynamic ``batch`` dimension, opset 17 (IR 8 when jax2onnx used nothing newer),
      checked with ``onnx.checker.check_model(full_check=True)``.

    Raises:
      ExporterUnavailableError: jax2onnx is not installed.
      ExportError: ``fn`` does not trace or returns other shapes or dtypes.
    """
    jax2onnx = _import_jax2onnx()
    obs_shape = tuple(int(d) for d in obs_shape)
    _check_policy_signature(fn, obs_shape, int(num_actions))
    serde_log = logging.getLogger("onnx_ir.serde")
    level = serde_log.level
    serde_log.setLevel(logging.ERROR)  # jax2onnx leaves shape-only helper values untyped; harmless noise
    try:
        model = jax2onnx.to_onnx(
            fn,
            [
                jax.ShapeDtypeStruct(("batch", *obs_shape), jnp.float32),
                jax.ShapeDtypeStruct(("batch", int(num_actions)), jnp.bool_),
            ],
            model_name="htjax_actor_critic",
            opset=OPSET,
            input_names=[INPUT_OBSERVATION, INPUT_MASK],
            output_names=[OUTPUT_PROBABILITIES, OUTPUT_VALUE],
        )
    finally:
        serde_log.setLevel(level)
    if [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] != [OPSET]:
        raise ExportError(
            f"jax2onnx produced opset imports {list(model.opset_import)}, expected opset {OPSET}"
        )
    if all(o.domain in ("", "ai.onnx") for o in model.opset_import) and not model.functions:
        # jax2onnx stamps its newest IR version; a plain opset-17 graph is valid at IR 8, which
        # older onnxruntimes and onnxruntime-web read (the checker below verifies it)
        model.ir_version = min(model.ir_version, IR_VERSION)
    model.doc_string = doc
    version = _package_version("jax2onnx")
    meta = {p.key: p.value for p in model.metadata_props}
    meta.update(
        {"htjax.format": ONNX_FORMAT, "htjax.exporter": "jax2onnx", "htjax.exporter_version": version}
    )
    meta.update(metadata or {})
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model, full_check=True)
    return model


def build_model_jax2onnx(
    params, spec: NetworkSpec, metadata: dict[str, str] | None = None, doc: str = ""
) -> onnx.ModelProto:
    """:func:`build_model`'s policy converted by jax2onnx from :func:`policy_function` instead."""
    return jax2onnx_model(policy_function(spec, params), spec.obs_shape, spec.num_actions, metadata, doc)


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def _htjax_version() -> str:
    return __version__


def env_metadata(env: Env) -> dict[str, str]:
    """The env part of an htjax policy's metadata (``htjax.env``, ``htjax.env_id``, the layout
    hash, ...), for :func:`jax2onnx_model` when exporting a network that has no checkpoint;
    :meth:`htjax.train.onnx_policy.OnnxPolicy.load` needs it and checks it against the env."""
    return _env_metadata(plain(env_summary(env)))


def _env_metadata(env: dict[str, Any]) -> dict[str, str]:
    return {
        "htjax.env_id": env["id"],
        "htjax.env_version": env["version"],
        "htjax.env": json.dumps(env, sort_keys=True),
        "htjax.observation_layout_hash": env["observation_layout_hash"],
        "htjax.observation_shape": json.dumps(env["observation_shape"]),
        "htjax.observation_dtype": env["observation_dtype"],
        "htjax.action_labels": json.dumps(env["action_labels"]),
    }


def _metadata(ckpt: Checkpoint) -> dict[str, str]:
    training = ckpt.header.get("training", {})
    return {
        **_env_metadata(ckpt.env_summary),
        "htjax.network": json.dumps(ckpt.spec.to_dict(), sort_keys=True),
        "htjax.training_command": training.get("command") or "",
        "htjax.training_steps": str(training.get("env_steps", 0)),
    }


def model_card_path(onnx_path: str | pathlib.Path) -> pathlib.Path:
    """``policies/NAME.onnx`` -> ``policies/NAME.json``."""
    return pathlib.Path(onnx_path).with_suffix(".json")


def export_checkpoint(
    ckpt: Checkpoint,
    out: str | pathlib.Path,
    *,
    name: str | None = None,
    card: dict[str, Any] | None = None,
    backend: str = "builder",
) -> pathlib.Path:
    """Write ``ckpt`` as ONNX to ``out`` (``.onnx``) and its model card beside it; returns ``out``.

    ``backend`` is ``"builder"`` (:func:`build_model`, default) or ``"jax2onnx"``
    (:func:`build_model_jax2onnx`; raises :class:`ExporterUnavailableError` when the extra is
    missing). Both write the same inputs, outputs, opset, metadata and model card.
    """
    out = pathlib.Path(out)
    if backend not in BACKENDS:
        raise ExportError(f"unknown ONNX export backend {backend!r}; choose from {list(BACKENDS)}")
    if out.suffix != ".onnx":
        raise OutputPathError(f"ONNX output path must end in .onnx, got {str(out)!r}")
    env = ckpt.env_summary
    doc = (
        f"htjax policy for {env['id']} {env['version']}: observation float32[batch, "
        f"{', '.join(map(str, env['observation_shape']))}] and action_mask bool[batch, {env['num_actions']}] -> "
        f"probabilities float32[batch, {env['num_actions']}] (actions {env['action_labels']}), value float32[batch]"
    )
    build = build_model_jax2onnx if backend == "jax2onnx" else build_model
    model = build(ckpt.params, ckpt.spec, _metadata(ckpt), doc)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(out))
    write_model_card(out, ckpt, name=name, extra=card)
    return out


def write_model_card(
    onnx_path: pathlib.Path, ckpt: Checkpoint, *, name: str | None = None, extra: dict[str, Any] | None = None
) -> pathlib.Path:
    """Model card JSON beside ``onnx_path``: what the model is, how it was trained, its file hash.

    Keeps the ``evaluation`` and ``parity`` sections of an existing card (written by the
    evaluation scripts) unless ``extra`` replaces them.
    """
    path = model_card_path(onnx_path)
    old = json.loads(path.read_text()) if path.is_file() else {}
    env = ckpt.env_summary
    model = onnx.load(str(onnx_path), load_external_data=False)
    meta = {p.key: p.value for p in model.metadata_props}
    card = {
        "name": name or onnx_path.stem,
        "file": onnx_path.name,
        "sha256": file_sha256(onnx_path),
        "format": ONNX_FORMAT,
        "opset": OPSET,
        "ir_version": int(model.ir_version),
        "exporter": {
            "backend": meta.get("htjax.exporter", "builder"),
            "version": meta.get("htjax.exporter_version", ""),
        },
        "inputs": {
            INPUT_OBSERVATION: f"float32[batch, {', '.join(map(str, env['observation_shape']))}]",
            INPUT_MASK: f"bool[batch, {env['num_actions']}]",
        },
        "outputs": {
            OUTPUT_PROBABILITIES: f"float32[batch, {env['num_actions']}] (0 for masked actions)",
            OUTPUT_VALUE: "float32[batch]",
        },
        "env": env,
        "network": ckpt.spec.to_dict(),
        "ppo": ckpt.header.get("ppo", {}),
        "training": ckpt.header.get("training", {}),
        "training_metrics": ckpt.header.get("metrics", {}),
    }
    for keep in ("evaluation", "parity"):
        if keep in old:
            card[keep] = old[keep]
    card.update(extra or {})
    path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return path


def update_model_card(onnx_path: str | pathlib.Path, section: str, values: dict[str, Any]) -> pathlib.Path:
    """Set ``card[section] = values`` in the model card of ``onnx_path`` (evaluation scripts)."""
    path = model_card_path(onnx_path)
    if not path.is_file():
        raise OnnxModelError(f"no model card at {path}; export the policy first")
    card = json.loads(path.read_text())
    card[section] = values
    path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return path
