//! What codex's fileChange items say it patched, as artifacts. A shell command's effects are only
//! visible on disk: the core lists the working directory around every turn (`runtime::workspace`)
//! and adds those, so here only the items count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::protocol::result::{Artifact, ArtifactChange};
use crate::runtime::artifacts;

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
