"""The errors of :mod:`htjax.train`, all :class:`~htjax.core.errors.HtjaxError` subclasses.

This module imports nothing heavy (no JAX, no onnx), so the inference-only ONNX policy
(:mod:`htjax.train.onnx_policy`) can raise them too. Bad trainer settings (``PPOConfig``
fields, ``updates``, ``checkpoint_every``, an unknown ``--opponents``) raise
:class:`~htjax.core.errors.ConfigError`; other bad arguments :class:`~htjax.core.errors.InvalidArgumentError`
(re-exported here), of which :class:`OutputPathError` and :class:`ExportError` are kinds.
"""

from __future__ import annotations

from typing import Any

from htjax.core.errors import HtjaxError, InvalidArgumentError

__all__ = [
    "InvalidArgumentError",
    "CheckpointError",
    "EnvMismatchError",
    "ResumeMismatchError",
    "OnnxModelError",
    "OutputPathError",
    "ExportError",
]


class CheckpointError(HtjaxError, ValueError):
    """A checkpoint file is missing, corrupt or not an htjax checkpoint (or cannot be resumed)."""


class EnvMismatchError(HtjaxError, ValueError):
    """A checkpoint or ONNX policy was made for another env, rules config or observation layout.

    Attributes:
      differences: ``{field: (the file's value, the env's value)}`` of every field that differs
        (config fields by name, e.g. ``"betting"``; env-level ones as ``"id"``, ``"version"``,
        ``"num_actions"``, ``"observation_shape"`` ...).
    """

    def __init__(self, message: str, differences: dict[str, tuple[Any, Any]] | None = None):
        super().__init__(message)
        self.differences = dict(differences or {})


class ResumeMismatchError(EnvMismatchError):
    """``--resume`` was asked to continue a run with other settings than the checkpoint's
    (env, rules config, PPO config, opponents or seed); ``differences`` names each field."""


class OnnxModelError(HtjaxError, ValueError):
    """An ``.onnx`` file (or its model card) is missing, corrupt, or not an htjax policy."""


class OutputPathError(InvalidArgumentError):
    """An output path cannot be written: wrong suffix, a directory, an existing file without
    ``overwrite``, a parent that is a file, or a folder without write permission."""


class ExportError(InvalidArgumentError):
    """An ONNX export was asked for something it cannot do: an unknown backend, or a policy
    function that does not trace or returns other shapes or dtypes."""
