//! RFC 3161 token fields outside TSTInfo (src/sigstore/tsa.rs). A test TSA (its own root and
//! leaf, added to the case's trusted root) re-signs the TSTInfo of the corpus's Rekor v2 bundle
//! (`rekor2-happy-path`: real Fulcio certificate, real Rekor v2 entry), with the signed
//! attributes and certificate extensions each test varies. A well-formed token verifies; each
//! malformed one, which the `sigstore-verify` engine alone accepts, is rejected by vetted's
//! own check. Matched on error variants, never messages. The same test TSA also timestamps a
//! managed-key bundle logged only in a Rekor v2 dsse/0.0.2 entry (end of file).
mod common;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{BitString, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Any, Decode, Encode};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use vetted::limits::Limits;
use vetted::sigstore::{
    self, ArtifactRef, IdentityPolicy, Signer, SigstoreError, StringMatch, VerifiedBundle,
};
use vetted::trust::TrustRoots;
use x509_cert::attr::{Attribute, AttributeValue};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const CASE: &str = "rekor2-happy-path";

const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const ID_KP_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const ID_CE_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const ID_CE_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");

fn alg(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

fn utc(year_offset_secs: u64) -> Time {
    Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(year_offset_secs)).expect("utc"))
}

const Y2020: u64 = 1_577_836_800;
const Y2021: u64 = 1_609_459_200;
const Y2040: u64 = 2_208_988_800;

/// How the test TSA's leaf certificate is made.
#[derive(Clone)]
struct LeafSpec {
    eku: Vec<ObjectIdentifier>,
    eku_critical: bool,
    not_after: u64,
}

impl Default for LeafSpec {
    fn default() -> Self {
        LeafSpec {
            eku: vec![ID_KP_TIME_STAMPING],
            eku_critical: true,
            not_after: Y2040,
        }
    }
}

struct Tsa {
    key: SigningKey,
    leaf: Certificate,
    leaf_der: Vec<u8>,
    root_der: Vec<u8>,
}

fn spki(key: &SigningKey) -> SubjectPublicKeyInfoOwned {
    let der = key.verifying_key().to_public_key_der().expect("spki");
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("spki")
}

fn sign_cert(tbs: TbsCertificate, issuer_key: &SigningKey) -> Certificate {
    let sig: DerSignature = issuer_key.sign(&tbs.to_der().expect("tbs"));
    Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg(ECDSA_SHA256),
        signature: BitString::from_bytes(sig.as_bytes()).expect("bits"),
    }
}

fn ext(oid: ObjectIdentifier, critical: bool, value: &impl Encode) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().expect("ext")).expect("octets"),
    }
}

impl Tsa {
    fn new(spec: &LeafSpec) -> Tsa {
        let root_key = SigningKey::from_slice(&[0x11; 32]).expect("key");
        let key = SigningKey::from_slice(&[0x22; 32]).expect("key");
        let root_name = Name::from_str("CN=vetted test TSA root,O=vetted").expect("name");
        let leaf_name = Name::from_str("CN=vetted test TSA,O=vetted").expect("name");
        let root = sign_cert(
            TbsCertificate {
                version: Version::V3,
                serial_number: SerialNumber::new(&[1]).expect("serial"),
                signature: alg(ECDSA_SHA256),
                issuer: root_name.clone(),
                validity: Validity {
                    not_before: utc(Y2020),
                    not_after: utc(Y2040),
                },
                subject: root_name.clone(),
                subject_public_key_info: spki(&root_key),
                issuer_unique_id: None,
                subject_unique_id: None,
                extensions: Some(vec![ext(
                    ID_CE_BASIC_CONSTRAINTS,
                    true,
                    &x509_cert::ext::pkix::BasicConstraints {
                        ca: true,
                        path_len_constraint: None,
                    },
                )]),
            },
            &root_key,
        );
        let leaf = sign_cert(
            TbsCertificate {
                version: Version::V3,
                serial_number: SerialNumber::new(&[0x42]).expect("serial"),
                signature: alg(ECDSA_SHA256),
                issuer: root_name,
                validity: Validity {
                    not_before: utc(Y2020),
                    not_after: utc(spec.not_after),
                },
                subject: leaf_name,
                subject_public_key_info: spki(&key),
                issuer_unique_id: None,
                subject_unique_id: None,
                extensions: Some(vec![ext(ID_CE_EXT_KEY_USAGE, spec.eku_critical, &spec.eku)]),
            },
            &root_key,
        );
        Tsa {
            key,
            leaf_der: leaf.to_der().expect("der"),
            leaf,
            root_der: root.to_der().expect("der"),
        }
    }
}

