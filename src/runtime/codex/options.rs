//! `runtimeOptions.codex`: what a task may tune beyond the common fields, and how it becomes
//! `-c key=value` overrides on codex's command line.
//!
//! Config values are settings, not prompts or secrets, so argv is fine for them; but keys are
//! checked so that runtimeOptions cannot smuggle flags, and keys that would change what the task's
//! `permissions`, `mcpServers` or `model` fields decide are refused (nothing is silently widened).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::core::Refusal;

use super::NAME;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodexOptions {
    /// Reasoning effort for the turn, as the model advertises it (`minimal`, `low`, `medium`,
    /// `high`, `xhigh`, ...).
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    /// Reasoning summaries: `auto`, `concise`, `detailed` or `none`.
    #[serde(default)]
    pub reasoning_summary: Option<ReasoningSummary>,
    /// An OpenAI-compatible endpoint to use instead of the built-in OpenAI provider.
    #[serde(default)]
    pub provider: Option<Provider>,
    /// Further Codex config overrides, by dotted key (`"model_reasoning_effort": "high"`,
    /// `"tools.web_search": false`), sent in `thread/start`'s `config` (never on argv). Keys that
    /// the task's own fields decide (sandbox, approvals, MCP servers, model, provider,
    /// instructions) are refused; so is `notify` (it runs a program outside codex's sandbox).
    #[serde(default)]
    pub config: Option<BTreeMap<String, Value>>,
    /// Extra environment variables for codex (e.g. the provider's API key, `CODEX_HOME`). Codex
    /// does not see the sidecar's whole environment: only the basics, its own variables
    /// (`OPENAI_*`, `CODEX_*`, the provider's `envKey`; docs/security.md), `passEnv` and these.
    #[serde(default)]
    pub env: Option<BTreeMap<String, String>>,
    /// Names of further variables to pass from the sidecar's environment to codex (e.g.
    /// `GITHUB_TOKEN` for an agent that uses `gh`). Unset ones are skipped.
    #[serde(default)]
    pub pass_env: Option<Vec<String>>,
    /// With `permissions.approvals: "host"`: when codex asks. `untrusted` (default) asks for every
    /// command codex does not know to be safe; `on-request` lets the model decide when to ask for
    /// more than the sandbox allows.
    #[serde(default)]
    pub host_approval_policy: Option<HostApprovalPolicy>,
    /// How long codex may keep retrying a failing connection (it can retry "waiting for network"
    /// forever) before the run fails. Default 120000.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_retry_ms: Option<u64>,
    /// How long codex may take to start, open the thread and accept the turn. Default 60000.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub startup_timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningSummary {
    Auto,
    Concise,
    Detailed,
    None,
}

