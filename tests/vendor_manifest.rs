//! Vendor-signed release manifests (Claude Code): the real 2.1.273 pair from the corpus, and
//! keys and signatures the tests generate with rPGP for every way a signature must be refused.
mod common;
mod vendor_support;

use common::{corpus, stderr, vetted};
use pgp::composed::Deserializable as _;
use pgp::composed::{KeyType, SignedPublicKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{RevocationCode, SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::types::{KeyDetails, Password, Timestamp};
use std::path::{Path, PathBuf};
use vendor_support::*;
use vetted::clock::FixedClock;
use vetted::limits::Limits;
use vetted::trust::vendor::{SignatureRejection, VendorKey};
use vetted::vendor::{self, VendorRejection};

const PINNED: &str = "31DDDE24DDFAB679F42D7BD2BAA929FF1A7ECACE";
fn vendor_dir() -> Option<PathBuf> {
    corpus("vendor_manifest").map(|c| c.join("vendor/claude-code"))
}

fn at(secs: u32) -> FixedClock {
    FixedClock(jiff::Timestamp::from_second(i64::from(secs)).expect("time"))
}

fn now() -> FixedClock {
    // 2026-12-01, after the real 2.1.273 signature (2026-09-15).
    at(1_796_083_200)
}

fn sig_err(r: Result<vendor::VerifiedManifest, VendorRejection>) -> SignatureRejection {
    match r {
        Err(VendorRejection::Signature(s)) => s,
        Err(other) => panic!("expected a signature rejection, got {other}"),
        Ok(_) => panic!("expected a rejection, got verified"),
    }
}

fn verify(
    key: &VendorKey,
    m: &[u8],
    s: &[u8],
    clock: &FixedClock,
) -> Result<vendor::VerifiedManifest, VendorRejection> {
    vendor::verify_manifest(key, m, s, clock, &Limits::default())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p.display().to_string()
}

// ---- the real pair ----------------------------------------------------------------------

#[test]
fn real_2_1_273_manifest_verifies_with_the_pinned_key() {
    let Some(dir) = vendor_dir() else { return };
    let m = std::fs::read(dir.join("2.1.273/manifest.json")).expect("manifest");
    let s = std::fs::read(dir.join("2.1.273/manifest.json.sig")).expect("sig");
    let key = VendorKey::pinned("claude-code").expect("pinned");
    assert_eq!(key.fingerprint(), PINNED);
    let v = verify(&key, &m, &s, &now()).expect("verifies");
    v.expect_version("2.1.273").expect("version");
    assert_eq!(v.signature().signer_fingerprint(), PINNED);
    assert_eq!(
        v.signature().signed_at().to_string(),
        "2026-09-15T17:20:53Z"
    );
    assert_eq!(
        v.entry("linux-x64").expect("linux-x64").sha256.hex(),
        "6c752e2cc7c110c9df15f26d8d134d438c5ae95dbd610efc1a308bf7f9c5f6c1"
    );
    assert_eq!(v.manifest().platforms.len(), 8);
    // The CLI says the same, as JSON.
    let out = vetted([
        "verify-vendor-manifest",
        "claude-code",
        "--manifest",
        &dir.join("2.1.273/manifest.json").display().to_string(),
        "--signature",
        &dir.join("2.1.273/manifest.json.sig").display().to_string(),
        "--expect-version",
        "2.1.273",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(j["version"], "2.1.273");
    assert_eq!(j["signer_fingerprint"], PINNED);
    assert_eq!(j["signed_at"], "2026-09-15T17:20:53Z");
    assert_eq!(j["platforms"]["win32-x64"]["binary"], "claude.exe");
    assert_eq!(j["platforms"]["linux-x64"]["size"], 228663608);
}

#[test]
fn real_manifest_with_one_byte_changed_is_rejected() {
    let Some(dir) = vendor_dir() else { return };
    let mut m = std::fs::read(dir.join("2.1.273/manifest.json")).expect("manifest");
    let s = std::fs::read(dir.join("2.1.273/manifest.json.sig")).expect("sig");
    let key = VendorKey::pinned("claude-code").expect("pinned");
    // The linux-x64 checksum 6c75... becomes 7c75...: one byte.
    let at = m
        .windows(8)
        .position(|w| w == b"6c752e2c")
        .expect("checksum in manifest");
    m[at] = b'7';
    assert!(matches!(
        sig_err(verify(&key, &m, &s, &now())),
        SignatureRejection::BadSignature { .. }
    ));
    // A trailing newline removed (what some mirrors store) is a change too.
    let mut trimmed = std::fs::read(dir.join("2.1.273/manifest.json")).expect("manifest");
    trimmed.pop();
    assert!(matches!(
        sig_err(verify(&key, &trimmed, &s, &now())),
        SignatureRejection::BadSignature { .. }
    ));
    let tmp = tempfile::tempdir().expect("tmp");
    let out = vetted([
        "verify-vendor-manifest",
        "claude-code",
        "--manifest",
        &write(tmp.path(), "manifest.json", &m),
        "--signature",
        &dir.join("2.1.273/manifest.json.sig").display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("BAD signature"), "{}", stderr(&out));
}

#[test]
fn manifest_signed_for_another_version_is_rejected() {
    let Some(dir) = vendor_dir() else { return };
    let m = std::fs::read(dir.join("2.1.273/manifest.json")).expect("manifest");
    let s = std::fs::read(dir.join("2.1.273/manifest.json.sig")).expect("sig");
    let key = VendorKey::pinned("claude-code").expect("pinned");
    let v = verify(&key, &m, &s, &now()).expect("verifies");
    assert!(matches!(
        v.expect_version("2.1.274"),
        Err(VendorRejection::VersionMismatch { .. })
    ));
}

// ---- who signed -------------------------------------------------------------------------

#[test]
fn signature_by_a_project_generated_key_is_rejected() {
    let Some(dir) = vendor_dir() else { return };
    let m = std::fs::read(dir.join("2.1.273/manifest.json")).expect("manifest");
    let attacker = gen_key(
        1,
        "Anthropic Claude Code Release Signing <security@anthropic.com>",
        false,
    );
    let s = sign(&attacker, &m);
    let key = VendorKey::pinned("claude-code").expect("pinned");
    match sig_err(verify(&key, &m, &s, &now())) {
        SignatureRejection::UnpinnedSigner { issuer, pinned, .. } => {
            assert_eq!(issuer, fpr(&attacker.primary_key));
            assert_eq!(pinned, PINNED);
        }
        other => panic!("{other}"),
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let out = vetted([
        "verify-vendor-manifest",
        "claude-code",
        "--manifest",
        &dir.join("2.1.273/manifest.json").display().to_string(),
        "--signature",
        &write(tmp.path(), "manifest.json.sig", &s),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("only the pinned"), "{}", stderr(&out));
}

#[test]
fn generated_key_appended_to_the_pinned_key_file_cannot_sign() {
    let Some(dir) = vendor_dir() else { return };
    let m = std::fs::read(dir.join("2.1.273/manifest.json")).expect("manifest");
    let real = std::fs::read(dir.join("claude-code-release-signing.asc")).expect("key");
    let attacker = gen_key(2, "attacker <a@example.com>", false);
    let s = sign(&attacker, &m);
    // Both keys in one packet stream inside one armour block (what `gpg --export A B` writes) ...
    let (vendor_cert, _) = SignedPublicKey::from_armor_single(&real[..]).expect("vendor key");
    let both = vec![vendor_cert, attacker.to_public_key()];
    let mut one_block = Vec::new();
    pgp::armor::write(
        &both,
        pgp::armor::BlockType::PublicKey,
        &mut one_block,
        None,
        true,
    )
    .expect("armour");
    // ... and as a second armour block after the first.
    let mut two_blocks = real.clone();
    two_blocks.extend_from_slice(&armored_public(&attacker.to_public_key()));
    for (what, file) in [("one block", one_block), ("two blocks", two_blocks)] {
        let key = VendorKey::from_armored("claude-code", what, PINNED, &file).expect(what);
        assert!(
            matches!(
                sig_err(verify(&key, &m, &s, &now())),
                SignatureRejection::UnpinnedSigner { .. }
            ),
            "{what}"
        );
        // The real signature still verifies with the same file.
        let real_sig = std::fs::read(dir.join("2.1.273/manifest.json.sig")).expect("sig");
        verify(&key, &m, &real_sig, &now()).expect(what);
        // Through the CLI too, with the combined file as the key.
        let tmp = tempfile::tempdir().expect("tmp");
        let out = vetted([
            "verify-vendor-manifest",
            "claude-code",
            "--manifest",
            &dir.join("2.1.273/manifest.json").display().to_string(),
            "--signature",
            &write(tmp.path(), "sig", &s),
            "--insecure-vendor-key",
            &write(tmp.path(), "keys.asc", &file),
            "--insecure-vendor-key-fingerprint",
            PINNED,
        ]);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
    }
}

#[test]
fn signing_subkey_certified_by_the_primary_verifies_and_the_issuer_is_the_subkey() {
    let k = gen_key(3, "vendor <v@example.com>", true);
    let key = test_key(&pubkey(&k));
    let m = manifest_for("1.0.0", b"bin");
    let s = sign_with(&k, true, &m, SigOpts::default());
    let v = verify(&key, &m, &s, &now()).expect("subkey signature verifies");
    assert_eq!(
        v.signature().signer_fingerprint(),
        fpr(&k.secret_subkeys[0].key)
    );
    assert_eq!(v.signature().primary_fingerprint(), fpr(&k.primary_key));
}

#[test]
fn subkey_of_another_key_claimed_by_the_pinned_key_cannot_sign() {
    // The pinned key (no subkeys) and an attacker's signing subkey packet spliced under it
    // without a binding signature by the pinned primary.
    let pinned = gen_key(4, "vendor <v@example.com>", false);
    let attacker = gen_key(5, "attacker <a@example.com>", true);
    let mut spliced = pubkey(&pinned);
    spliced
        .public_subkeys
        .push(pubkey(&attacker).public_subkeys[0].clone());
    let key = test_key(&spliced);
    let m = manifest_for("1.0.0", b"bin");
    let s = sign_with(&attacker, true, &m, SigOpts::default());
    assert!(matches!(
        sig_err(verify(&key, &m, &s, &now())),
        SignatureRejection::KeyInvalid { .. }
    ));
}

#[test]
fn signature_naming_no_issuer_fingerprint_is_rejected() {
    let k = gen_key(6, "vendor <v@example.com>", false);
    let key = test_key(&pubkey(&k));
    let m = manifest_for("1.0.0", b"bin");
    let s = sign_with(
        &k,
        false,
        &m,
        SigOpts {
            issuer_fpr: false,
            ..SigOpts::default()
        },
    );
    assert_eq!(
        sig_err(verify(&key, &m, &s, &now())),
        SignatureRejection::NoIssuerFingerprint
    );
}

// ---- how it was signed ------------------------------------------------------------------

#[test]
fn sha1_and_md5_signatures_are_rejected() {
    // RSA, like the vendor's key (rPGP will not make an Ed25519 signature over SHA-1).
    let k = gen_key_of(KeyType::Rsa(2048), 7, "vendor <v@example.com>", false);
    let key = test_key(&pubkey(&k));
    let m = manifest_for("1.0.0", b"bin");
    verify(&key, &m, &sign(&k, &m), &now()).expect("SHA-512 verifies");
    for hash in [
        HashAlgorithm::Sha1,
        HashAlgorithm::Md5,
        HashAlgorithm::Ripemd160,
    ] {
        let s = sign_with(
            &k,
            false,
            &m,
            SigOpts {
                hash,
                ..SigOpts::default()
            },
        );
        assert!(
            matches!(
                sig_err(verify(&key, &m, &s, &now())),
                SignatureRejection::WeakHash(_)
            ),
            "{hash:?}"
        );
    }
}

#[test]
fn text_mode_signature_that_ignores_line_endings_is_rejected() {
    let k = gen_key(8, "vendor <v@example.com>", false);
    let key = test_key(&pubkey(&k));
    let m = manifest_for("1.0.0", b"bin");
    let s = sign_with(
        &k,
        false,
        &m,
        SigOpts {
            typ: SignatureType::Text,
            ..SigOpts::default()
        },
    );
    assert!(matches!(
        sig_err(verify(&key, &m, &s, &now())),
        SignatureRejection::Type(_)
    ));
}

#[test]
fn two_signatures_or_trailing_packets_in_the_signature_file_are_rejected() {
    let k = gen_key(9, "vendor <v@example.com>", false);
    let key = test_key(&pubkey(&k));
    let m = manifest_for("1.0.0", b"bin");
    let one = sign(&k, &m);
    let mut two = one.clone();
    two.extend_from_slice(&one);
    assert!(matches!(
        sig_err(verify(&key, &m, &two, &now())),
        SignatureRejection::Malformed(_)
    ));
    assert!(matches!(
        sig_err(verify(&key, &m, b"", &now())),
        SignatureRejection::Malformed(_)
    ));
    assert!(matches!(
        sig_err(verify(
            &key,
            &m,
            b"-----BEGIN PGP SIGNATURE-----\n\nAAAA\n",
            &now()
        )),
        SignatureRejection::Malformed(_)
    ));
}

// ---- when ------------------------------------------------------------------------------

#[test]
fn expired_key_is_rejected() {
    let k = gen_key(10, "vendor <v@example.com>", false);
    let key = test_key(&public_with_expiry(&k, Some(30)));
    let m = manifest_for("1.0.0", b"bin");
    let s = sign(&k, &m); // made on day 1
    verify(&key, &m, &s, &at(T0 + 10 * DAY)).expect("valid before the key expires");
    match sig_err(verify(&key, &m, &s, &at(T0 + 31 * DAY))) {
        SignatureRejection::KeyInvalid { why, .. } => assert!(why.contains("expired"), "{why}"),
        other => panic!("{other}"),
    }
}

#[test]
fn revoked_key_is_rejected() {
    let k = gen_key(11, "vendor <v@example.com>", false);
    let mut public = pubkey(&k);
    let m = manifest_for("1.0.0", b"bin");
    let s = sign(&k, &m);
    verify(&test_key(&public), &m, &s, &now()).expect("valid before revocation");
    let mut config = SignatureConfig::v4(
        SignatureType::KeyRevocation,
        k.primary_key.algorithm(),
        HashAlgorithm::Sha256,
    );
    config.hashed_subpackets = vec![
        Subpacket::regular(SubpacketData::SignatureCreationTime(Timestamp::from_secs(
            T0 + 2 * DAY,
        )))
        .expect("sp"),
        Subpacket::regular(SubpacketData::IssuerFingerprint(
            k.primary_key.fingerprint(),
        ))
        .expect("sp"),
        Subpacket::regular(SubpacketData::RevocationReason(
            RevocationCode::KeyCompromised,
            "test compromise".into(),
        ))
        .expect("sp"),
    ];
    let rev = config
        .sign_key(
            &k.primary_key,
            &Password::empty(),
            k.primary_key.public_key(),
        )
        .expect("revoke");
    public.details.revocation_signatures.push(rev);
    match sig_err(verify(&test_key(&public), &m, &s, &now())) {
        SignatureRejection::KeyInvalid { why, .. } => assert!(why.contains("revoked"), "{why}"),
        other => panic!("{other}"),
    }
}

#[test]
fn expired_signature_and_signature_from_the_future_are_rejected() {
    let k = gen_key(12, "vendor <v@example.com>", false);
    let key = test_key(&pubkey(&k));
    let m = manifest_for("1.0.0", b"bin");
    let expiring = sign_with(
        &k,
        false,
        &m,
        SigOpts {
            expires_after: Some(DAY),
            ..SigOpts::default()
        },
    );
    verify(&key, &m, &expiring, &at(T0 + DAY + 60)).expect("before it expires");
    assert!(matches!(
        sig_err(verify(&key, &m, &expiring, &at(T0 + 3 * DAY))),
        SignatureRejection::SignatureExpired { .. }
    ));
    let future = sign_with(
        &k,
        false,
        &m,
        SigOpts {
            created: T0 + 100 * DAY,
            ..SigOpts::default()
        },
    );
    assert!(matches!(
        sig_err(verify(&key, &m, &future, &at(T0 + 2 * DAY))),
        SignatureRejection::FromTheFuture { .. }
    ));
}

// ---- the binary ------------------------------------------------------------------------

/// A generated stand-in for the npm platform package's `package/claude` (the real one is 218 MiB).
fn fixture_binary() -> Vec<u8> {
    let mut b = b"\x7fELF\x02\x01\x01\0".to_vec();
    b.extend((0..200_000u32).flat_map(|i| (i.wrapping_mul(2_654_435_761)).to_le_bytes()));
    b
}

#[test]
fn fixture_binary_matches_and_one_byte_off_is_rejected() {
    let k = gen_key(13, "vendor <v@example.com>", false);
    let public = pubkey(&k);
    let bin = fixture_binary();
    let m = manifest_for("9.9.9", &bin);
    let s = sign(&k, &m);
    let tmp = tempfile::tempdir().expect("tmp");
    let key_file = write(tmp.path(), "key.asc", &armored_public(&public));
    let mut off = bin.clone();
    off[4096] ^= 1;
    let mut shorter = bin.clone();
    shorter.pop();
    let run = |binary: &[u8], name: &str, platform: &str| {
        vetted([
            "verify-vendor-manifest",
            "claude-code",
            "--manifest",
            &write(tmp.path(), "manifest.json", &m),
            "--signature",
            &write(tmp.path(), "manifest.json.sig", &s),
            "--binary",
            &write(tmp.path(), name, binary),
            "--platform",
            platform,
            "--insecure-vendor-key",
            &key_file,
            "--insecure-vendor-key-fingerprint",
            &fpr(&public.primary_key),
            "--json",
        ])
    };
    let ok = run(&bin, "claude", "linux-x64");
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let j: serde_json::Value = serde_json::from_slice(&ok.stdout).expect("json");
    assert_eq!(j["binary"]["matches"], true);
    assert_eq!(j["binary"]["sha256"], vetted::digest::sha256(&bin).hex());
    for (bytes, name) in [(&off, "off-by-one-byte"), (&shorter, "one-byte-shorter")] {
        let out = run(bytes, name, "linux-x64");
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&vetted::digest::sha256(&bin).hex())
                && err.contains(&vetted::digest::sha256(bytes).hex()),
            "names expected and actual digests: {err}"
        );
    }
    let other_platform = run(&bin, "claude", "darwin-arm64");
    assert_eq!(other_platform.status.code(), Some(1));
    assert!(stderr(&other_platform).contains("no entry for platform darwin-arm64"));
}

#[test]
fn binary_without_platform_and_unknown_vendor_are_usage_errors() {
    let out = vetted([
        "verify-vendor-manifest",
        "claude-code",
        "--manifest",
        "m",
        "--signature",
        "s",
        "--binary",
        "b",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = vetted([
        "verify-vendor-manifest",
        "acme",
        "--manifest",
        "m",
        "--signature",
        "s",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn pinned_vendor_key_matches_its_fingerprint_pin() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("trust-roots/vendor");
    let pins = std::fs::read_to_string(root.join("FINGERPRINTS")).expect("FINGERPRINTS");
    let mut checked = 0;
    for line in pins
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (want, file) = line.split_once("  ").expect("fingerprint  file");
        let bytes = std::fs::read(root.join(file)).expect("key file");
        let (cert, _) = SignedPublicKey::from_armor_single(&bytes[..]).expect("key");
        assert_eq!(fpr(&cert.primary_key), want, "{file}");
        checked += 1;
    }
    assert_eq!(checked, VendorKey::vendors().len());
    let out = vetted(["trust-root", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(j["vendor_keys"][0]["vendor"], "claude-code");
    assert_eq!(j["vendor_keys"][0]["fingerprint"], PINNED);
}

/// The real npm `@anthropic-ai/claude-code-linux-x64@2.1.273` (about 100 MB download): its
/// `package/claude` must be the binary the signed manifest lists. Needs the registry:
/// `cargo test --test vendor_manifest -- --ignored`.
#[test]
#[ignore = "downloads the real 100 MB npm platform package"]
fn real_npm_linux_x64_binary_matches_the_signed_manifest() {
    let Some(dir) = vendor_dir() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = std::process::Command::new("npm")
        .args(["pack", "@anthropic-ai/claude-code-linux-x64@2.1.273"])
        .current_dir(tmp.path())
        .output()
        .expect("npm pack");
    assert!(
        pack.status.success(),
        "{}",
        String::from_utf8_lossy(&pack.stderr)
    );
    let tgz = tmp
        .path()
        .join("anthropic-ai-claude-code-linux-x64-2.1.273.tgz");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&tgz).expect("tgz"),
    ));
    let bin = tmp.path().join("claude");
    let mut found = false;
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        if entry.path().expect("path").as_os_str() == "package/claude" {
            let mut out = std::fs::File::create(&bin).expect("create");
            std::io::copy(&mut entry, &mut out).expect("copy");
            found = true;
        }
    }
    assert!(found, "package/claude in the tarball");
    let out = vetted([
        "verify-vendor-manifest",
        "claude-code",
        "--manifest",
        &dir.join("2.1.273/manifest.json").display().to_string(),
        "--signature",
        &dir.join("2.1.273/manifest.json.sig").display().to_string(),
        "--binary",
        &bin.display().to_string(),
        "--platform",
        "linux-x64",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
