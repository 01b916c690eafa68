//! Our `permissions` → Claude Code's permission mode and tool rules.
//!
//! Claude Code has no OS sandbox in this mode; what it enforces is its permission system: every
//! tool call is either allowed by the mode / a rule, or turned into a `can_use_tool` request to us
//! (we run with `--permission-prompt-tool stdio`), which `approvals` answers (deny at once, or ask
//! the host). So each sandbox level is a permission mode plus tools removed outright:
//!
//! | sandbox | mode | removed tools | needs approval |
//! |---|---|---|---|
//! | `read-only` | `default` | Write, Edit, NotebookEdit | any Bash command the CLI does not classify as read-only, web access |
//! | `workspace-write` | `acceptEdits` | – | edits outside the working/additional directories, Bash beyond in-workspace edits |
//! | `full-access` | `bypassPermissions` | – | nothing (approvals are never asked) |
//!
//! `AskUserQuestion` stays with `approvals: "host"` (its questions go to the host as
//! `input/request`, answers.rs); with `"deny"` there is nobody to ask, so it is removed and the
//! model never offers a question it cannot get answered.
//! `allowedTools` is a whitelist (`--tools` for built-in tools; MCP servers not named in it are
//! removed); `disallowedTools` is passed through (`--disallowedTools`, Claude rule syntax allowed).

use std::collections::BTreeMap;

use crate::protocol::task::{ApprovalMode, McpServer, Permissions, SandboxMode};

/// Tools that change files; removed in `read-only`.
pub const WRITE_TOOLS: &[&str] = &["Write", "Edit", "NotebookEdit"];
/// Tools that need a user: removed unless approvals go to the host.
pub const INTERACTIVE_TOOLS: &[&str] = &["AskUserQuestion"];

#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// `--permission-mode`.
    pub mode: &'static str,
    /// `--tools` (the available built-in set), when restricted.
    pub tools: Option<Vec<String>>,
    /// `--disallowedTools`.
    pub disallowed: Vec<String>,
}

/// A field the mapping cannot enforce, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub field: String,
    pub reason: String,
}

pub fn map(
    perms: &Permissions,
    mcp: Option<&BTreeMap<String, McpServer>>,
) -> Result<Mapping, Refusal> {
    let mut disallowed: Vec<String> = match perms.approvals {
        ApprovalMode::Host => vec![],
        ApprovalMode::Deny => INTERACTIVE_TOOLS.iter().map(|s| s.to_string()).collect(),
    };
    let mode = match perms.sandbox {
        SandboxMode::ReadOnly => {
            disallowed.extend(WRITE_TOOLS.iter().map(|s| s.to_string()));
            "default"
        }
        SandboxMode::WorkspaceWrite => "acceptEdits",
        SandboxMode::FullAccess => "bypassPermissions",
    };
    let mut tools = None;
    if let Some(allowed) = &perms.allowed_tools {
        let mut builtin = vec![];
        let mut mcp_named = vec![];
        for (i, name) in allowed.iter().enumerate() {
            let field = format!("task.permissions.allowedTools[{i}]");
            if name.contains('(') || name.contains('*') || name.trim().is_empty() {
                return Err(Refusal {
                    field,
                    reason: "allowedTools is a list of tool names; Claude rule patterns such as \
                             Bash(git *) can only narrow (use disallowedTools)"
                        .into(),
                });
            }
            match name.strip_prefix("mcp__") {
                Some(rest) => {
                    if rest.contains("__") {
                        return Err(Refusal {
                            field,
                            reason:
                                "Claude can restrict MCP tools per server only: name the whole \
                                     server (mcp__<server>) and disallow single tools with \
                                     disallowedTools"
                                    .into(),
                        });
                    }
                    mcp_named.push(rest.to_string());
                }
                None => builtin.push(name.clone()),
            }
        }
        // A server the whitelist does not name loses all its tools.
        for server in mcp.into_iter().flat_map(|m| m.keys()) {
            if !mcp_named.contains(server) {
                disallowed.push(format!("mcp__{server}"));
            }
        }
        tools = Some(builtin);
    }
    for d in perms.disallowed_tools.iter().flatten() {
        if !disallowed.contains(d) {
            disallowed.push(d.clone());
        }
    }
    Ok(Mapping {
        mode,
        tools,
        disallowed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::task::McpHttpServer;

    fn perms(sandbox: SandboxMode) -> Permissions {
        Permissions {
            sandbox,
            approvals: ApprovalMode::Deny,
            allowed_tools: None,
            disallowed_tools: None,
        }
    }

    #[test]
    fn sandbox_levels_map_to_modes() {
        let ro = map(&perms(SandboxMode::ReadOnly), None).unwrap();
        assert_eq!(ro.mode, "default");
        assert!(ro.disallowed.contains(&"Write".to_string()));
        let ww = map(&perms(SandboxMode::WorkspaceWrite), None).unwrap();
        assert_eq!(ww.mode, "acceptEdits");
        assert_eq!(ww.disallowed, vec!["AskUserQuestion".to_string()]);
        assert_eq!(
            map(&perms(SandboxMode::FullAccess), None).unwrap().mode,
            "bypassPermissions"
        );
    }

    #[test]
    fn ask_user_question_stays_only_when_the_host_answers() {
        let mut p = perms(SandboxMode::WorkspaceWrite);
        p.approvals = ApprovalMode::Host;
        assert!(map(&p, None).unwrap().disallowed.is_empty());
    }

    #[test]
    fn allowed_tools_whitelist_removes_unnamed_mcp_servers() {
        let mut p = perms(SandboxMode::WorkspaceWrite);
        p.allowed_tools = Some(vec!["Read".into(), "mcp__docs".into()]);
        let server = |u: &str| {
            McpServer::Http(McpHttpServer {
                transport: None,
                url: u.into(),
                headers: Default::default(),
            })
        };
        let mcp: BTreeMap<_, _> = [
            ("docs".to_string(), server("http://a")),
            ("other".to_string(), server("http://b")),
        ]
        .into();
        let m = map(&p, Some(&mcp)).unwrap();
        assert_eq!(m.tools, Some(vec!["Read".to_string()]));
        assert!(m.disallowed.contains(&"mcp__other".to_string()));
        assert!(!m.disallowed.contains(&"mcp__docs".to_string()));
    }

    #[test]
    fn patterns_and_single_mcp_tools_are_refused_in_the_whitelist() {
        let mut p = perms(SandboxMode::WorkspaceWrite);
        p.allowed_tools = Some(vec!["Bash(git *)".into()]);
        assert!(map(&p, None).is_err());
        p.allowed_tools = Some(vec!["mcp__docs__search".into()]);
        assert_eq!(
            map(&p, None).unwrap_err().field,
            "task.permissions.allowedTools[0]"
        );
    }
}
