//! npm provenance: the registry's attestations document for one version,
//! `{"attestations": [{"predicateType", "bundle"}]}`, holding the SLSA provenance (signed with a
//! Sigstore certificate by the publishing workflow) and the publish attestation (signed by the
//! registry's own key).
//!
//! As npm documents it (docs.npmjs.com, "Generating provenance statements" and
//! `npm audit signatures`; paraphrased): the provenance statement is signed through Sigstore by
//! the CI workflow that published, and the registry adds a publish attestation signed with its
//! own key, listed at `/-/npm/v1/keys`. Both statements name the package as subject
//! `pkg:npm/<name>@<version>` with the tarball's sha512 digest; both must match the tarball
//! vetted holds.
use super::dsse::{self, pae};
use super::statement::Statement;
use super::{
    Flavor, ProvenanceAccepted, ProvenanceError, ProvenanceFacts, ProvenancePolicy, evaluate_slsa,
    github_actions_signer, subject_facts,
};
use crate::digest::Digests;
use crate::limits::{LimitExceeded, Limits};
use crate::sigstore::{self, ArtifactRef, IdentityPolicy, ParsedBundle, Signer};
use crate::trust::TrustRoots;
use crate::trust::npm_keys::{KeyUsage, NpmRegistryKeys};
use jiff::Timestamp;
use p256::pkcs8::EncodePublicKey;
use serde::Deserialize;
use sigstore_types::SignatureContent;

/// The npm publish attestation's predicate type.
pub const PREDICATE_NPM_PUBLISH: &str =
    "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";

#[derive(Deserialize)]
struct WireAttestations {
    attestations: Vec<WireAttestation>,
}

#[derive(Deserialize)]
struct WireAttestation {
    #[serde(rename = "predicateType")]
    predicate_type: String,
    bundle: serde_json::Value,
}

/// The package an attestations document must describe: the tarball's digests, its name
/// (`@scope/name` or `name`) and version.
#[derive(Debug, Clone, Copy)]
pub struct NpmPackageRef<'a> {
    /// Digests of the tarball (sha512 is the one npm attestations name).
    pub tarball: &'a Digests,
    /// Package name.
    pub name: &'a str,
    /// Package version.
    pub version: &'a str,
}

/// The two bundles of an npm attestations document.
struct Attestations {
    provenance: (String, ParsedBundle),
    publish: ParsedBundle,
}

fn parse_attestations(bytes: &[u8], limits: &Limits) -> Result<Attestations, ProvenanceError> {
    LimitExceeded::check(
        "attestations document size",
        limits.bundle_bytes,
        bytes.len() as u64,
    )?;
    let wire: WireAttestations = serde_json::from_slice(bytes).map_err(|e| {
        ProvenanceError::Malformed(format!("not an npm attestations document: {e}"))
    })?;
    LimitExceeded::check(
        "attestations",
        limits.jsonl_documents as u64,
        wire.attestations.len() as u64,
    )?;
    let mut provenance = None;
    let mut publish = None;
    for a in wire.attestations {
        let bytes = serde_json::to_vec(&a.bundle)
            .map_err(|e| ProvenanceError::Malformed(format!("bundle: {e}")))?;
        let bundle = sigstore::parse_bundle(&bytes, limits)?;
        let slot = match a.predicate_type.as_str() {
            super::slsa::PREDICATE_SLSA_V02 | super::slsa::PREDICATE_SLSA_V1 => &mut provenance,
            PREDICATE_NPM_PUBLISH => &mut publish,
            other => {
                return Err(ProvenanceError::mismatch(
                    "predicate-type",
                    format!(
                        "{} or {PREDICATE_NPM_PUBLISH}",
                        super::slsa::PREDICATE_SLSA_V1
                    ),
                    other,
                ));
            }
        };
        if slot.is_some() {
            return Err(ProvenanceError::Malformed(format!(
                "more than one attestation of type {}",
                a.predicate_type
            )));
        }
        *slot = Some((a.predicate_type, bundle));
    }
    let expected = "a SLSA provenance and an npm publish attestation";
    match (provenance, publish) {
        (Some(provenance), Some((_, publish))) => Ok(Attestations {
            provenance,
            publish,
        }),
        (None, _) => Err(ProvenanceError::mismatch(
            "npm-attestations",
            expected,
            "no SLSA provenance",
        )),
        (_, None) => Err(ProvenanceError::mismatch(
            "npm-attestations",
            expected,
            "no publish attestation",
        )),
    }
}

