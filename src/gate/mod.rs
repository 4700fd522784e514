//! The gate: an [`Admission`] exists only when every check an artifact needs has passed.
pub mod vsa;

/// Placeholder until the gate lands (see issue 6).
#[derive(Debug)]
pub struct Admission {
    name: String,
    version: String,
    digests: crate::digest::Digests,
    artifact_path: std::path::PathBuf,
    record: serde_json::Value,
    registry_metadata: serde_json::Value,
    published: Option<jiff::Timestamp>,
    admitted_at: jiff::Timestamp,
}

impl Admission {
    /// Package name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Version.
    pub fn version(&self) -> &str {
        &self.version
    }
    /// Digests of the admitted bytes.
    pub fn digests(&self) -> &crate::digest::Digests {
        &self.digests
    }
    /// Where the verified bytes are (the fetch cache).
    pub fn artifact_path(&self) -> &std::path::Path {
        &self.artifact_path
    }
    /// The admission record.
    pub fn record(&self) -> &serde_json::Value {
        &self.record
    }
    /// Registry metadata to serve.
    pub fn registry_metadata(&self) -> &serde_json::Value {
        &self.registry_metadata
    }
    /// Registry publish time.
    pub fn published(&self) -> Option<jiff::Timestamp> {
        self.published
    }
    /// When admitted.
    pub fn admitted_at(&self) -> jiff::Timestamp {
        self.admitted_at
    }
}
