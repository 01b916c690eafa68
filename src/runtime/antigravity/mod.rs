//! The `antigravity` runtime: tasks run through Google's `google-antigravity` Python SDK.
//!
//! The SDK (whose wheel bundles the Go `localharness` agent that calls the model) is driven by a
//! small Python bridge shipped inside this binary (`bridge.py`): one bridge process per task, the
//! task on its stdin, one JSON event per line on its stdout. The bridge uses only the SDK's
//! public API; its internal harness protocol is not ours to drive.
//!
//! Files: `command.rs` (Python, bridge install, environment and state dirs), `wire.rs` (bridge
//! messages), `mapping.rs` (SDK steps → our events, errors, artifacts), `run.rs` (one task, and
//! the turn loop live sessions share), `live.rs` (a live session: one bridge, many turns),
//! `diagnose.rs` (installation and credential checks), `options.rs` (`runtimeOptions.antigravity`).

mod command;
mod diagnose;
mod env;
mod live;
mod mapping;
mod options;
mod questions;
mod run;
mod wire;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{model_probe, LiveSession, OpenContext, RunContext, Runtime};
use crate::core::Refusal;
use crate::protocol::methods::DiagnoseParams;
use crate::protocol::result::{AgentResult, TaskErrorKind};
use crate::protocol::runtime_info::{Capabilities, Diagnosis, DiagnosisStatus};
use crate::protocol::task::{AgentTask, Attachment, AttachmentKind, Permissions, SandboxMode};
use options::AntigravityOptions;

pub const NAME: &str = "antigravity";

pub struct AntigravityRuntime {
    /// `--antigravity-python`, when given.
    python: Option<PathBuf>,
    /// Installations that checked out, by Python path (a run does not re-check each time).
    checked: Mutex<HashMap<PathBuf, wire::CheckInfo>>,
}

impl AntigravityRuntime {
    pub fn new(python: Option<PathBuf>) -> Self {
        AntigravityRuntime {
            python,
            checked: Mutex::new(HashMap::new()),
        }
    }

    async fn installation(&self) -> Result<(PathBuf, wire::CheckInfo), Diagnosis> {
        if let Ok(python) = command::resolve_python(self.python.as_deref()) {
            if let Some(info) = self.checked.lock().unwrap().get(&python) {
                return Ok((python, info.clone()));
            }
        }
        let (python, info) = diagnose::installation(self.python.as_deref()).await?;
        self.checked
            .lock()
            .unwrap()
            .insert(python.clone(), info.clone());
        Ok((python, info))
    }

    /// `probe: true`: a one-turn task against the model, read-only, in a scratch directory.
    async fn probe(
        &self,
        python: PathBuf,
        info: &wire::CheckInfo,
        model: Option<String>,
    ) -> Diagnosis {
        let binary = diagnose::binary_info(&python, info);
        let scratch = match crate::private_dir::tempdir("agent-runtime-kit-probe-") {
            Ok(d) => d,
            Err(e) => {
                return diagnose::with_status(
                    DiagnosisStatus::Error,
                    binary,
                    format!("cannot create a probe directory: {e}"),
                    None,
                )
            }
        };
        let task = AgentTask {
            goal: "Reply with the single word: ok".into(),
            model: model.clone(),
            permissions: Some(Permissions {
                sandbox: SandboxMode::ReadOnly,
                ..Default::default()
            }),
            ..Default::default()
        };
        let opts = AntigravityOptions {
            api_retries: Some(0),
            state_dir: Some(scratch.path().join("state").display().to_string()),
            ..Default::default()
        };
        let (ctx, stop) = model_probe::context(task, scratch.path());
        let remedies = model_probe::Remedies {
            credentials: "check GEMINI_API_KEY (or the Vertex AI settings)",
            model: "pick another model (e.g. the SDK's default) with --model / task.model",
        };
        let ready = diagnose::with_status(DiagnosisStatus::Ready, binary, String::new(), None);
        model_probe::run(
            ready,
            model.as_deref(),
            stop,
            remedies,
            run::run(python, ctx, opts),
        )
        .await
    }
}

/// A GIF image attachment (by its declared type, or its first bytes: the attachment was read
/// and checked already, so this only looks at the magic number).
fn is_gif(a: &Attachment, wd: &Path) -> bool {
    use base64::Engine as _;
    use std::io::Read as _;
    if a.kind != AttachmentKind::Image {
        return false;
    }
    if a.media_type
        .as_deref()
        .is_some_and(|m| m.eq_ignore_ascii_case("image/gif"))
    {
        return true;
    }
    let mut head = [0u8; 6];
    let read = match (&a.data, &a.path) {
        (Some(data), _) => {
            let start: String = data
                .split_ascii_whitespace()
                .collect::<String>()
                .chars()
                .take(8)
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(start)
                .ok()
                .map(|b| {
                    let n = b.len().min(6);
                    head[..n].copy_from_slice(&b[..n]);
                    n
                })
        }
        (None, Some(path)) => std::fs::File::open(wd.join(path))
            .and_then(|mut f| f.read(&mut head))
            .ok(),
        _ => None,
    };
    read == Some(6) && (&head == b"GIF87a" || &head == b"GIF89a")
}

