//! zip entries, under the same rules as tar. zip keeps its directory at the end, so this reads
//! the file with random access after the streaming hash pass.
use super::builder::{Builder, RawKind};
use super::rejection::{ArchiveRejection, ContentError};
use crate::limits::LimitExceeded;
use std::io::Read;
use std::path::Path;

fn corrupt(e: impl ToString) -> ContentError {
    ArchiveRejection::CorruptZip {
        detail: e.to_string(),
    }
    .into()
}

pub(crate) fn walk(path: &Path, builder: &mut Builder) -> Result<(), ContentError> {
    let file = std::fs::File::open(path).map_err(|source| ContentError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut zip = zip::ZipArchive::new(file).map_err(corrupt)?;
    LimitExceeded::check(
        "archive entries",
        builder.limits().archive_entries,
        zip.len() as u64,
    )
    .map_err(|l| ArchiveRejection::limit(None, l))?;
    let mut buf = vec![0u8; 256 << 10];
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(corrupt)?;
        let raw = f.name_raw().to_vec();
        let mode = f.unix_mode().unwrap_or(0o644);
        // zip (APPNOTE 4.4.15): the high 16 bits of the external attributes hold the unix mode
        // when made by unix; S_IFLNK there marks a symlink whose data is the target.
        let ftype = mode & 0o170000;
        if matches!(ftype, 0o020000 | 0o060000 | 0o010000 | 0o140000) {
            let kind = match ftype {
                0o020000 => "character device",
                0o060000 => "block device",
                0o140000 => "socket",
                _ => "fifo",
            };
            return Err(ArchiveRejection::DeviceOrFifo {
                path: String::from_utf8_lossy(&raw).into_owned(),
                kind,
            }
            .into());
        }
        if f.is_symlink() {
            let mut target = Vec::new();
            (&mut f)
                .take(builder.limits().path_bytes as u64 + 1)
                .read_to_end(&mut target)
                .map_err(corrupt)?;
            builder.add(&raw, RawKind::Symlink { target: &target }, mode)?;
        } else if f.is_dir() {
            builder.add(&raw, RawKind::Dir, mode)?;
        } else {
            let size = f.size();
            if let Some(mut sink) = builder.add(&raw, RawKind::File { size }, mode)? {
                // The declared size may lie (zip bombs); the sink counts what is really read
                // and stops at the limit.
                loop {
                    let n = match f.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) => return Err(corrupt(e)),
                    };
                    sink.update(&buf[..n])?;
                }
                builder.finish_file(sink)?;
            }
        }
    }
    Ok(())
}
