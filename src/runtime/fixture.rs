//! The fixture runtime: replays a JSON script, so hosts can test their integration with no vendor
//! account, and the binary does something useful out of the box (the built-in demo script).
//!
//! It is also the replay half of `--record`: a recorded run of any runtime is a script whose steps
//! are the recorded events and whose `result` is the recorded result.

use std::path::Path;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::{LiveSession, OpenContext, RunContext, Runtime, Steering};
use crate::core::{parse_str_at, without_position, Refusal, StrError};
use crate::protocol::event::{EventBody, TaskStarted, TextData, ToolRequested};
use crate::protocol::methods::{Answer, Decision, DiagnoseParams, Question};
use crate::protocol::result::{
    AgentResult, Artifact, CancelMode, FinishReason, TaskError, TaskErrorKind, ToolCallRecord,
    ToolStatus, Usage,
};
use crate::protocol::runtime_info::{Capabilities, Diagnosis, DiagnosisStatus};
use crate::protocol::task::AgentTask;
use crate::runtime::attachments::Loaded;
use crate::runtime::tool_calls;

mod live;

pub const NAME: &str = "fixture";

/// A fixture script: steps run in order, then `result`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Script {
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub result: ScriptResult,
}

// The variant is told by its key (`delayMs`, `event`, `tool`, `approval`, `question`, `fail`, in that order
// of precedence; other keys are ignored). Deserialized by hand (`impl Deserialize for Step`):
// serde's `untagged` buffers every step and tries each variant in turn, which made loading a
// 200,000-step script take over a second. (A `//` comment: doc comments go into the schema.)
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Step {
    Delay {
        #[serde(rename = "delayMs")]
        delay_ms: u64,
        /// Keep waiting when the task is stopped: simulates a vendor that is slow to stop.
        #[serde(
            rename = "ignoreCancel",
            default,
            skip_serializing_if = "std::ops::Not::not"
        )]
        ignore_cancel: bool,
    },
    Event {
        /// An event type other than the terminal ones (the core emits those).
        event: String,
        // Kept as the host's text until the step plays (checked at admission): a script of
        // 100,000 steps is admitted without building a `Value` tree per step.
        #[serde(default = "null_data")]
        #[schemars(with = "Value")]
        data: Box<RawValue>,
    },
    Tool {
        tool: ToolStep,
    },
    Approval {
        approval: ApprovalStep,
    },
    Question {
        question: QuestionStep,
    },
    Fail {
        fail: FailStep,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolStep {
    pub name: String,
    #[serde(default)]
    pub input: Value,
    #[serde(default)]
    pub output: Value,
    #[serde(default = "ok_status")]
    pub status: ToolStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(StepVisitor)
    }
}

struct StepVisitor;

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum StepKey {
    DelayMs,
    IgnoreCancel,
    Event,
    Data,
    Tool,
    Approval,
    Question,
    Fail,
    #[serde(other)]
    Other,
}

