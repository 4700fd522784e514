//! RFC 3161 timestamp token fields outside TSTInfo that the `sigstore-verify` 0.15.1 engine
//! (`sigstore-tsa`) does not check. The engine already verifies: the message imprint, the
//! `message-digest` signed attribute against the encapsulated TSTInfo, the CMS signature over
//! the signed attributes, that the signer is a trusted TSA's leaf (not an embedded
//! certificate), the chain with the timeStamping EKU at the token's time (so the TSA
//! certificate's own validity window), and the trusted root's `validFor` window of that TSA.
//! Run after the engine accepted the bundle, this adds, for every token:
//!
//! - exactly one SignerInfo (RFC 3161 §2.4.2: the token "MUST NOT contain any signatures
//!   other than the signature of the TSA");
//! - the `content-type` signed attribute, single-valued, equal to id-ct-TSTInfo (RFC 5652
//!   §5.3 and §11.1: it "MUST be present" with signed attributes and match eContentType);
//! - the ESS `signing-certificate` or `signing-certificate-v2` signed attribute (RFC 3161
//!   §2.4.1, RFC 5816), whose first ESSCertID hashes to the TSA certificate that signed (and
//!   names its serial number when it carries an issuerSerial) (RFC 2634 §5.4, RFC 5035 §3);
//! - the TSA certificate's extended key usage: present, critical and only id-kp-timeStamping
//!   (RFC 3161 §2.3: "The corresponding certificate MUST contain only one instance of the
//!   extended key usage field extension ... with KeyPurposeID having value id-kp-timeStamping.
//!   This extension MUST be critical.").
use super::SigstoreError;
use crate::trust::PinnedRoot;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode, Tagged};
use sha2::Digest as _;
use sigstore_types::Bundle;
use x509_cert::Certificate;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_CE_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const ID_CE_SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

fn bad(i: usize, message: impl std::fmt::Display) -> SigstoreError {
    SigstoreError::TimestampToken(format!("RFC 3161 timestamp {i}: {message}"))
}

/// Check every RFC 3161 token of `bundle` against the TSAs of `root`.
pub fn check_tokens(bundle: &Bundle, root: &PinnedRoot) -> Result<(), SigstoreError> {
    let tokens = &bundle
        .verification_material
        .timestamp_verification_data
        .rfc3161_timestamps;
    if tokens.is_empty() {
        return Ok(());
    }
    let leaves: Vec<(Vec<u8>, Certificate)> = root
        .root
        .timestamp_authorities
        .iter()
        .filter_map(|tsa| tsa.cert_chain.certificates.first())
        .filter_map(|c| {
            let der = c.raw_bytes.as_bytes().to_vec();
            Certificate::from_der(&der).ok().map(|cert| (der, cert))
        })
        .collect();
    for (i, t) in tokens.iter().enumerate() {
        check_token(i, t.signed_timestamp.as_bytes(), &leaves)?;
    }
    Ok(())
}

/// The token's ContentInfo: the bundle holds a TimeStampToken, or (tolerated by the engine) a
/// whole TimeStampResp `SEQUENCE { status, timeStampToken }`.
fn content_info(i: usize, bytes: &[u8]) -> Result<ContentInfo, SigstoreError> {
    if let Ok(ci) = ContentInfo::from_der(bytes) {
        return Ok(ci);
    }
    let resp = Vec::<Any>::from_der(bytes).map_err(|e| {
        bad(
            i,
            format!("neither a TimeStampToken nor a TimeStampResp: {e}"),
        )
    })?;
    let token = resp
        .get(1)
        .ok_or_else(|| bad(i, "TimeStampResp has no timeStampToken"))?;
    let der = token.to_der().map_err(|e| bad(i, e))?;
    ContentInfo::from_der(&der).map_err(|e| bad(i, format!("timeStampToken: {e}")))
}

