//! Is the runtime usable? Python, the SDK package and version, its harness binary, credentials.
//! None of this calls a model.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

use super::command;
use super::options::AntigravityOptions;
use super::wire::CheckInfo;
use super::NAME;
use crate::protocol::runtime_info::{BinaryInfo, Diagnosis, DiagnosisStatus};

/// The SDK versions this runtime was built and tested against: 0.1.22 and later 0.1.x.
pub const TESTED_SDK: &str = "0.1.22";
const INSTALL: &str = "pip install 'google-antigravity>=0.1.22,<0.2' (Python 3.10+), then point \
                       --antigravity-python (or AGENT_RUNTIME_KIT_ANTIGRAVITY_PYTHON) at that Python";

fn diagnosis(
    status: DiagnosisStatus,
    binary: Option<BinaryInfo>,
    message: String,
    remedy: Option<&str>,
) -> Diagnosis {
    Diagnosis {
        runtime: NAME.into(),
        status,
        binary,
        message,
        remedy: remedy.map(str::to_string),
    }
}

/// Runs `bridge.py --check` with `python`.
pub async fn check(python: &Path) -> Result<CheckInfo, String> {
    let bridge = command::install_bridge().map_err(|e| format!("cannot write the bridge: {e}"))?;
    let mut cmd = Command::new(python);
    cmd.arg(&bridge).arg("--check");
    let (code, stdout, stderr) = crate::process::capture_output(cmd, Duration::from_secs(20))
        .await
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let line = stdout.lines().find(|l| l.trim_start().starts_with('{'));
    match line.map(serde_json::from_str::<CheckInfo>) {
        Some(Ok(info)) => Ok(info),
        _ => Err(format!(
            "{} --check failed ({}): {}",
            python.display(),
            code.map_or("killed by a signal".to_string(), |c| format!("exit {c}")),
            crate::hygiene::redact(stderr.lines().last().unwrap_or("no output"))
        )),
    }
}

/// Whether an SDK version is one this runtime supports (0.1.x from the tested one on).
pub fn supported_version(v: &str) -> bool {
    let parts: Vec<u64> = v
        .split('.')
        .map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    let tested: Vec<u64> = TESTED_SDK.split('.').map(|p| p.parse().unwrap()).collect();
    parts.len() >= 3 && parts[0] == 0 && parts[1] == 1 && parts[2] >= tested[2]
}

/// The installation's problems, or `Ok` with what was found.
pub async fn installation(configured: Option<&Path>) -> Result<(PathBuf, CheckInfo), Diagnosis> {
    let python = command::resolve_python(configured).map_err(|e| {
        diagnosis(
            DiagnosisStatus::MissingBinary,
            configured.map(|p| BinaryInfo {
                path: Some(p.display().to_string()),
                version: None,
            }),
            format!("no Python to run the Antigravity SDK: {e}"),
            Some(INSTALL),
        )
    })?;
    let py_info = |version: Option<String>| {
        Some(BinaryInfo {
            path: Some(python.display().to_string()),
            version,
        })
    };
    let info = check(&python)
        .await
        .map_err(|e| diagnosis(DiagnosisStatus::Error, py_info(None), e, Some(INSTALL)))?;
    if !info.python_ok {
        return Err(diagnosis(
            DiagnosisStatus::UnsupportedVersion,
            py_info(Some(format!("python {}", info.python))),
            format!(
                "Python {} is too old: the Antigravity SDK needs 3.10 or later",
                info.python
            ),
            Some(INSTALL),
        ));
    }
    let Some(version) = info.sdk_version.clone() else {
        return Err(diagnosis(
            DiagnosisStatus::MissingPackage,
            py_info(Some(format!("python {}", info.python))),
            format!(
                "google-antigravity is not installed for {}",
                python.display()
            ),
            Some(INSTALL),
        ));
    };
    let sdk = py_info(Some(format!(
        "google-antigravity {version} (python {})",
        info.python
    )));
    if !supported_version(&version) {
        return Err(diagnosis(
            DiagnosisStatus::UnsupportedVersion,
            sdk,
            format!("google-antigravity {version} is not supported (tested with {TESTED_SDK}; 0.1.x from it on are accepted)"),
            Some(INSTALL),
        ));
    }
    if !info.harness_exists {
        return Err(diagnosis(
            DiagnosisStatus::MissingBinary,
            sdk,
            format!(
                "the SDK's localharness binary is missing ({}); wheels for this platform ship it",
                info.harness_path.as_deref().unwrap_or("not found")
            ),
            Some("reinstall google-antigravity from a platform wheel, or set ANTIGRAVITY_HARNESS_PATH"),
        ));
    }
    Ok((python, info))
}

fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

fn env_true(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1"))
}

/// Whether the task would run with Vertex AI.
pub fn uses_vertex(opts: &AntigravityOptions) -> bool {
    opts.vertex.is_some()
        || env_true("GOOGLE_GENAI_USE_VERTEXAI")
        || env_true("GOOGLE_GENAI_USE_ENTERPRISE")
}

/// Credentials present (names only, never values), or what is missing.
pub fn credentials(opts: &AntigravityOptions) -> Result<&'static str, String> {
    if uses_vertex(opts) {
        let v = opts.vertex.clone().unwrap_or_default();
        let project = v.project.is_some() || env_set("GOOGLE_CLOUD_PROJECT");
        let location = v.location.is_some() || env_set("GOOGLE_CLOUD_LOCATION");
        if project && location {
            return Ok("Vertex AI (project and location, Application Default Credentials)");
        }
        if env_set("GOOGLE_API_KEY") {
            return Ok("Vertex AI express mode (GOOGLE_API_KEY)");
        }
        return Err(
            "Vertex AI needs GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION (or \
                    runtimeOptions.antigravity.vertex) with Application Default Credentials, \
                    or GOOGLE_API_KEY"
                .into(),
        );
    }
    if env_set("GEMINI_API_KEY") {
        return Ok("Gemini API (GEMINI_API_KEY)");
    }
    if env_set("GOOGLE_API_KEY") {
        return Ok("Gemini API (GOOGLE_API_KEY)");
    }
    if opts.base_url.is_some() {
        return Ok("a custom endpoint (runtimeOptions.antigravity.baseUrl) without a key");
    }
    Err("set GEMINI_API_KEY (or GOOGLE_API_KEY) for the Gemini API, or GOOGLE_GENAI_USE_VERTEXAI=true \
         with GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION for Vertex AI"
        .into())
}

pub fn missing_credentials(message: String, binary: Option<BinaryInfo>) -> Diagnosis {
    diagnosis(
        DiagnosisStatus::MissingCredentials,
        binary,
        format!("no model credentials: {message}"),
        Some("export GEMINI_API_KEY=... (https://aistudio.google.com/apikey), or configure Vertex AI"),
    )
}

pub fn ready(binary: Option<BinaryInfo>, what: &str) -> Diagnosis {
    diagnosis(
        DiagnosisStatus::Ready,
        binary,
        format!("the Antigravity SDK is installed and {what} is configured"),
        None,
    )
}

pub fn with_status(
    status: DiagnosisStatus,
    binary: Option<BinaryInfo>,
    message: String,
    remedy: Option<&str>,
) -> Diagnosis {
    diagnosis(status, binary, message, remedy)
}

pub fn binary_info(python: &Path, info: &CheckInfo) -> Option<BinaryInfo> {
    Some(BinaryInfo {
        path: Some(python.display().to_string()),
        version: Some(format!(
            "google-antigravity {} (python {})",
            info.sdk_version.as_deref().unwrap_or("?"),
            info.python
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(supported_version("0.1.22"));
        assert!(supported_version("0.1.30"));
        assert!(!supported_version("0.1.21"));
        assert!(!supported_version("0.2.0"));
        assert!(!supported_version("1.0.0"));
    }
}
