//! What codex's fileChange items say it patched, as artifacts. A shell command's effects are only
//! visible on disk: the core lists the working directory around every turn (`runtime::workspace`)
//! and adds those, so here only the items count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::protocol::event::{FileChange, FileChanged};
use crate::protocol::result::{Artifact, ArtifactChange};
use crate::runtime::artifacts;

/// A completed `fileChange` item's `changes: [{path, kind: {type: add|delete|update, move_path?},
/// diff}]` → one `agent.file.changed` per file, paths relative to `wd` like the workspace
/// listing's (so its end-of-turn events skip them). A move is the old path deleted and the new
/// one added, with the diff on the new one.
pub fn file_events(wd: &Path, item: &Value) -> Vec<FileChanged> {
    let rel = |p: &str| artifacts::relative_path(&wd.join(p), wd);
    let mut out = vec![];
    for c in item["changes"].as_array().into_iter().flatten() {
        let Some(path) = c["path"].as_str() else {
            continue;
        };
        let diff = c["diff"]
            .as_str()
            .filter(|d| !d.is_empty())
            .map(str::to_string);
        let (path, change) = match (c["kind"]["type"].as_str(), c["kind"]["move_path"].as_str()) {
            (Some("add"), _) => (path, FileChange::Added),
            (Some("delete"), _) => (path, FileChange::Deleted),
            (_, Some(to)) => {
                out.push(FileChanged {
                    path: rel(path),
                    change: FileChange::Deleted,
                    diff: None,
                });
                (to, FileChange::Added)
            }
            _ => (path, FileChange::Modified),
        };
        out.push(FileChanged {
            path: rel(path),
            change,
            diff,
        });
    }
    out
}

/// Codex's fileChange items, in order, folded to one change per file, as artifacts relative to
/// `wd` (the workspace listing replaces them inside the working directory).
pub fn merge(wd: &Path, patched: &[(PathBuf, ArtifactChange)]) -> Vec<Artifact> {
    let mut by_path: BTreeMap<PathBuf, ArtifactChange> = BTreeMap::new();
    for (p, c) in patched {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            wd.join(p)
        };
        // Created then modified is still created; created then deleted is nothing.
        match (by_path.get(&p).copied(), *c) {
            (Some(ArtifactChange::Created), ArtifactChange::Modified) => {}
            (Some(ArtifactChange::Created), ArtifactChange::Deleted) => {
                by_path.remove(&p);
            }
            _ => {
                by_path.insert(p, *c);
            }
        }
    }
    by_path
        .into_iter()
        .map(|(p, change)| artifacts::artifact(&p, wd, change))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_events_are_relative_with_codex_diffs() {
        let wd = Path::new("/w");
        let item = serde_json::json!({ "type": "fileChange", "status": "completed", "changes": [
            { "path": "/w/a.txt", "kind": { "type": "add" }, "diff": "+hi\n" },
            { "path": "/w/b.txt", "kind": { "type": "update", "move_path": "/w/c.txt" }, "diff": "@@ -1 +1 @@\n-x\n+y\n" },
            { "path": "src/d.rs", "kind": { "type": "update", "move_path": null }, "diff": "" },
            { "path": "/elsewhere/e", "kind": { "type": "delete" } },
        ]});
        let got: Vec<_> = file_events(wd, &item)
            .into_iter()
            .map(|f| (f.path, f.change, f.diff))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a.txt".into(), FileChange::Added, Some("+hi\n".into())),
                ("b.txt".into(), FileChange::Deleted, None),
                (
                    "c.txt".into(),
                    FileChange::Added,
                    Some("@@ -1 +1 @@\n-x\n+y\n".into())
                ),
                ("src/d.rs".into(), FileChange::Modified, None),
                ("/elsewhere/e".into(), FileChange::Deleted, None),
            ]
        );
    }

    #[test]
    fn items_fold_to_one_change_per_file() {
        let wd = Path::new("/w");
        let arts = merge(
            wd,
            &[
                ("a".into(), ArtifactChange::Created),
                ("/w/a".into(), ArtifactChange::Modified),
                ("b".into(), ArtifactChange::Created),
                ("b".into(), ArtifactChange::Deleted),
                ("/x/c".into(), ArtifactChange::Modified),
            ],
        );
        let got: Vec<_> = arts.iter().map(|a| (a.path.as_str(), a.change)).collect();
        assert_eq!(
            got,
            vec![
                ("a", ArtifactChange::Created),
                ("/x/c", ArtifactChange::Modified)
            ]
        );
    }
}
