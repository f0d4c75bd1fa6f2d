"""The htjax ONNX policy interface: format tag, opset, input and output names (no imports).

Shared by the exporter (:mod:`htjax.train.onnx_export`, needs ``onnx``) and the inference-only
loader (:mod:`htjax.train.onnx_policy`, needs only ``onnxruntime`` and ``numpy``).
"""

__all__ = [
    "OPSET",
    "IR_VERSION",
    "ONNX_FORMAT",
    "INPUT_OBSERVATION",
    "INPUT_MASK",
    "OUTPUT_PROBABILITIES",
    "OUTPUT_VALUE",
]

OPSET = 17
IR_VERSION = 8  # opset 17's IR; readable by every onnxruntime since 1.11 and onnxruntime-web
ONNX_FORMAT = "htjax-onnx-policy-1"
INPUT_OBSERVATION = "observation"
INPUT_MASK = "action_mask"
OUTPUT_PROBABILITIES = "probabilities"
OUTPUT_VALUE = "value"
