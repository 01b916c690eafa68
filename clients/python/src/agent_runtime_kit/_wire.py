"""snake_case dataclasses ⇄ the camelCase wire.

The generated ``_types.py`` lists, per class, each field's Python name, wire name and how to decode
it (``None`` = plain JSON, a class name, ``["list", spec]``, ``["map", spec]``, or ``"@event"`` for
an event's ``data``, decoded by the event's ``type``). Unknown wire fields are ignored, so a newer
sidecar that adds fields does not break an older client.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Type, TypeVar

T = TypeVar("T", bound="_Wire")


class _Wire:
    """Base of every generated protocol type."""

    def to_wire(self) -> Dict[str, Any]:
        """The camelCase JSON object for this value; ``None`` fields are left out."""
        out = to_wire(self)
        assert isinstance(out, dict)
        return out

    @classmethod
    def from_wire(cls: Type[T], obj: Any) -> T:
        """Builds the value from its camelCase JSON object."""
        return _decode_class(cls.__name__, obj)  # type: ignore[no-any-return]


def to_wire(value: Any) -> Any:
    """Any value (dataclasses, lists, dicts, JSON scalars) as plain JSON with wire names."""
    if isinstance(value, _Wire):
        from ._types import _FIELDS

        out: Dict[str, Any] = {}
        for py, wire, _spec in _FIELDS[type(value).__name__]:
            v = getattr(value, py)
            if v is not None:
                out[wire] = to_wire(v)
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_wire(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    return value


def decode(spec: Any, value: Any) -> Any:
    if spec is None or value is None:
        return value
    if isinstance(spec, str):
        return _decode_class(spec, value)
    kind, inner = spec
    if kind == "list":
        return [decode(inner, v) for v in value]
    if kind == "map":
        return {k: decode(inner, v) for k, v in value.items()}
    raise ValueError(f"unknown decoding spec {spec!r}")


def _decode_class(name: str, obj: Any) -> Any:
    from . import _types

    unions = _types._UNIONS
    if name in unions:
        # An untagged union: the first member whose required fields are all present.
        for member in unions[name]:
            cls = getattr(_types, member)
            required = [w for py, w, _s in _types._FIELDS[member] if _is_required(cls, py)]
            if isinstance(obj, dict) and all(w in obj for w in required):
                return _decode_class(member, obj)
        raise ValueError(f"{obj!r} matches no member of {name}")
    if not isinstance(obj, dict):
        raise ValueError(f"expected an object for {name}, got {type(obj).__name__}")
    cls = getattr(_types, name)
    kwargs: Dict[str, Any] = {}
    for py, wire, spec in _types._FIELDS[name]:
        if wire not in obj:
            continue
        if spec == "@event":
            data_cls = _types.EVENT_DATA.get(obj.get("type", ""))
            v = obj[wire]
            known = data_cls is not None and isinstance(v, dict)
            kwargs[py] = _decode_class(data_cls.__name__, v) if known else v  # type: ignore[union-attr]
        else:
            kwargs[py] = decode(spec, obj[wire])
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ValueError(f"malformed {name}: {e}") from None


def _is_required(cls: type, py: str) -> bool:
    for f in dataclasses.fields(cls):
        if f.name == py:
            return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    return False
