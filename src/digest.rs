//! Digests: an algorithm and its bytes, parsed once from the forms the ecosystems use
//! (`sha256:<hex>`, SRI `sha512-<base64>`, bare hex) and computed in one streaming pass.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512};
use std::fmt;
use std::io::{self, Read, Write};

/// A hash algorithm vetted knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// SHA-1: only for npm's legacy `shasum`, never as the sole evidence when a stronger one exists.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// The name as written in `alg:hex` and SRI strings.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// The digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "sha1" => Some(Algorithm::Sha1),
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

/// Why a digest string was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// The algorithm prefix is not one we know.
    #[error("unknown digest algorithm {0:?} (expected sha256, sha512 or sha1)")]
    UnknownAlgorithm(String),
    /// The value is not valid hex / base64.
    #[error("digest value for {alg} is not valid {encoding}: {value:?}")]
    BadEncoding {
        /// Algorithm.
        alg: &'static str,
        /// "hex" or "base64".
        encoding: &'static str,
        /// The offending text.
        value: String,
    },
    /// The value decodes to the wrong number of bytes.
    #[error("{alg} digest must be {expected} bytes, got {actual}")]
    BadLength {
        /// Algorithm.
        alg: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        actual: usize,
    },
    /// No `alg:` or `alg-` prefix.
    #[error("digest {0:?} has no algorithm prefix (write sha256:<hex> or sha512-<base64>)")]
    NoPrefix(String),
    /// The strongest digest offered is SHA-1, which can be forged (SHAttered, 2017).
    #[error("integrity {0:?} offers only sha1 (expected sha512 or sha256)")]
    OnlySha1(String),
}

/// A digest: algorithm plus bytes of the right length.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    alg: Algorithm,
    bytes: Vec<u8>,
}

impl Digest {
    /// A digest from raw bytes; the length must match the algorithm.
    pub fn new(alg: Algorithm, bytes: Vec<u8>) -> Result<Self, DigestError> {
        if bytes.len() != alg.digest_len() {
            return Err(DigestError::BadLength {
                alg: alg.name(),
                expected: alg.digest_len(),
                actual: bytes.len(),
            });
        }
        Ok(Digest { alg, bytes })
    }

    /// Parse hex for a known algorithm.
    pub fn from_hex(alg: Algorithm, hex_str: &str) -> Result<Self, DigestError> {
        let bytes = hex::decode(hex_str).map_err(|_| DigestError::BadEncoding {
            alg: alg.name(),
            encoding: "hex",
            value: hex_str.to_string(),
        })?;
        Digest::new(alg, bytes)
    }

    /// Parse `sha256:<hex>` (also `sha512:`, `sha1:`).
    pub fn parse_prefixed(s: &str) -> Result<Self, DigestError> {
        let (alg, value) = s
            .split_once(':')
            .ok_or_else(|| DigestError::NoPrefix(s.to_string()))?;
        let alg = Algorithm::from_name(alg)
            .ok_or_else(|| DigestError::UnknownAlgorithm(alg.to_string()))?;
        Digest::from_hex(alg, value)
    }

    /// Parse one SRI token `sha512-<base64>`.
    pub fn parse_sri(s: &str) -> Result<Self, DigestError> {
        let (alg, value) = s
            .split_once('-')
            .ok_or_else(|| DigestError::NoPrefix(s.to_string()))?;
        let alg = Algorithm::from_name(alg)
            .ok_or_else(|| DigestError::UnknownAlgorithm(alg.to_string()))?;
        // SRI allows `?options` after the value; none are meaningful to us.
        let value = value.split('?').next().unwrap_or(value);
        let bytes = B64.decode(value).map_err(|_| DigestError::BadEncoding {
            alg: alg.name(),
            encoding: "base64",
            value: value.to_string(),
        })?;
        Digest::new(alg, bytes)
    }