/// Which signed attributes the token carries, and how.
#[derive(Clone)]
struct TokenSpec {
    content_type: Option<ObjectIdentifier>,
    /// `None`: no ESS attribute; `Some(v2, hash of which DER, serial)`.
    ess: Option<(bool, Which, Option<u8>)>,
    two_signers: bool,
}

#[derive(Clone, Copy)]
enum Which {
    Leaf,
    Root,
}

impl Default for TokenSpec {
    fn default() -> Self {
        TokenSpec {
            content_type: Some(ID_CT_TST_INFO),
            ess: Some((true, Which::Leaf, None)),
            two_signers: false,
        }
    }
}

fn attr(oid: ObjectIdentifier, value: Any) -> Attribute {
    Attribute {
        oid,
        values: SetOfVec::try_from(vec![AttributeValue::from(value)]).expect("set"),
    }
}

/// DER of `SEQUENCE { items }`.
fn seq(items: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = items.concat();
    let mut out = vec![0x30];
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend(body);
    out
}

fn ess_value(tsa: &Tsa, v2: bool, which: Which, serial: Option<u8>) -> Any {
    let der = match which {
        Which::Leaf => &tsa.leaf_der,
        Which::Root => &tsa.root_der,
    };
    let hash = if v2 {
        Sha256::digest(der).to_vec()
    } else {
        use sha1::Digest as _;
        sha1::Sha1::digest(der).to_vec()
    };
    let mut cert_id = vec![OctetString::new(hash).expect("o").to_der().expect("der")];
    if let Some(s) = serial {
        // IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber }
        let issuer = x509_cert::ext::pkix::name::GeneralName::DirectoryName(
            tsa.leaf.tbs_certificate.issuer.clone(),
        );
        let names = vec![issuer].to_der().expect("names");
        let serial = SerialNumber::<x509_cert::certificate::Rfc5280>::new(&[s])
            .expect("serial")
            .to_der()
            .expect("der");
        cert_id.push(seq(&[names, serial]));
    }
    let certs = seq(&[seq(&cert_id)]);
    Any::from_der(&seq(&[certs])).expect("any")
}

fn signer_info(tsa: &Tsa, tst_info: &[u8], spec: &TokenSpec) -> SignerInfo {
    let mut attrs = vec![attr(
        ID_MESSAGE_DIGEST,
        Any::encode_from(&OctetString::new(Sha256::digest(tst_info).to_vec()).expect("o"))
            .expect("any"),
    )];
    if let Some(ct) = spec.content_type {
        attrs.push(attr(ID_CONTENT_TYPE, Any::encode_from(&ct).expect("any")));
    }
    if let Some((v2, which, serial)) = spec.ess {
        let oid = if v2 {
            ID_AA_SIGNING_CERTIFICATE_V2
        } else {
            ID_AA_SIGNING_CERTIFICATE
        };
        attrs.push(attr(oid, ess_value(tsa, v2, which, serial)));
    }
    let signed_attrs = SetOfVec::try_from(attrs).expect("attrs");
    let sig: DerSignature = tsa.key.sign(&signed_attrs.to_der().expect("der"));
    SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tsa.leaf.tbs_certificate.issuer.clone(),
            serial_number: tsa.leaf.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: alg(SHA256),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: alg(ECDSA_SHA256),
        signature: OctetString::new(sig.as_bytes().to_vec()).expect("sig"),
        unsigned_attrs: None,
    }
}

/// A token over the TSTInfo of `real_token`, signed by `tsa` as `spec` says.
fn token(tsa: &Tsa, real_token: &[u8], spec: &TokenSpec) -> Vec<u8> {
    // The corpus token is a whole TimeStampResp `SEQUENCE { status, timeStampToken }`.
    let ci = ContentInfo::from_der(real_token).unwrap_or_else(|_| {
        let resp = Vec::<Any>::from_der(real_token).expect("TimeStampResp");
        ContentInfo::from_der(&resp[1].to_der().expect("der")).expect("real token")
    });
    let sd = SignedData::from_der(&ci.content.to_der().expect("der")).expect("signed data");
    let encap: EncapsulatedContentInfo = sd.encap_content_info;
    token_for(tsa, encap, spec)
}

