//! Finding the Python, installing the embedded bridge, and the bridge's environment.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use tokio::process::Command;

use super::options::AntigravityOptions;
use crate::private_dir;
use crate::runtime::vendor_binary::find_program;

/// The bridge program, shipped inside the binary.
pub const BRIDGE_SOURCE: &str = include_str!("bridge.py");

/// The Python to run the bridge with: `--antigravity-python` / `AGENT_RUNTIME_KIT_ANTIGRAVITY_PYTHON`,
/// else the Python of the environment this sidecar was installed into, else `python3` on PATH.
pub fn resolve_python(configured: Option<&Path>) -> Result<PathBuf, String> {
    find_program(python_to_use(configured).as_deref(), "python3")
}

/// The configured Python, else the one beside this executable: `pip install
/// agent-runtime-kit[antigravity]` puts the sidecar in `<env>/bin/` next to that environment's
/// `python3`, which is the one with google-antigravity installed (it need not be on PATH).
/// `None`: look for `python3` on PATH.
pub fn python_to_use(configured: Option<&Path>) -> Option<PathBuf> {
    if let Some(c) = configured {
        return Some(c.to_path_buf());
    }
    let exe = std::env::current_exe().ok()?;
    environment_python(&exe)
}

/// `python3` in the directory of `exe`, if there is one.
pub fn environment_python(exe: &Path) -> Option<PathBuf> {
    let candidate = exe.parent()?.join("python3");
    candidate.is_file().then_some(candidate)
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `$<var>/agent-runtime-kit/antigravity` (else under `$HOME/<fallback>`), created private
/// (0700, ours: see `private_dir`). With no home, or one we cannot write, the per-user private
/// `<tmp>/agent-runtime-kit-<uid>/antigravity` instead: never a shared, predictable directory.
fn app_dir(var: &str, fallback: &str) -> std::io::Result<PathBuf> {
    let base = std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(fallback)));
    if let Some(base) = base {
        match private_dir::ensure_below(&base.join("agent-runtime-kit"), &["antigravity"]) {
            Ok(dir) => return Ok(dir),
            // A planted or tampered directory is refused, not silently replaced.
            Err(e) if private_dir::is_refusal(&e) => return Err(e),
            Err(e) => tracing::debug!("cannot use {}: {e}", base.display()),
        }
    }
    private_dir::ensure_below(&private_dir::user_temp_root(), &["antigravity"])
}

/// Writes the bridge to `$XDG_CACHE_HOME/agent-runtime-kit/antigravity/` (once per content,
/// atomically, so concurrent tasks and sidecars never see a half-written file), a private
/// directory: Python runs what is there.
pub fn install_bridge() -> std::io::Result<PathBuf> {
    install_bridge_in(&app_dir("XDG_CACHE_HOME", ".cache")?)
}

