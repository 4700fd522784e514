//! Identity policy: who must have signed. Matching happens on the verified certificate's claims,
//! after the engine has checked the chain, SCT, log and signature.
//!
//! Sigstore client spec, "Verification": "the verifier MUST check the certificate's SAN and
//! issuer extension against the expected identity and issuer". Exact matches are exact: no
//! prefix, suffix or case folding. Regular expressions match the whole string.
use der::Decode;
use regex::Regex;
use serde::Serialize;
use sigstore_crypto::CertificateInfo;

/// Fulcio's username SAN: an otherName of this type holding a UTF8String (Fulcio
/// `docs/oid-info.md`: "1.3.6.1.4.1.57264.1.7 | OtherName SAN ... username").
pub const FULCIO_USERNAME_OID: &str = "1.3.6.1.4.1.57264.1.7";

/// The form of a certificate identity (a Subject Alternative Name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SanKind {
    /// `uniformResourceIdentifier` (CI workflows, SPIFFE IDs).
    Uri,
    /// `rfc822Name` (people signing with an email identity).
    Email,
    /// Fulcio's otherName username (OID 1.3.6.1.4.1.57264.1.7).
    Username,
}

/// One identity a certificate states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct San {
    /// Its form.
    pub kind: SanKind,
    /// Its value, exactly as encoded.
    pub value: String,
}

