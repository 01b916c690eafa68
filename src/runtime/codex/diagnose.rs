//! Is codex usable: binary, version, credentials, and (with `probe`) one tiny model call.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::process::Command;

use super::client;
use super::options::CodexOptions;
use super::{command, errors, NAME};
use crate::process::{run_probe, Supervised, PROBE_OUTPUT_CAP, PROBE_TIMEOUT};
use crate::protocol::result::{TaskError, TaskErrorKind};
use crate::protocol::runtime_info::{Diagnosis, DiagnosisStatus};
use crate::runtime::jsonl::DEFAULT_MAX_LINE_BYTES;
use crate::runtime::vendor_binary::{binary_info, parse_version, VendorCli, Version};

/// The oldest codex whose app-server speaks the v2 thread/turn API as this runtime uses it.
pub const MIN_VERSION: Version = (0, 171, 0);

const CLI: VendorCli = VendorCli {
    runtime: NAME,
    program: "codex",
    title: "codex",
    install: "npm install -g @openai/codex (or pass --codex-path / AGENT_RUNTIME_KIT_CODEX_PATH)",
};

/// The binary (the native one behind the npm shim) and its version, or why it cannot be used.
pub async fn binary(configured: Option<&Path>) -> Result<(PathBuf, String), Diagnosis> {
    let checked = async {
        let path = command::native(CLI.locate(configured)?);
        let version = version_of(&path).await?;
        CLI.require(
            &path,
            &version,
            MIN_VERSION,
            "npm install -g @openai/codex@latest",
        )?;
        Ok((path, version))
    };
    checked.await.map_err(|d: Box<Diagnosis>| *d)
}

/// For a task: the binary, and its version when it is already known. The first time, the
/// `--version` probe is started in the background instead of awaited (the task's own
/// `initialize` names the version: see [`check_user_agent`]); later tasks find it cached, and a
/// codex too old is then refused up front.
pub async fn binary_for_task(
    configured: Option<&Path>,
) -> Result<(PathBuf, Option<String>), Diagnosis> {
    let path = command::native(CLI.locate(configured).map_err(|d| *d)?);
    match cached_version(&path) {
        Some(version) => {
            CLI.require(
                &path,
                &version,
                MIN_VERSION,
                "npm install -g @openai/codex@latest",
            )
            .map_err(|d| *d)?;
            Ok((path, Some(version)))
        }
        None => {
            // One probe at a time per binary, however many tasks start before it answers.
            static PROBING: Mutex<Option<std::collections::HashSet<PathBuf>>> = Mutex::new(None);
            let probing = || PROBING.lock().unwrap_or_else(|e| e.into_inner());
            if probing()
                .get_or_insert_with(Default::default)
                .insert(path.clone())
            {
                let probed = path.clone();
                tokio::spawn(async move {
                    let _ = version_of(&probed).await;
                    probing()
                        .get_or_insert_with(Default::default)
                        .remove(&probed);
                });
            }
            Ok((path, None))
        }
    }
}

/// Whether the codex that answered `initialize` is recent enough, from its `userAgent`
/// (`<our client name>/<codex version> (<os>; <arch>) ...`); an unreadable one passes.
pub fn check_user_agent(user_agent: Option<&str>) -> Option<TaskError> {
    let version = user_agent_version(user_agent?)?;
    (version < MIN_VERSION).then(|| {
        TaskError::new(
            TaskErrorKind::Process,
            format!(
                "codex {}.{}.{} is older than {}.{}.{}, the oldest this runtime supports: \
                 npm install -g @openai/codex@latest",
                version.0, version.1, version.2, MIN_VERSION.0, MIN_VERSION.1, MIN_VERSION.2
            ),
        )
    })
}

fn user_agent_version(user_agent: &str) -> Option<Version> {
    let product = user_agent.split_whitespace().next()?;
    parse_version(product.rsplit('/').next()?)
}

fn version_cache() -> std::sync::MutexGuard<'static, Option<HashMap<PathBuf, String>>> {
    static CACHE: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

fn cached_version(path: &Path) -> Option<String> {
    version_cache()
        .get_or_insert_with(HashMap::new)
        .get(path)
        .cloned()
}

/// `codex --version`, cached per binary (it does not change under a running sidecar).
async fn version_of(path: &Path) -> Result<String, Box<Diagnosis>> {
    if let Some(v) = cached_version(path) {
        return Ok(v);
    }
    let v = CLI
        .version(path, &super::env::vendor_env(&CodexOptions::default()))
        .await?;
    version_cache()
        .get_or_insert_with(HashMap::new)
        .insert(path.to_path_buf(), v.clone());
    Ok(v)
}

