//! `runtimeOptions.antigravity`: what a task may set beyond the common fields.

use schemars::JsonSchema;
use serde::Deserialize;

use super::wire::VertexSettings;

/// API retries when a task does not say (the SDK's own default retries a 429 for minutes).
pub const DEFAULT_API_RETRIES: u32 = 2;
pub const DEFAULT_RETRY_INITIAL_DELAY_MS: u64 = 2000;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AntigravityOptions {
    /// Use Vertex AI instead of the Gemini API (also switched on by `GOOGLE_GENAI_USE_VERTEXAI=true`).
    /// Credentials: Application Default Credentials with a project and location, or
    /// `GOOGLE_API_KEY` (express mode).
    #[serde(default)]
    pub vertex: Option<VertexSettings>,
    /// The Gemini API base URL (default: the SDK's, or `GOOGLE_GEMINI_BASE_URL`), e.g. a proxy.
    #[serde(default)]
    pub base_url: Option<String>,
    /// How many times a failed model API call (429, 5xx) is retried (default 2).
    #[serde(default)]
    #[schemars(range(max = 20))]
    pub api_retries: Option<u32>,
    /// First retry delay in milliseconds, doubled on each retry (default 2000).
    #[serde(default)]
    #[schemars(range(max = 600000))]
    pub retry_initial_delay_ms: Option<u64>,
    /// Root of the runtime's state: `sessions/` (conversation databases, kept for resume),
    /// `app-data/` (the SDK's transcripts) and `home/` (HOME of the SDK and its harness).
    /// Default: `$XDG_STATE_HOME/agent-runtime-kit/antigravity` (`~/.local/state/...`).
    #[serde(default)]
    pub state_dir: Option<String>,
    /// Where conversations are saved (default: `<stateDir>/sessions`). Resuming a session needs
    /// the same directory as the run that created it.
    #[serde(default)]
    pub save_dir: Option<String>,
    /// Let the SDK use the real home directory (`~/.gemini/antigravity`) instead of
    /// `<stateDir>/home` and `<stateDir>/app-data`.
    #[serde(default)]
    pub use_user_home: bool,
    /// Names of further variables to pass from the sidecar's environment to the bridge (e.g.
    /// `GITHUB_TOKEN`). The bridge does not see the sidecar's whole environment: only the
    /// basics, the Gemini/Vertex variables (docs/security.md) and these. Unset ones are skipped.
    #[serde(default)]
    pub pass_env: Vec<String>,
}