/// A token over `encap` (an id-ct-TSTInfo EncapsulatedContentInfo), signed as `spec` says.
fn token_for(tsa: &Tsa, encap: EncapsulatedContentInfo, spec: &TokenSpec) -> Vec<u8> {
    let tst_info = encap.econtent.as_ref().expect("econtent").value().to_vec();
    let mut infos = vec![signer_info(tsa, &tst_info, spec)];
    if spec.two_signers {
        let mut other = spec.clone();
        other.two_signers = false;
        other.ess = Some((false, Which::Leaf, None));
        infos.push(signer_info(tsa, &tst_info, &other));
    }
    let sd = SignedData {
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![alg(SHA256)]).expect("set"),
        encap_content_info: encap,
        certificates: None,
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(infos).expect("infos")),
    };
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&sd).expect("any"),
    }
    .to_der()
    .expect("der")
}

struct Setup {
    artifact: Vec<u8>,
    bundle: Value,
    roots: TrustRoots,
    _dir: tempfile::TempDir,
}

fn setup(corpus: &Path, tsa: &Tsa, spec: &TokenSpec) -> Setup {
    let cases = corpus.join("sigstore-conformance/bundle-verify");
    let artifact = std::fs::read(cases.join("a.txt")).expect("artifact");
    let mut bundle: Value = serde_json::from_slice(
        &std::fs::read(cases.join(CASE).join("bundle.sigstore.json")).expect("bundle"),
    )
    .expect("json");
    let mut root: Value = serde_json::from_slice(
        &std::fs::read(cases.join(CASE).join("trusted_root.json")).expect("root"),
    )
    .expect("json");
    root["timestampAuthorities"]
        .as_array_mut()
        .expect("tsas")
        .push(serde_json::json!({
            "subject": {"organization": "vetted", "commonName": "vetted test TSA"},
            "uri": "https://tsa.vetted.test",
            "certChain": {"certificates": [
                {"rawBytes": B64.encode(&tsa.leaf_der)},
                {"rawBytes": B64.encode(&tsa.root_der)}
            ]},
            "validFor": {"start": "2020-01-01T00:00:00Z"}
        }));
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("trusted_root.json");
    std::fs::write(&path, serde_json::to_vec(&root).expect("ser")).expect("write");
    let roots = TrustRoots::from_arg(&path.display().to_string()).expect("root");
    let p = "/verificationMaterial/timestampVerificationData/rfc3161Timestamps/0/signedTimestamp";
    let real = B64
        .decode(bundle.pointer(p).and_then(Value::as_str).expect("token"))
        .expect("b64");
    *bundle.pointer_mut(p).expect("token") = Value::from(B64.encode(token(tsa, &real, spec)));
    Setup {
        artifact,
        bundle,
        roots,
        _dir: dir,
    }
}

fn verify(s: &Setup) -> Result<VerifiedBundle, SigstoreError> {
    let bytes = serde_json::to_vec(&s.bundle).expect("ser");
    let parsed = sigstore::parse_bundle(&bytes, &Limits::default())?;
    let signer = Signer::Certificate(IdentityPolicy {
        identity: Some(StringMatch::Exact(IDENTITY.into())),
        issuer: Some(StringMatch::Exact(ISSUER.into())),
        claims: vec![],
    });
    sigstore::verify(&parsed, ArtifactRef::Bytes(&s.artifact), &signer, &s.roots)
}

fn rejected_by_token_check(s: &Setup, what: &str) {
    match verify(s) {
        Ok(_) => panic!("{what}: verified"),
        Err(e) => assert!(
            matches!(e, SigstoreError::TimestampToken(_)),
            "{what}: rejected for another reason: {e:?}"
        ),
    }
}

#[test]
fn token_from_a_well_formed_test_tsa_verifies() {
    let Some(corpus) = common::corpus("token_from_a_well_formed_test_tsa_verifies") else {
        return;
    };
    let tsa = Tsa::new(&LeafSpec::default());
    let v = verify(&setup(&corpus, &tsa, &TokenSpec::default())).expect("verifies");
    assert_eq!(v.log_entry().expect("entry").kind, "hashedrekord/0.0.2");
    // ESS signing-certificate (v1, SHA-1), with an issuerSerial naming the leaf, verifies too.
    let spec = TokenSpec {
        ess: Some((false, Which::Leaf, Some(0x42))),
        ..TokenSpec::default()
    };
    verify(&setup(&corpus, &tsa, &spec)).expect("v1 ESS verifies");
}