#[async_trait]
impl Runtime for AntigravityRuntime {
    type Options = AntigravityOptions;
    type Plan = AntigravityOptions;

    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Google Antigravity: the google-antigravity Python SDK and its bundled localharness \
         agent, with Gemini (API key) or Vertex AI"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            tool_filters: false,
            fork: false,
            usage_cost: false,
            // The bridge keeps the SDK conversation open between turns, and opens it ahead of
            // the first (`session/open`).
            live_sessions: true,
            prewarm: true,
            // `Conversation.send` during a turn first waits for the turn to end: the SDK has no
            // way to add input to a running turn.
            steer: false,
            // Images as the SDK's content parts (PNG, JPEG, WebP: the SDK refuses GIF); text
            // files in the prompt.
            attachments: vec!["image".into(), "file".into()],
            // The ask_question tool, answered through the SDK's interaction hook.
            questions: true,
            ..super::all_capabilities()
        }
    }

    async fn diagnose(&self, params: &DiagnoseParams) -> Diagnosis {
        // A fresh check: the user may have just installed something.
        let (python, info) = match diagnose::installation(self.python.as_deref()).await {
            Ok(x) => x,
            Err(d) => return d,
        };
        let binary = diagnose::binary_info(&python, &info);
        let what = match diagnose::credentials(&AntigravityOptions::default()) {
            Ok(w) => w,
            Err(m) => return diagnose::missing_credentials(m, binary),
        };
        if params.probe {
            return self.probe(python, &info, params.model.clone()).await;
        }
        diagnose::ready(binary, what)
    }

    fn plan(
        &self,
        task: &AgentTask,
        working_directory: &Path,
        opts: AntigravityOptions,
    ) -> Result<AntigravityOptions, Refusal> {
        crate::runtime::vendor_env::check_names(&opts.pass_env)
            .map_err(|why| Refusal::invalid("task.runtimeOptions.antigravity.passEnv", why))?;
        if opts.vertex.is_some() && opts.base_url.is_some() {
            return Err(Refusal::unsupported(
                NAME,
                "task.runtimeOptions.antigravity.baseUrl",
                "a base URL applies to the Gemini API, not to Vertex AI",
            ));
        }
        // A keepAlive run, or `session/open` (the core marks its task keepAlive).
        if task.keep_alive() && task.max_turns.is_some() {
            return Err(Refusal::unsupported(
                NAME,
                "task.maxTurns",
                live::MAX_TURNS_IN_A_LIVE_SESSION,
            ));
        }
        if let Some(resume) = task.resume() {
            // The SDK's rule for conversation ids; ours are UUIDs.
            let ok = resume.len() >= 32
                && resume
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                return Err(Refusal::invalid(
                    "task.session.resume",
                    "not an Antigravity session id (at least 32 characters of [A-Za-z0-9-])",
                ));
            }
        }
        for (i, a) in task.attachments.iter().flatten().enumerate() {
            if is_gif(a, working_directory) {
                return Err(Refusal::unsupported(
                    NAME,
                    format!("task.attachments[{i}]"),
                    "the Antigravity SDK takes PNG, JPEG and WebP images, not GIF",
                ));
            }
        }
        for name in task.mcp_servers.iter().flatten().map(|(n, _)| n) {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(Refusal::unsupported(
                    NAME,
                    format!("task.mcpServers.{name}"),
                    "the SDK accepts MCP server names of [A-Za-z0-9_-] only",
                ));
            }
        }
        Ok(opts)
    }

    async fn preflight(&self, opts: &AntigravityOptions) -> Option<Diagnosis> {
        let (python, info) = match self.installation().await {
            Ok(x) => x,
            Err(d) => return Some(d),
        };
        match diagnose::credentials(opts) {
            Ok(_) => None,
            Err(m) => Some(diagnose::missing_credentials(
                m,
                diagnose::binary_info(&python, &info),
            )),
        }
    }

    async fn run(&self, ctx: RunContext, opts: AntigravityOptions) -> AgentResult {
        match self.installation().await {
            Ok((python, _)) => run::run(python, ctx, opts).await,
            Err(d) => AgentResult::failed(TaskErrorKind::Process, d.message),
        }
    }

    async fn open(
        &self,
        ctx: OpenContext,
        opts: AntigravityOptions,
    ) -> Result<Box<dyn LiveSession>, AgentResult> {
        match self.installation().await {
            Ok((python, _)) => live::open(python, ctx, opts).await,
            Err(d) => Err(AgentResult::failed(TaskErrorKind::Process, d.message)),
        }
    }
}
