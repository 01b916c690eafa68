//! `task.attachments`, read once at admission so a bad one refuses the run before anything starts
//! (-32602 with `data.path` = `task.attachments[i].path` or `.data`), and handed to the runtime
//! already checked: what the runtime sends is exactly the bytes that were checked.
//!
//! Limits (documented in docs/protocol.md): an image is at most [`MAX_IMAGE_BYTES`] and must be
//! PNG, JPEG, GIF or WebP (its magic bytes are checked, and must agree with `mediaType` when
//! given); a file is at most [`MAX_FILE_BYTES`] of UTF-8 text; all attachments of a task together
//! at most [`MAX_TOTAL_BYTES`]. A path is relative to the working directory and must name a
//! regular file (a FIFO or device is refused without blocking on it).

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;

use crate::core::Refusal;
use crate::protocol::task::{AgentTask, Attachment, AttachmentKind};

/// Claude's and OpenAI's APIs both refuse larger images; base64 adds a third on the wire.
pub const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
/// A text file goes into the prompt whole; past this it belongs in the workspace instead.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// All attachments of one task together.
pub const MAX_TOTAL_BYTES: u64 = 50 * 1024 * 1024;

/// One attachment, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    Image {
        /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
        media_type: &'static str,
        /// Standard base64, as the vendors take it.
        base64: String,
        /// The path as the host gave it, when the image came from a file.
        name: Option<String>,
    },
    File {
        /// The path as the host gave it.
        name: String,
        text: String,
    },
}

impl Loaded {
    pub fn type_name(&self) -> &'static str {
        match self {
            Loaded::Image { .. } => "image",
            Loaded::File { .. } => "file",
        }
    }

    /// `data:<media type>;base64,<data>` for an image (what codex's `image` input takes).
    pub fn data_url(&self) -> Option<String> {
        match self {
            Loaded::Image {
                media_type, base64, ..
            } => Some(format!("data:{media_type};base64,{base64}")),
            Loaded::File { .. } => None,
        }
    }

    /// A file as the text vendors put beside the goal: its path, then its content, fenced so the
    /// model can tell where it ends.
    pub fn file_text(&self) -> Option<String> {
        match self {
            Loaded::File { name, text } => Some(format!(
                "Attached file `{name}`:\n<file path=\"{name}\">\n{text}\n</file>"
            )),
            Loaded::Image { .. } => None,
        }
    }
}

/// The task's attachments, in order, each read and checked (empty when it has none).
pub fn load(task: &AgentTask, wd: &Path) -> Result<Arc<[Loaded]>, Refusal> {
    let mut out = Vec::new();
    let mut total = 0u64;
    for (i, a) in task.attachments.iter().flatten().enumerate() {
        let loaded = load_one(i, a, wd)?;
        total += match &loaded {
            Loaded::Image { base64, .. } => base64.len() as u64 * 3 / 4,
            Loaded::File { text, .. } => text.len() as u64,
        };
        if total > MAX_TOTAL_BYTES {
            return Err(Refusal::invalid(
                format!("task.attachments[{i}]"),
                format!("the attachments exceed {MAX_TOTAL_BYTES} bytes together"),
            ));
        }
        out.push(loaded);
    }
    Ok(out.into())
}

fn load_one(i: usize, a: &Attachment, wd: &Path) -> Result<Loaded, Refusal> {
    match (a.kind, &a.path, &a.data) {
        (AttachmentKind::Image, None, Some(data)) => {
            let field = format!("task.attachments[{i}].data");
            // Line breaks are allowed (`base64` wraps at 76 columns by default).
            let compact: String = data.split_ascii_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|e| Refusal::invalid(&field, format!("not standard base64: {e}")))?;
            if bytes.len() as u64 > MAX_IMAGE_BYTES {
                return Err(Refusal::invalid(
                    &field,
                    format!("the image is over {MAX_IMAGE_BYTES} bytes"),
                ));
            }
            let media_type = media_type(&field, &bytes, a.media_type.as_deref())?;
            Ok(Loaded::Image {
                media_type,
                // Re-encoded: whitespace or line breaks in the host's base64 never reach a vendor.
                base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
                name: None,
            })
        }
        (AttachmentKind::Image, Some(path), None) => {
            let field = format!("task.attachments[{i}].path");
            let bytes = read_regular(&field, &wd.join(path), MAX_IMAGE_BYTES)?;
            let media_type = media_type(&field, &bytes, a.media_type.as_deref())?;
            Ok(Loaded::Image {
                media_type,
                base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
                name: Some(path.clone()),
            })
        }
        (AttachmentKind::File, Some(path), None) => {
            let field = format!("task.attachments[{i}].path");
            let bytes = read_regular(&field, &wd.join(path), MAX_FILE_BYTES)?;
            let text = String::from_utf8(bytes).map_err(|_| {
                Refusal::invalid(
                    &field,
                    format!("{path:?} is not UTF-8 text (send images as type \"image\")"),
                )
            })?;
            Ok(Loaded::File {
                name: path.clone(),
                text,
            })
        }
        // The shape is checked before (core::validate); kept total here.
        _ => Err(Refusal::invalid(
            format!("task.attachments[{i}]"),
            "needs exactly one of `path` or `data` (files: `path`)",
        )),
    }
}