#[test]
fn token_without_content_type_attribute_is_rejected() {
    let Some(corpus) = common::corpus("token_without_content_type") else {
        return;
    };
    let tsa = Tsa::new(&LeafSpec::default());
    let spec = TokenSpec {
        content_type: None,
        ..TokenSpec::default()
    };
    rejected_by_token_check(&setup(&corpus, &tsa, &spec), "no content-type");
}

#[test]
fn token_whose_content_type_attribute_is_not_tstinfo_is_rejected() {
    let Some(corpus) = common::corpus("token_content_type_data") else {
        return;
    };
    let tsa = Tsa::new(&LeafSpec::default());
    let spec = TokenSpec {
        content_type: Some(ID_DATA),
        ..TokenSpec::default()
    };
    rejected_by_token_check(&setup(&corpus, &tsa, &spec), "content-type id-data");
}

#[test]
fn token_without_ess_signing_certificate_is_rejected() {
    let Some(corpus) = common::corpus("token_without_ess") else {
        return;
    };
    let tsa = Tsa::new(&LeafSpec::default());
    let spec = TokenSpec {
        ess: None,
        ..TokenSpec::default()
    };
    rejected_by_token_check(&setup(&corpus, &tsa, &spec), "no ESS");
}

#[test]
fn token_whose_ess_binds_another_certificate_is_rejected() {
    let Some(corpus) = common::corpus("token_ess_other_cert") else {
        return;
    };
    let tsa = Tsa::new(&LeafSpec::default());
    for v2 in [true, false] {
        let spec = TokenSpec {
            ess: Some((v2, Which::Root, None)),
            ..TokenSpec::default()
        };
        rejected_by_token_check(&setup(&corpus, &tsa, &spec), "ESS of the root");
    }
    let spec = TokenSpec {
        ess: Some((true, Which::Leaf, Some(0x43))),
        ..TokenSpec::default()
    };
    rejected_by_token_check(
        &setup(&corpus, &tsa, &spec),
        "ESS issuerSerial of another serial",
    );
}

#[test]
fn token_with_a_second_signer_info_is_rejected() {
    let Some(corpus) = common::corpus("token_two_signers") else {
        return;
    };
    let tsa = Tsa::new(&LeafSpec::default());
    let spec = TokenSpec {
        two_signers: true,
        ..TokenSpec::default()
    };
    rejected_by_token_check(&setup(&corpus, &tsa, &spec), "two SignerInfos");
}

#[test]
fn tsa_certificate_with_non_critical_timestamping_eku_is_rejected() {
    let Some(corpus) = common::corpus("tsa_eku_not_critical") else {
        return;
    };
    let tsa = Tsa::new(&LeafSpec {
        eku_critical: false,
        ..LeafSpec::default()
    });
    rejected_by_token_check(
        &setup(&corpus, &tsa, &TokenSpec::default()),
        "EKU not critical",
    );
}

#[test]
fn tsa_certificate_with_an_extra_eku_purpose_is_rejected() {
    let Some(corpus) = common::corpus("tsa_eku_extra_purpose") else {
        return;
    };
    let tsa = Tsa::new(&LeafSpec {
        eku: vec![ID_KP_TIME_STAMPING, ID_KP_CODE_SIGNING],
        ..LeafSpec::default()
    });
    rejected_by_token_check(
        &setup(&corpus, &tsa, &TokenSpec::default()),
        "EKU + codeSigning",
    );
}