/// Every identity SAN of a certificate (URI, email, Fulcio username), in certificate order.
/// Other GeneralName forms (DNS, IP, directory names, other otherNames) are not identities a
/// Sigstore policy can name and are left out.
pub fn certificate_sans(cert_der: &[u8]) -> Result<Vec<San>, String> {
    use x509_cert::ext::pkix::SubjectAltName;
    use x509_cert::ext::pkix::name::GeneralName;
    let cert = x509_cert::Certificate::from_der(cert_der).map_err(|e| e.to_string())?;
    let username_oid = der::oid::ObjectIdentifier::new_unwrap(FULCIO_USERNAME_OID);
    let mut out = Vec::new();
    for ext in cert.tbs_certificate.extensions.iter().flatten() {
        if ext.extn_id != der::oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME {
            continue;
        }
        let san = SubjectAltName::from_der(ext.extn_value.as_bytes())
            .map_err(|e| format!("subjectAltName: {e}"))?;
        for name in san.0 {
            match name {
                GeneralName::UniformResourceIdentifier(u) => out.push(San {
                    kind: SanKind::Uri,
                    value: u.to_string(),
                }),
                GeneralName::Rfc822Name(e) => out.push(San {
                    kind: SanKind::Email,
                    value: e.to_string(),
                }),
                GeneralName::OtherName(other) if other.type_id == username_oid => {
                    let v = other
                        .value
                        .decode_as::<der::asn1::Utf8StringRef<'_>>()
                        .map_err(|e| format!("username otherName is not a UTF8String: {e}"))?;
                    out.push(San {
                        kind: SanKind::Username,
                        value: v.as_str().to_string(),
                    });
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

/// An exact string or a whole-string regular expression.
#[derive(Debug, Clone)]
pub enum StringMatch {
    /// Byte-for-byte equality.
    Exact(String),
    /// A regular expression, anchored at both ends.
    Regex {
        /// The expression as the user wrote it.
        source: String,
        /// The compiled, anchored expression.
        regex: Regex,
    },
}

impl StringMatch {
    /// A whole-string regular expression; `source` is wrapped in `^(?:...)$`.
    pub fn regex(source: &str) -> Result<StringMatch, regex::Error> {
        let regex = Regex::new(&format!("^(?:{source})$"))?;
        Ok(StringMatch::Regex {
            source: source.to_string(),
            regex,
        })
    }

    /// Whether `actual` matches.
    pub fn matches(&self, actual: &str) -> bool {
        match self {
            StringMatch::Exact(expected) => expected == actual,
            StringMatch::Regex { regex, .. } => regex.is_match(actual),
        }
    }
}

impl std::fmt::Display for StringMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StringMatch::Exact(s) => write!(f, "{s}"),
            StringMatch::Regex { source, .. } => write!(f, "/{source}/"),
        }
    }
}

/// A Fulcio certificate claim a policy can pin (cosign's `--certificate-github-workflow-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Claim {
    /// `owner/repo`: OID .1.5 (deprecated), else derived from .1.12 source repository URI.
    GithubWorkflowRepository,
    /// Git ref: OID .1.6 (deprecated), else .1.14.
    GithubWorkflowRef,
    /// Commit: OID .1.3 (deprecated), else .1.13.
    GithubWorkflowSha,
    /// Trigger event: OID .1.2 (deprecated), else .1.20.
    GithubWorkflowTrigger,
    /// Workflow display name: OID .1.4 (no successor).
    GithubWorkflowName,
    /// .1.12 source repository URI.
    SourceRepositoryUri,
    /// .1.14 source repository ref.
    SourceRepositoryRef,
    /// .1.13 source repository digest.
    SourceRepositoryDigest,
    /// .1.9 build signer URI.
    BuildSignerUri,
    /// .1.10 build signer digest.
    BuildSignerDigest,
    /// .1.11 runner environment.
    RunnerEnvironment,
    /// .1.16 source repository owner URI.
    SourceRepositoryOwnerUri,
}

impl Claim {
    /// The flag-like name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Claim::GithubWorkflowRepository => "certificate-github-workflow-repository",
            Claim::GithubWorkflowRef => "certificate-github-workflow-ref",
            Claim::GithubWorkflowSha => "certificate-github-workflow-sha",
            Claim::GithubWorkflowTrigger => "certificate-github-workflow-trigger",
            Claim::GithubWorkflowName => "certificate-github-workflow-name",
            Claim::SourceRepositoryUri => "source-repository-uri",
            Claim::SourceRepositoryRef => "source-repository-ref",
            Claim::SourceRepositoryDigest => "source-repository-digest",
            Claim::BuildSignerUri => "build-signer-uri",
            Claim::BuildSignerDigest => "build-signer-digest",
            Claim::RunnerEnvironment => "runner-environment",
            Claim::SourceRepositoryOwnerUri => "source-repository-owner-uri",
        }
    }

    /// The claim's value in a certificate, if present.
    pub fn read(self, info: &CertificateInfo) -> Option<String> {
        let c = &info.ci_claims;
        let d = &c.deprecated_github;
        match self {
            Claim::GithubWorkflowRepository => d.workflow_repository.clone().or_else(|| {
                c.source_repository_uri
                    .as_deref()
                    .and_then(|u| u.strip_prefix("https://github.com/"))
                    .map(str::to_string)
            }),
            Claim::GithubWorkflowRef => d
                .workflow_ref
                .clone()
                .or_else(|| c.source_repository_ref.clone()),
            Claim::GithubWorkflowSha => d
                .workflow_sha
                .clone()
                .or_else(|| c.source_repository_digest.clone()),
            Claim::GithubWorkflowTrigger => d
                .workflow_trigger
                .clone()
                .or_else(|| c.build_trigger.clone()),
            Claim::GithubWorkflowName => d.workflow_name.clone(),
            Claim::SourceRepositoryUri => c.source_repository_uri.clone(),
            Claim::SourceRepositoryRef => c.source_repository_ref.clone(),
            Claim::SourceRepositoryDigest => c.source_repository_digest.clone(),
            Claim::BuildSignerUri => c.build_signer_uri.clone(),
            Claim::BuildSignerDigest => c.build_signer_digest.clone(),
            Claim::RunnerEnvironment => c.runner_environment.clone(),
            Claim::SourceRepositoryOwnerUri => c.source_repository_owner_uri.clone(),
        }
    }
}

/// Who must have signed a keyless bundle.
#[derive(Debug, Clone, Default)]
pub struct IdentityPolicy {
    /// The certificate's SAN (email or URI).
    pub identity: Option<StringMatch>,
    /// The OIDC issuer extension (OID .1.8, or the deprecated .1.1).
    pub issuer: Option<StringMatch>,
    /// Further claims, each must be present and match.
    pub claims: Vec<(Claim, StringMatch)>,
}

/// A policy mismatch: which claim, what was expected, what the certificate says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{claim} mismatch: expected {expected}, certificate says {}", actual.as_deref().unwrap_or("(absent)"))]
pub struct PolicyMismatch {
    /// The claim ("certificate-identity", "certificate-oidc-issuer", or a [`Claim`] name).
    pub claim: &'static str,
    /// What the policy requires.
    pub expected: String,
    /// What the certificate says, if anything.
    pub actual: Option<String>,
}

