//! The MCP server: three tools over the same core as the JSON-RPC server.
//!
//! `run_task` goes through `Core::run` (validation, admission, hygiene, exactly one result),
//! `list_runtimes` and `diagnose` through the same functions as the `capabilities` and `diagnose`
//! methods. Tools are declared by hand rather than with rmcp's `#[tool]` macros so that their
//! arguments are parsed by our path-naming parser and refusals take the shape described in
//! `results.rs` (the macros answer a bad argument with a bare JSON-RPC -32602).

use std::sync::Arc;
use std::time::Duration;

use rmcp::handler::server::tool::{schema_for_input, schema_for_output};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, InputRequiredResult,
    InputResponses, JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities,
    ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::args::{DiagnoseArgs, ListRuntimesArgs, RunTaskArgs};
use super::elicit::{self, ElicitHost};
use super::policy::Policy;
use super::progress::ProgressOutput;
use super::results;
use super::rounds::{Parked, Run};
use crate::core::{parse_at, Core};
use crate::protocol::methods::CapabilitiesParams;
use crate::protocol::methods::{CapabilitiesResult, DiagnoseResult};
use crate::protocol::result::AgentResult;
use crate::protocol::task::{ApprovalMode, RunOptions};
use crate::protocol::{ErrorCode, RpcError};
use crate::runtime::{ApprovalHost, EventOutput};

pub const RUN_TASK: &str = "run_task";
pub const LIST_RUNTIMES: &str = "list_runtimes";
pub const DIAGNOSE: &str = "diagnose";

/// While a cancelled task has not been admitted yet, how often its cancel is retried.
const CANCEL_RETRY: Duration = Duration::from_millis(20);

#[derive(Clone)]
pub struct McpServer {
    core: Arc<Core>,
    default_runtime: Option<String>,
    /// The operator's ceiling for `run_task`.
    policy: Arc<Policy>,
    /// Tool calls not yet answered: shutdown waits for them, not only for the tasks.
    calls: tokio_util::task::TaskTracker,
    /// Tasks waiting for their client's answers between two calls (protocol 2026-07-28).
    parked: Parked,
}

impl McpServer {
    pub fn new(core: Arc<Core>, default_runtime: Option<String>, policy: Policy) -> Self {
        McpServer {
            core,
            default_runtime,
            policy: Arc::new(policy),
            calls: tokio_util::task::TaskTracker::new(),
            parked: Parked::default(),
        }
    }

    /// The tool calls not yet answered (each holds a token while it runs).
    pub fn calls(&self) -> tokio_util::task::TaskTracker {
        self.calls.clone()
    }

    pub fn tools() -> Vec<Tool> {
        vec![
            Tool::new(
                RUN_TASK,
                "Hand a coding task to an agent (Claude Code, Codex or Antigravity) and wait for \
                 its result: the final output, structured output, files changed, tool calls, \
                 usage and the session id to resume. Sends progress notifications when given a \
                 progress token; cancelling the request stops the agent.",
                input_schema::<RunTaskArgs>(),
            )
            .with_raw_output_schema(schema_for_output::<AgentResult>())
            .with_annotations(
                ToolAnnotations::with_title("Run a coding task")
                    .read_only(false)
                    .destructive(true)
                    .idempotent(false)
                    .open_world(true),
            ),
            Tool::new(
                LIST_RUNTIMES,
                "What each runtime (agent) supports: models, sandbox modes, resume, \
                 structured output, MCP servers, and its runtimeOptions schema.",
                input_schema::<ListRuntimesArgs>(),
            )
            .with_raw_output_schema(schema_for_output::<CapabilitiesResult>())
            .with_annotations(ToolAnnotations::with_title("List runtimes").read_only(true)),
            Tool::new(
                DIAGNOSE,
                "Check each runtime's binary, version and credentials (calls no model unless \
                 probe is true).",
                input_schema::<DiagnoseArgs>(),
            )
            .with_raw_output_schema(schema_for_output::<DiagnoseResult>())
            .with_annotations(
                ToolAnnotations::with_title("Diagnose runtimes")
                    .read_only(true)
                    .open_world(true),
            ),
        ]
    }

