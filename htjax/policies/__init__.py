"""The trained policies shipped inside the package, loadable by name anywhere htjax is installed.

Each shipped policy is an ONNX file with its model card beside it (``NAME.onnx`` +
``NAME.json``), carried in the wheel as package data (:mod:`htjax.package_data`)::

    import htjax.policies

    htjax.policies.names()                       # ("blackjack", "holdem", "ipd")
    policy = htjax.policies.load("holdem")       # an htjax.train.onnx_policy.OnnxPolicy
    card = htjax.policies.model_card("holdem")   # the model card as a dict
    htjax.policies.path("ipd")                   # pathlib.Path of the .onnx file

Everything that takes a policy (``htjax play --opponent``, ``htjax tournament --policy``, the
Gymnasium adapter's ``opponents``, :func:`load`, the evaluation scripts) accepts a shipped name or
the path of a user's own ``.onnx`` file, through one resolver, :func:`resolve`: an existing file
is taken as it is (so a user's file always wins), otherwise a shipped name gives the packaged
file, and anything else raises :class:`UnknownPolicyError` listing the shipped names.
:meth:`OnnxPolicy.load <htjax.train.onnx_policy.OnnxPolicy.load>` itself takes paths only.

Layering: this package reads data with :mod:`htjax.package_data` and imports the policy code
(:mod:`htjax.train.onnx_policy`, onnxruntime) only inside :func:`load`; the training code never
imports it, the adapters and the CLI do.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

from htjax import package_data
from htjax.core.errors import InvalidArgumentError

__all__ = ["UnknownPolicyError", "load", "model_card", "names", "path", "resolve"]

_PACKAGE = __name__
SUFFIX = ".onnx"
CARD_SUFFIX = ".json"


class UnknownPolicyError(InvalidArgumentError):
    """A policy argument is neither a shipped policy name nor an existing ``.onnx`` file
    (an :class:`~htjax.core.errors.InvalidArgumentError`: an ``HtjaxError`` and a ``ValueError``)."""


def names() -> tuple[str, ...]:
    """Sorted names of the shipped policies (the ``.onnx`` files in this package)."""
    return package_data.names(_PACKAGE, SUFFIX)


def _listing() -> str:
    return ", ".join(names()) or "none"


def path(name: str) -> pathlib.Path:
    """The ``.onnx`` file of the shipped policy ``name``.

    Raises:
      UnknownPolicyError: ``name`` is not a shipped policy (the message lists those there are).
    """
    if name not in names():
        raise UnknownPolicyError(f"no shipped policy named {name!r}; shipped policies: {_listing()}")
    return package_data.path(_PACKAGE, name + SUFFIX)


def resolve(policy: str | os.PathLike) -> pathlib.Path:
    """The ``.onnx`` file that ``policy`` names: an existing file as given, else a shipped name.

    Args:
      policy: a shipped name (``"holdem"``, see :func:`names`) or the path of an ``.onnx`` file.

    Raises:
      UnknownPolicyError: no such file and no such shipped policy (lists the shipped names).
    """
    if not isinstance(policy, (str, os.PathLike)):
        raise UnknownPolicyError(
            f"a policy is a shipped name ({_listing()}) or a path to an .onnx file, "
            f"got {type(policy).__name__}"
        )
    given = pathlib.Path(policy)
    if given.is_file():
        return given
    text = os.fspath(policy)
    if text in names():
        return path(text)
    if given.suffix == SUFFIX or os.sep in text or "/" in text:
        raise UnknownPolicyError(
            f"no ONNX file at {text!r}; a shipped policy is loaded by name instead: {_listing()}"
        )
    raise UnknownPolicyError(
        f"{text!r} is neither a shipped policy nor a file; shipped policies: {_listing()}"
    )


def load(policy: str | os.PathLike, env=None):
    """Load a shipped policy by name, or a user's ``.onnx`` file, as an
    :class:`~htjax.train.onnx_policy.OnnxPolicy`; with ``env``, refuse one made for another env.

    Raises:
      UnknownPolicyError: neither a shipped name nor a file (see :func:`resolve`).
      htjax.train.onnx_policy.OnnxModelError / htjax.train.checkpoint.EnvMismatchError: as
        :meth:`OnnxPolicy.load <htjax.train.onnx_policy.OnnxPolicy.load>`.
    """
    from htjax.train.onnx_policy import OnnxPolicy  # onnxruntime and the policy code load only when used

    return OnnxPolicy.load(resolve(policy), env)


def model_card(policy: str | os.PathLike) -> dict[str, Any]:
    """The model card (``NAME.json`` beside the ``.onnx`` file) of a shipped name or a policy file.

    Raises:
      UnknownPolicyError: see :func:`resolve`, or the policy file has no model card beside it.
    """
    card = resolve(policy).with_suffix(CARD_SUFFIX)
    if not card.is_file():
        raise UnknownPolicyError(f"{os.fspath(policy)!r} has no model card: no file {str(card)!r}")
    return json.loads(card.read_text())