/// `pkg:npm/<name>@<version>`, the scope's `@` percent-encoded or not, split into name and
/// version.
fn parse_npm_purl(purl: &str) -> Option<(String, String)> {
    let rest = purl.strip_prefix("pkg:npm/")?;
    let (name, version) = rest.rsplit_once('@')?;
    Some((
        name.replace("%40", "@").replace("%2F", "/"),
        version.to_string(),
    ))
}

/// The statement must name this package at this version, with this tarball's sha512.
fn check_package_subject(
    statement: &Statement,
    tarball: &Digests,
    name: &str,
    version: &str,
) -> Result<(), ProvenanceError> {
    let subject = statement.require_subject(&tarball.sha512)?;
    let (s_name, s_version) = parse_npm_purl(&subject.name).ok_or_else(|| {
        ProvenanceError::mismatch(
            "package-name",
            format!("pkg:npm/{name}@{version}"),
            &subject.name,
        )
    })?;
    if s_name != name {
        return Err(ProvenanceError::mismatch("package-name", name, s_name));
    }
    if s_version != version {
        return Err(ProvenanceError::mismatch(
            "package-version",
            version,
            s_version,
        ));
    }
    Ok(())
}

/// Verify the publish attestation: signed by the registry key its signature names, within that
/// key's validity window at the (transparency-log-verified) signing time.
fn verify_publish(
    bundle: &ParsedBundle,
    package: NpmPackageRef<'_>,
    roots: &TrustRoots,
    keys: &NpmRegistryKeys,
    now: Timestamp,
    limits: &Limits,
) -> Result<(String, Option<Timestamp>, Statement), ProvenanceError> {
    let NpmPackageRef {
        tarball,
        name,
        version,
    } = package;
    let SignatureContent::DsseEnvelope(envelope) = &bundle.inner().content else {
        return Err(ProvenanceError::Malformed(
            "publish attestation is not a DSSE envelope".into(),
        ));
    };
    let keyid = envelope.signature.keyid.to_string();
    // A publish attestation needs a key listed for `npm:attestations` (not only for registry
    // signatures); its window is checked below at the verified signing time.
    let known = keys.key_for_usage(&keyid, KeyUsage::Attestations)?;
    let der = known
        .key
        .to_public_key_der()
        .map_err(|e| ProvenanceError::Malformed(format!("registry key {keyid}: {e}")))?;
    let signer = Signer::PublicKey(sigstore_types::DerPublicKey::from_bytes(der.as_bytes()));
    // The engine checks the log entry (inclusion proof or promise) and the signature; the
    // log's integrated time is then the signing time that the key's window is checked at.
    let verified = sigstore::verify(
        bundle,
        ArtifactRef::Digest(tarball.sha512.clone()),
        &signer,
        roots,
    )?;
    let time = verified.signing_time().ok_or_else(|| {
        ProvenanceError::mismatch(
            "signing-time",
            "a transparency-log time for the publish attestation",
            "none",
        )
    })?;
    if time > now {
        return Err(ProvenanceError::mismatch(
            "signing-time",
            format!("a time before now ({now})"),
            time,
        ));
    }
    let (payload_type, payload) = verified.dsse_payload().ok_or_else(|| {
        ProvenanceError::Malformed("publish attestation has no DSSE payload".into())
    })?;
    keys.verify(
        &keyid,
        KeyUsage::Attestations,
        time,
        &pae(payload_type, payload),
        envelope.signature.sig.as_bytes(),
    )?;
    if payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
        return Err(ProvenanceError::mismatch(
            "payload-type",
            dsse::IN_TOTO_PAYLOAD_TYPE,
            payload_type,
        ));
    }
    let statement = Statement::parse(payload, limits)?;
    statement.require_predicate_type(PREDICATE_NPM_PUBLISH)?;
    check_package_subject(&statement, tarball, name, version)?;
    // The predicate repeats name and version.
    let p_name = statement.predicate.get("name").and_then(|v| v.as_str());
    if p_name != Some(name) {
        return Err(ProvenanceError::mismatch(
            "package-name",
            name,
            p_name.unwrap_or("(absent)"),
        ));
    }
    let p_version = statement.predicate.get("version").and_then(|v| v.as_str());
    if p_version != Some(version) {
        return Err(ProvenanceError::mismatch(
            "package-version",
            version,
            p_version.unwrap_or("(absent)"),
        ));
    }
    Ok((keyid, Some(time), statement))
}

