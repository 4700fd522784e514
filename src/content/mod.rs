//! Safe archive reading (tar, tgz, zip), the content manifest, and the inspectors.
pub mod manifest;

pub use manifest::ContentManifest;