#[test]
fn token_signed_after_the_tsa_certificate_expired_is_rejected() {
    // The TSA's own validity window (its certificate's notAfter) is applied at the token's
    // time: by the engine's chain check, which this pins.
    let Some(corpus) = common::corpus("tsa_cert_expired") else {
        return;
    };
    let tsa = Tsa::new(&LeafSpec {
        not_after: Y2021,
        ..LeafSpec::default()
    });
    match verify(&setup(&corpus, &tsa, &TokenSpec::default())) {
        Ok(_) => panic!("token after the TSA certificate's notAfter verified"),
        Err(e) => assert!(
            matches!(e, SigstoreError::Timestamp(_)),
            "rejected for another reason: {e:?}"
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// A managed-key bundle (no certificate) whose only log entry is a Rekor v2 dsse/0.0.2 entry,
// built entirely by the test: a P-256 signing key, a DSSE envelope over an in-toto statement for
// a.txt, a one-leaf Ed25519 Rekor v2 test log and the test TSA (with a TSTInfo of our own).

const LOG_ORIGIN: &str = "log.vetted.test";

struct ManagedKeyCase {
    artifact: Vec<u8>,
    spki: Vec<u8>,
    roots: TrustRoots,
    envelope_sig: Vec<u8>,
    payload: Vec<u8>,
    tsa: Tsa,
    log_key: ed25519_dalek::SigningKey,
    log_id: Vec<u8>,
    _dir: tempfile::TempDir,
}

fn int(v: u8) -> Vec<u8> {
    vec![0x02, 0x01, v]
}

fn managed_key_case(corpus: &Path) -> ManagedKeyCase {
    let artifact =
        std::fs::read(corpus.join("sigstore-conformance/bundle-verify/a.txt")).expect("artifact");
    let key = SigningKey::from_slice(&[0x33; 32]).expect("key");
    let spki = key
        .verifying_key()
        .to_public_key_der()
        .expect("spki")
        .into_vec();
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "a.txt", "digest": {"sha256": hex::encode(Sha256::digest(&artifact))}}],
        "predicateType": "https://vetted.test/predicate/v1",
        "predicate": {}
    });
    let payload = serde_json::to_vec(&statement).expect("ser");
    let payload_type = "application/vnd.in-toto+json";
    let mut pae = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    pae.extend_from_slice(&payload);
    let sig: DerSignature = key.sign(&pae);
    let tsa = Tsa::new(&LeafSpec::default());
    let log_key = ed25519_dalek::SigningKey::from_bytes(&[0x44; 32]);
    let mut log_spki = hex::decode("302a300506032b6570032100").expect("hex");
    log_spki.extend_from_slice(log_key.verifying_key().as_bytes());
    let log_id = Sha256::digest(&log_spki).to_vec();
    let root = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": format!("https://{LOG_ORIGIN}"),
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": B64.encode(&log_spki),
                "keyDetails": "PKIX_ED25519",
                "validFor": {"start": "2020-01-01T00:00:00Z"}
            },
            "logId": {"keyId": B64.encode(&log_id)}
        }],
        "certificateAuthorities": [],
        "ctlogs": [],
        "timestampAuthorities": [{
            "subject": {"organization": "vetted", "commonName": "vetted test TSA"},
            "uri": "https://tsa.vetted.test",
            "certChain": {"certificates": [
                {"rawBytes": B64.encode(&tsa.leaf_der)},
                {"rawBytes": B64.encode(&tsa.root_der)}
            ]},
            "validFor": {"start": "2020-01-01T00:00:00Z"}
        }]
    });
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("trusted_root.json");
    std::fs::write(&path, serde_json::to_vec(&root).expect("ser")).expect("write");
    let roots = TrustRoots::from_arg(&path.display().to_string()).expect("root");
    ManagedKeyCase {
        artifact,
        spki,
        roots,
        envelope_sig: sig.as_bytes().to_vec(),
        payload,
        tsa,
        log_key,
        log_id,
        _dir: dir,
    }
}