/// Where codex's credentials come from (never their values), or a diagnosis saying none were found.
pub async fn credentials(
    binary: &Path,
    version: Option<&str>,
    opts: &CodexOptions,
) -> Result<String, Box<Diagnosis>> {
    let info = || binary_info(binary, version.map(str::to_string));
    let missing = |message: String, remedy: &str| {
        Err(Box::new(CLI.diagnosis(
            DiagnosisStatus::MissingCredentials,
            info(),
            message,
            Some(remedy),
        )))
    };
    if let Some(p) = &opts.provider {
        if let Some(var) = &p.env_key {
            return match command::env_value(opts, var) {
                Some(_) => Ok(format!("{var} is set (provider {})", p.base_url)),
                None => missing(
                    format!("{var} (the provider's envKey) is not set"),
                    &format!("set {var} in the sidecar's environment or runtimeOptions.codex.env"),
                ),
            };
        }
        if p.requires_openai_auth != Some(true) {
            return Ok(format!("the provider at {} needs no key", p.base_url));
        }
    } else {
        for var in ["OPENAI_API_KEY", "CODEX_API_KEY"] {
            if command::env_value(opts, var).is_some() {
                return Ok(format!("{var} is set in the environment"));
            }
        }
        if let Some(found) = user_config_provider(opts) {
            return found.map_err(|m| {
                Box::new(CLI.diagnosis(
                    DiagnosisStatus::MissingCredentials,
                    info(),
                    m,
                    Some("set the variable named by env_key in your codex config.toml"),
                ))
            });
        }
    }
    match login_status(binary, opts).await {
        Ok(Ok(())) => Ok("codex login status: logged in".into()),
        Ok(Err(why)) => missing(
            format!("no OPENAI_API_KEY in the environment and {why}"),
            "set OPENAI_API_KEY, or run `codex login` (ChatGPT) or \
             `printenv OPENAI_API_KEY | codex login --with-api-key`",
        ),
        Err(e) => Err(CLI.probe_failed(info(), LOGIN_STATUS, &e)),
    }
}

/// When the user's own config.toml selects a non-OpenAI provider, whether its key is set.
fn user_config_provider(opts: &CodexOptions) -> Option<Result<String, String>> {
    let home = command::env_value(opts, "CODEX_HOME")
        .map(PathBuf::from)
        .or_else(|| command::env_value(opts, "HOME").map(|h| Path::new(&h).join(".codex")))?;
    let text = std::fs::read_to_string(home.join("config.toml")).ok()?;
    let cfg: toml::Table = text.parse().ok()?;
    let id = cfg.get("model_provider")?.as_str()?;
    if id == "openai" {
        return None;
    }
    let env_key = cfg
        .get("model_providers")
        .and_then(|p| p.get(id))
        .and_then(|p| p.get("env_key"))
        .and_then(|k| k.as_str());
    Some(match env_key {
        Some(var) if command::env_value(opts, var).is_some() => {
            Ok(format!("{var} is set (provider {id} from config.toml)"))
        }
        Some(var) => Err(format!(
            "{var} (env_key of provider {id} in config.toml) is not set"
        )),
        None => Ok(format!("provider {id} from config.toml needs no key")),
    })
}

const LOGIN_STATUS: &str = "codex login status";

/// `codex login status` (it reads only `$CODEX_HOME/auth.json`, not the environment): logged in,
/// or what it says instead; `Err` when it could not run or did not answer.
async fn login_status(
    binary: &Path,
    opts: &CodexOptions,
) -> Result<Result<(), String>, crate::process::ProbeError> {
    let mut cmd = Command::new(binary);
    cmd.args(["login", "status"]);
    super::env::vendor_env(opts).apply(&mut cmd);
    let out = run_probe(cmd, LOGIN_STATUS, PROBE_TIMEOUT, PROBE_OUTPUT_CAP).await?;
    if out.success() {
        return Ok(Ok(()));
    }
    // codex prefixes its answer with WARNING lines (e.g. about PATH aliases under /tmp);
    // the diagnosis is one sentence, so keep only what it says about the login.
    let said = out
        .stdout
        .lines()
        .chain(out.stderr.iter().map(String::as_str))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("WARNING"))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Err(format!(
        "`{LOGIN_STATUS}` says: {}",
        crate::hygiene::redact(said.trim())
    )))
}

