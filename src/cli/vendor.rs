//! `vetted verify-vendor-manifest`: a vendor's signed release manifest, and optionally one
//! binary against it.
use super::{Failure, Outcome, finish};
use crate::clock::SystemClock;
use crate::limits::{Limits, read_file_limited};
use crate::trust::vendor::VendorKey;
use crate::vendor;
use std::io::Read as _;
use std::path::PathBuf;

/// Verify a vendor's signed release manifest (Claude Code: `manifest.json` and its detached
/// OpenPGP signature `manifest.json.sig`) against the pinned vendor key, and optionally that a
/// binary is the one the manifest lists for a platform (sha256 and size).
///
/// Only the pinned primary key (trust-roots/vendor/) or a signing subkey it certifies may have
/// made the signature; SHA-1 and MD5 signatures, expired or revoked keys and signatures are
/// rejected; the signature must cover the exact manifest bytes.
///
/// Exit 0 verified (and matched), 1 rejected (the reason on stderr), 2 usage or operational error.
#[derive(Debug, clap::Args)]
pub struct VerifyVendorManifestArgs {
    /// The vendor whose key must have signed: `claude-code`.
    #[arg(value_name = "VENDOR")]
    vendor: String,

    /// The manifest (`manifest.json`), byte for byte as published.
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,

    /// Its detached OpenPGP signature (`manifest.json.sig`, armoured or binary).
    #[arg(long, value_name = "FILE")]
    signature: PathBuf,

    /// A binary to match against the manifest's entry for `--platform`.
    #[arg(long, value_name = "FILE", requires = "platform")]
    binary: Option<PathBuf>,

    /// The platform whose entry the binary must match (`linux-x64`, `darwin-arm64`, ...).
    #[arg(long, value_name = "PLATFORM", requires = "binary")]
    platform: Option<String>,

    /// The manifest must be for this version.
    #[arg(long, value_name = "VERSION")]
    expect_version: Option<String>,

    /// Trust this OpenPGP key file instead of the pinned vendor key (tests, key rotation
    /// drills). Only its primary key with `--insecure-vendor-key-fingerprint` may sign.
    #[arg(
        long,
        value_name = "FILE",
        requires = "insecure_vendor_key_fingerprint"
    )]
    insecure_vendor_key: Option<PathBuf>,

    /// The primary fingerprint that `--insecure-vendor-key` pins.
    #[arg(long, value_name = "HEX", requires = "insecure_vendor_key")]
    insecure_vendor_key_fingerprint: Option<String>,

    /// Print the verified facts, or the rejection, as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Where a vendor's signed release manifests (and native binaries) come from, and which key
/// must have signed them (shared by `admit`, `fetch`, `inspect` and `audit-installed`).
#[derive(Debug, Clone, clap::Args)]
pub struct VendorSourceArgs {
    /// Where vendor-signed release manifests come from, for policy entries with
    /// `vendor-manifest` and `claude-native:` specs: a base URL (`<URL>/<V>/manifest.json` and
    /// `.sig`, `<URL>/<V>/<platform>/claude`) or, air-gapped, a directory laid out the same way.
    #[arg(long, value_name = "URL|DIR", default_value = crate::vendor::CLAUDE_CODE_RELEASES)]
    vendor_source: String,
    /// Trust this OpenPGP key file instead of the pinned vendor key (tests, key rotation
    /// drills); only its primary key with `--insecure-vendor-key-fingerprint` may sign.
    #[arg(
        long,
        value_name = "FILE",
        requires = "insecure_vendor_key_fingerprint"
    )]
    insecure_vendor_key: Option<PathBuf>,
    /// The primary fingerprint that `--insecure-vendor-key` pins.
    #[arg(long, value_name = "HEX", requires = "insecure_vendor_key")]
    insecure_vendor_key_fingerprint: Option<String>,
}

impl VendorSourceArgs {
    /// The gate's vendor options.
    pub(crate) fn options(&self) -> Result<crate::gate::vendor::VendorOptions, Failure> {
        Ok(crate::gate::vendor::VendorOptions {
            source: crate::source::VendorSource::parse(&self.vendor_source)
                .map_err(Failure::operational)?,
            key_override: match &self.insecure_vendor_key {
                Some(path) => Some(vendor_key(
                    vendor::CLAUDE_CODE,
                    Some(path),
                    self.insecure_vendor_key_fingerprint.as_deref(),
                )?),
                None => None,
            },
        })
    }

    /// The key manifests must be signed with.
    pub(crate) fn key(&self) -> Result<VendorKey, Failure> {
        vendor_key(
            vendor::CLAUDE_CODE,
            self.insecure_vendor_key.as_deref(),
            self.insecure_vendor_key_fingerprint.as_deref(),
        )
    }
}

/// Fetch a `claude-native:` release (manifest verified first, then the binary against it).
pub(crate) fn fetch_native(
    version: &crate::source::Version,
    platform: &str,
    vendor_args: &VendorSourceArgs,
    opts: &crate::source::FetchOptions,
) -> Result<vendor::native::NativeRelease, Failure> {
    let source = crate::source::VendorSource::parse(&vendor_args.vendor_source)
        .map_err(Failure::operational)?;
    let key = vendor_args.key()?;
    vendor::native::fetch(
        &source,
        &key,
        version,
        platform,
        opts,
        &SystemClock,
        &opts.limits,
    )
    .map_err(|e| match e {
        vendor::native::NativeError::Rejected { check, reason } => Failure::rejected(check, reason),
        vendor::native::NativeError::Operational(e) => Failure::operational(e),
    })
}