fn check_token(
    i: usize,
    bytes: &[u8],
    leaves: &[(Vec<u8>, Certificate)],
) -> Result<(), SigstoreError> {
    let ci = content_info(i, bytes)?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(bad(
            i,
            format!("content type {}, expected signedData", ci.content_type),
        ));
    }
    let sd_der = ci.content.to_der().map_err(|e| bad(i, e))?;
    let sd = SignedData::from_der(&sd_der).map_err(|e| bad(i, format!("SignedData: {e}")))?;
    let signers: Vec<_> = sd.signer_infos.0.iter().collect();
    let [signer] = signers.as_slice() else {
        return Err(bad(
            i,
            format!(
                "{} SignerInfos, expected exactly the TSA's one",
                signers.len()
            ),
        ));
    };
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| bad(i, "no signed attributes"))?;

    // content-type: exactly one attribute, one value, id-ct-TSTInfo.
    let ct: Vec<_> = attrs.iter().filter(|a| a.oid == ID_CONTENT_TYPE).collect();
    let [ct] = ct.as_slice() else {
        return Err(bad(
            i,
            format!(
                "{} content-type signed attributes, expected exactly one",
                ct.len()
            ),
        ));
    };
    let values: Vec<&Any> = ct.values.iter().collect();
    let [value] = values.as_slice() else {
        return Err(bad(
            i,
            format!(
                "content-type attribute has {} values, expected one",
                values.len()
            ),
        ));
    };
    let ct_oid: ObjectIdentifier = value
        .decode_as()
        .map_err(|e| bad(i, format!("content-type value: {e}")))?;
    if ct_oid != ID_CT_TST_INFO || sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(bad(
            i,
            format!(
                "content-type attribute {ct_oid} (eContentType {}), expected id-ct-TSTInfo {ID_CT_TST_INFO}",
                sd.encap_content_info.econtent_type
            ),
        ));
    }

    // The TSA certificate that signed: a trusted leaf matching the SignerIdentifier. The
    // engine already required one; not finding it here is an inconsistency, so reject.
    let (leaf_der, leaf) = leaves
        .iter()
        .find(|(_, c)| signer_matches(&signer.sid, c))
        .ok_or_else(|| bad(i, "the signer is not a trusted TSA certificate"))?;

    // ESS signing-certificate(-v2).
    let ess: Vec<_> = attrs
        .iter()
        .filter(|a| a.oid == ID_AA_SIGNING_CERTIFICATE_V2 || a.oid == ID_AA_SIGNING_CERTIFICATE)
        .collect();
    let [ess] = ess.as_slice() else {
        return Err(bad(
            i,
            format!(
                "{} ESS signing-certificate(-v2) signed attributes, expected exactly one",
                ess.len()
            ),
        ));
    };
    let values: Vec<&Any> = ess.values.iter().collect();
    let [value] = values.as_slice() else {
        return Err(bad(
            i,
            format!(
                "ESS signing-certificate attribute has {} values, expected one",
                values.len()
            ),
        ));
    };
    check_ess(
        i,
        value,
        ess.oid == ID_AA_SIGNING_CERTIFICATE_V2,
        leaf_der,
        leaf,
    )?;

    check_eku(i, leaf)
}

fn signer_matches(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(is) => {
            cert.tbs_certificate.issuer == is.issuer
                && cert.tbs_certificate.serial_number == is.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => cert
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .filter(|e| e.extn_id == ID_CE_SUBJECT_KEY_IDENTIFIER)
            .any(|e| {
                x509_cert::ext::pkix::SubjectKeyIdentifier::from_der(e.extn_value.as_bytes())
                    .is_ok_and(|s| &s == ski)
            }),
    }
}

