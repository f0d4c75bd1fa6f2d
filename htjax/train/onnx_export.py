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
``htjax.training_steps``. A model card ``NAME.json`` is written beside ``NAME.onnx``.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from htjax.train.checkpoint import Checkpoint, file_sha256
from htjax.train.networks import MASKED_LOGIT, NetworkSpec

__all__ = [
    "OPSET",
    "ONNX_FORMAT",
    "INPUT_OBSERVATION",
    "INPUT_MASK",
    "OUTPUT_PROBABILITIES",
    "OUTPUT_VALUE",
    "build_model",
    "export_checkpoint",
    "model_card_path",
    "write_model_card",
    "update_model_card",
]

OPSET = 17
ONNX_FORMAT = "htjax-onnx-policy-1"
INPUT_OBSERVATION = "observation"
INPUT_MASK = "action_mask"
OUTPUT_PROBABILITIES = "probabilities"
OUTPUT_VALUE = "value"


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


def build_model(params, spec: NetworkSpec, metadata: dict[str, str] | None = None, doc: str = "") -> onnx.ModelProto:
    """The ONNX policy of ``params`` (see the module docstring); checked with ``onnx.checker``."""
    nodes: list = []
    inits: list = []
    nodes.append(helper.make_node("Flatten", [INPUT_OBSERVATION], ["x"], axis=1, name="flatten"))
    logits = _mlp_nodes("actor", params["actor"], "x", spec.activation, nodes, inits)
    value2d = _mlp_nodes("critic", params["critic"], "x", spec.activation, nodes, inits)
    inits.append(numpy_helper.from_array(np.array(MASKED_LOGIT, np.float32), "masked_logit"))
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "value_axis"))
    nodes += [
        helper.make_node("Where", [INPUT_MASK, logits, "masked_logit"], ["masked_logits"], name="mask_logits"),
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
    model.ir_version = 8  # opset 17's IR; readable by every onnxruntime since 1.11 and onnxruntime-web
    meta = {"htjax.format": ONNX_FORMAT, **(metadata or {})}
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model, full_check=True)
    return model


def _htjax_version() -> str:
    from htjax import __version__

    return __version__


def _metadata(ckpt: Checkpoint) -> dict[str, str]:
    env = ckpt.env_summary
    training = ckpt.header.get("training", {})
    return {
        "htjax.env_id": env["id"],
        "htjax.env_version": env["version"],
        "htjax.env": json.dumps(env, sort_keys=True),
        "htjax.observation_layout_hash": env["observation_layout_hash"],
        "htjax.observation_shape": json.dumps(env["observation_shape"]),
        "htjax.observation_dtype": env["observation_dtype"],
        "htjax.action_labels": json.dumps(env["action_labels"]),
        "htjax.network": json.dumps(ckpt.spec.to_dict(), sort_keys=True),
        "htjax.training_command": training.get("command") or "",
        "htjax.training_steps": str(training.get("env_steps", 0)),
    }


def model_card_path(onnx_path: str | pathlib.Path) -> pathlib.Path:
    """``policies/NAME.onnx`` -> ``policies/NAME.json``."""
    return pathlib.Path(onnx_path).with_suffix(".json")


def export_checkpoint(
    ckpt: Checkpoint, out: str | pathlib.Path, *, name: str | None = None, card: dict[str, Any] | None = None
) -> pathlib.Path:
    """Write ``ckpt`` as ONNX to ``out`` (``.onnx``) and its model card beside it; returns ``out``."""
    out = pathlib.Path(out)
    if out.suffix != ".onnx":
        raise ValueError(f"ONNX output path must end in .onnx, got {str(out)!r}")
    env = ckpt.env_summary
    doc = (
        f"htjax policy for {env['id']} {env['version']}: observation float32[batch, "
        f"{', '.join(map(str, env['observation_shape']))}] and action_mask bool[batch, {env['num_actions']}] -> "
        f"probabilities float32[batch, {env['num_actions']}] (actions {env['action_labels']}), value float32[batch]"
    )
    model = build_model(ckpt.params, ckpt.spec, _metadata(ckpt), doc)
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
    card = {
        "name": name or onnx_path.stem,
        "file": onnx_path.name,
        "sha256": file_sha256(onnx_path),
        "format": ONNX_FORMAT,
        "opset": OPSET,
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
        raise FileNotFoundError(f"no model card at {path}; export the policy first")
    card = json.loads(path.read_text())
    card[section] = values
    path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return path
