//! The CLI's environment allowlist (see `runtime/vendor_env.rs`): its own credentials,
//! endpoints and documented settings; AWS and Google Cloud variables only when the CLI is switched
//! to Bedrock or Vertex (`CLAUDE_CODE_USE_BEDROCK` / `CLAUDE_CODE_USE_VERTEX`), because otherwise
//! they are some other program's credentials.

use super::options::ClaudeOptions;
use crate::runtime::vendor_env::{switched_on, Allowlist, VendorEnv};

/// Always: the Anthropic API (`ANTHROPIC_API_KEY`, `ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_BASE_URL`,
/// `ANTHROPIC_MODEL`, ...), the CLI's settings (`CLAUDE_CODE_*`, `CLAUDE_CONFIG_DIR`,
/// `DISABLE_TELEMETRY` and the other `DISABLE_*`, the tool timeouts), OpenTelemetry (`OTEL_*`,
/// the CLI's metrics export). Not `BASH_ENV` or `CLAUDE_ENV_FILE`: both are sourced by the
/// model's shell.
pub const CLAUDE: Allowlist = Allowlist {
    names: &[
        "CLAUDE_CONFIG_DIR",
        "IS_SANDBOX",
        "MAX_THINKING_TOKENS",
        "MAX_MCP_OUTPUT_TOKENS",
        "MCP_TIMEOUT",
        "MCP_TOOL_TIMEOUT",
        "BASH_DEFAULT_TIMEOUT_MS",
        "BASH_MAX_TIMEOUT_MS",
        "BASH_MAX_OUTPUT_LENGTH",
        "CLAUDE_BASH_MAINTAIN_PROJECT_WORKING_DIR",
        "SLASH_COMMAND_TOOL_CHAR_BUDGET",
        "USE_BUILTIN_RIPGREP",
    ],
    prefixes: &["ANTHROPIC_", "CLAUDE_CODE_", "DISABLE_", "OTEL_"],
};

/// With `CLAUDE_CODE_USE_BEDROCK`: the AWS credential chain and region.
pub const BEDROCK: Allowlist = Allowlist {
    names: &[],
    prefixes: &["AWS_"],
};

/// With `CLAUDE_CODE_USE_VERTEX`: Google Cloud credentials, project and regions.
pub const VERTEX: Allowlist = Allowlist {
    names: &[
        "CLOUD_ML_REGION",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_CLOUD_PROJECT",
        "GCLOUD_PROJECT",
        "CLOUDSDK_CONFIG",
    ],
    prefixes: &["VERTEX_REGION_"],
};

/// The CLI's environment for a task with these options (probes use the same).
pub fn vendor_env(opts: &ClaudeOptions) -> VendorEnv {
    let mut own = vec![CLAUDE];
    if switched_on("CLAUDE_CODE_USE_BEDROCK", &opts.env) {
        own.push(BEDROCK);
    }
    if switched_on("CLAUDE_CODE_USE_VERTEX", &opts.env) {
        own.push(VERTEX);
    }
    VendorEnv {
        own,
        pass_env: opts.pass_env.clone(),
        extra: opts
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}
