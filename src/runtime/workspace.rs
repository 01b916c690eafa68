//! What a turn changed under the working directory, whatever changed it: a vendor's file tools say
//! what they wrote, but a shell command's effects are only visible on disk. The directory is
//! listed before the turn and after it (the core does this for every runtime that touches disk),
//! and the difference becomes `AgentResult.artifacts` and the `agent.file.changed` events no tool
//! reported.
//!
//! Bounded (documented in docs/protocol.md): at most [`MAX_ENTRIES`] files and directories are
//! listed (past that the listing is abandoned and only what the runtime's tools reported counts);
//! [`SKIP_DIRS`] are never entered; file contents are kept for diffs only for text files of at
//! most [`DIFF_FILE_BYTES`], and at most [`KEEP_TOTAL_BYTES`] in all per listing.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::protocol::event::{FileChange, FileChanged};
use crate::protocol::result::{Artifact, ArtifactChange};
use crate::runtime::artifacts;

/// Files and directories listed before the listing is abandoned.
pub const MAX_ENTRIES: usize = 20_000;
/// Never entered: version-control internals change on every command, and dependency and build
/// directories are large and regenerated (their changes are noise to a host).
pub const SKIP_DIRS: &[&str] = &[".git", ".hg", ".svn", "node_modules", "target"];
/// Larger files are reported without a diff.
pub const DIFF_FILE_BYTES: u64 = 128 * 1024;
/// File content kept (before the turn) or read (after it) for diffs, per listing.
pub const KEEP_TOTAL_BYTES: u64 = 8 * 1024 * 1024;
/// A diff that takes longer is cut to what it found (`similar`'s deadline).
const DIFF_DEADLINE: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    size: u64,
    modified: Option<SystemTime>,
    /// A regular file (not a symlink, FIFO, socket or device): only these are read.
    regular: bool,
    /// The text, for a small text file read while the budget lasted.
    text: Option<Arc<str>>,
}

/// Size, modification time (and, for small text files, content) of every file under a directory.
#[derive(Debug, Clone)]
pub struct Snapshot {
    root: PathBuf,
    files: HashMap<PathBuf, Entry>,
}

/// One change the listing saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub path: PathBuf,
    pub change: ArtifactChange,
    /// A unified diff, for text files within the limits.
    pub diff: Option<String>,
}

impl Snapshot {
    /// Lists `root`, keeping small text files' content; `None` when it is too big to list.
    pub fn take(root: &Path) -> Option<Snapshot> {
        // Listed first, read after: a directory too big to list costs no reading.
        let mut snap = Self::list(root)?;
        let mut budget = KEEP_TOTAL_BYTES;
        for (path, entry) in snap.files.iter_mut() {
            if entry.regular {
                entry.text = read_text(path, entry.size, &mut budget);
            }
        }
        Some(snap)
    }

