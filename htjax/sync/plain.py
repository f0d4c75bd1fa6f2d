"""Plain values (None, bool, int, float, str, bytes, datetime, lists, maps) in Automerge objects.

The codec of :mod:`htjax.sync.schema` (re-exported there): :func:`put_plain` and
:func:`insert_plain` write a value, :func:`read_plain` reads a map or list back.
"""

from __future__ import annotations

import datetime
from typing import Any, Mapping

import automerge.core as am
from automerge.core import ObjType
from automerge.core import ScalarType as S

__all__ = ["put_plain", "insert_plain", "read_plain", "utc"]


def _scalar(value: Any) -> tuple[S, Any]:
    if value is None:
        return S.Null, None
    if isinstance(value, bool):
        return S.Boolean, value
    if isinstance(value, int):
        return S.Int, value
    if isinstance(value, float):
        return S.F64, value
    if isinstance(value, str):
        return S.Str, value
    if isinstance(value, bytes):
        return S.Bytes, value
    if isinstance(value, datetime.datetime):
        return S.Timestamp, value
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy / jax scalar
        return _scalar(value.item())
    raise TypeError(f"cannot store {type(value).__name__} {value!r} in an episode document")


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple)) or (
        hasattr(value, "tolist") and getattr(value, "shape", ()) != ()
    )


def _fill(tx: am.Transaction, child: bytes, value: Any) -> None:
    """Write the items of a mapping or sequence ``value`` into the new object ``child``."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            put_plain(tx, child, str(k), v)
    else:
        for i, v in enumerate(value.tolist() if hasattr(value, "tolist") else value):
            insert_plain(tx, child, i, v)


def put_plain(tx: am.Transaction, obj: bytes, prop: str, value: Any) -> None:
    """Write a plain value (None, bool, int, float, str, bytes, datetime, list, dict) at ``obj[prop]``."""
    if isinstance(value, Mapping) or _is_sequence(value):
        kind = ObjType.Map if isinstance(value, Mapping) else ObjType.List
        _fill(tx, tx.put_object(obj, prop, kind), value)
    else:
        tx.put(obj, prop, *_scalar(value))


def insert_plain(tx: am.Transaction, obj: bytes, index: int, value: Any) -> None:
    """Insert a plain value into the list ``obj`` at ``index``."""
    if isinstance(value, Mapping) or _is_sequence(value):
        kind = ObjType.Map if isinstance(value, Mapping) else ObjType.List
        _fill(tx, tx.insert_object(obj, index, kind), value)
    else:
        tx.insert(obj, index, *_scalar(value))


def _plain_of(doc: am.Document, value: Any, obj_id: bytes) -> Any:
    if isinstance(value, ObjType):
        return read_plain(doc, obj_id)
    kind, v = value
    if kind == S.Bytes:
        return bytes(v)
    if kind == S.Timestamp:
        return utc(v)
    return v


def read_plain(doc: am.Document, obj_id: bytes) -> Any:
    """Inverse of :func:`put_plain` for a map, list or text object (lists come back as lists)."""
    kind = doc.object_type(obj_id)
    if kind == ObjType.Map:
        return {k: _plain_of(doc, *doc.get(obj_id, k)) for k in doc.keys(obj_id)}
    if kind == ObjType.List:
        return [_plain_of(doc, v, oid) for v, oid in doc.values(obj_id)]
    return doc.text(obj_id)


def utc(value: datetime.datetime) -> datetime.datetime:
    """``value`` as an aware UTC datetime (the binding returns naive UTC datetimes)."""
    return value.replace(tzinfo=datetime.timezone.utc) if value.tzinfo is None else value