pub fn run(args: VerifyVendorManifestArgs) -> Outcome {
    let json = args.json;
    finish(json, verify(args))
}

/// The vendor key a run trusts: the pinned one, or one named with the insecure flags.
pub(crate) fn vendor_key(
    vendor: &str,
    insecure_key: Option<&std::path::Path>,
    insecure_fingerprint: Option<&str>,
) -> Result<VendorKey, Failure> {
    if vendor != vendor::CLAUDE_CODE {
        return Err(Failure::operational(format!(
            "unknown vendor {vendor:?} (known: {})",
            VendorKey::vendors().join(", ")
        )));
    }
    match (insecure_key, insecure_fingerprint) {
        (Some(path), Some(fpr)) => {
            let bytes = read_file_limited(path, "vendor key size", Limits::default().bundle_bytes)
                .map_err(Failure::operational)?;
            eprintln!(
                "vetted: warning: --insecure-vendor-key: trusting {} instead of the pinned {vendor} key",
                path.display()
            );
            VendorKey::from_armored(vendor, &path.display().to_string(), fpr, &bytes)
                .map_err(Failure::operational)
        }
        _ => VendorKey::pinned(vendor).map_err(Failure::operational),
    }
}

fn verify(args: VerifyVendorManifestArgs) -> Result<Outcome, Failure> {
    let limits = Limits::default();
    let key = vendor_key(
        &args.vendor,
        args.insecure_vendor_key.as_deref(),
        args.insecure_vendor_key_fingerprint.as_deref(),
    )?;
    let manifest = read_file_limited(
        &args.manifest,
        "vendor manifest size",
        limits.vendor_manifest_bytes,
    )
    .map_err(|e| match e {
        crate::limits::ReadLimitedError::Limit(l) => Failure::rejected("vendor-manifest", l),
        e => Failure::operational(e),
    })?;
    let signature = read_file_limited(
        &args.signature,
        "vendor signature size",
        limits.vendor_signature_bytes,
    )
    .map_err(|e| match e {
        crate::limits::ReadLimitedError::Limit(l) => Failure::rejected("vendor-signature", l),
        e => Failure::operational(e),
    })?;
    let verified = vendor::verify_manifest(&key, &manifest, &signature, &SystemClock, &limits)
        .map_err(|e| match &e {
            vendor::VendorRejection::Signature(_) => Failure::rejected("vendor-signature", e),
            _ => Failure::rejected("vendor-manifest", e),
        })?;
    if let Some(v) = &args.expect_version {
        verified
            .expect_version(v)
            .map_err(|e| Failure::rejected("vendor-manifest-version", e))?;
    }
    let mut facts = verified.facts();
    if let (Some(binary), Some(platform)) = (&args.binary, &args.platform) {
        // Hash while streaming: binaries are hundreds of megabytes.
        let file = std::fs::File::open(binary)
            .map_err(|e| Failure::operational(format!("cannot open {}: {e}", binary.display())))?;
        let mut hasher = crate::digest::MultiHasher::new();
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = reader.read(&mut buf).map_err(|e| {
                Failure::operational(format!("cannot read {}: {e}", binary.display()))
            })?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let digests = hasher.finish();
        let entry = verified
            .check_binary(
                &binary.display().to_string(),
                platform,
                &digests.sha256,
                digests.size,
            )
            .map_err(|e| Failure::rejected("vendor-binary", e))?;
        facts["binary"] = serde_json::json!({
            "path": binary.display().to_string(),
            "platform": platform,
            "sha256": entry.sha256.hex(),
            "size": entry.size,
            "matches": true,
        });
    }
    if args.json {
        facts["verdict"] = "verified".into();
        facts["schema"] = "vetted.verify-vendor-manifest/v1".into();
        crate::outln!("{facts}");
    } else {
        let s = verified.signature();
        crate::outln!(
            "verified: {} manifest {} (sha256 {}), signed {} by {} (pinned primary {}, {})",
            s.vendor(),
            verified.manifest().version,
            verified.manifest_sha256().hex(),
            s.signed_at(),
            s.signer_fingerprint(),
            s.primary_fingerprint(),
            s.hash()
        );
        for (platform, e) in &verified.manifest().platforms {
            crate::outln!(
                "  {platform:<18} {:<11} {:>11} bytes  sha256 {}",
                e.binary,
                e.size,
                e.sha256.hex()
            );
        }
        if let Some(b) = facts.get("binary") {
            crate::outln!(
                "binary {} matches the {} entry ({} bytes, sha256 {})",
                b["path"].as_str().unwrap_or(""),
                b["platform"].as_str().unwrap_or(""),
                b["size"],
                b["sha256"].as_str().unwrap_or("")
            );
        }
    }
    Ok(Outcome::Success)
}