/// `SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies OPTIONAL }`;
/// `ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash OCTET STRING,
/// issuerSerial OPTIONAL }`, `ESSCertID ::= SEQUENCE { certHash (SHA-1), issuerSerial OPTIONAL }`.
fn check_ess(
    i: usize,
    value: &Any,
    v2: bool,
    leaf_der: &[u8],
    leaf: &Certificate,
) -> Result<(), SigstoreError> {
    let name = if v2 {
        "signing-certificate-v2"
    } else {
        "signing-certificate"
    };
    let err = |m: String| bad(i, format!("ESS {name}: {m}"));
    let outer: Vec<Any> = value.decode_as().map_err(|e| err(e.to_string()))?;
    let certs = outer.first().ok_or_else(|| err("no certs".into()))?;
    let certs: Vec<Any> = certs.decode_as().map_err(|e| err(e.to_string()))?;
    // RFC 5035 §3: the first identifies the certificate that verifies the signature.
    let first = certs.first().ok_or_else(|| err("empty certs".into()))?;
    let fields: Vec<Any> = first.decode_as().map_err(|e| err(e.to_string()))?;
    let mut fields = fields.iter().peekable();
    let alg = if v2 && fields.peek().is_some_and(|f| f.tag() == der::Tag::Sequence) {
        let alg: x509_cert::spki::AlgorithmIdentifierOwned = fields
            .next()
            .ok_or_else(|| err("no hashAlgorithm".into()))?
            .decode_as()
            .map_err(|e| err(format!("hashAlgorithm: {e}")))?;
        alg.oid
    } else if v2 {
        ID_SHA256
    } else {
        // ESSCertID: SHA-1 by definition (RFC 2634 §5.4.1).
        ID_SHA1
    };
    let hash: OctetString = fields
        .next()
        .ok_or_else(|| err("no certHash".into()))?
        .decode_as()
        .map_err(|e| err(format!("certHash: {e}")))?;
    let actual = match alg {
        ID_SHA256 => sha2::Sha256::digest(leaf_der).to_vec(),
        ID_SHA384 => sha2::Sha384::digest(leaf_der).to_vec(),
        ID_SHA512 => sha2::Sha512::digest(leaf_der).to_vec(),
        ID_SHA1 if !v2 => sha1::Sha1::digest(leaf_der).to_vec(),
        other => return Err(err(format!("unsupported hash algorithm {other}"))),
    };
    if hash.as_bytes() != actual.as_slice() {
        return Err(err(format!(
            "certHash {} is not the hash of the TSA certificate that signed ({})",
            hex::encode(hash.as_bytes()),
            hex::encode(&actual)
        )));
    }
    // issuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber }: the serial must be the
    // signer's (the hash above already binds the whole certificate).
    if let Some(issuer_serial) = fields.next() {
        let parts: Vec<Any> = issuer_serial
            .decode_as()
            .map_err(|e| err(format!("issuerSerial: {e}")))?;
        let serial: x509_cert::serial_number::SerialNumber = parts
            .get(1)
            .ok_or_else(|| err("issuerSerial has no serialNumber".into()))?
            .decode_as()
            .map_err(|e| err(format!("issuerSerial serialNumber: {e}")))?;
        if serial != leaf.tbs_certificate.serial_number {
            return Err(err(format!(
                "issuerSerial names serial {}, the TSA certificate's is {}",
                serial, leaf.tbs_certificate.serial_number
            )));
        }
    }
    Ok(())
}

fn check_eku(i: usize, leaf: &Certificate) -> Result<(), SigstoreError> {
    let ekus: Vec<_> = leaf
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .filter(|e| e.extn_id == ID_CE_EXT_KEY_USAGE)
        .collect();
    let [eku] = ekus.as_slice() else {
        return Err(bad(
            i,
            format!(
                "the TSA certificate has {} extended key usage extensions, expected exactly one",
                ekus.len()
            ),
        ));
    };
    if !eku.critical {
        return Err(bad(
            i,
            "the TSA certificate's extended key usage is not critical (RFC 3161 §2.3: it MUST be)",
        ));
    }
    let purposes = Vec::<ObjectIdentifier>::from_der(eku.extn_value.as_bytes())
        .map_err(|e| bad(i, format!("extended key usage: {e}")))?;
    if purposes != [ID_KP_TIME_STAMPING] {
        return Err(bad(
            i,
            format!(
                "the TSA certificate's extended key usage is [{}], expected only id-kp-timeStamping",
                purposes
                    .iter()
                    .map(|o| o.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(())
}
