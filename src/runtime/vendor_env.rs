//! Every vendor process (a task's agent and the probes a diagnosis runs) starts from an empty
//! environment and gets back only what an allowlist names: the basics every program needs
//! ([`BASICS`]), the vendor's own credentials and configuration (each runtime's list, in its
//! folder), the variables the host named for the task (`runtimeOptions.<name>.passEnv`, taken
//! from the sidecar's environment), and the task's own values (`runtimeOptions.<name>.env`).
//!
//! Why: the model steers the vendor, and its shell tool can read the vendor's environment. A
//! sidecar started with `OPENAI_API_KEY`, `AWS_SECRET_ACCESS_KEY` or `DATABASE_URL` in its
//! environment must not hand them to a Claude task (tests/security.rs
//! `vendors_get_only_their_allowlisted_environment`).

use std::ffi::OsString;

use tokio::process::Command;

/// Names and name prefixes of variables to pass through.
#[derive(Debug, Clone, Copy)]
pub struct Allowlist {
    pub names: &'static [&'static str],
    /// `LC_` lets every `LC_*` through.
    pub prefixes: &'static [&'static str],
}

impl Allowlist {
    pub fn allows(&self, name: &str) -> bool {
        self.names.contains(&name) || self.prefixes.iter().any(|p| name.starts_with(p))
    }
}

/// What every program needs: where programs and home are, who the user is, terminal and locale,
/// temp dir, proxies and CA bundles (a corporate proxy breaks every vendor without them), and
/// the XDG base directories.
pub const BASICS: Allowlist = Allowlist {
    names: &[
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "TERM",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "all_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "NODE_EXTRA_CA_CERTS",
        "REQUESTS_CA_BUNDLE",
    ],
    prefixes: &["LC_", "XDG_"],
};

/// One vendor process's environment: the allowlists of its runtime, the names the host asked
/// to pass from the sidecar's environment, and the task's own values.
#[derive(Debug, Clone, Default)]
pub struct VendorEnv {
    pub own: Vec<Allowlist>,
    pub pass_env: Vec<String>,
    pub extra: Vec<(String, String)>,
}

impl VendorEnv {
    pub fn new(own: Vec<Allowlist>) -> VendorEnv {
        VendorEnv {
            own,
            ..Default::default()
        }
    }

    /// Clears `cmd`'s environment and sets what passes: a variable of the sidecar's environment
    /// that [`BASICS`] or one of `own` names or that is in `pass_env`; then `extra` on top (task
    /// values win).
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env_clear();
        for (name, value) in passed(std::env::vars_os(), &self.own, &self.pass_env) {
            cmd.env(name, value);
        }
        cmd.envs(self.extra.iter().map(|(k, v)| (k, v)));
    }

    /// The value of `name` as the vendor will see it (task values win), if set and not blank.
    pub fn value(&self, name: &str) -> Option<String> {
        let from_task = self
            .extra
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let passes = BASICS.allows(name)
            || self.own.iter().any(|a| a.allows(name))
            || self.pass_env.iter().any(|p| p == name);
        from_task
            .or_else(|| std::env::var(name).ok().filter(|_| passes))
            .filter(|v| !v.trim().is_empty())
    }
}

/// The variables of `from` that pass.
pub fn passed(
    from: impl IntoIterator<Item = (OsString, OsString)>,
    own: &[Allowlist],
    pass_env: &[String],
) -> Vec<(OsString, OsString)> {
    from.into_iter()
        .filter(|(name, _)| {
            name.to_str().is_some_and(|n| {
                BASICS.allows(n)
                    || own.iter().any(|a| a.allows(n))
                    || pass_env.iter().any(|p| p == n)
            })
        })
        .collect()
}

/// Whether a switch variable (`CLAUDE_CODE_USE_BEDROCK=1`) is on, in the task's values or the
/// sidecar's environment.
pub fn switched_on<'a>(
    name: &str,
    extra: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> bool {
    let on = |v: &str| {
        !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "" | "0" | "false" | "no"
        )
    };
    match extra.into_iter().find(|(k, _)| *k == name) {
        Some((_, v)) => on(v),
        None => std::env::var(name).is_ok_and(|v| on(&v)),
    }
}

/// Checks `passEnv` names (no `=`, no NUL, not empty), for a runtime's options check.
pub fn check_names(names: &[String]) -> Result<(), String> {
    match names
        .iter()
        .find(|n| n.is_empty() || n.contains(['=', '\0']))
    {
        Some(n) => Err(format!("{n:?} is not an environment variable name")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: Allowlist = Allowlist {
        names: &["CODEX_HOME"],
        prefixes: &["OPENAI_"],
    };

    fn names(v: Vec<(OsString, OsString)>) -> Vec<String> {
        v.into_iter()
            .map(|(k, _)| k.into_string().unwrap())
            .collect()
    }

    #[test]
    fn only_allowlisted_and_named_variables_pass() {
        let env = [
            "PATH",
            "LC_ALL",
            "XDG_CONFIG_HOME",
            "OPENAI_API_KEY",
            "CODEX_HOME",
            "ANTHROPIC_API_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "GITHUB_TOKEN",
            "DATABASE_URL",
            "NODE_OPTIONS",
            "LD_PRELOAD",
        ]
        .map(|k| (OsString::from(k), OsString::from("v")));
        let got = names(passed(env.clone(), &[OWN], &["GITHUB_TOKEN".into()]));
        assert_eq!(
            got,
            [
                "PATH",
                "LC_ALL",
                "XDG_CONFIG_HOME",
                "OPENAI_API_KEY",
                "CODEX_HOME",
                "GITHUB_TOKEN"
            ]
        );
        assert_eq!(
            names(passed(env, &[], &[])),
            ["PATH", "LC_ALL", "XDG_CONFIG_HOME"]
        );
    }

    #[test]
    fn switches_read_task_values_first() {
        let on = [("X_SWITCH".to_string(), "1".to_string())];
        let off = [("X_SWITCH".to_string(), "false".to_string())];
        assert!(switched_on("X_SWITCH", on.iter().map(|(k, v)| (k, v))));
        assert!(!switched_on("X_SWITCH", off.iter().map(|(k, v)| (k, v))));
        assert!(check_names(&["A=B".into()]).is_err());
        assert!(check_names(&["GITHUB_TOKEN".into()]).is_ok());
    }
}
