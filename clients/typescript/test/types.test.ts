import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { ERROR_CODES, EVENT_TYPES, LineSplitter, type Event } from "../src/index.js";
import { REPO } from "./helpers.js";

const CLIENT = join(REPO, "clients", "typescript");

test("the generated types are up to date with the schema", () => {
  // Throws (with the generator's message) when src/types.ts differs from a fresh generation.
  execFileSync(process.execPath, [join(CLIENT, "scripts", "gen-types.mjs"), "--check"], { stdio: "pipe" });
});

test("error codes and event types come from the schema", () => {
  const schema = JSON.parse(readFileSync(join(REPO, "protocol", "schema", "protocol.schema.json"), "utf8"));
  assert.deepEqual(
    Object.fromEntries(schema.errors.map((e: { kind: string; code: number }) => [e.kind, e.code])),
    ERROR_CODES,
  );
  assert.deepEqual(
    schema.$defs.Event.oneOf.map((v: any) => v.properties.type.const),
    [...EVENT_TYPES],
  );
});

test("events narrow on their type", () => {
  const e = { taskId: "t", seq: 0, time: "", type: "agent.output.delta", data: { text: "hi" } } as Event;
  if (e.type === "agent.output.delta") assert.equal(e.data.text, "hi");
  else assert.fail("narrowing");
});

test("framing splits on LF bytes only, across chunks, with multi-byte characters intact", () => {
  const s = new LineSplitter();
  // Raw U+2028 / U+2029 (legal inside JSON strings) must not end a line, as readline would.
  const line1 = JSON.stringify({ text: "a\u2028b\u2029c é😀" }).replace(/\\u2028/g, "\u2028").replace(/\\u2029/g, "\u2029");
  const bytes = Buffer.from(`${line1}\r\n{"n":2}\n{"n":`, "utf8");
  const got: string[] = [];
  for (let i = 0; i < bytes.length; i += 3) got.push(...s.push(bytes.subarray(i, i + 3)));
  assert.deepEqual(got, [line1, '{"n":2}']);
  assert.equal(JSON.parse(got[0]!).text, "a\u2028b\u2029c é😀");
  assert.equal(s.flush(), '{"n":');
  assert.equal(s.flush(), undefined);
});

test("framing handles a line of many megabytes in many chunks", () => {
  const s = new LineSplitter();
  const big = "y".repeat(8 * 1024 * 1024);
  const bytes = Buffer.from(big + "\nnext\n");
  const got: string[] = [];
  for (let i = 0; i < bytes.length; i += 65536) got.push(...s.push(bytes.subarray(i, i + 65536)));
  assert.equal(got.length, 2);
  assert.equal(got[0]!.length, big.length);
  assert.equal(got[1], "next");
});