impl ManagedKeyCase {
    /// The bundle, its one dsse/0.0.2 entry logging `verifier` (protojson, canonical order).
    fn bundle(&self, verifier: &str) -> Value {
        let body = format!(
            r#"{{"apiVersion":"0.0.2","kind":"dsse","spec":{{"dsseV002":{{"payloadHash":{{"algorithm":"SHA2_256","digest":"{}"}},"signatures":[{{"content":"{}","verifier":{verifier}}}]}}}}}}"#,
            B64.encode(Sha256::digest(&self.payload)),
            B64.encode(&self.envelope_sig)
        );
        // A one-leaf tree: the root is the leaf hash, the audit path empty.
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(body.as_bytes());
        let root = h.finalize().to_vec();
        let note = format!("{LOG_ORIGIN}\n1\n{}\n", B64.encode(&root));
        let mut line = self.log_id[..4].to_vec();
        line.extend_from_slice(&self.log_key.sign(note.as_bytes()).to_bytes());
        let checkpoint = format!("{note}\n\u{2014} {LOG_ORIGIN} {}\n", B64.encode(line));
        // TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber, genTime }
        let imprint = seq(&[
            alg(SHA256).to_der().expect("der"),
            OctetString::new(Sha256::digest(&self.envelope_sig).to_vec())
                .expect("o")
                .to_der()
                .expect("der"),
        ]);
        let gen_time =
            der::asn1::GeneralizedTime::from_unix_duration(Duration::from_secs(1_748_736_000))
                .expect("time");
        let tst_info = seq(&[
            int(1),
            ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.2")
                .to_der()
                .expect("der"),
            imprint,
            int(7),
            gen_time.to_der().expect("der"),
        ]);
        let encap = EncapsulatedContentInfo {
            econtent_type: ID_CT_TST_INFO,
            econtent: Some(Any::new(der::Tag::OctetString, tst_info).expect("any")),
        };
        let token = token_for(&self.tsa, encap, &TokenSpec::default());
        serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "publicKey": {"hint": "vetted-test-key"},
                "tlogEntries": [{
                    "logIndex": "0",
                    "logId": {"keyId": B64.encode(&self.log_id)},
                    "kindVersion": {"kind": "dsse", "version": "0.0.2"},
                    "inclusionProof": {
                        "logIndex": "0",
                        "rootHash": B64.encode(&root),
                        "treeSize": "1",
                        "hashes": [],
                        "checkpoint": {"envelope": checkpoint}
                    },
                    "canonicalizedBody": B64.encode(body.as_bytes())
                }],
                "timestampVerificationData": {"rfc3161Timestamps": [{"signedTimestamp": B64.encode(token)}]}
            },
            "dsseEnvelope": {
                "payload": B64.encode(&self.payload),
                "payloadType": "application/vnd.in-toto+json",
                "signatures": [{"sig": B64.encode(&self.envelope_sig), "keyid": ""}]
            }
        })
    }

    fn verify(&self, bundle: &Value) -> Result<VerifiedBundle, SigstoreError> {
        let bytes = serde_json::to_vec(bundle).expect("ser");
        let parsed = sigstore::parse_bundle(&bytes, &Limits::default())?;
        let signer = Signer::PublicKey(sigstore_types::DerPublicKey::new(self.spki.clone()));
        sigstore::verify(
            &parsed,
            ArtifactRef::Bytes(&self.artifact),
            &signer,
            &self.roots,
        )
    }
}

fn public_key_verifier(spki: &[u8]) -> String {
    format!(
        r#"{{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{{"rawBytes":"{}"}}}}"#,
        B64.encode(spki)
    )
}

#[test]
fn managed_key_dsse_v2_entry_logging_the_key_verifies() {
    let Some(corpus) = common::corpus("managed_key_dsse_v2") else {
        return;
    };
    let c = managed_key_case(&corpus);
    let v = c
        .verify(&c.bundle(&public_key_verifier(&c.spki)))
        .expect("verifies");
    assert!(v.tlog_verified());
    let entry = v.log_entry().expect("entry");
    assert_eq!(entry.kind, "dsse/0.0.2");
    assert_eq!(entry.log_index, 0);
}

#[test]
fn managed_key_dsse_v2_entry_logging_another_key_or_a_certificate_is_rejected() {
    let Some(corpus) = common::corpus("managed_key_dsse_v2_wrong_verifier") else {
        return;
    };
    let c = managed_key_case(&corpus);
    let other = SigningKey::from_slice(&[0x34; 32])
        .expect("key")
        .verifying_key()
        .to_public_key_der()
        .expect("spki")
        .into_vec();
    let cert = format!(
        r#"{{"keyDetails":"PKIX_ECDSA_P256_SHA_256","x509Certificate":{{"rawBytes":"{}"}}}}"#,
        B64.encode(&c.tsa.leaf_der)
    );
    for verifier in [public_key_verifier(&other), cert] {
        match c.verify(&c.bundle(&verifier)) {
            Ok(_) => panic!("verified with {verifier}"),
            Err(e) => assert!(
                matches!(e, SigstoreError::EntryMismatch(_)),
                "rejected for another reason: {e:?}"
            ),
        }
    }
}