    /// Parse an SRI string that may list several tokens; the strongest one we know wins.
    ///
    /// A token of an algorithm we know that does not decode is an error, not skipped: a
    /// malformed `sha512-…` beside a valid `sha1-…` must not quietly downgrade the check to
    /// SHA-1. Tokens of algorithms we do not know (`sha384-…`) are ignored, as the SRI spec
    /// says ("If the algorithm is not supported, skip it").
    pub fn parse_sri_strongest(s: &str) -> Result<Self, DigestError> {
        if s.len() > crate::limits::INTEGRITY_BYTES {
            return Err(DigestError::BadEncoding {
                alg: "sri",
                encoding: "SRI of bounded length",
                value: format!("({} bytes)", s.len()),
            });
        }
        let mut best: Option<Digest> = None;
        let mut first_err = None;
        for token in s.split_whitespace() {
            match Digest::parse_sri(token) {
                Ok(d) => {
                    if best.as_ref().is_none_or(|b| d.alg > b.alg) {
                        best = Some(d);
                    }
                }
                Err(DigestError::UnknownAlgorithm(a)) => {
                    first_err.get_or_insert(DigestError::UnknownAlgorithm(a));
                }
                Err(e) => return Err(e),
            }
        }
        best.ok_or_else(|| first_err.unwrap_or_else(|| DigestError::NoPrefix(s.to_string())))
    }

    /// Parse npm's `dist.integrity`: [`Digest::parse_sri_strongest`], and the strongest
    /// digest must be sha256 or sha512 (a sha1-only SRI is refused; only an explicit
    /// `--insecure-allow-sha1` may fall back to it).
    pub fn parse_npm_integrity(s: &str) -> Result<Self, DigestError> {
        let d = Digest::parse_sri_strongest(s)?;
        if d.alg == Algorithm::Sha1 {
            return Err(DigestError::OnlySha1(s.to_string()));
        }
        Ok(d)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Lower-case hex of the bytes.
    pub fn hex(&self) -> String {
        hex::encode(&self.bytes)
    }

    /// SRI form, `sha512-<base64>`.
    pub fn sri(&self) -> String {
        format!("{}-{}", self.alg.name(), B64.encode(&self.bytes))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.alg.name(), self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::parse_prefixed(&s).map_err(serde::de::Error::custom)
    }
}

/// The digests of one artifact, all computed in the same pass over its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digests {
    /// SHA-256 (Sigstore, SLSA subjects, the store's file digests).
    pub sha256: Digest,
    /// SHA-512 (npm `dist.integrity`, the store's blob address).
    pub sha512: Digest,
    /// SHA-1 (npm `shasum`, only used when no integrity exists).
    pub sha1: Digest,
    /// Size in bytes.
    pub size: u64,
}

impl Digests {
    /// The digest of the given algorithm.
    pub fn get(&self, alg: Algorithm) -> &Digest {
        match alg {
            Algorithm::Sha1 => &self.sha1,
            Algorithm::Sha256 => &self.sha256,
            Algorithm::Sha512 => &self.sha512,
        }
    }

    /// Whether `expected` equals our digest of the same algorithm.
    pub fn matches(&self, expected: &Digest) -> bool {
        self.get(expected.algorithm()) == expected
    }

    /// Placeholder digests of bytes not hashed yet (all zero, size 0; `sha512` set when the
    /// bytes are named by one, as a cache entry is). They match no real artifact.
    pub fn unhashed(sha512: Option<&Digest>) -> Digests {
        let zero = |alg: Algorithm| Digest {
            alg,
            bytes: vec![0; alg.digest_len()],
        };
        Digests {
            sha256: zero(Algorithm::Sha256),
            sha512: sha512.cloned().unwrap_or_else(|| zero(Algorithm::Sha512)),
            sha1: zero(Algorithm::Sha1),
            size: 0,
        }
    }

    /// Digests of an in-memory buffer.
    pub fn of(bytes: &[u8]) -> Digests {
        let mut h = MultiHasher::new();
        h.update(bytes);
        h.finish()
    }

    /// Digests of everything a reader yields.
    pub fn of_reader(mut r: impl Read) -> io::Result<Digests> {
        let mut h = MultiHasher::new();
        io::copy(&mut r, &mut h)?;
        Ok(h.finish())
    }
}

