#!/usr/bin/env node
// Generates src/types.ts from protocol/schema/protocol.schema.json.
//
// The schema is small and regular (objects, string enums, `T | null`, arrays, maps, `$ref`, two
// untagged unions, one adjacently tagged event union), so a short generator keeps the types exact
// without a code generation dependency. Field names stay camelCase, as on the wire.
//
//   node scripts/gen-types.mjs           rewrite src/types.ts
//   node scripts/gen-types.mjs --check   exit 1 if src/types.ts is out of date
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const schemaPath = resolve(here, "../../../protocol/schema/protocol.schema.json");
const outPath = resolve(here, "../src/types.ts");

// Definitions that only describe the fixture runtime's script format: hosts pass scripts as plain
// JSON under runtimeOptions.
const SKIP = new Set(["Script", "ScriptResult", "Step", "ToolStep", "ApprovalStep", "FailStep", "EventBody"]);

export function generate(schema) {
  const defs = schema.$defs;
  const refName = (r) => r.split("/").pop();
  const enumValues = (d) => {
    if (d.enum && d.type === "string") return d.enum;
    // Variants with a doc comment come as `const`, the others grouped in an `enum`.
    if (d.oneOf && d.oneOf.every((v) => v.type === "string" && ("const" in v || v.enum)))
      return d.oneOf.flatMap((v) => ("const" in v ? [v.const] : v.enum));
    return null;
  };
  const isUnion = (d) => Array.isArray(d.anyOf) && d.anyOf.every((v) => v.$ref);
  // A union of plain JSON types (`string | string[]`).
  const isPlainUnion = (d) => Array.isArray(d.anyOf) && !d.anyOf.some((v) => v.$ref);

  // Types the host sends: a field with a default may be left out. In what the sidecar sends, a
  // field with a default is always present (serde writes it), so it is not optional there.
  const input = new Set();
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node && typeof node === "object") {
      if (node.$ref) {
        const n = refName(node.$ref);
        if (!input.has(n)) {
          input.add(n);
          walk(defs[n]);
        }
      }
      Object.values(node).forEach(walk);
    }
  };
  for (const m of Object.values(schema.methods)) if (m.direction === "hostRequest") walk(m.params);
  for (const m of Object.values(schema.methods)) if (m.direction === "serverRequest") walk(m.result);

  const tsType = (p) => {
    if (p === true || (typeof p === "object" && Object.keys(p).every((k) => k === "description" || k === "default")))
      return { t: "unknown", nullable: false };
    if (p.$ref) return { t: refName(p.$ref), nullable: false };
    if (p.anyOf) {
      const alts = p.anyOf.filter((a) => !(a.type === "null"));
      if (alts.length !== 1) throw new Error(`unsupported anyOf ${JSON.stringify(p)}`);
      return { t: tsType(alts[0]).t, nullable: alts.length < p.anyOf.length };
    }
    let t = p.type;
    let nullable = false;
    if (Array.isArray(t)) {
      nullable = t.includes("null");
      t = t.filter((x) => x !== "null")[0];
    }
    switch (t) {
      case "string":
        return { t: "string", nullable };
      case "integer":
      case "number":
        return { t: "number", nullable };
      case "boolean":
        return { t: "boolean", nullable };
      case "array": {
        const inner = tsType(p.items ?? true).t;
        return { t: /[ |&]/.test(inner) ? `Array<${inner}>` : `${inner}[]`, nullable };
      }
      case "object":
        return { t: `Record<string, ${tsType(p.additionalProperties ?? true).t}>`, nullable };
      default:
        throw new Error(`unsupported property ${JSON.stringify(p)}`);
    }
  };
  const doc = (text, indent) => {
    if (!text) return [];
    const lines = text.replace(/\*\//g, "*\\/").split("\n");
    if (lines.length === 1) return [`${indent}/** ${lines[0]} */`];
    return [`${indent}/**`, ...lines.map((l) => `${indent} * ${l}`.trimEnd()), `${indent} */`];
  };

  const out = [
    "// Protocol types, generated from protocol/schema/protocol.schema.json.",
    "// Do not edit: run `node scripts/gen-types.mjs` (a test fails when this file drifts).",
    "",
    `export const PROTOCOL_VERSION = ${schema.protocolVersion};`,
    "",
    "/** JSON-RPC error codes by their stable `data.kind`. */",
    "export const ERROR_CODES = {",
    ...schema.errors.map((e) => `  ${e.kind}: ${e.code},`),
    "} as const;",
    "",
    "export type ErrorKind = keyof typeof ERROR_CODES;",
    "",
  ];
  const names = Object.keys(defs)
    .filter((n) => !SKIP.has(n))
    .sort();
  for (const n of names) {
    const d = defs[n];
    const vals = enumValues(d);
    if (vals) {
      out.push(...doc(d.description, ""), `export type ${n} = ${vals.map((v) => JSON.stringify(v)).join(" | ")};`, "");
    } else if (isUnion(d)) {
      out.push(...doc(d.description, ""), `export type ${n} = ${d.anyOf.map((a) => refName(a.$ref)).join(" | ")};`, "");
    } else if (isPlainUnion(d)) {
      out.push(...doc(d.description, ""), `export type ${n} = ${d.anyOf.map((a) => tsType(a).t).join(" | ")};`, "");
    } else if (n === "Event") {
      continue;
    } else {
      if (d.type !== "object") throw new Error(`unsupported definition ${n}`);
      out.push(...doc(d.description, ""), `export interface ${n} {`);
      const req = new Set(d.required ?? []);
      for (const [wire, p] of Object.entries(d.properties ?? {})) {
        const { t, nullable } = tsType(p);
        const hasDefault = typeof p === "object" && "default" in p;
        const optional = !req.has(wire) && (input.has(n) || !hasDefault);
        out.push(...doc(typeof p === "object" ? p.description : undefined, "  "));
        out.push(`  ${wire}${optional ? "?" : ""}: ${t}${nullable ? " | null" : ""};`);
      }
      out.push("}", "");
    }
  }
  // Event: {taskId, seq, time} plus an adjacently tagged {type, data}, as a discriminated union.
  const ev = defs.Event;
  out.push("/** The data of each event type. */", "export interface EventDataMap {");
  for (const v of ev.oneOf) out.push(`  ${JSON.stringify(v.properties.type.const)}: ${refName(v.properties.data.$ref)};`);
  out.push("}", "", "export type EventType = keyof EventDataMap;", "");
  out.push("/** Every event type, in the protocol's order. */");
  out.push(`export const EVENT_TYPES: readonly EventType[] = [${ev.oneOf.map((v) => JSON.stringify(v.properties.type.const)).join(", ")}];`, "");
  out.push('/** The last event of every task. */');
  out.push('export const TERMINAL_EVENT_TYPES: readonly EventType[] = ["agent.task.completed", "agent.task.failed"];', "");
  out.push("/** What every event carries. */", "export interface EventBase {");
  for (const [wire, p] of Object.entries(ev.properties)) {
    out.push(...doc(p.description, "  "), `  ${wire}: ${tsType(p).t};`);
  }
  out.push("}", "");
  out.push("/** One event of a task (an `event` notification's params); narrow it on `type`. */");
  out.push("export type Event = { [K in EventType]: EventBase & { type: K; data: EventDataMap[K] } }[EventType];", "");
  return out.join("\n").replace(/\n{3,}/g, "\n\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = generate(JSON.parse(readFileSync(schemaPath, "utf8")));
  if (process.argv.includes("--check")) {
    if (!existsSync(outPath) || readFileSync(outPath, "utf8") !== text) {
      console.error(`${outPath} is out of date: run node ${join("scripts", "gen-types.mjs")}`);
      process.exit(1);
    }
  } else {
    writeFileSync(outPath, text);
  }
}