impl ReasoningSummary {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningSummary::Auto => "auto",
            ReasoningSummary::Concise => "concise",
            ReasoningSummary::Detailed => "detailed",
            ReasoningSummary::None => "none",
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HostApprovalPolicy {
    Untrusted,
    OnRequest,
}

/// A custom model provider (`model_providers.<id>` in Codex's config).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Provider {
    /// The provider's id in Codex's config (letters, digits, `_`, `-`). Default `custom`.
    #[serde(default)]
    pub id: Option<String>,
    /// Display name. Default: the id.
    #[serde(default)]
    pub name: Option<String>,
    /// Base URL including the version path, e.g. `http://127.0.0.1:8080/v1` (codex appends `/responses`).
    pub base_url: String,
    /// The environment variable holding the API key (sent as a bearer token). Without it (and
    /// without `requiresOpenaiAuth`) no key is sent.
    #[serde(default)]
    pub env_key: Option<String>,
    /// The wire API: `responses` (the only one Codex 0.171 speaks).
    #[serde(default)]
    pub wire_api: Option<WireApi>,
    /// Use the key saved by `codex login` instead of an environment variable.
    #[serde(default)]
    pub requires_openai_auth: Option<bool>,
    /// Retries of a failed request (codex's default is 4; 0 surfaces errors at once).
    #[serde(default)]
    pub request_max_retries: Option<u32>,
    /// Reconnects of a dropped stream (codex's default is 5).
    #[serde(default)]
    pub stream_max_retries: Option<u32>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WireApi {
    Responses,
}

/// Config keys (and their sub-keys) that the task's own fields decide.
const RESERVED_KEYS: &[(&str, &str)] = &[
    ("sandbox_mode", "use task.permissions.sandbox"),
    (
        "sandbox_workspace_write",
        "use task.permissions.sandbox and task.additionalDirectories",
    ),
    ("approval_policy", "use task.permissions.approvals"),
    (
        "approvals_reviewer",
        "approvals go to the host or are declined (task.permissions.approvals)",
    ),
    ("default_permissions", "use task.permissions"),
    ("permissions", "use task.permissions"),
    ("mcp_servers", "use task.mcpServers"),
    ("model", "use task.model"),
    ("model_provider", "use runtimeOptions.codex.provider"),
    ("model_providers", "use runtimeOptions.codex.provider"),
    ("base_instructions", "use task.systemPrompt"),
    ("developer_instructions", "use task.appendSystemPrompt"),
    ("model_instructions_file", "use task.systemPrompt"),
    ("experimental_instructions_file", "use task.systemPrompt"),
    ("analytics", "analytics are always off"),
    ("features", "the sidecar decides which features are on"),
    ("profile", "profiles could override the task's permissions"),
    ("profiles", "profiles could override the task's permissions"),
];

impl CodexOptions {
    /// Checks what the types cannot say: config keys (no flags smuggled, none that the task's
    /// own fields decide), the provider's id and URL, environment names.
    pub fn check(&self) -> Result<(), Refusal> {
        let base = format!("task.runtimeOptions.{NAME}");
        if let Some(config) = &self.config {
            for (key, value) in config {
                let field = format!("{base}.config.{key}");
                if !is_config_key(key) {
                    return Err(Refusal::invalid(
                        field,
                        "a config key is dotted words of letters, digits, '_' and '-'",
                    ));
                }
                let head = key.split('.').next().unwrap_or_default();
                if head == "notify" {
                    return Err(Refusal::invalid(
                        field,
                        "`notify` is reserved: codex runs that program outside its sandbox \
                         after every turn, so a task cannot set it",
                    ));
                }
                if let Some((_, why)) = RESERVED_KEYS.iter().find(|(k, _)| *k == head) {
                    return Err(Refusal::unsupported(NAME, field, *why));
                }
                toml_value(value).map_err(|e| Refusal::invalid(&field, e))?;
            }
        }
        if let Some(p) = &self.provider {
            if let Some(id) = &p.id {
                if !is_word(id) {
                    return Err(Refusal::invalid(
                        format!("{base}.provider.id"),
                        "letters, digits, '_' and '-' only",
                    ));
                }
            }
            if !(p.base_url.starts_with("http://") || p.base_url.starts_with("https://")) {
                return Err(Refusal::invalid(
                    format!("{base}.provider.baseUrl"),
                    "must be an http:// or https:// URL",
                ));
            }
        }
        if let Some(names) = &self.pass_env {
            crate::runtime::vendor_env::check_names(names)
                .map_err(|why| Refusal::invalid(format!("{base}.passEnv"), why))?;
        }
        if let Some(env) = &self.env {
            for k in env.keys() {
                if k.is_empty() || k.contains('=') || k.contains('\0') {
                    return Err(Refusal::invalid(
                        format!("{base}.env"),
                        format!("{k:?} is not an environment variable name"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The provider's `-c key=value` overrides (names, a URL, an env var's *name*: nothing
    /// secret). `config` goes in `thread/start` instead ([`Self::thread_config`]).
    pub fn overrides(&self) -> Vec<(String, String)> {
        let mut out = vec![];
        if let Some(p) = &self.provider {
            let id = p.id.clone().unwrap_or_else(|| "custom".into());
            let s = |v: &str| toml::Value::String(v.to_string()).to_string();
            let at = |k: &str| format!("model_providers.{id}.{k}");
            out.push(("model_provider".into(), s(&id)));
            out.push((at("name"), s(p.name.as_deref().unwrap_or(&id))));
            out.push((at("base_url"), s(&p.base_url)));
            if let Some(k) = &p.env_key {
                out.push((at("env_key"), s(k)));
            }
            out.push((at("wire_api"), s("responses")));
            if let Some(b) = p.requires_openai_auth {
                out.push((at("requires_openai_auth"), b.to_string()));
            }
            if let Some(n) = p.request_max_retries {
                out.push((at("request_max_retries"), n.to_string()));
            }
            if let Some(n) = p.stream_max_retries {
                out.push((at("stream_max_retries"), n.to_string()));
            }
        }
        out
    }

    /// `config` as `thread/start`'s `config` entries (dotted key → value), not `-c` argv: its
    /// values can be anything a host chose (a URL with a token, a path) and argv is readable by
    /// every local user (`/proc/<pid>/cmdline`).
    pub fn thread_config(&self) -> serde_json::Map<String, Value> {
        self.config
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn is_config_key(key: &str) -> bool {
    key.split('.').all(is_word)
}

/// A JSON value as an inline TOML value (what `-c` parses).
pub fn toml_value(v: &Value) -> Result<String, String> {
    if v.is_null() {
        return Err("null has no TOML form".into());
    }
    let t: toml::Value =
        toml::Value::try_from(v).map_err(|e| format!("no TOML form for this value: {e}"))?;
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_values_become_inline_toml() {
        // What codex does with `-c k=v`: parse `v` as a TOML value.
        let back = |v: Value| {
            let t = toml_value(&v).unwrap();
            assert!(!t.contains('\n'), "{t}");
            let table: toml::Table = format!("k = {t}").parse().unwrap();
            serde_json::to_value(&table["k"]).unwrap()
        };
        for v in [
            json!("a\"b'c"),
            json!(3),
            json!(["x", 1]),
            json!({"a": {"b": true}}),
        ] {
            assert_eq!(back(v.clone()), v);
        }
        assert!(toml_value(&json!(null)).is_err());
    }

    #[test]
    fn reserved_and_malformed_keys_are_refused() {
        let parse = |v: Value| {
            let opts: CodexOptions = serde_json::from_value(v).unwrap();
            opts.check().map(|()| opts)
        };
        let bad = |config: Value| parse(json!({ "config": config })).unwrap_err();
        let unsupported = |r: Refusal| matches!(r, Refusal::Unsupported { .. });
        assert!(unsupported(bad(
            json!({"sandbox_mode": "danger-full-access"})
        )));
        assert!(unsupported(bad(json!({"features.plugins": true}))));
        assert!(!unsupported(bad(json!({"x --dangerously-bypass": 1}))));
        assert!(!unsupported(bad(json!({"a..b": 1}))));
        let ok = parse(json!({"config": {"tools.web_search": false}})).unwrap();
        assert_eq!(ok.overrides(), vec![], "config is not argv");
        assert_eq!(
            Value::Object(ok.thread_config()),
            json!({"tools.web_search": false})
        );
        for notify in [json!({"notify": ["sh", "-c", "x"]}), json!({"notify.x": 1})] {
            let e = bad(notify);
            assert!(matches!(e, Refusal::Invalid { .. }), "{e:?}");
            assert!(e.to_string().contains("outside its sandbox"), "{e}");
        }
    }
}
