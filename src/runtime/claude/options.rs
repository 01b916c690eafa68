//! `runtimeOptions.claude`: what a host may tune beyond the AgentTask fields.
//!
//! The schema is generated from this struct with `additionalProperties: false`, so an unknown key
//! is refused (-32012) by the generic check before anything starts.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaudeOptions {
    /// Stop after this much spend (USD) in this run (`--max-budget-usd`). The CLI checks after each
    /// model turn, so a run can overshoot by one turn. Ends with `finishReason: "budget"`.
    #[serde(default)]
    #[schemars(range(min = 0.0))]
    pub max_budget_usd: Option<f64>,
    /// Which Claude settings files to load (`--setting-sources`): any of `user`, `project`,
    /// `local`. Default: none, because settings can carry permission rules (`permissions.allow`)
    /// that would silently widen the task's `permissions`. Opting in accepts those rules.
    #[serde(default)]
    pub setting_sources: Option<Vec<SettingSource>>,
    /// Extra environment variables for the CLI. The CLI does not see the sidecar's whole
    /// environment: only the basics, its own variables (`ANTHROPIC_*`, `CLAUDE_CODE_*`, ...;
    /// docs/security.md), `passEnv` and these.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Names of further variables to pass from the sidecar's environment to the CLI (e.g.
    /// `GITHUB_TOKEN` for an agent that uses `gh`). Unset ones are skipped.
    #[serde(default)]
    pub pass_env: Vec<String>,
    /// How many times the CLI retries a failed API call (`CLAUDE_CODE_MAX_RETRIES`). Default: the
    /// CLI's own (10, with exponential back-off). Authentication failures are never waited out:
    /// the runtime stops the turn at the first 401/403 retry notice.
    #[serde(default)]
    #[schemars(range(max = 20))]
    pub max_retries: Option<u32>,
    /// Reasoning effort (`--effort`).
    #[serde(default)]
    pub effort: Option<Effort>,
    /// A model to fall back to when the main one is overloaded (`--fallback-model`).
    #[serde(default)]
    pub fallback_model: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SettingSource {
    User,
    Project,
    Local,
}

impl SettingSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SettingSource::User => "user",
            SettingSource::Project => "project",
            SettingSource::Local => "local",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Effort {
    Low,
    Medium,
    High,
    Xhigh,
    Max,
}

impl Effort {
    pub fn as_str(self) -> &'static str {
        match self {
            Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
            Effort::Xhigh => "xhigh",
            Effort::Max => "max",
        }
    }
}
