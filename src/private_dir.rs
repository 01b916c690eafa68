//! Per-user private directories (mode 0700) for what the sidecar writes and then runs or trusts:
//! the Antigravity bridge script, runtime state, per-task temp dirs, recordings, probe cwds.
//!
//! Why: another local user must not be able to plant a file we then run (a `json.py` beside the
//! bridge, which Python would import as the victim) or read (a planted `AGENTS.md` in a probe's
//! cwd), nor point a symlink at a file we then overwrite. So a directory with a fixed name is
//! created with mode 0700 (`mkdir` never follows a symlink at the last component) and then opened
//! with `O_NOFOLLOW` and checked with `fstat`: it must be a directory owned by our uid with no
//! group/other bits. A directory of ours that only has group/other *read* bits (made by an earlier
//! version with the default umask) is tightened to 0700: nobody else could have written into it.
//! Anything else (another owner, group/other-writable, a symlink, not a directory) is refused with
//! an error that names the path and says why.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A directory that exists but is not private to us (planted, tampered, a symlink).
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Whether `e` is [`check`] refusing a directory (rather than, say, a read-only file system).
pub fn is_refusal(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Refused>())
}

/// Creates (if missing) and checks the private directory `dir`; its parents are created with the
/// default mode when missing (they belong to the user: `~/.cache`, a host-given directory).
pub fn ensure(dir: &Path) -> io::Result<()> {
    if let Some(parent) = dir.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    check(dir)
}

/// Creates each of `dirs` below the private `base` (itself ensured first) as private.
pub fn ensure_below(base: &Path, rel: &[&str]) -> io::Result<PathBuf> {
    ensure(base)?;
    let mut at = base.to_path_buf();
    for r in rel {
        at.push(r);
        ensure(&at)?;
    }
    Ok(at)
}

/// Checks that `dir` is a private directory of ours (see the module doc), tightening a
/// read-only-for-others one to 0700.
pub fn check(dir: &Path) -> io::Result<()> {
    let refuse = |why: String| {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            Refused(format!(
                "refusing to use {}: {why} (it must be a directory of uid {} with mode 0700)",
                dir.display(),
                nix::unistd::geteuid()
            )),
        )
    };
    if std::fs::symlink_metadata(dir)?.file_type().is_symlink() {
        return Err(refuse("it is a symbolic link".into()));
    }
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(dir);
    let file = match opened {
        Ok(f) => f,
        // A symlink swapped in since the lstat above: ELOOP (or ENOTDIR, with O_DIRECTORY).
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(refuse("it is a symbolic link".into()))
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
            return Err(refuse("it is not a directory".into()))
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    let ours = nix::unistd::geteuid().as_raw();
    if meta.uid() != ours {
        return Err(refuse(format!("it is owned by uid {}", meta.uid())));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(refuse(format!(
            "others can write into it (mode {mode:04o})"
        )));
    }
    if mode & 0o077 != 0 {
        // Ours and writable by nobody else: nothing can have been planted. fchmod on the
        // descriptor we checked, not on the path (which could have been swapped since).
        nix::sys::stat::fchmod(
            &file,
            nix::sys::stat::Mode::from_bits_truncate(mode & 0o700),
        )
        .map_err(io::Error::from)?;
    }
    Ok(())
}

/// The per-user private directory under the system temp dir, `<tmp>/agent-runtime-kit-<uid>`:
/// where state goes when there is no home (HOME unset) or it cannot be written.
pub fn user_temp_root() -> PathBuf {
    std::env::temp_dir().join(format!("agent-runtime-kit-{}", nix::unistd::geteuid()))
}

/// A fresh, uniquely named 0700 directory in the system temp dir, removed on drop (a task's
/// private TMPDIR, a probe's cwd). `mkdir` of a new random name cannot be pre-empted by a
/// planted symlink; a name that exists is retried by `tempfile`.
pub fn tempdir(prefix: &str) -> io::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(prefix)
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
}

/// Writes `bytes` to a new file `path` with mode 0600: never through a symlink
/// (`O_NOFOLLOW`), never over an existing file (`O_EXCL`).
pub fn create_new_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn a_new_dir_is_0700_and_a_readable_one_of_ours_is_tightened() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b");
        ensure(&d).unwrap();
        assert_eq!(mode(&d), 0o700);
        let loose = t.path().join("loose");
        std::fs::create_dir(&loose).unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure(&loose).unwrap();
        assert_eq!(mode(&loose), 0o700);
    }

    #[test]
    fn writable_by_others_a_symlink_or_a_file_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let open = t.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = ensure(&open).unwrap_err().to_string();
        assert!(e.contains("others can write into it (mode 0777)"), "{e}");
        assert_eq!(mode(&open), 0o777, "left as it was");

        let target = t.path().join("target");
        std::fs::create_dir(&target).unwrap();
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = ensure(&link).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");

        let file = t.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(ensure(&file)
            .unwrap_err()
            .to_string()
            .contains("not a directory"));
    }

    #[test]
    fn a_private_file_is_new_0600_and_never_through_a_symlink() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("f.json");
        create_new_private_file(&p, b"x").unwrap();
        assert_eq!(mode(&p), 0o600);
        assert!(create_new_private_file(&p, b"y").is_err(), "no overwrite");
        let victim = t.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = t.path().join("link.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(create_new_private_file(&link, b"z").is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }

    #[test]
    fn tempdirs_are_0700() {
        let d = tempdir("ark-test-").unwrap();
        assert_eq!(mode(d.path()), 0o700);
    }
}
