//! What every vendor runtime's diagnosis starts with: find the binary (configured path → PATH →
//! a missing-binary diagnosis), ask it `--version` through a supervised probe, and read the
//! version number out of whatever it prints. Each runtime keeps its own facts (program name,
//! supported versions, remedies) in its folder and hands them over as a [`VendorCli`].

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use tokio::process::Command;

use crate::process::{run_probe, ProbeError, PROBE_OUTPUT_CAP, PROBE_TIMEOUT};
use crate::protocol::runtime_info::{BinaryInfo, Diagnosis, DiagnosisStatus};
use crate::runtime::vendor_env::VendorEnv;

/// (major, minor, patch).
pub type Version = (u64, u64, u64);

/// Longest version text kept for a diagnosis (a `--version` may print anything).
const VERSION_TEXT_CHARS: usize = 200;

/// The first `x.y.z` among the words of a version line: `2.1.332 (Claude Code)`,
/// `codex-cli 0.171.0`, `1.2.3-alpha.1`, `0.1.22rc1`.
pub fn parse_version(text: &str) -> Option<Version> {
    text.split_whitespace().find_map(|word| {
        let mut parts = word.splitn(3, '.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let rest = parts.next()?;
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        Some((major, minor, rest[..digits].parse().ok()?))
    })
}

/// `2.1.0`.
pub fn show_version((major, minor, patch): Version) -> String {
    format!("{major}.{minor}.{patch}")
}

/// The configured program, or `default` on PATH. A configured bare name (`python3.12`) is looked
/// up on PATH as well; a configured path must be a file.
pub fn find_program(configured: Option<&Path>, default: &str) -> Result<PathBuf, String> {
    let on_path = |name: &OsStr| {
        which::which(name).map_err(|_| format!("no `{}` on PATH", name.to_string_lossy()))
    };
    match configured {
        Some(p) if p.components().count() > 1 => {
            if p.is_file() {
                Ok(p.to_path_buf())
            } else if p.exists() {
                Err(format!("{} is not a file", p.display()))
            } else {
                Err(format!("{} does not exist", p.display()))
            }
        }
        Some(name) => on_path(name.as_os_str()),
        None => on_path(default.as_ref()),
    }
}

/// `binary` for a diagnosis.
pub fn binary_info(path: &Path, version: Option<String>) -> Option<BinaryInfo> {
    Some(BinaryInfo {
        path: Some(path.display().to_string()),
        version,
    })
}

/// One runtime's vendor program, as its diagnosis speaks of it.
pub struct VendorCli {
    /// The runtime whose diagnoses these are.
    pub runtime: &'static str,
    /// The program looked for on PATH when none is configured.
    pub program: &'static str,
    /// Its name in messages: "Claude Code", "codex".
    pub title: &'static str,
    /// How to install it, or point the sidecar at it.
    pub install: &'static str,
}

impl VendorCli {
    pub fn diagnosis(
        &self,
        status: DiagnosisStatus,
        binary: Option<BinaryInfo>,
        message: impl Into<String>,
        remedy: Option<&str>,
    ) -> Diagnosis {
        Diagnosis {
            runtime: self.runtime.into(),
            status,
            binary,
            message: message.into(),
            remedy: remedy.map(str::to_string),
        }
    }

    /// A diagnosis for a probe that could not run or did not answer.
    pub fn probe_failed(
        &self,
        binary: Option<BinaryInfo>,
        label: &str,
        error: &ProbeError,
    ) -> Box<Diagnosis> {
        let remedy = match error {
            ProbeError::TimedOut(_) => ProbeError::hang_remedy(label),
            ProbeError::Spawn(_) => self.install.to_string(),
        };
        Box::new(self.diagnosis(
            DiagnosisStatus::Error,
            binary,
            format!("{}.", error.describe(label)),
            Some(&remedy),
        ))
    }

    /// The configured binary or the program on PATH, or a missing-binary diagnosis.
    pub fn locate(&self, configured: Option<&Path>) -> Result<PathBuf, Box<Diagnosis>> {
        find_program(configured, self.program).map_err(|why| {
            Box::new(self.diagnosis(
                DiagnosisStatus::MissingBinary,
                configured.and_then(|p| binary_info(p, None)),
                format!("{} was not found: {why}.", self.title),
                Some(self.install),
            ))
        })
    }

    /// The first line `binary --version` prints (run with `env` added), or why there is none.
    pub async fn version(&self, binary: &Path, env: &VendorEnv) -> Result<String, Box<Diagnosis>> {
        let label = format!("{} --version", self.program);
        let mut cmd = Command::new(binary);
        cmd.arg("--version");
        env.apply(&mut cmd);
        let out = run_probe(cmd, &label, PROBE_TIMEOUT, PROBE_OUTPUT_CAP)
            .await
            .map_err(|e| self.probe_failed(binary_info(binary, None), &label, &e))?;
        let first = first_line(&out.stdout);
        match first {
            Some(line) if out.success() => Ok(line.chars().take(VERSION_TEXT_CHARS).collect()),
            _ => {
                let said = out
                    .stderr
                    .iter()
                    .map(|l| l.trim())
                    .find(|l| !l.is_empty())
                    .or(first)
                    .unwrap_or("no output");
                let said: String = crate::hygiene::redact(said)
                    .chars()
                    .take(VERSION_TEXT_CHARS)
                    .collect();
                Err(Box::new(self.diagnosis(
                    DiagnosisStatus::Error,
                    binary_info(binary, None),
                    format!("`{label}` failed ({}): {said}", out.ending()),
                    Some(self.install),
                )))
            }
        }
    }

    /// The version in `text` if it is `min` or later, else an unsupported-version diagnosis with
    /// `update` as its remedy.
    pub fn require(
        &self,
        binary: &Path,
        text: &str,
        min: Version,
        update: &str,
    ) -> Result<Version, Box<Diagnosis>> {
        match parse_version(text) {
            Some(v) if v >= min => Ok(v),
            found => Err(Box::new(self.diagnosis(
                DiagnosisStatus::UnsupportedVersion,
                binary_info(binary, Some(text.to_string())),
                match found {
                    Some(_) => format!(
                        "{} {text:?} is not supported: {} or later is needed.",
                        self.title,
                        show_version(min)
                    ),
                    None => format!(
                        "{} printed {text:?} as its version, which names none; {} or later is needed.",
                        self.title,
                        show_version(min)
                    ),
                },
                Some(update),
            ))),
        }
    }

    /// Located, answering `--version` with `min` or later: the binary and its version line.
    pub async fn installed(
        &self,
        configured: Option<&Path>,
        env: &VendorEnv,
        min: Version,
        update: &str,
    ) -> Result<(PathBuf, String), Box<Diagnosis>> {
        let binary = self.locate(configured)?;
        let version = self.version(&binary, env).await?;
        self.require(&binary, &version, min, update)?;
        Ok((binary, version))
    }
}

fn first_line(s: &str) -> Option<&str> {
    s.lines().map(str::trim).find(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_every_vendor_s_line() {
        assert_eq!(parse_version("2.1.332 (Claude Code)"), Some((2, 1, 332)));
        assert_eq!(parse_version("codex-cli 0.171.0"), Some((0, 171, 0)));
        assert_eq!(parse_version("codex-cli 1.2.3-alpha.1"), Some((1, 2, 3)));
        assert_eq!(parse_version("0.1.22"), Some((0, 1, 22)));
        assert_eq!(parse_version("0.1.22rc1"), Some((0, 1, 22)));
        assert_eq!(parse_version("1.0.0+build.5"), Some((1, 0, 0)));
        assert_eq!(parse_version("garbage"), None);
        assert_eq!(parse_version("1.2"), None);
        assert_eq!(parse_version(""), None);
        assert!(parse_version("2.0.9 (Claude Code)").unwrap() < (2, 1, 0));
    }

    #[test]
    fn a_configured_path_must_be_a_file_and_a_bare_name_is_looked_up() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("claude");
        let err = find_program(Some(&missing), "claude").unwrap_err();
        assert!(err.ends_with("does not exist"), "{err}");
        let err = find_program(Some(dir.path()), "claude").unwrap_err();
        assert!(err.ends_with("is not a file"), "{err}");
        assert_eq!(
            find_program(Some(Path::new("sh")), "x").unwrap(),
            which::which("sh").unwrap()
        );
        let err = find_program(None, "no-such-program-ark").unwrap_err();
        assert_eq!(err, "no `no-such-program-ark` on PATH");
    }
}
