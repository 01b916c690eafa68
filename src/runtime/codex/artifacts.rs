//! What changed under the working directory: codex's fileChange items say what it patched, but a
//! shell command's effects are only visible on disk, so the directory is listed before and after.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::protocol::result::{Artifact, ArtifactChange};
use crate::runtime::artifacts;

/// Past this many entries the listing is abandoned (and only fileChange items count).
const MAX_ENTRIES: usize = 20_000;
/// Directories never listed: version-control internals change on every command.
const SKIP_DIRS: &[&str] = &[".git", ".hg", ".svn"];

/// Size and modification time of every file under a directory.
#[derive(Debug, Clone)]
pub struct Snapshot {
    root: PathBuf,
    files: HashMap<PathBuf, (u64, Option<SystemTime>)>,
}

impl Snapshot {
    /// Lists `root` (bounded); `None` when it is too big to list.
    pub fn take(root: &Path) -> Option<Snapshot> {
        let mut files = HashMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                if files.len() + stack.len() > MAX_ENTRIES {
                    return None;
                }
                let Ok(ft) = e.file_type() else { continue };
                let path = e.path();
                if ft.is_dir() {
                    if !SKIP_DIRS.iter().any(|s| e.file_name() == *s) {
                        stack.push(path);
                    }
                } else if let Ok(md) = e.metadata() {
                    files.insert(path, (md.len(), md.modified().ok()));
                }
            }
        }
        Some(Snapshot {
            root: root.to_path_buf(),
            files,
        })
    }

    /// What changed from `self` to `after`.
    pub fn diff(&self, after: &Snapshot) -> Vec<(PathBuf, ArtifactChange)> {
        let mut out = vec![];
        for (p, meta) in &after.files {
            match self.files.get(p) {
                None => out.push((p.clone(), ArtifactChange::Created)),
                Some(before) if before != meta => out.push((p.clone(), ArtifactChange::Modified)),
                _ => {}
            }
        }
        for p in self.files.keys() {
            if !after.files.contains_key(p) {
                out.push((p.clone(), ArtifactChange::Deleted));
            }
        }
        out
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Merges what the listing saw with what codex's fileChange items reported (the listing wins
/// inside the working directory; items cover files outside it), as artifacts relative to `wd`.
pub fn merge(
    wd: &Path,
    listed: Option<Vec<(PathBuf, ArtifactChange)>>,
    patched: &[(PathBuf, ArtifactChange)],
) -> Vec<Artifact> {
    let mut by_path: BTreeMap<PathBuf, ArtifactChange> = BTreeMap::new();
    let listed_ok = listed.is_some();
    for (p, c) in patched {
        let p = absolute(wd, p);
        if listed_ok && p.starts_with(wd) {
            continue;
        }
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
    for (p, c) in listed.into_iter().flatten() {
        by_path.insert(p, c);
    }
    by_path
        .into_iter()
        .map(|(p, change)| artifacts::artifact(&p, wd, change))
        .collect()
}

fn absolute(wd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        wd.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_sees_created_modified_deleted() {
        let d = tempfile::tempdir().unwrap();
        let wd = d.path().canonicalize().unwrap();
        std::fs::write(wd.join("keep"), "1").unwrap();
        std::fs::write(wd.join("change"), "1").unwrap();
        std::fs::write(wd.join("gone"), "1").unwrap();
        let before = Snapshot::take(&wd).unwrap();
        std::fs::write(wd.join("change"), "22").unwrap();
        std::fs::remove_file(wd.join("gone")).unwrap();
        std::fs::create_dir(wd.join("sub")).unwrap();
        std::fs::write(wd.join("sub/new"), "1").unwrap();
        let after = Snapshot::take(&wd).unwrap();
        let arts = merge(&wd, Some(before.diff(&after)), &[]);
        let got: Vec<_> = arts.iter().map(|a| (a.path.as_str(), a.change)).collect();
        assert_eq!(
            got,
            vec![
                ("change", ArtifactChange::Modified),
                ("gone", ArtifactChange::Deleted),
                ("sub/new", ArtifactChange::Created),
            ]
        );
    }
}
