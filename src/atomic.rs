//! Crash-safe file writes: a temporary file in the same directory, fsync, rename, fsync of the
//! directory. A reader sees the old file or the new one, never half of one; a crash at any point
//! leaves the old state valid. Also an exclusive lock for read-modify-write cycles.
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Write what `fill` writes into a fresh temporary file beside `path`, fsync it, rename it over
/// `path`, fsync the directory. The temporary file is removed if anything fails.
fn replace_with(path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    let dir = parent(path);
    fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(&dir)?;
    fill(tmp.as_file_mut())?;
    persist(tmp, path)
}

/// fsync a temporary file written in `path`'s directory, rename it over `path`, fsync the
/// directory. For writers that stream into the temporary file themselves (the fetch cache).
pub fn persist(mut tmp: tempfile::NamedTempFile, path: &Path) -> io::Result<()> {
    tmp.flush()?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // Persist the rename itself (POSIX: the entry lives in the directory). Not every platform
    // can fsync a directory; the rename has happened either way.
    if let Ok(d) = File::open(parent(path)) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Write `bytes` to `path` atomically (creating parent directories).
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_with(path, |f| f.write_all(bytes))
}

/// Copy `src` to `dst` atomically (creating parent directories).
pub fn copy(src: &Path, dst: &Path) -> io::Result<()> {
    let mut from = File::open(src)?;
    replace_with(dst, |f| io::copy(&mut from, f).map(|_| ()))
}

/// An exclusive advisory lock on a file, released on drop.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Block until the lock on `path` is held (the file is created if needed).
    pub fn acquire(path: &Path) -> io::Result<Lock> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        file.lock()?;
        Ok(Lock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn write_replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a/b.json");
        super::write(&p, b"one").expect("write");
        super::write(&p, b"two").expect("write");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a"))
            .expect("ls")
            .filter_map(|e| e.ok())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }
}
