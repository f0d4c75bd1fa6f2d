"""State digests: a hash over a state pytree's leaves, per field and whole.

A state's *fields* are its pytree leaves in pytree order, named by path (``"hands"``,
``"deck.cards"``). The digest of one field is BLAKE2b-128 over
``"<path>|<dtype>|<shape>|"`` followed by the leaf's bytes (C order, little endian); the
digest of the state is BLAKE2b-128 over the concatenated field digests. Documents store the
state digest as 32 hex characters and, to name the first differing field, the first
:data:`FIELD_DIGEST_BYTES` bytes of every field digest.

Digests are bit-exact. Integer and boolean fields (cards, chips, counters, flags) are
identical on every machine. Float fields (``observation``, ``rewards``) are the same on one
platform; a float computed differently on another backend (CPU vs GPU) could in principle
differ in its last bit, and the error then names that field.
"""

from __future__ import annotations

import hashlib
from typing import Any, Sequence

import jax
import numpy as np

__all__ = ["FIELD_DIGEST_BYTES", "field_paths", "leaf_arrays", "digest_states", "StateDigest"]

FIELD_DIGEST_BYTES = 4


def field_paths(state: Any) -> tuple[str, ...]:
    """Names of the state's leaves in pytree order, e.g. ``("current_player", "deck.cards", ...)``."""
    leaves = jax.tree_util.tree_flatten_with_path(state)[0]
    return tuple(jax.tree_util.keystr(path).lstrip(".") for path, _ in leaves)


def leaf_arrays(states: Any) -> list[np.ndarray]:
    """The leaves of a (batched) state as host numpy arrays, in pytree order."""
    return [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(states)]


class StateDigest:
    """Digest of one state: ``whole`` (hex str, 32 chars) and ``fields`` (bytes, 4 per field)."""

    __slots__ = ("whole", "fields")

    def __init__(self, whole: str, fields: bytes):
        self.whole = whole
        self.fields = fields

    def first_difference(self, other_fields: bytes, paths: Sequence[str]) -> str:
        """Path of the first field whose short digest differs from ``other_fields``."""
        n = FIELD_DIGEST_BYTES
        for i, path in enumerate(paths):
            if self.fields[i * n : (i + 1) * n] != other_fields[i * n : (i + 1) * n]:
                return path
        return "<unknown field>" if len(self.fields) == len(other_fields) else "<field list>"


def digest_states(
    paths: Sequence[str], leaves: Sequence[np.ndarray], index: Sequence[tuple]
) -> list[StateDigest]:
    """Digests of selected states of a batched state.

    Args:
      paths: field names (:func:`field_paths` of one state).
      leaves: the batched leaves (:func:`leaf_arrays`), each ``[*batch, *field_shape]``.
      index: one tuple of batch indices per wanted state, e.g. ``(episode, step)``.

    Returns:
      one :class:`StateDigest` per entry of ``index``.
    """
    nb = len(index[0]) if index else 0
    prefixes = []
    for path, leaf in zip(paths, leaves):
        shape = leaf.shape[nb:]
        base = hashlib.blake2b(digest_size=16)
        base.update(f"{path}|{leaf.dtype.newbyteorder('<').str}|{list(shape)}|".encode())
        prefixes.append(base)
    contiguous = [np.ascontiguousarray(leaf, dtype=leaf.dtype.newbyteorder("<")) for leaf in leaves]
    out = []
    n = FIELD_DIGEST_BYTES
    for idx in index:
        whole = hashlib.blake2b(digest_size=16)
        short = bytearray()
        for base, leaf in zip(prefixes, contiguous):
            h = base.copy()
            h.update(leaf[idx].tobytes())
            d = h.digest()
            whole.update(d)
            short += d[:n]
        out.append(StateDigest(whole.hexdigest(), bytes(short)))
    return out