/// Computes sha256, sha512 and sha1 at once while bytes stream through it.
#[derive(Clone, Default)]
pub struct MultiHasher {
    sha256: Sha256,
    sha512: Sha512,
    sha1: Sha1,
    size: u64,
}

impl MultiHasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        self.sha512.update(bytes);
        self.sha1.update(bytes);
        self.size += bytes.len() as u64;
    }

    /// Bytes seen so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The digests.
    pub fn finish(self) -> Digests {
        Digests {
            sha256: Digest {
                alg: Algorithm::Sha256,
                bytes: self.sha256.finalize().to_vec(),
            },
            sha512: Digest {
                alg: Algorithm::Sha512,
                bytes: self.sha512.finalize().to_vec(),
            },
            sha1: Digest {
                alg: Algorithm::Sha1,
                bytes: self.sha1.finalize().to_vec(),
            },
            size: self.size,
        }
    }
}

impl Write for MultiHasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// SHA-256 of a buffer, as a [`Digest`].
pub fn sha256(bytes: &[u8]) -> Digest {
    Digest {
        alg: Algorithm::Sha256,
        bytes: Sha256::digest(bytes).to_vec(),
    }
}

/// SHA-512 of a buffer, as a [`Digest`].
pub fn sha512(bytes: &[u8]) -> Digest {
    Digest {
        alg: Algorithm::Sha512,
        bytes: Sha512::digest(bytes).to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_ecosystems_use() {
        let d = Digests::of(b"hello");
        let hex256 = d.sha256.hex();
        assert_eq!(
            Digest::parse_prefixed(&format!("sha256:{hex256}")).ok(),
            Some(d.sha256.clone())
        );
        assert_eq!(
            Digest::parse_sri(&d.sha512.sri()).ok(),
            Some(d.sha512.clone())
        );
        let both = format!("{} {}", d.sha1.sri(), d.sha512.sri());
        assert_eq!(
            Digest::parse_sri_strongest(&both).ok(),
            Some(d.sha512.clone())
        );
    }

    #[test]
    fn malformed_sha512_beside_sha1_is_rejected_not_downgraded() {
        let d = Digests::of(b"hello");
        let both = format!("sha512-AAAA {}", d.sha1.sri());
        assert!(Digest::parse_sri_strongest(&both).is_err());
        assert!(Digest::parse_npm_integrity(&both).is_err());
        // Passing twin: a valid sha512 beside sha1 (and an unknown sha384) picks sha512.
        let ok = format!("{} sha384-AAAA {}", d.sha1.sri(), d.sha512.sri());
        assert_eq!(Digest::parse_npm_integrity(&ok).ok(), Some(d.sha512));
    }

    #[test]
    fn sha1_only_integrity_is_rejected() {
        let d = Digests::of(b"hello");
        assert!(matches!(
            Digest::parse_npm_integrity(&d.sha1.sri()),
            Err(DigestError::OnlySha1(_))
        ));
        assert_eq!(
            Digest::parse_npm_integrity(&d.sha256.sri()).ok(),
            Some(d.sha256)
        );
    }

    #[test]
    fn rejects_bad_digests() {
        type Parse = fn(&str) -> Result<Digest, DigestError>;
        let table: &[(&str, Parse)] = &[
            ("md5:abcd", Digest::parse_prefixed),
            ("sha256:zz", Digest::parse_prefixed),
            ("sha256:abcd", Digest::parse_prefixed),
            ("deadbeef", Digest::parse_prefixed),
            ("sha512-!!!", Digest::parse_sri),
            ("sha512-AAAA", Digest::parse_sri),
            ("", Digest::parse_sri_strongest),
            (
                "sha1-qvTGHdzF6KLavt4PO0gs2a6pQ00=",
                Digest::parse_npm_integrity,
            ),
            (
                "sha512-!!! sha1-qvTGHdzF6KLavt4PO0gs2a6pQ00=",
                Digest::parse_sri_strongest,
            ),
        ];
        for (input, parse) in table {
            assert!(parse(input).is_err(), "{input} should not parse");
        }
    }
}
