//! Codex's environment allowlist (see `runtime/vendor_env.rs`): its own credentials, endpoint
//! and home, and the variable the task's provider names as its key.

use super::options::CodexOptions;
use crate::runtime::vendor_env::{Allowlist, VendorEnv};

/// `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_ORGANIZATION`, ...; `CODEX_HOME`,
/// `CODEX_API_KEY` and codex's other `CODEX_*` settings.
pub const CODEX: Allowlist = Allowlist {
    names: &[],
    prefixes: &["OPENAI_", "CODEX_"],
};

/// Codex's environment for a task with these options (probes use the same).
pub fn vendor_env(opts: &CodexOptions) -> VendorEnv {
    let mut pass_env = opts.pass_env.clone().unwrap_or_default();
    // The provider's key is read from the variable it names: that one is codex's too.
    if let Some(key) = opts.provider.as_ref().and_then(|p| p.env_key.clone()) {
        pass_env.push(key);
    }
    VendorEnv {
        own: vec![CODEX],
        pass_env,
        extra: opts
            .env
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}
