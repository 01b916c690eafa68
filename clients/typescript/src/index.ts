/**
 * TypeScript client for the agent-runtime-kit sidecar: run agentic coding tasks through Claude
 * Code, Codex, Antigravity (or the built-in `fixture` runtime) with one protocol.
 *
 * ```ts
 * import { Client } from "agent-runtime-kit";
 * const ark = await Client.start();
 * const run = ark.run({ runtime: "fixture", task: { goal: "Explain this repository", workingDirectory: "." } });
 * for await (const event of run.events) {
 *   if (event.type === "agent.output.delta") process.stdout.write(event.data.text);
 * }
 * const result = await run.result;
 * await ark.close();
 * ```
 *
 * A conversation (a live session: the vendor process and the conversation stay between turns):
 *
 * ```ts
 * await using s = await ark.openSession("claude", { workingDirectory: "." });
 * await s.send("My name is Ada.").result;
 * console.log((await s.send("What is my name?").result).output);
 * ```
 */
export * from "./types.js";
export * from "./errors.js";
export { LineSplitter } from "./framing.js";
export {
  BIN_ENV,
  BIN_NAME,
  Client,
  Run,
  bundledBinary,
  findBinary,
  type ApprovalDecision,
  type ApprovalHandler,
  type ClientOptions,
  type QuestionAnswers,
  type QuestionHandler,
  type RunRequest,
} from "./client.js";
export { Session, type SessionClosedListener, type SessionOptions, type TurnOverrides } from "./session.js";
