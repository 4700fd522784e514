//! # vetted
//!
//! Admit a release of a third-party tool (first of all AI coding agents) only when it is
//! **verified** (hashes, Sigstore signatures, SLSA provenance, checked offline against pinned
//! trust roots) and **reviewed** (its contents compared with the last audited build).
//!
//! The pipeline; each stage returns a value that proves it ran:
//!
//! ```text
//! source::fetch          -> Fetched { bytes on disk, digests computed while streaming }
//! digest                 -> Digests { sha256, sha512, sha1 (npm shasum only) }
//! trust::TrustRoots      (pinned: trust-roots/*.json, chosen per bundle by the certificate's issuer)
//! sigstore::verify       -> VerifiedBundle { identity claims, signing time, DSSE payload }
//! provenance::evaluate   -> ProvenanceAccepted { builder, source repo, ref, subject digest == artifact digest }
//! content::manifest      -> ContentManifest { path -> (sha256, size, mode, kind) }
//! ledger::review         -> ReviewedBuild
//! gate::Admission::new   -> Admission -> store::Store::admit
//! ```
//!
//! The network lives only in [`source`]; the clock only in [`clock`].

pub mod atomic;
pub mod cli;
pub mod clock;
pub mod content;
pub mod diagnostics;
pub mod diff;
pub mod digest;
pub mod gate;
pub mod installed;
pub mod ledger;
pub mod limits;
pub mod policy;
pub mod provenance;
pub mod report;
pub mod serve;
pub mod sigstore;
pub mod source;
pub mod store;
pub mod trust;
pub mod vendor;
