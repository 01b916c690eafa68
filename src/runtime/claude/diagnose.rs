//! Is the CLI usable? Binary, version and credentials, checked without calling a model; and the
//! optional probe, which does.
//!
//! Credentials are asked of the CLI itself (`claude auth status --json`, local and fast), because it
//! knows every source we would otherwise have to guess at: API key and token variables, an OAuth
//! login in its config dir or the macOS keychain, `apiKeyHelper`, cloud providers. No value is
//! ever read or printed.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tokio::process::Command;

use crate::process::{run_probe, PROBE_OUTPUT_CAP, PROBE_TIMEOUT};
use crate::protocol::runtime_info::{BinaryInfo, Diagnosis, DiagnosisStatus};
use crate::runtime::vendor_binary::{binary_info, show_version, VendorCli, Version};
use crate::runtime::vendor_env::VendorEnv;

/// The oldest CLI whose stream-json control protocol this runtime was verified against
/// (`can_use_tool` over stdio, `initialize` with `systemPrompt`/`jsonSchema`, `auth status --json`).
pub const MIN_VERSION: Version = (2, 1, 0);

pub const CREDENTIALS_REMEDY: &str = "Set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN / \
    CLAUDE_CODE_OAUTH_TOKEN from `claude setup-token`), or run `claude auth login`, or use a cloud \
    provider (CLAUDE_CODE_USE_BEDROCK=1 / CLAUDE_CODE_USE_VERTEX=1 with that cloud's credentials).";

pub const INSTALL_REMEDY: &str =
    "Install Claude Code (`npm install -g @anthropic-ai/claude-code`, \
    `pip install 'agent-runtime-kit[claude]'` in a Python environment (it bundles Claude Code), \
    or the native installer from https://claude.com/claude-code) or point --claude-path / \
    AGENT_RUNTIME_KIT_CLAUDE_PATH at the `claude` binary.";

const UPDATE_REMEDY: &str = "Update Claude Code (`claude update`, or \
    `npm install -g @anthropic-ai/claude-code@latest`).";

const CLI: VendorCli = VendorCli {
    runtime: super::NAME,
    program: "claude",
    title: "Claude Code",
    install: INSTALL_REMEDY,
};

/// The configured binary, or `claude` on PATH, or (neither configured nor on PATH) the one the
/// `claude-agent-sdk` wheel bundles in this sidecar's Python environment.
pub fn locate(configured: Option<&Path>) -> Result<PathBuf, Box<Diagnosis>> {
    match CLI.locate(configured) {
        Err(missing) if configured.is_none() => super::bundled::find().ok_or(missing),
        found => found,
    }
}

/// Binary, version and credentials. `env` are the task's extra variables (runtimeOptions.claude.env).
pub async fn check(configured: Option<&Path>, env: &VendorEnv) -> Diagnosis {
    let binary = match locate(configured) {
        Ok(binary) => binary,
        Err(d) => return *d,
    };
    let bundled = configured.is_none() && which::which(CLI.program).is_err();
    let mut diagnosis = match CLI
        .installed(Some(&binary), env, MIN_VERSION, UPDATE_REMEDY)
        .await
    {
        Ok((binary, version)) => {
            credentials(&binary, env, binary_info(&binary, Some(version))).await
        }
        Err(d) => *d,
    };
    if bundled {
        // Say which binary, and whether its version is one this runtime supports: the SDK's
        // release, not the user, chose it.
        let supported = match diagnosis.status {
            DiagnosisStatus::UnsupportedVersion => "not supported",
            _ => "supported",
        };
        diagnosis.message = format!(
            "Using the Claude Code bundled with the claude-agent-sdk Python package (no `claude` on \
             PATH): {}; its version is {supported} ({} or later is). {}",
            binary.display(),
            show_version(MIN_VERSION),
            diagnosis.message
        );
        if diagnosis.status == DiagnosisStatus::UnsupportedVersion {
            diagnosis.remedy = Some(BUNDLED_UPDATE_REMEDY.into());
        }
    }
    diagnosis
}

const BUNDLED_UPDATE_REMEDY: &str = "Upgrade the bundled Claude Code \
    (`pip install --upgrade claude-agent-sdk`), or install a newer `claude` on PATH.";

async fn credentials(binary: &Path, env: &VendorEnv, info: Option<BinaryInfo>) -> Diagnosis {
    const LABEL: &str = "claude auth status";
    let mut cmd = Command::new(binary);
    cmd.args(["auth", "status", "--json"]);
    env.apply(&mut cmd);
    // A CLI that hangs here would hang a run too: that is an error, not "cannot tell".
    let status: Option<Value> = match run_probe(cmd, LABEL, PROBE_TIMEOUT, PROBE_OUTPUT_CAP).await {
        Ok(out) => serde_json::from_str(out.stdout.trim()).ok(),
        Err(e) => return *CLI.probe_failed(info, LABEL, &e),
    };
    let Some(status) = status else {
        // Cannot tell; the run will say precisely if the credentials are wrong.
        return CLI.diagnosis(
            DiagnosisStatus::Ready,
            info,
            "Claude Code is installed; its credentials could not be checked (`claude auth status` \
             gave no status it could read).",
            None,
        );
    };
    let provider = status["apiProvider"].as_str().unwrap_or("firstParty");
    if status["loggedIn"] == true || provider != "firstParty" {
        let how = status["apiKeySource"]
            .as_str()
            .or(status["authMethod"].as_str())
            .unwrap_or("configured");
        return CLI.diagnosis(
            DiagnosisStatus::Ready,
            info,
            format!("Claude Code is installed and has credentials ({how}, provider {provider})."),
            None,
        );
    }
    CLI.diagnosis(
        DiagnosisStatus::MissingCredentials,
        info,
        "Claude Code has no credentials: no API key or token variable, no login.",
        Some(CREDENTIALS_REMEDY),
    )
}