impl<'de> serde::de::Visitor<'de> for StepVisitor {
    type Value = Step;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a step: an object with delayMs, event, tool, approval, question or fail")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
        let mut delay_ms = None;
        let mut ignore_cancel = None;
        let mut event = None;
        let mut data = None;
        let mut tool = None;
        let mut approval = None;
        let mut question = None;
        let mut fail = None;
        while let Some(key) = map.next_key::<StepKey>()? {
            match key {
                StepKey::DelayMs => delay_ms = Some(map.next_value::<u64>()?),
                StepKey::IgnoreCancel => ignore_cancel = Some(map.next_value::<bool>()?),
                StepKey::Event => event = Some(map.next_value::<String>()?),
                StepKey::Data => data = Some(map.next_value::<Box<RawValue>>()?),
                StepKey::Tool => tool = Some(map.next_value::<ToolStep>()?),
                StepKey::Approval => approval = Some(map.next_value::<ApprovalStep>()?),
                StepKey::Question => question = Some(map.next_value::<QuestionStep>()?),
                StepKey::Fail => fail = Some(map.next_value::<FailStep>()?),
                StepKey::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(if let Some(delay_ms) = delay_ms {
            Step::Delay {
                delay_ms,
                ignore_cancel: ignore_cancel.unwrap_or(false),
            }
        } else if let Some(event) = event {
            Step::Event {
                event,
                data: data.unwrap_or_else(null_data),
            }
        } else if let Some(tool) = tool {
            Step::Tool { tool }
        } else if let Some(approval) = approval {
            Step::Approval { approval }
        } else if let Some(question) = question {
            Step::Question { question }
        } else if let Some(fail) = fail {
            Step::Fail { fail }
        } else {
            return Err(serde::de::Error::custom(
                "a step needs one of delayMs, event, tool, approval, question or fail",
            ));
        })
    }
}

/// An event step's `data` when the script gives none.
fn null_data() -> Box<RawValue> {
    RawValue::NULL.to_owned()
}

/// An event step's `data` from a value (the built-in scripts).
pub(crate) fn step_data(value: &Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).expect("a Value serializes")
}

fn ok_status() -> ToolStatus {
    ToolStatus::Ok
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalStep {
    pub name: String,
    #[serde(default)]
    pub input: Value,
    /// The tool output when approved.
    #[serde(default)]
    pub output: Value,
}

/// The agent asks the host (`input/request`), as a tool call named `name`. The call's output is
/// the host's `{ answers }` (declined: status `denied`, output why); `{{answers.<id>}}` in the
/// result's `output` is replaced by that answer (a multi-select's labels joined with ", ", an
/// unanswered or declined question by nothing).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuestionStep {
    pub questions: Vec<Question>,
    #[serde(default = "ask_tool_name")]
    pub name: String,
}

fn ask_tool_name() -> String {
    "AskUserQuestion".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailStep {
    pub kind: TaskErrorKind,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_code: Option<Value>,
}

/// The result part of a script. Beyond the contract's `output`, `structuredOutput`, `sessionId`
/// and `usage`, it takes the other result fields so that a recorded run replays identically.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScriptResult {
    #[serde(default)]
    pub output: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default)]
    pub usage: Usage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turns: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TaskError>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallRecord>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Value>,
}

// `runtimeOptions.fixture`: a script inline or from a file; neither plays the built-in demo.
// (A `//` comment: doc comments go into the published schema.)
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FixtureOptions {
    /// A script file (relative paths resolve against the task's working directory).
    path: Option<String>,
    /// An inline script.
    script: Option<Script>,
    /// A live session's turns: turn i plays `turns[i]`; past the end (or without `turns`) a turn
    /// plays `script`/`path`, or else the conversation demo, which echoes every earlier turn.
    /// A one-shot run plays `turns[0]`.
    turns: Option<Vec<Script>>,
    /// Like `turns`, from script files (a recorded session: `--record` writes one per turn).
    /// Relative paths resolve against the task's working directory; `turns` plays first.
    turn_paths: Option<Vec<String>>,
    /// A live session takes this long to open (to see `starting` in `session/list`).
    open_delay_ms: Option<u64>,
    /// A live session's "vendor" exits by itself this long after it opened.
    exit_after_ms: Option<u64>,
}

/// What the fixture plays: a script (or the demo) for a run, one per turn for a live session.
pub struct FixturePlan {
    script: Option<Script>,
    turns: Vec<Script>,
    open_delay_ms: u64,
    exit_after_ms: Option<u64>,
}

#[derive(Default)]
pub struct FixtureRuntime;