impl IdentityPolicy {
    /// Whether the policy pins at least the identity and the issuer (what a safe verification
    /// of a keyless bundle needs).
    pub fn is_complete(&self) -> bool {
        self.identity.is_some() && self.issuer.is_some()
    }

    /// Check a verified certificate against the policy. The identity matches when one of the
    /// certificate's identity SANs (`sans`, from [`certificate_sans`]: URI, email or Fulcio
    /// username) matches, exactly or by the anchored expression; the engine's own reading
    /// (first email or URI) is used when `sans` is empty.
    pub fn check(&self, info: &CertificateInfo, sans: &[San]) -> Result<(), PolicyMismatch> {
        let engine = info.identity.as_ref().map(|s| s.as_str().to_string());
        let identity = match (&self.identity, sans) {
            (_, []) => engine,
            (Some(expected), _) => sans
                .iter()
                .find(|s| expected.matches(&s.value))
                .or(sans.first())
                .map(|s| s.value.clone()),
            (None, [first, ..]) => Some(first.value.clone()),
        };
        self.check_values(identity, info.issuer.clone(), |claim| claim.read(info))
    }

    /// Check already-read certificate values against the policy: the SAN, the OIDC issuer and
    /// a lookup of each claim. [`IdentityPolicy::check`] uses it with a verified certificate;
    /// tests use it to exercise policies built from command-line flags.
    pub fn check_values(
        &self,
        identity: Option<String>,
        issuer: Option<String>,
        claim_value: impl Fn(Claim) -> Option<String>,
    ) -> Result<(), PolicyMismatch> {
        check_one("certificate-identity", self.identity.as_ref(), identity)?;
        check_one("certificate-oidc-issuer", self.issuer.as_ref(), issuer)?;
        for (claim, expected) in &self.claims {
            check_one(claim.name(), Some(expected), claim_value(*claim))?;
        }
        Ok(())
    }
}

