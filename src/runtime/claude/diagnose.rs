//! Is the CLI usable? Binary, version and credentials, checked without calling a model; and the
//! optional probe, which does.
//!
//! Credentials are asked of the CLI itself (`claude auth status --json`, local and fast), because it
//! knows every source we would otherwise have to guess at: API key and token variables, an OAuth
//! login in its config dir or the macOS keychain, `apiKeyHelper`, cloud providers. No value is
//! ever read or printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

use crate::hygiene;
use crate::process::capture_output;
use crate::protocol::runtime_info::{BinaryInfo, Diagnosis, DiagnosisStatus};

/// The oldest CLI whose stream-json control protocol this runtime was verified against
/// (`can_use_tool` over stdio, `initialize` with `systemPrompt`/`jsonSchema`, `auth status --json`).
pub const MIN_VERSION: (u64, u64, u64) = (2, 1, 0);

const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

pub const CREDENTIALS_REMEDY: &str = "Set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN / \
    CLAUDE_CODE_OAUTH_TOKEN from `claude setup-token`), or run `claude auth login`, or use a cloud \
    provider (CLAUDE_CODE_USE_BEDROCK=1 / CLAUDE_CODE_USE_VERTEX=1 with that cloud's credentials).";

pub const INSTALL_REMEDY: &str =
    "Install Claude Code (`npm install -g @anthropic-ai/claude-code`, \
    or the native installer from https://claude.com/claude-code) or point --claude-path / \
    AGENT_RUNTIME_KIT_CLAUDE_PATH at the `claude` binary.";

fn diagnosis(status: DiagnosisStatus, binary: Option<BinaryInfo>, message: String) -> Diagnosis {
    Diagnosis {
        runtime: super::NAME.into(),
        status,
        binary,
        message,
        remedy: None,
    }
}

/// The configured binary, or `claude` on PATH.
pub fn locate(configured: Option<&Path>) -> Result<PathBuf, Box<Diagnosis>> {
    let found = match configured {
        Some(p) if p.is_file() => Ok(p.to_path_buf()),
        Some(p) => Err(format!("{} does not exist", p.display())),
        None => which::which("claude").map_err(|_| "no `claude` on PATH".to_string()),
    };
    found.map_err(|why| {
        Box::new(Diagnosis {
            remedy: Some(INSTALL_REMEDY.into()),
            binary: configured.map(|p| BinaryInfo {
                path: Some(p.display().to_string()),
                version: None,
            }),
            ..diagnosis(
                DiagnosisStatus::MissingBinary,
                None,
                format!("The Claude Code CLI was not found: {why}."),
            )
        })
    })
}

/// `2.1.332 (Claude Code)` → (2, 1, 332).
pub fn parse_version(text: &str) -> Option<(u64, u64, u64)> {
    let token = text.split_whitespace().next()?;
    let mut parts = token.split(['.', '-']).map(|p| p.parse::<u64>());
    Some((
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    ))
}

/// Binary, version and credentials. `env` are the task's extra variables (runtimeOptions.claude.env).
pub async fn check(configured: Option<&Path>, env: &BTreeMap<String, String>) -> Diagnosis {
    let binary = match locate(configured) {
        Ok(b) => b,
        Err(d) => return *d,
    };
    let mut info = BinaryInfo {
        path: Some(binary.display().to_string()),
        version: None,
    };
    let mut cmd = Command::new(&binary);
    cmd.arg("--version").envs(env);
    let version_text = match capture_output(cmd, CHECK_TIMEOUT).await {
        Ok((Some(0), out, _)) => out.trim().to_string(),
        Ok((code, out, err)) => {
            return Diagnosis {
                remedy: Some(INSTALL_REMEDY.into()),
                ..diagnosis(
                    DiagnosisStatus::Error,
                    Some(info),
                    format!(
                        "`claude --version` failed ({}): {}",
                        code.map_or("killed by a signal".to_string(), |c| format!("exit {c}")),
                        hygiene::redact(first_line(&err).unwrap_or(first_line(&out).unwrap_or("")))
                    ),
                )
            }
        }
        Err(e) => {
            return diagnosis(
                DiagnosisStatus::Error,
                Some(info),
                format!("cannot run `claude --version`: {e}"),
            )
        }
    };
    info.version = Some(version_text.clone());
    match parse_version(&version_text) {
        Some(v) if v >= MIN_VERSION => {}
        _ => {
            let (a, b, c) = MIN_VERSION;
            return Diagnosis {
                remedy: Some(format!(
                    "Update Claude Code to {a}.{b}.{c} or later (`claude update`, or `npm install -g @anthropic-ai/claude-code@latest`)."
                )),
                ..diagnosis(
                    DiagnosisStatus::UnsupportedVersion,
                    Some(info),
                    format!("Claude Code {version_text:?} is older than the supported minimum {a}.{b}.{c}."),
                )
            };
        }
    }
    credentials(&binary, env, info).await
}

async fn credentials(binary: &Path, env: &BTreeMap<String, String>, info: BinaryInfo) -> Diagnosis {
    let mut cmd = Command::new(binary);
    cmd.args(["auth", "status", "--json"]).envs(env);
    let status: Option<Value> = match capture_output(cmd, CHECK_TIMEOUT).await {
        Ok((_, out, _)) => serde_json::from_str(out.trim()).ok(),
        Err(_) => None,
    };
    let Some(status) = status else {
        // Cannot tell; the run will say precisely if the credentials are wrong.
        return diagnosis(
            DiagnosisStatus::Ready,
            Some(info),
            "Claude Code is installed; its credentials could not be checked (`claude auth status` \
             gave no answer)."
                .into(),
        );
    };
    let provider = status["apiProvider"].as_str().unwrap_or("firstParty");
    if status["loggedIn"] == true || provider != "firstParty" {
        let how = status["apiKeySource"]
            .as_str()
            .or(status["authMethod"].as_str())
            .unwrap_or("configured");
        return diagnosis(
            DiagnosisStatus::Ready,
            Some(info),
            format!("Claude Code is installed and has credentials ({how}, provider {provider})."),
        );
    }
    Diagnosis {
        remedy: Some(CREDENTIALS_REMEDY.into()),
        ..diagnosis(
            DiagnosisStatus::MissingCredentials,
            Some(info),
            "Claude Code has no credentials: no API key or token variable, no login.".into(),
        )
    }
}

fn first_line(s: &str) -> Option<&str> {
    s.lines().map(str::trim).find(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("2.1.332 (Claude Code)"), Some((2, 1, 332)));
        assert_eq!(parse_version("1.0.0"), Some((1, 0, 0)));
        assert_eq!(parse_version("garbage"), None);
        assert!(parse_version("2.0.9 (Claude Code)").unwrap() < MIN_VERSION);
    }
}
