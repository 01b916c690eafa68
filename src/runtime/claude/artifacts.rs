//! Artifacts: the files Claude's file tools (Write, Edit, NotebookEdit) changed.
//!
//! Bash can change files too, but what a shell command touched is not knowable from its output:
//! the core lists the working directory around every turn (`runtime::workspace`) and adds those.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::protocol::result::{Artifact, ArtifactChange};
use crate::runtime::artifacts;

/// The file a file tool call targets, if `name` is one.
pub fn target(name: &str, input: &Value) -> Option<String> {
    let key = match name {
        "Write" | "Edit" | "MultiEdit" => "file_path",
        "NotebookEdit" => "notebook_path",
        _ => return None,
    };
    input.get(key).and_then(Value::as_str).map(str::to_string)
}

#[derive(Default)]
pub struct Artifacts {
    /// Absolute path → change, in first-seen order of paths.
    changes: BTreeMap<PathBuf, ArtifactChange>,
}

impl Artifacts {
    /// Records a completed file tool call. `existed` is whether the file was there when the call
    /// was requested; the CLI's own `tool_use_result.type` (`create`/`update`) wins when present.
    pub fn record(&mut self, wd: &Path, file: &str, existed: bool, tool_use_result: &Value) {
        let path = wd.join(file);
        let change = match tool_use_result.get("type").and_then(Value::as_str) {
            Some("create") => ArtifactChange::Created,
            Some("update") => ArtifactChange::Modified,
            _ if existed => ArtifactChange::Modified,
            _ => ArtifactChange::Created,
        };
        // Created then edited is still created.
        self.changes
            .entry(path)
            .and_modify(|c| {
                if *c != ArtifactChange::Created {
                    *c = change
                }
            })
            .or_insert(change);
    }

    pub fn into_list(self, wd: &Path) -> Vec<Artifact> {
        self.changes
            .into_iter()
            .map(|(p, change)| artifacts::artifact(&p, wd, change))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_are_relative_to_the_working_directory() {
        let wd = Path::new("/w");
        let mut a = Artifacts::default();
        a.record(wd, "out.txt", false, &json!({"type": "create"}));
        a.record(wd, "/w/src/lib.rs", true, &json!("ok"));
        a.record(wd, "out.txt", true, &json!({"type": "update"}));
        a.record(wd, "/elsewhere/x", true, &Value::Null);
        let list = a.into_list(wd);
        let got: Vec<_> = list.iter().map(|a| (a.path.as_str(), a.change)).collect();
        assert_eq!(
            got,
            vec![
                ("/elsewhere/x", ArtifactChange::Modified),
                ("out.txt", ArtifactChange::Created),
                ("src/lib.rs", ArtifactChange::Modified),
            ]
        );
    }
}