    async fn run_task(
        &self,
        args: RunTaskArgs,
        context: RequestContext<RoleServer>,
    ) -> Result<Outcome, RpcError> {
        let task_id = format!("mcp-{}", uuid::Uuid::new_v4());
        let mut params = args.into_run_params(task_id.clone(), self.default_runtime.as_deref())?;
        // The ceiling before anything else: nothing of a call beyond it reaches the core.
        let cwd = std::env::current_dir()
            .map_err(|e| RpcError::internal(format!("no working directory: {e}")))?;
        self.policy.admit(&mut params, &cwd)?;
        let progress = Arc::new(ProgressOutput::new(
            context.peer.clone(),
            context.meta.get_progress_token(),
        ));
        let out: Arc<dyn EventOutput> = progress.clone();
        // Approvals and questions go to the client's user as elicitation forms, where the
        // client can show them; elsewhere "host" is refused rather than turned into deny.
        let host: Option<Arc<dyn ApprovalHost>> =
            if params.task.permissions().approvals == ApprovalMode::Host {
                if let Some(why) = elicit::unavailable(context.client_capabilities().as_ref()) {
                    return Err(RpcError::new(
                        ErrorCode::UnsupportedTaskInput,
                        format!(
                            "permissions.approvals \"host\" is not available on this connection: \
                             {why}. Use \"deny\" (the default) and allowedTools / the sandbox to \
                             grant what the agent needs"
                        ),
                        serde_json::json!({
                            "field": "permissions.approvals",
                            "reason": why,
                        }),
                    ));
                }
                if elicit::by_rounds(context.protocol_version().as_ref()) {
                    // The task outlives this call: it runs on, and the calls that follow (the
                    // client's retries with its answers) wait for it.
                    let (asks, asked) = tokio::sync::mpsc::channel(8);
                    let host: Arc<dyn ApprovalHost> = Arc::new(ElicitHost::Rounds(asks));
                    let core = self.core.clone();
                    let result = self.calls.spawn(async move {
                        core.run(params, out, Some(host))
                            .await
                            .map_err(RpcError::from)
                    });
                    let run = Run::new(task_id, result, asked, progress);
                    return self.drive(run, context.ct).await;
                }
                Some(Arc::new(ElicitHost::Request(context.peer.clone())))
            } else {
                None
            };
        let cancelled = context.ct.clone();
        let run = async {
            self.core
                .run(params, out, host)
                .await
                .map_err(RpcError::from)
        };
        tokio::pin!(run);
        tokio::select! {
            r = &mut run => return r.map(Outcome::Done),
            _ = cancelled.cancelled() => {}
        }
        // `notifications/cancelled`: stop the task. Its result is not sent (the host no longer
        // waits for it), but the task still winds down through the core like any cancel.
        tracing::info!(%task_id, "the host cancelled the call; cancelling the task");
        progress.mute();
        loop {
            // Not yet admitted (still in preflight): retry until it is, or until it ends.
            if self.core.cancel(&task_id).is_ok() {
                return run.await.map(Outcome::Done);
            }
            tokio::select! {
                r = &mut run => return r.map(Outcome::Done),
                _ = tokio::time::sleep(CANCEL_RETRY) => {}
            }
        }
    }

    /// A retry of `run_task` under protocol 2026-07-28: the client's answers for the task parked
    /// under `state`, then the wait for its result or next question.
    async fn resume_task(
        &self,
        state: &str,
        responses: Option<InputResponses>,
        context: RequestContext<RoleServer>,
    ) -> Result<Outcome, RpcError> {
        let Some(mut run) = self.parked.take(state) else {
            return Err(RpcError::invalid_params(
                "requestState",
                "no task waits under this requestState: it ended, or its answers came after the \
                 approval timeout",
            ));
        };
        run.answer(responses);
        run.progress.set_token(context.meta.get_progress_token());
        self.drive(run, context.ct).await
    }