#[async_trait]
impl Runtime for FixtureRuntime {
    type Options = FixtureOptions;
    type Plan = FixturePlan;
    // Scripts say what changed; listing the host's directory around a replay would only cost.
    const WATCHES_WORKSPACE: bool = false;

    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Replays a JSON script (or a built-in demo) with no vendor account; accepts every task \
         field and simulates it"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            live_sessions: true,
            steer: true,
            prewarm: true,
            // Echoed back (`vendor.attachments` in the result) so hosts can test theirs.
            attachments: vec!["image".into(), "file".into()],
            // `question` steps.
            questions: true,
            ..super::all_capabilities()
        }
    }

    async fn diagnose(&self, _params: &DiagnoseParams) -> Diagnosis {
        Diagnosis {
            runtime: NAME.into(),
            status: DiagnosisStatus::Ready,
            binary: None,
            message: "The fixture runtime is built in and needs nothing.".into(),
            remedy: None,
        }
    }

    /// The script is read and checked here, once: a bad one is refused before the run starts,
    /// and `run` plays the one read here.
    fn plan(
        &self,
        _task: &AgentTask,
        working_directory: &Path,
        options: FixtureOptions,
    ) -> Result<FixturePlan, Refusal> {
        let field = "task.runtimeOptions.fixture.turns";
        let mut turns = options.turns.clone().unwrap_or_default();
        for (t, script) in turns.iter().enumerate() {
            check_steps(script, &format!("{field}[{t}]"))?;
        }
        for (t, path) in options.turn_paths.iter().flatten().enumerate() {
            let at = format!("task.runtimeOptions.fixture.turnPaths[{t}]");
            let script = read_script(&working_directory.join(path), &at)?;
            check_steps(&script, &at)?;
            turns.push(script);
        }
        Ok(FixturePlan {
            open_delay_ms: options.open_delay_ms.unwrap_or(0),
            exit_after_ms: options.exit_after_ms,
            turns,
            script: load_script(options, working_directory)?,
        })
    }

    async fn run(&self, mut ctx: RunContext, plan: FixturePlan) -> AgentResult {
        let script = plan
            .turns
            .into_iter()
            .next()
            .or(plan.script)
            .unwrap_or_else(|| demo_script(&ctx.task.goal, &ctx.working_directory));
        let mut steer = std::mem::take(&mut ctx.steer);
        Player::new(&ctx, None).play(&ctx, &mut steer, script).await
    }

    async fn open(
        &self,
        ctx: OpenContext,
        plan: FixturePlan,
    ) -> Result<Box<dyn LiveSession>, AgentResult> {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(plan.open_delay_ms)) => {}
            _ = ctx.stop.stopped() => {
                return Err(AgentResult {
                    finish_reason: FinishReason::Cancelled,
                    cancel: Some(CancelMode::Soft),
                    ..Default::default()
                });
            }
        }
        Ok(Box::new(live::FixtureSession::new(&ctx.task, plan)))
    }
}

/// The script of the options, or `None` for the demo; its event steps checked.
fn load_script(options: FixtureOptions, wd: &Path) -> Result<Option<Script>, Refusal> {
    let field = "task.runtimeOptions.fixture";
    let (script, at) = if let Some(script) = options.script {
        (script, format!("{field}.script"))
    } else if let Some(path) = options.path {
        let at = format!("{field}.path");
        (read_script(&wd.join(path), &at)?, at)
    } else {
        return Ok(None);
    };
    check_steps(&script, &at)?;
    Ok(Some(script))
}

/// A script file (its steps unchecked); refusals name `at`.
fn read_script(p: &Path, at: &str) -> Result<Script, Refusal> {
    // Bounded and FIFO-safe (`read_script_file`); `turnPaths` entries go through here too.
    let text = read_script_file(p)
        .map_err(|e| Refusal::invalid(at, format!("cannot read {}: {e}", p.display())))?;
    // Straight from the text: no intermediate `Value` tree for a script of any size.
    let script = parse_str_at(at, &text).map_err(|e| match e {
        StrError::Syntax(e) => Refusal::invalid(at, format!("{} is not JSON: {e}", p.display())),
        StrError::Data(e) => e,
    })?;
    Ok(script)
}