/// Reads `path` if it is a regular file of at most `cap` bytes. Opened non-blocking and checked
/// with fstat on the open descriptor, so a FIFO never blocks admission and a file swapped after
/// the check is not the one read.
fn read_regular(field: &str, path: &Path, cap: u64) -> Result<Vec<u8>, Refusal> {
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| Refusal::invalid(field, format!("cannot open {shown}: {}", plain(&e))))?;
    let md = file
        .metadata()
        .map_err(|e| Refusal::invalid(field, format!("cannot stat {shown}: {}", plain(&e))))?;
    if !md.file_type().is_file() {
        return Err(Refusal::invalid(
            field,
            format!("{shown} is not a regular file"),
        ));
    }
    if md.len() > cap {
        return Err(Refusal::invalid(
            field,
            format!("{shown} is {} bytes, over the limit of {cap}", md.len()),
        ));
    }
    let mut bytes = Vec::with_capacity(md.len() as usize);
    // One byte past the cap: a file that grew since the stat is refused, not cut short.
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Refusal::invalid(field, format!("cannot read {shown}: {}", plain(&e))))?;
    if bytes.len() as u64 > cap {
        return Err(Refusal::invalid(
            field,
            format!("{shown} is over the limit of {cap} bytes"),
        ));
    }
    Ok(bytes)
}

/// An io error without the "(os error N)" suffix.
fn plain(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// The image's media type, from its magic bytes; a declared `mediaType` must agree.
fn media_type(field: &str, bytes: &[u8], declared: Option<&str>) -> Result<&'static str, Refusal> {
    let sniffed = sniff(bytes).ok_or_else(|| {
        Refusal::invalid(field, "not a PNG, JPEG, GIF or WebP image (by its content)")
    })?;
    match declared {
        Some(d) if !d.eq_ignore_ascii_case(sniffed) => Err(Refusal::invalid(
            field,
            format!("mediaType is {d:?} but the content is {sniffed}"),
        )),
        _ => Ok(sniffed),
    }
}

fn sniff(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if b.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn task(a: Vec<Attachment>) -> AgentTask {
        AgentTask {
            attachments: Some(a),
            ..Default::default()
        }
    }

    fn image_path(p: &str) -> Attachment {
        Attachment {
            kind: AttachmentKind::Image,
            path: Some(p.into()),
            data: None,
            media_type: None,
        }
    }

    fn field(r: Result<Arc<[Loaded]>, Refusal>) -> (String, String) {
        match r {
            Err(Refusal::Invalid { field, reason }) => (field, reason),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn images_from_files_and_data_are_sniffed_and_reencoded() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.png"), PNG).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(b"GIF89a....");
        let got = load(
            &task(vec![
                image_path("a.png"),
                Attachment {
                    kind: AttachmentKind::Image,
                    path: None,
                    data: Some(format!("{}\n{}", &b64[..4], &b64[4..])),
                    media_type: Some("image/gif".into()),
                },
            ]),
            d.path(),
        )
        .unwrap();
        assert_eq!(got[0].type_name(), "image");
        assert!(got[0]
            .data_url()
            .unwrap()
            .starts_with("data:image/png;base64,iVBORw0KGgo"));
        assert_eq!(
            got[1],
            Loaded::Image {
                media_type: "image/gif",
                base64: b64,
                name: None
            }
        );
    }

    #[test]
    fn a_missing_file_a_fifo_and_a_lie_are_refused_with_the_field() {
        let d = tempfile::tempdir().unwrap();
        let (f, reason) = field(load(&task(vec![image_path("nope.png")]), d.path()));
        assert_eq!(f, "task.attachments[0].path");
        assert!(reason.contains("no such file"), "{reason}");

        let fifo = d.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let (f, reason) = field(load(
            &task(vec![
                Attachment {
                    kind: AttachmentKind::File,
                    path: Some("x".into()),
                    data: None,
                    media_type: None,
                },
                image_path("fifo"),
            ]),
            d.path(),
        ));
        // The first (missing) one is named first.
        assert_eq!(f, "task.attachments[0].path", "{reason}");
        std::fs::write(d.path().join("x"), "text").unwrap();
        let (f, reason) = field(load(
            &task(vec![
                Attachment {
                    kind: AttachmentKind::File,
                    path: Some("x".into()),
                    data: None,
                    media_type: None,
                },
                image_path("fifo"),
            ]),
            d.path(),
        ));
        assert_eq!(f, "task.attachments[1].path");
        assert!(reason.contains("not a regular file"), "{reason}");

        std::fs::write(d.path().join("fake.png"), b"hello").unwrap();
        let (_, reason) = field(load(&task(vec![image_path("fake.png")]), d.path()));
        assert!(reason.contains("not a PNG"), "{reason}");

        std::fs::write(d.path().join("a.png"), PNG).unwrap();
        let mut lie = image_path("a.png");
        lie.media_type = Some("image/jpeg".into());
        let (_, reason) = field(load(&task(vec![lie]), d.path()));
        assert!(reason.contains("content is image/png"), "{reason}");
    }

    #[test]
    fn files_must_be_text_and_are_fenced_with_their_name() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("notes.md"), "hello").unwrap();
        std::fs::write(d.path().join("bin"), [0xffu8, 0xfe, 0]).unwrap();
        let file = |p: &str| Attachment {
            kind: AttachmentKind::File,
            path: Some(p.into()),
            data: None,
            media_type: None,
        };
        let got = load(&task(vec![file("notes.md")]), d.path()).unwrap();
        let text = got[0].file_text().unwrap();
        assert!(
            text.contains("<file path=\"notes.md\">\nhello\n</file>"),
            "{text}"
        );
        let (_, reason) = field(load(&task(vec![file("bin")]), d.path()));
        assert!(reason.contains("not UTF-8"), "{reason}");
    }
}