fn install_bridge_in(dir: &Path) -> std::io::Result<PathBuf> {
    let mut h = DefaultHasher::new();
    BRIDGE_SOURCE.hash(&mut h);
    let path = dir.join(format!(
        "agy_bridge-{}-{:016x}.py",
        env!("CARGO_PKG_VERSION"),
        h.finish()
    ));
    if std::fs::read_to_string(&path).ok().as_deref() == Some(BRIDGE_SOURCE) {
        return Ok(path);
    }
    let tmp = dir.join(format!(
        ".agy_bridge.{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    private_dir::create_new_private_file(&tmp, BRIDGE_SOURCE.as_bytes())?;
    std::fs::rename(&tmp, &path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    Ok(path)
}

/// Where a task's SDK state goes.
#[derive(Debug, Clone)]
pub struct StateDirs {
    /// Conversation databases (`<id>.db`), stable across tasks so that resume works.
    pub save_dir: PathBuf,
    /// The SDK's `app_data_dir` (transcripts); `None` = the SDK's default under the real home.
    pub app_data_dir: Option<PathBuf>,
    /// HOME for the bridge and its harness; `None` = the user's own.
    pub home: Option<PathBuf>,
    /// A per-task temp dir (TMPDIR), removed when the task ends.
    pub tmp: PathBuf,
}

impl StateDirs {
    pub fn for_task(opts: &AntigravityOptions, task_id: &str) -> std::io::Result<StateDirs> {
        let root = match &opts.state_dir {
            Some(d) => PathBuf::from(d),
            None => app_dir("XDG_STATE_HOME", ".local/state")?,
        };
        let save_dir = opts
            .save_dir
            .as_ref()
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("sessions"));
        let (app_data_dir, home) = if opts.use_user_home {
            (None, None)
        } else {
            (Some(root.join("app-data")), Some(root.join("home")))
        };
        let safe: String = task_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        let tmp = root.join("tmp").join(format!(
            "{safe}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ));
        for d in [
            Some(&save_dir),
            app_data_dir.as_ref(),
            home.as_ref(),
            Some(&tmp),
        ]
        .into_iter()
        .flatten()
        {
            // The bridge's HOME, its TMPDIR and the conversation databases: private too.
            private_dir::ensure(d)?;
        }
        Ok(StateDirs {
            save_dir: absolute(save_dir),
            app_data_dir: app_data_dir.map(absolute),
            home: home.map(absolute),
            tmp: absolute(tmp),
        })
    }
}

fn absolute(p: PathBuf) -> PathBuf {
    std::path::absolute(&p).unwrap_or(p)
}

/// The bridge's command: its allowlisted environment (that is how GEMINI_API_KEY,
/// GOOGLE_GEMINI_BASE_URL and the Vertex variables reach the SDK) and `passEnv`, with HOME, the XDG dirs and
/// TMPDIR redirected so the SDK's writes (its harness extracts a 17 MB helper into
/// `~/.gemini/antigravity/bin`) stay in our state dir, unless the task asked for the real home.
pub fn bridge_command(
    python: &Path,
    bridge: &Path,
    dirs: &StateDirs,
    cwd: &Path,
    pass_env: &[String],
) -> Command {
    let mut cmd = Command::new(python);
    cmd.args(PYTHON_FLAGS).arg(bridge).current_dir(cwd);
    super::env::vendor_env(pass_env).apply(&mut cmd);
    if let Some(home) = &dirs.home {
        // Vertex Application Default Credentials live under the real home: keep them reachable.
        if std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").is_none() {
            if let Some(real) = self::home() {
                let adc = real.join(".config/gcloud/application_default_credentials.json");
                if adc.is_file() {
                    cmd.env("GOOGLE_APPLICATION_CREDENTIALS", adc);
                }
            }
        }
        cmd.env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_STATE_HOME", home.join(".local/state"));
    }
    cmd.env("TMPDIR", &dirs.tmp)
        .env("TMP", &dirs.tmp)
        .env("TEMP", &dirs.tmp);
    cmd
}

/// How the bridge's Python starts. `-I` (isolated): neither the script's directory nor the
/// current one goes on `sys.path`, no user site-packages, and no `PYTHON*` variable is read, so a
/// module planted beside the bridge or in the task's directory is never imported. The SDK is
/// found in the interpreter's own site-packages (the environment it was installed into), which
/// `-I` keeps; it never came from PYTHONPATH (not in the allowlist). With `PYTHON*` ignored:
/// `-u` (the bridge's stdout must carry nothing but events, flushed per line) and `-B` (no
/// `.pyc` files written beside the bridge).
pub const PYTHON_FLAGS: &[&str] = &["-I", "-u", "-B"];

#[cfg(test)]
mod environment_tests {
    use super::*;

    #[test]
    fn the_python_beside_the_sidecar_is_the_environment_s() {
        let env = tempfile::tempdir().unwrap();
        let exe = env.path().join("bin/agent-runtime-kit");
        std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
        assert_eq!(environment_python(&exe), None);
        std::fs::write(env.path().join("bin/python3"), "").unwrap();
        assert_eq!(
            environment_python(&exe),
            Some(env.path().join("bin/python3"))
        );
    }
}
