//! Artifacts: the files Claude's file tools (Write, Edit, NotebookEdit) changed.
//!
//! Bash can change files too, but what a shell command touched is not knowable from its output:
//! the core lists the working directory around every turn (`runtime::workspace`) and adds those.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::protocol::event::{FileChange, FileChanged};
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
    /// Returns the call's own change (this call's, not the folded one) for its event.
    pub fn record(
        &mut self,
        wd: &Path,
        file: &str,
        existed: bool,
        tool_use_result: &Value,
    ) -> ArtifactChange {
        let change = match tool_use_result.get("type").and_then(Value::as_str) {
            Some("create") => ArtifactChange::Created,
            Some("update") => ArtifactChange::Modified,
            _ if existed => ArtifactChange::Modified,
            _ => ArtifactChange::Created,
        };
        // Created then edited is still created.
        self.changes
            .entry(wd.join(file))
            .and_modify(|c| {
                if *c != ArtifactChange::Created {
                    *c = change
                }
            })
            .or_insert(change);
        change
    }

    pub fn into_list(self, wd: &Path) -> Vec<Artifact> {
        self.changes
            .into_iter()
            .map(|(p, change)| artifacts::artifact(&p, wd, change))
            .collect()
    }
}

/// The `agent.file.changed` of a file tool call that succeeded: `existed`/`tool_use_result` as for
/// [`Artifacts::record`]'s `change`. The diff is rendered from the CLI's `structuredPatch` hunks
/// (Edit, MultiEdit, Write over a file), or from `content` for a created file; none otherwise.
pub fn file_event(
    wd: &Path,
    file: &str,
    change: ArtifactChange,
    tool_use_result: &Value,
) -> FileChanged {
    let shown = artifacts::relative_path(&wd.join(file), wd);
    let diff = diff_of(&shown, change, tool_use_result);
    FileChanged {
        path: shown,
        change: match change {
            ArtifactChange::Created => FileChange::Added,
            ArtifactChange::Modified => FileChange::Modified,
            ArtifactChange::Deleted => FileChange::Deleted,
        },
        diff,
    }
}

fn diff_of(shown: &str, change: ArtifactChange, r: &Value) -> Option<String> {
    let hunks = r["structuredPatch"].as_array().filter(|h| !h.is_empty());
    let created = change == ArtifactChange::Created;
    let old = if created {
        "/dev/null".to_string()
    } else {
        format!("a/{shown}")
    };
    let mut out = format!("--- {old}\n+++ b/{shown}\n");
    match hunks {
        Some(hunks) => {
            for h in hunks {
                let n = |k: &str| h[k].as_u64().unwrap_or(0);
                out.push_str(&format!(
                    "@@ -{},{} +{},{} @@\n",
                    n("oldStart"),
                    n("oldLines"),
                    n("newStart"),
                    n("newLines")
                ));
                for line in h["lines"].as_array().into_iter().flatten() {
                    out.push_str(line.as_str().unwrap_or_default());
                    out.push('\n');
                }
            }
        }
        None if created => {
            let content = r["content"].as_str().filter(|c| !c.is_empty())?;
            let lines: Vec<&str> = content.lines().collect();
            out.push_str(&format!("@@ -0,0 +1,{} @@\n", lines.len()));
            for line in lines {
                out.push('+');
                out.push_str(line);
                out.push('\n');
            }
        }
        None => return None,
    }
    Some(out)
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
        let created = file_event(
            wd,
            "/w/new.txt",
            ArtifactChange::Created,
            &json!({"type": "create", "content": "a\nb\n", "structuredPatch": []}),
        );
        assert_eq!(created.path, "new.txt");
        assert_eq!(created.change, FileChange::Added);
        assert_eq!(
            created.diff.as_deref(),
            Some("--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n")
        );
        let edited = file_event(
            wd,
            "src/lib.rs",
            ArtifactChange::Modified,
            &json!({"structuredPatch": [{"oldStart": 3, "oldLines": 1, "newStart": 3, "newLines": 1, "lines": ["-x", "+y"]}]}),
        );
        assert_eq!(
            edited.diff.as_deref(),
            Some("--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3,1 +3,1 @@\n-x\n+y\n")
        );
        assert_eq!(
            file_event(wd, "x", ArtifactChange::Modified, &json!("ok")).diff,
            None
        );
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