    fn list(root: &Path) -> Option<Snapshot> {
        let mut files = HashMap::new();
        let mut seen = 0usize;
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                seen += 1;
                if seen > MAX_ENTRIES {
                    return None;
                }
                // Not following symlinks: a link is listed as itself, never walked through.
                let Ok(ft) = e.file_type() else { continue };
                let path = e.path();
                if ft.is_dir() {
                    if !SKIP_DIRS.iter().any(|s| e.file_name() == *s) {
                        stack.push(path);
                    }
                    continue;
                }
                let Ok(md) = e.metadata() else { continue };
                files.insert(
                    path,
                    Entry {
                        size: md.len(),
                        modified: md.modified().ok(),
                        regular: ft.is_file(),
                        text: None,
                    },
                );
            }
        }
        Some(Snapshot {
            root: root.to_path_buf(),
            files,
        })
    }

    /// Lists the directory again and says what changed since `self`, with diffs where the
    /// limits allow. `None` when the directory has grown too big to list.
    pub fn changes(&self) -> Option<Vec<Change>> {
        let after = Self::list(&self.root)?;
        let mut budget = KEEP_TOTAL_BYTES;
        let mut out = vec![];
        for (p, now) in &after.files {
            let before = self.files.get(p);
            if before.is_some_and(|b| b.size == now.size && b.modified == now.modified) {
                continue;
            }
            let text = if now.regular {
                read_text(p, now.size, &mut budget)
            } else {
                None
            };
            let change = match before {
                None => ArtifactChange::Created,
                // Rewritten with the same bytes (a `touch`, a formatter that changed nothing).
                Some(b) if b.text.is_some() && b.text == text => continue,
                Some(_) => ArtifactChange::Modified,
            };
            let old = before.and_then(|b| b.text.clone());
            let diff = match (change, &old, &text) {
                (ArtifactChange::Created, _, Some(new)) => Some(unified(p, self, "", new)),
                (_, Some(old), Some(new)) => Some(unified(p, self, old, new)),
                _ => None,
            };
            out.push(Change {
                path: p.clone(),
                change,
                diff,
            });
        }
        for (p, before) in &self.files {
            if !after.files.contains_key(p) {
                out.push(Change {
                    path: p.clone(),
                    change: ArtifactChange::Deleted,
                    diff: before.text.as_ref().map(|old| unified(p, self, old, "")),
                });
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Some(out)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the listing covers `path` (under the root, outside every skipped directory).
    pub fn covers(&self, path: &Path) -> bool {
        path.strip_prefix(&self.root).is_ok_and(|rel| {
            !rel.components()
                .any(|c| SKIP_DIRS.iter().any(|s| c.as_os_str() == *s))
        })
    }
}

/// The content of a regular file of at most [`DIFF_FILE_BYTES`] if it is text and the budget
/// allows (the budget is spent either way, so binary files cannot make the walk unbounded).
fn read_text(path: &Path, size: u64, budget: &mut u64) -> Option<Arc<str>> {
    use std::os::unix::fs::OpenOptionsExt;
    if size > DIFF_FILE_BYTES || size > *budget {
        return None;
    }
    *budget -= size;
    // Non-blocking: the entry was a regular file when listed, but may have been replaced.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::with_capacity(size as usize);
    f.take(DIFF_FILE_BYTES + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > DIFF_FILE_BYTES || bytes.contains(&0) {
        return None;
    }
    String::from_utf8(bytes).ok().map(Arc::from)
}

fn unified(path: &Path, snap: &Snapshot, old: &str, new: &str) -> String {
    let shown = artifacts::relative_path(path, &snap.root);
    let diff = similar::TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new);
    let (a, b) = (
        if old.is_empty() {
            "/dev/null".to_string()
        } else {
            format!("a/{shown}")
        },
        if new.is_empty() {
            "/dev/null".to_string()
        } else {
            format!("b/{shown}")
        },
    );
    diff.unified_diff().header(&a, &b).to_string()
}

/// The turn's artifacts: the listing's changes where it looked, and what the runtime's tools
/// reported (`reported`, relative to `wd` or absolute) where it did not (outside the working
/// directory, inside a skipped directory, or everywhere when there is no listing).
pub fn merge(
    wd: &Path,
    snapshot: Option<&Snapshot>,
    listed: Option<&[Change]>,
    reported: Vec<Artifact>,
) -> Vec<Artifact> {
    let mut by_path: BTreeMap<PathBuf, ArtifactChange> = BTreeMap::new();
    for a in reported {
        let p = wd.join(&a.path);
        let listed_here = listed.is_some() && snapshot.is_some_and(|s| s.covers(&p));
        if !listed_here {
            by_path.insert(p, a.change);
        }
    }
    for c in listed.into_iter().flatten() {
        by_path.insert(c.path.clone(), c.change);
    }
    by_path
        .into_iter()
        .map(|(p, change)| artifacts::artifact(&p, wd, change))
        .collect()
}

/// The event for a change the listing saw.
pub fn event(wd: &Path, c: &Change) -> FileChanged {
    FileChanged {
        path: artifacts::relative_path(&c.path, wd),
        change: match c.change {
            ArtifactChange::Created => FileChange::Added,
            ArtifactChange::Modified => FileChange::Modified,
            ArtifactChange::Deleted => FileChange::Deleted,
        },
        diff: c.diff.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_sees_created_modified_deleted_with_diffs() {
        let d = tempfile::tempdir().unwrap();
        let wd = d.path().canonicalize().unwrap();
        std::fs::write(wd.join("keep"), "1\n").unwrap();
        std::fs::write(wd.join("change"), "one\ntwo\n").unwrap();
        std::fs::write(wd.join("gone"), "bye\n").unwrap();
        std::fs::write(wd.join("same"), "x\n").unwrap();
        std::fs::create_dir(wd.join("node_modules")).unwrap();
        let before = Snapshot::take(&wd).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(wd.join("change"), "one\nTWO\n").unwrap();
        std::fs::write(wd.join("same"), "x\n").unwrap();
        std::fs::remove_file(wd.join("gone")).unwrap();
        std::fs::create_dir(wd.join("sub")).unwrap();
        std::fs::write(wd.join("sub/new"), "hi\n").unwrap();
        std::fs::write(wd.join("node_modules/dep.js"), "x").unwrap();
        let changes = before.changes().unwrap();
        let got: Vec<_> = changes
            .iter()
            .map(|c| (artifacts::relative_path(&c.path, &wd), c.change))
            .collect();
        assert_eq!(
            got,
            vec![
                ("change".to_string(), ArtifactChange::Modified),
                ("gone".to_string(), ArtifactChange::Deleted),
                ("sub/new".to_string(), ArtifactChange::Created),
            ]
        );
        let diff = changes[0].diff.as_deref().unwrap();
        assert!(
            diff.starts_with("--- a/change\n+++ b/change\n") && diff.contains("-two\n+TWO\n"),
            "{diff}"
        );
        assert!(changes[1].diff.as_deref().unwrap().contains("-bye"));
        assert!(changes[2]
            .diff
            .as_deref()
            .unwrap()
            .starts_with("--- /dev/null\n+++ b/sub/new\n"));
        let e = event(&wd, &changes[2]);
        assert_eq!((e.path.as_str(), e.change), ("sub/new", FileChange::Added));
    }

    #[test]
    fn tool_reports_count_only_where_the_listing_did_not_look() {
        let d = tempfile::tempdir().unwrap();
        let wd = d.path().canonicalize().unwrap();
        let snap = Snapshot::take(&wd).unwrap();
        let listed = vec![Change {
            path: wd.join("a"),
            change: ArtifactChange::Created,
            diff: None,
        }];
        let reported = vec![
            // Created by a tool then removed by a shell command: the listing knows better.
            artifacts::artifact(&wd.join("b"), &wd, ArtifactChange::Created),
            artifacts::artifact(&wd.join("target/x"), &wd, ArtifactChange::Modified),
            artifacts::artifact(Path::new("/elsewhere/y"), &wd, ArtifactChange::Modified),
        ];
        let got: Vec<_> = merge(&wd, Some(&snap), Some(&listed), reported.clone())
            .into_iter()
            .map(|a| (a.path, a.change))
            .collect();
        assert_eq!(
            got,
            vec![
                ("/elsewhere/y".into(), ArtifactChange::Modified),
                ("a".into(), ArtifactChange::Created),
                ("target/x".into(), ArtifactChange::Modified),
            ]
        );
        // Without a listing, the tools' word is all there is.
        assert_eq!(merge(&wd, None, None, reported).len(), 3);
    }

    #[test]
    fn too_many_entries_abandon_the_listing() {
        let d = tempfile::tempdir().unwrap();
        for i in 0..=MAX_ENTRIES {
            std::fs::File::create(d.path().join(i.to_string())).unwrap();
        }
        assert!(Snapshot::take(d.path()).is_none());
    }
}
