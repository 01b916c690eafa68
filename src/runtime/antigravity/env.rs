//! The bridge's environment allowlist (see `runtime/vendor_env.rs`): the Gemini API and Vertex
//! AI variables the SDK reads. HOME, the XDG dirs and TMPDIR are then redirected to the runtime's
//! state dir by `command::bridge_command`.

use crate::runtime::vendor_env::{Allowlist, VendorEnv};

pub const ANTIGRAVITY: Allowlist = Allowlist {
    names: &[
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "GOOGLE_GENAI_USE_ENTERPRISE",
        "GOOGLE_CLOUD_PROJECT",
        "GOOGLE_CLOUD_LOCATION",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_GEMINI_BASE_URL",
    ],
    prefixes: &[],
};

/// The bridge's environment with these `passEnv` names (the `--check` probe passes none).
pub fn vendor_env(pass_env: &[String]) -> VendorEnv {
    VendorEnv {
        own: vec![ANTIGRAVITY],
        pass_env: pass_env.to_vec(),
        extra: vec![],
    }
}
