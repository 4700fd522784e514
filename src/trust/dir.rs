//! The trust directory (`--trust-dir`): the trust material `vetted trust-root update` installed
//! from a TUF repository. This module owns its on-disk format (`docs/trust-roots.md`):
//!
//! ```text
//! DIR/state.json                              the commit point (format vetted/trust-dir/v1)
//! DIR/targets/<sha256>.trusted_root.json      the Sigstore trusted root target
//! DIR/targets/<sha256>.npm-registry-keys.json the npm registry keys target (when published)
//! DIR/tuf/<generation>/                       TUF client state for the next update (trusted
//!                                             root, timestamp and snapshot: rollback checks)
//! DIR/.lock                                   held while an update runs
//! ```
//!
//! An update writes new files beside the old ones and then replaces `state.json` atomically:
//! a reader sees the old state or the new one, never a mixture. Files are named by content and
//! re-hashed against `state.json` when loaded.
use crate::digest::sha256;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The format string of `state.json`.
pub const STATE_FORMAT: &str = "vetted/trust-dir/v1";

/// Age past which a trust root is reported as stale, unless configured otherwise.
pub const DEFAULT_MAX_AGE_DAYS: u64 = 90;

/// One TUF role's metadata as it was verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleState {
    /// `root`, `timestamp`, `snapshot`, `targets` or a delegated role's name.
    pub role: String,
    /// The metadata version.
    pub version: u64,
    /// When the metadata expires.
    pub expires: Timestamp,
}

/// A target file installed in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstalledFile {
    /// The TUF target name (`trusted_root.json`, `registry.npmjs.org/keys.json`).
    pub target: String,
    /// Path relative to the trust directory.
    pub file: String,
    /// sha256 of the bytes (hex), as the targets metadata listed it.
    pub sha256: String,
    /// Length in bytes.
    pub length: u64,
}

/// `state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustDirState {
    /// Always [`STATE_FORMAT`].
    pub format: String,
    /// The repository it was updated from (a directory or a URL).
    pub source: String,
    /// When the update ran (the clock).
    pub updated_at: Timestamp,
    /// The time metadata expiry was checked against: `updated_at`, or the `--insecure-as-of`
    /// time of a replayed recording.
    pub checked_as_of: Timestamp,
    /// Whether `--insecure-as-of` was used.
    pub insecure_as_of: bool,
    /// The verified metadata: root, timestamp, snapshot, targets, delegated roles.
    pub metadata: Vec<RoleState>,
    /// The Sigstore trusted root.
    pub trusted_root: InstalledFile,
    /// The npm registry keys, if the repository publishes them.
    pub npm_keys: Option<InstalledFile>,
    /// The TUF client state directory, relative to the trust directory.
    pub tuf_state: String,
}

/// Why a trust directory could not be used. Any of these fails closed: the run stops rather
/// than fall back to other roots.
#[derive(Debug, thiserror::Error)]
pub enum TrustDirError {
    /// A file could not be read.
    #[error("trust directory {dir}: cannot read {file}: {source}")]
    Read {
        /// The directory.
        dir: String,
        /// The file.
        file: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// `state.json` or a file it names is not what it should be.
    #[error("trust directory {dir}: {message}")]
    Invalid {
        /// The directory.
        dir: String,
        /// What is wrong, expected and actual.
        message: String,
    },
}

/// A loaded trust directory: its state and the bytes of the files it names (hashes checked).
#[derive(Debug, Clone)]
pub struct TrustDir {
    /// Where it is.
    pub path: PathBuf,
    /// Its state.
    pub state: TrustDirState,
    /// The trusted root's bytes.
    pub trusted_root: String,
    /// The npm keys target's bytes, if installed.
    pub npm_keys: Option<String>,
}

impl TrustDirState {
    /// The state of one role, if recorded.
    pub fn role(&self, role: &str) -> Option<&RoleState> {
        self.metadata.iter().find(|r| r.role == role)
    }
}

fn invalid(dir: &Path, message: impl Into<String>) -> TrustDirError {
    TrustDirError::Invalid {
        dir: dir.display().to_string(),
        message: message.into(),
    }
}

/// A path inside the directory named by `state.json`: relative, no `..`, no root.
fn inside(dir: &Path, rel: &str) -> Result<PathBuf, TrustDirError> {
    let p = Path::new(rel);
    let ok = !rel.is_empty()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !ok {
        return Err(invalid(
            dir,
            format!("state.json names {rel:?}, expected a relative path inside the directory"),
        ));
    }
    Ok(dir.join(p))
}

impl TrustDir {
    /// The state file's path.
    pub fn state_path(dir: &Path) -> PathBuf {
        dir.join("state.json")
    }