fn check_one(
    claim: &'static str,
    expected: Option<&StringMatch>,
    actual: Option<String>,
) -> Result<(), PolicyMismatch> {
    let Some(expected) = expected else {
        return Ok(());
    };
    match actual {
        Some(a) if expected.matches(&a) => Ok(()),
        actual => Err(PolicyMismatch {
            claim,
            expected: expected.to_string(),
            actual,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_match_is_exact() {
        let m = StringMatch::Exact(
            "https://github.com/a/b/.github/workflows/x.yml@refs/heads/main".into(),
        );
        assert!(m.matches("https://github.com/a/b/.github/workflows/x.yml@refs/heads/main"));
        for wrong in [
            "https://github.com/a/b/.github/workflows/x.yml@refs/heads/mai",
            "https://github.com/a/b/.github/workflows/x.yml@refs/heads/main2",
            "xhttps://github.com/a/b/.github/workflows/x.yml@refs/heads/main",
            "HTTPS://github.com/a/b/.github/workflows/x.yml@refs/heads/main",
            "",
        ] {
            assert!(!m.matches(wrong), "{wrong}");
        }
    }

    /// A real Fulcio certificate (from the conformance corpus is not available to unit tests):
    /// build one with `der` and x509-cert's types, then read it back.
    fn cert_with_sans(names: Vec<x509_cert::ext::pkix::name::GeneralName>) -> Vec<u8> {
        use der::Encode;
        use x509_cert::ext::pkix::SubjectAltName;
        let san = SubjectAltName(names).to_der().expect("san");
        let spki_der = {
            use p256::pkcs8::EncodePublicKey;
            let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("key");
            sk.verifying_key()
                .to_public_key_der()
                .expect("spki")
                .into_vec()
        };
        let tbs = x509_cert::TbsCertificate {
            version: x509_cert::Version::V3,
            serial_number: x509_cert::serial_number::SerialNumber::new(&[1]).expect("serial"),
            signature: x509_cert::spki::AlgorithmIdentifierOwned {
                oid: der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
                parameters: None,
            },
            issuer: x509_cert::name::Name::default(),
            validity: x509_cert::time::Validity {
                not_before: x509_cert::time::Time::UtcTime(
                    der::asn1::UtcTime::from_unix_duration(std::time::Duration::from_secs(
                        1_700_000_000,
                    ))
                    .expect("t"),
                ),
                not_after: x509_cert::time::Time::UtcTime(
                    der::asn1::UtcTime::from_unix_duration(std::time::Duration::from_secs(
                        1_700_000_600,
                    ))
                    .expect("t"),
                ),
            },
            subject: x509_cert::name::Name::default(),
            subject_public_key_info: x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(
                &spki_der,
            )
            .expect("spki"),
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(vec![x509_cert::ext::Extension {
                extn_id: der::oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME,
                critical: true,
                extn_value: der::asn1::OctetString::new(san).expect("octets"),
            }]),
        };
        x509_cert::Certificate {
            tbs_certificate: tbs,
            signature_algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
                oid: der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
                parameters: None,
            },
            signature: der::asn1::BitString::from_bytes(&[0]).expect("sig"),
        }
        .to_der()
        .expect("cert")
    }

    fn username(value: &str) -> x509_cert::ext::pkix::name::GeneralName {
        use der::Encode;
        let utf8 = der::asn1::Utf8StringRef::new(value)
            .expect("utf8")
            .to_der()
            .expect("der");
        x509_cert::ext::pkix::name::GeneralName::OtherName(x509_cert::ext::pkix::name::OtherName {
            type_id: der::oid::ObjectIdentifier::new_unwrap(FULCIO_USERNAME_OID),
            value: der::Any::from_der(&utf8).expect("any"),
        })
    }

    #[test]
    fn fulcio_username_other_name_is_read_as_identity() {
        let der = cert_with_sans(vec![username("octocat")]);
        let sans = certificate_sans(&der).expect("sans");
        assert_eq!(
            sans,
            vec![San {
                kind: SanKind::Username,
                value: "octocat".into()
            }]
        );
    }

    #[test]
    fn every_san_form_is_read_and_other_forms_are_not_identities() {
        use x509_cert::ext::pkix::name::GeneralName;
        let ia5 = |s: &str| der::asn1::Ia5String::new(s).expect("ia5");
        let other_oid = {
            use der::Encode;
            let utf8 = der::asn1::Utf8StringRef::new("x")
                .expect("utf8")
                .to_der()
                .expect("der");
            GeneralName::OtherName(x509_cert::ext::pkix::name::OtherName {
                type_id: der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.99"),
                value: der::Any::from_der(&utf8).expect("any"),
            })
        };
        let der = cert_with_sans(vec![
            GeneralName::DnsName(ia5("example.com")),
            GeneralName::UniformResourceIdentifier(ia5(
                "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main",
            )),
            GeneralName::Rfc822Name(ia5("dev@example.com")),
            other_oid,
            username("octocat"),
        ]);
        let sans = certificate_sans(&der).expect("sans");
        let kinds: Vec<SanKind> = sans.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, vec![SanKind::Uri, SanKind::Email, SanKind::Username]);
    }

    #[test]
    fn username_identity_matches_exactly_or_by_anchored_regex() {
        let sans = certificate_sans(&cert_with_sans(vec![username("octocat")])).expect("sans");
        let policy = |m: StringMatch| IdentityPolicy {
            identity: Some(m),
            issuer: None,
            claims: vec![],
        };
        let pick = |p: &IdentityPolicy| {
            p.identity
                .as_ref()
                .and_then(|e| sans.iter().find(|s| e.matches(&s.value)))
                .map(|s| s.value.clone())
        };
        let exact = policy(StringMatch::Exact("octocat".into()));
        assert_eq!(exact.check_values(pick(&exact), None, |_| None), Ok(()));
        for wrong in ["octocat2", "octo", "Octocat"] {
            let p = policy(StringMatch::Exact(wrong.into()));
            let err = p.check_values(pick(&p).or(Some("octocat".into())), None, |_| None);
            assert!(err.is_err(), "{wrong}");
        }
        let re = policy(StringMatch::regex("octo.*").expect("re"));
        assert_eq!(re.check_values(pick(&re), None, |_| None), Ok(()));
        let partial = policy(StringMatch::regex("cat").expect("re"));
        assert!(
            pick(&partial).is_none(),
            "a regex must match the whole username"
        );
    }

    #[test]
    fn regex_is_anchored_at_both_ends() {
        let m = StringMatch::regex("https://github.com/a/.*").expect("regex");
        assert!(m.matches("https://github.com/a/b"));
        assert!(!m.matches("xhttps://github.com/a/b"));
        let m = StringMatch::regex("a|b").expect("regex");
        assert!(m.matches("a"));
        assert!(!m.matches("ab"), "alternation must not escape the anchors");
        assert!(!m.matches("xa"));
    }
}