/// Every event step of a script is a non-terminal event whose data fits its type.
fn check_steps(script: &Script, at: &str) -> Result<(), Refusal> {
    for (i, step) in script.steps.iter().enumerate() {
        if let Step::Event { event, data } = step {
            check_event(event, data)
                .map_err(|reason| Refusal::invalid(format!("{at}.steps[{i}]"), reason))?;
        }
    }
    Ok(())
}

/// The largest script file read (64 MiB). A recording of a long run is a few MiB; the limit
/// only keeps a wrong path (a log, an image) from being read whole into memory.
pub const MAX_SCRIPT_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A script file's text: only a regular file of at most [`MAX_SCRIPT_FILE_BYTES`]. It is opened
/// with `O_NONBLOCK` (opening a FIFO with no writer would otherwise block until one comes) and
/// checked with `fstat` on what was opened, so `/dev/zero`, a FIFO, a socket or a directory is a
/// clear error, never an endless or blocked read. Called off the reactor (the core plans on a
/// blocking thread).
fn read_script_file(p: &Path) -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(p)
        .map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.file_type().is_file() {
        return Err("not a regular file".into());
    }
    let too_big = || format!("larger than the {} MiB limit", MAX_SCRIPT_FILE_BYTES >> 20);
    if meta.len() > MAX_SCRIPT_FILE_BYTES {
        return Err(too_big());
    }
    // The file may grow after fstat: read one byte past the limit at most.
    let mut text = String::with_capacity(meta.len() as usize);
    file.take(MAX_SCRIPT_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_SCRIPT_FILE_BYTES {
        return Err(too_big());
    }
    Ok(text)
}