    /// Waits for a task that runs apart from the call: its result, or its next ask (the call
    /// then answers with the forms, and the task is parked until the client's retry).
    async fn drive(&self, mut run: Run, cancelled: CancellationToken) -> Result<Outcome, RpcError> {
        let ask = tokio::select! {
            r = &mut run.result => return joined(r).map(Outcome::Done),
            Some(ask) = run.asks.recv() => ask,
            _ = cancelled.cancelled() => {
                tracing::info!(task_id = %run.task_id, "the host cancelled the call; cancelling the task");
                run.progress.mute();
                loop {
                    if self.core.cancel(&run.task_id).is_ok() {
                        return joined((&mut run.result).await).map(Outcome::Done);
                    }
                    tokio::select! {
                        r = &mut run.result => return joined(r).map(Outcome::Done),
                        _ = tokio::time::sleep(CANCEL_RETRY) => {}
                    }
                }
            }
        };
        let requests = run.input_requests(ask);
        let core = self.core.clone();
        let patience = Duration::from_millis(RunOptions::DEFAULT_APPROVAL_TIMEOUT_MS);
        let answer = self.parked.park(run, requests, patience, move |run| {
            // Abandoned: the task must not wait for answers that will not come.
            let _ = core.cancel(&run.task_id);
        });
        Ok(Outcome::InputRequired(answer))
    }
}

/// What a `run_task` call answers: the task's result, or forms for the client (2026-07-28).
enum Outcome {
    Done(Value),
    InputRequired(InputRequiredResult),
}

fn joined(r: Result<Result<Value, RpcError>, tokio::task::JoinError>) -> Result<Value, RpcError> {
    r.unwrap_or_else(|e| Err(RpcError::internal(format!("the task failed: {e}"))))
}

fn input_schema<T: schemars::JsonSchema + 'static>() -> std::sync::Arc<JsonObject> {
    schema_for_input::<T>().expect("tool arguments are objects")
}

/// Parses a tool's arguments (absent = `{}`), naming the offending argument in errors.
fn parse_args<T: DeserializeOwned>(arguments: Option<JsonObject>) -> Result<T, RpcError> {
    parse_at("", Value::Object(arguments.unwrap_or_default())).map_err(RpcError::from)
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
                    .with_title("agent-runtime-kit"),
            )
            .with_instructions(
                "Runs coding tasks through Claude Code, Codex or Antigravity. Call list_runtimes \
                 to see what is available, diagnose to see what is ready, then run_task with a \
                 runtime and a goal. Results carry a sessionId; pass it as resume to continue.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(Self::tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        Self::tools().into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let _call = self.calls.token();
        // Held until the call is answered. rmcp's own debug log of the request came before this:
        // main.rs caps rmcp's logs at info for that reason.
        let _secrets = request
            .arguments
            .as_ref()
            .map(crate::hygiene::learn_secrets_in_map);
        let result: CallToolResult = match request.name.as_ref() {
            RUN_TASK => {
                let outcome = match request.request_state.as_deref() {
                    Some(state) => {
                        self.resume_task(state, request.input_responses, context)
                            .await
                    }
                    None => match parse_args::<RunTaskArgs>(request.arguments) {
                        Ok(args) => self.run_task(args, context).await,
                        Err(e) => Err(e),
                    },
                };
                match outcome {
                    Ok(Outcome::Done(v)) => results::task_result(v),
                    Ok(Outcome::InputRequired(r)) => return Ok(CallToolResponse::InputRequired(r)),
                    Err(e) => results::refusal(e),
                }
            }
            LIST_RUNTIMES => match parse_args::<ListRuntimesArgs>(request.arguments).and_then(|a| {
                let p = CapabilitiesParams::from(a);
                let reply = self.core.capabilities(p.runtime.as_deref())?;
                Ok(serde_json::to_value(reply).expect("capabilities serialize"))
            }) {
                Ok(v) => {
                    let names: Vec<&str> = v["runtimes"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|r| r["name"].as_str()).collect())
                        .unwrap_or_default();
                    let text = format!("runtimes: {}", names.join(", "));
                    results::answer(v, text)
                }
                Err(e) => results::refusal(e),
            },
            DIAGNOSE => {
                let outcome = match parse_args::<DiagnoseArgs>(request.arguments) {
                    Ok(a) => match self.policy.admit_diagnose(&a) {
                        Ok(()) => self.core.diagnose(&a).await.map_err(RpcError::from),
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                };
                match outcome {
                    Ok(v) => results::diagnoses(v),
                    Err(e) => results::refusal(e),
                }
            }
            other => {
                return Err(ErrorData::invalid_params(
                    format!(
                        "unknown tool {other:?} (tools: {RUN_TASK}, {LIST_RUNTIMES}, {DIAGNOSE})"
                    ),
                    None,
                ))
            }
        };
        Ok(result.into())
    }
}
