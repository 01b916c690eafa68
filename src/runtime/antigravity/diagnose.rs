//! Is the runtime usable? Python, the SDK package and version, its harness binary, credentials.
//! None of this calls a model.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

use super::command;
use super::options::AntigravityOptions;
use super::wire::CheckInfo;
use super::NAME;
use crate::process::{run_probe, PROBE_OUTPUT_CAP};
use crate::protocol::runtime_info::{BinaryInfo, Diagnosis, DiagnosisStatus};
use crate::runtime::vendor_binary::{self, parse_version, show_version, VendorCli, Version};

/// The SDK versions this runtime was built and tested against: 0.1.22 and later 0.1.x.
pub const TESTED_SDK: Version = (0, 1, 22);
const INSTALL: &str = "pip install 'google-antigravity>=0.1.22,<0.2' (Python 3.10+), then point \
                       --antigravity-python (or AGENT_RUNTIME_KIT_ANTIGRAVITY_PYTHON) at that Python";

/// The vendor program here is Python (the SDK is a package of it).
const CLI: VendorCli = VendorCli {
    runtime: NAME,
    program: "python3",
    title: "Python for the Antigravity SDK",
    install: INSTALL,
};

/// `--check` imports the SDK, which takes seconds on a cold cache: more time than other probes.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `bridge.py --check` with `python`.
pub async fn check(python: &Path) -> Result<CheckInfo, Box<Diagnosis>> {
    let failed = |message: String| {
        Box::new(CLI.diagnosis(
            DiagnosisStatus::Error,
            vendor_binary::binary_info(python, None),
            message,
            Some(INSTALL),
        ))
    };
    let bridge =
        command::install_bridge().map_err(|e| failed(format!("cannot write the bridge: {e}")))?;
    let label = format!("{} {} --check", python.display(), bridge.display());
    let mut cmd = Command::new(python);
    cmd.args(command::PYTHON_FLAGS).arg(&bridge).arg("--check");
    super::env::vendor_env(&[]).apply(&mut cmd);
    let out = run_probe(cmd, &label, CHECK_TIMEOUT, PROBE_OUTPUT_CAP)
        .await
        .map_err(|e| CLI.probe_failed(vendor_binary::binary_info(python, None), &label, &e))?;
    let line = out.stdout.lines().find(|l| l.trim_start().starts_with('{'));
    match line.map(serde_json::from_str::<CheckInfo>) {
        Some(Ok(info)) => Ok(info),
        _ => Err(failed(format!(
            "`{label}` failed ({}): {}",
            out.ending(),
            out.stderr.last().map_or("no output", String::as_str)
        ))),
    }
}

/// Whether an SDK version is one this runtime supports (0.1.x from the tested one on).
pub fn supported_version(v: &str) -> bool {
    matches!(parse_version(v), Some(v) if v >= TESTED_SDK && v < (0, 2, 0))
}

/// The installation's problems, or `Ok` with what was found.
pub async fn installation(configured: Option<&Path>) -> Result<(PathBuf, CheckInfo), Diagnosis> {
    let python = CLI
        .locate(command::python_to_use(configured).as_deref())
        .map_err(|d| *d)?;
    let py_info = |version: Option<String>| vendor_binary::binary_info(&python, version);
    let info = check(&python).await.map_err(|d| *d)?;
    if !info.python_ok {
        return Err(CLI.diagnosis(
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
        return Err(CLI.diagnosis(
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
        return Err(CLI.diagnosis(
            DiagnosisStatus::UnsupportedVersion,
            sdk,
            format!(
                "google-antigravity {version} is not supported (tested with {}; 0.1.x from it on are accepted)",
                show_version(TESTED_SDK)
            ),
            Some(INSTALL),
        ));
    }
    if !info.harness_exists {
        return Err(CLI.diagnosis(
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
    CLI.diagnosis(
        DiagnosisStatus::MissingCredentials,
        binary,
        format!("no model credentials: {message}"),
        Some("export GEMINI_API_KEY=... (https://aistudio.google.com/apikey), or configure Vertex AI"),
    )
}

pub fn ready(binary: Option<BinaryInfo>, what: &str) -> Diagnosis {
    CLI.diagnosis(
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
    CLI.diagnosis(status, binary, message, remedy)
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