/// Whether an event step is a non-terminal event whose `data` fits its type (`emit_raw` relies
/// on it). The common text events are checked in place; any other goes through `EventBody`.
fn check_event(event: &str, data: &RawValue) -> Result<(), String> {
    match event {
        "agent.output.delta" | "agent.message" => serde_json::from_str::<TextData>(data.get())
            .map(drop)
            .map_err(|e| without_position(&e)),
        // `data` is JSON (it was read as such); the event type is its tag.
        _ => {
            let data: Value = serde_json::from_str(data.get()).unwrap_or(Value::Null);
            match serde_json::from_value::<EventBody>(json!({ "type": event, "data": data })) {
                Ok(b) if b.is_terminal() => {
                    Err("terminal events come from the result, not from steps".into())
                }
                Ok(_) => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

/// The built-in demo: echoes the goal as deltas, lists the working directory through one tool
/// call, and answers.
fn demo_script(goal: &str, wd: &Path) -> Script {
    let mut entries: Vec<String> = std::fs::read_dir(wd)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    let listing = entries.join("\n");
    let answer = format!(
        "This is the fixture runtime: no model was called. You asked: \"{goal}\". \
         The working directory has {} visible entries: {}. \
         Run the same task with --runtime claude, codex or antigravity for a real answer.",
        entries.len(),
        if entries.is_empty() {
            "none".to_string()
        } else {
            entries.join(", ")
        }
    );
    let mut steps = vec![Step::Delay {
        delay_ms: 10,
        ignore_cancel: false,
    }];
    steps.push(Step::Tool {
        tool: ToolStep {
            name: "ListFiles".into(),
            input: json!({ "path": wd.display().to_string() }),
            output: Value::String(listing),
            status: ToolStatus::Ok,
            id: None,
        },
    });
    for chunk in answer.split_inclusive(' ') {
        steps.push(Step::Delay {
            delay_ms: 5,
            ignore_cancel: false,
        });
        steps.push(Step::Event {
            event: "agent.output.delta".into(),
            data: step_data(&json!({ "text": chunk })),
        });
    }
    steps.push(Step::Event {
        event: "agent.message".into(),
        data: step_data(&json!({ "text": answer })),
    });
    Script {
        steps,
        result: ScriptResult {
            output: answer,
            session_id: Some(format!("fixture-{}", uuid::Uuid::new_v4())),
            usage: Usage {
                input_tokens: goal.split_whitespace().count() as u64,
                output_tokens: 0,
                cached_input_tokens: 0,
                cost_usd: Some(0.0),
            },
            turns: Some(2),
            ..Default::default()
        },
    }
}

/// Plays one script for one task.
pub(crate) struct Player {
    tool_calls: Vec<ToolCallRecord>,
    next_tool_id: u32,
    allowed: Option<Vec<String>>,
    disallowed: Vec<String>,
    /// A live session's id, reported whatever the script says.
    session: Option<String>,
    /// What the host added with `steer` during this turn.
    pub(crate) steered: Vec<String>,
    /// The task's attachments as received, echoed in the result's `vendor.attachments`.
    attachments: Option<Value>,
    /// The host's answers to `question` steps, by question id.
    answers: std::collections::BTreeMap<String, String>,
}

impl Player {
    pub(crate) fn new(ctx: &RunContext, session: Option<String>) -> Self {
        let perms = ctx.task.permissions();
        Player {
            tool_calls: vec![],
            next_tool_id: 0,
            allowed: perms.allowed_tools,
            disallowed: perms.disallowed_tools.unwrap_or_default(),
            session,
            steered: vec![],
            attachments: echo_attachments(&ctx.attachments),
            answers: Default::default(),
        }
    }

    /// Waits `delay_ms`, taking steered text meanwhile (each shows up as output). False when
    /// the task was stopped.
    async fn delay(&mut self, ctx: &RunContext, steer: &mut Steering, delay_ms: u64) -> bool {
        let until = tokio::time::Instant::now() + Duration::from_millis(delay_ms);
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => return true,
                _ = ctx.stop.stopped() => return false,
                text = steer.next() => {
                    ctx.events
                        .emit(EventBody::OutputDelta(TextData { text: format!("[steer] {text}\n"), vendor: None }))
                        .await;
                    self.steered.push(text);
                }
            }
        }
    }

    pub(crate) async fn play(
        &mut self,
        ctx: &RunContext,
        steer: &mut Steering,
        script: Script,
    ) -> AgentResult {
        let started_in_script = script
            .steps
            .iter()
            .any(|s| matches!(s, Step::Event { event, .. } if event == "agent.task.started"));
        let session_id = self.session_id(ctx, &script.result);
        if !started_in_script {
            ctx.events
                .emit(EventBody::TaskStarted(TaskStarted {
                    runtime: NAME.into(),
                    model: ctx.task.model.clone().or(Some("fixture".into())),
                    working_directory: ctx.working_directory.display().to_string(),
                    permissions: ctx.task.permissions(),
                    session_id: Some(session_id.0.clone()),
                    metadata: ctx.task.metadata.clone(),
                    vendor: None,
                }))
                .await;
        }
        let turns = script.result.turns.unwrap_or(1);
        if let Some(max) = ctx.task.max_turns {
            if turns > max {
                let mut r = self.finish(script.result, session_id);
                r.finish_reason = FinishReason::MaxTurns;
                r.turns = max;
                r.error = Some(TaskError::new(
                    TaskErrorKind::MaxTurns,
                    format!("the script needs {turns} turns; maxTurns is {max}"),
                ));
                return r;
            }
        }
        for step in script.steps {
            if ctx.stop.is_stopped() {
                return self.cancelled(script.result, session_id);
            }
            match step {
                Step::Delay {
                    delay_ms,
                    ignore_cancel: true,
                } => tokio::time::sleep(Duration::from_millis(delay_ms)).await,
                Step::Delay { delay_ms, .. } => {
                    if !self.delay(ctx, steer, delay_ms).await {
                        return self.cancelled(script.result, session_id);
                    }
                }
                // Emitted as given (not re-typed), so a recorded run replays byte for byte.
                Step::Event { event, data } => {
                    // Checked at admission: it parses.
                    let data = serde_json::from_str(data.get()).unwrap_or(Value::Null);
                    ctx.events.emit_raw(&event, data).await
                }
                Step::Tool { tool } => self.tool(ctx, tool).await,
                Step::Approval { approval } => self.approval(ctx, approval).await,
                Step::Question { question } => self.question(ctx, question).await,
                Step::Fail { fail } => {
                    let mut r = self.finish(script.result, session_id);
                    r.finish_reason = FinishReason::Error;
                    r.error = Some(TaskError {
                        kind: fail.kind,
                        message: fail.message,
                        vendor_code: fail.vendor_code,
                    });
                    return r;
                }
            }
        }
        if ctx.stop.is_stopped() {
            return self.cancelled(script.result, session_id);
        }
        self.finish(script.result, session_id)
    }

    /// The session id to report: the script's, or for a resume the resumed id (a fork gets a new one).
    fn session_id(&self, ctx: &RunContext, result: &ScriptResult) -> (String, bool) {
        if let Some(live) = &self.session {
            return (live.clone(), false);
        }
        let own = result
            .session_id
            .clone()
            .unwrap_or_else(|| format!("fixture-{}", ctx.task_id));
        match ctx.task.resume() {
            Some(s) if ctx.task.fork() => (format!("{s}-fork"), true),
            Some(s) => (s.to_string(), false),
            None => (own, false),
        }
    }

    fn tool_id(&mut self, given: Option<String>) -> String {
        self.next_tool_id += 1;
        given.unwrap_or_else(|| format!("fx-tool-{}", self.next_tool_id))
    }

    fn is_allowed(&self, name: &str) -> bool {
        !self.disallowed.iter().any(|d| d == name)
            && self
                .allowed
                .as_ref()
                .is_none_or(|a| a.iter().any(|x| x == name))
    }

    async fn tool(&mut self, ctx: &RunContext, tool: ToolStep) {
        let id = self.tool_id(tool.id.clone());
        let began = Instant::now();
        request(ctx, &id, &tool.name, &tool.input).await;
        let (status, output) = if self.is_allowed(&tool.name) {
            (tool.status, tool.output)
        } else {
            (
                ToolStatus::Denied,
                json!("denied by permissions.allowedTools/disallowedTools"),
            )
        };
        self.complete(ctx, id, tool.name, tool.input, status, output, began)
            .await;
    }

    async fn approval(&mut self, ctx: &RunContext, step: ApprovalStep) {
        let id = self.tool_id(None);
        let mut input = step.input.clone();
        let began = Instant::now();
        request(ctx, &id, &step.name, &step.input).await;
        let (status, output) = if !self.is_allowed(&step.name) {
            (
                ToolStatus::Denied,
                json!("denied by permissions.allowedTools/disallowedTools"),
            )
        } else {
            let answer = ctx.approvals.decide(&id, &step.name, &step.input).await;
            if let (true, Some(updated)) = (answer.decision.allows(), answer.updated_input) {
                // What "runs" is the host's input: the completed call reports it.
                input = updated;
            }
            match answer.decision {
                Decision::Allow | Decision::AllowForSession => (ToolStatus::Ok, step.output),
                Decision::Deny | Decision::Abort => (
                    ToolStatus::Denied,
                    json!(answer.message.unwrap_or_else(|| "denied".into())),
                ),
            }
        };
        self.complete(ctx, id, step.name, input, status, output, began)
            .await;
    }

    async fn question(&mut self, ctx: &RunContext, step: QuestionStep) {
        let id = self.tool_id(None);
        let began = Instant::now();
        let input = json!({ "questions": step.questions });
        request(ctx, &id, &step.name, &input).await;
        let (status, output) = match ctx.approvals.ask_questions(Some(&id), step.questions).await {
            Ok(response) => {
                for (qid, answer) in &response.answers {
                    let text = match answer {
                        Answer::One(s) => s.clone(),
                        Answer::Many(v) => v.join(", "),
                    };
                    self.answers.insert(qid.clone(), text);
                }
                (ToolStatus::Ok, json!(response))
            }
            Err(why) => (ToolStatus::Denied, json!(why)),
        };
        self.complete(ctx, id, step.name, input, status, output, began)
            .await;
    }

    #[allow(clippy::too_many_arguments)]
    async fn complete(
        &mut self,
        ctx: &RunContext,
        id: String,
        name: String,
        input: Value,
        status: ToolStatus,
        output: Value,
        began: Instant,
    ) {
        let duration_ms = began.elapsed().as_millis() as u64;
        let completed = tool_calls::complete(
            &mut self.tool_calls,
            (id, name, input),
            (status, output),
            duration_ms,
        );
        ctx.events.emit(EventBody::ToolCompleted(completed)).await;
    }

    fn finish(&mut self, r: ScriptResult, (session_id, changed): (String, bool)) -> AgentResult {
        let mut output = with_answers(r.output, &self.answers);
        for text in &self.steered {
            output.push_str(&format!("\n[steer] {text}"));
        }
        AgentResult {
            finish_reason: r.finish_reason.unwrap_or(FinishReason::Completed),
            output,
            structured_output: r.structured_output,
            error: r.error,
            session_id: Some(session_id),
            session_changed: changed,
            artifacts: r.artifacts,
            tool_calls: r
                .tool_calls
                .unwrap_or_else(|| std::mem::take(&mut self.tool_calls)),
            usage: r.usage,
            turns: r.turns.unwrap_or(1),
            vendor: match (r.vendor, self.attachments.take()) {
                (v, None) => v,
                (Some(Value::Object(mut v)), Some(a)) => {
                    v.insert("attachments".into(), a);
                    Some(Value::Object(v))
                }
                (_, Some(a)) => Some(json!({ "attachments": a })),
            },
            ..Default::default()
        }
    }

    fn cancelled(&mut self, r: ScriptResult, session: (String, bool)) -> AgentResult {
        let mut out = self.finish(r, session);
        out.finish_reason = FinishReason::Cancelled;
        out.cancel = Some(CancelMode::Soft);
        out.output = String::new();
        out.structured_output = None;
        out.error = None;
        out
    }
}

/// What the fixture received, so a host can check its attachments arrived as it meant them:
/// type, media type, size in bytes, and the name it gave.
fn echo_attachments(attachments: &[Loaded]) -> Option<Value> {
    if attachments.is_empty() {
        return None;
    }
    let list = attachments
        .iter()
        .map(|a| match a {
            Loaded::Image {
                media_type,
                base64,
                name,
            } => json!({ "type": "image", "mediaType": media_type,
                         "bytes": base64.len() / 4 * 3 - base64.bytes().rev().take_while(|b| *b == b'=').count(),
                         "path": name }),
            Loaded::File { name, text } => {
                json!({ "type": "file", "bytes": text.len(), "path": name })
            }
        })
        .collect();
    Some(Value::Array(list))
}

/// `{{answers.<id>}}` → the answer (nothing when there is none).
fn with_answers(
    mut output: String,
    answers: &std::collections::BTreeMap<String, String>,
) -> String {
    while let Some(start) = output.find("{{answers.") {
        let Some(len) = output[start..].find("}}") else {
            break;
        };
        let id = &output[start + "{{answers.".len()..start + len];
        let answer = answers.get(id).cloned().unwrap_or_default();
        output.replace_range(start..start + len + 2, &answer);
    }
    output
}

async fn request(ctx: &RunContext, id: &str, name: &str, input: &Value) {
    ctx.events
        .emit(EventBody::ToolRequested(ToolRequested {
            tool_call_id: id.to_string(),
            name: name.to_string(),
            input: input.clone(),
            vendor: None,
        }))
        .await;
}
