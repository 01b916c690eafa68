//! The generic checks of a task against what its runtime declares: a field the runtime cannot
//! honour is refused (-32012), never dropped; a malformed value is refused (-32602). Runs before
//! the runtime's own [`plan`](crate::runtime::Runtime::plan), for every front end alike.

use std::path::{Path, PathBuf};

use super::Refusal;
use crate::protocol::runtime_info::RuntimeInfo;
use crate::protocol::task::{AgentTask, AttachmentKind, McpServer};

/// Checks `task` against `info`'s capabilities; returns the task's working directory, absolute.
pub(crate) fn check_task(
    info: &RuntimeInfo,
    task: &AgentTask,
    cwd: &Path,
) -> Result<PathBuf, Refusal> {
    let caps = &info.capabilities;
    let name = info.name.as_str();
    let unsupported = |field: &str, reason: &str| Err(Refusal::unsupported(name, field, reason));

    let wd = match &task.working_directory {
        Some(d) => {
            let p = cwd.join(d);
            if !p.is_dir() {
                return Err(Refusal::invalid(
                    "task.workingDirectory",
                    format!("{d:?} does not exist or is not a directory"),
                ));
            }
            p
        }
        None => cwd.to_path_buf(),
    };
    let wd = wd.canonicalize().unwrap_or(wd);

    if task.system_prompt.is_some() && !caps.system_prompt {
        return unsupported(
            "task.systemPrompt",
            "this runtime cannot replace the system prompt",
        );
    }
    if task.append_system_prompt.is_some() && !caps.append_system_prompt {
        return unsupported(
            "task.appendSystemPrompt",
            "this runtime cannot append to the system prompt",
        );
    }
    if let Some(dirs) = &task.additional_directories {
        if !dirs.is_empty() && !caps.additional_directories {
            return unsupported(
                "task.additionalDirectories",
                "this runtime works in one directory only",
            );
        }
        for (i, d) in dirs.iter().enumerate() {
            if !cwd.join(d).is_dir() {
                return Err(Refusal::invalid(
                    format!("task.additionalDirectories[{i}]"),
                    format!("{d:?} does not exist or is not a directory"),
                ));
            }
        }
    }
    if let (Some(model), Some(models)) = (&task.model, &caps.models) {
        if !models.contains(model) {
            return unsupported(
                "task.model",
                &format!("supported models: {}", models.join(", ")),
            );
        }
    }
    let perms = task.permissions();
    if !caps.sandbox_modes.contains(&perms.sandbox) {
        return unsupported(
            "task.permissions.sandbox",
            "this sandbox mode cannot be enforced",
        );
    }
    if !caps.approvals.contains(&perms.approvals) {
        return unsupported(
            "task.permissions.approvals",
            "this approval mode is not supported",
        );
    }
    if (perms.allowed_tools.is_some() || perms.disallowed_tools.is_some()) && !caps.tool_filters {
        let field = if perms.allowed_tools.is_some() {
            "task.permissions.allowedTools"
        } else {
            "task.permissions.disallowedTools"
        };
        return unsupported(field, "this runtime cannot restrict tools by name");
    }
    if let Some(session) = &task.session {
        match &session.resume {
            Some(id) if id.trim().is_empty() => {
                return Err(Refusal::invalid("task.session.resume", "must not be empty"));
            }
            Some(_) if !caps.resume && !caps.live_sessions => {
                return unsupported("task.session", "this runtime cannot resume sessions");
            }
            None if session.fork => {
                return Err(Refusal::invalid(
                    "task.session.fork",
                    "fork needs resume (the session to branch from)",
                ));
            }
            _ => {}
        }
        if session.fork && !caps.fork {
            return unsupported("task.session.fork", "this runtime cannot fork sessions");
        }
        if session.keep_alive && !caps.live_sessions {
            return unsupported(
                "task.session.keepAlive",
                "this runtime cannot keep a session live between turns",
            );
        }
    }
    for (i, attachment) in task.attachments.iter().flatten().enumerate() {
        let field = format!("task.attachments[{i}]");
        let shape = match (attachment.kind, &attachment.path, &attachment.data) {
            (AttachmentKind::File, Some(_), None) => Ok(()),
            (AttachmentKind::File, _, _) => Err("a file attachment needs `path` (and no `data`)"),
            (AttachmentKind::Image, Some(_), None) | (AttachmentKind::Image, None, Some(_)) => {
                Ok(())
            }
            (AttachmentKind::Image, _, _) => {
                Err("an image attachment needs exactly one of `path` or `data`")
            }
        };
        if let Err(reason) = shape {
            return Err(Refusal::invalid(field, reason));
        }
        if !caps.attachments.iter().any(|t| t == attachment.type_name()) {
            return unsupported(
                &format!("task.attachments[{i}]"),
                &format!(
                    "this runtime cannot send {} attachments",
                    attachment.type_name()
                ),
            );
        }
    }
    if let Some(servers) = &task.mcp_servers {
        for (server_name, server) in servers {
            // Shapes are checked by deserialization; these values would only fail later, inside
            // the vendor, with a vaguer message.
            let bad = match server {
                McpServer::Stdio(s) if s.command.trim().is_empty() => {
                    Some(("command", "must not be empty"))
                }
                McpServer::Http(h)
                    if !(h.url.starts_with("http://") || h.url.starts_with("https://")) =>
                {
                    Some(("url", "must be an http:// or https:// URL"))
                }
                _ => None,
            };
            if let Some((field, reason)) = bad {
                return Err(Refusal::invalid(
                    format!("task.mcpServers.{server_name}.{field}"),
                    reason,
                ));
            }
            if !caps.mcp.iter().any(|t| t == server.transport_name()) {
                return unsupported(
                    &format!("task.mcpServers.{server_name}"),
                    &format!("{} MCP servers are not supported", server.transport_name()),
                );
            }
        }
    }
    if let Some(schema) = &task.output_schema {
        if !caps.structured_output {
            return unsupported(
                "task.outputSchema",
                "this runtime cannot produce structured output",
            );
        }
        if let Err(e) = jsonschema::validator_for(schema) {
            return Err(Refusal::invalid(
                "task.outputSchema",
                format!("not a valid JSON Schema: {e}"),
            ));
        }
    }
    if task.max_turns.is_some() && !caps.max_turns {
        return unsupported("task.maxTurns", "this runtime cannot limit turns");
    }
    if task.max_turns == Some(0) {
        return Err(Refusal::invalid("task.maxTurns", "must be at least 1"));
    }
    Ok(wd)
}