/// slsa-verifier `verify-npm-package`: the tarball's attestations document, both attestations
/// verified offline (provenance against the pinned Sigstore roots, publish attestation against
/// the pinned registry keys), both naming `pkg:npm/<name>@<version>` with the tarball's sha512,
/// and the provenance meeting `policy`.
pub fn verify_npm_package(
    package: NpmPackageRef<'_>,
    attestations_json: &[u8],
    policy: &ProvenancePolicy,
    roots: &TrustRoots,
    keys: &NpmRegistryKeys,
    now: Timestamp,
    limits: &Limits,
) -> Result<ProvenanceAccepted, ProvenanceError> {
    let NpmPackageRef {
        tarball,
        name,
        version,
    } = package;
    let att = parse_attestations(attestations_json, limits)?;
    verify_publish(&att.publish, package, roots, keys, now, limits)?;
    let (declared, bundle) = &att.provenance;
    let verified = sigstore::verify(
        bundle,
        ArtifactRef::Digest(tarball.sha512.clone()),
        &github_actions_signer(),
        roots,
    )?;
    let (facts, statement, _) =
        evaluate_slsa(Flavor::Npm, &verified, &[&tarball.sha512], policy, limits)?;
    statement.require_predicate_type(declared)?;
    check_package_subject(&statement, tarball, name, version)?;
    Ok(ProvenanceAccepted::new(facts, &statement))
}

/// `npm audit signatures` semantics: both attestations verify (provenance against the pinned
/// Sigstore roots by any certificate identity, publish attestation against the registry keys)
/// and both name this package, version and tarball. No builder or source policy is applied:
/// the facts (signer, source) are returned for the caller's policy.
pub fn verify_npm_attestations(
    package: NpmPackageRef<'_>,
    attestations_json: &[u8],
    roots: &TrustRoots,
    keys: &NpmRegistryKeys,
    now: Timestamp,
    limits: &Limits,
) -> Result<ProvenanceAccepted, ProvenanceError> {
    let NpmPackageRef {
        tarball,
        name,
        version,
    } = package;
    let att = parse_attestations(attestations_json, limits)?;
    let (keyid, _, _) = verify_publish(&att.publish, package, roots, keys, now, limits)?;
    let (declared, bundle) = &att.provenance;
    let verified = sigstore::verify(
        bundle,
        ArtifactRef::Digest(tarball.sha512.clone()),
        &Signer::Certificate(IdentityPolicy::default()),
        roots,
    )?;
    let (_, payload) = verified
        .dsse_payload()
        .ok_or_else(|| ProvenanceError::Malformed("provenance has no DSSE payload".into()))?;
    let statement = Statement::parse(payload, limits)?;
    statement.require_predicate_type(declared)?;
    check_package_subject(&statement, tarball, name, version)?;
    let cert = verified.certificate();
    let facts = ProvenanceFacts {
        predicate_type: statement.predicate_type.clone(),
        source_repository: cert
            .and_then(|c| c.source_repository_uri.as_deref())
            .map(super::slsa::normalize_source),
        source_ref: cert.and_then(|c| c.source_repository_ref.clone()),
        source_commit: cert.and_then(|c| c.source_repository_digest.clone()),
        signer: cert.and_then(|c| c.identity.clone()),
        issuer: cert.and_then(|c| c.issuer.clone()),
        verified_by: format!("{} + npm registry key {keyid}", verified.trust_root()),
        signing_time: verified.signing_time(),
        subjects: subject_facts(&statement),
        ..ProvenanceFacts::default()
    };
    Ok(ProvenanceAccepted::new(facts, &statement))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_purls() {
        assert_eq!(
            parse_npm_purl("pkg:npm/%40scope/name@1.0.5"),
            Some(("@scope/name".into(), "1.0.5".into()))
        );
        assert_eq!(
            parse_npm_purl("pkg:npm/sigstore@2.3.1"),
            Some(("sigstore".into(), "2.3.1".into()))
        );
        assert_eq!(parse_npm_purl("pkg:pypi/x@1"), None);
        assert_eq!(parse_npm_purl("pkg:npm/x"), None);
    }

    #[test]
    fn attestations_document_needs_both_kinds() {
        let limits = Limits::default();
        let err = parse_attestations(br#"{"attestations": []}"#, &limits)
            .err()
            .expect("empty");
        assert_eq!(err.check(), "npm-attestations");
        let err = parse_attestations(br#"{"attestations": [{"predicateType": "x", "bundle": {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}}]}"#, &limits)
            .err()
            .expect("bad");
        // Either the bundle or the predicate type is rejected, never accepted.
        assert!(matches!(
            err.check(),
            "provenance-format" | "bundle-format" | "predicate-type"
        ));
        assert!(parse_attestations(b"{\"attestations\": [", &limits).is_err());
    }
}