    /// Read just `state.json`, if the directory has one.
    pub fn read_state(dir: &Path) -> Result<Option<TrustDirState>, TrustDirError> {
        let path = Self::state_path(dir);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(TrustDirError::Read {
                    dir: dir.display().to_string(),
                    file: "state.json".into(),
                    source,
                });
            }
        };
        let state: TrustDirState =
            serde_json::from_slice(&bytes).map_err(|e| invalid(dir, format!("state.json: {e}")))?;
        if state.format != STATE_FORMAT {
            return Err(invalid(
                dir,
                format!(
                    "state.json format: expected {STATE_FORMAT}, got {:?}",
                    state.format
                ),
            ));
        }
        Ok(Some(state))
    }

    /// Load the directory: `Ok(None)` when it has never been updated (no `state.json`).
    pub fn open(dir: &Path) -> Result<Option<TrustDir>, TrustDirError> {
        let Some(state) = Self::read_state(dir)? else {
            return Ok(None);
        };
        let trusted_root = read_installed(dir, &state.trusted_root)?;
        let npm_keys = match &state.npm_keys {
            Some(f) => Some(read_installed(dir, f)?),
            None => None,
        };
        Ok(Some(TrustDir {
            path: dir.to_path_buf(),
            state,
            trusted_root,
            npm_keys,
        }))
    }

    /// The directory of the TUF client state named by `state`.
    pub fn tuf_state_dir(dir: &Path, state: &TrustDirState) -> Result<PathBuf, TrustDirError> {
        inside(dir, &state.tuf_state)
    }

    /// Warnings for this directory at `now`: an installed root older than `max_age_days`, and
    /// each recorded TUF metadata file that has expired since (the timestamp first of all,
    /// which Sigstore re-signs weekly: an expired one means no update has been seen since).
    pub fn warnings(&self, now: Timestamp, max_age_days: u64) -> Vec<String> {
        let mut out = Vec::new();
        let dir = self.path.display();
        if let Some(days) = age_days(self.state.updated_at, now)
            && days > max_age_days
        {
            out.push(format!(
                "trust root in {dir} is {days} days old (updated {}, limit {max_age_days} days): run `vetted trust-root update`",
                self.state.updated_at
            ));
        }
        for role in &self.state.metadata {
            if role.expires <= now {
                out.push(format!(
                    "TUF {} metadata (version {}) in {dir} expired at {}: the trust root may be stale, run `vetted trust-root update`",
                    role.role, role.version, role.expires
                ));
            }
        }
        out
    }
}

/// Whole days from `from` to `now` (None if `from` is in the future).
pub fn age_days(from: Timestamp, now: Timestamp) -> Option<u64> {
    let secs = now.as_second().checked_sub(from.as_second())?;
    u64::try_from(secs).ok().map(|s| s / 86_400)
}

fn read_installed(dir: &Path, f: &InstalledFile) -> Result<String, TrustDirError> {
    let path = inside(dir, &f.file)?;
    let limit = crate::limits::TufLimits::default().target_bytes;
    let bytes = crate::limits::read_file_limited(&path, "trust directory file size", limit)
        .map_err(|e| TrustDirError::Read {
            dir: dir.display().to_string(),
            file: f.file.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
    let actual = sha256(&bytes).hex();
    if actual != f.sha256 || bytes.len() as u64 != f.length {
        return Err(invalid(
            dir,
            format!(
                "{} changed since it was installed: expected sha256 {} ({} bytes), got {actual} ({} bytes)",
                f.file,
                f.sha256,
                f.length,
                bytes.len()
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|_| invalid(dir, format!("{} is not UTF-8", f.file)))
}

/// The default trust directory: `$VETTED_TRUST_DIR` is read by clap; otherwise
/// `$XDG_DATA_HOME/vetted/trust`, else `~/.local/share/vetted/trust`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("vetted/trust"));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|h| PathBuf::from(h).join(".local/share/vetted/trust"))
}
