//! `task.mcpServers` as Codex's `mcp_servers` config table (sent in `thread/start`'s `config`).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::protocol::task::McpServer;

pub fn config(servers: &BTreeMap<String, McpServer>) -> Value {
    let mut out = Map::new();
    for (name, server) in servers {
        let entry = match server {
            McpServer::Stdio(s) => json!({ "command": s.command, "args": s.args, "env": s.env }),
            McpServer::Http(h) => json!({ "url": h.url, "http_headers": h.headers }),
        };
        out.insert(name.clone(), entry);
    }
    Value::Object(out)
}
