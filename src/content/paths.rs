//! Path rules for archive entries. An entry path is checked once, as raw bytes, and becomes a
//! normalized [`String`] (forward slashes, no leading `./`, no trailing `/`).
use super::rejection::ArchiveRejection;
use crate::limits::{LimitExceeded, Limits};

fn shown(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).escape_debug().to_string()
}

/// Check an entry path and normalize it. `Ok(None)` is the archive root itself (`./`).
pub(crate) fn normalize(raw: &[u8], limits: &Limits) -> Result<Option<String>, ArchiveRejection> {
    LimitExceeded::check("path length", limits.path_bytes as u64, raw.len() as u64)
        .map_err(|l| ArchiveRejection::limit(Some(&shown(raw)), l))?;
    if let Some(&byte) = raw.iter().find(|b| **b < 0x20 || **b == 0x7f) {
        return Err(ArchiveRejection::ControlCharacter {
            path: shown(raw),
            byte,
        });
    }
    let text =
        std::str::from_utf8(raw).map_err(|_| ArchiveRejection::NonUtf8Path { path: shown(raw) })?;
    if text.contains('\\') {
        return Err(ArchiveRejection::Backslash {
            path: text.to_string(),
        });
    }
    // POSIX: "A pathname that begins with a slash is an absolute pathname."
    if text.starts_with('/') {
        return Err(ArchiveRejection::AbsolutePath {
            path: text.to_string(),
        });
    }
    let b = text.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Err(ArchiveRejection::DriveLetter {
            path: text.to_string(),
        });
    }
    let mut parts = Vec::new();
    for comp in text.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                return Err(ArchiveRejection::ParentComponent {
                    path: text.to_string(),
                });
            }
            c => parts.push(c),
        }
    }
    LimitExceeded::check("path depth", limits.path_depth as u64, parts.len() as u64)
        .map_err(|l| ArchiveRejection::limit(Some(text), l))?;
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(parts.join("/")))
}

/// Check a symlink at `path` (normalized) pointing at `target` (raw): the target must be
/// relative and, resolved against the link's directory, stay inside the archive root.
pub(crate) fn check_symlink(path: &str, target: &[u8]) -> Result<String, ArchiveRejection> {
    let shown_target = shown(target);
    if target.is_empty() {
        return Err(ArchiveRejection::LinkEscapes {
            path: path.to_string(),
            target: shown_target,
        });
    }
    if target.starts_with(b"/")
        || target.contains(&b'\\')
        || (target.len() >= 2 && target[0].is_ascii_alphabetic() && target[1] == b':')
    {
        return Err(ArchiveRejection::AbsoluteLink {
            path: path.to_string(),
            target: shown_target,
        });
    }
    let text = std::str::from_utf8(target).map_err(|_| ArchiveRejection::NonUtf8Path {
        path: format!("{path} -> {shown_target}"),
    })?;
    if let Some(&byte) = target.iter().find(|b| **b < 0x20 || **b == 0x7f) {
        return Err(ArchiveRejection::ControlCharacter {
            path: format!("{path} -> {shown_target}"),
            byte,
        });
    }
    // Resolve lexically against the link's parent directory.
    let mut stack: Vec<&str> = path.split('/').collect();
    stack.pop();
    for comp in text.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if stack.pop().is_none() {
                    return Err(ArchiveRejection::LinkEscapes {
                        path: path.to_string(),
                        target: text.to_string(),
                    });
                }
            }
            c => stack.push(c),
        }
    }
    Ok(text.to_string())
}

/// Check a hardlink target (tar: relative to the archive root, like an entry name).
pub(crate) fn check_hardlink(
    path: &str,
    target: &[u8],
    limits: &Limits,
) -> Result<String, ArchiveRejection> {
    match normalize(target, limits) {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(ArchiveRejection::HardlinkTarget {
            path: path.to_string(),
            target: shown(target),
        }),
        Err(
            ArchiveRejection::ParentComponent { .. }
            | ArchiveRejection::AbsolutePath { .. }
            | ArchiveRejection::DriveLetter { .. }
            | ArchiveRejection::Backslash { .. },
        ) => Err(ArchiveRejection::LinkEscapes {
            path: path.to_string(),
            target: shown(target),
        }),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_rejects() {
        let l = Limits::default();
        assert_eq!(
            normalize(b"./package/a.js", &l),
            Ok(Some("package/a.js".into()))
        );
        assert_eq!(
            normalize(b"package/dir/", &l),
            Ok(Some("package/dir".into()))
        );
        assert_eq!(normalize(b"./", &l), Ok(None));
        assert!(matches!(
            normalize(b"a/../b", &l),
            Err(ArchiveRejection::ParentComponent { .. })
        ));
        assert!(matches!(
            normalize(b"/etc/passwd", &l),
            Err(ArchiveRejection::AbsolutePath { .. })
        ));
        assert!(matches!(
            normalize(b"a\\b", &l),
            Err(ArchiveRejection::Backslash { .. })
        ));
        assert!(matches!(
            normalize(b"C:x", &l),
            Err(ArchiveRejection::DriveLetter { .. })
        ));
        assert!(matches!(
            normalize(b"a\nb", &l),
            Err(ArchiveRejection::ControlCharacter { byte: b'\n', .. })
        ));
        assert!(matches!(
            normalize(b"a\xffb", &l),
            Err(ArchiveRejection::NonUtf8Path { .. })
        ));
    }

    #[test]
    fn symlinks_stay_inside() {
        assert!(check_symlink("package/bin/x", b"../lib/x.js").is_ok());
        assert!(matches!(
            check_symlink("package/x", b"../../etc"),
            Err(ArchiveRejection::LinkEscapes { .. })
        ));
        assert!(matches!(
            check_symlink("package/x", b"/etc/passwd"),
            Err(ArchiveRejection::AbsoluteLink { .. })
        ));
    }
}