/// The full diagnosis: binary, version, credentials; with `probe`, one tiny turn.
pub async fn diagnose(configured: Option<&Path>, model: Option<&str>, probe: bool) -> Diagnosis {
    let (path, version) = match binary(configured).await {
        Ok(b) => b,
        Err(d) => return d,
    };
    let opts = CodexOptions::default();
    let found = match credentials(&path, Some(&version), &opts).await {
        Ok(f) => f,
        Err(d) => return *d,
    };
    let info = binary_info(&path, Some(version.clone()));
    if !probe {
        return CLI.diagnosis(
            DiagnosisStatus::Ready,
            info,
            format!("{version} is installed; {found} (no model was called)"),
            None,
        );
    }
    match probe_model(&path, model).await {
        Ok(()) => CLI.diagnosis(
            DiagnosisStatus::Ready,
            info,
            format!(
                "{version} is installed; {found}; the model {} answered",
                model.unwrap_or("(codex's default)")
            ),
            None,
        ),
        Err((kind, message)) => {
            let (status, remedy) = match kind {
                TaskErrorKind::Auth => (
                    DiagnosisStatus::MissingCredentials,
                    Some("check OPENAI_API_KEY or run `codex login`"),
                ),
                TaskErrorKind::Model => (
                    DiagnosisStatus::UnsupportedModel,
                    Some("pick a model your account can use"),
                ),
                _ => (DiagnosisStatus::Error, None),
            };
            CLI.diagnosis(status, info, format!("the probe failed: {message}"), remedy)
        }
    }
}

/// One ephemeral, read-only turn asking for a one-word answer.
async fn probe_model(binary: &Path, model: Option<&str>) -> Result<(), (TaskErrorKind, String)> {
    // A private, empty cwd: codex reads AGENTS.md (and more) from its cwd, and the shared temp
    // dir is anyone's to plant one in.
    let scratch = crate::private_dir::tempdir("ark-codex-probe-").map_err(|e| {
        (
            TaskErrorKind::Process,
            format!("cannot create a probe directory: {e}"),
        )
    })?;
    let dir = scratch.path().to_path_buf();
    let mut proc = Supervised::spawn(
        command::app_server(binary, &CodexOptions::default(), &dir),
        NAME,
    )
    .map_err(|e| (TaskErrorKind::Process, e.to_string()))?;
    let (Some(stdin), Some(stdout)) = (proc.take_stdin(), proc.take_stdout(DEFAULT_MAX_LINE_BYTES))
    else {
        return Err((TaskErrorKind::Process, "stdio not piped".into()));
    };
    let (client, mut incoming) =
        client::start(stdin, stdout.into_inner(), DEFAULT_MAX_LINE_BYTES, None);
    let turn = async {
        let call = |e: super::client::CallError| (TaskErrorKind::Vendor, e.to_string());
        client
            .request(
                "initialize",
                json!({ "clientInfo": { "name": "agent-runtime-kit", "version": env!("CARGO_PKG_VERSION") } }),
            )
            .await
            .map_err(call)?;
        client.notify("initialized").await;
        let mut p = json!({ "cwd": dir, "approvalPolicy": "never", "sandbox": "read-only", "ephemeral": true });
        if let Some(m) = model {
            p["model"] = json!(m);
        }
        let t = client.request("thread/start", p).await.map_err(call)?;
        client
            .request(
                "turn/start",
                json!({ "threadId": t["thread"]["id"], "input": [{ "type": "text", "text": "Reply with the single word OK." }] }),
            )
            .await
            .map_err(call)?;
        while let Some(msg) = incoming.recv().await {
            if let client::Incoming::Notification(n) = msg {
                if n.method() == "turn/completed" {
                    let params = n.params_value();
                    let turn: &Value = &params["turn"];
                    return match turn["status"].as_str() {
                        Some("completed") => Ok(()),
                        _ => {
                            let e = errors::classify(&turn["error"]);
                            Err((e.kind, e.message))
                        }
                    };
                }
            }
        }
        Err((
            TaskErrorKind::Process,
            "codex exited during the probe".into(),
        ))
    };
    let r = tokio::time::timeout(Duration::from_secs(60), turn)
        .await
        .unwrap_or_else(|_| {
            Err((
                TaskErrorKind::Vendor,
                "no answer within 60 s (is the network reachable?)".into(),
            ))
        });
    client.close().await;
    if proc.wait_timeout(Duration::from_secs(3)).await.is_none() {
        proc.terminate(Duration::from_secs(2)).await;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::{check_user_agent, user_agent_version};

    #[test]
    fn the_version_comes_from_initializes_user_agent() {
        // As 0.171.0 answers `initialize` (vendors/codex.md §4.1).
        let ua =
            "agent-runtime-kit/0.171.0 (Debian 12.0.0; x86_64) unknown (agent-runtime-kit; 0.1.0)";
        assert_eq!(user_agent_version(ua), Some((0, 171, 0)));
        assert!(check_user_agent(Some(ua)).is_none());
        let old = check_user_agent(Some("agent-runtime-kit/0.170.9 (Linux; x86_64)")).unwrap();
        assert!(
            old.message.contains("older than 0.171.0"),
            "{}",
            old.message
        );
        // Unreadable or absent: the probe's cached answer decides later tasks instead.
        assert!(check_user_agent(Some("something else")).is_none());
        assert!(check_user_agent(None).is_none());
    }
}
