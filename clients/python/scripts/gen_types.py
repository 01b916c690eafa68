#!/usr/bin/env python3
"""Generates ``src/agent_runtime_kit/_types.py`` from ``protocol/schema/protocol.schema.json``.

The schema is small and regular (objects, string enums, ``T | null``, arrays, maps, ``$ref``, two
unions and one adjacently tagged event union), so a short generator keeps the types exact without a
code generation dependency. Each object becomes a dataclass with snake_case fields; the wire
(camelCase) names and how to decode each field are kept beside it in ``_FIELDS``, which
``_wire.py`` reads. Usage::

    python scripts/gen_types.py            # rewrite _types.py
    python scripts/gen_types.py --check    # exit 1 if _types.py is out of date
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SCHEMA = HERE.parents[2] / "protocol" / "schema" / "protocol.schema.json"
DEFAULT_OUT = HERE.parent / "src" / "agent_runtime_kit" / "_types.py"

# Definitions that only describe the fixture runtime's script format: hosts pass scripts as plain
# JSON under runtimeOptions, so these stay out of the client surface.
# Fields that were required in protocol v1 stay first, so v1 code that passes them positionally
# (`AgentTask("Fix the test", ...)`, `SessionRef("s-1")`) keeps working now that they are optional.
POSITIONAL_FIRST = {"AgentTask": "goal", "SessionRef": "resume"}
SKIP = {"Script", "ScriptResult", "Step", "ToolStep", "ApprovalStep", "FailStep", "EventBody"}


def snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return s + "_" if keyword.iskeyword(s) else s


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


class Gen:
    def __init__(self, schema: dict):
        self.schema = schema
        self.defs: dict = schema["$defs"]
        self.out: list[str] = []

    # ---- kinds of definitions ------------------------------------------------------------------
    def enum_values(self, d: dict) -> list[str] | None:
        if "enum" in d and d.get("type") == "string":
            return list(d["enum"])
        if "oneOf" in d and all(v.get("type") == "string" and ("const" in v or "enum" in v)
                                for v in d["oneOf"]):
            # Variants with a doc comment come as `const`, the others grouped in an `enum`.
            return [x for v in d["oneOf"] for x in ([v["const"]] if "const" in v else v["enum"])]
        return None

    def is_union(self, d: dict) -> bool:
        return "anyOf" in d and all("$ref" in v for v in d["anyOf"])

    def is_plain_union(self, d: dict) -> bool:
        """A union of plain JSON types (``string | [string]``): an alias, decoded as is."""
        return "anyOf" in d and not any("$ref" in v for v in d["anyOf"])

    # ---- a property's Python type and its decoding spec ----------------------------------------
    def prop(self, p: dict | bool) -> tuple[str, object, bool]:
        """Returns (annotation, spec, nullable). spec is what _wire.decode understands."""
        if isinstance(p, dict) and p.get("x-event-data"):
            # Decoded by the sibling `type` (see EVENT_DATA); unknown types stay plain JSON.
            return "Union[EventData, Any]", "@event", False
        if p is True or p == {} or (isinstance(p, dict) and set(p) <= {"description", "default"}):
            return "Any", None, True
        assert isinstance(p, dict), p
        if "$ref" in p:
            name = ref_name(p["$ref"])
            return self.named(name)
        if "anyOf" in p:
            alts = [a for a in p["anyOf"] if a != {"type": "null"}]
            nullable = len(alts) < len(p["anyOf"])
            if len(alts) == 1:
                ann, spec, _ = self.prop(alts[0])
                return ann, spec, nullable
            raise SystemExit(f"unsupported anyOf: {p}")
        t = p.get("type")
        nullable = False
        if isinstance(t, list):
            nullable = "null" in t
            rest = [x for x in t if x != "null"]
            assert len(rest) == 1, p
            t = rest[0]
        if t == "string":
            return "str", None, nullable
        if t == "integer":
            return "int", None, nullable
        if t == "number":
            return "float", None, nullable
        if t == "boolean":
            return "bool", None, nullable
        if t == "array":
            ann, spec, _ = self.prop(p.get("items", True))
            return f"List[{ann}]", (["list", spec] if spec else None), nullable
        if t == "object":
            ap = p.get("additionalProperties", True)
            ann, spec, _ = self.prop(ap)
            return f"Dict[str, {ann}]", (["map", spec] if spec else None), nullable
        raise SystemExit(f"unsupported property schema: {p}")

    def named(self, name: str) -> tuple[str, object, bool]:
        d = self.defs[name]
        if self.enum_values(d) is not None or self.is_plain_union(d):
            return name, None, False
        return name, name, False

    # ---- emitters --------------------------------------------------------------------------------
    def doc(self, text: str | None, indent: str) -> list[str]:
        if not text:
            return []
        text = text.replace('"""', "'''").replace("\\", "\\\\")
        lines = text.splitlines()
        if len(lines) == 1:
            return [f'{indent}"""{lines[0]}"""']
        return [f'{indent}"""{lines[0]}'] + [f"{indent}{x}" if x else "" for x in lines[1:]] + [f'{indent}"""']

    def emit_enum(self, name: str, values: list[str], d: dict) -> None:
        lits = ", ".join(json.dumps(v) for v in values)
        self.out.append(f"{name} = Literal[{lits}]")
        self.out.extend(self.doc(d.get("description"), ""))
        self.out.append("")

    def emit_union(self, name: str, d: dict) -> None:
        members = [ref_name(a["$ref"]) for a in d["anyOf"]]
        self.out.append(f"{name} = Union[{', '.join(members)}]")
        self.out.extend(self.doc(d.get("description"), ""))
        self.unions[name] = members
        self.out.append("")

    def default_of(self, p: dict | bool, ann: str, spec: object, nullable: bool) -> str | None:
        """The Python default for an optional field, or None when the field has no default."""
        if isinstance(p, dict) and "default" in p:
            v = p["default"]
            if v is None:
                return "None"
            if isinstance(v, (list, dict)):
                if isinstance(v, dict) and v and isinstance(spec, str):
                    return f"field(default_factory={spec})"
                return f"field(default_factory={'list' if isinstance(v, list) else 'dict'})"
            return repr(v)
        return "None"

    def emit_object(self, name: str, d: dict) -> None:
        props: dict = d.get("properties", {})
        required = list(d.get("required", []))
        self.out.append("@dataclass")
        self.out.append(f"class {name}(_Wire):")
        doc = d.get("description")
        self.out.extend(self.doc(doc, "    "))
        fields: list[tuple[str, str, object]] = []
        lines_req: list[str] = []
        lines_opt: list[str] = []
        for wire in required:
            p = props[wire]
            ann, spec, nullable = self.prop(p)
            if nullable and ann != "Any":
                ann = f"Optional[{ann}]"
            py = snake(wire)
            desc = p.get("description") if isinstance(p, dict) else None
            lines_req.append(f"    {py}: {ann}" + (f"  # {desc.splitlines()[0]}" if desc else ""))
            fields.append((py, wire, spec))
        first = POSITIONAL_FIRST.get(name)
        ordered = sorted(props.items(), key=lambda kv: kv[0] != first)
        for wire, p in ordered:
            if wire in required:
                continue
            ann, spec, nullable = self.prop(p)
            default = self.default_of(p, ann, spec, nullable)
            if default == "None" and ann != "Any":
                ann = f"Optional[{ann}]"
            py = snake(wire)
            desc = p.get("description") if isinstance(p, dict) else None
            lines_opt.append(
                f"    {py}: {ann} = {default}" + (f"  # {desc.splitlines()[0]}" if desc else "")
            )
            fields.append((py, wire, spec))
        self.out.extend(lines_req)
        if lines_opt:
            if lines_req:
                self.out.append("    _: KW_ONLY")
            self.out.extend(lines_opt)
        if not lines_req and not lines_opt:
            self.out.append("    pass")
        self.out.append("")
        self.fields[name] = fields
        self.out.append("")

    def emit_event(self, d: dict) -> None:
        """Event: {taskId, seq, time} plus an adjacently tagged {type, data}."""
        variants = []
        for v in d["oneOf"]:
            t = v["properties"]["type"]["const"]
            data = ref_name(v["properties"]["data"]["$ref"])
            variants.append((t, data))
        self.out.append("EventType = Literal[" + ", ".join(json.dumps(t) for t, _ in variants) + "]")
        self.out.append('"""Every event type the protocol defines."""')
        self.out.append("")
        self.out.append("EVENT_DATA: Dict[str, type] = {")
        for t, data in variants:
            self.out.append(f"    {json.dumps(t)}: {data},")
        self.out.append("}")
        self.out.append('"""The data type of each event type."""')
        self.out.append("")
        self.out.append(
            "EventData = Union[" + ", ".join(dict.fromkeys(data for _, data in variants)) + "]"
        )
        self.out.append("")
        self.out.append("TERMINAL_EVENTS: Tuple[str, ...] = (\"agent.task.completed\", \"agent.task.failed\")")
        self.out.append("")

    def refs(self, node: object) -> set[str]:
        if isinstance(node, dict):
            out = {ref_name(node["$ref"])} if "$ref" in node else set()
            for v in node.values():
                out |= self.refs(v)
            return out
        if isinstance(node, list):
            return set().union(*(self.refs(v) for v in node)) if node else set()
        return set()

    def dependency_order(self, names: list[str]) -> list[str]:
        """Referenced classes first: a field's `default_factory` needs its class defined."""
        done: list[str] = []

        def visit(n: str, stack: tuple[str, ...]) -> None:
            if n in done or n not in names or n in stack:
                return
            for r in sorted(self.refs(self.defs[n])):
                visit(r, stack + (n,))
            done.append(n)

        for n in names:
            visit(n, ())
        return done

    def run(self) -> str:
        self.fields: dict[str, list] = {}
        self.unions: dict[str, list] = {}
        o = self.out
        o.append('"""Protocol types, generated from protocol/schema/protocol.schema.json.')
        o.append("")
        o.append("Do not edit: run ``python clients/python/scripts/gen_types.py``. Field names are")
        o.append("snake_case; ``to_wire()`` / ``from_wire()`` convert to and from the camelCase wire.")
        o.append('"""')
        o.append("")
        o.append("from __future__ import annotations")
        o.append("")
        o.append("from dataclasses import KW_ONLY, dataclass, field")
        o.append("from typing import Any, Dict, List, Literal, Optional, Tuple, Union")
        o.append("")
        o.append("from ._wire import _Wire")
        o.append("")
        o.append(f"PROTOCOL_VERSION = {self.schema['protocolVersion']}")
        o.append("")
        o.append("ERROR_CODES: Dict[str, int] = {")
        for e in self.schema["errors"]:
            o.append(f"    {json.dumps(e['kind'])}: {e['code']},")
        o.append("}")
        o.append('"""JSON-RPC error codes by their stable ``data.kind``."""')
        o.append("")
        # Enums and unions first (objects refer to them only in annotations, which are lazy).
        names = sorted(n for n in self.defs if n not in SKIP)
        for n in names:
            d = self.defs[n]
            vals = self.enum_values(d)
            if vals is not None:
                self.emit_enum(n, vals, d)
        objects = [n for n in names if self.enum_values(self.defs[n]) is None and n != "Event"]
        for n in objects:
            d = self.defs[n]
            if self.is_plain_union(d):
                alts = [self.prop(a)[0] for a in d["anyOf"]]
                o.append(f"{n} = Union[{', '.join(alts)}]")
                o.extend(self.doc(d.get("description"), ""))
                o.append("")
        objects = [n for n in objects if not self.is_plain_union(self.defs[n])]
        for n in self.dependency_order(objects):
            d = self.defs[n]
            if self.is_union(d):
                continue
            if d.get("type") != "object":
                raise SystemExit(f"unsupported definition {n}: {json.dumps(d)[:200]}")
            self.emit_object(n, d)
        for n in objects:
            if self.is_union(self.defs[n]):
                self.emit_union(n, self.defs[n])
        ev = self.defs["Event"]
        self.emit_object("Event", {**{k: v for k, v in ev.items() if k != "oneOf"},
                                   "description": "One event of a task: an ``event`` notification's params.",
                                   "properties": {**ev["properties"],
                                                  "type": {"type": "string"},
                                                  "data": {"x-event-data": True}},
                                   "required": [*ev["required"], "type", "data"]})
        self.emit_event(ev)
        o.append("_FIELDS: Dict[str, List[Tuple[str, str, Any]]] = {")
        for n, fs in self.fields.items():
            o.append(f"    {json.dumps(n)}: [")
            for py, wire, spec in fs:
                o.append(f"        ({py!r}, {wire!r}, {spec!r}),")
            o.append("    ],")
        o.append("}")
        o.append('"""Per class: (python name, wire name, decoding spec) of each field."""')
        o.append("")
        o.append("_UNIONS: Dict[str, List[str]] = {")
        for n, ms in self.unions.items():
            o.append(f"    {json.dumps(n)}: {json.dumps(ms)},")
        o.append("}")
        o.append("")
        o.append("__all__ = [")
        exported = ["PROTOCOL_VERSION", "ERROR_CODES", "EVENT_DATA", "EventType", "EventData",
                    "TERMINAL_EVENTS", *names]
        for n in exported:
            o.append(f"    {json.dumps(n)},")
        o.append("]")
        text = "\n".join(o)
        text = re.sub(r"\n{3,}", "\n\n\n", text)
        return text.rstrip() + "\n"


def generate(schema_path: Path) -> str:
    return Gen(json.loads(schema_path.read_text())).run()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="fail if the output is out of date")
    a = ap.parse_args()
    text = generate(a.schema)
    if a.check:
        if not a.out.exists() or a.out.read_text() != text:
            print(f"{a.out} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    a.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
