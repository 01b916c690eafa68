//! What every runtime does with a changed file's path before reporting it as an artifact.

use std::path::Path;

use crate::protocol::result::{Artifact, ArtifactChange};

/// `path` as the host sees it: relative to the working directory `wd` when under it, else as
/// given (a file in an additional directory, or elsewhere).
pub fn relative_path(path: &Path, wd: &Path) -> String {
    path.strip_prefix(wd)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

/// The artifact for a change to `path` (see [`relative_path`]).
pub fn artifact(path: &Path, wd: &Path, change: ArtifactChange) -> Artifact {
    Artifact {
        path: relative_path(path, wd),
        change,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_under_the_working_directory_are_relative_and_others_stay_as_given() {
        let wd = Path::new("/w/project");
        assert_eq!(
            relative_path(Path::new("/w/project/src/a.rs"), wd),
            "src/a.rs"
        );
        assert_eq!(
            relative_path(Path::new("/w/projectx/a.rs"), wd),
            "/w/projectx/a.rs"
        );
        assert_eq!(relative_path(Path::new("/tmp/b"), wd), "/tmp/b");
        let a = artifact(Path::new("/w/project/x"), wd, ArtifactChange::Created);
        assert_eq!((a.path.as_str(), a.change), ("x", ArtifactChange::Created));
    }
}
